"""REMS settings a clinic may change, read from the environment with label/REMS defaults.

Defaults and their sources (shared/domain/spravato.md): PMF within 7 days, counted in calendar days
(commonly; [7] — unconfirmed, hence a setting); >= 2 h observation [13]; 5 minutes between devices [10][11];
blood pressure about 40 minutes after dosing and a caution above about 140/90 mmHg [11][12].
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from desk.settings import load_settings

# Label fact, not a setting: each device delivers 28 mg (2 sprays). [10]
MG_PER_DEVICE = 28


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"setting {name} must be a whole number, got {raw!r}") from exc


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


def load_rems_settings() -> RemsSettings:
    """Read the REMS settings from the process environment."""
    return RemsSettings(
        timezone=load_settings().timezone,
        pmf_due_days=_int("DESK_REMS_PMF_DUE_DAYS", 7),
        due_soon_days=_int("DESK_REMS_DUE_SOON_DAYS", 2),
        min_monitoring_minutes=_int("DESK_REMS_MIN_MONITORING_MINUTES", 120),
        device_spacing_minutes=_int("DESK_REMS_DEVICE_SPACING_MINUTES", 5),
        post_dose_reading_minutes=_int("DESK_REMS_POST_DOSE_READING_MINUTES", 40),
        bp_systolic_limit=_int("DESK_REMS_BP_SYSTOLIC_LIMIT", 140),
        bp_diastolic_limit=_int("DESK_REMS_BP_DIASTOLIC_LIMIT", 90),
    )
