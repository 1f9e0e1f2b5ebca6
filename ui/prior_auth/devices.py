"""The case's Devices tab: the authorization's device count, the renewal reminder and sessions entered by hand."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from desk.prior_auth.clocks import local_text, renewal_reminder
from desk.prior_auth.devices import record_device_use, two_week_need
from ui.context import work
from ui.prior_auth.case import CaseScreen, form_errors
from ui.text import esc


def render_devices(view: CaseScreen) -> None:
    """The Devices tab."""
    user = view.user
    today = view.today
    case_id = view.case_id
    case = view.case
    account = view.account
    other_accounts = view.other_accounts
    entries = view.entries
    lead_days = view.lead_days
    run_action = view.run_action
    if account is None:
        st.info("Devices are counted once the payer approves the request.")
    else:
        a = account.authorization
        st.markdown(f"Authorization **{esc(a.auth_number)}** · {esc(local_text(a.start_on, view.zone))} to "
                    f"{esc(local_text(a.end_on, view.zone))} · codes "
                    f"{esc(a.approved_codes or '—')}")
        d1, d2, d3 = st.columns(3)
        d1.metric("Authorized", "—" if account.authorized_devices is None else account.authorized_devices)
        d2.metric("Used", account.used_devices)
        d3.metric("Remaining", "—" if account.remaining_devices is None else account.remaining_devices)
        with work(user.username) as session:
            need = two_week_need(session, patient_id=case.patient_id, indication=case.indication, today=today)
        reminder = renewal_reminder(end_on=a.end_on, lead_days=lead_days, today=today,
                                    remaining_devices=account.remaining_devices, devices_needed_two_weeks=need)
        st.caption(f"Renewal reminder from {reminder.remind_on:%m/%d/%Y} ({esc(reminder.reason)}).")
    st.markdown("**Enter a session given outside the REMS log**")
    st.caption("Sessions logged on the REMS screens count automatically. Each session is checked against the "
               "authorization covering its date before it is recorded.")
    override_label = "Reason to record anyway (only when the session is flagged)"
    errors = form_errors("devices", {"session_date": "Session date", "devices": "Devices", "note": "Note",
                                     "override_reason": override_label})
    with st.form("device_form", clear_on_submit=True):
        e1, e2 = st.columns(2)
        with e1:
            session_day = st.date_input("Session date", value=today, max_value=today, format="MM/DD/YYYY")
            errors.under("session_date")
        with e2:
            device_count = st.selectbox("Devices", (2, 3), index=1, format_func=lambda n: f"{n} ({n * 28} mg)")
            errors.under("devices")
        entry_note = st.text_input("Note")
        errors.under("note")
        override = st.text_input(esc(override_label))
        errors.under("override_reason")
        errors.rest()
        record = st.form_submit_button("Check and record")
    if record:
        run_action(lambda s: record_device_use(s, patient_id=case.patient_id, case_id=case_id,
                                               session_date=session_day, devices=int(device_count),
                                               actor=user.username, note=entry_note, override_reason=override),
                   "Session recorded.", "devices")
        st.rerun()
    if entries:
        st.dataframe(pd.DataFrame([{"Date": local_text(e.session_date, view.zone), "Devices": e.devices,
                                    "Case": f"#{e.case_id}" if e.case_id else "", "By": e.recorded_by,
                                    "Note": e.note} for e in entries]), hide_index=True)
    if other_accounts:
        st.markdown("**The patient's other authorizations**")
        st.dataframe(pd.DataFrame([{"Authorization": x.authorization.auth_number,
                                    "From": local_text(x.authorization.start_on, view.zone),
                                    "To": local_text(x.authorization.end_on, view.zone),
                                    "Authorized": x.authorized_devices, "Used": x.used_devices,
                                    "Remaining": x.remaining_devices}
                                   for x in other_accounts]), hide_index=True)
