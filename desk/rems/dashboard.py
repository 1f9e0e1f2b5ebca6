"""The nurse dashboard: today's sessions with their clocks, forms due and overdue, patients blocked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from desk.models import Patient, TreatmentCourse, TreatmentSession
from desk.rems.config import RemsSettings
from desk.rems.course import next_due, plan_course
from desk.rems.coverage import plan_coverage
from desk.rems.enrollment import enrollment_blocker, get_enrollment
from desk.rems.sessions import SessionClock, readings_of, session_clock, sessions_for_patient, sessions_on

RECENT_DAYS = 60


@dataclass(frozen=True)
class TodayRow:
    """One of today's sessions with its running clock."""

    session: TreatmentSession
    patient: Patient
    clock: SessionClock


@dataclass(frozen=True)
class BlockedPatient:
    """A patient in treatment who cannot be treated next time as things stand."""

    patient: Patient
    reason: str
    action: str


def today_sessions(session: Session, *, today: date, now: datetime, settings: RemsSettings) -> list[TodayRow]:
    rows = []
    for ts in sessions_on(session, day=today):
        patient = session.get(Patient, ts.patient_id)
        assert patient is not None and ts.id is not None
        clock = session_clock(first_device_at=ts.first_device_at, readings=readings_of(session, session_id=ts.id),
                              discharged_at=ts.discharged_at, now=now, settings=settings)
        rows.append(TodayRow(ts, patient, clock))
    return rows


def patients_in_treatment(session: Session, *, today: date) -> list[Patient]:
    """Patients with a course on file or a session in the last 60 days."""
    with_course = set(session.exec(select(TreatmentCourse.patient_id)).all())
    recent = set(
        session.exec(
            select(TreatmentSession.patient_id).where(
                col(TreatmentSession.session_date) >= today - timedelta(days=RECENT_DAYS)
            )
        ).all()
    )
    ids = sorted(with_course | recent)
    patients = [session.get(Patient, i) for i in ids]
    return sorted((p for p in patients if p is not None), key=lambda p: (p.last_name, p.first_name))


def next_session_date(session: Session, *, patient_id: int, today: date) -> tuple[date, int]:
    """The next planned date (from the course, else today) and the devices it will need (last dose, else 2)."""
    done = sessions_for_patient(session, patient_id=patient_id)
    devices = done[-1].devices if done and done[-1].devices else 2
    course = session.exec(select(TreatmentCourse).where(TreatmentCourse.patient_id == patient_id)).first()
    if course is None:
        return today, devices
    plan = plan_course(indication=course.indication, start_date=course.start_date,
                       done=[s.session_date for s in done], today=today,
                       maintenance_interval_days=course.maintenance_interval_days)
    upcoming = next_due(plan, count=1)
    return (max(upcoming[0].planned_on, today) if upcoming else today), devices


def blocked_patients(session: Session, *, today: date) -> list[BlockedPatient]:
    """Patients in treatment who are not enrolled, lack an authorization, or have run out of devices."""
    blocked: list[BlockedPatient] = []
    for patient in patients_in_treatment(session, today=today):
        assert patient.id is not None
        blocker = enrollment_blocker(get_enrollment(session, patient_id=patient.id))
        if blocker:
            blocked.append(BlockedPatient(patient, blocker.reason, blocker.action))
        day, devices = next_session_date(session, patient_id=patient.id, today=today)
        [coverage] = plan_coverage(session, patient_id=patient.id, dates=[day], devices_per_session=devices)
        if coverage.authorization == "no authorization":
            blocked.append(BlockedPatient(patient, f"No approved authorization for the next session "
                                                   f"({day:%m/%d/%Y}).",
                                          "Ask billing to request or renew the prior authorization."))
        elif coverage.authorization == "devices exhausted":
            blocked.append(BlockedPatient(patient, f"Devices exhausted: {coverage.authorization_detail}",
                                          "Ask billing to request more devices from the payer."))
    return blocked



def patient_choices(session: Session) -> list[Patient]:
    """Every patient, by name, for the pickers of the REMS screens."""
    return list(session.exec(select(Patient).order_by(col(Patient.last_name), col(Patient.first_name))).all())
