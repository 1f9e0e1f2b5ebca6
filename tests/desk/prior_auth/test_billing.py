"""Billing codes decided in one place: plan type, payer file and service date; never a drug code and a session
code for the same session."""

from __future__ import annotations

from datetime import date

import pytest

from desk.models import PLAN_TYPES
from desk.policies.drugs import default_drugs
from desk.policies.loader import load_catalog
from desk.policies.schema import BillingCode, Policy
from desk.prior_auth.billing import decide_billing
from desk.reference.spravato import spravato
from desk.settings import PROJECT_ROOT

TRD_84 = (56, *([84] * 7))


def policy_for(payer_id: str) -> Policy | None:
    """A payer file shipped in payers/ (this folder's conftest points the settings at a test folder)."""
    return load_catalog([PROJECT_ROOT / "payers"], drugs=default_drugs()).get(payer_id)
BEFORE, FROM = date(2025, 12, 31), date(2026, 1, 1)


@pytest.mark.parametrize("plan_type", PLAN_TYPES)
@pytest.mark.parametrize("on", [BEFORE, FROM])
def test_each_plan_type_on_both_sides_of_the_j_code(plan_type: str, on: date) -> None:
    decision = decide_billing(plan_type=plan_type, policy=None, dose_mg=84, service_date=on, session_doses=TRD_84)
    codes = set(decision.codes)
    if plan_type == "medicare_part_b":
        assert decision.route == "session" and codes == {"G2082", "G2083"}
        assert decision.session_counts()[0][1] == 1 and decision.total_units == 8
    else:
        assert decision.route == "drug"
        assert codes == {"S0013" if on == BEFORE else "J0013"}
        assert decision.service.units_per_session == 84 and decision.total_units == 56 + 7 * 84
    assert not (codes & {"J0013", "S0013"} and codes & {"G2082", "G2083"})


def test_medicare_part_b_at_56_mg_is_g2082_only() -> None:
    decision = decide_billing(plan_type="medicare_part_b", policy=None, dose_mg=56, service_date=FROM,
                              session_doses=(56,) * 8)
    assert decision.codes == ("G2082",) and decision.session_counts()[0][1] == 8


def test_a_payer_requiring_g2082_gets_it_whatever_the_dose() -> None:
    policy = policy_for("bcbsma")
    assert policy is not None
    decision = decide_billing(plan_type="commercial", policy=policy, dose_mg=84, service_date=FROM,
                              session_doses=TRD_84)
    assert decision.codes == ("G2082",) and decision.route == "session"
    assert "whatever the dose" in decision.reason


@pytest.mark.parametrize("dose,doses,codes,counts", [
    (84, TRD_84, ("G2083", "G2082"), [("G2082", 1), ("G2083", 7)]),  # the label's 56 mg first session is G2082
    (56, (56,) * 8, ("G2082",), [("G2082", 8)]),
])
def test_a_payer_requiring_both_session_codes_bills_each_session_at_its_dose(
        dose: int, doses: tuple[int, ...], codes: tuple[str, ...], counts: list[tuple[str, int]]) -> None:
    policy = policy_for("tricare-west")
    assert policy is not None and {c.code for c in policy.billing_codes if c.required} == {"G2082", "G2083"}
    decision = decide_billing(plan_type="tricare", policy=policy, dose_mg=dose, service_date=FROM,
                              session_doses=doses)
    assert decision.route == "session" and decision.codes == codes
    assert [(c.code, n) for c, n in decision.session_counts()] == counts
    assert decision.total_units == len(doses) and "whatever the dose" not in decision.reason


def test_a_payer_listing_session_codes_without_requiring_them_gets_the_drug_code() -> None:
    policy = policy_for("generic-commercial")
    assert policy is not None and {c.code for c in policy.billing_codes} >= {"G2082", "G2083", "J0013"}
    decision = decide_billing(plan_type="commercial", policy=policy, dose_mg=84, service_date=FROM,
                              session_doses=TRD_84)
    assert decision.codes == ("J0013",)


def test_a_payer_file_still_accepting_s0013_wins_and_observation_codes_follow_the_drug_code() -> None:
    policy = policy_for("generic-commercial")
    assert policy is not None
    own = policy.model_copy(update={"billing_codes": [BillingCode(code="S0013"), BillingCode(code="99415"),
                                                      BillingCode(code="99416")]})
    decision = decide_billing(plan_type="commercial", policy=own, dose_mg=56, service_date=FROM,
                              session_doses=(56,) * 4)
    assert decision.codes == ("S0013", "99415", "99416") and decision.total_units == 224


def test_the_j_code_date_is_written_once() -> None:
    import subprocess

    assert spravato().code("J0013").valid_from == FROM
    found = subprocess.run(["grep", "-rln", "2026, 1, 1", "desk"], capture_output=True, text=True).stdout.split()
    assert found == [], f"the J0013 start date is repeated in {found}"
