"""A patient's cases with status and, once approved, the window and devices authorized / used / remaining."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from desk.models import Patient
from desk.prior_auth.devices import record_device_use
from desk.prior_auth.patient_summary import patient_authorizations
from tests.desk.prior_auth.conftest import NOW, approved_case, draft_case
from tests.factories import make_patient


def test_no_case_on_file(session: Session) -> None:
    patient = make_patient(session)
    assert patient_authorizations(session, patient_id=patient.id or 0) == []


def test_cases_newest_first_with_devices_for_the_approved_ones(session: Session) -> None:
    old, _ = approved_case(session, start=date(2026, 3, 1), end=date(2026, 8, 31), devices=20, status="expired")
    patient = session.get(Patient, old.patient_id)
    assert patient is not None and patient.id is not None
    current, _ = approved_case(session, patient=patient, devices=24, sessions=10)
    record_device_use(session, patient_id=patient.id, case_id=current.id, session_date=date(2026, 11, 10), devices=3,
                      actor="billing", now=NOW)
    other = draft_case(session)  # another patient's case never shows
    assert other.patient_id != patient.id

    rows = patient_authorizations(session, patient_id=patient.id)
    assert [r.case_id for r in rows] == [current.id, old.id]
    now_row, old_row = rows
    assert (now_row.status_label, now_row.auth_number, now_row.start_on, now_row.end_on) == (
        "Approved", f"A-{patient.id}", date(2026, 11, 1), date(2027, 4, 30))
    assert (now_row.authorized_devices, now_row.used_devices, now_row.remaining_devices) == (24, 3, 21)
    assert (now_row.authorized_sessions, now_row.remaining_sessions) == (10, 9)
    assert now_row.in_force_on(date(2026, 11, 26)) and not now_row.in_force_on(date(2027, 5, 1))
    assert old_row.status_label == "Expired" and old_row.authorized and not old_row.in_force_on(date(2026, 5, 1))
    assert (old_row.authorized_devices, old_row.used_devices, old_row.remaining_devices) == (20, 0, 20)


def test_a_case_before_approval_has_status_only(session: Session) -> None:
    case = draft_case(session)
    [row] = patient_authorizations(session, patient_id=case.patient_id)
    assert (row.case_id, row.status_label, row.payer_id, row.indication) == (case.id, "Draft", "test-payer", "TRD")
    assert not row.authorized and not row.in_force_on(date(2026, 11, 26))
    assert (row.auth_number, row.start_on, row.authorized_devices, row.used_devices, row.remaining_devices) == (
        None, None, None, None, None)
