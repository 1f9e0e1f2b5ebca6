"""REMS enrollment and course plan: each patient's enrollment form dates and the label schedule ahead."""

from collections.abc import Callable

import streamlit as st
from sqlmodel import Session

from desk.errors import StaleEdit, ValidationFailed
from desk.models import INDICATIONS, utcnow
from desk.rems.config import load_rems_settings
from desk.rems.course import get_course, plan_course, planned_by, save_course
from desk.rems.coverage import plan_coverage
from desk.rems.dashboard import patient_choices
from desk.rems.enrollment import enrollment_blocker, get_enrollment, save_enrollment
from desk.rems.permissions import can_record
from desk.rems.sessions import sessions_for_patient
from desk.sites import list_prescribers
from ui.context import work
from ui.editing import notify, show_notice
from ui.form_errors import FormErrors, clear_errors, keep_errors
from ui.guard import require_role
from ui.text import esc

user = require_role("pages/rems_patients.py")

ENROLLMENT_STATES = {"not_enrolled": "not enrolled", "enrollment_incomplete": "form incomplete"}

settings = load_rems_settings()
today = utcnow().astimezone(settings.zone).date()
may_record = can_record(user)

st.title("REMS enrollment & course")
show_notice()

with work(user.username) as session:
    patients = {p.id: p for p in patient_choices(session)}
    prescribers = {p.id: p for p in list_prescribers(session)}

requested = st.query_params.get("patient")
if requested and requested.isdigit() and int(requested) in patients:
    st.session_state["rems_patient"] = int(requested)
    st.query_params.clear()
patient_id = st.selectbox("Patient", options=list(patients), index=None, key="rems_patient",
                          format_func=lambda i: f"{patients[i].display_name} · {patients[i].mrn}",
                          placeholder="Choose a patient")
if patient_id is None:
    with work(user.username) as session:
        overview = [
            {"Patient": p.display_name, "MRN": p.mrn,
             "REMS enrollment": "enrolled" if blocker is None else ENROLLMENT_STATES[blocker.code]}
            for p in patients.values()
            for blocker in [enrollment_blocker(get_enrollment(session, patient_id=int(p.id or 0)))]
        ]
    st.caption("Choose a patient to record the enrollment form or plan the course.")
    st.dataframe(overview, hide_index=True, width="stretch")
    st.stop()

with work(user.username) as session:
    enrollment = get_enrollment(session, patient_id=patient_id)
    course = get_course(session, patient_id=patient_id)
    done = [s.session_date for s in sessions_for_patient(session, patient_id=patient_id)]
    last_devices = next((s.devices for s in reversed(sessions_for_patient(session, patient_id=patient_id))
                         if s.devices), 2)

blocker = enrollment_blocker(enrollment)
if blocker:
    st.error(f"{esc(blocker.reason)}  \n**What to do:** {esc(blocker.action)}", icon=":material/block:")
else:
    assert enrollment is not None and enrollment.submitted_on is not None
    st.success(f"Enrolled in the SPRAVATO REMS · submitted {enrollment.submitted_on:%m/%d/%Y}"
               + (f" · confirmation {esc(enrollment.confirmation_number)}" if enrollment.confirmation_number else ""),
               icon=":material/verified:")


ENROLLMENT_LABELS = {"patient_signed_on": "Patient signed on", "prescriber_signed_on": "Prescriber signed on",
                     "submitted_on": "Submitted to the REMS on", "prescriber_id": "Prescriber",
                     "confirmation_number": "REMS confirmation number"}
COURSE_LABELS = {"indication": "Indication", "start_date": "Course start",
                 "maintenance_interval_days": "From week 9 (TRD)"}


def _attempt(form: str, action: Callable[[Session], object], message: str) -> None:
    """Run one save; its refusals are kept and shown under the form's inputs on the rerun."""
    try:
        with work(user.username) as session:
            action(session)
    except (ValidationFailed, StaleEdit) as exc:
        keep_errors(form, exc)
    else:
        clear_errors(form)
        notify(message)
    st.rerun()


enroll_tab, course_tab = st.tabs(["Patient enrollment form", "Course plan"])
enrollment_errors = FormErrors("rems_enrollment", ENROLLMENT_LABELS)
with enroll_tab, st.form("rems_enrollment"):
    cols = st.columns(3)
    with cols[0]:
        patient_signed = st.date_input("Patient signed on", format="MM/DD/YYYY", disabled=not may_record,
                                       value=enrollment.patient_signed_on if enrollment else None)
        enrollment_errors.under("patient_signed_on")
    with cols[1]:
        prescriber_signed = st.date_input("Prescriber signed on", format="MM/DD/YYYY", disabled=not may_record,
                                          value=enrollment.prescriber_signed_on if enrollment else None)
        enrollment_errors.under("prescriber_signed_on")
    with cols[2]:
        submitted_on = st.date_input("Submitted to the REMS on", format="MM/DD/YYYY", disabled=not may_record,
                                     value=enrollment.submitted_on if enrollment else None)
        enrollment_errors.under("submitted_on")
    cols = st.columns(2)
    prescriber_ids = [None, *prescribers]
    current = enrollment.prescriber_id if enrollment else patients[patient_id].prescriber_id
    with cols[0]:
        prescriber_id = st.selectbox("Prescriber", options=prescriber_ids, disabled=not may_record,
                                     index=prescriber_ids.index(current) if current in prescriber_ids else 0,
                                     format_func=lambda i: "—" if i is None else prescribers[i].display_name)
        enrollment_errors.under("prescriber_id")
    with cols[1]:
        confirmation = st.text_input("REMS confirmation number", disabled=not may_record,
                                     value=enrollment.confirmation_number if enrollment else "")
        enrollment_errors.under("confirmation_number")
    enrollment_errors.rest()
    if st.form_submit_button("Save enrollment", type="primary", disabled=not may_record):
        _attempt("rems_enrollment", lambda session: save_enrollment(
            session, user=user, patient_id=patient_id, prescriber_id=prescriber_id,
            patient_signed_on=patient_signed, prescriber_signed_on=prescriber_signed, submitted_on=submitted_on,
            confirmation_number=confirmation, today=today,
            expected_version=enrollment.version if enrollment else None), "Enrollment saved.")

with course_tab:
    course_errors = FormErrors("rems_course", COURSE_LABELS)
    with st.form("rems_course"):
        cols = st.columns(3)
        with cols[0]:
            indication = st.radio("Indication", options=list(INDICATIONS), horizontal=True, disabled=not may_record,
                                  index=list(INDICATIONS).index(course.indication) if course else 0,
                                  help="TRD: treatment-resistant depression; MDSI: depressive symptoms with acute "
                                       "suicidal ideation or behavior")
            course_errors.under("indication")
        with cols[1]:
            start = st.date_input("Course start", format="MM/DD/YYYY", disabled=not may_record,
                                  value=course.start_date if course else (done[0] if done else today))
            course_errors.under("start_date")
        with cols[2]:
            interval = st.radio("From week 9 (TRD)", options=[7, 14], horizontal=True, disabled=not may_record,
                                index=[7, 14].index(course.maintenance_interval_days) if course else 0,
                                format_func=lambda d: "weekly" if d == 7 else "every 2 weeks")
            course_errors.under("maintenance_interval_days")
        course_errors.rest()
        if st.form_submit_button("Save course", disabled=not may_record):
            _attempt("rems_course", lambda session: save_course(
                session, user=user, patient_id=patient_id, indication=indication, start_date=start,
                maintenance_interval_days=interval, expected_version=course.version if course else None),
                "Course saved.")
    if course is None:
        st.caption("Save the course (indication and start date) to see the label schedule.")
    else:
        plan = plan_course(indication=course.indication, start_date=course.start_date, done=done, today=today,
                           maintenance_interval_days=course.maintenance_interval_days)
        planned_so_far = planned_by(indication=course.indication, start_date=course.start_date, today=today,
                                    maintenance_interval_days=course.maintenance_interval_days)
        done_count = sum(1 for p in plan if p.done_on)
        upcoming = [p for p in plan if p.done_on is None][:8]
        st.markdown(f"**{done_count:d}** session(s) done · **{planned_so_far:d}** planned by the label schedule "
                    "up to today.")
        with work(user.username) as session:
            coverage = plan_coverage(session, patient_id=patient_id, dates=[p.planned_on for p in upcoming],
                                     devices_per_session=last_devices)
        rows: list[dict[str, object]] = [
            {"#": p.number, "Phase": p.phase, "Planned": f"{p.planned_on:%m/%d/%Y}",
             "Done": f"{p.done_on:%m/%d/%Y}" if p.done_on else "", "Authorization": "", "Savings": ""}
            for p in plan if p.done_on
        ]
        rows += [
            {"#": p.number, "Phase": p.phase, "Planned": f"{p.planned_on:%m/%d/%Y}", "Done": "",
             "Authorization": c.authorization_detail if c.authorization != "covered" else
             f"covered · {c.authorization_detail}" + (f" · {c.devices_left_after} devices left after"
                                                       if c.devices_left_after is not None else ""),
             "Savings": c.savings}
            for p, c in zip(upcoming, coverage, strict=True)
        ]
        st.dataframe(rows, hide_index=True, width="stretch")
