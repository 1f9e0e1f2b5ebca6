"""REMS dashboard: today's sessions with their timers, monitoring forms due and overdue, patients blocked."""

import streamlit as st

from desk.errors import ValidationFailed
from desk.models import utcnow
from desk.patients import patients_by_id
from desk.rems.config import load_rems_settings
from desk.rems.coverage import NOT_AVAILABLE, authorization_tracking_available
from desk.rems.dashboard import blocked_patients, today_sessions
from desk.rems.pmf import forms_due_soon, forms_overdue
from desk.rems.pmf_pdf import ready_forms_bundle
from desk.today import due_in_words
from ui.context import work
from ui.downloads import document_download
from ui.form_errors import FormErrors, clear_errors, keep_errors
from ui.guard import require_role
from ui.text import esc

user = require_role("pages/rems_dashboard.py")

settings = load_rems_settings()
zone = settings.zone

st.title("REMS dashboard")


@st.fragment(run_every=30)
def dashboard() -> None:
    """Everything on this screen; refreshed every 30 seconds so the timers keep running."""
    now = utcnow()
    today = now.astimezone(zone).date()
    with work(user.username) as session:
        rows = today_sessions(session, today=today, now=now, settings=settings)
        overdue = forms_overdue(session, today=today, settings=settings)
        due_soon = forms_due_soon(session, today=today, settings=settings)
        blocked = blocked_patients(session, today=today)
        patients = patients_by_id(session, ids=[form.patient_id for form in (*overdue, *due_soon)])

    counts = st.columns(4)
    counts[0].metric("Sessions today", len(rows))
    counts[1].metric("Forms overdue", len(overdue))
    counts[2].metric(f"Forms due within {settings.due_soon_days:d} days", len(due_soon))
    counts[3].metric("Patients blocked", len({item.patient.id for item in blocked}))

    st.subheader("Today's sessions")
    if not rows:
        st.caption("No session logged today yet.")
    for row in rows:
        with st.container(border=True):
            name, timer, link = st.columns([3, 4, 1], vertical_alignment="center")
            name.markdown(f"**{esc(row.patient.display_name)}** · MRN {esc(row.patient.mrn)}  \n"
                          f"{row.session.dose_mg:d} mg · form {esc(row.session.pmf_status)}")
            clock = row.clock
            if clock.discharged:
                timer.success(f"Discharged at {row.session.discharged_at.astimezone(zone):%H:%M} after "
                              f"{clock.minutes_since_first_device:d} min"
                              if row.session.discharged_at else "Discharged")
            elif clock.minutes_since_first_device is None:
                timer.info("Not dosed yet.")
            else:
                timer.markdown(f"**{clock.minutes_since_first_device:d} min** since the first device  \n"
                               + "  \n".join(esc(reminder) for reminder in clock.reminders))
            link.page_link("pages/rems_sessions.py", label="Open", icon=":material/open_in_new:",
                           query_params={"session": str(row.session.id)})

    overdue_col, due_col = st.columns(2)
    with overdue_col:
        st.subheader("Forms overdue")
        if not overdue:
            st.caption("None.")
        for form in overdue:
            patient = patients.get(form.patient_id)
            st.error(f"{esc(patient.display_name if patient else 'Patient')} · session {form.session_date:%m/%d/%Y} · "
                     f"due {form.due_date:%m/%d/%Y} · {esc(due_in_words(form.days_left))} · {esc(form.status)}")
            st.page_link("pages/rems_sessions.py", label="Open the session",
                         query_params={"session": str(form.session_id)})
    with due_col:
        st.subheader("Forms due soon")
        if not due_soon:
            st.caption("None.")
        for form in due_soon:
            patient = patients.get(form.patient_id)
            st.warning(f"{esc(patient.display_name if patient else 'Patient')} · "
                       f"session {form.session_date:%m/%d/%Y} · "
                       f"due {form.due_date:%m/%d/%Y} ({esc(due_in_words(form.days_left))}) · {esc(form.status)}")
            st.page_link("pages/rems_sessions.py", label="Open the session",
                         query_params={"session": str(form.session_id)})

    st.subheader("Patients blocked")
    if not authorization_tracking_available():
        st.caption(f"Authorizations: {NOT_AVAILABLE}.")
    if not blocked:
        st.caption("No patient in treatment is blocked.")
    for item in blocked:
        st.error(f"**{esc(item.patient.display_name)}** · {esc(item.reason)}  \n{esc(item.action)}",
                 icon=":material/block:")


dashboard()

st.subheader("Download ready monitoring forms")
batch_errors = FormErrors("rems_batch", {"start": "From", "end": "To"})
with st.form("rems_batch"):
    today = utcnow().astimezone(zone).date()
    cols = st.columns([2, 2, 2, 2], vertical_alignment="bottom")
    with cols[0]:
        start = st.date_input("From", value=today.replace(day=1), format="MM/DD/YYYY")
    with cols[1]:
        end = st.date_input("To", value=today, format="MM/DD/YYYY")
    packaging = cols[2].radio("As", options=["merged PDF", "zip of PDFs"], horizontal=True)
    prepare = cols[3].form_submit_button("Prepare download", icon=":material/picture_as_pdf:")
    # Under the row of inputs (bottom-aligned columns): each message names the input it is about.
    batch_errors.under("start", "end")
    batch_errors.rest()
if prepare:
    try:
        with work(user.username) as session:
            bundle = ready_forms_bundle(session, user=user, start=start, end=end, as_zip=packaging != "merged PDF")
    except ValidationFailed as exc:
        keep_errors("rems_batch", exc)
        st.rerun()
    else:
        clear_errors("rems_batch")
        document_download(f"Download {len(bundle.session_ids)} form(s)", data=bundle.content, mime=bundle.mime,
                          file_name=bundle.file_name, kind="rems_forms_bundle",
                          record_id=",".join(str(i) for i in bundle.session_ids), on_click="ignore",
                          icon=":material/download:", type="primary", key="rems_batch_download")
