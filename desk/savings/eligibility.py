"""Who may use the manufacturer program, decided from coverages and state of residence, always with a reason.

Rules (domain notes §4, sources [24][25] there): commercial/private insurance only; anyone with Medicare,
Medicaid, TRICARE, DoD, VA or any other government program is excluded, even when a commercial plan is
secondary. The observation/administration rebate is not valid for residents of MA, MI, MN or RI.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlmodel import Session, select

from desk.errors import NotFound
from desk.models import GOVERNMENT_PLAN_TYPES, PLAN_TYPES, Coverage, Patient

DEFAULT_REBATE_EXCLUDED_STATES = frozenset({"MA", "MI", "MN", "RI"})

PLAN_TYPE_LABELS = {
    "commercial": "commercial",
    "medicare_part_b": "Original Medicare (Part B)",
    "medicare_advantage": "Medicare Advantage",
    "medicare_part_d": "Medicare Part D",
    "medicaid_ffs": "Medicaid",
    "medicaid_managed": "Medicaid managed care",
    "tricare": "TRICARE",
    "va": "VA",
    "other_government": "government program",
}


class CoverageLike(Protocol):
    """What eligibility reads from a coverage (a Coverage row fits)."""

    @property
    def plan_type(self) -> str: ...

    @property
    def priority(self) -> str: ...

    @property
    def start_date(self) -> date | None: ...

    @property
    def end_date(self) -> date | None: ...


@dataclass(frozen=True)
class CoverageFacts:
    """A coverage described by hand (tests, imports) instead of a stored row."""

    plan_type: str
    priority: str = "primary"
    start_date: date | None = None
    end_date: date | None = None


@dataclass(frozen=True)
class Eligibility:
    """The decision for the drug benefit and for the observation rebate, each with its reason."""

    drug_eligible: bool
    drug_reason: str
    rebate_eligible: bool
    rebate_reason: str


def _active_on(coverage: CoverageLike, on: date) -> bool:
    if coverage.start_date is not None and coverage.start_date > on:
        return False
    return coverage.end_date is None or coverage.end_date >= on


def assess_eligibility(
    *,
    coverages: Iterable[CoverageLike],
    state: str,
    on: date,
    rebate_excluded_states: Iterable[str] = DEFAULT_REBATE_EXCLUDED_STATES,
) -> Eligibility:
    """Decide eligibility on date `on` from the coverages in force that day and the state of residence."""
    active = [c for c in coverages if _active_on(c, on)]
    unknown = sorted({c.plan_type for c in active if c.plan_type not in PLAN_TYPES})
    government = [c for c in active if c.plan_type in GOVERNMENT_PLAN_TYPES]
    commercial = [c for c in active if c.plan_type == "commercial"]
    if unknown:
        reason = (
            f"Coverage plan type {unknown[0]!r} is not recognised; correct the coverage before deciding "
            "eligibility."
        )
        drug_ok = False
    elif government:
        first = government[0]
        label = PLAN_TYPE_LABELS.get(first.plan_type, first.plan_type)
        also = " even though a commercial plan is also on file" if commercial else ""
        reason = (
            f"Not eligible: {label} ({first.priority}) is a government program; the program excludes anyone "
            f"with government coverage in any position{also}."
        )
        drug_ok = False
    elif not commercial:
        reason = (
            "Not eligible: no commercial insurance in force on this date; the program requires commercial insurance."
        )
        drug_ok = False
    else:
        reason = "Eligible: commercial insurance only, no government program on file."
        drug_ok = True

    excluded = sorted({s.strip().upper() for s in rebate_excluded_states if s.strip()})
    resident = (state or "").strip().upper()
    if not drug_ok:
        rebate_ok, rebate_reason = False, "Not eligible for the observation rebate: " + reason.removeprefix(
            "Not eligible: "
        )
    elif not resident:
        rebate_ok = False
        rebate_reason = (
            "Undecided: the patient's state of residence is not recorded; the observation rebate excludes "
            f"residents of {', '.join(excluded)}."
        )
    elif resident in excluded:
        rebate_ok = False
        rebate_reason = f"Not eligible for the observation rebate: residents of {resident} are excluded."
    else:
        rebate_ok = True
        rebate_reason = f"Eligible for the observation rebate: {resident} is not an excluded state."
    return Eligibility(drug_ok, reason, rebate_ok, rebate_reason)


def patient_eligibility(
    session: Session,
    *,
    patient_id: int,
    on: date,
    rebate_excluded_states: Iterable[str] | None = None,
) -> Eligibility:
    """assess_eligibility() for a stored patient; excluded states come from that year's program terms."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("No such patient.")
    if rebate_excluded_states is None:
        from desk.savings.terms import terms_for_year

        rebate_excluded_states = terms_for_year(session, year=on.year).rebate_excluded_states
    coverages = session.exec(select(Coverage).where(Coverage.patient_id == patient_id)).all()
    return assess_eligibility(
        coverages=coverages, state=patient.state, on=on, rebate_excluded_states=rebate_excluded_states
    )
