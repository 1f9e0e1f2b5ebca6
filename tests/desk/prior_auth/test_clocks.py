"""Decision due times for each clock unit and each default, across weekends, month ends and DST; renewal
reminders and the label schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from desk.policies.clocks import DEFAULT_DECISION_CLOCKS, ClockPeriod, ClockUnit
from desk.prior_auth.clocks import (
    add_business_days,
    decision_due,
    devices_needed,
    is_overdue,
    local_text,
    renewal_reminder,
)

NY = "America/New_York"
ZONE = ZoneInfo(NY)


def local(*args: int) -> datetime:
    """A New York wall-clock time."""
    return datetime(*args, tzinfo=ZONE)  # type: ignore[misc]


def period(amount: int, unit: ClockUnit) -> ClockPeriod:
    """A clock period written as (amount, unit)."""
    return ClockPeriod(amount=amount, unit=unit)


def test_hours_clock_counts_elapsed_hours_across_spring_forward() -> None:
    # 2026-03-08 02:00 EST → EDT: 72 real hours after Friday 10:00 EST is Monday 11:00 EDT.
    due = decision_due(submitted_at=local(2026, 3, 6, 10, 0), clock=period(72, "hours"), timezone=NY)
    assert due.astimezone(ZONE) == local(2026, 3, 9, 11, 0)
    assert due.tzinfo is not None and due.utcoffset() == UTC.utcoffset(None)


def test_hours_clock_across_fall_back() -> None:
    # 2026-11-01 02:00 EDT → EST: 24 real hours after Saturday 12:00 EDT is Sunday 11:00 EST.
    due = decision_due(submitted_at=local(2026, 10, 31, 12, 0), clock=period(24, "hours"), timezone=NY)
    assert due.astimezone(ZONE) == local(2026, 11, 1, 11, 0)


def test_calendar_days_end_at_local_midnight_across_month_end_and_dst() -> None:
    due = decision_due(submitted_at=local(2026, 10, 20, 16, 30), clock=period(15, "calendar_days"),
                       timezone=NY)
    # 15 days after Oct 20 is Nov 4 (after the fall-back), end of that day in EST.
    assert due.astimezone(ZONE) == local(2026, 11, 4, 23, 59, 59)
    assert due.astimezone(ZONE).utcoffset().total_seconds() == -5 * 3600  # type: ignore[union-attr]


def test_calendar_days_use_the_clinic_date_not_the_utc_date() -> None:
    # 21:00 in New York on Jan 30 is already Jan 31 in UTC; the clinic's date is Jan 30.
    submitted = local(2026, 1, 30, 21, 0)
    assert submitted.astimezone(UTC).date() == date(2026, 1, 31)
    due = decision_due(submitted_at=submitted, clock=period(2, "calendar_days"), timezone=NY)
    assert due.astimezone(ZONE).date() == date(2026, 2, 1)


def test_calendar_days_over_leap_and_non_leap_february() -> None:
    assert decision_due(submitted_at=local(2028, 2, 27, 9), clock=period(3, "calendar_days"),
                        timezone=NY).astimezone(ZONE).date() == date(2028, 3, 1)
    assert decision_due(submitted_at=local(2027, 2, 27, 9), clock=period(3, "calendar_days"),
                        timezone=NY).astimezone(ZONE).date() == date(2027, 3, 2)


@pytest.mark.parametrize(
    ("submitted", "days", "expected"),
    [
        (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Friday + 1 business day = Monday
        (date(2026, 11, 28), 1, date(2026, 11, 30)),  # Saturday: counting starts Monday
        (date(2026, 11, 29), 3, date(2026, 12, 2)),  # Sunday + 3 = Wednesday, across the month end
        (date(2026, 12, 30), 5, date(2027, 1, 6)),  # across the year end
        (date(2026, 11, 25), 0, date(2026, 11, 25)),
    ],
)
def test_business_days_skip_weekends(submitted: date, days: int, expected: date) -> None:
    assert add_business_days(submitted, days) == expected


def test_business_days_skip_clinic_holidays() -> None:
    thanksgiving = date(2026, 11, 26)
    assert add_business_days(date(2026, 11, 25), 1, [thanksgiving]) == date(2026, 11, 27)
    due = decision_due(submitted_at=local(2026, 11, 25, 15), clock=period(2, "business_days"),
                       timezone=NY, holidays=[thanksgiving])
    assert due.astimezone(ZONE) == local(2026, 11, 30, 23, 59, 59)


def test_business_days_across_spring_forward_end_in_daylight_time() -> None:
    due = decision_due(submitted_at=local(2026, 3, 6, 17), clock=period(1, "business_days"), timezone=NY)
    assert due.astimezone(ZONE) == local(2026, 3, 9, 23, 59, 59)
    assert due.astimezone(ZONE).utcoffset().total_seconds() == -4 * 3600  # type: ignore[union-attr]


def test_other_time_zone_changes_the_day() -> None:
    submitted = datetime(2026, 6, 1, 5, 0, tzinfo=UTC)  # May 31 22:00 in Los Angeles
    due = decision_due(submitted_at=submitted, clock=period(1, "calendar_days"), timezone="America/Los_Angeles")
    assert due.astimezone(ZoneInfo("America/Los_Angeles")).date() == date(2026, 6, 1)


def test_naive_submission_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decision_due(submitted_at=datetime(2026, 1, 1, 9), clock=period(1, "hours"), timezone=NY)


# Submitted Friday 2026-11-20 15:00 in New York (20:00 UTC), the due time of each documented default.
@pytest.mark.parametrize(
    ("plan_type", "urgency", "due"),
    [
        # Commercial (ERISA) standard: 15 calendar days, end of Saturday Dec 5 in New York.
        ("commercial", "standard", local(2026, 12, 5, 23, 59, 59)),
        ("commercial", "expedited", local(2026, 11, 23, 15)),
        ("medicare_part_d", "standard", local(2026, 11, 23, 15)),
        ("medicare_part_d", "expedited", local(2026, 11, 21, 15)),
        ("medicaid_ffs", "standard", local(2026, 11, 21, 15)),
        ("medicaid_ffs", "expedited", local(2026, 11, 21, 15)),
        ("medicaid_managed", "standard", local(2026, 11, 21, 15)),
        ("medicaid_managed", "expedited", local(2026, 11, 21, 15)),
    ],
)
def test_each_default_clock_gives_its_due_time(plan_type: str, urgency: str, due: datetime) -> None:
    clock = DEFAULT_DECISION_CLOCKS[plan_type].period(urgency)
    assert decision_due(submitted_at=local(2026, 11, 20, 15), clock=clock, timezone=NY) == due.astimezone(UTC)


@pytest.mark.parametrize(
    ("unit", "due"),
    [
        ("hours", local(2026, 11, 20, 18)),  # 3 elapsed hours
        ("calendar_days", local(2026, 11, 23, 23, 59, 59)),  # Friday + 3 days = Monday
        ("business_days", local(2026, 11, 25, 23, 59, 59)),  # Friday + 3 business days = Wednesday
    ],
)
def test_each_unit_counts_its_own_way(unit: ClockUnit, due: datetime) -> None:
    assert decision_due(submitted_at=local(2026, 11, 20, 15), clock=period(3, unit), timezone=NY) == due


def test_overdue_only_after_the_due_time() -> None:
    due = datetime(2026, 11, 20, 12, tzinfo=UTC)
    assert not is_overdue(decision_due_at=due, now=due)
    assert is_overdue(decision_due_at=due, now=datetime(2026, 11, 20, 12, 0, 1, tzinfo=UTC))
    assert not is_overdue(decision_due_at=None, now=due)


def test_renewal_reminder_lead_time_before_end() -> None:
    reminder = renewal_reminder(end_on=date(2027, 1, 31), lead_days=21, today=date(2026, 12, 1))
    assert reminder.remind_on == date(2027, 1, 10)


def test_renewal_reminder_moves_to_today_when_devices_will_not_last() -> None:
    reminder = renewal_reminder(end_on=date(2027, 1, 31), lead_days=21, today=date(2026, 12, 1),
                                remaining_devices=5, devices_needed_two_weeks=12)
    assert reminder.remind_on == date(2026, 12, 1)
    assert "5 devices left" in reminder.reason
    enough = renewal_reminder(end_on=date(2027, 1, 31), lead_days=21, today=date(2026, 12, 1),
                              remaining_devices=12, devices_needed_two_weeks=12)
    assert enough.remind_on == date(2027, 1, 10)


def test_devices_needed_follows_the_label_schedule() -> None:
    start = date(2026, 11, 2)
    # TRD induction (weeks 1-4): twice weekly, 4 sessions in two weeks, 84 mg = 3 devices.
    assert devices_needed(indication="TRD", course_start=start, start=start, devices_per_session=3) == 12
    # Weeks 5-8: weekly.
    assert devices_needed(indication="TRD", course_start=start, start=date(2026, 11, 30),
                          devices_per_session=2) == 4
    # Week 9 on, every two weeks.
    assert devices_needed(indication="TRD", course_start=start, start=date(2027, 1, 4), devices_per_session=2,
                          maintenance_interval_days=14) == 2
    # MDSI ends after four weeks.
    assert devices_needed(indication="MDSI", course_start=start, start=date(2026, 12, 28)) == 0
    # Unknown dose: the largest (3 devices) so the reminder comes early rather than late.
    assert devices_needed(indication="MDSI", course_start=None, start=start) == 12


def test_local_text_writes_dates_and_moments_the_clinic_way() -> None:
    assert local_text(date(2026, 3, 7), NY) == "03/07/2026"
    assert local_text(datetime(2026, 1, 5, 15, 30, tzinfo=UTC), NY) == "01/05/2026 10:30"
    assert local_text(datetime(2026, 7, 5, 15, 30), ZoneInfo(NY)) == "07/05/2026 11:30", "a naive moment is UTC"
    assert local_text(None, NY) == ""
