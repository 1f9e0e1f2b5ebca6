"""The session log's picker: today's sessions, and a new session once enrollment and screening allow."""

from __future__ import annotations

from typing import Any

import streamlit as st

from desk.models import Patient, Site, TreatmentSession
from desk.patients import patients_by_id, search_patients
from desk.rems.coverage import start_outlook
from desk.rems.dashboard import next_session_date
from desk.rems.enrollment import screening_findings, start_blockers
from desk.rems.entry import form_from_input
from desk.rems.sessions import session_input, sessions_on
from desk.sites import list_sites
from desk.today import session_to_open
from ui.context import work
from ui.rems_session.state import OPEN, PICK, ROUND, LogScreen, input_key, seed
from ui.text import esc

FOUND_LIMIT = 50


def render_picker(screen: LogScreen) -> tuple[dict[int, Patient], dict[int, Site], dict[str, Any]]:
    """Today's sessions and the start of a new one; stops the page while no session is on screen."""
    user = screen.user
    zone = screen.zone
    may_record = screen.may_record
    today = screen.today
    _local = screen.local
    _open = screen.open_session
    _start_new = screen.start_new
    with work(user.username) as session:
        todays = list(sessions_on(session, day=today))
        patients = patients_by_id(session, ids=[ts.patient_id for ts in todays])
        sites = {s.id: s for s in list_sites(session)}

    labels = {ts.id: f"{_local(ts.first_device_at)} · {patients[ts.patient_id].display_name} · "
                     f"{ts.pmf_status}" for ts in todays if ts.patient_id in patients}

    def _open_stored(session_id: int) -> None:
        with work(user.username) as session:
            ts = session.get(TreatmentSession, session_id)
            if ts is not None and ts.id is not None:
                # The picker shows the session (or nothing), so it does not reopen an earlier choice over it.
                _open(ts, patient_id=ts.patient_id, site_id=ts.site_id,
                      values=form_from_input(session_input(session, session_id=ts.id), zone=zone),
                      picked=ts.id if ts.id in labels else None)

    def _picked() -> None:
        # Opened before the run that draws the picker again, so the picker is keyed in the round showing the choice.
        choice = st.session_state.get(input_key(PICK))
        if choice is not None and st.session_state.get(OPEN, {}).get("id") != choice:
            _open_stored(choice)

    requested = st.query_params.get("session")
    if requested and requested.isdigit() and st.session_state.get(OPEN, {}).get("id") != int(requested):
        _open_stored(int(requested))
        st.query_params.clear()

    if labels and not st.session_state.get(OPEN) and ROUND not in st.session_state:
        # Nothing on screen yet, on the first visit: show the session most likely wanted instead of an empty page.
        preselected = session_to_open([ts for ts in todays if ts.id in labels])
        if preselected is not None:
            _open_stored(preselected)

    picker, start_col = st.columns([3, 2], vertical_alignment="bottom")
    options = [None, *labels]
    shown = seed(PICK)
    picker.selectbox("Today's sessions", options=options, index=options.index(shown) if shown in options else 0,
                     format_func=lambda i: "— choose —" if i is None else labels[i], key=input_key(PICK),
                     on_change=_picked)

    starting = start_col.popover("Start a new session", icon=":material/add:", width="stretch", key="rems_starting",
                                 on_change="rerun") if may_record else None
    # Drawn only while open: the clinic's patients are looked up when a nurse starts a session, not on every run.
    if starting is not None and starting.open:
        with starting:
            found = _find_patients(user.username)
            new_patient = st.selectbox("Patient", options=list(found), index=None, key="rems_new_patient",
                                       placeholder="Choose a patient",
                                       format_func=lambda i: f"{found[i].display_name} · {found[i].mrn}")
            if new_patient is not None:
                patient = found[new_patient]
                with work(user.username) as session:
                    blockers = start_blockers(session, patient_id=new_patient, site_id=patient.site_id)
                # Only a certified setting may treat: an uncertified site blocks the start like a missing enrollment.
                enrollment_problems = blockers
                if enrollment_problems:
                    for blocker in enrollment_problems:
                        st.error(f"**Cannot start.** {esc(blocker.reason)}", icon=":material/block:")
                        st.info(f"**What to do:** {esc(blocker.action)}", icon=":material/assignment:")
                    st.page_link("pages/rems_patients.py", label="Record the enrollment", icon=":material/how_to_reg:",
                                 query_params={"patient": str(new_patient)})
                else:
                    with work(user.username) as session:
                        record = session.get(Patient, new_patient)
                        findings = screening_findings(record) if record is not None else []
                        _day, per_session = next_session_date(session, patient_id=new_patient, today=today)
                        outlook = start_outlook(session, patient_id=new_patient, on=today,
                                                devices_per_session=per_session)
                    if outlook.covered:
                        st.caption(esc(outlook.message))
                    else:
                        st.warning(esc(outlook.message), icon=":material/request_quote:")
                    for finding in findings:
                        if finding.kind == "contraindication":
                            st.error(esc(finding.text), icon=":material/report:")
                        else:
                            st.warning(esc(finding.text), icon=":material/warning:")
                    acknowledged = not findings or st.checkbox(
                        "I have reviewed these with the prescriber before dosing", key="rems_screening_ack")
                    st.button("Open the log", type="primary", key="rems_start", on_click=_start_new,
                              args=(new_patient, patient.site_id), disabled=not acknowledged)

    opened = st.session_state.get(OPEN)
    if not opened:
        st.caption("Choose one of today's sessions, or start a new one.")
        st.stop()
    if opened["patient_id"] not in patients:
        with work(user.username) as session:
            patients.update(patients_by_id(session, ids=[opened["patient_id"]]))
    return patients, sites, opened


def _find_patients(actor: str) -> dict[int, Patient]:
    """A search by name, MRN or date of birth and the patients it finds (the first 50), by id."""
    text = st.text_input("Find a patient", key="rems_find_patient", placeholder="Name, MRN or date of birth")
    with work(actor) as session:
        page = search_patients(session, text=text or "", limit=FOUND_LIMIT)
        found = patients_by_id(session, ids=[row.id for row in page.rows])
    if page.total > FOUND_LIMIT:
        st.caption(f"The first {FOUND_LIMIT:d} of {page.total:,d} patients; type more to narrow the list.")
    return {row.id: found[row.id] for row in page.rows if row.id in found}
