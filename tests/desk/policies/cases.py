"""Synthetic case facts and helpers shared by the policy tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from desk.policies.case import CaseFacts
from desk.policies.drugs import DrugLookup
from desk.policies.evaluator import Evaluation, evaluate
from desk.policies.schema import AttestationRule, Policy, walk

AS_OF = date(2026, 11, 26)


def trial(drug: str, start: str, end: str | None, dose: float, **extra: Any) -> dict[str, Any]:
    """A non-responding, adherent, current-episode trial at the maximum tolerated dose."""
    values: dict[str, Any] = {
        "drug": drug, "daily_dose_mg": dose, "start_date": start, "end_date": end, "adherence_pct": 95,
        "outcome": "non_response", "improvement_pct": 10, "current_episode": True, "at_max_tolerated_dose": True,
    }
    values.update(extra)
    return values


def strong_case(**overrides: Any) -> dict[str, Any]:
    """A synthetic adult with severe recurrent MDD and four failed trials: meets every initial policy on file."""
    case: dict[str, Any] = {
        "birth_date": "1980-05-17",
        "diagnoses": [{
            "icd10": "F33.2", "episode_start": "2025-06-01", "episode_type": "recurrent",
            "psychotic_features": False, "method": "structured_interview", "dsm_edition": "DSM-5-TR",
            "diagnosed_on": "2025-06-10", "suicidal_ideation": True, "current": True,
        }],
        "trials": [
            trial("sertraline", "2025-07-01", "2025-09-05", 200),
            trial("venlafaxine", "2025-09-10", "2025-11-15", 225),
            trial("bupropion", "2025-11-20", "2026-01-30", 450, outcome="partial_response", improvement_pct=20),
            trial("nortriptyline", "2026-02-05", "2026-04-15", 150),
            trial("aripiprazole", "2026-04-20", "2026-07-01", 10, role="augmentation"),
            trial("lithium", "2026-07-05", "2026-09-01", 900, role="augmentation"),
        ],
        "psychotherapy": [{"modality": "CBT", "start_date": "2025-07-01", "end_date": "2025-12-01",
                           "current_episode": True}],
        "scores": [
            {"instrument": "MADRS", "score": 36, "measured_on": "2026-11-10"},
            {"instrument": "PHQ-9", "score": 22, "measured_on": "2026-11-10"},
        ],
        "current_medications": [{"drug": "mirtazapine", "daily_dose_mg": 30, "started_on": "2026-11-12"}],
        "inpatient_stays": [],
        "screening": {
            "aneurysmal_vascular_disease": False, "intracerebral_hemorrhage_history": False,
            "esketamine_hypersensitivity": False, "psychosis_history": False, "substance_use": "none",
            "concurrent_therapies": [], "prior_esketamine": False, "pdmp_checked_on": "2026-11-20",
        },
        "prescriber": {"specialty": "psychiatrist"},
        "setting": {"rems_certified_on": "2024-01-15", "rems_setting_id": "RS000417"},
        "rems": {"enrolled_on": "2026-11-18", "enrollment_confirmation": "ENR-0042",
                 "monitoring_minimum_minutes": 120, "monitored_sessions": 0},
        "previous_approvals": [],
        # The label's TRD induction: 56 mg on day 1, then 84 mg twice a week for 4 weeks (23 devices).
        "requested": {"first_dose_mg": 56, "dose_mg": 84, "sessions_per_week": 2, "weeks": 4},
    }
    case.update(overrides)
    return case


def continuation_case(**overrides: Any) -> dict[str, Any]:
    """The strong case after induction: MADRS fell from 36 to 14 and every payer approved before."""
    case = strong_case(**overrides)
    case.setdefault("screening", {})
    case["screening"] = {**case["screening"], "esketamine_started_on": "2026-08-05", "prior_esketamine": True,
                         "prior_esketamine_improvement_pct": 60}
    case["scores"] = [
        {"instrument": "MADRS", "score": 36, "measured_on": "2026-08-01"},
        {"instrument": "MADRS", "score": 14, "measured_on": "2026-11-10"},
    ]
    if "requested" not in overrides:
        case["requested"] = {"dose_mg": 84, "sessions_per_week": 1, "weeks": 4}
    if "previous_approvals" not in overrides:
        case["previous_approvals"] = ["bcbsnd", "carefirst", "cigna", "uhc", "bcbsok", "medical-mutual",
                                      "generic-commercial"]
    return case


def attestation_ids(policy: Policy, indication: str, phase: str, benefit: str | None = None) -> list[str]:
    """Every attestation criterion of one variant (what a prescriber would sign)."""
    variant = policy.variant(indication, phase, benefit)
    assert variant is not None and variant.criteria is not None
    return [r.id for r in walk(variant.criteria) if isinstance(r, AttestationRule)]


def run(policy: Policy, case: dict[str, Any], indication: str, phase: str, drugs: DrugLookup,
        as_of: date = AS_OF) -> Evaluation:
    """Validate `case` and evaluate it."""
    return evaluate(CaseFacts.model_validate(case), policy, indication=indication, phase=phase, as_of=as_of,
                    drugs=drugs)


def statuses(result: Evaluation) -> dict[str, str]:
    """Criterion id -> status, for criterion-by-criterion assertions."""
    return {c.id: c.status for c in result.criteria}
