"""Decision clocks in payer files: the documented defaults, per-plan-type overrides, renewal lead days and the
validation messages for bad clocks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from desk.models.patients import PLAN_TYPES
from desk.policies.case import CaseFacts
from desk.policies.clocks import (
    DEFAULT_DECISION_CLOCKS,
    NO_CLOCK,
    ClockPeriod,
    DecisionClock,
    resolve_clock,
)
from desk.policies.drugs import ReferenceDrugs
from desk.policies.evaluator import evaluate
from desk.policies.loader import PolicyCatalog, parse_policy
from desk.policies.schema import Policy
from tests.desk.policies.test_loader import MINIMAL, _cli

CLOCKS = """
plan_types: [commercial, tricare, medicare_advantage]
decision_clocks:
  commercial:
    standard: {amount: 5, unit: business_days}
    expedited: {amount: 48, unit: hours}
    source: "s: utilization review timeframes"
  tricare:
    standard: {amount: 3, unit: calendar_days}
    expedited: {amount: 1, unit: business_days}
    source: TRICARE pharmacy prior authorization notice
"""


def with_fields(extra: str, base: str = MINIMAL) -> str:
    """The minimal policy with top-level fields added (a later key replaces an earlier one)."""
    lines = [line for line in base.splitlines() if not line.startswith("plan_types:") or "plan_types:" not in extra]
    return "\n".join(lines) + "\n" + extra.strip("\n") + "\n"


def parsed(text: str, drugs: ReferenceDrugs) -> Policy:
    """A policy that must be valid."""
    policy, problems = parse_policy(text, file_name="sample.yaml", drugs=drugs)
    assert problems == [], problems
    assert policy is not None
    return policy


def problems_of(text: str, drugs: ReferenceDrugs) -> list[str]:
    """The problems of a policy that must be refused."""
    policy, problems = parse_policy(text, file_name="sample.yaml", drugs=drugs)
    assert policy is None
    return [str(p) for p in problems]


def period(amount: int, unit: str) -> ClockPeriod:
    """A clock period written as (amount, unit)."""
    return ClockPeriod.model_validate({"amount": amount, "unit": unit})


# ---------------------------------------------------------------- documented defaults


@pytest.mark.parametrize(
    ("plan_type", "standard", "expedited", "cites"),
    [
        ("commercial", period(15, "calendar_days"), period(72, "hours"), "29 CFR 2560.503-1"),
        ("medicare_part_d", period(72, "hours"), period(24, "hours"), "42 CFR 423.568 and 423.572"),
        ("medicaid_ffs", period(24, "hours"), period(24, "hours"), "§1927(d)(5)"),
        ("medicaid_managed", period(24, "hours"), period(24, "hours"), "§1927(d)(5)"),
    ],
)
def test_each_default_follows_the_domain_notes(plan_type: str, standard: ClockPeriod, expedited: ClockPeriod,
                                               cites: str) -> None:
    clock = DEFAULT_DECISION_CLOCKS[plan_type]
    assert (clock.standard, clock.expedited) == (standard, expedited)
    assert clock.period("standard") == standard and clock.period("expedited") == expedited
    assert "spravato.md §5" in clock.source and cites in clock.source


@pytest.mark.parametrize("plan_type", ["medicare_advantage", "tricare", "va", "other_government"])
def test_plan_types_without_a_documented_default_have_no_clock(plan_type: str) -> None:
    assert plan_type not in DEFAULT_DECISION_CLOCKS
    assert resolve_clock({}, plan_type) is None


def test_defaults_only_name_known_plan_types() -> None:
    assert set(DEFAULT_DECISION_CLOCKS) <= set(PLAN_TYPES)


@pytest.mark.parametrize(
    ("amount", "unit", "words"),
    [(1, "hours", "1 hour"), (72, "hours", "72 hours"), (1, "calendar_days", "1 calendar day"),
     (15, "calendar_days", "15 calendar days"), (1, "business_days", "1 business day"),
     (5, "business_days", "5 business days")],
)
def test_each_unit_is_described_in_words(amount: int, unit: str, words: str) -> None:
    assert period(amount, unit).describe() == words


def test_unknown_urgency_is_refused() -> None:
    with pytest.raises(ValueError, match="urgency must be one of standard, expedited, got 'urgent'"):
        DEFAULT_DECISION_CLOCKS["commercial"].period("urgent")


@pytest.mark.parametrize(("amount", "message"), [(0, "above 0, got 0"), (-3, "above 0, got -3")])
def test_a_clock_period_must_be_positive(amount: int, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        period(amount, "hours")


# ---------------------------------------------------------------- payer file overrides per plan type


def test_payer_file_overrides_its_plan_types_and_keeps_the_other_defaults(drugs: ReferenceDrugs) -> None:
    policy = parsed(with_fields(CLOCKS), drugs)
    commercial = policy.clock_for("commercial")
    assert commercial is not None
    assert (commercial.standard, commercial.expedited) == (period(5, "business_days"), period(48, "hours"))
    assert commercial.source == "s: utilization review timeframes"
    tricare = policy.clock_for("tricare")
    assert tricare is not None and tricare.describe() == "3 calendar days standard, 1 business day expedited"
    # Not in the file: the documented default, or nothing at all.
    assert policy.clock_for("medicare_part_d") == DEFAULT_DECISION_CLOCKS["medicare_part_d"]
    assert policy.clock_for("medicare_advantage") is None
    # No plan type given: the file's first plan type.
    assert policy.clock_for(None) == commercial


def test_clocks_by_plan_type_lists_each_plan_type_with_its_clock(drugs: ReferenceDrugs) -> None:
    extra = CLOCKS + """  medicare_part_d:
    standard: {amount: 48, unit: hours}
    expedited: {amount: 12, unit: hours}
    source: "s: Part D"
"""
    policy = parsed(with_fields(extra), drugs)
    listed = [(name, clock.describe() if clock else None) for name, clock in policy.clocks_by_plan_type()]
    assert listed == [
        ("commercial", "5 business days standard, 48 hours expedited"),
        ("tricare", "3 calendar days standard, 1 business day expedited"),
        ("medicare_advantage", None),
        ("medicare_part_d", "48 hours standard, 12 hours expedited"),
    ]


def test_file_without_clocks_uses_the_defaults(drugs: ReferenceDrugs) -> None:
    policy = parsed(MINIMAL, drugs)
    assert policy.decision_clocks == {}
    assert policy.clock_for("commercial") == DEFAULT_DECISION_CLOCKS["commercial"]
    assert policy.renewal_lead_days is None


def test_every_shipped_payer_has_a_clock_for_each_of_its_plan_types(catalog: PolicyCatalog) -> None:
    """A clock for each plan type, unless the plan type has no documented default and the file's sources state none
    (the TRICARE contractors' pages give no decision time): then none is known, never a guessed one."""
    unknown = set()
    for policy in catalog.policies.values():
        for plan_type, clock in policy.clocks_by_plan_type():
            if clock is None:
                assert plan_type not in DEFAULT_DECISION_CLOCKS and plan_type not in policy.decision_clocks
                unknown.add((policy.id, plan_type))
            else:
                assert isinstance(clock, DecisionClock), f"{policy.id}: {plan_type}"
    assert unknown == {("tricare-east", "tricare"), ("tricare-west", "tricare")}


def test_evaluation_reports_the_clock_or_that_none_is_known(drugs: ReferenceDrugs) -> None:
    policy = parsed(with_fields(CLOCKS), drugs)

    def clock_text(plan_type: str) -> str | None:
        case = CaseFacts.model_validate({"age_years": 40, "coverage": {"payer_id": "sample", "plan_type": plan_type}})
        return evaluate(case, policy, indication="trd", phase="initial", as_of=date(2026, 11, 26),
                        drugs=drugs).decision_clock

    assert clock_text("commercial") == ("5 business days standard, 48 hours expedited "
                                        "(s: utilization review timeframes)")
    assert clock_text("medicaid_ffs") == ("24 hours standard, 24 hours expedited (Medicaid outpatient drugs, "
                                          "Social Security Act §1927(d)(5) (spravato.md §5))")
    assert clock_text("medicare_advantage") == NO_CLOCK == "no decision clock known — set one in the payer file"


# ---------------------------------------------------------------- renewal lead days


def test_renewal_lead_days_is_read_from_the_file(drugs: ReferenceDrugs) -> None:
    assert parsed(with_fields("renewal_lead_days: 30"), drugs).renewal_lead_days == 30


# ---------------------------------------------------------------- validation messages


def _clock(standard: str = "{amount: 72, unit: hours}", expedited: str = "{amount: 24, unit: hours}",
           source: str | None = "law", plan_type: str = "commercial") -> str:
    lines = ["decision_clocks:", f"  {plan_type}:", f"    standard: {standard}", f"    expedited: {expedited}"]
    if source is not None:
        lines.append(f"    source: {source}")
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (_clock(standard="{amount: 2, unit: weeks}"),
         "sample.yaml: decision_clocks.commercial.standard.unit: Input should be 'hours', 'calendar_days' or "
         "'business_days' (got 'weeks')"),
        (_clock(expedited="{amount: -24, unit: hours}"),
         "sample.yaml: decision_clocks.commercial.expedited.amount: must be a whole number above 0, got -24"),
        (_clock(standard="{amount: 0, unit: calendar_days}"),
         "sample.yaml: decision_clocks.commercial.standard.amount: must be a whole number above 0, got 0"),
        (_clock(standard="{amount: 1.5, unit: calendar_days}"),
         "sample.yaml: decision_clocks.commercial.standard.amount: Input should be a valid integer (got 1.5)"),
        (_clock(standard="{amount: '72', unit: hours}"),
         "sample.yaml: decision_clocks.commercial.standard.amount: Input should be a valid integer (got '72')"),
        (_clock(standard="{unit: hours}"),
         "sample.yaml: decision_clocks.commercial.standard.amount: required field is missing"),
        (_clock(source=None),
         "sample.yaml: decision_clocks.commercial.source: required field is missing"),
        (_clock(plan_type="medicare"),
         "sample.yaml: decision_clocks: unknown plan type 'medicare'; expected one of commercial, "
         "medicare_part_b, medicare_advantage, medicare_part_d, medicaid_ffs, medicaid_managed, tricare, va, "
         "other_government"),
        (_clock(standard="{amount: 72, unit: hours, per: request}"),
         "sample.yaml: decision_clocks.commercial.standard.per: unknown field (check the spelling against "
         "payers/README.md)"),
        ("decision_clock: {standard_hours: 72, expedited_hours: 24}",
         "sample.yaml: decision_clock: replaced by decision_clocks: one clock per plan type, each with standard "
         "and expedited as {amount, unit} and a source (see payers/README.md)"),
        ("renewal_lead_days: -5",
         "sample.yaml: renewal_lead_days: Input should be greater than or equal to 1 (got -5)"),
        ("renewal_lead_days: 0",
         "sample.yaml: renewal_lead_days: Input should be greater than or equal to 1 (got 0)"),
        ("renewal_lead_days: 400",
         "sample.yaml: renewal_lead_days: Input should be less than or equal to 365 (got 400)"),
        ("renewal_lead_days: three weeks",
         "sample.yaml: renewal_lead_days: Input should be a valid integer (got 'three weeks')"),
    ],
)
def test_bad_clock_or_lead_names_the_file_and_field(extra: str, expected: str, drugs: ReferenceDrugs) -> None:
    assert problems_of(with_fields(extra), drugs) == [expected]


def test_cli_check_reports_a_bad_clock(tmp_path: Path) -> None:
    (tmp_path / "sample.yaml").write_text(with_fields(_clock(expedited="{amount: -1, unit: fortnights}")))
    result = _cli("check", str(tmp_path))
    assert result.returncode == 1
    assert result.stdout.strip().splitlines() == [
        "sample.yaml: decision_clocks.commercial.expedited.amount: must be a whole number above 0, got -1",
        "sample.yaml: decision_clocks.commercial.expedited.unit: Input should be 'hours', 'calendar_days' or "
        "'business_days' (got 'fortnights')",
    ]
