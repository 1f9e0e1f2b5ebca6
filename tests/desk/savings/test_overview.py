"""The savings screen's picture of one patient, and which patient it opens on."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from desk.savings.claims import ClaimAmounts, record_claim
from desk.savings.overview import first_patient_with_savings
from tests.desk.savings.conftest import TODAY, enroll
from tests.factories import make_coverage, make_patient


def test_opens_on_nobody_when_no_patient_has_savings_activity(session: Session) -> None:
    make_patient(session, last_name="Aardvark")
    assert first_patient_with_savings(session) is None


def test_opens_on_a_patient_with_claims_else_one_with_an_enrollment(session: Session) -> None:
    make_patient(session, last_name="Abbot", first_name="Ann")
    claimant = make_patient(session, last_name="Mallory", first_name="Ike", state="IL")
    make_coverage(session, patient=claimant)
    enrollee = make_patient(session, last_name="Zeller", first_name="Uma", state="IL")
    make_coverage(session, patient=enrollee)
    enroll(session, enrollee)
    assert first_patient_with_savings(session) == enrollee.id
    enroll(session, claimant)
    assert first_patient_with_savings(session) == claimant.id, "both enrolled: the first by name"
    # A patient with claims comes before patients who are only enrolled, whatever their names.
    record_claim(session, patient_id=enrollee.id or 0, service_date=date(2026, 2, 2), kind="drug", devices=3,
                 method="rebate_request", amounts=ClaimAmounts(100_000, 50_000, 50_000), today=TODAY)
    assert first_patient_with_savings(session) == enrollee.id
