"""Patient enrollment and site certification: validation, blockers shown to the nurse, roles."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from desk.errors import PermissionDenied, StaleEdit, ValidationFailed
from desk.models import RemsEnrollment
from desk.rems.enrollment import (
    enrollment_blocker,
    get_enrollment,
    is_enrolled,
    save_enrollment,
    site_certification_problem,
    start_blockers,
)
from tests.desk.rems.conftest import BILLING, NURSE
from tests.factories import make_patient, make_site

TODAY = date(2026, 3, 10)


def _save(session: Session, patient_id: int, **overrides: object) -> RemsEnrollment:
    values: dict[str, object] = {
        "user": NURSE, "patient_id": patient_id, "prescriber_id": None,
        "patient_signed_on": date(2026, 3, 1), "prescriber_signed_on": date(2026, 3, 2),
        "submitted_on": date(2026, 3, 2), "confirmation_number": " C-123 ", "today": TODAY,
    }
    values.update(overrides)
    return save_enrollment(session, **values)  # type: ignore[arg-type]


def test_complete_enrollment_unblocks(session: Session) -> None:
    patient = make_patient(session)
    assert patient.id is not None
    assert start_blockers(session, patient_id=patient.id, site_id=patient.site_id)[0].code == "not_enrolled"
    enrollment = _save(session, patient.id)
    session.commit()
    assert enrollment.confirmation_number == "C-123"
    assert is_enrolled(get_enrollment(session, patient_id=patient.id))
    assert start_blockers(session, patient_id=patient.id, site_id=patient.site_id) == []


def test_signed_but_not_submitted_is_not_enrolled(session: Session) -> None:
    patient = make_patient(session)
    assert patient.id is not None
    enrollment = _save(session, patient.id, submitted_on=None, confirmation_number="")
    blocker = enrollment_blocker(enrollment)
    assert blocker is not None and blocker.code == "enrollment_incomplete"
    assert "the submission date missing" in blocker.reason


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"patient_signed_on": None}, "patient_signed_on", "the form cannot be submitted before the patient signs it"),
        ({"prescriber_signed_on": None}, "prescriber_signed_on",
         "the form cannot be submitted before the prescriber signs it"),
        ({"submitted_on": date(2026, 2, 28)}, "submitted_on", "is before the patient's signature"),
        ({"submitted_on": date(2026, 3, 11)}, "submitted_on", "cannot be in the future"),
        ({"submitted_on": None}, "submitted_on", "a confirmation number needs the submission date"),
        ({"prescriber_id": 9999}, "prescriber_id", "no such prescriber"),
    ],
)
def test_bad_enrollment_names_field_and_writes_nothing(session: Session, overrides: dict[str, object], field: str,
                                                       message: str) -> None:
    patient = make_patient(session)
    session.commit()
    assert patient.id is not None
    with pytest.raises(ValidationFailed) as caught:
        _save(session, patient.id, **overrides)
    session.rollback()
    assert message in caught.value.for_field(field)
    assert session.exec(select(func.count()).select_from(RemsEnrollment)).one() == 0


def test_billing_cannot_enroll(session: Session) -> None:
    patient = make_patient(session)
    assert patient.id is not None
    with pytest.raises(PermissionDenied):
        _save(session, patient.id, user=BILLING)


def test_stale_enrollment_edit(session: Session) -> None:
    patient = make_patient(session)
    assert patient.id is not None
    first = _save(session, patient.id, submitted_on=None, confirmation_number="")
    session.commit()
    version = first.version
    _save(session, patient.id, expected_version=version)
    session.commit()
    with pytest.raises(StaleEdit):
        _save(session, patient.id, expected_version=version)


def test_site_certification_warning(session: Session) -> None:
    certified = make_site(session)
    assert site_certification_problem(certified) is None
    missing = make_site(session, rems_setting_id="", rems_certified_on=None)
    problem = site_certification_problem(missing)
    assert problem is not None and "REMS setting ID, certification date" in problem
