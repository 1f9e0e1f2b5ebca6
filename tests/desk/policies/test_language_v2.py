"""Language v2 constructs, each met and not met: not, requested regimen and caps, inclusive/strict bounds,
per-instrument improvement windows, age by exact date, dated and dot-optional codes, not_on_file, criteria_from,
benefit-specific variants, counts across roles, failed-agent scope, versions."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from desk.policies.case import CaseFacts
from desk.policies.drugs import ReferenceDrugs, default_drugs
from desk.policies.evaluator import at_least, at_most, evaluate
from desk.policies.loader import load_catalog, parse_policy, parse_policy_versions
from desk.policies.schema import Policy
from desk.policies.shortfalls import shortfalls
from tests.desk.policies.cases import AS_OF, strong_case, trial
from tests.desk.policies.test_evaluator import check, policy_with, status

DRUGS = default_drugs()
_BASE: dict[str, Any] = {
    "id": "t", "payer": "Test", "plan_types": ["commercial"], "benefit": "medical", "title": "Test",
    "reviewed_on": "2026-11-26", "completeness": {"status": "complete"},
    "sources": {"s": {"title": "Test source", "kind": "primary"}},
}


def regimen(**values: Any) -> dict[str, Any]:
    return strong_case(requested={"first_dose_mg": 56, "dose_mg": 84, "sessions_per_week": 2, "weeks": 4, **values})


# ---------------------------------------------------------------- not


def test_not_inverts_a_recorded_fact(drugs: ReferenceDrugs) -> None:
    rule = {"kind": "not", "rule": {"kind": "prior_esketamine", "id": "used", "text": "Esketamine used before",
                                    "source": "s: 1"}}
    used = strong_case()
    used["screening"] = {**used["screening"], "prior_esketamine": True}
    result = check(rule, used, drugs)
    assert result.criterion("r").status == "not_met"
    assert result.decision == "does_not_meet"
    assert result.criterion("used").status == "met"
    assert status(rule, strong_case(), drugs) == "met"
    unknown = strong_case()
    unknown["screening"] = {**unknown["screening"], "prior_esketamine": None}
    assert status(rule, unknown, drugs) == "unknown"
    listed = shortfalls(check(rule, used, drugs))
    assert [s.id for s in listed.not_met] == ["r"] and "Esketamine was used before." in listed.not_met[0].reasons


# ---------------------------------------------------------------- requested regimen and caps


@pytest.mark.parametrize("rule,values,expected", [
    ({"first_dose_mg": 56}, {}, "met"),
    ({"first_dose_mg": 56}, {"first_dose_mg": 84}, "not_met"),
    ({"first_dose_mg": 56}, {"first_dose_mg": None}, "unknown"),
    ({"max_mg_per_week": 168}, {}, "met"),
    ({"max_mg_per_week": 168, "inclusive": False}, {}, "not_met"),
    ({"max_mg_per_week": 112}, {}, "not_met"),
    ({"max_sessions_per_week": 2}, {}, "met"),
    ({"max_sessions_per_week": 1}, {}, "not_met"),
    ({"max_devices": 23}, {}, "met"),          # 2 + 7 x 3 = 23 devices over the request
    ({"max_devices": 22}, {}, "not_met"),
    ({"max_devices": 12, "per_days": 14}, {}, "met"),   # 4 sessions x 3 devices in any 14 days
    ({"max_devices": 11, "per_days": 14}, {}, "not_met"),
    ({"max_mg_per_session": 56}, {}, "not_met"),
])
def test_requested_regimen(rule: dict[str, Any], values: dict[str, Any], expected: str,
                           drugs: ReferenceDrugs) -> None:
    result = check({"kind": "requested_regimen", **rule}, regimen(**values), drugs)
    assert result.criterion("r").status == expected
    if not values:
        wanted = "Requested: 56 mg first, then 84 mg, 2 sessions a week, for 4 weeks."
        assert result.criterion("r").evidence[0] == wanted


def test_no_requested_regimen_is_unknown_and_named(drugs: ReferenceDrugs) -> None:
    result = check({"kind": "requested_regimen", "first_dose_mg": 56}, strong_case(requested=None), drugs)
    assert result.criterion("r").status == "unknown"
    assert any("requested regimen" in m for m in result.missing)


def test_dose_and_quantity_caps_are_checked(drugs: ReferenceDrugs) -> None:
    data = policy_with({"id": "a", "kind": "age", "min_years": 18}).model_dump()
    data["variants"][0]["approval"] = {
        "dose_caps": [{"max_mg_per_session": 84, "max_sessions_per_week": 2, "weeks": 4}],
        "quantity_caps": [{"devices": 24, "per_days": 28}]}
    policy = Policy.model_validate(data)
    fits = evaluate(CaseFacts.model_validate(regimen()), policy, indication="trd", phase="initial", as_of=AS_OF,
                    drugs=drugs)
    assert fits.request_problems == []
    over = evaluate(CaseFacts.model_validate(regimen(sessions_per_week=3, weeks=6)), policy, indication="trd",
                    phase="initial", as_of=AS_OF, drugs=drugs)
    assert any(p.startswith("Dose cap: ") and "3 sessions a week over 2" in p and "6 weeks over 4" in p
               for p in over.request_problems)
    assert any(p.startswith("Quantity cap: 36 devices in 28 days") for p in over.request_problems)
    assert over.notes[0].startswith("The requested regimen exceeds what an approval allows")


# ---------------------------------------------------------------- inclusive and strict


@given(value=st.integers(-50, 150), bound=st.integers(0, 100))
@settings(max_examples=300, deadline=None)
def test_strict_and_inclusive_differ_only_at_the_bound(value: int, bound: int) -> None:
    assert (at_least(value, bound, True) != at_least(value, bound, False)) == (value == bound)
    assert (at_most(value, bound, True) != at_most(value, bound, False)) == (value == bound)


@given(days_ago=st.integers(0, 60), window=st.integers(1, 40))
@settings(max_examples=150, deadline=None)
def test_pdmp_window_strict_and_inclusive_differ_only_at_the_bound(days_ago: int, window: int) -> None:
    case = strong_case()
    case["screening"] = {**case["screening"], "pdmp_checked_on": date.fromordinal(AS_OF.toordinal() - days_ago)}
    inclusive = status({"kind": "pdmp_checked", "within_days": window}, case, DRUGS)
    strict = status({"kind": "pdmp_checked", "within_days": window, "inclusive": False}, case, DRUGS)
    assert (inclusive != strict) == (days_ago == window)


@given(pct=st.integers(0, 100), bound=st.integers(1, 99))
@settings(max_examples=150, deadline=None)
def test_prior_esketamine_strict_and_inclusive_differ_only_at_the_bound(pct: int, bound: int) -> None:
    case = strong_case()
    case["screening"] = {**case["screening"], "prior_esketamine": True, "prior_esketamine_improvement_pct": pct}
    inclusive = status({"kind": "prior_esketamine", "min_improvement_pct": bound}, case, DRUGS)
    strict = status({"kind": "prior_esketamine", "min_improvement_pct": bound, "inclusive": False}, case, DRUGS)
    assert (inclusive != strict) == (pct == bound)


# ---------------------------------------------------------------- not: properties

_LEAF_BY_STATUS = {"met": {"kind": "age", "min_years": 18}, "not_met": {"kind": "age", "min_years": 90},
                   "unknown": {"kind": "pdmp_checked"}, "attest": {"kind": "attestation"}}


@given(inner=st.sampled_from(list(_LEAF_BY_STATUS)), twice=st.booleans())
@settings(max_examples=40, deadline=None)
def test_not_swaps_met_and_not_met_and_keeps_unknown_and_attest(inner: str, twice: bool) -> None:
    case = strong_case()
    case["screening"] = {**case["screening"], "pdmp_checked_on": None}
    leaf = {"id": "leaf", "text": "leaf", "source": "s: 1", **_LEAF_BY_STATUS[inner]}
    rule: dict[str, Any] = {"kind": "not", "rule": leaf}
    if twice:
        rule = {"kind": "not", "rule": {"id": "inner-not", "text": "not", **rule}}
    got = status(rule, case, DRUGS)
    flipped = {"met": "not_met", "not_met": "met"}.get(inner, inner)
    assert got == (inner if twice else flipped)


# ---------------------------------------------------------------- improvement per instrument with windows


def improvement_case(baseline: float, follow: float, follow_on: str = "2026-11-20",
                     base_on: str = "2026-09-01") -> dict[str, Any]:
    case = strong_case(scores=[{"instrument": "PHQ-9", "score": baseline, "measured_on": base_on},
                               {"instrument": "PHQ-9", "score": follow, "measured_on": follow_on}])
    case["screening"] = {**case["screening"], "esketamine_started_on": "2026-09-05"}
    return case


def test_improvement_above_50_pct_on_the_phq9(drugs: ReferenceDrugs) -> None:
    rule = {"kind": "score_improvement", "thresholds": [{"instrument": "PHQ-9", "above_pct": 50}]}
    assert status(rule, improvement_case(20, 9), drugs) == "met"         # 55 %
    assert status(rule, improvement_case(20, 10), drugs) == "not_met"    # exactly 50 %: not above
    at_least_rule = {"kind": "score_improvement", "thresholds": [{"instrument": "PHQ-9", "at_least_pct": 50}]}
    assert status(at_least_rule, improvement_case(20, 10), drugs) == "met"
    madrs_only = {"kind": "score_improvement", "thresholds": [{"instrument": "MADRS", "above_pct": 50}]}
    assert status(madrs_only, improvement_case(20, 5), drugs) == "unknown"


def test_improvement_baseline_and_follow_up_windows(drugs: ReferenceDrugs) -> None:
    rule = {"kind": "score_improvement", "thresholds": [{"instrument": "PHQ-9", "at_least_pct": 50}],
            "baseline_within_days": 30, "followup_within_days": 14}
    assert status(rule, improvement_case(20, 8), drugs) == "met"
    stale_base = check(rule, improvement_case(20, 8, base_on="2026-07-01"), drugs).criterion("r")
    assert stale_base.status == "unknown" and "No PHQ-9 baseline in the 30 days before" in stale_base.evidence[0]
    stale = check(rule, improvement_case(20, 8, follow_on="2026-10-01"), drugs).criterion("r")
    assert stale.status == "unknown"
    assert "The latest PHQ-9, 8 on 2026-10-01, is older than the 14 days" in stale.evidence[0]


def test_out_of_window_score_is_named_with_its_date(drugs: ReferenceDrugs) -> None:
    rule = {"kind": "rating_score", "scores": [{"instrument": "MADRS", "at_least": 28}], "within_days": 5}
    result = check(rule, strong_case(), drugs).criterion("r")
    assert result.status == "unknown"
    assert "No MADRS score in the 5 days before 2026-11-26; the latest, 36 on 2026-11-10, is older." in result.evidence


# ---------------------------------------------------------------- age by exact date


@pytest.mark.parametrize("born,rule,expected", [
    ("2008-01-26", {"min_years": 18, "min_inclusive": False}, "met"),     # 18 years 10 months: older than 18
    ("2008-11-26", {"min_years": 18, "min_inclusive": False}, "not_met"),  # 18th birthday: not older than 18
    ("2008-11-26", {"min_years": 18}, "met"),                              # at least 18 on the birthday
    ("2008-11-27", {"min_years": 18}, "not_met"),
    ("1961-11-27", {"max_years": 65, "max_inclusive": False}, "met"),      # the day before turning 65
    ("1961-11-26", {"max_years": 65, "max_inclusive": False}, "not_met"),
    ("1960-11-27", {"max_years": 65}, "met"),                              # 65 until the 66th birthday
    ("2008-02-29", {"min_years": 18}, "not_met"),                          # on 2026-02-28: turns 18 on 1 March
])
def test_age_by_exact_date(born: str, rule: dict[str, Any], expected: str, drugs: ReferenceDrugs) -> None:
    as_of = date(2026, 2, 28) if born == "2008-02-29" else AS_OF
    assert status({"kind": "age", **rule}, strong_case(birth_date=born), drugs, as_of) == expected


def test_age_in_years_only_is_unknown_at_a_strict_bound(drugs: ReferenceDrugs) -> None:
    case = strong_case(birth_date=None, age_years=18)
    assert status({"kind": "age", "min_years": 18, "min_inclusive": False}, case, drugs) == "unknown"
    assert status({"kind": "age", "min_years": 18}, case, drugs) == "met"


# ---------------------------------------------------------------- codes


@pytest.mark.parametrize("listed,recorded,as_of,expected", [
    (["F322"], "F32.2", AS_OF, "met"),
    (["F33.2"], "f332", AS_OF, "met"),
    ([{"code": "F32.A", "accepted_from": "2026-12-01"}], "F32.A", AS_OF, "not_met"),
    ([{"code": "F32.A", "accepted_from": "2026-12-01"}], "F32.A", date(2026, 12, 1), "met"),
    ([{"code": "F32.9", "accepted_until": "2026-06-30"}], "F329", AS_OF, "not_met"),
])
def test_codes_dot_optional_and_dated(listed: list[Any], recorded: str, as_of: date, expected: str,
                                      drugs: ReferenceDrugs) -> None:
    case = strong_case()
    case["diagnoses"] = [{**case["diagnoses"][0], "icd10": recorded}]
    assert status({"kind": "diagnosis", "icd10_codes": listed}, case, drugs, as_of) == expected


def test_check_warns_on_codes_not_shaped_like_icd10(tmp_path: Any) -> None:
    data = policy_with({"id": "d", "kind": "diagnosis", "icd10_codes": ["F33.2", "296.33"],
                        "icd10_prefixes": ["F3", "MDD"]}).model_dump(mode="json", exclude_none=True)
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(data))
    catalog = load_catalog([tmp_path], drugs=DRUGS)
    assert "t" in catalog.policies
    messages = [str(w) for w in catalog.warnings]
    assert any("icd10_codes[1]" in m and "'296.33' is not shaped like an ICD-10-CM code" in m for m in messages)
    assert any("icd10_prefixes[1]" in m and "'MDD'" in m for m in messages)
    assert len(messages) == 2


# ---------------------------------------------------------------- not_on_file, criteria_from, benefit


def test_not_on_file_is_unknown_and_still_needed(drugs: ReferenceDrugs) -> None:
    result = check({"kind": "not_on_file", "text": "Reauthorization criteria (cut off in our copy)"}, strong_case(),
                   drugs)
    assert result.criterion("r").status == "unknown" and result.decision == "needs_info"
    assert any("Reauthorization criteria (cut off in our copy)" in m and "not on file" in m for m in result.missing)
    assert [s.id for s in shortfalls(result).unknown] == ["r"]


def two_variant_policy(**extra: Any) -> dict[str, Any]:
    tree = {"kind": "all", "id": "adult", "text": "Adult", "rules": [
        {"kind": "age", "id": "age", "text": "18 or older", "min_years": 18, "source": "s: 1"}]}
    return {**_BASE, "variants": [
        {"indication": "trd", "phase": "initial", "criteria": tree},
        {"indication": "mdsi", "phase": "initial", "criteria_from": "trd/initial"}], **extra}


def test_criteria_from_shares_a_tree(drugs: ReferenceDrugs) -> None:
    policy = Policy.model_validate(two_variant_policy())
    result = evaluate(CaseFacts.model_validate(strong_case()), policy, indication="mdsi", phase="initial",
                      as_of=AS_OF, drugs=drugs)
    assert result.decision == "meets" and result.criterion("age").status == "met"
    young = evaluate(CaseFacts.model_validate(strong_case(birth_date="2010-01-01")), policy, indication="mdsi",
                     phase="initial", as_of=AS_OF, drugs=drugs)
    assert young.decision == "does_not_meet"
    _, problems = parse_policy(yaml.safe_dump({**two_variant_policy(), "id": "t"}), file_name="t.yaml", drugs=drugs)
    assert problems == []
    bad = two_variant_policy()
    bad["variants"][1]["criteria_from"] = "trd/continuation"
    _, problems = parse_policy(yaml.safe_dump(bad), file_name="t.yaml", drugs=drugs)
    assert problems and "no variant trd/continuation" in problems[0].message


def test_benefit_specific_variants(drugs: ReferenceDrugs) -> None:
    medical = {"kind": "age", "id": "m-age", "text": "18 or older", "min_years": 18, "source": "s: 1"}
    pharmacy = {"kind": "age", "id": "p-age", "text": "65 or older", "min_years": 65, "source": "s: 1"}
    policy = Policy.model_validate({**_BASE, "variants": [
        {"indication": "trd", "phase": "initial", "benefit": "medical", "criteria": medical},
        {"indication": "trd", "phase": "initial", "benefit": "pharmacy", "criteria": pharmacy}]})

    def run(benefit: str | None) -> Any:
        case = strong_case(coverage={"payer_id": "t", "plan_type": "commercial", "benefit": benefit})
        return evaluate(CaseFacts.model_validate(case), policy, indication="trd", phase="initial", as_of=AS_OF,
                        drugs=drugs)

    assert run("medical").decision == "meets" and run("medical").benefit == "medical"
    assert run("pharmacy").decision == "does_not_meet"
    unknown = run(None)
    assert unknown.decision == "needs_info"
    assert any("the coverage's benefit (medical or pharmacy)" in m for m in unknown.missing)


# ---------------------------------------------------------------- roles and failed agents


def test_counts_across_roles(drugs: ReferenceDrugs) -> None:
    rule = {"kind": "trials", "role": "either", "count": 3, "min_by_role": {"augmentation": 1},
            "definitions": [{"outcomes": ["non_response", "partial_response"]}]}
    assert status(rule, strong_case(), drugs) == "met"
    no_augmentation = strong_case()
    no_augmentation["trials"] = [t for t in no_augmentation["trials"] if t.get("role") != "augmentation"]
    result = check(rule, no_augmentation, drugs).criterion("r")
    assert result.status == "not_met" and "0 augmentation of at least 1" in result.evidence[0]


def test_failed_agents_scope(drugs: ReferenceDrugs) -> None:
    case = strong_case(current_medications=[{"drug": "aripiprazole", "started_on": "2026-11-12"},
                                            {"drug": "mirtazapine", "started_on": "2026-11-12"}])
    case["trials"] = [*case["trials"], trial("mirtazapine", "2024-01-01", "2024-03-01", 45, role="augmentation")]
    antidepressants = {"kind": "current_antidepressant", "not_failed_agent": True}
    both = {**antidepressants, "failed_agents": "both"}
    assert status(antidepressants, case, drugs) == "met"
    result = check(both, case, drugs).criterion("r")
    assert result.status == "not_met" and "one of the agents that already failed" in " ".join(result.evidence)


# ---------------------------------------------------------------- wording


def test_documentation_confirmed_is_not_called_an_attestation(drugs: ReferenceDrugs) -> None:
    case = strong_case(attestations=["r"])
    documented = check({"kind": "attestation", "needs": "documentation"}, case, drugs).criterion("r")
    assert documented.status == "met" and "Attested by the prescriber." not in documented.evidence
    attested = check({"kind": "attestation"}, case, drugs).criterion("r")
    assert attested.evidence[-1] == "Attested by the prescriber."


def test_incompleteness_note_is_scoped_to_the_variant(drugs: ReferenceDrugs) -> None:
    policy = Policy.model_validate(two_variant_policy(completeness={"status": "incomplete", "missing": [
        {"text": "MDSI trial detail (cut off)", "variants": ["mdsi"]}, "reauthorization (cut off)"]}))
    trd = evaluate(CaseFacts.model_validate(strong_case()), policy, indication="trd", phase="initial", as_of=AS_OF,
                   drugs=drugs)
    mdsi = evaluate(CaseFacts.model_validate(strong_case()), policy, indication="mdsi", phase="initial",
                    as_of=AS_OF, drugs=drugs)
    assert any("reauthorization (cut off)" in n and "MDSI" not in n for n in trd.notes)
    assert any("MDSI trial detail (cut off)" in n for n in mdsi.notes)


# ---------------------------------------------------------------- versions


def versioned_text(old_age: int, new_age: int) -> str:
    docs = []
    for age, when, version in ((old_age, "2025-01-01", "1"), (new_age, "2026-07-01", "2")):
        docs.append({**_BASE, "version": version, "effective_date": when, "variants": [
            {"indication": "trd", "phase": "initial", "criteria": {
                "kind": "age", "id": "age", "text": f"{age} or older", "min_years": age, "source": "s: 1"}}]})
    return yaml.safe_dump_all(docs)


def test_the_version_in_force_on_the_as_of_date_is_used(tmp_path: Any, drugs: ReferenceDrugs) -> None:
    (tmp_path / "t.yaml").write_text(versioned_text(18, 50))
    catalog = load_catalog([tmp_path], drugs=drugs)
    assert catalog.problems == []
    case = CaseFacts.model_validate(strong_case(birth_date="1990-01-01"))
    before = catalog.in_force("t", date(2026, 6, 30))
    after = catalog.in_force("t", date(2026, 7, 1))
    assert before is not None and after is not None
    old = evaluate(case, before, indication="trd", phase="initial", as_of=date(2026, 6, 30), drugs=drugs)
    new = evaluate(case, after, indication="trd", phase="initial", as_of=date(2026, 7, 1), drugs=drugs)
    assert (old.decision, old.policy_version) == ("meets", "version 1, in force from 2025-01-01")
    assert (new.decision, new.policy_version) == ("does_not_meet", "version 2, in force from 2026-07-01")
    early = catalog.in_force("t", date(2024, 1, 1))
    assert early is not None
    note = evaluate(case, early, indication="trd", phase="initial", as_of=date(2024, 1, 1), drugs=drugs).notes
    assert any("takes effect on 2025-01-01, after 2024-01-01" in n for n in note)


def test_versions_need_distinct_dates(drugs: ReferenceDrugs) -> None:
    text = versioned_text(18, 50).replace("2026-07-01", "2025-01-01")
    versions, problems = parse_policy_versions(text, file_name="t.yaml", drugs=drugs)
    assert versions == [] and "two versions share an effective_date" in problems[0].message
