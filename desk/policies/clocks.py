"""Payer decision clocks: the file format's clock type and the documented defaults by plan type.

This module is the only place the default clocks are written; desk.prior_auth.clocks computes due times
from these types.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ClockUnit = Literal["hours", "calendar_days", "business_days"]
CLOCK_UNITS: tuple[ClockUnit, ...] = ("hours", "calendar_days", "business_days")
Urgency = Literal["standard", "expedited"]
URGENCIES: tuple[Urgency, ...] = ("standard", "expedited")
NO_CLOCK = "no decision clock known — set one in the payer file"
_UNIT_WORDS = {"hours": ("hour", "hours"), "calendar_days": ("calendar day", "calendar days"),
               "business_days": ("business day", "business days")}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClockPeriod(_Strict):
    """How long the payer has to decide one request: an amount of hours, calendar days or business days."""

    amount: int = Field(strict=True, description="a whole number above 0")
    unit: ClockUnit

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError(f"must be a whole number above 0, got {value}")
        return value

    def describe(self) -> str:
        one, many = _UNIT_WORDS[self.unit]
        return f"{self.amount} {one if self.amount == 1 else many}"


class DecisionClock(_Strict):
    """The standard and expedited clocks of one plan type, and where they come from."""

    standard: ClockPeriod
    expedited: ClockPeriod
    source: str = Field(min_length=3, description="the regulation or payer document that sets the clock")

    def period(self, urgency: str) -> ClockPeriod:
        """The clock for `urgency` (standard or expedited)."""
        if urgency not in URGENCIES:
            raise ValueError(f"urgency must be one of {', '.join(URGENCIES)}, got {urgency!r}")
        return self.expedited if urgency == "expedited" else self.standard

    def describe(self) -> str:
        return f"{self.standard.describe()} standard, {self.expedited.describe()} expedited"


def _clock(standard: tuple[int, ClockUnit], expedited: tuple[int, ClockUnit], source: str) -> DecisionClock:
    return DecisionClock(standard=ClockPeriod(amount=standard[0], unit=standard[1]),
                         expedited=ClockPeriod(amount=expedited[0], unit=expedited[1]), source=source)


# Legal decision clocks by plan type (shared/domain/spravato.md §5). Medicare Advantage, TRICARE, VA and
# other government plans have no default there (CMS-0057-F's 72 h / 7 days excludes drugs), so they have
# no clock until a payer file sets one.
_MEDICAID = "Medicaid outpatient drugs, Social Security Act §1927(d)(5) (spravato.md §5)"
DEFAULT_DECISION_CLOCKS: Mapping[str, DecisionClock] = {
    # ERISA: the pre-service clock (15 days) is the standard one, the urgent-care clock (72 h) the expedited one.
    "commercial": _clock((15, "calendar_days"), (72, "hours"),
                         "employer (ERISA) plans, 29 CFR 2560.503-1(f)(2) (spravato.md §5)"),
    "medicare_part_d": _clock((72, "hours"), (24, "hours"),
                              "Medicare Part D, 42 CFR 423.568 and 423.572 (spravato.md §5)"),
    # A response within 24 hours; there is no separate expedited clock.
    "medicaid_ffs": _clock((24, "hours"), (24, "hours"), _MEDICAID),
    "medicaid_managed": _clock((24, "hours"), (24, "hours"), _MEDICAID),
}


def resolve_clock(payer_clocks: Mapping[str, DecisionClock], plan_type: str) -> DecisionClock | None:
    """The payer file's clock for the plan type, else the documented default, else None (no clock known)."""
    return payer_clocks.get(plan_type) or DEFAULT_DECISION_CLOCKS.get(plan_type)
