"""What the workflow reads from payer files: the decision clock per plan type and urgency, and the renewal lead
time from the file or the clinic setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from desk.policies.clocks import DEFAULT_DECISION_CLOCKS, ClockPeriod
from desk.prior_auth.payer_rules import decision_clock_for, plan_clock_for, renewal_lead_days_for, renewal_leads
from desk.settings import load_settings
from tests.desk.prior_auth.conftest import TEST_POLICY, write_policy

CLOCK_PAYER = TEST_POLICY.replace("id: test-payer", "id: clock-payer").replace(
    "plan_types: [commercial]", "plan_types: [commercial, tricare, medicare_advantage]"
).replace(
    """decision_clocks:
  commercial:
    standard: {amount: 72, unit: hours}
    expedited: {amount: 24, unit: hours}
    source: "p: turnaround"
""",
    """decision_clocks:
  commercial:
    standard: {amount: 5, unit: business_days}
    expedited: {amount: 48, unit: hours}
    source: "p: turnaround"
  tricare:
    standard: {amount: 3, unit: calendar_days}
    expedited: {amount: 1, unit: business_days}
    source: "p: TRICARE members"
renewal_lead_days: 30
""",
)


@pytest.fixture
def clock_payer(payer_files: Path) -> Path:
    """A second payer file with clocks for two plan types and its own renewal lead time."""
    assert "business_days" in CLOCK_PAYER and "renewal_lead_days: 30" in CLOCK_PAYER
    return write_policy(payer_files, CLOCK_PAYER, payer_id="clock-payer")


def period(amount: int, unit: str) -> ClockPeriod:
    """A clock period written as (amount, unit)."""
    return ClockPeriod.model_validate({"amount": amount, "unit": unit})


@pytest.mark.parametrize(
    ("plan_type", "urgency", "expected"),
    [
        ("commercial", "standard", period(5, "business_days")),
        ("commercial", "expedited", period(48, "hours")),
        ("tricare", "standard", period(3, "calendar_days")),
        ("tricare", "expedited", period(1, "business_days")),
        # Not in the file: the documented default for the plan type.
        ("medicare_part_d", "standard", period(72, "hours")),
        ("medicaid_managed", "expedited", period(24, "hours")),
        # Neither in the file nor documented: no clock, never a guessed one.
        ("medicare_advantage", "standard", None),
        ("va", "expedited", None),
    ],
)
def test_payer_file_clock_per_plan_type_then_default(clock_payer: Path, plan_type: str, urgency: str,
                                                     expected: ClockPeriod | None) -> None:
    assert decision_clock_for(payer_id="clock-payer", plan_type=plan_type, urgency=urgency) == expected


def test_the_test_payers_own_clock_and_source(payer_files: Path) -> None:
    clock = plan_clock_for(payer_id="test-payer", plan_type="commercial")
    assert clock is not None and clock.source == "p: turnaround"
    assert decision_clock_for(payer_id="test-payer", plan_type="commercial", urgency="standard") == period(72, "hours")


@pytest.mark.parametrize("plan_type", sorted(DEFAULT_DECISION_CLOCKS))
def test_payer_without_a_file_gets_the_one_default_table(payer_files: Path, plan_type: str) -> None:
    assert plan_clock_for(payer_id="no-file-payer", plan_type=plan_type) is DEFAULT_DECISION_CLOCKS[plan_type]


@pytest.mark.parametrize("plan_type", ["medicare_advantage", "tricare", "va", "other_government"])
def test_payer_without_a_file_and_no_documented_default_has_no_clock(payer_files: Path, plan_type: str) -> None:
    assert plan_clock_for(payer_id="no-file-payer", plan_type=plan_type) is None
    assert decision_clock_for(payer_id="no-file-payer", plan_type=plan_type, urgency="expedited") is None


def test_broken_payer_file_falls_back_to_the_defaults(payer_files: Path) -> None:
    write_policy(payer_files, CLOCK_PAYER.replace("unit: calendar_days", "unit: fortnights"), payer_id="clock-payer")
    assert decision_clock_for(payer_id="clock-payer", plan_type="commercial", urgency="standard") == \
        period(15, "calendar_days")
    assert decision_clock_for(payer_id="clock-payer", plan_type="tricare", urgency="standard") is None


def test_renewal_lead_from_the_file_else_the_clinic_setting(clock_payer: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DESK_RENEWAL_LEAD_DAYS", raising=False)
    assert renewal_lead_days_for(payer_id="clock-payer") == 30
    assert renewal_lead_days_for(payer_id="test-payer") == 21
    assert renewal_lead_days_for(payer_id="no-file-payer") == 21
    monkeypatch.setenv("DESK_RENEWAL_LEAD_DAYS", "14")
    # The file's value wins over the clinic's default; the default applies to every other payer.
    assert renewal_leads(["clock-payer", "test-payer", "no-file-payer"]) == {
        "clock-payer": 30, "test-payer": 14, "no-file-payer": 14}


@pytest.mark.parametrize(("raw", "message"), [
    ("0", "setting DESK_RENEWAL_LEAD_DAYS must be between 1 and 365 days, got 0"),
    ("-7", "setting DESK_RENEWAL_LEAD_DAYS must be between 1 and 365 days, got -7"),
    ("three", "setting DESK_RENEWAL_LEAD_DAYS must be a whole number, got 'three'"),
])
def test_bad_clinic_lead_setting_is_refused(monkeypatch: pytest.MonkeyPatch, raw: str, message: str) -> None:
    monkeypatch.setenv("DESK_RENEWAL_LEAD_DAYS", raw)
    with pytest.raises(ValueError) as caught:
        load_settings()
    assert str(caught.value) == message
