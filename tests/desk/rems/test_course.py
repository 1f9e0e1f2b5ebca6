"""The label schedule: TRD induction/maintenance, MDSI, next due dates after the sessions done."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session

from desk.errors import ValidationFailed
from desk.rems.course import label_schedule, next_due, plan_course, planned_by, save_course
from tests.desk.rems.conftest import NURSE
from tests.factories import make_patient

START = date(2026, 3, 2)  # a Monday


def test_trd_schedule_twice_weekly_then_weekly_then_interval() -> None:
    plan = label_schedule(indication="TRD", start_date=START, maintenance_interval_days=14,
                          through=START + timedelta(weeks=12))
    offsets = [(p.planned_on - START).days for p in plan]
    assert offsets[:8] == [0, 3, 7, 10, 14, 17, 21, 24]
    assert offsets[8:12] == [28, 35, 42, 49]
    assert offsets[12:] == [56, 70, 84]
    assert {p.phase for p in plan[:8]} == {"induction"}


def test_mdsi_schedule_is_eight_sessions_in_four_weeks() -> None:
    plan = label_schedule(indication="MDSI", start_date=START)
    assert len(plan) == 8 and plan[-1].planned_on == START + timedelta(days=24)


def test_next_due_dates_respect_gaps_after_late_sessions() -> None:
    done = [START, START + timedelta(days=5)]  # second session two days late
    plan = plan_course(indication="TRD", start_date=START, done=done, today=START + timedelta(days=5))
    upcoming = next_due(plan, count=2)
    assert [p.number for p in upcoming] == [3, 4]
    assert upcoming[0].planned_on == START + timedelta(days=8)  # 3 days after the late session, not day 7
    assert upcoming[1].planned_on == START + timedelta(days=11)
    assert sum(1 for p in plan if p.done_on) == 2


def test_missed_sessions_are_due_today_not_in_the_past() -> None:
    today = START + timedelta(days=12)
    plan = plan_course(indication="TRD", start_date=START, done=[START], today=today)
    upcoming = next_due(plan, count=2)
    assert [p.planned_on for p in upcoming] == [today, today + timedelta(days=3)]
    assert planned_by(indication="TRD", start_date=START, today=today) == 4  # days 0, 3, 7, 10


def test_save_course_validates(session: Session) -> None:
    patient = make_patient(session)
    assert patient.id is not None
    with pytest.raises(ValidationFailed) as caught:
        save_course(session, user=NURSE, patient_id=patient.id, indication="OCD", start_date=START,
                    maintenance_interval_days=10)
    assert {e.field for e in caught.value.errors} == {"indication", "maintenance_interval_days"}
    course = save_course(session, user=NURSE, patient_id=patient.id, indication="MDSI", start_date=START,
                         maintenance_interval_days=7)
    assert course.id is not None
