"""Recording treatment sessions: one validated save of the whole log, its clock, and devices used."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from desk.auth import CurrentUser
from desk.errors import FieldError, NotFound, ValidationFailed
from desk.models import Patient, Prescriber, SessionDevice, SessionReading, Site, TreatmentSession, utcnow
from desk.records import check_version
from desk.reference.spravato import spravato
from desk.rems.concomitant import concomitant_classes
from desk.rems.config import RemsSettings, load_rems_settings
from desk.rems.enrollment import enrollment_blocker, get_enrollment, setting_certification_on
from desk.rems.permissions import require_record
from desk.rems.validation import ReadingInput, SessionInput, validate_session

_SCALAR_FIELDS = (
    "session_date",
    "indication",
    "dose_mg",
    "no_food_2h",
    "no_liquids_30min",
    "nasal_medication_ok",
    "ride_home_confirmed",
    "high_bp_acknowledged_at",
    "vitals_ok_before",
    "vitals_ok_before_completion",
    "sedation",
    "sedation_resolved_at",
    "dissociation",
    "dissociation_resolved_at",
    "respiratory_depression",
    "respiratory_depression_resolved_at",
    "serious_adverse_event",
    "ready_to_leave_minutes",
    "discharged_at",
    "monitoring_hcp_user_id",
    "prescriber_on_site_id",
)
_TEXT_FIELDS = (
    "lot_number",
    "high_bp_acknowledged_by",
    "sae_details",
    "monitoring_hcp_first_name",
    "monitoring_hcp_last_name",
    "monitoring_hcp_phone",
    "monitoring_hcp_email",
)


def get_session(session: Session, *, session_id: int) -> TreatmentSession:
    ts = session.get(TreatmentSession, session_id)
    if ts is None:
        raise NotFound("No such treatment session.")
    return ts


def devices_of(session: Session, *, session_id: int) -> list[SessionDevice]:
    return list(
        session.exec(
            select(SessionDevice)
            .where(SessionDevice.treatment_session_id == session_id)
            .order_by(col(SessionDevice.sequence))
        ).all()
    )


def readings_of(session: Session, *, session_id: int) -> list[SessionReading]:
    return list(
        session.exec(
            select(SessionReading)
            .where(SessionReading.treatment_session_id == session_id)
            .order_by(col(SessionReading.measured_at), col(SessionReading.id))
        ).all()
    )


def session_input(session: Session, *, session_id: int) -> SessionInput:
    """The stored session as an editable input (what the log screen and amendments start from)."""
    ts = get_session(session, session_id=session_id)
    values = {name: getattr(ts, name) for name in _SCALAR_FIELDS + _TEXT_FIELDS}
    return SessionInput(
        patient_id=ts.patient_id,
        site_id=ts.site_id,
        device_times=tuple(d.administered_at for d in devices_of(session, session_id=session_id)),
        readings=tuple(
            ReadingInput(r.kind, r.measured_at, r.systolic, r.diastolic, r.heart_rate, r.spo2)
            for r in readings_of(session, session_id=session_id)
        ),
        **values,
    )


def _first_session_date(session: Session, *, patient_id: int, excluding: int | None) -> date | None:
    query = select(func.min(TreatmentSession.session_date)).where(TreatmentSession.patient_id == patient_id)
    if excluding is not None:
        query = query.where(TreatmentSession.id != excluding)
    return session.exec(query).one()


def _start_errors(session: Session, data: SessionInput) -> list[FieldError]:
    """Only a certified setting may treat, and an outpatient must be enrolled before the first treatment
    (REMS; shared/domain/spravato.md §1 [1][2])."""
    site = session.get(Site, data.site_id)
    assert site is not None
    problem = setting_certification_on(site, day=data.session_date)
    if problem:
        return [FieldError("site_id", problem)]
    enrollment = get_enrollment(session, patient_id=data.patient_id)
    blocker = enrollment_blocker(enrollment)
    if blocker:
        return [FieldError("patient_id", f"{blocker.reason} {blocker.action}")]
    assert enrollment is not None and enrollment.submitted_on is not None
    if enrollment.submitted_on > data.session_date:
        return [FieldError("session_date", "is before the patient's REMS enrollment was submitted; the patient "
                                           "must be enrolled before the first treatment")]
    return []


def check_session(
    session: Session, *, data: SessionInput, now: datetime, settings: RemsSettings, session_id: int | None = None
) -> list[FieldError]:
    """Every problem that would stop `record_session`, without writing anything."""
    if session.get(Patient, data.patient_id) is None:
        raise NotFound("No such patient.")
    if session.get(Site, data.site_id) is None:
        raise NotFound("No such site.")
    errors = _start_errors(session, data)
    errors += validate_session(data, now=now, settings=settings)
    errors += _prescriber_on_site_errors(session, data)
    return errors


def _prescriber_on_site_errors(session: Session, data: SessionInput) -> list[FieldError]:
    """A certified outpatient setting must have a prescriber on site while SPRAVATO is given (REMS;
    shared/domain/spravato.md §1 [1][2][3]): once a device is recorded, the log names that prescriber."""
    if data.prescriber_on_site_id is None:
        if not data.device_times:
            return []
        return [FieldError("prescriber_on_site_id", "choose the prescriber who was on site during dosing: the REMS "
                                                    "requires a prescriber on site while SPRAVATO is given")]
    on_site = session.get(Prescriber, data.prescriber_on_site_id)
    if on_site is None or on_site.site_id != data.site_id:
        return [FieldError("prescriber_on_site_id", "choose a prescriber of this site")]
    if not on_site.active:
        return [FieldError("prescriber_on_site_id", "this prescriber is inactive; choose an active prescriber of "
                                                    "this site")]
    return []


def default_prescriber_on_site(session: Session, *, patient_id: int, site_id: int) -> int | None:
    """The prescriber to preselect on a new log: the patient's own when they are an active prescriber of the site,
    else the site's only active prescriber; None when the nurse has to choose."""
    patient = session.get(Patient, patient_id)
    if patient is not None and patient.prescriber_id is not None:
        own = session.get(Prescriber, patient.prescriber_id)
        if own is not None and own.active and own.site_id == site_id:
            return own.id
    on_site = session.exec(select(Prescriber.id).where(Prescriber.site_id == site_id,
                                                       col(Prescriber.active).is_(True))).all()
    return on_site[0] if len(on_site) == 1 else None


def first_dose_warning(session: Session, *, patient_id: int, indication: str, dose_mg: int, session_date: date,
                       session_id: int | None = None) -> str | None:
    """The label starts TRD at 56 mg on day 1 (desk/reference/spravato.yaml): a warning when the patient's first
    TRD session is logged at another dose."""
    first_mg = spravato().label_schedule["TRD"].first_session_mg
    if indication != "TRD" or dose_mg == first_mg:
        return None
    earlier = _first_session_date(session, patient_id=patient_id, excluding=session_id)
    if earlier is not None and earlier <= session_date:
        return None
    return (f"This is the patient's first SPRAVATO session: the label starts TRD at {first_mg} mg on day 1, "
            f"not {dose_mg} mg. Check the dose with the prescriber.")


def record_session(
    session: Session,
    *,
    user: CurrentUser,
    data: SessionInput,
    session_id: int | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
    settings: RemsSettings | None = None,
) -> TreatmentSession:
    """Create or update a session log as one whole; nothing is written while any error stands.

    A session whose monitoring form was submitted is corrected only through `amend_session`.
    """
    require_record(user)
    now = now or utcnow()
    settings = settings or load_rems_settings()
    ts: TreatmentSession | None = None
    if session_id is not None:
        ts = check_version(
            get_session(session, session_id=session_id), expected_version=expected_version, entity="treatment session"
        )
        if ts.pmf_status == "submitted":
            raise ValidationFailed([FieldError("pmf_status", "the monitoring form was submitted; correct the "
                                                             "session through an amendment")])
        if ts.patient_id != data.patient_id:
            raise ValidationFailed([FieldError("patient_id", "a session cannot be moved to another patient")])
    errors = check_session(session, data=data, now=now, settings=settings, session_id=session_id)
    if errors:
        raise ValidationFailed(errors)
    if ts is None:
        ts = TreatmentSession(
            patient_id=data.patient_id, site_id=data.site_id, session_date=data.session_date, dose_mg=data.dose_mg,
            devices=0,
        )
    return apply_input(session, ts=ts, data=data, recorded_by=user.username)


def apply_input(session: Session, *, ts: TreatmentSession, data: SessionInput, recorded_by: str) -> TreatmentSession:
    """Write a validated input onto `ts`, replacing its device and reading rows."""
    for name in _SCALAR_FIELDS:
        setattr(ts, name, getattr(data, name))
    for name in _TEXT_FIELDS:
        setattr(ts, name, getattr(data, name).strip())
    ts.site_id = data.site_id
    ts.devices = len(data.device_times)
    ts.first_device_at = data.first_device_at
    ts.concomitant_classes = ",".join(concomitant_classes(session, patient_id=data.patient_id))
    ts.recorded_by = recorded_by
    if ts.pmf_status != "submitted":
        ts.pmf_status = "ready" if data.discharged_at is not None else "draft"
    session.add(ts)
    session.flush()
    assert ts.id is not None
    _replace_children(session, session_id=ts.id, data=data)
    session.flush()
    return ts


def _replace_children(session: Session, *, session_id: int, data: SessionInput) -> None:
    existing_devices = devices_of(session, session_id=session_id)
    wanted_devices = sorted(data.device_times)
    if [d.administered_at for d in existing_devices] != wanted_devices:
        for row in existing_devices:
            session.delete(row)
        session.flush()
        for sequence, moment in enumerate(wanted_devices, start=1):
            session.add(SessionDevice(treatment_session_id=session_id, sequence=sequence, administered_at=moment))
    existing = readings_of(session, session_id=session_id)
    as_input = [ReadingInput(r.kind, r.measured_at, r.systolic, r.diastolic, r.heart_rate, r.spo2) for r in existing]
    wanted = sorted(data.readings, key=lambda r: r.measured_at)
    if as_input != wanted:
        for reading_row in existing:
            session.delete(reading_row)
        session.flush()
        for reading in wanted:
            session.add(
                SessionReading(
                    treatment_session_id=session_id,
                    kind=reading.kind,
                    measured_at=reading.measured_at,
                    systolic=reading.systolic,
                    diastolic=reading.diastolic,
                    heart_rate=reading.heart_rate,
                    spo2=reading.spo2,
                )
            )


def is_first_treatment(session: Session, *, ts: TreatmentSession) -> bool:
    """True when no session of this patient is dated before this one."""
    earlier = session.exec(
        select(func.count())
        .select_from(TreatmentSession)
        .where(
            TreatmentSession.patient_id == ts.patient_id,
            TreatmentSession.id != ts.id,
            col(TreatmentSession.session_date) < ts.session_date,
        )
    ).one()
    return earlier == 0


def sessions_on(session: Session, *, day: date, site_id: int | None = None) -> Sequence[TreatmentSession]:
    query = select(TreatmentSession).where(TreatmentSession.session_date == day)
    if site_id is not None:
        query = query.where(TreatmentSession.site_id == site_id)
    return session.exec(query.order_by(col(TreatmentSession.first_device_at), col(TreatmentSession.id))).all()


def sessions_for_patient(session: Session, *, patient_id: int) -> Sequence[TreatmentSession]:
    return session.exec(
        select(TreatmentSession)
        .where(TreatmentSession.patient_id == patient_id)
        .order_by(col(TreatmentSession.session_date), col(TreatmentSession.id))
    ).all()


def devices_used(session: Session, *, patient_id: int, start: date, end: date) -> int:
    """Devices administered to the patient in sessions dated start..end inclusive (for authorizations)."""
    total = session.exec(
        select(func.count(col(SessionDevice.id)))
        .select_from(SessionDevice)
        .join(TreatmentSession, col(TreatmentSession.id) == col(SessionDevice.treatment_session_id))
        .where(
            TreatmentSession.patient_id == patient_id,
            col(TreatmentSession.session_date) >= start,
            col(TreatmentSession.session_date) <= end,
        )
    ).one()
    return int(total or 0)


def _minutes_until(moment: datetime, now: datetime) -> int:
    return math.ceil((moment - now).total_seconds() / 60)


@dataclass(frozen=True)
class SessionClock:
    """Where a running session stands against the 40-minute reading and the 2-hour minimum."""

    minutes_since_first_device: int | None
    post_dose_reading_due_at: datetime | None
    post_dose_reading_done: bool
    discharge_allowed_at: datetime | None
    discharged: bool
    reminders: list[str] = field(default_factory=list)


def session_clock(
    *, first_device_at: datetime | None, readings: Sequence[ReadingInput | SessionReading],
    discharged_at: datetime | None, now: datetime, settings: RemsSettings,
) -> SessionClock:
    """The running clock of a session and the reminders to show the nurse."""
    if first_device_at is None:
        return SessionClock(None, None, False, None, discharged_at is not None,
                            ["Clock starts at the first device."])
    zone = settings.zone
    # The clock stops at discharge: a discharged session counts its minutes to the discharge, not to now.
    elapsed = int(((discharged_at or now) - first_device_at).total_seconds() // 60)
    reading_due = first_device_at + timedelta(minutes=settings.post_dose_reading_minutes)
    discharge_at = first_device_at + timedelta(minutes=settings.min_monitoring_minutes)
    post_done = any(r.kind == "post_40" and r.systolic is not None for r in readings)
    reminders: list[str] = []
    if discharged_at is None:
        if not post_done:
            if now >= reading_due:
                reminders.append(f"The ~{settings.post_dose_reading_minutes}-minute blood pressure is due now "
                                 f"(since {reading_due.astimezone(zone):%H:%M}).")
            else:
                minutes = _minutes_until(reading_due, now)
                reminders.append(f"~{settings.post_dose_reading_minutes}-minute blood pressure due at "
                                 f"{reading_due.astimezone(zone):%H:%M} (in {minutes} min).")
        if now >= discharge_at:
            reminders.append(f"The {settings.min_monitoring_minutes // 60}-hour minimum was reached at "
                             f"{discharge_at.astimezone(zone):%H:%M}: take the discharge blood pressure; discharge "
                             "when the patient is clinically stable.")
        else:
            minutes = _minutes_until(discharge_at, now)
            reminders.append(f"{settings.min_monitoring_minutes // 60}-hour mark at "
                             f"{discharge_at.astimezone(zone):%H:%M} (in {minutes} min); no discharge before.")
    return SessionClock(elapsed, reading_due, post_done, discharge_at, discharged_at is not None, reminders)
