"""Every shipped policy and variant: one synthetic case that meets it and one that does not, criterion by criterion."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from desk.policies.drugs import ReferenceDrugs
from desk.policies.loader import PolicyCatalog
from desk.policies.schema import AttestationRule, Policy, walk
from tests.desk.policies.cases import (
    attestation_ids,
    continuation_case,
    run,
    statuses,
    strong_case,
    trial,
)

EXPECTED_IDS = {
    "cigna", "uhc", "carefirst", "bcbsnd", "highmark", "bcbsok", "triple-s", "bcbsma", "bcbsnc", "medical-mutual",
    "generic-commercial", "qualchoice", "texas-medicaid", "evicore", "bcbsms", "westernhealth", "premera",
    "mercycare-az", "tricare-east", "tricare-west",
}
INCOMPLETE = EXPECTED_IDS - {"generic-commercial", "bcbsms"}
# (payer, indication, phase) or, for a benefit-specific variant, (payer, indication, phase, benefit).
VARIANTS: list[tuple[str, ...]] = [
    ("bcbsma", "trd", "initial"), ("bcbsnc", "trd", "initial"), ("bcbsnc", "mdsi", "initial"),
    ("bcbsnd", "trd", "initial"), ("bcbsnd", "mdsi", "initial"), ("bcbsnd", "trd", "continuation"),
    ("bcbsnd", "mdsi", "continuation"), ("bcbsok", "trd", "initial"), ("bcbsok", "trd", "continuation"),
    ("carefirst", "trd", "initial"), ("carefirst", "trd", "continuation"), ("carefirst", "mdsi", "initial"),
    ("carefirst", "mdsi", "continuation"), ("cigna", "trd", "initial"), ("cigna", "trd", "continuation"),
    ("cigna", "mdsi", "initial"), ("generic-commercial", "trd", "initial"),
    ("generic-commercial", "trd", "continuation"), ("generic-commercial", "mdsi", "initial"),
    ("highmark", "trd", "initial"), ("medical-mutual", "trd", "initial"), ("medical-mutual", "mdsi", "initial"),
    ("medical-mutual", "trd", "continuation"), ("medical-mutual", "mdsi", "continuation"),
    ("triple-s", "trd", "initial"), ("uhc", "mdsi", "initial"), ("uhc", "trd", "initial"),
    ("qualchoice", "trd", "initial"), ("qualchoice", "mdsi", "initial"), ("texas-medicaid", "mdsi", "initial"),
    ("evicore", "trd", "initial"), ("evicore", "mdsi", "initial"),
    ("westernhealth", "trd", "initial", "medical"), ("westernhealth", "trd", "initial", "pharmacy"),
    ("westernhealth", "mdsi", "initial", "pharmacy"), ("westernhealth", "trd", "continuation", "pharmacy"),
    ("westernhealth", "mdsi", "continuation", "pharmacy"), ("premera", "trd", "initial"),
    ("premera", "mdsi", "initial"), ("mercycare-az", "trd", "initial"), ("tricare-east", "trd", "initial"),
    ("tricare-east", "mdsi", "initial"), ("tricare-west", "trd", "initial"),
]
# Criteria that stay unmet in the meeting case because another branch of an "any" group carries it.
UNUSED_BRANCHES: dict[tuple[str, ...], dict[str, str]] = {
    ("qualchoice", "trd", "initial"): {"trd-prior-spravato-used": "not_met", "trd-prior-spravato-response": "unknown"},
    ("bcbsnc", "trd", "initial"): {"trd-single-2-years": "not_met"},
    ("medical-mutual", "mdsi", "initial"): {"mdsi-hospital": "not_met", "mdsi-hospital-started": "not_met"},
}


# What a meeting case needs beyond the strong case for one variant (a fact only that payer asks about).
SETUP: dict[tuple[str, ...], dict[str, Any]] = {
    ("qualchoice", "mdsi", "initial"): {"inpatient_stays": [
        {"admitted_on": "2026-11-10", "discharged_on": "2026-11-22", "reason": "suicidality"}]},
}


def _base(phase: str, variant: tuple[str, ...] | None = None) -> dict[str, Any]:
    extra = SETUP.get(variant, {}) if variant else {}
    if variant and len(variant) == 4:  # a benefit-specific variant: the coverage's benefit picks it
        extra = {**extra, "coverage": {"payer_id": variant[0], "plan_type": "commercial", "benefit": variant[3]}}
    return strong_case(**extra) if phase == "initial" else continuation_case(**extra)


def _unpack(variant: tuple[str, ...]) -> tuple[str, str, str, str | None]:
    """payer, indication, phase and the benefit (None for a variant that serves any benefit)."""
    return variant[0], variant[1], variant[2], variant[3] if len(variant) == 4 else None


def _set_trials(case: dict[str, Any], **changes: Any) -> dict[str, Any]:
    case["trials"] = [{**t, **changes} if t.get("role", "antidepressant") == "antidepressant" else t
                      for t in case["trials"]]
    return case


def _screening(case: dict[str, Any], **changes: Any) -> dict[str, Any]:
    case["screening"] = {**case["screening"], **changes}
    return case


def _first_dx(case: dict[str, Any], **changes: Any) -> dict[str, Any]:
    case["diagnoses"] = [{**case["diagnoses"][0], **changes}]
    return case


def _rems_block(case: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**case, "rems": {**case["rems"], **changes}}


def _not_enrolled(case: dict[str, Any], pending: list[str]) -> dict[str, Any]:
    return _rems_block(case, enrolled_on=None, enrollment_confirmation=None, enrollment_pending=pending)


def _worse_scores(case: dict[str, Any]) -> dict[str, Any]:
    case["scores"] = [
        {"instrument": "MADRS", "score": 30, "measured_on": "2026-08-01"},
        {"instrument": "MADRS", "score": 34, "measured_on": "2026-11-10"},
    ]
    return case


Mutation = Callable[[dict[str, Any]], dict[str, Any]]
# (variant, how the case is changed, criteria whose status changes, decision)
FAILING: list[tuple[tuple[str, ...], Mutation, dict[str, str], str]] = [
    (("bcbsma", "trd", "initial"),
     lambda c: {**c, "trials": [t for t in c["trials"] if t["drug"] != "nortriptyline"]},
     {"trd-trials": "not_met", "trd-initial": "not_met"}, "does_not_meet"),
    (("bcbsnc", "trd", "initial"), lambda c: _set_trials(c, improvement_pct=30),
     {"trd-trials": "not_met", "trd-initial": "not_met"}, "does_not_meet"),
    (("bcbsnc", "mdsi", "initial"), lambda c: _first_dx(c, suicidal_ideation=False),
     {"mdsi-diagnosis": "not_met", "mdsi-initial": "not_met"}, "does_not_meet"),
    (("bcbsnd", "trd", "initial"), lambda c: {**c, "trials": c["trials"][:1]},
     {"trd-trials": "not_met", "trd-initial": "not_met"}, "does_not_meet"),
    (("bcbsnd", "mdsi", "initial"), lambda c: {**c, "current_medications": []},
     {"mdsi-oral-ad": "not_met", "mdsi-initial": "not_met"}, "does_not_meet"),
    (("bcbsnd", "trd", "continuation"), lambda c: {**c, "previous_approvals": ["cigna"]},
     {"trd-reauth-previous": "not_met", "trd-reauth": "not_met"}, "does_not_meet"),
    (("bcbsnd", "mdsi", "continuation"), lambda c: {**c, "previous_approvals": []},
     {"trd-reauth-previous": "not_met", "trd-reauth": "not_met"}, "does_not_meet"),
    (("bcbsnd", "trd", "continuation"), lambda c: {**c, "prescriber": {"specialty": "other",
                                                                   "psychiatric_consultation": False}},
     {"trd-reauth-prescriber": "not_met", "trd-reauth": "not_met"}, "does_not_meet"),
    (("bcbsok", "trd", "initial"),
     lambda c: {**c, "scores": [{"instrument": "PHQ-9", "score": 9, "measured_on": "2026-11-10"}]},
     {"trd-severity": "not_met", "trd-initial": "not_met"}, "does_not_meet"),
    (("bcbsok", "trd", "continuation"), _worse_scores,
     {"trd-reauth-improvement": "not_met"}, "does_not_meet"),
    (("carefirst", "trd", "initial"),
     lambda c: _set_trials(c, start_date="2019-01-01", end_date="2019-04-01"),
     {"trd-trials": "not_met", "trd-initial": "not_met"}, "does_not_meet"),
    (("carefirst", "trd", "continuation"), _worse_scores,
     {"trd-continuation-improvement": "not_met"}, "does_not_meet"),
    (("carefirst", "mdsi", "initial"),
     lambda c: {**c, "prescriber": {"specialty": "other", "psychiatric_consultation": False}},
     {"mdsi-prescriber": "not_met", "mdsi-initial": "not_met"}, "does_not_meet"),
    (("carefirst", "mdsi", "continuation"), _worse_scores,
     {"mdsi-continuation-improvement": "not_met"}, "does_not_meet"),
    (("cigna", "trd", "initial"),
     lambda c: {**c, "trials": [trial("sertraline", "2025-07-01", "2025-09-05", 200),
                                trial("fluoxetine", "2025-09-10", "2025-11-15", 40),
                                trial("escitalopram", "2025-11-20", "2026-01-30", 20)]},
     {"trd-trials": "not_met", "trd-initial": "not_met"}, "does_not_meet"),
    (("cigna", "trd", "continuation"), lambda c: {**_worse_scores(c), "attestations": []},
     {"trd-reauth-score": "not_met", "trd-reauth-benefit-notes": "attest", "trd-reauth-benefit": "attest"},
     "needs_attestation"),
    (("cigna", "mdsi", "initial"), lambda c: {**c, "prescriber": {"specialty": "psychiatric_np"}},
     {"mdsi-prescriber": "not_met", "mdsi-initial": "not_met"}, "does_not_meet"),
    (("generic-commercial", "trd", "initial"), lambda c: _screening(c, aneurysmal_vascular_disease=True),
     {"trd-contraindications": "not_met", "trd-initial": "not_met"}, "does_not_meet"),
    (("generic-commercial", "trd", "continuation"), lambda c: _screening(c, esketamine_hypersensitivity=True),
     {"trd-continuation-contraindications": "not_met", "trd-continuation": "not_met"}, "does_not_meet"),
    (("generic-commercial", "mdsi", "initial"), lambda c: {**c, "current_medications": []},
     {"mdsi-oral-ad": "not_met", "mdsi-initial": "not_met"}, "does_not_meet"),
    (("highmark", "trd", "initial"),
     lambda c: {**c, "trials": [t for t in c["trials"] if t.get("role") != "augmentation"]},
     {"trd-augmentation": "not_met", "trd-initial": "not_met"}, "does_not_meet"),
    (("medical-mutual", "trd", "initial"), lambda c: _screening(c, concurrent_therapies=["TMS"]),
     {"trd-no-neuromodulation": "not_met", "trd-initial": "not_met"}, "does_not_meet"),
    (("medical-mutual", "mdsi", "initial"), lambda c: _screening(c, concurrent_therapies=["ketamine"]),
     {"mdsi-no-ketamine": "not_met", "mdsi-initial": "not_met"}, "does_not_meet"),
    (("medical-mutual", "trd", "continuation"), lambda c: {**c, "attestations": ["trd-reauth-still-meets"]},
     {"trd-reauth-no-toxicity": "attest", "trd-reauth": "attest"}, "needs_attestation"),
    (("medical-mutual", "mdsi", "continuation"), lambda c: {**c, "attestations": []},
     {"mdsi-reauth-no-toxicity": "attest", "mdsi-reauth-still-meets": "attest", "mdsi-reauth": "attest"},
     "needs_attestation"),
    (("triple-s", "trd", "initial"), lambda c: _set_trials(c, adherence_pct=70),
     {"trd-trials": "not_met", "trd-trials-6-weeks": "not_met", "trd-trials-judged": "not_met",
      "trd-trials-any-length": "not_met", "trd-initial": "not_met"}, "does_not_meet"),
    (("uhc", "mdsi", "initial"), lambda c: _first_dx(c, suicidal_ideation=False),
     {"mdsi-suicidality": "not_met", "mdsi-initial": "not_met"}, "does_not_meet"),
    (("uhc", "trd", "initial"), lambda c: _set_trials(c, end_date=None, start_date="2026-10-15"),
     {"trd-trials": "not_met", "trd-initial": "not_met"}, "does_not_meet"),
    # Corrections read from the sources: UHC's antidepressant must be new; Triple-S accepts a trial length the
    # physician judges sufficient (attested) when a trial is shorter than 6 weeks.
    (("uhc", "trd", "initial"),
     lambda c: {**c, "current_medications": [{"drug": "mirtazapine", "daily_dose_mg": 30, "started_on": "2026-06-01"}]},
     {"trd-new-oral-ad": "not_met", "trd-initial": "not_met"}, "does_not_meet"),
    (("triple-s", "trd", "initial"), lambda c: _set_trials(c, start_date="2025-07-01", end_date="2025-08-01"),
     {"trd-trials-6-weeks": "not_met", "trd-initial": "unknown"}, "needs_info"),
    (("triple-s", "trd", "initial"),
     lambda c: {**_set_trials(c, start_date="2025-07-01", end_date="2025-08-01"),
                "attestations": [a for a in c["attestations"] if a != "trd-trials-length-judged"]},
     {"trd-trials-6-weeks": "not_met", "trd-trials-length-judged": "attest", "trd-trials-judged": "attest",
      "trd-trials": "attest", "trd-initial": "unknown"}, "needs_info"),
    # QualChoice: strict bounds, exact age, failed agents of both roles, "not", the request itself.
    (("qualchoice", "trd", "initial"), lambda c: {**c, "birth_date": "1961-11-26"},  # 65 today: not under 65
     {"trd-age": "not_met", "trd-initial": "not_met"}, "does_not_meet"),
    (("qualchoice", "trd", "initial"),
     lambda c: {**c, "scores": [{"instrument": "PHQ-9", "score": 15, "measured_on": "2026-11-10"}]},
     {"trd-phq9": "not_met", "trd-initial": "not_met"}, "does_not_meet"),  # 15 is not above 15
    (("qualchoice", "trd", "initial"),
     lambda c: {**c, "current_medications": [{"drug": "lithium", "daily_dose_mg": 900, "started_on": "2026-09-02"},
                                             {"drug": "aripiprazole", "started_on": "2026-09-02"}]},
     {"trd-stable-ad": "not_met", "trd-initial": "not_met"}, "does_not_meet"),
    (("qualchoice", "trd", "initial"),
     lambda c: _screening(c, prior_esketamine=True, esketamine_started_on="2026-08-05"),
     {"trd-no-prior-spravato": "not_met", "trd-prior-spravato-used": "met", "trd-prior-spravato-response": "unknown",
      "trd-prior-spravato": "unknown", "trd-initial": "unknown"}, "needs_info"),
    (("qualchoice", "trd", "initial"), lambda c: {**c, "requested": {**c["requested"], "weeks": 6}},
     {"trd-dose": "not_met", "trd-initial": "not_met"}, "does_not_meet"),  # 35 devices, over 23
    (("qualchoice", "mdsi", "initial"), lambda c: {**c, "inpatient_stays": [
        {"admitted_on": "2026-11-01", "discharged_on": "2026-11-20", "reason": "suicidality"}]},
     {"mdsi-inpatient": "not_met", "mdsi-initial": "not_met"}, "does_not_meet"),  # discharged 6 days ago
    (("texas-medicaid", "mdsi", "initial"), lambda c: _first_dx(c, icd10="F43.10"),
     {"mdsi-diagnosis": "not_met", "mdsi-suicidal-ideation": "not_met", "mdsi-initial": "not_met"},
     "does_not_meet"),
    (("evicore", "trd", "initial"), lambda c: _set_trials(c, improvement_pct=30),
     {"trd-trials": "not_met", "trd-initial": "not_met"}, "does_not_meet"),  # 30 % is more than non-response
    (("evicore", "mdsi", "initial"), lambda c: {**c, "prescriber": {"specialty": "psychiatric_np"}},
     {"mdsi-prescriber": "not_met", "mdsi-initial": "not_met"}, "does_not_meet"),
    # REMS criteria read from the record, not signed.
    (("highmark", "trd", "initial"), lambda c: _not_enrolled(c, ["the submission date"]),
     {"trd-rems-enrolled": "not_met", "trd-initial": "not_met"}, "does_not_meet"),
    (("highmark", "trd", "initial"),
     lambda c: _rems_block(c, monitored_sessions=4, shortest_monitoring_minutes=112, sessions_at_uncertified_setting=0),
     {"trd-monitoring": "not_met", "trd-initial": "not_met"}, "does_not_meet"),
    (("highmark", "trd", "initial"), lambda c: {**c, "setting": {}},
     {"trd-rems-setting": "unknown", "trd-monitoring": "unknown", "trd-initial": "unknown"}, "needs_info"),
    (("carefirst", "trd", "initial"),
     lambda c: _rems_block(c, monitored_sessions=4, shortest_monitoring_minutes=125, sessions_at_uncertified_setting=1),
     {"trd-monitoring": "not_met", "trd-initial": "not_met"}, "does_not_meet"),
    (("carefirst", "mdsi", "initial"), lambda c: _rems_block(c, monitoring_minimum_minutes=90),
     {"mdsi-monitoring": "not_met", "mdsi-initial": "not_met"}, "does_not_meet"),
    (("generic-commercial", "trd", "initial"), lambda c: {**c, "rems": {}},
     {"trd-rems-enrolled": "unknown", "trd-monitoring": "unknown", "trd-initial": "unknown"}, "needs_info"),
    (("generic-commercial", "mdsi", "initial"), lambda c: _not_enrolled(c, ["the prescriber's signature"]),
     {"mdsi-rems-enrolled": "not_met", "mdsi-initial": "not_met"}, "does_not_meet"),
    # Western Health Advantage: office-administered (medical) and formulary (pharmacy) criteria in one file.
    (("westernhealth", "trd", "initial", "medical"),
     lambda c: {**c, "trials": [t for t in c["trials"] if t.get("role") != "augmentation"]},
     {"trd-office-augmentation": "not_met", "trd-office-option-1-2": "not_met", "trd-office-three-agents": "not_met",
      "trd-office-trials": "not_met", "trd-office-initial": "not_met"}, "does_not_meet"),
    # One augmentation agent: option 2 (two augmentation therapies) fails, option 3 (3 agents, >= 1 augmentation) holds.
    (("westernhealth", "trd", "initial", "medical"),
     lambda c: {**c, "trials": [t for t in c["trials"] if t["drug"] != "lithium"]},
     {"trd-office-augmentation": "not_met", "trd-office-option-1-2": "not_met", "trd-office-initial": "unknown"},
     "needs_info"),
    (("westernhealth", "trd", "initial", "medical"), lambda c: _screening(c, intracerebral_hemorrhage_history=True),
     {"trd-office-contraindications": "not_met", "trd-office-initial": "not_met"}, "does_not_meet"),
    (("westernhealth", "trd", "initial", "pharmacy"), lambda c: {**c, "current_medications": []},
     {"rx-oral-ad": "not_met", "rx-initial": "not_met"}, "does_not_meet"),
    (("westernhealth", "mdsi", "initial", "pharmacy"),
     lambda c: {**c, "prescriber": {"specialty": "other", "psychiatric_consultation": False}},
     {"rx-prescriber": "not_met", "rx-initial": "not_met"}, "does_not_meet"),
    (("westernhealth", "trd", "continuation", "pharmacy"), lambda c: {**c, "attestations": []},
     {"rx-reauth-response": "attest", "rx-reauth": "attest"}, "needs_attestation"),
    (("westernhealth", "mdsi", "continuation", "pharmacy"), lambda c: {**c, "current_medications": []},
     {"rx-reauth-oral-ad": "not_met", "rx-reauth": "not_met"}, "does_not_meet"),
    # Premera: the first-dose rule of the requested regimen.
    (("premera", "trd", "initial"), lambda c: {**c, "requested": {**c["requested"], "first_dose_mg": 84}},
     {"trd-dose": "not_met", "trd-initial": "not_met"}, "does_not_meet"),
    (("premera", "mdsi", "initial"), lambda c: _first_dx(c, psychotic_features=True),
     {"trd-diagnosis": "not_met", "trd-initial": "not_met"}, "does_not_meet"),
    (("mercycare-az", "trd", "initial"), lambda c: _set_trials(c, current_episode=False),
     {"trd-trials": "not_met", "trd-initial": "not_met"}, "does_not_meet"),
    (("mercycare-az", "trd", "initial"), lambda c: _screening(c, substance_use="current"),
     {"trd-no-sud": "not_met", "trd-substance-use": "unknown", "trd-initial": "unknown"}, "needs_info"),
    # TRICARE regional contractors: what their notices state, the manual's paragraphs not read stay unknown.
    (("tricare-east", "trd", "initial"), lambda c: _first_dx(c, icd10="F43.10"),
     {"trd-diagnosis": "not_met", "trd-initial": "not_met"}, "does_not_meet"),
    (("tricare-east", "mdsi", "initial"), lambda c: _first_dx(c, suicidal_ideation=False),
     {"mdsi-diagnosis": "not_met", "mdsi-initial": "not_met"}, "does_not_meet"),
    (("tricare-east", "mdsi", "initial"), lambda c: {**c, "attestations": []},
     {"mdsi-mental-health-provider": "attest", "mdsi-initial": "unknown"}, "needs_info"),
    (("tricare-west", "trd", "initial"), lambda c: {**c, "birth_date": "2008-11-27"},  # 18 tomorrow
     {"trd-age": "not_met", "trd-initial": "not_met"}, "does_not_meet"),
    (("tricare-west", "trd", "initial"), lambda c: {**c, "birth_date": "2008-11-26"},  # 18 today: "18 and older"
     {"trd-initial": "unknown"}, "needs_info"),
]
# Criteria that were staff attestations before the desk read the REMS record: (payer, id) -> kind.
REMS_FACT_CRITERIA = {
    ("highmark", "trd-rems-enrolled"): "rems_enrollment", ("highmark", "trd-monitoring"): "rems_monitoring",
    ("carefirst", "trd-monitoring"): "rems_monitoring", ("carefirst", "mdsi-monitoring"): "rems_monitoring",
    ("generic-commercial", "trd-rems-enrolled"): "rems_enrollment",
    ("generic-commercial", "mdsi-rems-enrolled"): "rems_enrollment",
    ("generic-commercial", "trd-monitoring"): "rems_monitoring",
    ("texas-medicaid", "mdsi-monitoring"): "rems_monitoring",
}
# What stays a signature: the desk holds no record of it (or the payer asks for an attestation as such).
REMS_ATTESTATIONS = {
    ("highmark", "trd-rems-pharmacy"), ("uhc", "mdsi-rems-prescriber"), ("carefirst", "trd-supervision"),
    ("carefirst", "mdsi-supervision"), ("generic-commercial", "trd-supervision"),
}


def placeholders(policy: Policy, indication: str, phase: str, benefit: str | None = None) -> set[str]:
    """The criteria the file marks as not on file (always unknown)."""
    variant = policy.variant(indication, phase, benefit)
    assert variant is not None and variant.criteria is not None
    return {r.id for r in walk(variant.criteria) if r.kind == "not_on_file"}


def _open_placeholders(rule: Any, status: dict[str, str]) -> set[str]:
    """The not-on-file criteria the result still asks for: none below an "any" or "at least" group already met."""
    if rule.kind == "not_on_file":
        return {rule.id}
    if rule.kind in ("any", "at_least") and status.get(rule.id) == "met":
        return set()
    children = list(getattr(rule, "rules", None) or []) + ([rule.rule] if getattr(rule, "rule", None) else [])
    return set().union(*(_open_placeholders(child, status) for child in children))


def test_every_policy_loads_without_problems(catalog: PolicyCatalog) -> None:
    assert catalog.problems == []
    assert set(catalog.policies) == EXPECTED_IDS
    assert {p.id for p in catalog.policies.values() if p.incomplete} == INCOMPLETE
    shipped = {(p.id, v.indication, v.phase, *([v.benefit] if v.benefit else []))
               for p in catalog.policies.values() for v in p.variants}
    assert shipped == set(VARIANTS)
    assert {f[0] for f in FAILING} == set(VARIANTS)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: "-".join(v))
def test_meeting_case(variant: tuple[str, ...], catalog: PolicyCatalog, drugs: ReferenceDrugs) -> None:
    payer, indication, phase, benefit = _unpack(variant)
    policy = catalog.policies[payer]
    case = _base(phase, variant)
    case["attestations"] = attestation_ids(policy, indication, phase, benefit)
    result = run(policy, case, indication, phase, drugs)
    assert result.benefit == benefit
    unread = placeholders(policy, indication, phase, benefit)
    expected = {c.id: "met" for c in result.criteria} | UNUSED_BRANCHES.get(variant, {})
    if unread:
        # A criterion nobody has read is never met: the rest is met, the request needs it from the payer.
        leaves = {c.id: c.status for c in result.criteria if not c.is_group}
        assert leaves == {i: expected[i] for i in leaves} | dict.fromkeys(unread, "unknown")
        assert result.decision == "needs_info"
        chosen = policy.variant(indication, phase, benefit)
        assert chosen is not None and chosen.criteria is not None
        listed = _open_placeholders(chosen.criteria, statuses(result))  # one under a met "any" is not asked for
        assert len(result.missing) == len(listed) >= 1 and all("not on file" in m for m in result.missing)
        return
    assert statuses(result) == expected
    assert result.decision == "meets"
    assert result.missing == []


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: "-".join(v))
def test_meeting_case_without_signatures_asks_for_them(
    variant: tuple[str, ...], catalog: PolicyCatalog, drugs: ReferenceDrugs
) -> None:
    payer, indication, phase, benefit = _unpack(variant)
    policy = catalog.policies[payer]
    signatures = attestation_ids(policy, indication, phase, benefit)
    result = run(policy, _base(phase, variant), indication, phase, drugs)
    for criterion_id in signatures:
        assert result.criterion(criterion_id).status == "attest"
    if placeholders(policy, indication, phase, benefit):
        assert result.decision == "needs_info"
    elif not signatures:
        assert result.decision == "meets"
    else:
        assert result.decision in ("meets", "needs_attestation")  # met when every attestation sits in a met "any"


@pytest.mark.parametrize("variant,mutate,changed,decision", FAILING,
                         ids=[f"{'-'.join(f[0])}-{'-'.join(sorted(f[2]))}" for f in FAILING])
def test_failing_case(
    variant: tuple[str, ...], mutate: Mutation, changed: dict[str, str], decision: str,
    catalog: PolicyCatalog, drugs: ReferenceDrugs,
) -> None:
    payer, indication, phase, benefit = _unpack(variant)
    policy = catalog.policies[payer]
    case = _base(phase, variant)
    case["attestations"] = attestation_ids(policy, indication, phase, benefit)
    case = mutate(case)
    result = run(policy, case, indication, phase, drugs)
    unread = dict.fromkeys(placeholders(policy, indication, phase, benefit), "unknown")
    expected = {c.id: "met" for c in result.criteria} | UNUSED_BRANCHES.get(variant, {}) | unread | changed
    assert statuses(result) == expected
    assert result.decision == decision


def test_rems_criteria_are_read_from_the_record(catalog: PolicyCatalog) -> None:
    found: dict[tuple[str, str], str] = {}
    signed: set[tuple[str, str]] = set()
    for policy in catalog.policies.values():
        for variant in policy.variants:
            assert variant.criteria is not None
            for rule in walk(variant.criteria):
                if rule.kind in ("rems_enrollment", "rems_monitoring"):
                    found[(policy.id, rule.id)] = rule.kind
                    assert rule.source.split(":")[0] in policy.sources  # each keeps its source
                elif isinstance(rule, AttestationRule) and any(
                        word in rule.text.lower() for word in ("rems", "monitor", "supervision", "enrolled")):
                    signed.add((policy.id, rule.id))
    assert found == REMS_FACT_CRITERIA
    assert signed == REMS_ATTESTATIONS
    highmark = catalog.policies["highmark"].variant("trd", "initial")
    assert highmark is not None and highmark.criteria is not None
    sources = {r.id: r.source for r in walk(highmark.criteria) if r.id in ("trd-rems-enrolled", "trd-monitoring")}
    assert sources == {"trd-rems-enrolled": "hm: TRD initial", "trd-monitoring": "hm: TRD initial"}


def test_evidence_explains_uncounted_trials(catalog: PolicyCatalog, drugs: ReferenceDrugs) -> None:
    case = strong_case(trials=[
        trial("sertraline", "2025-07-01", "2025-08-01", 200),  # 4.4 weeks
        trial("fluoxetine", "2025-08-05", "2025-10-30", 10),  # below minimum dose
        trial("escitalopram", "2025-11-01", "2026-01-30", 20),  # same class as others
        trial("venlafaxine", "2025-01-01", "2025-03-30", 225, current_episode=False, adherence_pct=70),
        trial("duloxetine", "2026-02-01", "2026-04-30", 60, adherence_pct=60),
    ])
    triple_s = run(catalog.policies["triple-s"], case, "trd", "initial", drugs).criterion("trd-trials-6-weeks")
    assert triple_s.status == "not_met"
    text = "\n".join(triple_s.evidence)
    assert "lasted 4.4 weeks; at least 6 required" in text
    assert "10 mg/day is below the minimum therapeutic dose of 20 mg/day" in text
    assert "adherence 60% is under 80%" in text
    assert "Counted: escitalopram" in text
    cigna = run(catalog.policies["cigna"], case, "trd", "initial", drugs).criterion("trd-trials")
    assert any("venlafaxine" in line and "outside the current episode" in line for line in cigna.evidence)
    # Cigna sets no adherence minimum, so duloxetine counts there (it did not for Triple-S).
    assert cigna.status == "met"
    assert cigna.evidence[0] == "2 qualifying antidepressant trials of 2 required; 2 distinct classes of 2."
    assert any(line.startswith("Counted: duloxetine") for line in cigna.evidence)


def test_tr_monotherapy_label_mismatch_is_noted(catalog: PolicyCatalog, drugs: ReferenceDrugs) -> None:
    flagged = run(catalog.policies["highmark"], strong_case(), "trd", "initial", drugs)
    assert any("Label mismatch" in n and "2025-01-21" in n for n in flagged.notes)
    clean = run(catalog.policies["cigna"], strong_case(), "trd", "initial", drugs)
    assert not any("Label mismatch" in n for n in clean.notes)
    mdsi = run(catalog.policies["generic-commercial"], strong_case(), "mdsi", "initial", drugs)
    assert not any("Label mismatch" in n for n in mdsi.notes)


def test_missing_variant_asks_for_the_payers_criteria(catalog: PolicyCatalog, drugs: ReferenceDrugs) -> None:
    result = run(catalog.policies["highmark"], strong_case(), "mdsi", "initial", drugs)
    assert result.decision == "needs_info"
    assert result.criteria == []
    assert result.missing == ["Highmark's criteria for MDD with acute suicidal ideation or behavior, initial"]


def test_approval_terms_and_submission(catalog: PolicyCatalog, drugs: ReferenceDrugs) -> None:
    bcbsma = run(catalog.policies["bcbsma"], strong_case(), "trd", "initial", drugs)
    assert bcbsma.approval is not None and bcbsma.approval.length == "28 days"
    assert bcbsma.submission == ["fax: 1-888-641-5199 (send the completed request form)"]
    cigna = run(catalog.policies["cigna"], strong_case(), "mdsi", "initial", drugs)
    assert cigna.approval is not None and cigna.approval.length == "2 months"
    assert cigna.approval.dose_caps == ["up to 84 mg per session, 2 sessions a week for 4 weeks"]
    assert cigna.decision_clock == ("15 calendar days standard, 72 hours expedited (employer (ERISA) plans, "
                                    "29 CFR 2560.503-1(f)(2) (spravato.md §5))")
    data = cigna.as_dict()
    assert data["decision"] == "meets" or data["decision"] in ("needs_attestation", "needs_info")
    assert set(data) >= {"payer", "indication", "phase", "decision", "criteria", "missing", "notes", "approval"}


@pytest.mark.parametrize("day,code,expected,version", [
    ("2025-04-30", "F32.A", "not_met", "2021-01-01 update (MDSI added)"),
    ("2025-05-01", "F32.A", "met", "2025-05-01 update (more MDD codes, TRD monotherapy)"),
    ("2025-04-30", "F33.2", "met", "2021-01-01 update (MDSI added)"),
])
def test_texas_medicaid_version_in_force_and_dated_codes(day: str, code: str, expected: str, version: str,
                                                         catalog: PolicyCatalog, drugs: ReferenceDrugs) -> None:
    as_of = date.fromisoformat(day)
    policy = catalog.in_force("texas-medicaid", as_of)
    assert policy is not None and policy.version == version
    case = _first_dx(strong_case(), icd10=code, episode_start="2025-03-01", diagnosed_on="2025-03-10")
    case["trials"], case["psychotherapy"] = [], []
    case["scores"] = [{"instrument": "PHQ-9", "score": 22, "measured_on": "2025-04-01"}]
    case["current_medications"] = [{"drug": "mirtazapine", "daily_dose_mg": 30, "started_on": "2025-04-01"}]
    case["screening"] = {**case["screening"], "pdmp_checked_on": "2025-04-20"}
    case["rems"] = {**case["rems"], "enrolled_on": "2025-04-20"}
    result = run(policy, case, "mdsi", "initial", drugs, as_of=as_of)
    assert result.criterion("mdsi-diagnosis").status == expected
    assert result.policy_version.startswith(f"version {version}")


def test_texas_medicaid_has_no_trd_criteria_on_file(catalog: PolicyCatalog, drugs: ReferenceDrugs) -> None:
    result = run(catalog.policies["texas-medicaid"], strong_case(), "trd", "initial", drugs)
    assert result.decision == "needs_info" and result.criteria == []
    assert any("TRD prior-authorization criteria" in n for n in result.notes)


def test_evicore_mdsi_dose_cap_checks_the_request(catalog: PolicyCatalog, drugs: ReferenceDrugs) -> None:
    fits = run(catalog.policies["evicore"], strong_case(), "mdsi", "initial", drugs)
    assert fits.request_problems == []
    over = strong_case(requested={"first_dose_mg": 84, "dose_mg": 84, "sessions_per_week": 2, "weeks": 6})
    result = run(catalog.policies["evicore"], over, "mdsi", "initial", drugs)
    assert result.request_problems == ["Dose cap: 6 weeks over 4."]


def test_bcbsms_considers_spravato_not_medically_necessary(catalog: PolicyCatalog, drugs: ReferenceDrugs) -> None:
    policy = catalog.policies["bcbsms"]
    assert not policy.incomplete and policy.variants == []
    for indication in ("trd", "mdsi"):
        result = run(policy, strong_case(), indication, "initial", drugs)
        assert result.decision == "not_covered" and result.criteria == []
        assert result.notes[0].startswith("Blue Cross & Blue Shield of Mississippi considers SPRAVATO not medically "
                                          "necessary.")


@pytest.mark.parametrize("benefit,root", [("medical", "trd-office-initial"), ("pharmacy", "rx-initial")])
def test_westernhealth_coverage_benefit_picks_the_criteria(benefit: str, root: str, catalog: PolicyCatalog,
                                                          drugs: ReferenceDrugs) -> None:
    policy = catalog.policies["westernhealth"]
    case = strong_case(coverage={"payer_id": "westernhealth", "plan_type": "commercial", "benefit": benefit})
    result = run(policy, case, "trd", "initial", drugs)
    assert result.benefit == benefit and result.criteria[0].id == root
    # Only the formulary (pharmacy) guideline has MDSI criteria; the office-administered page has none.
    mdsi = run(policy, case, "mdsi", "initial", drugs)
    assert (mdsi.criteria != []) == (benefit == "pharmacy")


def test_westernhealth_without_a_benefit_asks_for_it(catalog: PolicyCatalog, drugs: ReferenceDrugs) -> None:
    result = run(catalog.policies["westernhealth"], strong_case(), "trd", "initial", drugs)
    assert result.decision == "needs_info" and result.criteria == []
    assert any("the coverage's benefit (medical or pharmacy)" in m for m in result.missing)


def test_westernhealth_option_3_counts_across_roles(catalog: PolicyCatalog, drugs: ReferenceDrugs) -> None:
    """3 agents, at least 1 an augmentation agent: three antidepressants alone do not do it."""
    case = strong_case(coverage={"payer_id": "westernhealth", "plan_type": "commercial", "benefit": "medical"})
    case["trials"] = [t for t in case["trials"] if t.get("role") != "augmentation"]
    assert run(catalog.policies["westernhealth"], case, "trd", "initial", drugs).criterion(
        "trd-office-three-agents").status == "not_met"
    case["trials"].append(trial("aripiprazole", "2026-04-20", "2026-07-01", 10, role="augmentation"))
    assert run(catalog.policies["westernhealth"], case, "trd", "initial", drugs).criterion(
        "trd-office-three-agents").status == "met"


@pytest.mark.parametrize("first_dose,status", [(56, "met"), (84, "not_met"), (None, "unknown")])
def test_premera_first_dose_rule(first_dose: int | None, status: str, catalog: PolicyCatalog,
                                 drugs: ReferenceDrugs) -> None:
    case = strong_case(requested={"first_dose_mg": first_dose, "dose_mg": 84, "sessions_per_week": 2, "weeks": 4})
    result = run(catalog.policies["premera"], case, "trd", "initial", drugs)
    assert result.criterion("trd-dose").status == status
