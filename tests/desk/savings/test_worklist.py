"""Billing worklist: expiring enrollments, benefits nearly used, claims waiting for an EOB, denied rebates."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from desk.models import Patient
from desk.savings.claims import ClaimAmounts, mark_denied, record_claim, submit_claim
from desk.savings.documents import attach_document
from desk.savings.worklist import (
    benefits_nearly_used,
    billing_worklist,
    claims_waiting_for_eob,
    denied_claims,
    expiring_enrollments,
)
from tests.desk.savings.conftest import TODAY, enroll, pdf_bytes
from tests.factories import make_coverage, make_patient


def test_each_list_finds_its_cases(session: Session, enrolled: Patient) -> None:
    pid = enrolled.id or 0
    other = make_patient(session, state="IL")
    make_coverage(session, patient=other)
    enroll(session, other, card_expires_on=date(2026, 7, 20))

    big = ClaimAmounts(billed_cents=700_000, insurance_paid_cents=100_000, patient_responsibility_cents=600_000)
    waiting = record_claim(session, patient_id=pid, service_date=date(2026, 2, 2), kind="drug", devices=3,
                           method="rebate_request", amounts=big, today=TODAY)
    denied = record_claim(session, patient_id=pid, service_date=date(2026, 2, 5), kind="drug", devices=3,
                          method="card_secondary", amounts=ClaimAmounts(90_000, 0, 90_000), today=TODAY)
    submit_claim(session, claim_id=denied.id or 0, expected_version=1, submitted_on=date(2026, 2, 6), today=TODAY)
    mark_denied(session, claim_id=denied.id or 0, expected_version=2, reason="Over the device limit")

    expiring = expiring_enrollments(session, today=TODAY, within_days=30)
    assert [(i.patient_id, i.due_on) for i in expiring] == [(other.id, date(2026, 7, 20))]
    nearly = benefits_nearly_used(session, year=2026, threshold_pct=80)
    assert [(i.patient_id, i.amount_cents) for i in nearly] == [(pid, 715_000 - 599_000)]
    assert "84% of the 2026 drug benefit used ($5,990.00 of $7,150.00)" in nearly[0].detail
    assert benefits_nearly_used(session, year=2026, threshold_pct=90) == []
    eob = claims_waiting_for_eob(session)
    assert [i.claim_id for i in eob] == [waiting.id]
    assert [i.claim_id for i in denied_claims(session, year=2026)] == [denied.id]
    assert "Over the device limit" in denied_claims(session)[0].detail
    assert denied_claims(session, year=2025) == []
    assert [i.category for i in billing_worklist(session, today=TODAY)] == [
        "expiring", "nearly_used", "waiting_for_eob", "denied"
    ]

    attach_document(session, claim_id=waiting.id or 0, kind="eob", content=pdf_bytes(), max_bytes=1_000_000)
    assert claims_waiting_for_eob(session) == []
