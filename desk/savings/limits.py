"""Device limits of the program year, as pure functions over the devices already claimed per date.

Reading of the terms (configurable in ProgramTerms): at most `per_day` devices on one date; at most
`initial_devices` in the first `initial_days` days counted from the year's first claimed treatment; after
that, at most `later_devices` in any `later_days`-day window that lies wholly after the first window.
Totals reset each calendar year (domain notes §4 [26]), so callers pass one year's usage.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class DeviceLimits:
    """The device limits of one program year."""

    per_day: int
    initial_days: int
    initial_devices: int
    later_days: int
    later_devices: int


@dataclass(frozen=True)
class Violation:
    """Devices over a limit in one window [start, end]."""

    rule: str
    start: date
    end: date
    devices: int
    limit: int

    @property
    def key(self) -> tuple[str, date]:
        return (self.rule, self.start)

    def message(self, limits: DeviceLimits) -> str:
        if self.rule == "day":
            return (
                f"{self.devices} devices on {self.start:%m/%d/%Y} exceed the program's limit of "
                f"{self.limit} per day."
            )
        if self.rule == "initial":
            return (
                f"{self.devices} devices from {self.start:%m/%d/%Y} to {self.end:%m/%d/%Y} exceed the "
                f"limit of {self.limit} in the first {limits.initial_days} days of the program year."
            )
        return (
            f"{self.devices} devices from {self.start:%m/%d/%Y} to {self.end:%m/%d/%Y} exceed the limit "
            f"of {self.limit} in any {limits.later_days}-day window after the first {limits.initial_days} days."
        )


def _merged(usage: Mapping[date, int], extra: Mapping[date, int]) -> dict[date, int]:
    combined = {d: n for d, n in usage.items() if n > 0}
    for d, n in extra.items():
        combined[d] = combined.get(d, 0) + n
    return {d: n for d, n in combined.items() if n > 0}


def violations(usage: Mapping[date, int], limits: DeviceLimits) -> list[Violation]:
    """Every limit the given usage breaks."""
    found: list[Violation] = []
    if not usage:
        return found
    days = sorted(usage)
    counts = [usage[d] for d in days]
    prefix = [0]
    for n in counts:
        prefix.append(prefix[-1] + n)

    def total(start: date, end: date) -> int:
        return prefix[bisect_right(days, end)] - prefix[bisect_left(days, start)]

    for d, n in zip(days, counts, strict=True):
        if n > limits.per_day:
            found.append(Violation("day", d, d, n, limits.per_day))
    anchor = days[0]
    initial_end = anchor + timedelta(days=limits.initial_days - 1)
    initial_total = total(anchor, initial_end)
    if initial_total > limits.initial_devices:
        found.append(Violation("initial", anchor, initial_end, initial_total, limits.initial_devices))
    # The heaviest window starting on or after a date starts on a treatment date, so only those are tried.
    for start in days:
        if start <= initial_end:
            continue
        end = start + timedelta(days=limits.later_days - 1)
        window_total = total(start, end)
        if window_total > limits.later_devices:
            found.append(Violation("later", start, end, window_total, limits.later_devices))
    return found


def new_violations(
    *, usage: Mapping[date, int], service_date: date, devices: int, limits: DeviceLimits
) -> list[Violation]:
    """The limits that adding `devices` on `service_date` would break or make worse."""
    before = {v.key: v for v in violations(usage, limits)}
    after = violations(_merged(usage, {service_date: devices}), limits)
    result = []
    for v in after:
        touches = v.start <= service_date <= v.end
        if v.key not in before or (touches and devices > 0):
            result.append(v)
    return result


def devices_allowed_on(*, usage: Mapping[date, int], service_date: date, limits: DeviceLimits) -> int:
    """How many devices can still be claimed on `service_date` without breaking a limit (0 when none)."""
    allowed = 0
    for n in range(1, limits.per_day + 1):
        if new_violations(usage=usage, service_date=service_date, devices=n, limits=limits):
            break
        allowed = n
    return allowed
