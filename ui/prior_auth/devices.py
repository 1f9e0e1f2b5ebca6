"""The case's Devices tab: the authorization's device count, the renewal reminder and sessions entered by hand."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from desk.prior_auth.clocks import renewal_reminder
from desk.prior_auth.devices import record_device_use, two_week_need
from ui.context import work
from ui.prior_auth.case import CaseScreen, show_errors
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
        st.markdown(f"Authorization **{esc(a.auth_number)}** · {esc(a.start_on)} to {esc(a.end_on)} · codes "
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
    with st.form("device_form", clear_on_submit=True):
        e1, e2 = st.columns(2)
        session_day = e1.date_input("Session date", value=today, max_value=today)
        device_count = e2.selectbox("Devices", (2, 3), index=1, format_func=lambda n: f"{n} ({n * 28} mg)")
        entry_note = st.text_input("Note")
        override = st.text_input("Reason to record anyway (only when the session is flagged)")
        record = st.form_submit_button("Check and record")
    show_errors("devices")
    if record:
        run_action(lambda s: record_device_use(s, patient_id=case.patient_id, case_id=case_id,
                                               session_date=session_day, devices=int(device_count),
                                               actor=user.username, note=entry_note, override_reason=override),
                   "Session recorded.", "devices")
        st.rerun()
    if entries:
        st.dataframe(pd.DataFrame([{"date": e.session_date, "devices": e.devices, "case": e.case_id,
                                    "by": e.recorded_by, "note": e.note} for e in entries]), hide_index=True)
    if other_accounts:
        st.markdown("**The patient's other authorizations**")
        st.dataframe(pd.DataFrame([{"auth": x.authorization.auth_number, "from": x.authorization.start_on,
                                    "to": x.authorization.end_on, "authorized": x.authorized_devices,
                                    "used": x.used_devices, "remaining": x.remaining_devices}
                                   for x in other_accounts]), hide_index=True)
