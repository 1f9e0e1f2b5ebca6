"""Eligibility: commercial only, no government program in any position, rebate state exclusions."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from desk.models import GOVERNMENT_PLAN_TYPES
from desk.savings.eligibility import CoverageFacts, assess_eligibility, patient_eligibility
from tests.factories import make_coverage, make_patient

ON = date(2026, 3, 1)


def test_commercial_only_is_eligible_with_reason() -> None:
    result = assess_eligibility(coverages=[CoverageFacts("commercial")], state="IL", on=ON)
    assert result.drug_eligible and result.rebate_eligible
    assert result.drug_reason.startswith("Eligible: commercial insurance only")
    assert "IL is not an excluded state" in result.rebate_reason


def test_medicare_primary_with_commercial_secondary_is_not_eligible() -> None:
    coverages = [CoverageFacts("medicare_part_d", "primary"), CoverageFacts("commercial", "secondary")]
    result = assess_eligibility(coverages=coverages, state="IL", on=ON)
    assert not result.drug_eligible and not result.rebate_eligible
    assert "Medicare Part D (primary) is a government program" in result.drug_reason
    assert "even though a commercial plan is also on file" in result.drug_reason
    assert result.rebate_reason.startswith("Not eligible for the observation rebate")


def test_commercial_primary_with_government_secondary_is_not_eligible() -> None:
    coverages = [CoverageFacts("commercial", "primary"), CoverageFacts("tricare", "secondary")]
    result = assess_eligibility(coverages=coverages, state="TX", on=ON)
    assert not result.drug_eligible
    assert "TRICARE (secondary)" in result.drug_reason


@pytest.mark.parametrize("plan_type", sorted(GOVERNMENT_PLAN_TYPES))
def test_every_government_plan_type_excludes(plan_type: str) -> None:
    result = assess_eligibility(coverages=[CoverageFacts(plan_type)], state="IL", on=ON)
    assert not result.drug_eligible
    assert "government program" in result.drug_reason


@pytest.mark.parametrize("state", ["MA", "MI", "MN", "RI", "ma"])
def test_excluded_states_lose_only_the_observation_rebate(state: str) -> None:
    result = assess_eligibility(coverages=[CoverageFacts("commercial")], state=state, on=ON)
    assert result.drug_eligible
    assert not result.rebate_eligible
    assert result.rebate_reason == (
        f"Not eligible for the observation rebate: residents of {state.upper()} are excluded."
    )


def test_missing_state_leaves_the_rebate_undecided() -> None:
    result = assess_eligibility(coverages=[CoverageFacts("commercial")], state="", on=ON)
    assert result.drug_eligible and not result.rebate_eligible
    assert result.rebate_reason.startswith("Undecided: the patient's state of residence is not recorded")
    assert "MA, MI, MN, RI" in result.rebate_reason


def test_no_coverage_is_not_eligible() -> None:
    result = assess_eligibility(coverages=[], state="IL", on=ON)
    assert not result.drug_eligible
    assert "no commercial insurance in force" in result.drug_reason


def test_ended_government_coverage_no_longer_excludes() -> None:
    coverages = [
        CoverageFacts("medicaid_ffs", end_date=date(2025, 12, 31)),
        CoverageFacts("commercial", start_date=date(2026, 1, 1)),
    ]
    assert assess_eligibility(coverages=coverages, state="IL", on=ON).drug_eligible
    assert not assess_eligibility(coverages=coverages, state="IL", on=date(2025, 6, 1)).drug_eligible


def test_future_commercial_coverage_does_not_count_yet() -> None:
    coverages = [CoverageFacts("commercial", start_date=date(2026, 4, 1))]
    assert not assess_eligibility(coverages=coverages, state="IL", on=ON).drug_eligible


def test_unknown_plan_type_is_not_guessed() -> None:
    result = assess_eligibility(coverages=[CoverageFacts("exchange")], state="IL", on=ON)
    assert not result.drug_eligible
    assert "'exchange' is not recognised" in result.drug_reason


def test_excluded_states_are_configurable() -> None:
    result = assess_eligibility(coverages=[CoverageFacts("commercial")], state="IL", on=ON,
                                rebate_excluded_states=["IL"])
    assert not result.rebate_eligible


def test_stored_patient_medicare_primary_commercial_secondary(session: Session) -> None:
    patient = make_patient(session, state="IL")
    make_coverage(session, patient=patient, plan_type="medicare_advantage", priority="primary")
    make_coverage(session, patient=patient, plan_type="commercial", priority="secondary")
    result = patient_eligibility(session, patient_id=patient.id or 0, on=ON)
    assert not result.drug_eligible
    assert "Medicare Advantage (primary)" in result.drug_reason


def test_stored_patient_in_rhode_island(session: Session) -> None:
    patient = make_patient(session, state="RI")
    make_coverage(session, patient=patient)
    result = patient_eligibility(session, patient_id=patient.id or 0, on=ON)
    assert result.drug_eligible and not result.rebate_eligible
