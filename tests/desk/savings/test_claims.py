"""Claims: amounts, running totals against the yearly maximum, device warnings, yearly reset, status flow."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from desk.auth import CurrentUser
from desk.errors import StaleEdit, ValidationFailed
from desk.models import Patient, SavingsClaim, TreatmentSession
from desk.savings.claims import (
    ClaimAmounts,
    LimitsNotAcknowledged,
    mark_denied,
    mark_paid,
    preview_claim,
    record_claim,
    submit_claim,
    update_claim_amounts,
    void_claim,
    yearly_totals,
)
from desk.savings.documents import attach_document
from desk.savings.terms import SHIPPED_DEFAULTS, save_terms
from tests.desk.savings.conftest import TODAY, enroll, pdf_bytes, png_bytes
from tests.factories import make_coverage, make_patient

ADMIN = CurrentUser(1, "admin1", "Admin", ("admin",))
AMOUNTS = ClaimAmounts(billed_cents=90_000, insurance_paid_cents=60_000, patient_responsibility_cents=30_000)


def claim(session: Session, patient: Patient, when: date, *, devices: int = 3, kind: str = "drug",
          amounts: ClaimAmounts = AMOUNTS, **extra: Any) -> SavingsClaim:
    """Record a claim for `patient` on `when`."""
    return record_claim(session, patient_id=patient.id or 0, service_date=when, kind=kind,
                        devices=devices if kind == "drug" else 0, method=extra.pop("method", "rebate_request"),
                        amounts=amounts, today=extra.pop("today", TODAY), **extra)


def test_savings_default_to_what_the_patient_owes_above_ten_dollars(session: Session, enrolled: Patient) -> None:
    first = claim(session, enrolled, date(2026, 2, 2))
    assert first.savings_applied_cents == 29_000
    totals = yearly_totals(session, patient_id=enrolled.id or 0, year=2026)
    assert totals.drug.used_cents == 29_000
    assert totals.drug.remaining_cents == 715_000 - 29_000
    assert totals.devices_used == 3


def test_running_totals_count_paid_amounts_and_skip_denied_and_void(session: Session, enrolled: Patient) -> None:
    pid = enrolled.id or 0
    paid = claim(session, enrolled, date(2026, 2, 2), method="card_secondary")
    denied = claim(session, enrolled, date(2026, 2, 5), method="card_secondary")
    voided = claim(session, enrolled, date(2026, 2, 9), method="card_secondary")
    claim(session, enrolled, date(2026, 2, 12), method="card_secondary")
    submit_claim(session, claim_id=paid.id or 0, expected_version=1, submitted_on=date(2026, 2, 3), today=TODAY)
    mark_paid(session, claim_id=paid.id or 0, expected_version=2, paid_cents=25_000, paid_on=date(2026, 3, 1),
              today=TODAY)
    submit_claim(session, claim_id=denied.id or 0, expected_version=1, submitted_on=date(2026, 2, 6), today=TODAY)
    mark_denied(session, claim_id=denied.id or 0, expected_version=2, reason="Not enrolled on date of service")
    void_claim(session, claim_id=voided.id or 0, expected_version=1, reason="entered twice")
    totals = yearly_totals(session, patient_id=pid, year=2026)
    assert totals.drug.used_cents == 25_000 + 29_000
    assert totals.drug.claims == 2
    assert totals.devices_used == 6


def test_yearly_reset(session: Session, enrolled: Patient) -> None:
    pid = enrolled.id or 0
    big = ClaimAmounts(billed_cents=800_000, insurance_paid_cents=0, patient_responsibility_cents=800_000,
                       savings_applied_cents=715_000)
    claim(session, enrolled, date(2026, 1, 5), amounts=big)
    assert yearly_totals(session, patient_id=pid, year=2026).drug.remaining_cents == 0
    after = preview_claim(session, patient_id=pid, service_date=date(2026, 12, 30), kind="drug", devices=3,
                          patient_responsibility_cents=30_000)
    assert after.savings_applied_cents == 0 and after.remaining_before_cents == 0
    january = preview_claim(session, patient_id=pid, service_date=date(2027, 1, 4), kind="drug", devices=3,
                            patient_responsibility_cents=30_000)
    assert january.remaining_before_cents == 715_000
    assert january.savings_applied_cents == 29_000 and january.warnings == ()
    assert yearly_totals(session, patient_id=pid, year=2027).devices_used == 0


def test_warning_before_exceeding_the_yearly_maximum(session: Session, enrolled: Patient) -> None:
    pid = enrolled.id or 0
    nearly = ClaimAmounts(billed_cents=800_000, insurance_paid_cents=0, patient_responsibility_cents=800_000,
                          savings_applied_cents=700_000)
    claim(session, enrolled, date(2026, 1, 5), amounts=nearly)
    over = ClaimAmounts(billed_cents=90_000, insurance_paid_cents=60_000, patient_responsibility_cents=30_000,
                        savings_applied_cents=29_000)
    preview = preview_claim(session, patient_id=pid, service_date=date(2026, 1, 8), kind="drug", devices=3,
                            patient_responsibility_cents=30_000, savings_applied_cents=29_000)
    assert preview.warnings == (
        "Savings of $290.00 exceed the remaining drug benefit of $150.00 for 2026 "
        "(yearly maximum $7,150.00 (unconfirmed program figure)).",
    )
    with pytest.raises(LimitsNotAcknowledged) as failure:
        claim(session, enrolled, date(2026, 1, 8), amounts=over)
    assert failure.value.for_field("accept_warnings") == list(preview.warnings)
    assert len(session.exec(select(SavingsClaim)).all()) == 1
    confirmed = claim(session, enrolled, date(2026, 1, 8), amounts=over, accept_warnings=True)
    assert confirmed.savings_applied_cents == 29_000
    default = preview_claim(session, patient_id=pid, service_date=date(2026, 1, 12), kind="drug", devices=3,
                            patient_responsibility_cents=30_000)
    assert default.savings_applied_cents == 0, "the default never goes past the maximum"


def test_warning_before_a_session_exceeds_the_device_window(session: Session, enrolled: Patient) -> None:
    pid = enrolled.id or 0
    start = date(2026, 2, 2)
    for k in range(8):  # 8 treatments x 3 devices = 24 in the first 24 days
        claim(session, enrolled, start + timedelta(days=3 * k))
    preview = preview_claim(session, patient_id=pid, service_date=start + timedelta(days=23), kind="drug",
                            devices=1, patient_responsibility_cents=30_000)
    assert preview.devices_allowed == 0
    assert preview.warnings == (
        "25 devices from 02/02/2026 to 02/25/2026 exceed the limit of 24 in the first 24 days of the program "
        "year. (unconfirmed program figure)",
    )
    with pytest.raises(LimitsNotAcknowledged):
        claim(session, enrolled, start + timedelta(days=23), devices=1)
    assert len(session.exec(select(SavingsClaim)).all()) == 8


def test_daily_device_limit(session: Session, enrolled: Patient) -> None:
    preview = preview_claim(session, patient_id=enrolled.id or 0, service_date=date(2026, 2, 2), kind="drug",
                            devices=4, patient_responsibility_cents=30_000)
    assert preview.warnings == ("4 devices on 02/02/2026 exceed the program's limit of 3 per day.",)


def test_configured_device_limit_is_used(session: Session, enrolled: Patient) -> None:
    values = {**SHIPPED_DEFAULTS, "max_devices_per_day": 2}
    save_terms(session, user=ADMIN, year=2026, values=values, unconfirmed=[], expected_version=None)
    preview = preview_claim(session, patient_id=enrolled.id or 0, service_date=date(2026, 2, 2), kind="drug",
                            devices=3, patient_responsibility_cents=30_000)
    assert preview.warnings == ("3 devices on 02/02/2026 exceed the program's limit of 2 per day.",)


@pytest.mark.parametrize(
    ("amounts", "field", "message"),
    [
        (ClaimAmounts(-1, 0, 0), "billed", "cannot be negative"),
        (ClaimAmounts(100, -5, 0), "insurance_paid", "cannot be negative"),
        (ClaimAmounts(100, 0, 0, -1), "savings_applied", "cannot be negative"),
        (ClaimAmounts(10_000, 12_000, 0), "insurance_paid",
         "insurance paid ($120.00) cannot exceed the billed amount ($100.00)"),
        (ClaimAmounts(10_000, 6_000, 5_000), "patient_responsibility",
         "cannot exceed the billed amount less what insurance paid ($40.00)"),
        (ClaimAmounts(10_000, 6_000, 4_000, 4_001), "savings_applied",
         "cannot exceed the patient responsibility ($40.00)"),
    ],
)
def test_bad_amounts_are_refused_and_nothing_written(
    session: Session, enrolled: Patient, amounts: ClaimAmounts, field: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as failure:
        claim(session, enrolled, date(2026, 2, 2), amounts=amounts)
    assert failure.value.for_field(field) == [message]
    assert session.exec(select(SavingsClaim)).all() == []


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"when": date(2026, 7, 1)}, "service_date", "cannot be in the future"),
        ({"devices": 0}, "devices", "a drug claim needs the number of devices used (1 or more)"),
        ({"when": date(2025, 12, 30)}, "service_date",
         "no active enrollment with an unexpired card covers this date"),
    ],
)
def test_bad_claim_input_is_refused(
    session: Session, enrolled: Patient, change: dict[str, Any], field: str, message: str
) -> None:
    change = dict(change)
    when = change.pop("when", date(2026, 2, 2))
    with pytest.raises(ValidationFailed) as failure:
        claim(session, enrolled, when, **change)
    assert any(m.startswith(message) for m in failure.value.for_field(field))
    assert session.exec(select(SavingsClaim)).all() == []


def test_duplicate_claim_for_a_date_is_refused(session: Session, enrolled: Patient) -> None:
    first = claim(session, enrolled, date(2026, 2, 2))
    with pytest.raises(ValidationFailed) as failure:
        claim(session, enrolled, date(2026, 2, 2))
    assert failure.value.for_field("service_date") == [
        f"claim #{first.id} already covers the drug benefit on this date"
    ]
    rebate = claim(session, enrolled, date(2026, 2, 2), kind="observation")
    assert rebate.devices == 0 and rebate.savings_applied_cents == 30_000


def test_observation_rebate_refused_for_excluded_state(session: Session) -> None:
    person = make_patient(session, state="MN")
    make_coverage(session, patient=person)
    enroll(session, person)
    with pytest.raises(ValidationFailed) as failure:
        claim(session, person, date(2026, 2, 2), kind="observation")
    assert failure.value.for_field("kind") == [
        "Not eligible for the observation rebate: residents of MN are excluded."
    ]
    assert claim(session, person, date(2026, 2, 2)).kind == "drug"


def test_drug_claim_refused_once_government_coverage_starts(session: Session, enrolled: Patient) -> None:
    make_coverage(session, patient=enrolled, plan_type="medicare_part_d", priority="secondary",
                  start_date=date(2026, 4, 1))
    assert claim(session, enrolled, date(2026, 3, 30)).status == "draft"
    with pytest.raises(ValidationFailed) as failure:
        claim(session, enrolled, date(2026, 4, 2))
    assert "Medicare Part D (secondary) is a government program" in failure.value.for_field("kind")[0]


def test_claim_links_to_the_treatment_session(session: Session, enrolled: Patient) -> None:
    treatment = TreatmentSession(patient_id=enrolled.id or 0, site_id=enrolled.site_id,
                                 session_date=date(2026, 2, 2), dose_mg=84, devices=3)
    session.add(treatment)
    session.flush()
    with pytest.raises(ValidationFailed) as failure:
        claim(session, enrolled, date(2026, 2, 3), devices=2, session_id=treatment.id)
    assert failure.value.for_field("service_date") == ["the linked session was on 02/02/2026"]
    assert failure.value.for_field("devices") == ["the linked session recorded 3 devices"]
    linked = claim(session, enrolled, date(2026, 2, 2), session_id=treatment.id)
    assert linked.session_id == treatment.id


def test_submission_needs_eob_and_proof_of_payment(session: Session, enrolled: Patient) -> None:
    rebate = claim(session, enrolled, date(2026, 2, 2))
    with pytest.raises(ValidationFailed) as failure:
        submit_claim(session, claim_id=rebate.id or 0, expected_version=1, submitted_on=date(2026, 2, 10),
                     today=TODAY)
    assert failure.value.for_field("documents") == ["attach the EOB and proof of payment first"]
    assert session.get(SavingsClaim, rebate.id).status == "draft"  # type: ignore[union-attr]
    attach_document(session, claim_id=rebate.id or 0, kind="eob", content=pdf_bytes(), max_bytes=1_000_000)
    attach_document(session, claim_id=rebate.id or 0, kind="proof_of_payment", content=png_bytes(),
                    max_bytes=1_000_000)
    submitted = submit_claim(session, claim_id=rebate.id or 0, expected_version=1, submitted_on=date(2026, 2, 10),
                             today=TODAY)
    assert submitted.status == "submitted"


def test_paid_amount_checks(session: Session, enrolled: Patient) -> None:
    card = claim(session, enrolled, date(2026, 2, 2), method="card_secondary")
    with pytest.raises(ValidationFailed) as early:
        mark_paid(session, claim_id=card.id or 0, expected_version=1, paid_cents=100, paid_on=date(2026, 3, 1),
                  today=TODAY)
    assert early.value.for_field("status") == ["only a submitted claim can be paid (this one is draft)"]
    submit_claim(session, claim_id=card.id or 0, expected_version=1, submitted_on=date(2026, 2, 3), today=TODAY)
    with pytest.raises(ValidationFailed) as too_much:
        mark_paid(session, claim_id=card.id or 0, expected_version=2, paid_cents=30_001, paid_on=date(2026, 3, 1),
                  today=TODAY)
    assert too_much.value.for_field("paid") == ["cannot exceed the patient responsibility ($300.00)"]
    with pytest.raises(ValidationFailed) as negative:
        mark_paid(session, claim_id=card.id or 0, expected_version=2, paid_cents=-1, paid_on=date(2026, 3, 1),
                  today=TODAY)
    assert negative.value.for_field("paid") == ["cannot be negative"]
    assert session.get(SavingsClaim, card.id).status == "submitted"  # type: ignore[union-attr]


def test_stale_claim_edit_is_refused_and_loses_nothing(session: Session, enrolled: Patient) -> None:
    draft = claim(session, enrolled, date(2026, 2, 2))
    fixed = ClaimAmounts(billed_cents=90_000, insurance_paid_cents=70_000, patient_responsibility_cents=20_000)
    update_claim_amounts(session, claim_id=draft.id or 0, expected_version=1, amounts=fixed)
    with pytest.raises(StaleEdit) as failure:
        update_claim_amounts(session, claim_id=draft.id or 0, expected_version=1, amounts=AMOUNTS)
    assert "changed by someone else" in str(failure.value)
    stored = session.get(SavingsClaim, draft.id)
    assert stored is not None and stored.insurance_paid_cents == 70_000 and stored.savings_applied_cents == 19_000
