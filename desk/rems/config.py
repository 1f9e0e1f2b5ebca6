"""REMS settings a clinic may change, read from the environment with label/REMS defaults.

Defaults and their sources (shared/domain/spravato.md): PMF within 7 days, counted in calendar days
(commonly; [7] — unconfirmed, hence a setting); >= 2 h observation [13]; 5 minutes between devices [10][11];
blood pressure about 40 minutes after dosing and a caution above about 140/90 mmHg [11][12].

The REMS and label limits are floors (desk/reference/spravato.yaml): a clinic may tighten them, never loosen
them. A looser value stops the app and every command at start with a message naming the variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from desk.errors import DeskError
from desk.reference.spravato import spravato
from desk.settings import load_settings

# Label fact, not a setting: each device delivers 28 mg (2 sprays). [10]
MG_PER_DEVICE = spravato().device.mg


class RemsSettingRefused(DeskError):
    """A REMS setting looser than the REMS or the label allows."""


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RemsSettingRefused(f"setting {name} must be a whole number, got {raw!r}") from exc


@dataclass(frozen=True)
class RemsSettings:
    """Clinic-configurable REMS parameters (environment variables DESK_REMS_*; the clinic's DESK_TIMEZONE)."""

    timezone: str = "America/New_York"
    pmf_due_days: int = 7
    due_soon_days: int = 2
    min_monitoring_minutes: int = 120
    device_spacing_minutes: int = 5
    post_dose_reading_minutes: int = 40
    bp_systolic_limit: int = 140
    bp_diastolic_limit: int = 90

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _floor(name: str, value: int, *, at_least: int | None = None, at_most: int | None = None, unit: str,
           why: str) -> int:
    if (at_least is not None and value < at_least) or (at_most is not None and value > at_most):
        limit = f"at least {at_least}" if at_least is not None else f"at most {at_most}"
        raise RemsSettingRefused(f"setting {name}={value} is looser than the SPRAVATO {why}: it must be {limit} "
                                 f"{unit}. Remove the variable or set a stricter value.")
    if value < 1:
        raise RemsSettingRefused(f"setting {name} must be a positive whole number of {unit}, got {value}")
    return value


def load_rems_settings() -> RemsSettings:
    """Read the REMS settings from the process environment; a value looser than the REMS or label is refused."""
    facts = spravato()
    return RemsSettings(
        timezone=load_settings().timezone,
        pmf_due_days=_floor("DESK_REMS_PMF_DUE_DAYS", _int("DESK_REMS_PMF_DUE_DAYS", facts.rems.form_due_days_max),
                            at_most=facts.rems.form_due_days_max, unit="days", why="REMS monitoring-form deadline"),
        due_soon_days=_int("DESK_REMS_DUE_SOON_DAYS", 2),
        min_monitoring_minutes=_floor(
            "DESK_REMS_MIN_MONITORING_MINUTES",
            _int("DESK_REMS_MIN_MONITORING_MINUTES", facts.rems.monitoring_minutes_min),
            at_least=facts.rems.monitoring_minutes_min, unit="minutes", why="REMS minimum monitoring time"),
        device_spacing_minutes=_floor(
            "DESK_REMS_DEVICE_SPACING_MINUTES",
            _int("DESK_REMS_DEVICE_SPACING_MINUTES", facts.device.minutes_between_devices),
            at_least=facts.device.minutes_between_devices, unit="minutes", why="label's time between devices"),
        post_dose_reading_minutes=_int("DESK_REMS_POST_DOSE_READING_MINUTES", 40),
        bp_systolic_limit=_int("DESK_REMS_BP_SYSTOLIC_LIMIT", 140),
        bp_diastolic_limit=_int("DESK_REMS_BP_DIASTOLIC_LIMIT", 90),
    )
