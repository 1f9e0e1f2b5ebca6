"""PAS ClaimResponse import: approvals, denials, pends and appeals through the lifecycle; bad input changes nothing."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session, func, select

from desk.fhir import codes as c
from desk.fhir.claim_response import ClaimResponseRejected, apply_claim_response
from desk.fhir.pas import build_pas_bundle, claim_identifier, full_url
from desk.models import AuditEvent, Coverage
from desk.models.prior_auth import PaAuthorization, PaDenial, PaStatusChange, PriorAuthCase
from desk.prior_auth import lifecycle as lc
from tests.desk.fhir.conftest import NOW, as_json, claim_response, export_ready_case

PERIOD = {"start": "2026-12-01", "end": "2027-05-31"}


def submitted_case(session: Session, **kwargs: Any) -> PriorAuthCase:
    """An export-ready case moved to 'submitted' (set up directly as data)."""
    case = export_ready_case(session, **kwargs)
    case.status = "submitted"
    session.add(case)
    session.flush()
    return case


def _apply(session: Session, case: PriorAuthCase, payload: dict[str, Any] | str | bytes) -> Any:
    text = json.dumps(payload) if isinstance(payload, dict) else payload
    return apply_claim_response(session, case_id=case.id, payload=text, actor="tester", now=NOW)


def test_certified_in_total_records_the_authorization_with_the_requested_quantities(session: Session) -> None:
    case = submitted_case(session)
    result = _apply(session, case, claim_response(case, period=PERIOD))
    assert (result.decision, result.status, result.auth_number) == ("approved", "approved", "AUTH-777")
    session.refresh(case)
    assert case.status == "approved" and case.auth_number == "AUTH-777"
    assert (case.auth_start_on, case.auth_end_on) == (date(2026, 12, 1), date(2027, 5, 31))
    assert (case.approved_sessions, case.approved_devices) == (8, 24)
    assert case.approved_codes == "J0013"
    auth = session.exec(select(PaAuthorization).where(PaAuthorization.case_id == case.id)).one()
    assert auth.decided_on == date(2026, 11, 25)
    history = session.exec(select(PaStatusChange).where(PaStatusChange.case_id == case.id)).all()
    assert history[-1].to_status == "approved" and "PAS ClaimResponse" in history[-1].note
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "import")).all()
    assert events and "approved" in events[-1].detail


def test_partial_approval_takes_the_authorized_visits(session: Session) -> None:
    case = submitted_case(session)
    result = _apply(session, case, claim_response(case, action="A2", period=PERIOD,
                                                  quantity={"value": 6, "unit": "visits", "code": "VS"}))
    assert (result.approved_sessions, result.approved_devices) == (6, None)
    session.refresh(case)
    assert (case.approved_sessions, case.approved_devices) == (6, None)


def test_units_of_the_drug_code_become_devices(session: Session) -> None:
    case = submitted_case(session)
    _apply(session, case, claim_response(case, action="A6", period=PERIOD,
                                         quantity={"value": 672, "unit": "units", "code": "FL"}))
    session.refresh(case)
    assert case.approved_devices == 24  # 672 mg of J0013 = 24 devices of 28 mg


def test_item_period_serves_when_the_response_has_no_top_level_period(session: Session) -> None:
    case = submitted_case(session)
    data = claim_response(case)
    data["item"][0]["extension"] = [{"url": c.EXT_ITEM_PREAUTH_PERIOD, "valuePeriod": PERIOD}]
    _apply(session, case, data)
    session.refresh(case)
    assert case.auth_end_on == date(2027, 5, 31)


def test_denial_keeps_the_payer_reasons(session: Session) -> None:
    case = submitted_case(session)
    data = claim_response(case, action="A3", pre_auth_ref=None, reasons=("Two trials not documented",),
                          processNote=[{"number": 1, "text": "Send chart notes for each trial"}])
    result = _apply(session, case, data)
    session.refresh(case)
    assert case.status == "denied" and result.decision == "denied"
    assert case.denial_reason == "Two trials not documented; Send chart notes for each trial"
    assert case.denied_on == date(2026, 11, 25)
    assert session.exec(select(func.count()).select_from(PaDenial)).one() == 1


def test_pended_and_queued_responses_pend_the_case(session: Session) -> None:
    first = submitted_case(session)
    assert _apply(session, first, claim_response(first, action="A4", pre_auth_ref=None)).status == "pended"
    second = submitted_case(session)
    queued = claim_response(second, pre_auth_ref=None, outcome="queued")
    del queued["item"]
    assert _apply(session, second, queued).status == "pended"


def test_a_response_inside_a_pas_response_bundle_is_found_and_matched_by_member_id(session: Session) -> None:
    case = submitted_case(session)
    member = session.get(Coverage, case.coverage_id).member_id
    response = claim_response(case, period=PERIOD)
    response["patient"] = {"reference": "Patient/p1"}
    bundle = {"resourceType": "Bundle", "type": "collection", "timestamp": "2026-11-25T10:00:00-05:00",
              "identifier": {"system": "urn:payer", "value": "R1"},
              "entry": [{"fullUrl": "http://payer.example/ClaimResponse/r1", "resource": response},
                        {"fullUrl": "http://payer.example/Patient/p1", "resource": {
                            "resourceType": "Patient", "id": "p1",
                            "identifier": [{"system": "urn:payer:member", "value": member}]}}]}
    assert _apply(session, case, bundle).status == "approved"


def test_appeal_outcomes_overturn_or_uphold(session: Session) -> None:
    won = submitted_case(session)
    won.status, won.appeal_level = "appealed", 1
    lost = submitted_case(session)
    lost.status, lost.appeal_level = "appealed", 1
    session.add_all([won, lost])
    session.flush()
    assert _apply(session, won, claim_response(won, period=PERIOD)).status == "overturned"
    assert _apply(session, lost, claim_response(lost, action="A3", pre_auth_ref=None)).status == "upheld"


def test_the_desks_own_bundle_claim_reference_is_accepted(session: Session) -> None:
    case = submitted_case(session)
    bundle = build_pas_bundle(session, case_id=case.id, now=NOW)
    data = claim_response(case, period=PERIOD, request={"reference": bundle["entry"][0]["fullUrl"]})
    assert _apply(session, case, data).status == "approved"


def _other_case_request(case: PriorAuthCase) -> dict[str, Any]:
    return claim_response(case, period=PERIOD, request={"identifier": {"value": claim_identifier(case.id + 1000)}})


def _bad_dates(case: PriorAuthCase) -> dict[str, Any]:
    return claim_response(case, period={"start": "2026-12-01", "end": "2026-02-30"})


BAD: list[tuple[str, Any, str]] = [
    ("not-json", lambda case: "{not json", "not JSON"),
    ("binary", lambda case: b"\xff\xfe\x00garbage", "not UTF-8"),
    ("array", lambda case: "[1, 2]", "not a FHIR resource"),
    ("wrong-type", lambda case: {"resourceType": "Claim", "status": "active"}, "expected 'ClaimResponse'"),
    ("invalid-fhir", lambda case: {**claim_response(case, period=PERIOD), "created": "yesterday"},
     "not valid FHIR: ClaimResponse.created"),
    ("bad-period-date", lambda case: claim_response(case, period={"start": "2026-13-01", "end": "2027-01-01"}),
     "preAuthPeriod.start"),
    ("impossible-date", _bad_dates, "preAuthPeriod.end: Input should be a valid datetime or date, day value"),
    ("month-only-date", lambda case: claim_response(case, period={"start": "2026-12-01", "end": "2027-05"}),
     "preAuthPeriod.end: '2027-05' is not a full date"),
    ("end-before-start", lambda case: claim_response(case, period={"start": "2027-01-01", "end": "2026-12-01"}),
     "before the start"),
    ("no-preauthref", lambda case: claim_response(case, pre_auth_ref=None, period=PERIOD), "preAuthRef is missing"),
    ("no-period", lambda case: claim_response(case), "preAuthPeriod is missing"),
    ("other-case", _other_case_request, "another request"),
    ("no-request", lambda case: {k: v for k, v in claim_response(case, period=PERIOD).items() if k != "request"},
     "request"),
    ("other-patient", lambda case: claim_response(case, period=PERIOD, member_id="SOMEONE-ELSE"), "another patient"),
    ("wrong-use", lambda case: claim_response(case, period=PERIOD, use="claim"), "expected 'preauthorization'"),
    ("error-outcome", lambda case: claim_response(case, outcome="error", error=[
        {"code": {"coding": [{"system": "https://codesystem.x12.org/005010/901", "code": "T4"}]}}]),
     "reports an error (X12 codes: T4)"),
    ("unknown-action", lambda case: claim_response(case, action="CT", period=PERIOD), "'CT' is not one"),
    ("no-action", lambda case: {**claim_response(case, period=PERIOD), "item": []}, "No review action"),
    ("foreign-item", lambda case: {**claim_response(case, period=PERIOD), "item": [
        {"itemSequence": 7, "adjudication": [{"category": {"text": "submitted"}}]}]}, "itemSequence 7"),
    ("partial-without-quantity", lambda case: claim_response(case, action="A2", period=PERIOD),
     "needs the authorized quantity"),
    ("odd-units", lambda case: claim_response(case, action="A6", period=PERIOD,
                                              quantity={"value": 100, "unit": "units", "code": "FL"}),
     "not a whole number of 28 mg devices"),
    ("future-decision", lambda case: claim_response(case, period=PERIOD, created="2026-12-24T10:00:00-05:00"),
     "in the future"),
]


@pytest.mark.parametrize(("build", "message"), [(b, m) for _n, b, m in BAD], ids=[n for n, _b, _m in BAD])
def test_bad_responses_are_refused_with_a_clear_message_and_nothing_changes(session: Session, build: Any,
                                                                               message: str) -> None:
    case = submitted_case(session)
    version = case.version
    before = {kind: session.exec(select(func.count()).select_from(kind)).one()
              for kind in (PaAuthorization, PaDenial, PaStatusChange, AuditEvent)}
    with pytest.raises(ClaimResponseRejected) as caught:
        _apply(session, case, build(case))
    assert message in str(caught.value)
    session.refresh(case)
    assert (case.status, case.version, case.auth_number) == ("submitted", version, "")
    after = {kind: session.exec(select(func.count()).select_from(kind)).one() for kind in before}
    assert after == before


@pytest.mark.parametrize(("status", "action"), [("draft", "A1"), ("approved", "A1"), ("pended", "A4"),
                                                ("cancelled", "A3")])
def test_a_decision_the_case_state_does_not_allow_is_refused(session: Session, status: str, action: str) -> None:
    case = export_ready_case(session)
    case.status = status
    session.add(case)
    session.flush()
    version = case.version
    with pytest.raises(ClaimResponseRejected, match=r"cannot become .* Nothing was changed"):
        _apply(session, case, claim_response(case, action=action, period=PERIOD))
    session.refresh(case)
    assert (case.status, case.version) == (status, version)


def test_a_stale_version_is_refused(session: Session) -> None:
    from desk.errors import StaleEdit
    case = submitted_case(session)
    with pytest.raises(StaleEdit):
        apply_claim_response(session, case_id=case.id, payload=as_json(claim_response(case, period=PERIOD)),
                             actor="tester", expected_version=case.version - 1, now=NOW)


def test_lifecycle_table_covers_every_decision_the_import_makes() -> None:
    for status in ("submitted", "pended", "info_requested"):
        assert {"approved", "denied"} <= lc.TRANSITIONS[status]
    assert {"overturned", "upheld"} <= lc.TRANSITIONS["appealed"]
    assert full_url(1, "claim") != full_url(2, "claim")
