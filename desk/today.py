"""What needs doing today, by area: the counts and short lists of the Today screen.

Each function gathers one area from that area's own queries (prior-authorization worklist, savings worklist,
REMS dashboard, sites, users) and returns plain frozen dataclasses, so the screen only lays them out. Money
appears only in the savings summary; which roles may see it is the screen's decision (billing and admin).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from desk.models import Patient, TreatmentSession
from desk.prior_auth.worklist import todays_actions
from desk.rems.config import RemsSettings
from desk.rems.dashboard import blocked_patients, today_sessions
from desk.rems.pmf import FormDue, forms_due_soon, forms_overdue
from desk.savings.worklist import claims_waiting_for_eob, denied_claims, expiring_enrollments
from desk.sites import rems_certification_warnings
from desk.users import is_locked, list_users

SAVINGS_EXPIRY_DAYS = 30
# How a blocked patient's reason reads (desk.rems.dashboard.blocked_patients), mapped to what blocks them.
BLOCK_KINDS = {"No approved authorization": "no_authorization", "Devices exhausted": "devices_exhausted"}
BLOCK_TITLES = {
    "enrollment": "Not enrolled in the REMS",
    "no_authorization": "No authorization",
    "devices_exhausted": "Devices exhausted",
}


def due_in_words(days_left: int) -> str:
    """A deadline relative to today: 'due today', '1 day left', '3 days left', '1 day late', '4 days late'."""
    if days_left == 0:
        return "due today"
    count = abs(days_left)
    return f"{count} day{'' if count == 1 else 's'} {'left' if days_left > 0 else 'late'}"


# --- prior authorization ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionCount:
    """How many cases need one kind of action today."""

    key: str
    title: str
    total: int


@dataclass(frozen=True)
class PriorAuthToday:
    """The prior-authorization actions due today, in the worklist's order."""

    actions: tuple[ActionCount, ...]

    @property
    def total(self) -> int:
        return sum(a.total for a in self.actions)


def prior_auth_today(session: Session, *, now: datetime, today: date, timezone: str, default_lead_days: int,
                     draft_idle_days: int) -> PriorAuthToday:
    """Decisions overdue, information requests due, authorizations to renew, idle drafts, devices running out."""
    found = todays_actions(session, now=now, today=today, timezone=timezone, default_lead_days=default_lead_days,
                           draft_idle_days=draft_idle_days, limit=1)
    return PriorAuthToday(tuple(ActionCount(key, action.title, action.total) for key, action in found.items()))


# --- savings ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavingsLine:
    """One savings worklist category: how many items and, where money is at stake, the amount involved."""

    key: str
    title: str
    count: int
    amount_cents: int | None


@dataclass(frozen=True)
class SavingsToday:
    """Claims waiting for an EOB, enrollments expiring soon, denied claims and rebates."""

    lines: tuple[SavingsLine, ...]

    @property
    def total(self) -> int:
        return sum(line.count for line in self.lines)


def _amount(items: Sequence[object]) -> int:
    return sum(getattr(item, "amount_cents", None) or 0 for item in items)


def savings_today(session: Session, *, today: date, within_days: int = SAVINGS_EXPIRY_DAYS) -> SavingsToday:
    """The savings items billing works through, with the money waiting on claims (cents)."""
    waiting = claims_waiting_for_eob(session)
    expiring = expiring_enrollments(session, today=today, within_days=within_days)
    denied = denied_claims(session)
    return SavingsToday((
        SavingsLine("waiting_for_eob", "Claims waiting for an EOB", len(waiting), _amount(waiting)),
        SavingsLine("expiring", f"Enrollments expiring within {within_days} days", len(expiring), None),
        SavingsLine("denied", "Denied claims and rebates", len(denied), _amount(denied)),
    ))


# --- REMS ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionToday:
    """One of today's treatment sessions and where it stands."""

    session_id: int
    patient: str
    mrn: str
    dose_mg: int
    form_status: str
    stage: str  # "not dosed", "under way" or "discharged"
    status: str


@dataclass(frozen=True)
class FormToday:
    """A monitoring form not yet submitted, with its deadline in words."""

    session_id: int
    patient: str
    session_date: date
    due_date: date
    days_left: int
    form_status: str

    @property
    def due_text(self) -> str:
        return due_in_words(self.days_left)


@dataclass(frozen=True)
class BlockedToday:
    """A patient in treatment who cannot be treated next time, what blocks them and what to do."""

    patient_id: int
    patient: str
    mrn: str
    kind: str  # a key of BLOCK_TITLES
    reason: str
    action: str


@dataclass(frozen=True)
class RemsToday:
    """Today's sessions, forms overdue and due soon, and patients blocked."""

    sessions: tuple[SessionToday, ...]
    forms_overdue: tuple[FormToday, ...]
    forms_due_soon: tuple[FormToday, ...]
    blocked: tuple[BlockedToday, ...]

    def blocked_count(self, kind: str | None = None) -> int:
        """Distinct patients blocked (for `kind`, when given); a patient may be blocked for several reasons."""
        return len({b.patient_id for b in self.blocked if kind is None or b.kind == kind})

    def blocked_by_patient(self) -> list[tuple[BlockedToday, tuple[str, ...]]]:
        """Each blocked patient once (first reason's row) with all their reasons, in the order first listed."""
        grouped: dict[int, tuple[BlockedToday, list[str]]] = {}
        for item in self.blocked:
            grouped.setdefault(item.patient_id, (item, []))[1].append(item.reason)
        return [(first, tuple(reasons)) for first, reasons in grouped.values()]


def session_to_open(sessions: Sequence[TreatmentSession]) -> int | None:
    """Of today's sessions, the one a nurse most likely wants on screen: the latest still under way (not
    discharged), else the latest of the day; None when there is none."""
    if not sessions:
        return None
    open_ones = [ts for ts in sessions if ts.discharged_at is None]

    def started(ts: TreatmentSession) -> tuple[datetime, int]:
        return ts.first_device_at or ts.created_at, ts.id or 0

    return max(open_ones or sessions, key=started).id


def _block_kind(reason: str) -> str:
    for prefix, kind in BLOCK_KINDS.items():
        if reason.startswith(prefix):
            return kind
    return "enrollment"


def _forms(forms: Sequence[FormDue], names: dict[int, str]) -> tuple[FormToday, ...]:
    return tuple(FormToday(f.session_id, names.get(f.patient_id, "Patient"), f.session_date, f.due_date,
                           f.days_left, f.status) for f in forms)


def rems_today(session: Session, *, today: date, now: datetime, settings: RemsSettings) -> RemsToday:
    """The nurse's day: sessions with their stage, forms overdue and due soon, patients blocked."""
    zone = settings.zone
    sessions = []
    for row in today_sessions(session, today=today, now=now, settings=settings):
        ts, clock = row.session, row.clock
        assert ts.id is not None
        if clock.discharged:
            stage = "discharged"
            status = (f"Discharged at {ts.discharged_at.astimezone(zone):%H:%M}" if ts.discharged_at
                      else "Discharged")
        elif clock.minutes_since_first_device is None:
            stage, status = "not dosed", "Not dosed yet"
        else:
            stage, status = "under way", f"Under way: {clock.minutes_since_first_device} min since the first device"
        sessions.append(SessionToday(ts.id, row.patient.display_name, row.patient.mrn, ts.dose_mg, ts.pmf_status,
                                     stage, status))
    overdue = forms_overdue(session, today=today, settings=settings)
    due_soon = forms_due_soon(session, today=today, settings=settings)
    names: dict[int, str] = {}
    for patient_id in {f.patient_id for f in (*overdue, *due_soon)}:
        patient = session.get(Patient, patient_id)
        if patient is not None:
            names[patient_id] = patient.display_name
    blocked = []
    for item in blocked_patients(session, today=today):
        assert item.patient.id is not None
        blocked.append(BlockedToday(item.patient.id, item.patient.display_name, item.patient.mrn,
                                    _block_kind(item.reason), item.reason, item.action))
    return RemsToday(tuple(sessions), _forms(overdue, names), _forms(due_soon, names), tuple(blocked))


# --- administration --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LockedAccount:
    """An account locked after too many failed sign-ins."""

    user_id: int
    username: str
    display_name: str
    locked_until: datetime


@dataclass(frozen=True)
class AdminToday:
    """Sites whose REMS certification is not on file, and locked accounts."""

    certification_warnings: tuple[str, ...]
    locked_accounts: tuple[LockedAccount, ...]


def admin_today(session: Session, *, now: datetime) -> AdminToday:
    """What an administrator should fix: certification gaps and accounts locked out right now."""
    locked = []
    for user in list_users(session):
        if user.active and is_locked(user, now=now):
            assert user.id is not None and user.locked_until is not None
            locked.append(LockedAccount(user.id, user.username, user.display_name, user.locked_until))
    return AdminToday(tuple(w.message for w in rems_certification_warnings(session)), tuple(locked))
