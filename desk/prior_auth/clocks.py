"""Decision due times and renewal reminders, computed in the clinic's time zone.

The clocks themselves (the file format's type and the documented defaults by plan type) live in
desk.policies.clocks; this module only turns a clock into a due time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from desk.policies.clocks import ClockPeriod
from desk.rems.course import label_schedule


def _end_of_local_day(day: date, zone: ZoneInfo) -> datetime:
    # A day-counted deadline is met any time on its last day in the clinic's zone.
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone).astimezone(UTC)


def is_business_day(day: date, holidays: Iterable[date] = ()) -> bool:
    """Monday to Friday and not one of the clinic's listed holidays."""
    return day.weekday() < 5 and day not in set(holidays)


def add_business_days(start: date, days: int, holidays: Iterable[date] = ()) -> date:
    """The `days`-th business day after `start` (the start day itself never counts)."""
    closed = set(holidays)
    current = start
    counted = 0
    while counted < days:
        current += timedelta(days=1)
        if is_business_day(current, closed):
            counted += 1
    return current


def decision_due(
    *,
    submitted_at: datetime,
    clock: ClockPeriod,
    timezone: str,
    holidays: Iterable[date] = (),
) -> datetime:
    """When the payer's decision is due (UTC). Hours are elapsed time; days end at local midnight."""
    if submitted_at.tzinfo is None:
        raise ValueError("submitted_at must be timezone-aware")
    if clock.unit == "hours":
        # Elapsed hours: across a DST change a 72-hour clock is still 72 real hours.
        return (submitted_at.astimezone(UTC) + timedelta(hours=clock.amount)).astimezone(UTC)
    zone = ZoneInfo(timezone)
    local_day = submitted_at.astimezone(zone).date()
    if clock.unit == "calendar_days":
        return _end_of_local_day(local_day + timedelta(days=clock.amount), zone)
    return _end_of_local_day(add_business_days(local_day, clock.amount, holidays), zone)


def local_date(moment: datetime, timezone: str) -> date:
    """The calendar date of `moment` in the clinic's time zone."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def local_today(timezone: str, *, now: datetime | None = None) -> date:
    """Today in the clinic's time zone."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()


def local_text(value: date | datetime | None, timezone: str | ZoneInfo) -> str:
    """How every screen and export writes a date: MM/DD/YYYY; a moment as MM/DD/YYYY HH:MM in the clinic's time zone
    (a moment without a zone is UTC, as the database keeps it); nothing as ''."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        zone = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.astimezone(zone).strftime("%m/%d/%Y %H:%M")
    return value.strftime("%m/%d/%Y")


def is_overdue(*, decision_due_at: datetime | None, now: datetime) -> bool:
    """True when a decision clock ran out."""
    return decision_due_at is not None and now > decision_due_at


# --- Whether the devices left cover the next two weeks of the label schedule (desk.rems.course). ---
# 84 mg = 3 devices is the most a session uses; it is assumed when no dose is known yet, so the
# reminder comes early rather than late.
MAX_DEVICES_PER_SESSION = 3
COVERAGE_HORIZON_DAYS = 14


def devices_needed(
    *,
    indication: str,
    course_start: date | None,
    start: date,
    days: int = COVERAGE_HORIZON_DAYS,
    devices_per_session: int | None = None,
    maintenance_interval_days: int = 7,
) -> int:
    """Devices the label schedule plans from `start` over `days` days (a course not yet started starts then)."""
    end = start + timedelta(days=days)
    plan = label_schedule(indication=indication, start_date=course_start or start,
                          maintenance_interval_days=maintenance_interval_days, through=end)
    sessions = sum(1 for planned in plan if start <= planned.planned_on < end)
    return sessions * (devices_per_session or MAX_DEVICES_PER_SESSION)


@dataclass(frozen=True)
class RenewalReminder:
    """When to start the renewal, and why."""

    remind_on: date
    reason: str


def renewal_reminder(
    *,
    end_on: date,
    lead_days: int,
    today: date,
    remaining_devices: int | None = None,
    devices_needed_two_weeks: int | None = None,
) -> RenewalReminder:
    """Lead time before the end date, or today when the devices left will not cover the next two weeks."""
    by_date = end_on - timedelta(days=lead_days)
    if (
        remaining_devices is not None
        and devices_needed_two_weeks is not None
        and remaining_devices < devices_needed_two_weeks
    ):
        return RenewalReminder(
            min(today, by_date),
            f"{remaining_devices} devices left; the next two weeks of the dosing schedule need "
            f"{devices_needed_two_weeks}",
        )
    return RenewalReminder(by_date, f"{lead_days} days before the authorization ends on {end_on.isoformat()}")
