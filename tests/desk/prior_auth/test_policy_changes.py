"""A changed payer file re-evaluates the open cases of that payer: criterion-level change, flag, audit row."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from desk.errors import ValidationFailed
from desk.models import AuditEvent
from desk.models.prior_auth import PayerPolicyFile
from desk.prior_auth.cases import save_request
from desk.prior_auth.checklist import case_checklist
from desk.prior_auth.payer_rules import policy_catalog
from desk.prior_auth.policy_changes import acknowledge_policy_change, policy_change_of, sync_payer_files
from desk.prior_auth.worklist import WorklistFilter, case_page
from tests.desk.prior_auth.conftest import NOW, TEST_POLICY, TODAY, draft_case, write_policy

STRICTER = TEST_POLICY.replace("min_years: 18}", "min_years: 90}").replace(
    "completeness: {status: complete}", "completeness: {status: complete}\nversion: '2'")


def test_a_changed_file_records_the_criterion_change_on_open_cases(session: Session, payer_files: Path) -> None:
    case = draft_case(session)
    first = sync_payer_files(session, catalog=policy_catalog(), as_of=TODAY, now=NOW)
    assert [(f.payer_id, f.first_seen) for f in first] == [("test-payer", True)]
    assert case.policy_change == ""
    assert sync_payer_files(session, catalog=policy_catalog(), as_of=TODAY, now=NOW) == []

    write_policy(payer_files, STRICTER)
    again = sync_payer_files(session, catalog=policy_catalog(), as_of=TODAY, now=NOW)
    assert [(f.payer_id, f.first_seen, f.cases_checked, f.cases_changed) for f in again] == [
        ("test-payer", False, 1, (case.id,))]
    session.refresh(case)
    change = policy_change_of(case)
    assert change is not None and change.new_version == "version 2"
    assert [(c.id, c.old, c.new) for c in change.changes] == [("trd-all", "attest", "not_met"),
                                                              ("trd-age", "met", "not_met")]
    assert change.changes[1].describe() == "Age 18 or older: met → not met"
    stored = session.exec(select(PayerPolicyFile)).one()
    assert stored.text == STRICTER
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.entity_id == str(case.id))).all()
    assert "policy_change_recorded" in actions
    flagged = case_page(session, filters=WorklistFilter()).rows[0]
    assert flagged["policy_changed"] is True
    # The checklist now reads the new version.
    assert case_checklist(session, case=case).item("trd-age").status == "not_met"


def test_acknowledging_clears_the_flag_and_refuses_twice(session: Session, payer_files: Path) -> None:
    case = draft_case(session)
    sync_payer_files(session, catalog=policy_catalog(), as_of=TODAY, now=NOW)
    write_policy(payer_files, STRICTER)
    sync_payer_files(session, catalog=policy_catalog(), as_of=TODAY, now=NOW)
    session.refresh(case)
    acknowledge_policy_change(session, case_id=case.id or 0, expected_version=case.version)
    assert case.policy_change == "" and case.policy_changed_at is None
    with pytest.raises(ValidationFailed, match="no policy change to acknowledge"):
        acknowledge_policy_change(session, case_id=case.id or 0, expected_version=case.version)


def test_closed_cases_and_unchanged_results_are_left_alone(session: Session, payer_files: Path) -> None:
    case = draft_case(session)
    closed = draft_case(session)
    closed.status = "cancelled"
    session.add(closed)
    session.flush()
    sync_payer_files(session, catalog=policy_catalog(), as_of=TODAY, now=NOW)
    write_policy(payer_files, TEST_POLICY.replace("Test Health SPRAVATO policy", "Test Health policy (renamed)"))
    result = sync_payer_files(session, catalog=policy_catalog(), as_of=TODAY, now=NOW)
    assert [(f.cases_checked, f.cases_changed) for f in result] == [(1, ())]
    assert case.policy_change == "" and closed.policy_change == ""


def test_requested_regimen_is_saved_and_checked(session: Session, payer_files: Path) -> None:
    capped = TEST_POLICY.replace("approval: {length: {value: 6, unit: months}}",
                                 "approval: {length: {value: 6, unit: months}, "
                                 "quantity_caps: [{devices: 12, per_days: 28}]}")
    write_policy(payer_files, capped)
    case = draft_case(session)
    save_request(session, case_id=case.id or 0, expected_version=case.version, dose_mg=84, sessions_requested=8,
                 start_on=TODAY, urgency="standard", first_dose_mg=56, sessions_per_week=2)
    assert (case.first_dose_mg, case.sessions_per_week) == (56, 2)
    checklist = case_checklist(session, case=case)
    assert not checklist.ready
    assert "requested regimen: Quantity cap: 23 devices in 28 days, over 12 per 28 days." in checklist.missing
    with pytest.raises(ValidationFailed) as bad:
        save_request(session, case_id=case.id or 0, expected_version=case.version, dose_mg=84, sessions_requested=8,
                     start_on=TODAY, urgency="standard", first_dose_mg=70, sessions_per_week=0)
    assert {e.field for e in bad.value.errors} == {"first_dose_mg", "sessions_per_week"}
    session.refresh(case)
    assert (case.first_dose_mg, case.sessions_per_week) == (56, 2)
