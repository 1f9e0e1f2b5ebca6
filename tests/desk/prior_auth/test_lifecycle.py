"""Every transition of the case lifecycle, legal and illegal, with history, clocks and bad input."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from desk.errors import StaleEdit, ValidationFailed
from desk.models.prior_auth import (
    PA_STATUSES,
    PaAppeal,
    PaAuthorization,
    PaDenial,
    PaInfoRequest,
    PaStatusChange,
    PaSubmission,
    PriorAuthCase,
)
from desk.prior_auth import lifecycle as lc
from desk.prior_auth.cases import status_history
from desk.prior_auth.checklist import attest
from tests.desk.prior_auth.conftest import NOW, TODAY, draft_case

TERMS = lc.ApprovalTerms(auth_number="AUTH-1", start_on=date(2026, 11, 20), end_on=date(2027, 5, 19),
                         approved_devices=56, approved_codes="s0013; G2083", decided_on=date(2026, 11, 25))


def _complete_checklist(session: Session, case: PriorAuthCase) -> None:
    attest(session, case_id=case.id, expected_version=case.version, criterion_id="trd-rems",
           note="Site REMS certificate on file", actor="tester")


def _step(session: Session, case: PriorAuthCase, to: str) -> PriorAuthCase:
    """Move `case` to `to` with valid details through the service for that step."""
    common: dict[str, Any] = {"case_id": case.id, "expected_version": case.version, "actor": "tester", "now": NOW}
    calls: dict[str, Callable[[], PriorAuthCase]] = {
        "ready": lambda: lc.mark_ready(session, case_id=case.id, expected_version=case.version, actor="tester"),
        "draft": lambda: lc.reopen_draft(session, case_id=case.id, expected_version=case.version, actor="tester"),
        "submitted": lambda: lc.record_submission(session, submitted_at=NOW - timedelta(hours=1), channel="fax",
                                                  reference="FX-1", **common),
        "pended": lambda: lc.record_pended(session, **common),
        "info_requested": lambda: lc.record_info_request(session, requested_on=TODAY, due_on=TODAY + timedelta(7),
                                                         description="latest PHQ-9", **common),
        "approved": lambda: lc.record_approval(session, terms=TERMS, **common),
        "denied": lambda: lc.record_denial(session, reason="Two trials not documented", denied_on=TODAY, **common),
        "appealed": lambda: lc.record_appeal(session, filed_on=TODAY, peer_to_peer=True, peer_to_peer_on=TODAY,
                                             **common),
        "overturned": lambda: lc.record_overturned(session, terms=TERMS, **common),
        "upheld": lambda: lc.record_upheld(session, decided_on=TODAY, **common),
        "cancelled": lambda: lc.cancel(session, reason="patient moved", **common),
    }
    return calls[to]()


def _in_status(session: Session, status: str) -> PriorAuthCase:
    """A case whose checklist is complete, placed in `status` (data set-up for the transition table)."""
    case = draft_case(session)
    _complete_checklist(session, case)
    case.status = status
    session.add(case)
    session.flush()
    return case


ALL_PAIRS = [(a, b) for a in PA_STATUSES for b in PA_STATUSES if b != "expired"]


@pytest.mark.parametrize(("current", "wanted"), [p for p in ALL_PAIRS if p[1] in lc.TRANSITIONS[p[0]]])
def test_every_legal_transition_is_recorded_in_the_history(session: Session, current: str, wanted: str) -> None:
    case = _in_status(session, current)
    moved = _step(session, case, wanted)
    assert moved.status == wanted
    last = status_history(session, case_id=case.id)[-1]
    assert (last.from_status, last.to_status, last.actor) == (current, wanted, "tester")


@pytest.mark.parametrize(("current", "wanted"), [p for p in ALL_PAIRS if p[1] not in lc.TRANSITIONS[p[0]]])
def test_every_illegal_transition_is_refused_naming_both_states(session: Session, current: str,
                                                                wanted: str) -> None:
    case = _in_status(session, current)
    version = case.version
    with pytest.raises(lc.IllegalTransition) as caught:
        _step(session, case, wanted)
    message = str(caught.value)
    assert f"'{lc.STATUS_LABELS[current]}'" in message and f"'{lc.STATUS_LABELS[wanted]}'" in message
    session.refresh(case)
    assert (case.status, case.version) == (current, version)


def test_closed_statuses_allow_nothing() -> None:
    assert lc.allowed_next("cancelled") == [] and lc.allowed_next("expired") == []
    assert "none (the case is closed)" in str(lc.IllegalTransition("cancelled", "draft"))


def test_ready_only_when_checklist_complete_and_lists_what_is_missing(session: Session) -> None:
    case = draft_case(session)
    with pytest.raises(ValidationFailed) as caught:
        lc.mark_ready(session, case_id=case.id, expected_version=case.version, actor="tester")
    assert "attestation: The setting is REMS certified" in caught.value.for_field("checklist")[0]
    assert case.status == "draft"
    _complete_checklist(session, case)
    assert lc.mark_ready(session, case_id=case.id, expected_version=case.version, actor="tester").status == "ready"


def test_submission_starts_the_payer_clock(session: Session) -> None:
    case = _in_status(session, "ready")
    submitted_at = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
    lc.record_submission(session, case_id=case.id, expected_version=case.version, actor="tester",
                         submitted_at=submitted_at, channel="portal", reference="PRT-77", now=NOW)
    # The test payer's file sets 72 hours (standard).
    assert case.decision_due_at == submitted_at + timedelta(hours=72)
    row = session.exec(select(PaSubmission).where(PaSubmission.case_id == case.id)).one()
    assert (row.channel, row.reference, row.decision_due_at) == ("portal", "PRT-77", case.decision_due_at)


def test_expedited_submission_and_default_clock_for_payer_without_file(session: Session) -> None:
    case = _in_status(session, "ready")
    lc.record_submission(session, case_id=case.id, expected_version=case.version, actor="t", now=NOW,
                         submitted_at=NOW, channel="fax", urgency="expedited")
    assert case.decision_due_at == NOW + timedelta(hours=24)
    other = _in_status(session, "ready")
    other.payer_id = "payer-without-file"
    session.add(other)
    session.flush()
    lc.record_submission(session, case_id=other.id, expected_version=other.version, actor="t", now=NOW,
                         submitted_at=datetime(2026, 11, 20, 15, tzinfo=UTC), channel="fax")
    # Commercial default: 15 calendar days, ending at local midnight (New York).
    assert other.decision_due_at == datetime(2026, 12, 6, 4, 59, 59, tzinfo=UTC)


def test_submission_without_a_known_clock_sets_no_due_time(session: Session) -> None:
    case = _in_status(session, "ready")
    case.plan_type = "medicare_advantage"  # the test payer's file has no clock for it and there is no default
    session.add(case)
    session.flush()
    lc.record_submission(session, case_id=case.id, expected_version=case.version, actor="t", now=NOW,
                         submitted_at=NOW, channel="fax")
    assert case.status == "submitted"
    assert case.decision_due_at is None
    row = session.exec(select(PaSubmission).where(PaSubmission.case_id == case.id)).one()
    assert row.decision_due_at is None


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"submitted_at": None}, "submitted_at", "required"),
        ({"submitted_at": datetime(2026, 11, 25, 9)}, "submitted_at", "needs a time zone"),
        ({"submitted_at": NOW + timedelta(hours=2)}, "submitted_at", "cannot be in the future"),
        ({"channel": "pigeon"}, "channel", "expected one of fax, portal, phone, electronic_pa, mail"),
        ({"channel": "portal", "reference": " "}, "reference", "required for a portal submission"),
        ({"urgency": "now"}, "urgency", "expected one of standard, expedited"),
    ],
)
def test_bad_submission_names_the_field_and_writes_nothing(session: Session, values: dict[str, Any], field: str,
                                                           message: str) -> None:
    case = _in_status(session, "ready")
    arguments: dict[str, Any] = {"submitted_at": NOW, "channel": "fax", "reference": ""}
    arguments.update(values)
    with pytest.raises(ValidationFailed) as caught:
        lc.record_submission(session, case_id=case.id, expected_version=case.version, actor="t", now=NOW,
                             **arguments)
    assert caught.value.for_field(field) == [message]
    assert case.status == "ready"
    assert session.exec(select(func.count()).select_from(PaSubmission)).one() == 0


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"auth_number": " "}, "auth_number", "required"),
        ({"start_on": None}, "start_on", "required"),
        ({"end_on": date(2026, 11, 1)}, "end_on", "cannot be before the start date"),
        ({"approved_devices": None, "approved_sessions": None}, "approved_devices",
         "enter the approved devices or the approved sessions"),
        ({"approved_devices": 0}, "approved_devices", "must be a positive whole number"),
        ({"approved_devices": None, "approved_sessions": -1}, "approved_sessions", "must be a positive whole number"),
        ({"decided_on": date(2026, 11, 27)}, "decided_on", "cannot be in the future"),
    ],
)
def test_bad_approval_names_the_field_and_writes_nothing(session: Session, change: dict[str, Any], field: str,
                                                         message: str) -> None:
    case = _in_status(session, "pended")
    values = {**TERMS.__dict__, **change}
    with pytest.raises(ValidationFailed) as caught:
        lc.record_approval(session, case_id=case.id, expected_version=case.version, actor="t",
                           terms=lc.ApprovalTerms(**values), now=NOW)
    assert caught.value.for_field(field) == [message]
    assert case.status == "pended"
    assert session.exec(select(func.count()).select_from(PaAuthorization)).one() == 0


def test_approval_records_terms_and_normalises_codes(session: Session) -> None:
    case = _in_status(session, "pended")
    lc.record_approval(session, case_id=case.id, expected_version=case.version, actor="t", terms=TERMS, now=NOW)
    auth = session.exec(select(PaAuthorization).where(PaAuthorization.case_id == case.id)).one()
    assert (auth.auth_number, auth.approved_devices, auth.approved_codes) == ("AUTH-1", 56, "S0013,G2083")
    assert (case.auth_end_on, case.approved_codes) == (date(2027, 5, 19), "S0013,G2083")


@pytest.mark.parametrize(
    ("call", "field", "message"),
    [
        (lambda s, c: lc.record_denial(s, case_id=c.id, expected_version=c.version, actor="t", reason="",
                                       denied_on=TODAY, now=NOW), "reason", "enter the payer's stated reason"),
        (lambda s, c: lc.record_denial(s, case_id=c.id, expected_version=c.version, actor="t", reason="x",
                                       denied_on=None, now=NOW), "denied_on", "required"),
        (lambda s, c: lc.record_denial(s, case_id=c.id, expected_version=c.version, actor="t", reason="x",
                                       denied_on=TODAY + timedelta(1), now=NOW),
         "denied_on", "cannot be in the future"),
        (lambda s, c: lc.record_info_request(s, case_id=c.id, expected_version=c.version, actor="t",
                                             requested_on=TODAY, due_on=TODAY - timedelta(1), description="x",
                                             now=NOW), "due_on", "cannot be before the request date"),
        (lambda s, c: lc.record_info_request(s, case_id=c.id, expected_version=c.version, actor="t",
                                             requested_on=TODAY, due_on=TODAY, description=" ", now=NOW),
         "description", "say what the payer asked for"),
        (lambda s, c: lc.cancel(s, case_id=c.id, expected_version=c.version, actor="t", reason=" ", now=NOW),
         "reason", "say why the case is cancelled"),
    ],
)
def test_bad_decision_details_name_the_field_and_write_nothing(session: Session, call: Any, field: str,
                                                               message: str) -> None:
    case = _in_status(session, "pended")
    with pytest.raises(ValidationFailed) as caught:
        call(session, case)
    assert caught.value.for_field(field) == [message]
    assert case.status == "pended"
    for model in (PaDenial, PaInfoRequest):
        assert session.exec(select(func.count()).select_from(model)).one() == 0


def test_appeal_levels_and_peer_to_peer(session: Session) -> None:
    case = _in_status(session, "pended")
    lc.record_denial(session, case_id=case.id, expected_version=case.version, actor="t", reason="Not enough trials",
                     denied_on=date(2026, 11, 20), now=NOW)
    with pytest.raises(ValidationFailed) as caught:
        lc.record_appeal(session, case_id=case.id, expected_version=case.version, actor="t",
                         filed_on=date(2026, 11, 19), now=NOW)
    assert caught.value.for_field("filed_on") == ["cannot be before the denial"]
    with pytest.raises(ValidationFailed) as caught:
        lc.record_appeal(session, case_id=case.id, expected_version=case.version, actor="t", filed_on=TODAY,
                         peer_to_peer_on=TODAY, now=NOW)
    assert caught.value.for_field("peer_to_peer_on") == ["only with a peer-to-peer call"]
    lc.record_appeal(session, case_id=case.id, expected_version=case.version, actor="t", filed_on=TODAY,
                     peer_to_peer=True, peer_to_peer_on=TODAY, now=NOW)
    lc.record_upheld(session, case_id=case.id, expected_version=case.version, actor="t", decided_on=TODAY, now=NOW)
    with pytest.raises(ValidationFailed) as caught:
        lc.record_appeal(session, case_id=case.id, expected_version=case.version, actor="t", filed_on=TODAY, level=1,
                         now=NOW)
    assert caught.value.for_field("level") == ["must be above the last level (1)"]
    lc.record_appeal(session, case_id=case.id, expected_version=case.version, actor="t", filed_on=TODAY, now=NOW)
    lc.record_overturned(session, case_id=case.id, expected_version=case.version, actor="t", terms=TERMS, now=NOW)
    appeals = session.exec(select(PaAppeal).where(PaAppeal.case_id == case.id).order_by(col(PaAppeal.id))).all()
    assert [(a.level, a.peer_to_peer, a.outcome) for a in appeals] == [(1, True, "upheld"), (2, False, "overturned")]
    assert session.exec(select(PaAuthorization).where(PaAuthorization.case_id == case.id)).one().via_appeal


def test_information_sent_closes_the_request(session: Session) -> None:
    case = _in_status(session, "submitted")
    lc.record_info_request(session, case_id=case.id, expected_version=case.version, actor="t", requested_on=TODAY,
                           due_on=TODAY + timedelta(days=3), description="MADRS", now=NOW)
    assert case.info_due_on == TODAY + timedelta(days=3)
    lc.record_pended(session, case_id=case.id, expected_version=case.version, actor="t", note="faxed", now=NOW)
    request = session.exec(select(PaInfoRequest).where(PaInfoRequest.case_id == case.id)).one()
    assert request.answered_at is not None and case.info_due_on is None


def test_expiry_when_the_end_date_passes(session: Session) -> None:
    approved = _in_status(session, "approved")
    approved.auth_end_on = date(2026, 11, 25)
    overturned = _in_status(session, "overturned")
    overturned.auth_end_on = date(2026, 11, 1)
    current = _in_status(session, "approved")
    current.auth_end_on = TODAY  # the last day still counts
    denied = _in_status(session, "denied")
    denied.auth_end_on = date(2026, 1, 1)
    session.add_all([approved, overturned, current, denied])
    session.flush()
    assert lc.expire_lapsed(session, today=TODAY) == 2
    assert [approved.status, overturned.status, current.status, denied.status] == [
        "expired", "expired", "approved", "denied"]
    note = session.exec(select(PaStatusChange).where(PaStatusChange.case_id == approved.id,
                                                     PaStatusChange.to_status == "expired")).one()
    assert note.actor == "system" and "2026-11-25" in note.note
    assert lc.expire_lapsed(session, today=TODAY) == 0


def test_stale_transition_is_refused(session: Session) -> None:
    case = _in_status(session, "pended")
    old = case.version
    lc.record_denial(session, case_id=case.id, expected_version=old, actor="a", reason="x", denied_on=TODAY, now=NOW)
    with pytest.raises(StaleEdit):
        lc.record_appeal(session, case_id=case.id, expected_version=old, actor="b", filed_on=TODAY, now=NOW)
    assert case.status == "denied"
