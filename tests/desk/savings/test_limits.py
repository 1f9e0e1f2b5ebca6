"""Device windows: per day, the first 24 days, then any 24-day window (pure functions)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from desk.savings.limits import DeviceLimits, devices_allowed_on, new_violations, violations

LIMITS = DeviceLimits(per_day=3, initial_days=24, initial_devices=24, later_days=24, later_devices=23)
START = date(2026, 1, 5)


def day(n: int) -> date:
    """Day n of the program year, counted from 1 at START."""
    return START + timedelta(days=n - 1)


def test_four_devices_on_one_day_break_the_daily_limit() -> None:
    found = new_violations(usage={day(1): 1}, service_date=day(1), devices=3, limits=LIMITS)
    assert [v.rule for v in found] == ["day"]
    assert found[0].message(LIMITS) == "4 devices on 01/05/2026 exceed the program's limit of 3 per day."


def test_24_devices_in_the_first_24_days_are_allowed_25_are_not() -> None:
    usage = {day(n): 3 for n in (1, 4, 7, 10, 13, 16, 19)}  # 21 devices
    assert new_violations(usage=usage, service_date=day(24), devices=3, limits=LIMITS) == []
    usage[day(24)] = 3
    found = new_violations(usage=usage, service_date=day(23), devices=1, limits=LIMITS)
    assert [v.rule for v in found] == ["initial"]
    assert found[0].devices == 25 and found[0].start == day(1) and found[0].end == day(24)
    assert "in the first 24 days" in found[0].message(LIMITS)


def test_day_25_starts_the_later_windows() -> None:
    usage = {day(n): 3 for n in (1, 4, 7, 10, 13, 16, 19, 22)}  # 24 in the first window
    assert new_violations(usage=usage, service_date=day(25), devices=3, limits=LIMITS) == []


def test_23_per_24_days_after_the_first_window() -> None:
    usage = {day(1): 2}
    later = [25 + 3 * k for k in range(7)]  # days 25..43: 7 treatments x 3 = 21 devices
    usage.update({day(n): 3 for n in later})
    assert new_violations(usage=usage, service_date=day(46), devices=2, limits=LIMITS) == []
    found = new_violations(usage=usage, service_date=day(46), devices=3, limits=LIMITS)
    assert [v.rule for v in found] == ["later"]
    assert found[0].devices == 24 and found[0].start == day(25) and found[0].end == day(48)
    assert "in any 24-day window after the first 24 days" in found[0].message(LIMITS)


def test_a_window_rolls_forward() -> None:
    usage = {day(1): 2, **{day(n): 3 for n in range(25, 47, 3)}}  # 8 treatments from day 25: 24 devices
    found = violations(usage, LIMITS)
    assert any(v.rule == "later" and v.start == day(25) for v in found)
    assert new_violations(usage={day(1): 2, **{day(n): 3 for n in range(25, 44, 3)}},
                          service_date=day(49), devices=3, limits=LIMITS) == []


def test_back_dated_claim_moves_the_first_window() -> None:
    usage = {day(n): 3 for n in range(10, 25, 2)}  # 24 devices from day 10 to day 24: within the first window
    assert violations(usage, LIMITS) == []
    found = new_violations(usage=usage, service_date=day(1), devices=3, limits=LIMITS)
    assert [(v.rule, v.start, v.devices) for v in found] == [("initial", day(1), 27)]


def test_devices_allowed_on_a_date() -> None:
    usage = {day(n): 3 for n in (1, 4, 7, 10, 13, 16, 19)}  # 21
    assert devices_allowed_on(usage=usage, service_date=day(22), limits=LIMITS) == 3
    usage[day(22)] = 2
    assert devices_allowed_on(usage=usage, service_date=day(23), limits=LIMITS) == 1
    assert devices_allowed_on(usage={day(1): 3}, service_date=day(1), limits=LIMITS) == 0


def test_limits_are_configurable() -> None:
    tight = DeviceLimits(per_day=2, initial_days=7, initial_devices=4, later_days=7, later_devices=4)
    found = new_violations(usage={day(1): 2, day(3): 2}, service_date=day(5), devices=2, limits=tight)
    assert [v.rule for v in found] == ["initial"]


@given(st.dictionaries(st.integers(1, 120), st.integers(1, 3), max_size=40), st.integers(1, 120), st.integers(1, 3))
def test_allowed_devices_never_produce_a_warning(used: dict[int, int], when: int, devices: int) -> None:
    usage = {day(n): c for n, c in used.items()}
    allowed = devices_allowed_on(usage=usage, service_date=day(when), limits=LIMITS)
    warned = new_violations(usage=usage, service_date=day(when), devices=devices, limits=LIMITS)
    if devices <= allowed:
        assert warned == []
    else:
        assert warned
