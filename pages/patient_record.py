"""Patient record: demographics, coverage, clinical history, screening, payer criteria and authorizations."""

from datetime import date

import streamlit as st

from desk.errors import NotFound
from desk.imports import known_payer_ids
from desk.patients import get_patient_record
from desk.prior_auth.payer_rules import payer_name
from desk.reference import ReferenceDataError, category_labels
from desk.sites import list_prescribers, list_sites
from ui.authorizations import authorizations_tab
from ui.context import get_settings, work
from ui.editing import show_notice
from ui.eligibility import eligibility_tab
from ui.guard import require_role
from ui.patient_record import RECORD_TABS, RecordContext, add_record_tab, shown_record_tabs
from ui.spec_form import show_stale
from ui.text import esc

user = require_role("pages/patient_record.py")

PATIENT_KEY = "patient_id"

# A link (?patient=N) names the patient; otherwise the one last opened in this browser session.
linked = str(st.query_params.get("patient", ""))
if linked.isdigit():
    st.session_state[PATIENT_KEY] = int(linked)
patient_id = st.session_state.get(PATIENT_KEY)
if not isinstance(patient_id, int):
    st.title("Patient record")
    st.info("Open a patient from the patient list first.")
    if st.button("Go to Patients", icon=":material/groups:"):
        st.switch_page("pages/patients.py")
    st.stop()

today = date.today()
try:
    with work(user.username) as session:
        record = get_patient_record(session, patient_id=patient_id, today=today)
        sites = list(list_sites(session))
        prescribers = list(list_prescribers(session))
except NotFound:
    st.session_state.pop(PATIENT_KEY, None)
    st.title("Patient record")
    st.error("This patient record no longer exists.")
    if st.button("Go to Patients", icon=":material/groups:"):
        st.switch_page("pages/patients.py")
    st.stop()
except ReferenceDataError as exc:
    st.error(f"The drug reference file is broken, so trials cannot be checked: {esc(exc)}")
    st.stop()

patient = record.patient
st.query_params["patient"] = str(patient_id)  # the address names the record, so a reload or bookmark reopens it
age = today.year - patient.dob.year - ((today.month, today.day) < (patient.dob.month, patient.dob.day))
st.title(f"{esc(patient.last_name)}, {esc(patient.first_name)}")
st.caption(
    f"MRN {esc(patient.mrn)} · born {patient.dob:%m/%d/%Y} (age {age:d}) · {esc(record.site.name)}"
    + (f" · prescriber {esc(record.prescriber.display_name)}" if record.prescriber else " · no prescriber")
    + " · payers: " + (", ".join(esc(payer_name(c.payer_id)) for c in record.coverages) or "none")
)
if st.button("Back to the patient list", icon=":material/arrow_back:", type="tertiary"):
    st.switch_page("pages/patients.py")
show_notice()
show_stale()
if record.concomitant:
    labels = category_labels()
    st.info("On the REMS monitoring form's medication list: "
            + ", ".join(esc(labels.get(c, c)) for c in record.concomitant), icon=":material/medication:")

context = RecordContext(
    user=user, record=record, sites=sites, prescribers=prescribers,
    known_payers=sorted(known_payer_ids(get_settings().payers_dir)), today=today,
)
add_record_tab("Payer criteria", eligibility_tab)
add_record_tab("Authorizations", authorizations_tab)
# Keyed and bound to the address (?tab=…): after a save the record stays on the tab the user was working in.
record_tabs = st.tabs([esc(title) for title, _ in RECORD_TABS], key="tab", on_change="rerun", bind="query-params")
# A tab is drawn from the first time it is shown until another record is opened: opening a record draws one tab,
# not all of them, and what was typed in a tab the user has left is still there when they come back.
shown_tabs = shown_record_tabs(patient_id)
for tab, (title, render) in zip(record_tabs, RECORD_TABS, strict=True):
    if tab.open:
        shown_tabs.add(title)
    if title in shown_tabs:
        with tab:
            render(context)
