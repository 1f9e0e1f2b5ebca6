"""The request against the label and the payer's approval limits, before the case may be marked ready."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlmodel import Session

from desk.errors import ValidationFailed
from desk.models.prior_auth import PriorAuthCase
from desk.policies.schema import Approval, DoseCap, Length, QuantityCap
from desk.prior_auth import lifecycle as lc
from desk.prior_auth.cases import save_request
from desk.prior_auth.packet import generate_packet
from desk.prior_auth.request_schedule import case_schedule_check, check_request_schedule, save_schedule_reason
from tests.desk.prior_auth.conftest import TODAY, draft_case, write_policy

START = date(2026, 12, 7)
FOUR_WEEKS = Approval(length=Length(value=28, unit="days"))


def test_sixteen_sessions_do_not_fit_a_28_day_approval_and_eight_do() -> None:
    check = check_request_schedule(indication="TRD", phase="initial", dose_mg=84, sessions=16, start=START,
                                   approval=FOUR_WEEKS)
    assert not check.fits
    assert check.deviations == ("the payer's approval length of 28 days (16 sessions take 78 days)",)
    assert check.proposal is not None
    assert check.proposal.describe() == "8 sessions over 4 weeks at 56 mg then 84 mg (23 devices)"


def test_the_label_first_dose_is_56_mg_for_trd_induction() -> None:
    check = check_request_schedule(indication="TRD", phase="initial", dose_mg=84, sessions=8, start=START,
                                   approval=None)
    assert check.fits and [d.mg for d in check.requested.doses] == [56, *[84] * 7]
    continuation = check_request_schedule(indication="TRD", phase="continuation", dose_mg=84, sessions=4,
                                          start=START, approval=None)
    assert [d.mg for d in continuation.requested.doses] == [84] * 4


@pytest.mark.parametrize(("dose", "sessions", "deviation"), [
    (84, 12, "the label's MDSI course of 8 sessions over 4 weeks"),
    (56, 8, "the label's MDSI dose of 84 mg"),
])
def test_mdsi_is_84_mg_twice_weekly_for_four_weeks(dose: int, sessions: int, deviation: str) -> None:
    check = check_request_schedule(indication="MDSI", phase="initial", dose_mg=dose, sessions=sessions, start=START,
                                   approval=None)
    assert deviation in check.deviations
    assert check.proposal is not None and check.proposal.describe() == \
        "8 sessions over 4 weeks at 84 mg (24 devices)"


def test_device_and_dose_caps() -> None:
    caps = Approval(quantity_caps=[QuantityCap(devices=16, per_days=28)],
                    dose_caps=[DoseCap(max_mg_per_session=56, max_sessions_per_week=2, weeks=4)])
    check = check_request_schedule(indication="TRD", phase="initial", dose_mg=84, sessions=8, start=START,
                                   approval=caps)
    assert "the payer's limit of 16 devices per 28 days (23 requested)" in check.deviations
    assert "the payer's limit of 56 mg per session" in check.deviations
    assert check.proposal is not None and check.proposal.describe() == "8 sessions over 4 weeks at 56 mg (16 devices)"


FOUR_WEEK_POLICY = """\
id: short-payer
payer: Short Health
plan_types: [commercial]
benefit: medical
title: Short Health SPRAVATO policy
source_url: https://example.org/short
reviewed_on: 2026-11-01
completeness: {status: complete}
sources:
  p: {title: Short policy, url: "https://example.org/short", kind: primary}
variants:
  - indication: trd
    phase: initial
    approval: {length: {value: 28, unit: days}}
    criteria: {id: s-age, kind: age, text: Age 18 or older, source: "p: 1", min_years: 18}
"""


def _case(session: Session, payer_files: Path) -> PriorAuthCase:
    write_policy(payer_files, FOUR_WEEK_POLICY, payer_id="short-payer")
    case = draft_case(session, payer_id="short-payer")
    save_request(session, case_id=case.id, expected_version=case.version, dose_mg=84, sessions_requested=16,
                 start_on=START, urgency="standard")
    return case


def test_a_deviation_needs_a_reason_before_ready_and_the_reason_goes_into_the_letter(session: Session,
                                                                                     payer_files: Path) -> None:
    case = _case(session, payer_files)
    with pytest.raises(ValidationFailed) as caught:
        lc.mark_ready(session, case_id=case.id, expected_version=case.version, actor="tester")
    [message] = caught.value.for_field("request")
    assert "approval length of 28 days" in message and "8 sessions over 4 weeks at 56 mg then 84 mg" in message
    assert case.status == "draft"
    with pytest.raises(ValidationFailed):
        save_schedule_reason(session, case_id=case.id, expected_version=case.version, reason="x" * 601)
    save_schedule_reason(session, case_id=case.id, expected_version=case.version,
                         reason="Prior induction response needs the full 16-session course.")
    lc.mark_ready(session, case_id=case.id, expected_version=case.version, actor="tester")
    assert case.status == "ready"
    packet = generate_packet(session, case_id=case.id, actor="tester", today=TODAY)
    text = " ".join(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(packet.content)).pages).split())
    assert "The requested schedule differs from the payer's approval length of 28 days" in text
    assert "The prescriber's reason: Prior induction response needs the full 16-session course." in text


def test_a_fitting_request_is_marked_ready_without_a_reason(session: Session, payer_files: Path) -> None:
    case = _case(session, payer_files)
    save_request(session, case_id=case.id, expected_version=case.version, dose_mg=84, sessions_requested=8,
                 start_on=START, urgency="standard")
    lc.mark_ready(session, case_id=case.id, expected_version=case.version, actor="tester")
    assert case.status == "ready"


SPLIT_POLICY = FOUR_WEEK_POLICY.replace("id: short-payer", "id: split-payer").replace(
    "benefit: medical", "benefit: unstated").replace("""    phase: initial
    approval: {length: {value: 28, unit: days}}""", """    phase: initial
    benefit: medical
    approval: {length: {value: 28, unit: days}}""") + """\
  - indication: trd
    phase: initial
    benefit: pharmacy
    approval: {length: {value: 6, unit: months}}
    criteria: {id: s-age-rx, kind: age, text: Age 18 or older, source: "p: 1", min_years: 18}
"""


@pytest.mark.parametrize(("benefit", "fits"), [("medical", False), ("pharmacy", True)])
def test_the_coverage_benefit_picks_the_approval_the_request_is_checked_against(session: Session, payer_files: Path,
                                                                                benefit: str, fits: bool) -> None:
    write_policy(payer_files, SPLIT_POLICY, payer_id="split-payer")
    case = draft_case(session, payer_id="split-payer", benefit=benefit)
    save_request(session, case_id=case.id, expected_version=case.version, dose_mg=84, sessions_requested=16,
                 start_on=START, urgency="standard")
    check = case_schedule_check(case, today=TODAY, benefit=benefit)
    assert check.fits is fits
    if not fits:
        with pytest.raises(ValidationFailed) as caught:
            lc.mark_ready(session, case_id=case.id, expected_version=case.version, actor="tester")
        assert any("approval length of 28 days" in m for m in caught.value.for_field("request"))
