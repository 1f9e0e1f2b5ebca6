"""The patient record's Authorizations tab: the patient's prior-authorization cases, read-only, with devices."""

from __future__ import annotations

from datetime import date

import streamlit as st

from desk.prior_auth.patient_summary import CaseAuthorization, patient_authorizations
from desk.prior_auth.payer_rules import payer_name
from ui.context import work
from ui.patient_record import RecordContext
from ui.text import esc

CASE_ROLES = ("admin", "billing")


def _date(value: date | None) -> str:
    return value.strftime("%m/%d/%Y") if value else ""


def _count(value: int | None) -> str:
    return "—" if value is None else str(value)


def _row(case: CaseAuthorization) -> dict[str, object]:
    return {
        "Case": f"#{case.case_id}", "Payer": payer_name(case.payer_id), "Indication": case.indication,
        "Phase": case.phase, "Status": case.status_label, "Authorization #": case.auth_number or "",
        "From": _date(case.start_on), "To": _date(case.end_on),
        "Authorized": _count(case.authorized_devices) if case.authorized else "",
        "Used": _count(case.used_devices) if case.authorized else "",
        "Remaining": _count(case.remaining_devices) if case.authorized else "",
    }


def authorizations_tab(ctx: RecordContext) -> None:
    """Cases with status; approved ones with their window and devices authorized / used / remaining."""
    with work(ctx.user.username) as session:
        cases = patient_authorizations(session, patient_id=ctx.patient_id)
    may_open = ctx.user.has_any(*CASE_ROLES)
    if not cases:
        st.info("No prior authorization on file for this patient."
                + (" Start one from the PA worklist (New PA)." if may_open else
                   " Billing staff request authorizations."), icon=":material/assignment:")
        if may_open:
            st.page_link("pages/worklist.py", label="Open the PA worklist", icon=":material/checklist:")
        return
    current = [c for c in cases if c.in_force_on(ctx.today)]
    for case in current:
        with st.container(border=True):
            st.markdown(f"**In force:** authorization **{esc(case.auth_number)}** · {esc(payer_name(case.payer_id))} · "
                        f"{esc(_date(case.start_on))} to {esc(_date(case.end_on))}")
            authorized, used, remaining = st.columns(3)
            authorized.metric("Devices authorized", _count(case.authorized_devices))
            used.metric("Devices used", _count(case.used_devices))
            remaining.metric("Devices remaining", _count(case.remaining_devices),
                             None if case.remaining_sessions is None else f"{case.remaining_sessions} sessions left",
                             delta_color="off")
    if not current:
        st.warning("No authorization is in force today.", icon=":material/event_busy:")
    st.dataframe([_row(c) for c in cases], hide_index=True, width="stretch")
    st.caption("Devices used count the REMS session log and sessions entered on a case within the authorization's "
               "dates.")
    if may_open:
        st.markdown("**Open a case**")
        for case in cases:
            st.page_link("pages/prior_auth.py",
                         label=f"Case #{case.case_id:d} · {esc(payer_name(case.payer_id))} · {esc(case.status_label)}",
                         icon=":material/assignment:", query_params={"case": str(case.case_id)})
