"""Device accounting: devices (or sessions) authorized, used and remaining per approved authorization.

Each session uses 2 devices (56 mg) or 3 devices (84 mg) (label, shared/domain/spravato.md §2 [10][11]).
Use is counted from the devices administered in the REMS session log plus sessions entered on a case
directly (sessions the REMS log does not hold, e.g. given before the clinic used the desk). A session
is checked before it is recorded: no authorization covering its date, or more devices than remain, is
flagged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from desk.errors import FieldError, ValidationFailed
from desk.models import utcnow
from desk.models.prior_auth import PaAuthorization, PaDeviceEntry, PriorAuthCase
from desk.models.rems import TreatmentCourse, TreatmentSession
from desk.prior_auth.clocks import devices_needed, local_today
from desk.rems.sessions import devices_used
from desk.settings import load_settings

DEVICES_PER_SESSION = (2, 3)
# Statuses whose authorization is in force (an expired case's authorization still covers its past dates).
AUTHORIZED_STATUSES = ("approved", "overturned", "expired")


@dataclass(frozen=True)
class Usage:
    """Devices and sessions used in a date window."""

    devices: int
    sessions: int


@dataclass(frozen=True)
class DeviceAccount:
    """Authorized / used / remaining for one authorization (None where the payer set no limit of that kind)."""

    authorization: PaAuthorization
    used_devices: int
    used_sessions: int

    @property
    def authorized_devices(self) -> int | None:
        return self.authorization.approved_devices

    @property
    def authorized_sessions(self) -> int | None:
        return self.authorization.approved_sessions

    @property
    def remaining_devices(self) -> int | None:
        if self.authorized_devices is None:
            return None
        return self.authorized_devices - self.used_devices

    @property
    def remaining_sessions(self) -> int | None:
        if self.authorized_sessions is None:
            return None
        return self.authorized_sessions - self.used_sessions


def usage_between(session: Session, *, patient_id: int, start: date, end: date) -> Usage:
    """Devices and sessions of the patient from `start` to `end` inclusive (REMS log + entries on cases)."""
    rems_sessions = session.exec(
        select(func.count(col(TreatmentSession.id))).where(
            TreatmentSession.patient_id == patient_id,
            col(TreatmentSession.session_date) >= start,
            col(TreatmentSession.session_date) <= end,
        )
    ).one()
    manual = session.exec(
        select(func.coalesce(func.sum(PaDeviceEntry.devices), 0), func.count(col(PaDeviceEntry.id))).where(
            PaDeviceEntry.patient_id == patient_id,
            col(PaDeviceEntry.session_date) >= start,
            col(PaDeviceEntry.session_date) <= end,
        )
    ).one()
    rems_devices = devices_used(session, patient_id=patient_id, start=start, end=end)
    return Usage(devices=rems_devices + int(manual[0]), sessions=int(rems_sessions) + int(manual[1]))


def authorizations_covering(session: Session, *, patient_id: int, on: date) -> Sequence[PaAuthorization]:
    """Authorizations in force whose dates cover `on` (newest decision first)."""
    return session.exec(
        select(PaAuthorization)
        .join(PriorAuthCase, col(PriorAuthCase.id) == PaAuthorization.case_id)
        .where(
            PaAuthorization.patient_id == patient_id,
            col(PaAuthorization.start_on) <= on,
            col(PaAuthorization.end_on) >= on,
            col(PriorAuthCase.status).in_(AUTHORIZED_STATUSES),
        )
        .order_by(col(PaAuthorization.decided_on).desc(), col(PaAuthorization.id).desc())
    ).all()


def account(session: Session, *, authorization: PaAuthorization) -> DeviceAccount:
    """Authorized / used / remaining for one authorization over its whole window."""
    used = usage_between(session, patient_id=authorization.patient_id, start=authorization.start_on,
                         end=authorization.end_on)
    return DeviceAccount(authorization, used.devices, used.sessions)


def case_account(session: Session, *, case_id: int) -> DeviceAccount | None:
    """The account of the case's authorization, or None before approval."""
    authorization = session.exec(
        select(PaAuthorization).where(PaAuthorization.case_id == case_id).order_by(col(PaAuthorization.id).desc())
    ).first()
    return account(session, authorization=authorization) if authorization else None


def patient_accounts(session: Session, *, patient_id: int) -> list[DeviceAccount]:
    """Every authorization of the patient with its counts, newest first (for the patient's view)."""
    authorizations = session.exec(
        select(PaAuthorization)
        .where(PaAuthorization.patient_id == patient_id)
        .order_by(col(PaAuthorization.start_on).desc())
    ).all()
    return [account(session, authorization=a) for a in authorizations]


@dataclass(frozen=True)
class SessionCheck:
    """The verdict on a session before it is recorded: problems are empty when it is covered."""

    authorization: PaAuthorization | None
    remaining_devices_before: int | None
    problems: tuple[str, ...]

    @property
    def covered(self) -> bool:
        return not self.problems


def check_session(session: Session, *, patient_id: int, session_date: date, devices: int) -> SessionCheck:
    """Would this session be covered? Flags a missing authorization or a session over the limit."""
    covering = authorizations_covering(session, patient_id=patient_id, on=session_date)
    if not covering:
        return SessionCheck(None, None, (f"No approved authorization covers {session_date.isoformat()}.",))
    current = account(session, authorization=covering[0])
    problems: list[str] = []
    remaining = current.remaining_devices
    if remaining is not None and devices > remaining:
        problems.append(
            f"This session needs {devices} devices but authorization {current.authorization.auth_number} "
            f"has {max(remaining, 0)} left."
        )
    if current.remaining_sessions is not None and current.remaining_sessions < 1:
        problems.append(f"Authorization {current.authorization.auth_number} has no sessions left.")
    return SessionCheck(current.authorization, remaining, tuple(problems))


def record_device_use(
    session: Session,
    *,
    patient_id: int,
    case_id: int | None,
    session_date: date | None,
    devices: int | None,
    actor: str,
    note: str = "",
    override_reason: str = "",
    now: datetime | None = None,
) -> tuple[PaDeviceEntry, SessionCheck]:
    """Enter a session's devices on a case. A flagged session is refused unless a reason to proceed is given."""
    today = local_today(load_settings().timezone, now=now)
    errors: list[FieldError] = []
    if session_date is None:
        errors.append(FieldError("session_date", "required"))
    elif session_date > today:
        errors.append(FieldError("session_date", "cannot be in the future"))
    if devices not in DEVICES_PER_SESSION:
        errors.append(FieldError("devices", "a session uses 2 devices (56 mg) or 3 devices (84 mg)"))
    if case_id is not None:
        case = session.get(PriorAuthCase, case_id)
        if case is None or case.patient_id != patient_id:
            errors.append(FieldError("case_id", "no such case for this patient"))
    if errors:
        raise ValidationFailed(errors)
    assert session_date is not None and devices is not None
    verdict = check_session(session, patient_id=patient_id, session_date=session_date, devices=devices)
    if verdict.problems and not override_reason.strip():
        raise ValidationFailed([FieldError("devices", " ".join(verdict.problems)
                                           + " Give a reason to record it anyway.")])
    text = note.strip()
    if verdict.problems:
        text = (text + " " if text else "") + f"[recorded despite: {override_reason.strip()}]"
    entry = PaDeviceEntry(patient_id=patient_id, case_id=case_id, session_date=session_date, devices=devices,
                          note=text, recorded_by=actor, recorded_at=now or utcnow())
    session.add(entry)
    session.flush()
    return entry, verdict


def device_entries(session: Session, *, patient_id: int) -> Sequence[PaDeviceEntry]:
    """Sessions entered on cases for the patient, newest first."""
    return session.exec(
        select(PaDeviceEntry).where(PaDeviceEntry.patient_id == patient_id)
        .order_by(col(PaDeviceEntry.session_date).desc(), col(PaDeviceEntry.id).desc())
    ).all()


def last_devices_per_session(session: Session, *, patient_id: int) -> int | None:
    """Devices used at the patient's most recent session (REMS log or case entry), if any."""
    rems = session.exec(
        select(col(TreatmentSession.session_date), col(TreatmentSession.devices))
        .where(TreatmentSession.patient_id == patient_id)
        .order_by(col(TreatmentSession.session_date).desc()).limit(1)
    ).first()
    manual = session.exec(
        select(col(PaDeviceEntry.session_date), col(PaDeviceEntry.devices))
        .where(PaDeviceEntry.patient_id == patient_id)
        .order_by(col(PaDeviceEntry.session_date).desc()).limit(1)
    ).first()
    latest = max((r for r in (rems, manual) if r is not None), key=lambda r: r[0], default=None)
    return int(latest[1]) if latest else None


def two_week_need(session: Session, *, patient_id: int, indication: str, today: date) -> int:
    """Devices the patient's label schedule calls for over the next two weeks (course and last dose)."""
    course = session.exec(select(TreatmentCourse).where(TreatmentCourse.patient_id == patient_id)).first()
    return devices_needed(
        indication=course.indication if course else indication,
        course_start=course.start_date if course else None,
        start=today,
        devices_per_session=last_devices_per_session(session, patient_id=patient_id),
        maintenance_interval_days=course.maintenance_interval_days if course else 7,
    )
