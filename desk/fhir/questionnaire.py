"""A payer's criteria as a FHIR Questionnaire (DTR style) and an evaluation or case checklist as its response.

Layout: one item per criterion, linkId and item code equal to the criterion id of the payer file. A group
(all / any / at least N) is a `group` item whose first child `<id>.result` carries the group's outcome and
whose rule is stated twice: as an SDC `questionnaire-constraint` (FHIRPath over the answers) and as the
desk's criteria-group extension (kind and minimum). A criterion is a `coding` question answered with its
status; its answer holds the evidence (`<id>.evidence`) and any attestation or exception note (`<id>.note`).
In an "any" group, an alternative whose earlier siblings are plain criteria is enabled only while none of
them is met (enableWhen); the response leaves such disabled alternatives out, as SDC requires.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from desk.fhir.codes import (
    CRITERIA_GROUP_EXTENSION,
    CRITERIA_SYSTEM,
    CRITERION_STATUS_SYSTEM,
    QUESTIONNAIRE_BASE,
    SDC_CONSTRAINT,
)
from desk.fhir.validate import validate_resource
from desk.policies.evaluator import Evaluation
from desk.policies.schema import INDICATION_NAMES, AllOf, AnyOf, AtLeast, AttestationRule, NotOf, Policy, Rule
from desk.prior_auth.checklist import CaseChecklist
from desk.prior_auth.wording import payer_sentence

STATUS_DISPLAY = {
    "met": "Met",
    "not_met": "Not met",
    "unknown": "Not on record",
    "attest": "Needs attestation",
    "attested": "Attested",
    "excepted": "Clinical exception requested",
}
SATISFIED = ("met", "attested", "excepted")
NOTES_LINK_ID = "evaluation-notes"


class NoCriteria(ValueError):
    """The policy has no criteria for the indication and phase asked for."""


def questionnaire_url(policy_id: str, indication: str, phase: str, benefit: str | None = None) -> str:
    """The canonical URL of a payer's criteria Questionnaire (a benefit-specific criteria set adds the benefit)."""
    return f"{QUESTIONNAIRE_BASE}:{policy_id}:{indication}:{phase}" + (f":{benefit}" if benefit else "")


def _version(policy: Policy) -> str:
    return policy.reviewed_on.isoformat()


def _status_coding(status: str) -> dict[str, str]:
    return {"system": CRITERION_STATUS_SYSTEM, "code": status, "display": STATUS_DISPLAY.get(status, status)}


def _answer_options() -> list[dict[str, Any]]:
    return [{"valueCoding": _status_coding(code)} for code in STATUS_DISPLAY]


def _kind(rule: Rule) -> str:
    return rule.kind


def _need(kind: str, n: int | None, children: int) -> int:
    return {"all": children, "any": 1}.get(kind, n or 1)


def enable_sources(kind: str, sibling_ids: Sequence[str], sibling_groups: Sequence[bool], index: int) -> list[str]:
    """Earlier siblings whose answers gate child `index` of an 'any' group (empty when no enableWhen fits)."""
    if kind != "any" or index == 0 or any(sibling_groups[:index]):
        return []
    return list(sibling_ids[:index])


def _answer_link(child: Rule) -> str:
    return f"{child.id}.result" if isinstance(child, AllOf | AnyOf | AtLeast) else child.id


def _constraint(rule: AllOf | AnyOf | AtLeast) -> dict[str, Any]:
    need = _need(rule.kind, getattr(rule, "n", None), len(rule.rules))
    links = " | ".join(f"'{_answer_link(c)}'" for c in rule.rules)
    codes = " or ".join(f"code = '{s}'" for s in SATISFIED)
    expression = (f"%resource.repeat(item).where(linkId in ({links})).answer.value.where({codes}).count() >= {need}")
    human = {"all": "Every criterion of this group must be met.", "any": "At least one of these must be met."}.get(
        rule.kind, f"At least {need} of these must be met.")
    return {"url": SDC_CONSTRAINT, "extension": [
        {"url": "key", "valueId": re.sub(r"[^A-Za-z0-9.-]", "-", f"grp-{rule.id}")[:64]},
        {"url": "severity", "valueCode": "warning"},
        {"url": "expression", "valueString": expression},
        {"url": "human", "valueString": human},
    ]}


def _group_extension(rule: AllOf | AnyOf | AtLeast) -> dict[str, Any]:
    need = _need(rule.kind, getattr(rule, "n", None), len(rule.rules))
    return {"url": CRITERIA_GROUP_EXTENSION, "extension": [
        {"url": "kind", "valueCode": rule.kind}, {"url": "minimum", "valueInteger": need}]}


def _not_leaf(rule: NotOf, source: str) -> Rule:
    return AttestationRule(kind="attestation", id=rule.id, text=rule.text, source=source or "-",
                           needs="documentation")


def _item(rule: Rule, policy: Policy, *, required: bool, enable: list[str]) -> dict[str, Any]:
    code = [{"system": f"{CRITERIA_SYSTEM}:{policy.id}", "code": rule.id, "display": rule.text}]
    item: dict[str, Any] = {"linkId": rule.id, "code": code, "text": rule.text}
    if enable:
        item["enableWhen"] = [{"question": sid, "operator": "!=", "answerCoding": _status_coding("met")}
                              for sid in enable]
        item["enableBehavior"] = "all"
    if isinstance(rule, NotOf):
        # Answered as one question: the payer asks that the rule below is NOT met.
        rule = _not_leaf(rule, rule.source or getattr(rule.rule, "source", None) or "")
    assert not isinstance(rule, NotOf)
    if isinstance(rule, AllOf | AnyOf | AtLeast):
        item["type"] = "group"
        item["extension"] = [_constraint(rule), _group_extension(rule)]
        item["required"] = required
        ids = [c.id for c in rule.rules]
        groups = [isinstance(c, AllOf | AnyOf | AtLeast) for c in rule.rules]
        children: list[dict[str, Any]] = [{
            "linkId": f"{rule.id}.result", "text": "Outcome of this group", "type": "coding", "readOnly": True,
            "answerOption": _answer_options(),
        }]
        for index, child in enumerate(rule.rules):
            children.append(_item(child, policy, required=required and rule.kind == "all",
                                  enable=enable_sources(rule.kind, ids, groups, index)))
        item["item"] = children
        return item
    source = f"Source: {rule.source}" + (f" ({policy.sources[key].url})" if (key := rule.source.split(":", 1)[0]
                                                                              .strip()) in policy.sources
                                         and policy.sources[key].url else "")
    needs = {"attestation": "Needs the prescriber's attestation.", "documentation": "Needs documentation."}
    item.update({
        "type": "coding", "required": required, "answerOption": _answer_options(),
        "item": [
            {"linkId": f"{rule.id}.evidence", "text": "Evidence", "type": "text", "repeats": True},
            {"linkId": f"{rule.id}.note", "text": "Attestation or exception note", "type": "text"},
            {"linkId": f"{rule.id}.source", "text": " ".join(x for x in (source, needs.get(rule.needs, "")) if x),
             "type": "display"},
        ],
    })
    return item


def policy_questionnaire(policy: Policy, *, indication: str, phase: str,
                         benefit: str | None = None) -> dict[str, Any]:
    """The payer's criteria for `indication`/`phase` (and the coverage's benefit) as a Questionnaire.

    Raises NoCriteria when there are none, naming the benefits that have criteria when the file splits by benefit.
    """
    variant = policy.variant(indication, phase, benefit)
    label = f"{INDICATION_NAMES.get(indication, indication)}, {phase}" + (f", {benefit} benefit" if benefit else "")
    if policy.position.status != "covered_with_pa":
        raise NoCriteria(f"{policy.payer} considers SPRAVATO {policy.position.status.replace('_', ' ')}")
    if variant is None or variant.criteria is None:
        split = sorted({v.benefit for v in policy.benefit_variants(indication, phase) if v.criteria and v.benefit})
        hint = f"; criteria are on file for the {' and '.join(split)} benefit, name one" if split else ""
        raise NoCriteria(f"{policy.payer} has no criteria on file for {label}{hint}")
    description = [f"{policy.payer}: {policy.title}" + (f" ({policy.policy_number})" if policy.policy_number else "")]
    if policy.source_url:
        description.append(f"Source: {policy.source_url}")
    if policy.incomplete:
        gaps = "; ".join(g.text for g in policy.completeness.items())
        description.append("Incomplete policy file; not on file: " + gaps)
    if variant.incomplete:
        description.append(f"Criteria incomplete: {variant.incomplete}")
    name = re.sub(r"[^A-Za-z0-9]", "", f"{policy.id.title()}{indication.upper()}{phase.title()}Criteria")
    data: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": "-".join(x for x in (policy.id, indication, phase, variant.benefit) if x)[:64],
        "url": questionnaire_url(policy.id, indication, phase, variant.benefit),
        "version": _version(policy),
        "name": name,
        "title": f"{policy.payer}: SPRAVATO prior authorization, {label}",
        "status": "draft" if policy.incomplete or variant.incomplete else "active",
        "subjectType": ["Patient"],
        "date": policy.reviewed_on.isoformat(),
        "publisher": "SPRAVATO Paperwork Desk (encoded from the payer's published policy)",
        "description": "\n\n".join(description),
        "code": [{"system": f"{CRITERIA_SYSTEM}:{policy.id}", "code": variant.criteria.id,
                  "display": variant.criteria.text}],
        "item": [
            _item(variant.criteria, policy, required=True, enable=[]),
            {"linkId": NOTES_LINK_ID, "text": "Notes from the evaluation", "type": "text", "repeats": True,
             "readOnly": True},
        ],
    }
    validate_resource(data, expected="Questionnaire")
    return data


# ---------------------------------------------------------------- responses


@dataclass(frozen=True)
class _Row:
    id: str
    text: str
    kind: str
    parent: str | None
    is_group: bool
    status: str
    evidence: tuple[str, ...]
    missing: tuple[str, ...]
    note: str


def _rows(result: Evaluation | CaseChecklist) -> tuple[Evaluation, list[_Row]]:
    # What goes to the payer is worded for the payer (desk/prior_auth/wording.py): clinical numbers, no screen
    # wording, and an attestation is the prescriber's, never a staff account's.
    if isinstance(result, Evaluation):
        return result, [_Row(c.id, c.text, c.kind, c.parent, c.is_group, c.status,
                             tuple(map(payer_sentence, c.evidence)), tuple(map(payer_sentence, c.missing)), "")
                        for c in result.criteria]
    if result.evaluation is None:
        raise NoCriteria("the case has no evaluated checklist (no policy on file)")
    rows = []
    for item in result.items:
        note = ""
        if item.attestation is not None:
            note = f"The prescriber attests (on {item.attestation.at:%m/%d/%Y}): {item.attestation.note}"
        elif item.exception is not None:
            note = f"An exception is requested because: {item.exception.note}"
        evidence = tuple(map(payer_sentence, item.evidence))
        if item.effective in ("attested", "excepted"):
            evidence = ()  # the note says what it rests on; the evaluator's "needs confirmation" is not evidence
        elif item.effective == "attest":
            evidence = ("The prescriber has not yet attested this.",)
        rows.append(_Row(item.id, item.text, item.kind, item.parent, item.is_group, item.effective, evidence,
                         tuple(map(payer_sentence, item.missing)), note))
    return result.evaluation, rows


def _answer(row: _Row) -> list[dict[str, Any]]:
    lines = [*row.evidence, *(f"Missing: {m}" for m in row.missing if m not in row.evidence)]
    nested: list[dict[str, Any]] = []
    if lines:
        nested.append({"linkId": f"{row.id}.evidence", "text": "Evidence",
                       "answer": [{"valueString": line} for line in lines]})
    if row.note:
        nested.append({"linkId": f"{row.id}.note", "text": "Attestation or exception note",
                       "answer": [{"valueString": row.note}]})
    answer: dict[str, Any] = {"valueCoding": _status_coding(row.status)}
    if nested:
        answer["item"] = nested
    return [answer]


def _response_item(row: _Row, children: dict[str | None, list[_Row]]) -> dict[str, Any]:
    if not row.is_group or row.kind == "not":
        return {"linkId": row.id, "text": row.text, "answer": _answer(row)}
    kids = children.get(row.id, [])
    items: list[dict[str, Any]] = [{"linkId": f"{row.id}.result", "text": "Outcome of this group",
                                    "answer": [{"valueCoding": _status_coding(row.status)}]}]
    ids = [k.id for k in kids]
    groups = [k.is_group for k in kids]
    by_id = {k.id: k for k in kids}
    for index, kid in enumerate(kids):
        gates = enable_sources(row.kind, ids, groups, index)
        if any(by_id[g].status == "met" for g in gates):
            continue  # disabled by enableWhen: an earlier alternative is met
        items.append(_response_item(kid, children))
    return {"linkId": row.id, "text": row.text, "item": items}


def evaluation_response(result: Evaluation | CaseChecklist, *, subject: str | None = None,
                        author: str | None = None, authored: datetime | None = None,
                        resource_id: str | None = None) -> dict[str, Any]:
    """The evaluator's result (or a case checklist with staff marks) as a QuestionnaireResponse."""
    evaluation, rows = _rows(result)
    children: dict[str | None, list[_Row]] = {}
    for row in rows:
        children.setdefault(row.parent, []).append(row)
    roots = children.get(None, [])
    items = [_response_item(root, children) for root in roots]
    notes = list(evaluation.notes) if isinstance(result, Evaluation) else list(result.notes)
    if notes and roots:
        items.append({"linkId": NOTES_LINK_ID, "text": "Notes from the evaluation",
                      "answer": [{"valueString": n} for n in notes]})
    moment = authored or datetime.combine(evaluation.as_of, datetime.min.time()).astimezone()
    data: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": questionnaire_url(evaluation.payer, evaluation.indication, evaluation.phase,
                                           evaluation.benefit)
        + f"|{evaluation.reviewed_on.isoformat()}",
        "status": "completed",
        "authored": moment.isoformat(timespec="seconds"),
    }
    if resource_id:
        data["id"] = resource_id
    if subject:
        data["subject"] = {"reference": subject}
    if author:
        data["author"] = {"reference": author}
    if items:
        data["item"] = items
    validate_resource(data, expected="QuestionnaireResponse")
    return data
