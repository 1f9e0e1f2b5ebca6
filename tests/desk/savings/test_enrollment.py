"""Enrollment: eligible patients only, card checks, one open enrollment, stale edits, reminders, nurse flags."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from desk.errors import StaleEdit, ValidationFailed
from desk.models import Patient, SavingsEnrollment
from desk.savings.enrollment import (
    CardDetails,
    end_enrollment,
    enroll_patient,
    enrollment_for_service,
    enrollment_reminders,
    savings_flags,
    update_enrollment,
)
from tests.desk.savings.conftest import TODAY, enroll
from tests.factories import make_coverage, make_patient


def test_enroll_an_eligible_patient(session: Session, patient: Patient) -> None:
    enrollment = enroll(session, patient, member_id=" wm-778899 ")
    assert enrollment.status == "active" and enrollment.member_id == "WM-778899"
    assert enrollment_for_service(session, patient_id=patient.id or 0, service_date=date(2026, 3, 1)) == enrollment
    assert enrollment_for_service(session, patient_id=patient.id or 0, service_date=date(2025, 12, 1)) is None


def test_government_secondary_patient_cannot_enroll(session: Session) -> None:
    person = make_patient(session, state="IL")
    make_coverage(session, patient=person, plan_type="commercial", priority="primary")
    make_coverage(session, patient=person, plan_type="medicaid_managed", priority="secondary")
    with pytest.raises(ValidationFailed) as failure:
        enroll(session, person)
    assert "Medicaid managed care (secondary) is a government program" in failure.value.for_field("patient")[0]
    assert session.exec(select(SavingsEnrollment)).all() == []


@pytest.mark.parametrize(
    ("card", "field", "message"),
    [
        ({"member_id": ""}, "member_id", "required for an active enrollment"),
        ({"member_id": "AB"}, "member_id", "4-30 letters"),
        ({"rx_bin": "61002"}, "rx_bin", "exactly 6 digits"),
        ({"rx_pcn": "TOO-LONG-PCN"}, "rx_pcn", "1-10 letters or digits"),
        ({"card_expires_on": date(2025, 12, 31)}, "card_expires_on", "cannot expire before"),
    ],
)
def test_bad_card_details_are_refused(
    session: Session, patient: Patient, card: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as failure:
        enroll(session, patient, **card)
    assert any(message in m for m in failure.value.for_field(field))
    assert session.exec(select(SavingsEnrollment)).all() == []


def test_future_enrollment_date_and_second_open_enrollment_are_refused(session: Session, patient: Patient) -> None:
    with pytest.raises(ValidationFailed) as failure:
        enroll_patient(session, patient_id=patient.id or 0, enrolled_on=date(2026, 7, 1),
                       card=CardDetails(member_id="WM1234"), today=TODAY)
    assert failure.value.for_field("enrolled_on") == ["cannot be in the future"]
    enroll(session, patient)
    with pytest.raises(ValidationFailed) as again:
        enroll(session, patient)
    assert "already has a active enrollment" in again.value.for_field("patient")[0]
    assert len(session.exec(select(SavingsEnrollment)).all()) == 1


def test_pending_enrollment_does_not_cover_claims_until_active(session: Session, patient: Patient) -> None:
    pending = enroll_patient(session, patient_id=patient.id or 0, enrolled_on=date(2026, 1, 2),
                             card=CardDetails(), status="pending", today=TODAY)
    assert enrollment_for_service(session, patient_id=patient.id or 0, service_date=date(2026, 2, 1)) is None
    active = update_enrollment(session, enrollment_id=pending.id or 0, expected_version=pending.version,
                               card=CardDetails(member_id="WM5555", card_expires_on=date(2026, 12, 31)),
                               status="active")
    assert active.version == 2
    assert enrollment_for_service(session, patient_id=patient.id or 0, service_date=date(2026, 2, 1)) == active


def test_stale_enrollment_edit_is_refused(session: Session, patient: Patient) -> None:
    enrollment = enroll(session, patient)
    update_enrollment(session, enrollment_id=enrollment.id or 0, expected_version=1,
                      card=CardDetails(member_id="WM0001", card_expires_on=date(2027, 12, 31)), status="active")
    with pytest.raises(StaleEdit):
        update_enrollment(session, enrollment_id=enrollment.id or 0, expected_version=1,
                          card=CardDetails(member_id="WM0002", card_expires_on=date(2027, 12, 31)), status="active")
    assert session.get(SavingsEnrollment, enrollment.id).member_id == "WM0001"  # type: ignore[union-attr]


def test_ended_enrollment_still_covers_earlier_dates(session: Session, patient: Patient) -> None:
    enrollment = enroll(session, patient)
    with pytest.raises(ValidationFailed) as failure:
        end_enrollment(session, enrollment_id=enrollment.id or 0, expected_version=1, ended_on=date(2026, 5, 1),
                       reason=" ")
    assert failure.value.for_field("reason") == ["say why the enrollment ends"]
    end_enrollment(session, enrollment_id=enrollment.id or 0, expected_version=1, ended_on=date(2026, 5, 1),
                   reason="switched to Medicare")
    pid = patient.id or 0
    assert enrollment_for_service(session, patient_id=pid, service_date=date(2026, 4, 30)) is not None
    assert enrollment_for_service(session, patient_id=pid, service_date=date(2026, 5, 2)) is None


def test_expired_card_does_not_cover_later_dates(session: Session, patient: Patient) -> None:
    enroll(session, patient, card_expires_on=date(2026, 3, 31))
    pid = patient.id or 0
    assert enrollment_for_service(session, patient_id=pid, service_date=date(2026, 4, 1)) is None


def test_reminders_before_card_expiry_and_year_end(session: Session, patient: Patient) -> None:
    enrollment = enroll(session, patient, card_expires_on=date(2026, 7, 15))
    reminders = enrollment_reminders(session, today=TODAY, days_ahead=30)
    assert [(r.kind, r.due_on) for r in reminders] == [("card_expiry", date(2026, 7, 15))]
    assert reminders[0].enrollment_id == enrollment.id
    december = enrollment_reminders(session, today=date(2026, 12, 10), days_ahead=30)
    assert [(r.kind, r.due_on) for r in december] == [("card_expiry", date(2026, 7, 15)),
                                                       ("year_end", date(2026, 12, 31))]
    assert "expired on 07/15/2026" in december[0].message
    assert "Benefits reset on 01/01/2027" in december[1].message
    assert enrollment_reminders(session, today=date(2026, 5, 1), days_ahead=30) == []


def test_nurse_flags_carry_no_amounts(session: Session, enrolled: Patient) -> None:
    flags = savings_flags(session, patient_id=enrolled.id or 0, on=date(2026, 3, 1))
    assert (flags.eligible, flags.enrolled) == (True, True)
    assert set(flags.__dataclass_fields__) == {"eligible", "enrolled"}
