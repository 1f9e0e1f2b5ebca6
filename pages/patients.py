"""Patients: search by name, MRN or date of birth, filter by site and payer, open a record; CSV import."""

from datetime import date
from functools import partial

import streamlit as st

from desk.imports import ImportFailed, import_patients, known_payer_ids, read_csv_text
from desk.patients import PatientDetails, create_patient, search_patients
from desk.prior_auth.clocks import local_today
from desk.prior_auth.needs_pa import pa_status_by_patient
from desk.prior_auth.payer_rules import payer_name, payer_namer
from desk.sites import list_prescribers, list_sites
from ui.context import get_settings, work
from ui.editing import notify, show_notice
from ui.guard import require_role
from ui.jump import go_after_click
from ui.patient_record.context import SEX_LABELS
from ui.spec_form import Field, save, spec_form
from ui.text import esc

user = require_role("pages/patients.py")

PAGE_SIZE = 50
IMPORTERS = ("admin", "billing")

settings = get_settings()
payers = sorted(known_payer_ids(settings.payers_dir))
with work(user.username) as session:
    sites = list(list_sites(session))
    prescribers = list(list_prescribers(session, include_inactive=False))
site_names = {s.id: s.name for s in sites}

st.title("Patients")
show_notice()


def open_record(patient_id: int) -> None:
    st.session_state["patient_id"] = patient_id
    st.switch_page("pages/patient_record.py")


def open_picked_record(patient_ids: list[int]) -> None:
    """A row click opens its record before this page would run again (not after searching the clinic again)."""
    picked = st.session_state["patients_table"]["selection"]["rows"]
    if picked:
        go_after_click("pages/patient_record.py", state={"patient_id": patient_ids[picked[0]]})


search_col, site_col, payer_col = st.columns([3, 2, 2])
with search_col:
    text = st.text_input("Search", placeholder="Name, MRN, or date of birth (YYYY-MM-DD or MM/DD/YYYY)",
                         key="patients_search")
with site_col:
    site_id = st.selectbox("Site", [None, *site_names], format_func=lambda i: "All sites" if i is None
                           else site_names[i], key="patients_site")
with payer_col:
    payer_id = st.selectbox("Payer", [None, *payers], key="patients_payer",
                            format_func=lambda p: "All payers" if p is None else payer_name(p))

with work(user.username) as session:
    first = search_patients(session, text=text, site_id=site_id, payer_id=payer_id, limit=1)
    pages = max(1, -(-first.total // PAGE_SIZE))
    page_number = 1
    if pages > 1:
        page_number = int(st.number_input("Page", min_value=1, max_value=pages, value=1, step=1))
    found = search_patients(session, text=text, site_id=site_id, payer_id=payer_id, limit=PAGE_SIZE,
                            offset=(page_number - 1) * PAGE_SIZE)
    pa_status = pa_status_by_patient(session, patient_ids=[r.id for r in found.rows],
                                     today=local_today(settings.timezone))

payer_name_of = payer_namer()
st.caption(f"{found.total:d} patient(s)" + (f" · page {page_number:d} of {pages:d}" if pages > 1 else ""))
if found.rows:
    st.dataframe(
        [{"Name": r.display_name, "MRN": r.mrn, "Date of birth": r.dob.strftime("%m/%d/%Y"), "Site": r.site_name,
          "Payers": ", ".join(payer_name_of(p) for p in r.payer_ids), "PA status": pa_status.get(r.id, "")}
         for r in found.rows],
        hide_index=True, width="stretch", selection_mode="single-row", key="patients_table",
        on_select=partial(open_picked_record, [r.id for r in found.rows]),
    )
    by_id = {r.id: r for r in found.rows}
    pick_col, button_col = st.columns([4, 1], vertical_alignment="bottom")
    with pick_col:
        chosen = st.selectbox("Patient", list(by_id),
                              format_func=lambda i: f"{by_id[i].display_name} · MRN {by_id[i].mrn}",
                              key="patients_pick")
    with button_col:
        st.button("Open record", type="primary", icon=":material/open_in_new:", on_click=go_after_click,
                  args=("pages/patient_record.py",), kwargs={"state": {"patient_id": chosen}})
else:
    st.info("No patient matches. Check the spelling, or search by MRN or date of birth.")

with st.expander("Add a patient"):
    if not sites:
        st.warning("Add a site first (Admin → Sites & prescribers).")
    else:
        prescriber_names = {p.id: p.display_name for p in prescribers}
        fields = [
            [Field("first_name", "First name"), Field("middle_initial", "Middle initial"),
             Field("last_name", "Last name")],
            [Field("mrn", "MRN"), Field("dob", "Date of birth", "past_date"),
             Field("sex", "Sex", "select", ("F", "M", "X", "U"), SEX_LABELS)],
            [Field("address_line", "Street address"), Field("city", "City"), Field("state", "State"),
             Field("zip_code", "ZIP")],
            [Field("phone", "Phone"), Field("email", "E-mail")],
            [Field("site_id", "Site", "select", list(site_names), site_names),
             Field("prescriber_id", "Prescriber", "select", [None, *prescriber_names],
                   {None: "—", **prescriber_names})],
        ]
        submitted = spec_form("new_patient", fields, {"site_id": sites[0].id}, submit_label="Add patient",
                              today=date.today())
        if submitted:
            values = submitted[1]
            details = PatientDetails(**{**values, "sex": values["sex"] or "", "site_id": values["site_id"] or 0})
            save("new_patient", actor=user.username, kind="patient", record_id=None, message="Patient added.",
                 change=lambda s: create_patient(s, details=details))

if user.has_any(*IMPORTERS):
    with st.expander("Import patients from a CSV file"):
        st.caption("All or nothing: if any row has a problem, nothing is imported and every problem is listed. "
                   "Columns are described in docs/import.md.")
        upload = st.file_uploader("CSV file", type=["csv"], key="patients_import_file")
        check_col, import_col = st.columns(2)
        with check_col:
            check = st.button("Check file", disabled=upload is None)
        with import_col:
            run = st.button("Import", type="primary", disabled=upload is None)
        if upload is not None and (check or run):
            data = upload.getvalue()
            if len(data) > settings.upload_max_mb * 1024 * 1024:
                st.error(f"The file is larger than {settings.upload_max_mb:d} MB.")
            else:
                try:
                    with work(user.username) as session:
                        result = import_patients(session, csv_text=read_csv_text(data), known_payers=payers,
                                                 dry_run=not run)
                except ImportFailed as failed:
                    st.error(f"{esc(failed)}. Fix these and try again:")
                    st.dataframe([{"row": p.row, "column": p.column, "problem": p.message}
                                  for p in failed.problems], hide_index=True, width="stretch")
                else:
                    if run:
                        notify(f"Imported {result.patients} patients and {result.coverages} coverages.")
                        st.rerun()
                    st.success(f"The file is fine: {result.patients:d} patients and {result.coverages:d} coverages "
                               "would be imported.")
