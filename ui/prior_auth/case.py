"""The prior-authorization case screen's state: the case opened from the address or the session, what it shows
and how one write runs (its refusals kept for the form that made it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st

from desk.auth import CurrentUser
from desk.errors import DeskError, NotFound, StaleEdit, ValidationFailed
from desk.models import utcnow
from desk.models.prior_auth import PaDeviceEntry, PaStatusChange, PriorAuthCase
from desk.policies.clocks import ClockPeriod
from desk.prior_auth.cases import CaseOverview, case_overview, status_history
from desk.prior_auth.checklist import CaseChecklist, case_checklist
from desk.prior_auth.clocks import local_today
from desk.prior_auth.devices import DeviceAccount, case_account, device_entries, patient_accounts
from desk.prior_auth.packet import GeneratedRef, generated_files
from desk.prior_auth.payer_rules import decision_clock_for, renewal_lead_days_for
from desk.settings import Settings
from ui.context import get_settings, work
from ui.editing import forget_version, opened_version
from ui.form_errors import FormErrors, clear_all_errors, clear_errors, keep_errors
from ui.text import esc

CASE_KEY = "pa_case_id"
NOTICE = "pa_notice"
FORM_PREFIX = "pa_"

# The lifecycle form's fields as their labels read: a refusal names the field the user sees.
STEP_FIELDS = {
    "auth_number": "Authorization number", "start_on": "Start date", "end_on": "End date",
    "approved_devices": "Approved devices", "approved_sessions": "Approved sessions", "decided_on": "Decision date",
    "submitted_at": "Submitted on", "channel": "Channel", "reference": "Reference / confirmation number",
    "urgency": "Review", "requested_on": "Requested on", "due_on": "Due on",
    "description": "What the payer asked for", "reason": "Payer's stated reason", "denied_on": "Denial date",
    "filed_on": "Filed on", "level": "Level", "peer_to_peer_on": "Peer-to-peer date",
}


@dataclass(frozen=True)
class CaseScreen:
    """One case as the screen shows it, read in one unit of work when the page runs."""

    user: CurrentUser
    settings: Settings
    zone: ZoneInfo
    now: datetime
    today: date
    case_id: int
    overview: CaseOverview
    case: PriorAuthCase
    checklist: CaseChecklist
    history: list[PaStatusChange]
    files: list[GeneratedRef]
    account: DeviceAccount | None
    other_accounts: list[DeviceAccount]
    entries: list[PaDeviceEntry]
    clock: ClockPeriod | None
    lead_days: int
    # Saves carry the version this user opened; a save over someone else's newer change is refused.
    opened: int

    def run_action(self, action: Callable[[Any], Any], success: str, form: str = "") -> bool:
        """Run one write in its own unit of work; keep its refusals (field messages, a stale edit, any other) for
        the form that made it, shown there on the next run."""
        forget_errors()
        try:
            with work(self.user.username) as session:
                action(session)
        except (ValidationFailed, StaleEdit, DeskError) as exc:
            keep_errors(FORM_PREFIX + form, exc)
            return False
        clear_errors(FORM_PREFIX + form)
        forget_version("pa_case", self.case_id)
        if form == "step":
            # Saved: the next step's form starts from its defaults again.
            for key in [k for k in st.session_state if str(k).startswith("st_")]:
                del st.session_state[key]
        st.session_state[NOTICE] = success
        return True

    def local_time(self, moment: datetime | None) -> str:
        return moment.astimezone(self.zone).strftime("%m/%d/%Y %H:%M %Z") if moment else "—"


def form_errors(form: str, labels: dict[str, str] | None = None) -> FormErrors:
    """The kept refusals of one of the case's forms, drawn under its inputs as `labels` name them."""
    return FormErrors(FORM_PREFIX + form, labels or {})


def forget_errors() -> None:
    """Forget the refusals of every form of the case (a new action, or a reload)."""
    clear_all_errors(FORM_PREFIX)


def open_case_screen(user: CurrentUser) -> CaseScreen:
    """The case named by ?case= or last opened; without one (or when it is gone) a pointer to the worklist."""
    settings = get_settings()
    zone = ZoneInfo(settings.timezone)
    now = utcnow()
    today = local_today(settings.timezone, now=now)

    raw = st.query_params.get("case") or st.session_state.get(CASE_KEY)
    try:
        case_id = int(str(raw)) if raw is not None else None
    except ValueError:
        case_id = None
    if case_id is None:
        st.title("Prior authorization case")
        st.info("Open a case from the worklist, or start a new one there.")
        if st.button("Go to the worklist", icon=":material/checklist:"):
            st.switch_page("pages/worklist.py")
        st.stop()
    assert case_id is not None
    st.session_state[CASE_KEY] = case_id

    try:
        with work(user.username) as session:
            overview = case_overview(session, case_id=case_id)
            case = overview.case
            checklist = case_checklist(session, case=case, as_of=today)
            history = list(status_history(session, case_id=case_id))
            files = generated_files(session, case_id=case_id)
            account = case_account(session, case_id=case_id)
            other_accounts = [a for a in patient_accounts(session, patient_id=case.patient_id)
                              if a.authorization.case_id != case_id]
            entries = list(device_entries(session, patient_id=case.patient_id))
            clock = decision_clock_for(payer_id=case.payer_id, plan_type=case.plan_type, urgency=case.urgency)
            lead_days = renewal_lead_days_for(payer_id=case.payer_id)
    except NotFound as exc:
        st.session_state.pop(CASE_KEY, None)
        st.title("Prior authorization case")
        st.error(esc(exc))
        st.stop()

    return CaseScreen(
        user=user, settings=settings, zone=zone, now=now, today=today, case_id=case_id, overview=overview,
        case=case, checklist=checklist, history=history, files=list(files), account=account,
        other_accounts=other_accounts, entries=entries, clock=clock, lead_days=lead_days,
        opened=opened_version("pa_case", case_id, case.version),
    )
