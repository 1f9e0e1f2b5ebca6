"""What is still missing from an evaluation: not met (why), unknown (what data), attestations, in that order."""

from __future__ import annotations

from typing import Any

from desk.policies.drugs import ReferenceDrugs
from desk.policies.loader import PolicyCatalog
from desk.policies.schema import Policy
from desk.policies.shortfalls import Shortfall, shortfalls
from tests.desk.policies.cases import attestation_ids, run, strong_case, trial

PDMP_GROUP = "The state PDMP was checked, unless the state has no PDMP"
PSYCHOSIS_GROUP = "No history of psychosis, or the prescriber attests that benefit outweighs risk"


def _policy(root: dict[str, Any]) -> Policy:
    """A one-variant test policy with `root` as its criteria."""
    return Policy.model_validate({
        "id": "t", "payer": "Test", "plan_types": ["commercial"], "benefit": "medical", "title": "Test",
        "reviewed_on": "2026-11-26", "completeness": {"status": "complete"},
        "sources": {"s": {"title": "Test source", "kind": "primary"}},
        "variants": [{"indication": "trd", "phase": "initial", "criteria": root}],
    })


def _leaf(rule_id: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"id": rule_id, "kind": kind, "text": f"criterion {rule_id}", "source": "s: x", **extra}


def _ids(items: tuple[Shortfall, ...]) -> list[str]:
    return [item.id for item in items]


def test_met_policy_lacks_nothing(catalog: PolicyCatalog, drugs: ReferenceDrugs) -> None:
    policy = catalog.policies["cigna"]
    case = strong_case(attestations=attestation_ids(policy, "trd", "initial"))
    summary = shortfalls(run(policy, case, "trd", "initial", drugs))
    assert not summary
    assert len(summary) == 0


def test_grouped_in_order_with_reasons(catalog: PolicyCatalog, drugs: ReferenceDrugs) -> None:
    case = strong_case(birth_date=None, trials=[trial("sertraline", "2025-07-01", "2025-09-05", 200),
                                                trial("fluoxetine", "2025-09-10", "2025-11-15", 10)])
    case["screening"] = {**case["screening"], "pdmp_checked_on": None, "psychosis_history": True}
    result = run(catalog.policies["cigna"], case, "trd", "initial", drugs)
    summary = shortfalls(result)

    assert _ids(summary.not_met) == ["trd-trials"]
    trials = summary.not_met[0]
    # Why: the count, and each trial that did not count; the one that counted is left to the full tree.
    assert trials.reasons == ("1 qualifying antidepressant trial of 2 required; 1 distinct class of 2.",
                              "Not counted: fluoxetine, SSRI, 10 mg/day, from 2025-09-10 to 2025-11-15, non-response; "
                              "10 mg/day is below the minimum therapeutic dose of 20 mg/day.")
    assert any(line.startswith("Counted: sertraline") for line in result.criterion("trd-trials").evidence)
    assert (trials.source, trials.route_of) == ("pw: TRD initial", "")

    assert [(i.id, i.reasons, i.route_of) for i in summary.unknown] == [
        ("trd-age", ("birth date",), ""),
        ("trd-pdmp-checked", ("the date the state PDMP was checked",), PDMP_GROUP),
    ]
    # The psychosis group: its record route failed, so only the signature is left; the PDMP group: either route.
    assert [(i.id, i.route_of) for i in summary.attest] == [
        ("trd-psychosis-benefit", PSYCHOSIS_GROUP), ("trd-no-state-pdmp", PDMP_GROUP),
    ]
    assert summary.attest[0].reasons == ("The prescriber attests it.",)
    assert "trd-no-psychosis" not in {i.id for i in (*summary.not_met, *summary.unknown, *summary.attest)}
    assert len(summary) == 5


def test_criteria_under_a_met_group_are_not_listed(catalog: PolicyCatalog, drugs: ReferenceDrugs) -> None:
    # The PDMP check is recorded, so "the state has no PDMP" is not asked for.
    result = run(catalog.policies["cigna"], strong_case(), "trd", "initial", drugs)
    assert result.criterion("trd-no-state-pdmp").status == "attest"
    assert result.criterion("trd-pdmp").status == "met"
    assert not shortfalls(result)


def test_alternatives_list_open_routes_or_every_route_when_none_is_open(drugs: ReferenceDrugs) -> None:
    root = {"kind": "all", "id": "root", "text": "All of the following", "rules": [
        {"kind": "at_least", "id": "two", "n": 2, "text": "Two of three", "rules": [
            _leaf("adult", "age", min_years=18), _leaf("before", "previous_approval"),
            _leaf("signed", "attestation"),
        ]},
        {"kind": "any", "id": "either", "text": "Either", "rules": [
            _leaf("old", "age", min_years=90), _leaf("approved", "previous_approval"),
        ]},
    ]}
    open_routes = run(_policy(root), strong_case(previous_approvals=None), "trd", "initial", drugs)
    summary = shortfalls(open_routes)
    # "Two of three": age met, a signature or the earlier approval would do; "Either": only the approval is open.
    assert (_ids(summary.not_met), _ids(summary.unknown), _ids(summary.attest)) == ([], ["before", "approved"],
                                                                                   ["signed"])
    assert [i.route_of for i in summary.unknown] == ["Two of three", "Either"]

    closed = run(_policy(root), strong_case(birth_date="2010-01-01", previous_approvals=[]), "trd", "initial", drugs)
    summary = shortfalls(closed)
    # Nothing left to meet "Two of three" (one signature is not enough) or "Either": every route is shown.
    assert _ids(summary.not_met) == ["adult", "before", "old", "approved"]
    assert _ids(summary.attest) == ["signed"]
    assert summary.not_met[0].reasons == ("Age 16 on 2026-11-26; the policy requires at least 18.",)


def test_rems_facts_show_as_not_met_or_unknown(catalog: PolicyCatalog, drugs: ReferenceDrugs) -> None:
    policy = catalog.policies["highmark"]
    case = strong_case(attestations=attestation_ids(policy, "trd", "initial"), setting={})
    case["rems"] = {**case["rems"], "enrolled_on": None, "enrollment_confirmation": None,
                    "enrollment_pending": ["the submission date"]}
    summary = shortfalls(run(policy, case, "trd", "initial", drugs))
    assert [(i.id, i.reasons) for i in summary.not_met] == [
        ("trd-rems-enrolled", ("Not enrolled yet: the REMS Patient Enrollment Form lacks the submission date.",)),
    ]
    assert [(i.id, i.reasons) for i in summary.unknown] == [
        ("trd-rems-setting", ("the setting's REMS certification",)),
        ("trd-monitoring", ("the setting's REMS certification",)),
    ]
    assert summary.attest == ()
