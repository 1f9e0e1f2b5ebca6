"""Each rule kind on its own: met, not met, unknown and attest, with the evidence staff will read."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from desk.policies.case import CaseFacts
from desk.policies.drugs import DrugInfo, ReferenceDrugs, TableDrugs
from desk.policies.evaluator import Evaluation, evaluate
from desk.policies.schema import Policy
from tests.desk.policies.cases import AS_OF, strong_case, trial


def policy_with(*rules: dict[str, Any], group: str = "all", n: int | None = None) -> Policy:
    """A one-variant policy whose criteria are `rules` under one group."""
    root: dict[str, Any] = {"kind": group, "id": "root", "text": "Group", "rules": [
        {"source": "s: x", "text": f"rule {i}", **r} for i, r in enumerate(rules)
    ]}
    if n is not None:
        root["n"] = n
    return Policy.model_validate({
        "id": "t", "payer": "Test", "plan_types": ["commercial"], "benefit": "medical", "title": "Test",
        "reviewed_on": "2026-11-26", "completeness": {"status": "complete"},
        "sources": {"s": {"title": "Test source", "kind": "primary"}},
        "variants": [{"indication": "trd", "phase": "initial", "criteria": root}],
    })


def check(rule: dict[str, Any], case: dict[str, Any], drugs: Any, as_of: date = AS_OF) -> Evaluation:
    return evaluate(CaseFacts.model_validate(case), policy_with({"id": "r", **rule}), indication="trd",
                    phase="initial", as_of=as_of, drugs=drugs)


def status(rule: dict[str, Any], case: dict[str, Any], drugs: Any, as_of: date = AS_OF) -> str:
    return check(rule, case, drugs, as_of).criterion("r").status


# ---------------------------------------------------------------- groups


@pytest.mark.parametrize("group,n,statuses,expected", [
    ("all", None, ["met", "met"], "met"),
    ("all", None, ["met", "not_met"], "not_met"),
    ("all", None, ["met", "unknown", "attest"], "unknown"),
    ("all", None, ["met", "attest"], "attest"),
    ("any", None, ["not_met", "met"], "met"),
    ("any", None, ["not_met", "unknown", "attest"], "attest"),
    ("any", None, ["not_met", "unknown"], "unknown"),
    ("any", None, ["not_met", "not_met"], "not_met"),
    ("at_least", 2, ["met", "not_met", "met"], "met"),
    ("at_least", 2, ["met", "attest", "not_met"], "attest"),
    ("at_least", 2, ["met", "unknown", "not_met"], "unknown"),
    ("at_least", 2, ["met", "not_met", "not_met"], "not_met"),
])
def test_groups(group: str, n: int | None, statuses: list[str], expected: str, drugs: ReferenceDrugs) -> None:
    # age 46 -> met; age >= 90 -> not_met; PDMP unrecorded -> unknown; attestation -> attest
    leaf = {"met": {"kind": "age", "min_years": 18}, "not_met": {"kind": "age", "min_years": 90},
            "unknown": {"kind": "pdmp_checked"}, "attest": {"kind": "attestation"}}
    rules = [{"id": f"l{i}", **leaf[s]} for i, s in enumerate(statuses)]
    case = strong_case()
    case["screening"] = {**case["screening"], "pdmp_checked_on": None}
    result = evaluate(CaseFacts.model_validate(case), policy_with(*rules, group=group, n=n), indication="trd",
                      phase="initial", as_of=AS_OF, drugs=drugs)
    assert [result.criterion(f"l{i}").status for i in range(len(statuses))] == statuses
    assert result.criterion("root").status == expected
    decision = {"met": "meets", "not_met": "does_not_meet", "unknown": "needs_info", "attest": "needs_attestation"}
    assert result.decision == decision[expected]


def test_nested_groups_and_attested_ids(drugs: ReferenceDrugs) -> None:
    policy = policy_with(
        {"kind": "any", "id": "branch", "rules": [
            {"kind": "age", "id": "old", "text": "90+", "min_years": 90, "source": "s: 1"},
            {"kind": "attestation", "id": "signed", "text": "Signed", "source": "s: 1"},
        ]},
        {"kind": "prescriber", "id": "doc", "specialties": ["psychiatrist"], "consultation_counts": True},
    )
    case = strong_case(prescriber={"specialty": "other"}, attestations=["signed"])
    result = evaluate(CaseFacts.model_validate(case), policy, indication="trd", phase="initial", as_of=AS_OF,
                      drugs=drugs)
    assert result.criterion("signed").status == "met"
    assert result.criterion("branch").status == "met"
    assert result.criterion("doc").status == "attest"
    assert result.missing == ["attestation: rule 1"]
    case["attestations"] = ["signed", "doc"]
    assert evaluate(CaseFacts.model_validate(case), policy, indication="trd", phase="initial", as_of=AS_OF,
                    drugs=drugs).decision == "meets"


# ---------------------------------------------------------------- leaves


@pytest.mark.parametrize("rule,birth,expected", [
    ({"min_years": 18}, "2008-11-26", "met"),  # 18th birthday today, inclusive
    ({"min_years": 18, "min_inclusive": False}, "2008-11-26", "not_met"),
    ({"min_years": 18}, "2008-11-27", "not_met"),
    ({"max_years": 64}, "1962-11-27", "met"),
    ({"max_years": 64, "max_inclusive": False}, "1962-11-26", "not_met"),
    ({"min_years": 18}, None, "unknown"),
])
def test_age(rule: dict[str, Any], birth: str | None, expected: str, drugs: ReferenceDrugs) -> None:
    assert status({"kind": "age", **rule}, strong_case(birth_date=birth), drugs) == expected


def test_age_from_age_years(drugs: ReferenceDrugs) -> None:
    assert status({"kind": "age", "min_years": 18}, strong_case(birth_date=None, age_years=17), drugs) == "not_met"


@pytest.mark.parametrize("rule,dx,expected", [
    ({"icd10_prefixes": ["F33"]}, {}, "met"),
    ({"icd10_codes": ["F32.2"]}, {}, "not_met"),
    ({"icd10_prefixes": ["F33"], "methods": ["structured_interview"]}, {"method": "clinical_interview"}, "not_met"),
    ({"icd10_prefixes": ["F33"], "methods": ["structured_interview"]}, {"method": None}, "unknown"),
    ({"icd10_prefixes": ["F33"], "dsm_editions": ["DSM-5-TR"]}, {"dsm_edition": "DSM-IV-TR"}, "not_met"),
    ({"icd10_prefixes": ["F3"], "episode_types": ["single"], "min_episode_months": 24},
     {"episode_type": "single", "episode_start": "2024-11-01"}, "met"),
    ({"icd10_prefixes": ["F3"], "episode_types": ["single"], "min_episode_months": 24},
     {"episode_type": "single", "episode_start": "2025-06-01"}, "not_met"),
    ({"icd10_prefixes": ["F33"], "exclude_psychotic_features": True}, {"psychotic_features": True}, "not_met"),
    ({"icd10_prefixes": ["F33"], "suicidal_ideation": True}, {"suicidal_ideation": None}, "unknown"),
    ({"icd10_prefixes": ["F33"]}, {"current": False}, "unknown"),
])
def test_diagnosis(rule: dict[str, Any], dx: dict[str, Any], expected: str, drugs: ReferenceDrugs) -> None:
    case = strong_case()
    case["diagnoses"] = [{**case["diagnoses"][0], **dx}]
    assert status({"kind": "diagnosis", **rule}, case, drugs) == expected


@pytest.mark.parametrize("thresholds,within,expected", [
    ([{"instrument": "MADRS", "at_least": 36}], None, "met"),
    ([{"instrument": "MADRS", "above": 36}], None, "not_met"),
    ([{"instrument": "MADRS", "at_least": 40}, {"instrument": "PHQ-9", "at_least": 20}], None, "met"),
    ([{"instrument": "HAM-D17", "at_least": 17}], None, "unknown"),
    ([{"instrument": "PHQ-9", "at_most": 5}], None, "not_met"),
    ([{"instrument": "MADRS", "at_least": 28}], 10, "unknown"),  # measured 16 days before
    ([{"instrument": "MADRS", "at_least": 28}], 30, "met"),
    ([{"instrument": "BDI-II"}, {"instrument": "MADRS"}], None, "met"),
])
def test_rating_score(thresholds: list[dict[str, Any]], within: int | None, expected: str,
                      drugs: ReferenceDrugs) -> None:
    rule: dict[str, Any] = {"kind": "rating_score", "scores": thresholds}
    if within:
        rule["within_days"] = within
    assert status(rule, strong_case(), drugs) == expected


def test_rating_score_uses_latest_and_ignores_future(drugs: ReferenceDrugs) -> None:
    case = strong_case(scores=[{"instrument": "MADRS", "score": 40, "measured_on": "2026-01-01"},
                               {"instrument": "MADRS", "score": 20, "measured_on": "2026-11-01"},
                               {"instrument": "MADRS", "score": 50, "measured_on": "2026-12-01"}])
    result = check({"kind": "rating_score", "scores": [{"instrument": "MADRS", "at_least": 28}]}, case, drugs)
    assert result.criterion("r").status == "not_met"
    assert result.criterion("r").evidence == ["Latest MADRS 20 on 2026-11-01 does not meet MADRS ≥ 28."]


@pytest.mark.parametrize("scores,started,minimum,expected", [
    ([("2026-08-01", 36), ("2026-11-01", 14)], None, 50, "met"),
    ([("2026-08-01", 36), ("2026-11-01", 30)], None, 50, "not_met"),
    ([("2026-08-01", 36), ("2026-11-01", 36)], None, 0, "not_met"),
    ([("2026-08-01", 36)], None, 0, "unknown"),
    # baseline is the last score on or before esketamine started, not the first one ever
    ([("2026-01-01", 50), ("2026-08-01", 20), ("2026-11-01", 18)], "2026-08-05", 50, "not_met"),
])
def test_score_improvement(scores: list[tuple[str, int]], started: str | None, minimum: float, expected: str,
                           drugs: ReferenceDrugs) -> None:
    case = strong_case(scores=[{"instrument": "MADRS", "score": s, "measured_on": d} for d, s in scores])
    case["screening"] = {**case["screening"], "esketamine_started_on": started}
    rule = {"kind": "score_improvement", "instruments": ["MADRS"], "min_improvement_pct": minimum}
    assert status(rule, case, drugs) == expected


def _trials_rule(**extra: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {"kind": "trials", "count": 2, "definitions": [{"outcomes": ["non_response"]}]}
    rule.update(extra)
    return rule


def test_trials_count_and_distinct_agents(drugs: ReferenceDrugs) -> None:
    two_same = strong_case(trials=[trial("sertraline", "2025-07-01", "2025-09-05", 200),
                                   trial("Zoloft", "2025-10-01", "2025-12-05", 200)])
    result = check(_trials_rule(), two_same, drugs)
    assert result.criterion("r").status == "not_met"  # the same agent twice counts once
    assert result.criterion("r").evidence[0] == "1 qualifying antidepressant trial of 2 required."


def test_trials_distinct_classes_and_allowed(drugs: ReferenceDrugs) -> None:
    case = strong_case(trials=[trial("sertraline", "2025-07-01", "2025-09-05", 200),
                               trial("fluoxetine", "2025-10-01", "2025-12-05", 40),
                               trial("phenelzine", "2026-01-01", "2026-03-05", 60)])
    assert status(_trials_rule(distinct_classes=2), case, drugs) == "met"
    assert status(_trials_rule(distinct_classes=2, allowed_classes=["SSRI", "SNRI"]), case, drugs) == "not_met"


@pytest.mark.parametrize("definition,changes,expected,evidence", [
    ({"min_weeks": 8}, {"end_date": "2025-08-26"}, "met", None),  # exactly 8 weeks, inclusive
    ({"min_weeks": 8, "weeks_inclusive": False}, {"end_date": "2025-08-26"}, "not_met", "more than 8 required"),
    ({"dose": "min_therapeutic"}, {"daily_dose_mg": 25}, "not_met", "below the minimum therapeutic dose of 50"),
    ({"dose": "min_therapeutic"}, {"daily_dose_mg": None}, "unknown", "the trial's daily dose"),
    ({"dose": "maximum"}, {"daily_dose_mg": 150}, "not_met", "below the maximum dose of 200"),
    ({"dose": "max_tolerated"}, {"daily_dose_mg": 150, "at_max_tolerated_dose": True}, "met", None),
    ({"dose": "max_tolerated"}, {"daily_dose_mg": 150, "at_max_tolerated_dose": False}, "not_met",
     "not documented at the maximum tolerated dose"),
    ({"dose": "max_tolerated"}, {"daily_dose_mg": 150, "at_max_tolerated_dose": None}, "unknown", "maximum tolerated"),
    ({"min_adherence_pct": 80}, {"adherence_pct": 79}, "not_met", "adherence 79% is under 80%"),
    ({"min_adherence_pct": 80}, {"adherence_pct": None}, "unknown", "adherence"),
    ({"max_improvement_pct": 25}, {"improvement_pct": 26}, "not_met", "more than the 25%"),
    ({"max_improvement_pct": 25}, {"improvement_pct": None}, "unknown", "symptom improvement"),
    ({}, {"outcome": "response"}, "not_met", "outcome response is not accepted here"),
    ({}, {"outcome": None}, "unknown", "the trial's outcome"),
])
def test_trial_definition(definition: dict[str, Any], changes: dict[str, Any], expected: str, evidence: str | None,
                          drugs: ReferenceDrugs) -> None:
    case = strong_case(trials=[{**trial("sertraline", "2025-07-01", "2025-09-05", 200), **changes}])
    rule = {"kind": "trials", "count": 1, "definitions": [{"outcomes": ["non_response"], **definition}]}
    result = check(rule, case, drugs).criterion("r")
    assert result.status == expected
    if evidence:
        assert evidence in " ".join(result.evidence + result.missing)


def test_trial_alternative_definitions(drugs: ReferenceDrugs) -> None:
    rule = {"kind": "trials", "count": 3, "definitions": [
        {"label": "a", "outcomes": ["non_response"], "min_weeks": 4, "dose": "min_therapeutic"},
        {"label": "b", "outcomes": ["intolerance"]},
        {"label": "c", "outcomes": ["partial_response"], "min_weeks": 8, "dose": "maximum"},
    ]}
    case = strong_case(trials=[
        trial("sertraline", "2025-07-01", "2025-08-01", 50),  # (a) 4.4 weeks at the minimum dose
        trial("venlafaxine", "2025-08-05", "2025-08-15", 75, outcome="intolerance"),  # (b)
        trial("bupropion", "2025-09-01", "2025-11-01", 450, outcome="partial_response"),  # (c)
    ])
    result = check(rule, case, drugs).criterion("r")
    assert result.status == "met"
    assert [line for line in result.evidence if line.startswith("Counted")] == [
        "Counted: sertraline, SSRI, 50 mg/day, from 2025-07-01 to 2025-08-01, non-response (a).",
        "Counted: venlafaxine, SNRI, 75 mg/day, from 2025-08-05 to 2025-08-15, intolerance (b).",
        "Counted: bupropion, bupropion, 450 mg/day, from 2025-09-01 to 2025-11-01, partial response (c).",
    ]
    case["trials"][2]["daily_dose_mg"] = 300  # partial response below the maximum dose fits no definition
    result = check(rule, case, drugs).criterion("r")
    assert result.status == "not_met"
    assert any("(c) 300 mg/day is below the maximum dose of 450 mg/day" in line for line in result.evidence)


def test_trials_current_episode_and_lookback(drugs: ReferenceDrugs) -> None:
    case = strong_case(trials=[trial("sertraline", "2025-07-01", "2025-09-05", 200, current_episode=False),
                               trial("venlafaxine", "2019-01-01", "2019-04-01", 225)])
    assert status(_trials_rule(current_episode="all"), case, drugs) == "not_met"
    assert status(_trials_rule(current_episode=1), case, drugs) == "met"
    assert status(_trials_rule(lookback_years=5), case, drugs) == "not_met"
    case["trials"][0]["current_episode"] = None
    assert status(_trials_rule(current_episode="all"), case, drugs) == "unknown"


def test_trials_unknown_drug_is_unknown_not_counted(drugs: ReferenceDrugs) -> None:
    case = strong_case(trials=[trial("sertraline", "2025-07-01", "2025-09-05", 200),
                               trial("notadrugazine", "2025-10-01", "2025-12-05", 10)])
    result = check(_trials_rule(definitions=[{"outcomes": ["non_response"], "dose": "min_therapeutic"}]), case, drugs)
    assert result.criterion("r").status == "unknown"
    assert any("notadrugazine is not in the drug reference data" in m for m in result.missing)


def test_augmentation_and_contraindicated(drugs: ReferenceDrugs) -> None:
    case = strong_case()
    assert status({"kind": "trials", "role": "augmentation", "count": 1,
                   "definitions": [{"outcomes": ["non_response"], "min_weeks": 8}]}, case, drugs) == "met"
    assert status({"kind": "trials", "role": "augmentation", "count": 1, "allowed_classes": ["thyroid_hormone"],
                   "definitions": [{"outcomes": ["non_response"]}]}, case, drugs) == "not_met"
    never_taken = strong_case(trials=[trial("sertraline", "2026-01-01", None, 0, outcome="contraindicated",
                                            start_date=None)])
    assert status({"kind": "trials", "count": 1, "definitions": [{"outcomes": ["contraindicated"]}]},
                  never_taken, drugs) == "met"


def test_drug_table_interface() -> None:
    table = TableDrugs({"alpha": DrugInfo("alpha", "SSRI", "antidepressant", 10, 40),
                        "beta": DrugInfo("beta", "SNRI", "antidepressant", 20, 60)})
    case = strong_case(trials=[trial("alpha", "2025-07-01", "2025-09-05", 10),
                               trial("beta", "2025-10-01", "2025-12-05", 19)])
    rule = _trials_rule(distinct_classes=2, definitions=[{"outcomes": ["non_response"], "dose": "min_therapeutic"}])
    assert status(rule, case, table) == "not_met"
    case["trials"][1]["daily_dose_mg"] = 20
    assert status(rule, case, table) == "met"


@pytest.mark.parametrize("rule,courses,expected", [
    ({"modalities": ["CBT", "IPT"]}, [{"modality": "CBT", "start_date": "2025-07-01", "current_episode": True}], "met"),
    ({"modalities": ["IPT"]}, [{"modality": "CBT", "start_date": "2025-07-01"}], "not_met"),
    ({"current_episode": True}, [{"modality": "CBT", "start_date": "2025-07-01", "current_episode": False}], "not_met"),
    ({"current_episode": True}, [{"modality": "CBT", "start_date": "2025-07-01", "current_episode": None}], "unknown"),
    ({"min_weeks": 12}, [{"modality": "CBT", "start_date": "2025-07-01", "end_date": "2025-08-01"}], "not_met"),
    ({"lookback_years": 1}, [{"modality": "CBT", "start_date": "2020-01-01", "end_date": "2020-06-01"}], "not_met"),
    ({}, [], "not_met"),
])
def test_psychotherapy(rule: dict[str, Any], courses: list[dict[str, Any]], expected: str,
                       drugs: ReferenceDrugs) -> None:
    assert status({"kind": "psychotherapy", **rule}, strong_case(psychotherapy=courses), drugs) == expected


@pytest.mark.parametrize("rule,meds,expected", [
    ({}, [{"drug": "mirtazapine", "started_on": "2026-11-12"}], "met"),
    ({}, [{"drug": "aripiprazole", "started_on": "2026-01-01"}], "not_met"),  # augmentation only
    ({}, [], "not_met"),
    ({"min_stable_days": 30}, [{"drug": "mirtazapine", "started_on": "2026-11-12"}], "not_met"),
    ({"min_stable_days": 30}, [{"drug": "mirtazapine"}], "unknown"),
    ({"not_failed_agent": True}, [{"drug": "Zoloft", "started_on": "2026-01-01"}], "not_met"),  # sertraline failed
    ({"new_within_days": 30}, [{"drug": "mirtazapine", "started_on": "2026-11-12"}], "met"),
    ({"new_within_days": 7}, [{"drug": "mirtazapine", "started_on": "2026-11-12"}], "not_met"),
    ({}, [{"drug": "mysterydrug"}], "unknown"),
])
def test_current_antidepressant(rule: dict[str, Any], meds: list[dict[str, Any]], expected: str,
                                drugs: ReferenceDrugs) -> None:
    case = strong_case(current_medications=meds)
    assert status({"kind": "current_antidepressant", **rule}, case, drugs) == expected


@pytest.mark.parametrize("screening,rule,expected", [
    ({"prior_esketamine": True, "prior_esketamine_improvement_pct": 60}, {"min_improvement_pct": 50}, "met"),
    ({"prior_esketamine": True, "prior_esketamine_improvement_pct": 40}, {"min_improvement_pct": 50}, "not_met"),
    ({"prior_esketamine": True}, {"min_improvement_pct": 50}, "unknown"),
    ({"prior_esketamine": False}, {}, "not_met"),
    ({"prior_esketamine": None}, {}, "unknown"),
])
def test_prior_esketamine(screening: dict[str, Any], rule: dict[str, Any], expected: str,
                          drugs: ReferenceDrugs) -> None:
    case = strong_case()
    case["screening"] = {**case["screening"], **screening}
    assert status({"kind": "prior_esketamine", **rule}, case, drugs) == expected


@pytest.mark.parametrize("stays,rule,expected", [
    ([{"admitted_on": "2026-11-20"}], {"discharged_within_days": 14}, "met"),  # still admitted
    ([{"admitted_on": "2026-10-01", "discharged_on": "2026-11-20"}], {"discharged_within_days": 14}, "met"),
    ([{"admitted_on": "2026-09-01", "discharged_on": "2026-10-01"}], {"discharged_within_days": 14}, "not_met"),
    ([{"admitted_on": "2026-11-01", "discharged_on": "2026-11-20", "esketamine_started": None}],
     {"discharged_within_days": 14, "esketamine_started": True}, "unknown"),
    ([{"admitted_on": "2026-11-01", "reason": "other"}], {"discharged_within_days": 14}, "not_met"),
    ([], {}, "not_met"),
])
def test_inpatient_stay(stays: list[dict[str, Any]], rule: dict[str, Any], expected: str,
                        drugs: ReferenceDrugs) -> None:
    assert status({"kind": "inpatient_stay", **rule}, strong_case(inpatient_stays=stays), drugs) == expected


@pytest.mark.parametrize("screening,rule,expected", [
    ({"substance_use": "none"}, {}, "met"),
    ({"substance_use": None}, {}, "unknown"),
    ({"substance_use": "in_remission", "substance_remission_since": "2026-10-01"}, {"remission_min_days": 30}, "met"),
    ({"substance_use": "in_remission", "substance_remission_since": "2026-11-10"}, {"remission_min_days": 30},
     "not_met"),
    ({"substance_use": "in_remission"}, {"remission_min_days": 30}, "unknown"),
    ({"substance_use": "current"}, {}, "not_met"),
    ({"substance_use": "current"}, {"treated_counts": True}, "attest"),
    ({"substance_use": "current", "substance_treated": True}, {"treated_counts": True}, "met"),
])
def test_substance_use(screening: dict[str, Any], rule: dict[str, Any], expected: str,
                       drugs: ReferenceDrugs) -> None:
    case = strong_case()
    case["screening"] = {**case["screening"], **screening}
    assert status({"kind": "substance_use", **rule}, case, drugs) == expected


@pytest.mark.parametrize("kind,rule,screening,expected", [
    ("concurrent_therapy", {"excluded": ["ECT", "TMS"]}, {"concurrent_therapies": ["VNS"]}, "met"),
    ("concurrent_therapy", {"excluded": ["ECT", "TMS"]}, {"concurrent_therapies": ["TMS"]}, "not_met"),
    ("concurrent_therapy", {"excluded": ["ECT"]}, {"concurrent_therapies": None}, "unknown"),
    ("contraindications", {"items": ["aneurysmal_vascular_disease"]}, {}, "met"),
    ("contraindications", {"items": ["esketamine_hypersensitivity"]}, {"esketamine_hypersensitivity": True}, "not_met"),
    ("contraindications", {"items": ["intracerebral_hemorrhage_history"]}, {"intracerebral_hemorrhage_history": None},
     "unknown"),
    ("no_psychosis_history", {}, {}, "met"),
    ("no_psychosis_history", {}, {"psychosis_history": True}, "not_met"),
    ("no_psychosis_history", {}, {"psychosis_history": None}, "unknown"),
    ("pdmp_checked", {}, {}, "met"),
    ("pdmp_checked", {"within_days": 3}, {}, "not_met"),
    ("pdmp_checked", {}, {"pdmp_checked_on": None}, "unknown"),
])
def test_screening_kinds(kind: str, rule: dict[str, Any], screening: dict[str, Any], expected: str,
                         drugs: ReferenceDrugs) -> None:
    case = strong_case()
    case["screening"] = {**case["screening"], **screening}
    assert status({"kind": kind, **rule}, case, drugs) == expected


@pytest.mark.parametrize("prescriber,rule,expected", [
    ({"specialty": "psychiatric_np"}, {"specialties": ["psychiatrist", "psychiatric_np"]}, "met"),
    ({"specialty": "psychiatric_np"}, {"specialties": ["psychiatrist"]}, "not_met"),
    ({"specialty": "other"}, {"specialties": ["psychiatrist"], "consultation_counts": True}, "attest"),
    ({"specialty": "other", "psychiatric_consultation": True},
     {"specialties": ["psychiatrist"], "consultation_counts": True}, "met"),
    ({}, {"specialties": ["psychiatrist"]}, "unknown"),
])
def test_prescriber(prescriber: dict[str, Any], rule: dict[str, Any], expected: str, drugs: ReferenceDrugs) -> None:
    assert status({"kind": "prescriber", **rule}, strong_case(prescriber=prescriber), drugs) == expected


def test_rems_previous_approval_attestation(drugs: ReferenceDrugs) -> None:
    assert status({"kind": "rems_setting"}, strong_case(), drugs) == "met"
    assert status({"kind": "rems_setting"}, strong_case(setting={}), drugs) == "unknown"
    later = strong_case(setting={"rems_certified_on": "2026-12-01"})
    assert status({"kind": "rems_setting"}, later, drugs) == "not_met"
    assert status({"kind": "previous_approval"}, strong_case(previous_approvals=["t"]), drugs) == "met"
    assert status({"kind": "previous_approval"}, strong_case(previous_approvals=[]), drugs) == "not_met"
    assert status({"kind": "previous_approval"}, strong_case(previous_approvals=None), drugs) == "unknown"
    assert status({"kind": "attestation"}, strong_case(), drugs) == "attest"
    assert status({"kind": "attestation"}, strong_case(attestations=["r"]), drugs) == "met"


def _rems(**changes: Any) -> dict[str, Any]:
    """The strong case with its REMS block changed."""
    base = strong_case()
    return {**base, "rems": {**base["rems"], **changes}}


def test_rems_setting_evidence_names_the_setting(drugs: ReferenceDrugs) -> None:
    result = check({"kind": "rems_setting"}, strong_case(), drugs).criterion("r")
    assert result.evidence == ["Setting REMS certified on 2024-01-15 (REMS setting ID RS000417)."]


@pytest.mark.parametrize("rems,as_of,expected,evidence,missing", [
    ({}, AS_OF, "met", "Enrolled in the REMS on 2026-11-18 (confirmation ENR-0042).", []),
    ({"enrollment_confirmation": None}, AS_OF, "met", "Enrolled in the REMS on 2026-11-18.", []),
    ({}, date(2026, 11, 10), "not_met", "Enrolled in the REMS only from 2026-11-18.", []),
    ({"enrolled_on": None, "enrollment_confirmation": None, "enrollment_pending": ["the patient's signature"]},
     AS_OF, "not_met", "Not enrolled yet: the REMS Patient Enrollment Form lacks the patient's signature.", []),
    ({"enrolled_on": None, "enrollment_confirmation": None}, AS_OF, "unknown",
     "No REMS Patient Enrollment Form is on file.",
     ["the REMS patient enrollment (signatures, submission date, confirmation)"]),
])
def test_rems_enrollment(rems: dict[str, Any], as_of: date, expected: str, evidence: str, missing: list[str],
                         drugs: ReferenceDrugs) -> None:
    result = check({"kind": "rems_enrollment"}, _rems(**rems), drugs, as_of).criterion("r")
    assert (result.status, result.evidence, result.missing) == (expected, [evidence], missing)


@pytest.mark.parametrize("case,rule,expected,evidence,missing", [
    (_rems(), {}, "met", ["The session log refuses discharge before 120 min from the first device.",
                          "No session logged yet.", "Setting REMS certified on 2024-01-15 (REMS setting ID RS000417)."],
     []),
    (_rems(monitored_sessions=8, shortest_monitoring_minutes=121, sessions_at_uncertified_setting=0), {}, "met",
     ["The session log refuses discharge before 120 min from the first device.",
      "8 sessions logged in a certified setting, each monitored at least 120 min (shortest 121 min).",
      "Setting REMS certified on 2024-01-15 (REMS setting ID RS000417)."], []),
    (_rems(monitored_sessions=8, shortest_monitoring_minutes=121, sessions_at_uncertified_setting=0),
     {"min_minutes": 150}, "not_met",
     ["The session log allows discharge 120 min after the first device, under the 150 min the policy requires "
      "(clinic setting DESK_REMS_MIN_MONITORING_MINUTES).", "A logged session was monitored 121 min; 150 required."],
     []),
    (_rems(monitoring_minimum_minutes=90), {}, "not_met",
     ["The session log allows discharge 90 min after the first device, under the 120 min the policy requires "
      "(clinic setting DESK_REMS_MIN_MONITORING_MINUTES)."], []),
    (_rems(monitored_sessions=3, shortest_monitoring_minutes=125, sessions_at_uncertified_setting=2), {}, "not_met",
     ["2 logged sessions were given where no REMS certification was in effect on the day."], []),
    ({**_rems(), "setting": {"rems_certified_on": "2026-12-01"}}, {}, "not_met",
     ["Setting certified only from 2026-12-01."], []),
    ({**_rems(), "setting": {}}, {}, "unknown",
     ["The setting's REMS certification is not recorded.", "Monitoring before discharge cannot be confirmed yet."],
     ["the setting's REMS certification"]),
    ({**strong_case(), "rems": {}}, {}, "unknown",
     ["Setting REMS certified on 2024-01-15 (REMS setting ID RS000417).",
      "Monitoring before discharge cannot be confirmed yet."],
     ["the monitoring time the session log requires before discharge",
      "the sessions given so far and how long each was monitored"]),
    (_rems(monitored_sessions=2), {}, "unknown",
     ["Setting REMS certified on 2024-01-15 (REMS setting ID RS000417).",
      "Monitoring before discharge cannot be confirmed yet."],
     ["how long each logged session was monitored",
      "whether each logged session was given in a certified setting"]),
], ids=["no-session-yet", "sessions", "policy-wants-more", "minimum-lowered", "uncertified-sessions",
        "certified-later", "certification-unknown", "nothing-recorded", "sessions-without-times"])
def test_rems_monitoring(case: dict[str, Any], rule: dict[str, Any], expected: str, evidence: list[str],
                         missing: list[str], drugs: ReferenceDrugs) -> None:
    result = check({"kind": "rems_monitoring", **rule}, case, drugs).criterion("r")
    assert (result.status, result.evidence, result.missing) == (expected, evidence, missing)


def test_rems_monitoring_minutes_are_bounded() -> None:
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        policy_with({"id": "r", "kind": "rems_monitoring", "min_minutes": 0})


def test_policy_positions(drugs: ReferenceDrugs) -> None:
    data = policy_with({"kind": "age", "id": "a", "min_years": 18}).model_dump()
    data["position"] = {"status": "not_medically_necessary", "note": "Excluded from the formulary."}
    blanket = Policy.model_validate(data)
    result = evaluate(CaseFacts.model_validate(strong_case()), blanket, indication="trd", phase="initial",
                      as_of=AS_OF, drugs=drugs)
    assert result.decision == "not_covered"
    assert result.notes[0] == "Test considers SPRAVATO not medically necessary. Excluded from the formulary."
    data["position"] = {"status": "covered_with_pa"}
    data["variants"].append({"indication": "mdsi", "phase": "initial", "position": "not_covered"})
    per_indication = Policy.model_validate(data)
    result = evaluate(CaseFacts.model_validate(strong_case()), per_indication, indication="mdsi", phase="initial",
                      as_of=AS_OF, drugs=drugs)
    assert result.decision == "not_covered"


def test_s0013_only_policy_gets_billing_note(drugs: ReferenceDrugs) -> None:
    data = policy_with({"kind": "age", "id": "a", "min_years": 18}).model_dump()
    data["billing_codes"] = [{"code": "S0013"}]
    result = evaluate(CaseFacts.model_validate(strong_case()), Policy.model_validate(data), indication="trd",
                      phase="initial", as_of=AS_OF, drugs=drugs)
    assert any("J0013 replaced S0013 on 2026-01-01" in n for n in result.notes)
    earlier = evaluate(CaseFacts.model_validate(strong_case()), Policy.model_validate(data), indication="trd",
                       phase="initial", as_of=date(2025, 12, 1), drugs=drugs)
    assert not any("J0013" in n for n in earlier.notes)
