"""The label's treatment schedule for a course: planned dates, sessions done, next due dates.

US label (shared/domain/spravato.md §2 [11][17]): TRD induction twice weekly in weeks 1-4, maintenance
weekly in weeks 5-8, then every 2 weeks or weekly from week 9; MDSI twice weekly for 4 weeks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, select

from desk.auth import CurrentUser
from desk.errors import FieldError, NotFound, ValidationFailed
from desk.models import INDICATIONS, Patient, TreatmentCourse
from desk.records import check_version
from desk.rems.permissions import require_record

# Twice weekly is planned as day 0 and day 3 of each week (at least 3 days apart).
TWICE_WEEKLY_OFFSETS = (0, 3)
MAINTENANCE_INTERVALS = (7, 14)


@dataclass(frozen=True)
class PlannedSession:
    """One session of the schedule: its number, phase, planned date and whether it is done."""

    number: int
    phase: str
    planned_on: date
    min_gap_days: int
    done_on: date | None = None


def label_schedule(*, indication: str, start_date: date, maintenance_interval_days: int = 7,
                   through: date | None = None) -> list[PlannedSession]:
    """The sessions the label schedule plans from `start_date` (TRD maintenance runs until `through`)."""
    if indication not in INDICATIONS:
        raise ValueError(f"unknown indication {indication!r}")
    plan: list[PlannedSession] = []
    for week in range(4):
        for offset in TWICE_WEEKLY_OFFSETS:
            phase = "induction" if indication == "TRD" else "MDSI"
            plan.append(PlannedSession(len(plan) + 1, phase, start_date + timedelta(days=7 * week + offset), 3))
    if indication == "MDSI":
        return plan
    for week in range(4, 8):
        plan.append(PlannedSession(len(plan) + 1, "maintenance weeks 5-8", start_date + timedelta(days=7 * week), 7))
    end = through or start_date + timedelta(weeks=16)
    day = start_date + timedelta(weeks=8)
    while day <= end:
        plan.append(PlannedSession(len(plan) + 1, "maintenance week 9+", day, maintenance_interval_days))
        day += timedelta(days=maintenance_interval_days)
    return plan


def plan_course(*, indication: str, start_date: date, done: Sequence[date], today: date,
                maintenance_interval_days: int = 7) -> list[PlannedSession]:
    """Done sessions fill the schedule in order; the rest are re-dated so none is before today or sooner than
    its phase's gap after the one before."""
    through = max(today, start_date) + timedelta(weeks=8)
    plan = label_schedule(indication=indication, start_date=start_date,
                          maintenance_interval_days=maintenance_interval_days, through=through)
    done_sorted = sorted(d for d in done if d >= start_date)
    result: list[PlannedSession] = []
    previous: date | None = None
    for index, slot in enumerate(plan):
        if index < len(done_sorted):
            result.append(PlannedSession(slot.number, slot.phase, slot.planned_on, slot.min_gap_days,
                                         done_sorted[index]))
            previous = done_sorted[index]
            continue
        # A missed session is due today at the earliest, never in the past.
        planned = max(slot.planned_on, today)
        if previous is not None:
            planned = max(planned, previous + timedelta(days=slot.min_gap_days))
        result.append(PlannedSession(slot.number, slot.phase, planned, slot.min_gap_days))
        previous = planned
    return result


def planned_by(*, indication: str, start_date: date, today: date, maintenance_interval_days: int = 7) -> int:
    """How many sessions the label schedule plans from the start date up to and including today."""
    plan = label_schedule(indication=indication, start_date=start_date,
                          maintenance_interval_days=maintenance_interval_days, through=today)
    return sum(1 for p in plan if p.planned_on <= today)


def next_due(plan: Sequence[PlannedSession], *, count: int = 3) -> list[PlannedSession]:
    return [p for p in plan if p.done_on is None][:count]


def get_course(session: Session, *, patient_id: int) -> TreatmentCourse | None:
    return session.exec(select(TreatmentCourse).where(TreatmentCourse.patient_id == patient_id)).first()


def save_course(
    session: Session,
    *,
    user: CurrentUser,
    patient_id: int,
    indication: str,
    start_date: date,
    maintenance_interval_days: int,
    expected_version: int | None = None,
) -> TreatmentCourse:
    """Create or update the patient's course; raises ValidationFailed naming each bad field."""
    require_record(user)
    if session.get(Patient, patient_id) is None:
        raise NotFound("No such patient.")
    errors: list[FieldError] = []
    if indication not in INDICATIONS:
        errors.append(FieldError("indication", f"choose one of {', '.join(INDICATIONS)}"))
    if maintenance_interval_days not in MAINTENANCE_INTERVALS:
        errors.append(FieldError("maintenance_interval_days", "weekly (7) or every two weeks (14)"))
    if errors:
        raise ValidationFailed(errors)
    course = get_course(session, patient_id=patient_id)
    if course is None:
        course = TreatmentCourse(patient_id=patient_id, indication=indication, start_date=start_date)
    else:
        check_version(course, expected_version=expected_version, entity="treatment course")
    course.indication = indication
    course.start_date = start_date
    course.maintenance_interval_days = maintenance_interval_days
    session.add(course)
    session.flush()
    return course
