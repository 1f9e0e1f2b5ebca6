"""Device accounting per authorization, and the check made before a session is recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, func, select

from desk.errors import ValidationFailed
from desk.models import Patient
from desk.models.prior_auth import PaDeviceEntry
from desk.models.rems import SessionDevice, TreatmentSession
from desk.prior_auth.devices import (
    account,
    case_account,
    check_session,
    last_devices_per_session,
    patient_accounts,
    record_device_use,
    usage_between,
)
from desk.prior_auth.lifecycle import expire_lapsed
from tests.desk.prior_auth.conftest import NOW, approved_case


def _rems_session(session: Session, *, patient_id: int, site_id: int, day: date, devices: int) -> None:
    """A REMS log session with its administered devices."""
    row = TreatmentSession(patient_id=patient_id, site_id=site_id, session_date=day, dose_mg=28 * devices,
                           devices=devices)
    session.add(row)
    session.flush()
    for n in range(devices):
        session.add(SessionDevice(treatment_session_id=row.id, sequence=n + 1,
                                  administered_at=datetime(day.year, day.month, day.day, 14, 5 * n, tzinfo=UTC)))
    session.flush()


def _entries(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(PaDeviceEntry)).one())


def test_authorized_used_remaining_counts_rems_log_and_case_entries(session: Session) -> None:
    case, auth = approved_case(session, devices=24)
    patient = session.get(Patient, case.patient_id)
    assert patient is not None
    _rems_session(session, patient_id=patient.id, site_id=patient.site_id, day=date(2026, 11, 3), devices=3)
    _rems_session(session, patient_id=patient.id, site_id=patient.site_id, day=date(2026, 11, 6), devices=2)
    # Outside the authorization window: not counted.
    _rems_session(session, patient_id=patient.id, site_id=patient.site_id, day=date(2026, 10, 30), devices=3)
    record_device_use(session, patient_id=patient.id, case_id=case.id, session_date=date(2026, 11, 10), devices=3,
                      actor="billing", now=NOW)
    result = account(session, authorization=auth)
    assert (result.authorized_devices, result.used_devices, result.remaining_devices) == (24, 8, 16)
    assert result.used_sessions == 3
    assert case_account(session, case_id=case.id) == result
    assert [a.authorization.id for a in patient_accounts(session, patient_id=patient.id)] == [auth.id]
    assert last_devices_per_session(session, patient_id=patient.id) == 3
    assert usage_between(session, patient_id=patient.id, start=date(2026, 10, 1), end=date(2026, 10, 31)).devices == 3


def test_session_without_covering_authorization_is_flagged_before_recording(session: Session) -> None:
    case, _auth = approved_case(session, start=date(2026, 11, 1), end=date(2026, 11, 30))
    verdict = check_session(session, patient_id=case.patient_id, session_date=date(2026, 10, 31), devices=2)
    assert verdict.authorization is None
    assert verdict.problems == ("No approved authorization covers 2026-10-31.",)
    with pytest.raises(ValidationFailed) as caught:
        record_device_use(session, patient_id=case.patient_id, case_id=case.id, session_date=date(2026, 10, 31),
                          devices=2, actor="billing", now=NOW)
    assert "No approved authorization covers 2026-10-31" in caught.value.for_field("devices")[0]
    assert _entries(session) == 0


def test_session_that_would_exceed_the_authorization_is_flagged(session: Session) -> None:
    case, auth = approved_case(session, devices=5)
    record_device_use(session, patient_id=case.patient_id, case_id=case.id, session_date=date(2026, 11, 2),
                      devices=3, actor="billing", now=NOW)
    verdict = check_session(session, patient_id=case.patient_id, session_date=date(2026, 11, 5), devices=3)
    assert verdict.remaining_devices_before == 2 and not verdict.covered
    assert f"authorization {auth.auth_number} has 2 left" in verdict.problems[0]
    with pytest.raises(ValidationFailed):
        record_device_use(session, patient_id=case.patient_id, case_id=case.id, session_date=date(2026, 11, 5),
                          devices=3, actor="billing", now=NOW)
    assert _entries(session) == 1
    # Exactly the remaining devices is fine.
    assert check_session(session, patient_id=case.patient_id, session_date=date(2026, 11, 5), devices=2).covered


def test_flagged_session_recorded_only_with_a_reason(session: Session) -> None:
    case, auth = approved_case(session, devices=2)
    record_device_use(session, patient_id=case.patient_id, case_id=case.id, session_date=date(2026, 11, 2),
                      devices=2, actor="billing", now=NOW)
    entry, verdict = record_device_use(session, patient_id=case.patient_id, case_id=case.id,
                                       session_date=date(2026, 11, 5), devices=2, actor="billing",
                                       override_reason="payer approved an extra session by phone", now=NOW)
    assert not verdict.covered and "recorded despite" in entry.note
    assert account(session, authorization=auth).remaining_devices == -2


def test_session_limit_counts_sessions(session: Session) -> None:
    case, _auth = approved_case(session, devices=None, sessions=1)
    record_device_use(session, patient_id=case.patient_id, case_id=case.id, session_date=date(2026, 11, 2),
                      devices=3, actor="billing", now=NOW)
    verdict = check_session(session, patient_id=case.patient_id, session_date=date(2026, 11, 9), devices=2)
    assert verdict.problems == (f"Authorization {case.auth_number} has no sessions left.",)


def test_expired_authorization_still_covers_its_past_dates(session: Session) -> None:
    case, _auth = approved_case(session, start=date(2026, 10, 1), end=date(2026, 10, 31))
    assert expire_lapsed(session, today=date(2026, 11, 26)) == 1
    assert case.status == "expired"
    assert check_session(session, patient_id=case.patient_id, session_date=date(2026, 10, 15), devices=2).covered
    assert not check_session(session, patient_id=case.patient_id, session_date=date(2026, 11, 15), devices=2).covered


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"devices": 1}, "devices", "a session uses 2 devices (56 mg) or 3 devices (84 mg)"),
        ({"devices": 4}, "devices", "a session uses 2 devices (56 mg) or 3 devices (84 mg)"),
        ({"devices": None}, "devices", "a session uses 2 devices (56 mg) or 3 devices (84 mg)"),
        ({"session_date": None}, "session_date", "required"),
        ({"session_date": date(2026, 11, 27)}, "session_date", "cannot be in the future"),
        ({"case_id": 987654}, "case_id", "no such case for this patient"),
    ],
)
def test_bad_device_entry_names_the_field_and_writes_nothing(session: Session, values: dict[str, object],
                                                             field: str, message: str) -> None:
    case, _auth = approved_case(session)
    arguments: dict[str, object] = {"session_date": date(2026, 11, 20), "devices": 2, "case_id": case.id}
    arguments.update(values)
    with pytest.raises(ValidationFailed) as caught:
        record_device_use(session, patient_id=case.patient_id, actor="billing", now=NOW,
                          **arguments)  # type: ignore[arg-type]
    assert caught.value.for_field(field) == [message]
    assert _entries(session) == 0
