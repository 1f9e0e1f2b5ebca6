"""Property tests: the evaluator never crashes on valid cases; a qualifying trial never un-meets a trial rule."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desk.policies.case import CaseFacts, CoverageFact, TrialFact
from desk.policies.drugs import ReferenceDrugs, default_drugs
from desk.policies.evaluator import evaluate
from desk.policies.loader import load_catalog
from desk.policies.schema import TrialsRule, walk
from tests.desk.policies.conftest import PAYERS

DRUGS = default_drugs()
CATALOG = load_catalog([PAYERS], drugs=DRUGS)
VARIANTS = [(p, v) for p in CATALOG.policies.values() for v in p.variants]
TRIAL_RULES = [(p, v, r) for p, v in VARIANTS if v.criteria for r in walk(v.criteria) if isinstance(r, TrialsRule)]
NAMES = ["sertraline", "fluoxetine", "venlafaxine", "duloxetine", "bupropion", "mirtazapine", "nortriptyline",
         "phenelzine", "aripiprazole", "lithium", "Zoloft", "not-a-drug"]
AS_OF = date(2026, 11, 26)
dates = st.dates(min_value=date(2015, 1, 1), max_value=AS_OF)
maybe = st.none() | st.booleans()


@st.composite
def trials(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(st.none() | dates)
    end = None if start is None else draw(st.none() | st.dates(min_value=start, max_value=AS_OF))
    return {
        "drug": draw(st.sampled_from(NAMES)), "role": draw(st.sampled_from(["antidepressant", "augmentation"])),
        "daily_dose_mg": draw(st.none() | st.floats(0, 1000)), "start_date": start, "end_date": end,
        "adherence_pct": draw(st.none() | st.floats(0, 100)),
        "outcome": draw(st.none() | st.sampled_from(["non_response", "partial_response", "intolerance",
                                                     "contraindicated", "response"])),
        "improvement_pct": draw(st.none() | st.floats(-100, 100)), "current_episode": draw(maybe),
        "at_max_tolerated_dose": draw(maybe),
    }


@st.composite
def cases(draw: st.DrawFn) -> CaseFacts:
    scores = draw(st.lists(st.builds(
        lambda i, s, d: {"instrument": i, "score": min(s, {"PHQ-9": 27, "QIDS-SR16": 27}.get(i, 52)), "measured_on": d},
        st.sampled_from(["PHQ-9", "MADRS", "HAM-D17", "QIDS-SR16", "BDI-II"]), st.integers(0, 52), dates,
    ), max_size=4))
    return CaseFacts.model_validate({
        "birth_date": draw(st.none() | st.dates(min_value=date(1930, 1, 1), max_value=AS_OF)),
        "diagnoses": draw(st.lists(st.builds(
            lambda code, m, t, si, start: {"icd10": code, "method": m, "episode_type": t, "suicidal_ideation": si,
                                          "episode_start": start},
            st.sampled_from(["F33.2", "F32.1", "F32.A", "F41.1"]),
            st.none() | st.sampled_from(["structured_interview", "clinical_interview"]),
            st.none() | st.sampled_from(["single", "recurrent"]), maybe, st.none() | dates), max_size=2)),
        "trials": draw(st.lists(trials(), max_size=6)),
        "psychotherapy": draw(st.lists(st.builds(
            lambda m, d, c: {"modality": m, "start_date": d, "current_episode": c},
            st.sampled_from(["CBT", "IPT", "other"]), st.none() | dates, maybe), max_size=2)),
        "scores": scores,
        "current_medications": draw(st.lists(st.builds(
            lambda n, d: {"drug": n, "started_on": d}, st.sampled_from(NAMES), st.none() | dates), max_size=2)),
        "inpatient_stays": draw(st.lists(st.builds(
            lambda a, e: {"admitted_on": a, "esketamine_started": e}, dates, maybe), max_size=1)),
        "screening": {
            "psychosis_history": draw(maybe), "aneurysmal_vascular_disease": draw(maybe),
            "substance_use": draw(st.none() | st.sampled_from(["none", "in_remission", "current"])),
            "substance_remission_since": draw(st.none() | dates),
            "concurrent_therapies": draw(st.none() | st.lists(st.sampled_from(["ECT", "TMS", "ketamine"]),
                                                               max_size=2)),
            "pdmp_checked_on": draw(st.none() | dates), "prior_esketamine": draw(maybe),
            "esketamine_started_on": draw(st.none() | dates),
        },
        "prescriber": {"specialty": draw(st.none() | st.sampled_from(["psychiatrist", "psychiatric_np", "other"])),
                       "psychiatric_consultation": draw(maybe)},
        "setting": {"rems_certified_on": draw(st.none() | dates)},
        "previous_approvals": draw(st.none() | st.lists(st.sampled_from(sorted(CATALOG.policies)), max_size=3)),
        "attestations": draw(st.lists(st.sampled_from(["trd-psychosis-benefit", "mdsi-trials", "trd-monitoring"]),
                                      max_size=2)),
    })


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(), index=st.integers(0, len(VARIANTS) - 1), as_of=st.dates(AS_OF - timedelta(days=400), AS_OF))
def test_evaluator_never_crashes(case: CaseFacts, index: int, as_of: date) -> None:
    policy, variant = VARIANTS[index]
    result = evaluate(case, policy, indication=variant.indication, phase=variant.phase, as_of=as_of, drugs=DRUGS)
    assert result.decision in ("meets", "does_not_meet", "needs_info", "needs_attestation", "not_covered")
    assert all(c.status in ("met", "not_met", "unknown", "attest") for c in result.criteria)
    assert all(isinstance(line, str) and line for c in result.criteria for line in c.evidence)
    assert result.to_json()


def _qualifying_trial(rule: TrialsRule, drugs: ReferenceDrugs, used: set[str]) -> TrialFact:
    """A trial that fits the rule's first definition on every count, of a class not used yet when possible."""
    definition = rule.definitions[0]
    candidates = [n for n in ["sertraline", "venlafaxine", "bupropion", "nortriptyline", "mirtazapine", "phenelzine",
                              "aripiprazole", "lithium", "fluoxetine", "duloxetine"]]
    pick = None
    for name in candidates:
        info = drugs.info(name)
        assert info is not None
        fits_role = (info.drug_class in rule.allowed_classes) if rule.allowed_classes else (
            info.is_augmentation if rule.role == "augmentation" else info.is_antidepressant)
        if fits_role and (pick is None or info.drug_class not in used):
            pick = info
            if info.drug_class not in used:
                break
    assert pick is not None
    weeks = (definition.min_weeks or 6) + 1
    return TrialFact(
        drug=pick.name, role="antidepressant" if rule.role == "either" else rule.role, daily_dose_mg=pick.max_daily_mg,
        start_date=AS_OF - timedelta(weeks=weeks + 1),
        end_date=AS_OF - timedelta(days=3), adherence_pct=100, outcome=definition.outcomes[0], improvement_pct=0,
        current_episode=True, at_max_tolerated_dose=True,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(), index=st.integers(0, len(TRIAL_RULES) - 1))
def test_adding_a_qualifying_trial_never_unmeets(case: CaseFacts, index: int) -> None:
    policy, variant, rule = TRIAL_RULES[index]
    if variant.benefit:  # a benefit-specific variant is chosen by the coverage's benefit
        case = case.model_copy(update={"coverage": CoverageFact(payer_id=policy.id, benefit=variant.benefit)})
    before = evaluate(case, policy, indication=variant.indication, phase=variant.phase, as_of=AS_OF, drugs=DRUGS)
    used = {info.drug_class for t in case.trials if (info := DRUGS.info(t.drug)) is not None}
    extra = _qualifying_trial(rule, DRUGS, used)
    grown = case.model_copy(update={"trials": [*case.trials, extra]})
    after = evaluate(grown, policy, indication=variant.indication, phase=variant.phase, as_of=AS_OF, drugs=DRUGS)
    rank = {"not_met": 0, "unknown": 1, "attest": 2, "met": 3}
    old, new = before.criterion(rule.id).status, after.criterion(rule.id).status
    assert rank[new] >= rank[old], (rule.id, old, new)
    if old == "met":
        assert new == "met"
