"""Amendments: the only way to correct a submitted session; validated, reasoned, kept, audited."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from desk.errors import PermissionDenied, StaleEdit, ValidationFailed
from desk.models import AuditEvent, SessionAmendment, TreatmentSession
from desk.rems.amendments import amend_session, amendments_of
from desk.rems.config import RemsSettings
from desk.rems.pmf import mark_submitted, pmf_data
from desk.rems.sessions import record_session
from tests.desk.rems.conftest import BILLING, DAY, NOW, NURSE, full_session


def _submitted(session: Session, enrolled: tuple[int, int, int], settings: RemsSettings) -> TreatmentSession:
    ts = record_session(session, user=NURSE, data=full_session(*enrolled), now=NOW, settings=settings)
    session.commit()
    assert ts.id is not None
    mark_submitted(session, user=NURSE, session_id=ts.id, expected_version=ts.version, submitted_on=DAY,
                   channel="fax", confirmation_number="", today=date(2026, 3, 11))
    session.commit()
    return ts


def test_amendment_corrects_and_keeps_before_after(session: Session, enrolled: tuple[int, int, int],
                                                    settings: RemsSettings) -> None:
    ts = _submitted(session, enrolled, settings)
    assert ts.id is not None
    amendment = amend_session(session, user=NURSE, session_id=ts.id, expected_version=ts.version,
                              data=full_session(*enrolled, lot_number="LOT4521B", ready_to_leave_minutes=80),
                              reason="Lot number misread from the carton", now=NOW, settings=settings)
    session.commit()
    assert ts.pmf_status == "submitted" and ts.lot_number == "LOT4521B"
    assert json.loads(amendment.changes_json) == {"lot_number": ["LOT4521A", "LOT4521B"],
                                                  "ready_to_leave_minutes": [95, 80]}
    assert amendment.amended_by == "nurse1"
    assert [a.id for a in amendments_of(session, session_id=ts.id)] == [amendment.id]
    assert pmf_data(session, session_id=ts.id)["session"]["lot_number"] == "LOT4521B"
    audited = session.exec(select(AuditEvent).where(AuditEvent.entity == "session_amendment")).all()
    assert [e.action for e in audited] == ["create"]


@pytest.mark.parametrize(
    ("changes", "reason", "field"),
    [
        ({"lot_number": "LOT4521B"}, "typo", "reason"),
        ({}, "No change at all in this one", "session"),
        ({"device_times": ()}, "Remove devices by mistake", "discharged_at"),
        ({"readings": ()}, "Readings wiped by mistake", "readings"),
    ],
)
def test_bad_amendment_writes_nothing(session: Session, enrolled: tuple[int, int, int], settings: RemsSettings,
                                      changes: dict[str, object], reason: str, field: str) -> None:
    ts = _submitted(session, enrolled, settings)
    assert ts.id is not None
    version = ts.version
    with pytest.raises(ValidationFailed) as caught:
        amend_session(session, user=NURSE, session_id=ts.id, expected_version=version,
                      data=full_session(*enrolled, **changes), reason=reason, now=NOW, settings=settings)  # type: ignore[arg-type]
    session.rollback()
    assert caught.value.for_field(field)
    assert session.exec(select(func.count()).select_from(SessionAmendment)).one() == 0
    reloaded = session.get(TreatmentSession, ts.id)
    assert reloaded is not None and reloaded.version == version and reloaded.lot_number == "LOT4521A"


def test_amendment_only_for_submitted_forms(session: Session, enrolled: tuple[int, int, int],
                                            settings: RemsSettings) -> None:
    ts = record_session(session, user=NURSE, data=full_session(*enrolled), now=NOW, settings=settings)
    session.commit()
    assert ts.id is not None
    with pytest.raises(ValidationFailed) as caught:
        amend_session(session, user=NURSE, session_id=ts.id, expected_version=ts.version,
                      data=full_session(*enrolled, lot_number="X2"), reason="Correcting the lot number",
                      now=NOW, settings=settings)
    assert caught.value.for_field("pmf_status")


def test_amendment_role_and_version(session: Session, enrolled: tuple[int, int, int], settings: RemsSettings) -> None:
    ts = _submitted(session, enrolled, settings)
    assert ts.id is not None
    with pytest.raises(PermissionDenied):
        amend_session(session, user=BILLING, session_id=ts.id, expected_version=ts.version,
                      data=full_session(*enrolled, lot_number="X2"), reason="Correcting the lot number",
                      now=NOW, settings=settings)
    with pytest.raises(StaleEdit):
        amend_session(session, user=NURSE, session_id=ts.id, expected_version=ts.version - 1,
                      data=full_session(*enrolled, lot_number="X2"), reason="Correcting the lot number",
                      now=NOW, settings=settings)
