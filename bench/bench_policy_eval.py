"""policy_eval: every shipped payer policy x 1,000 synthetic cases; evaluations per second (target >= 2,000/s)."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from datetime import date, timedelta

from bench.common import Result
from desk.policies.case import CaseFacts
from desk.policies.drugs import default_drugs
from desk.policies.evaluator import evaluate
from desk.policies.loader import load_catalog
from desk.settings import PROJECT_ROOT

AS_OF = date(2026, 11, 26)
DRUGS = ["sertraline", "fluoxetine", "escitalopram", "venlafaxine", "duloxetine", "bupropion", "mirtazapine",
         "nortriptyline", "amitriptyline", "phenelzine", "vortioxetine", "trazodone"]
AUGMENTERS = ["aripiprazole", "lithium", "quetiapine", "liothyronine"]


def synthetic_case(rng: random.Random) -> CaseFacts:
    """A random but plausible record: 0-6 trials, scores, screening and REMS status, some facts left unknown."""
    def day(lo: int, hi: int) -> date:
        return AS_OF - timedelta(days=rng.randint(lo, hi))

    trials = []
    for _ in range(rng.randint(0, 6)):
        start = day(60, 2000)
        trials.append({
            "drug": rng.choice(DRUGS), "daily_dose_mg": rng.choice([10, 20, 50, 75, 150, 200, 300, 450]),
            "start_date": start, "end_date": min(start + timedelta(weeks=rng.randint(2, 14)), AS_OF),
            "adherence_pct": rng.choice([None, 60, 85, 95]),
            "outcome": rng.choice(["non_response", "partial_response", "intolerance", "response"]),
            "improvement_pct": rng.choice([None, 5, 20, 40]), "current_episode": rng.choice([True, True, False, None]),
            "at_max_tolerated_dose": rng.choice([True, False, None]),
        })
    if rng.random() < 0.5:
        trials.append({"drug": rng.choice(AUGMENTERS), "role": "augmentation", "daily_dose_mg": 5,
                       "start_date": day(100, 400), "end_date": day(0, 60), "outcome": "non_response",
                       "current_episode": True})
    requested = rng.choice([None, {"first_dose_mg": 56, "dose_mg": 84, "sessions_per_week": 2, "weeks": 4},
                            {"dose_mg": 84, "sessions_per_week": 1, "weeks": 8}])
    return CaseFacts.model_validate({
        "requested": requested,
        "birth_date": date(rng.randint(1940, 2010), rng.randint(1, 12), rng.randint(1, 28)),
        "diagnoses": [{"icd10": rng.choice(["F33.2", "F32.2", "F33.1", "F32.A"]), "episode_start": day(200, 1500),
                       "episode_type": rng.choice(["single", "recurrent"]),
                       "method": rng.choice(["structured_interview", "clinical_interview", None]),
                       "dsm_edition": "DSM-5-TR", "suicidal_ideation": rng.random() < 0.3}],
        "trials": trials,
        "psychotherapy": [{"modality": "CBT", "start_date": day(100, 900), "current_episode": True}]
        if rng.random() < 0.5 else [],
        "scores": [{"instrument": rng.choice(["MADRS", "PHQ-9"]), "score": rng.randint(5, 27),
                    "measured_on": day(0, 200)} for _ in range(rng.randint(0, 3))],
        "current_medications": [{"drug": rng.choice(DRUGS), "started_on": day(0, 300)}] if rng.random() < 0.7 else [],
        "screening": {"psychosis_history": rng.choice([False, True, None]), "substance_use": rng.choice(
            ["none", "in_remission", "current", None]), "aneurysmal_vascular_disease": False,
            "intracerebral_hemorrhage_history": False, "esketamine_hypersensitivity": rng.choice([False, None]),
            "concurrent_therapies": [], "pdmp_checked_on": day(0, 120) if rng.random() < 0.7 else None},
        "prescriber": {"specialty": rng.choice(["psychiatrist", "psychiatric_np", "other"])},
        "setting": {"rems_certified_on": date(2024, 1, 15)},
        "rems": rng.choice([
            {},
            {"enrolled_on": day(0, 60), "enrollment_confirmation": "ENR-1", "monitoring_minimum_minutes": 120,
             "monitored_sessions": 0},
            {"enrollment_pending": ["the submission date"], "monitoring_minimum_minutes": 120, "monitored_sessions": 0},
            {"enrolled_on": day(60, 200), "monitoring_minimum_minutes": 120, "monitored_sessions": 6,
             "shortest_monitoring_minutes": rng.choice([112, 121, 140]), "sessions_at_uncertified_setting": 0},
        ]),
    })


def run(quick: bool) -> Iterable[Result]:
    drugs = default_drugs()
    catalog = load_catalog([PROJECT_ROOT / "payers"], drugs=drugs)
    # The version of each payer file in force on the evaluation date.
    policies = sorted(catalog.all_in_force(AS_OF), key=lambda p: p.id)
    rng = random.Random(20261126)
    cases = [synthetic_case(rng) for _ in range(200 if quick else 1000)]
    # Each payer's first variant (TRD initial wherever it exists), every case. A file with no criteria at all
    # (a payer that does not cover SPRAVATO) is still evaluated for TRD initial: its answer is "not covered".
    jobs = [(p, *next(((v.indication, v.phase) for v in [p.variant("trd", "initial"), *p.variants] if v),
                      ("trd", "initial"))) for p in policies]
    evaluate(cases[0], jobs[0][0], indication="trd", phase="initial", as_of=AS_OF, drugs=drugs)  # warm caches
    start = time.perf_counter()
    count = 0
    for policy, indication, phase in jobs:
        for case in cases:
            evaluate(case, policy, indication=indication, phase=phase, as_of=AS_OF, drugs=drugs)
            count += 1
    elapsed = time.perf_counter() - start
    yield Result("policy_eval", f"evaluations_per_second ({len(policies)} payers x {len(cases)} cases)",
                 count / elapsed, "eval/s", baseline=2000.0)
    yield Result("policy_eval", "mean_evaluation_time", elapsed / count * 1000, "ms")
