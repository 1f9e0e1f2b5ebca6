"""Payer criteria as Questionnaires (every shipped policy file) and evaluations as QuestionnaireResponses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from desk.fhir import codes as c
from desk.fhir.questionnaire import NoCriteria, evaluation_response, policy_questionnaire, questionnaire_url
from desk.policies.case import CaseFacts
from desk.policies.drugs import default_drugs
from desk.policies.evaluator import evaluate
from desk.policies.loader import load_catalog
from desk.policies.schema import AllOf, AnyOf, AtLeast, NotOf, Policy, walk
from tests.desk.fhir.conftest import TODAY

ROOT = Path(__file__).resolve().parents[3]
CATALOG = load_catalog([ROOT / "payers"], drugs=default_drugs())
VARIANTS = [(p.id, v.indication, v.phase, v.benefit) for p in CATALOG.policies.values() for v in p.variants
            if v.criteria is not None and p.position.status == "covered_with_pa"]


def _items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for item in items:
        found.append(item)
        found.extend(_items(item.get("item", [])))
        for answer in item.get("answer", []):
            found.extend(_items(answer.get("item", [])))
    return found


def _fhir_policy(payer_files: Path) -> Policy:
    catalog = load_catalog([payer_files], drugs=default_drugs())
    policy = catalog.get("fhir-payer")
    assert policy is not None
    return policy


@pytest.mark.parametrize(("payer", "indication", "phase", "benefit"), VARIANTS)
def test_every_shipped_policy_becomes_a_valid_questionnaire_with_criterion_link_ids(
        payer: str, indication: str, phase: str, benefit: str | None) -> None:
    policy = CATALOG.policies[payer]
    data = policy_questionnaire(policy, indication=indication, phase=phase, benefit=benefit)
    Questionnaire.model_validate(data)
    variant = policy.variant(indication, phase, benefit)
    assert variant is not None and variant.criteria is not None
    # A "not" group is asked as one question: the rule below it is not a separate item.
    inside_not = {c.id for r in walk(variant.criteria) if isinstance(r, NotOf) for c in walk(r.rule)}
    rules = [r for r in walk(variant.criteria) if r.id not in inside_not]
    ids = {r.id for r in rules}
    by_link = {i["linkId"]: i for i in _items(data["item"])}
    assert ids <= set(by_link)
    assert not inside_not & set(by_link)
    for rule in rules:
        item = by_link[rule.id]
        assert item["code"][0]["code"] == rule.id
        assert item["type"] == ("group" if isinstance(rule, AllOf | AnyOf | AtLeast) else "coding")
    links = [i["linkId"] for i in _items(data["item"])]
    assert len(links) == len(set(links))
    questions = set(links)
    for item in _items(data["item"]):
        for condition in item.get("enableWhen", []):
            assert condition["question"] in questions


def test_groups_state_their_rule_and_any_alternatives_are_gated(payer_files: Path) -> None:
    data = policy_questionnaire(_fhir_policy(payer_files), indication="trd", phase="initial")
    by_link = {i["linkId"]: i for i in _items(data["item"])}
    at_least = by_link["trd-two"]
    rule = {e["url"]: e for e in at_least["extension"]}
    assert "count() >= 1" in rule[c.SDC_CONSTRAINT]["extension"][2]["valueString"]
    assert {x["url"]: x for x in rule[c.CRITERIA_GROUP_EXTENSION]["extension"]}["kind"]["valueCode"] == "at_least"
    everything = {e["url"]: e for e in by_link["trd-all"]["extension"]}
    assert "count() >= 4" in everything[c.SDC_CONSTRAINT]["extension"][2]["valueString"]
    assert "enableWhen" not in by_link["trd-psychosis"]
    gate = by_link["trd-benefit"]["enableWhen"]
    assert gate == [{"question": "trd-psychosis", "operator": "!=",
                     "answerCoding": {"system": c.CRITERION_STATUS_SYSTEM, "code": "met", "display": "Met"}}]
    assert "enableWhen" not in by_link["trd-specialist"]  # at-least-N: every option is asked
    assert data["url"] == questionnaire_url("fhir-payer", "trd", "initial") and data["version"] == "2026-11-01"
    assert by_link["trd-age"]["required"] is True and by_link["trd-psychosis"]["required"] is False


def test_policies_without_criteria_are_refused(payer_files: Path) -> None:
    policy = _fhir_policy(payer_files)
    with pytest.raises(NoCriteria, match="no criteria on file"):
        policy_questionnaire(policy, indication="mdsi", phase="initial")
    with pytest.raises(NoCriteria):
        policy_questionnaire(policy, indication="trd", phase="continuation")


def _facts(psychosis_history: bool = False) -> CaseFacts:
    return CaseFacts.model_validate({"age_years": 40, "screening": {
        "psychosis_history": psychosis_history, "pdmp_checked_on": "2026-11-01"}})


def test_evaluation_response_mirrors_the_questionnaire_and_leaves_out_disabled_alternatives(payer_files: Path) -> None:
    policy = _fhir_policy(payer_files)
    result = evaluate(_facts(), policy, indication="trd", phase="initial", as_of=TODAY, drugs=default_drugs())
    data = evaluation_response(result)
    QuestionnaireResponse.model_validate(data)
    questionnaire_links = {i["linkId"] for i in _items(policy_questionnaire(policy, indication="trd",
                                                                            phase="initial")["item"])}
    answered = {i["linkId"]: i for i in _items(data["item"])}
    assert set(answered) <= questionnaire_links
    assert data["questionnaire"] == questionnaire_url("fhir-payer", "trd", "initial") + "|2026-11-01"
    assert answered["trd-psychosis"]["answer"][0]["valueCoding"]["code"] == "met"
    assert "trd-benefit" not in answered  # disabled: the first alternative is met
    assert answered["trd-rems"]["answer"][0]["valueCoding"]["code"] == "attest"
    assert answered["trd-all.result"]["answer"][0]["valueCoding"]["code"] == "attest"
    evidence = [i for i in _items(data["item"]) if i["linkId"] == "trd-age.evidence"]
    assert evidence and evidence[0]["answer"][0]["valueString"]


def test_an_unmet_first_alternative_enables_the_second(payer_files: Path) -> None:
    policy = _fhir_policy(payer_files)
    result = evaluate(_facts(psychosis_history=True), policy, indication="trd", phase="initial", as_of=TODAY,
                      drugs=default_drugs())
    answered = {i["linkId"]: i for i in _items(evaluation_response(result)["item"])}
    assert answered["trd-psychosis"]["answer"][0]["valueCoding"]["code"] == "not_met"
    assert answered["trd-benefit"]["answer"][0]["valueCoding"]["code"] == "attest"


def test_unknown_facts_say_what_is_missing(payer_files: Path) -> None:
    policy = _fhir_policy(payer_files)
    result = evaluate(CaseFacts.model_validate({}), policy, indication="trd", phase="initial", as_of=TODAY,
                      drugs=default_drugs())
    items = _items(evaluation_response(result)["item"])
    lines = [a["valueString"] for i in items if i["linkId"] == "trd-age.evidence" for a in i["answer"]]
    assert any(line.startswith("Missing: ") for line in lines)


def test_a_file_with_separate_benefit_criteria_asks_for_the_benefit_and_names_it_in_the_url() -> None:
    split = [p for p in CATALOG.policies.values() if p.benefit_variants("trd", "initial")
             and p.position.status == "covered_with_pa"]
    assert split, "no shipped payer file splits its criteria by benefit"
    policy = split[0]
    with pytest.raises(NoCriteria, match="criteria are on file for the medical and pharmacy benefit"):
        policy_questionnaire(policy, indication="trd", phase="initial")
    medical = policy_questionnaire(policy, indication="trd", phase="initial", benefit="medical")
    pharmacy = policy_questionnaire(policy, indication="trd", phase="initial", benefit="pharmacy")
    assert medical["url"] == questionnaire_url(policy.id, "trd", "initial", "medical")
    assert pharmacy["url"].endswith(":pharmacy") and medical["id"] != pharmacy["id"]
    assert {i["linkId"] for i in _items(medical["item"])} != {i["linkId"] for i in _items(pharmacy["item"])}
    facts = CaseFacts.model_validate({"age_years": 40, "coverage": {"payer_id": policy.id, "benefit": "pharmacy"}})
    result = evaluate(facts, policy, indication="trd", phase="initial", as_of=TODAY, drugs=default_drugs())
    response = evaluation_response(result)
    assert response["questionnaire"].split("|")[0] == pharmacy["url"]
