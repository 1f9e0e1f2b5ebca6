"""The billing worklist: counts, today's actions, aging, paging, filters and audited exports."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

from openpyxl import load_workbook
from sqlmodel import Session, select

from desk.models import AuditEvent, Patient
from desk.models.prior_auth import PriorAuthCase
from desk.prior_auth.cases import open_case
from desk.prior_auth.devices import record_device_use
from desk.prior_auth.worklist import (
    CASE_COLUMNS,
    WorklistFilter,
    aging,
    all_case_rows,
    case_page,
    export_table,
    status_counts,
    todays_actions,
)
from tests.desk.prior_auth.conftest import NOW, TEST_POLICY, TODAY, approved_case, draft_case, write_policy


def _actions(session: Session, **overrides: object) -> dict:  # type: ignore[type-arg]
    values: dict[str, object] = {"now": NOW, "today": TODAY, "timezone": "America/New_York",
                                 "default_lead_days": 21, "draft_idle_days": 7}
    values.update(overrides)
    return todays_actions(session, **values)  # type: ignore[arg-type]


def _with(session: Session, case: PriorAuthCase, **values: object) -> PriorAuthCase:
    for name, value in values.items():
        setattr(case, name, value)
    session.add(case)
    session.flush()
    return case


def test_counts_by_status_include_zeros(session: Session) -> None:
    draft_case(session)
    draft_case(session)
    _with(session, draft_case(session), status="submitted")
    counts = status_counts(session)
    assert counts["draft"] == 2 and counts["submitted"] == 1 and counts["approved"] == 0
    assert status_counts(session, filters=WorklistFilter(statuses=("draft",)))["submitted"] == 0


def test_todays_actions(session: Session) -> None:
    overdue = _with(session, draft_case(session), status="submitted", decision_due_at=NOW - timedelta(hours=1))
    _with(session, draft_case(session), status="pended", decision_due_at=NOW + timedelta(hours=1))
    info = _with(session, draft_case(session), status="info_requested", info_due_on=TODAY + timedelta(days=2))
    _with(session, draft_case(session), status="info_requested", info_due_on=TODAY + timedelta(days=9))
    idle = _with(session, draft_case(session), updated_at=NOW - timedelta(days=8))
    _with(session, draft_case(session), updated_at=NOW - timedelta(days=6))
    expiring, _ = approved_case(session, start=date(2026, 6, 1), end=TODAY + timedelta(days=20))
    approved_case(session, start=date(2026, 6, 1), end=TODAY + timedelta(days=22))
    actions = _actions(session)
    assert [i.case_id for i in actions["overdue"].items] == [overdue.id]
    assert [i.case_id for i in actions["info_due"].items] == [info.id]
    assert [i.case_id for i in actions["idle_drafts"].items] == [idle.id]
    assert [i.case_id for i in actions["expiring"].items] == [expiring.id]
    assert actions["overdue"].total == 1 and "decision was due" in actions["overdue"].items[0].detail


def test_renewal_started_removes_the_reminder_and_per_payer_lead(session: Session, payer_files: Path) -> None:
    expiring, _ = approved_case(session, start=date(2026, 6, 1), end=TODAY + timedelta(days=25))
    assert _actions(session)["expiring"].total == 0
    write_policy(payer_files, TEST_POLICY + "renewal_lead_days: 30\n")
    assert [i.case_id for i in _actions(session)["expiring"].items] == [expiring.id]
    patient = session.get(Patient, expiring.patient_id)
    assert patient is not None
    open_case(session, patient_id=patient.id, coverage_id=expiring.coverage_id, indication="TRD",
              phase="continuation", actor="b")
    assert _actions(session)["expiring"].total == 0


def test_payer_file_lead_shorter_than_the_clinic_default(session: Session, payer_files: Path) -> None:
    in_20_days, _ = approved_case(session, start=date(2026, 6, 1), end=TODAY + timedelta(days=20))
    assert [i.case_id for i in _actions(session)["expiring"].items] == [in_20_days.id]
    write_policy(payer_files, TEST_POLICY + "renewal_lead_days: 10\n")
    assert _actions(session)["expiring"].total == 0
    in_9_days, _ = approved_case(session, start=date(2026, 6, 1), end=TODAY + timedelta(days=9))
    assert [i.case_id for i in _actions(session)["expiring"].items] == [in_9_days.id]


def test_devices_running_out_uses_the_dosing_schedule(session: Session) -> None:
    low, _ = approved_case(session, start=date(2026, 11, 1), devices=12)
    for day in (2, 5, 9):
        record_device_use(session, patient_id=low.patient_id, case_id=low.id, session_date=date(2026, 11, day),
                          devices=3, actor="b", now=NOW)
    plenty, _ = approved_case(session, start=date(2026, 11, 1), devices=56)
    record_device_use(session, patient_id=plenty.patient_id, case_id=plenty.id, session_date=date(2026, 11, 2),
                      devices=3, actor="b", now=NOW)
    items = _actions(session)["devices_low"].items
    assert [i.case_id for i in items] == [low.id]
    assert items[0].detail == "3 devices left; next two weeks need 12"


def test_devices_running_out_is_read_again_after_a_write_in_the_same_unit_of_work(session: Session) -> None:
    case, _ = approved_case(session, start=date(2026, 11, 1), devices=20)
    assert _actions(session)["devices_low"].total == 0
    assert _actions(session)["devices_low"].total == 0  # asked twice in one unit of work: read once
    for day in (2, 5, 9, 12):
        record_device_use(session, patient_id=case.patient_id, case_id=case.id, session_date=date(2026, 11, day),
                          devices=3, actor="b", now=NOW)
    [item] = _actions(session)["devices_low"].items
    assert (item.case_id, item.patient_id) == (case.id, case.patient_id)
    assert item.detail.startswith("8 devices left")


def test_aging_buckets_open_cases_by_age(session: Session) -> None:
    _with(session, draft_case(session), created_at=NOW - timedelta(days=3))
    _with(session, draft_case(session), created_at=NOW - timedelta(days=20), status="submitted")
    _with(session, draft_case(session), created_at=NOW - timedelta(days=90))
    _with(session, draft_case(session), created_at=NOW - timedelta(days=90), status="cancelled")
    assert aging(session, now=NOW) == [
        {"bucket": "0-7 days", "status": "Draft", "cases": 1},
        {"bucket": "15-30 days", "status": "Submitted", "cases": 1},
        {"bucket": "over 60 days", "status": "Draft", "cases": 1},
    ]


def test_paged_table_filters_and_search(session: Session) -> None:
    cases = [draft_case(session) for _ in range(7)]
    _with(session, cases[0], status="submitted")
    page = case_page(session, page=2, page_size=3, sort="case")
    assert (page.total, page.pages, page.page) == (7, 3, 2)
    assert [r["case"] for r in page.rows] == [cases[3].id, cases[2].id, cases[1].id]
    assert case_page(session, page=99, page_size=3).page == 3  # clamps to the last page
    only = case_page(session, filters=WorklistFilter(statuses=("submitted",)))
    assert [r["case"] for r in only.rows] == [cases[0].id]
    patient = session.get(Patient, cases[4].patient_id)
    assert patient is not None
    by_mrn = case_page(session, filters=WorklistFilter(search=patient.mrn))
    assert [r["case"] for r in by_mrn.rows] == [cases[4].id]
    assert [r["case"] for r in case_page(session, filters=WorklistFilter(search=f"#{cases[5].id}")).rows] == [
        cases[5].id]


ZONE = "America/New_York"


def test_exports_are_audited_without_phi_and_neutralise_formulas(session: Session) -> None:
    case = draft_case(session)
    patient = session.get(Patient, case.patient_id)
    assert patient is not None
    patient.last_name = "=HYPERLINK(1)"
    session.add(patient)
    session.flush()
    rows = all_case_rows(session)
    data = export_table(session, name="cases", rows=rows, columns=CASE_COLUMNS, fmt="csv", timezone=ZONE)
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    headers = ["Case", "Patient", "MRN", "Payer", "Plan type", "Indication", "Phase", "Status", "Review",
               f"Opened ({ZONE})", "Submitted", "Decision due", "Information due", "Authorization number",
               "Authorization ends", "Approved devices", "Policy changed"]
    assert parsed[0] == headers and parsed[1][0] == str(case.id)
    assert parsed[1][1].startswith("'=HYPERLINK")
    # The date-time as the screen writes it: MM/DD/YYYY in the clinic's zone (NOW is 15:00 UTC, 10:00 in New York).
    assert parsed[1][9] == "11/26/2026 10:00"
    xlsx = export_table(session, name="cases", rows=rows, columns=CASE_COLUMNS, fmt="xlsx", timezone=ZONE)
    sheet = load_workbook(io.BytesIO(xlsx)).active
    assert [c.value for c in sheet[1]] == headers and sheet.cell(2, 1).value == case.id
    session.flush()
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert [e.detail for e in events] == ["cases as csv: 1 rows", "cases as xlsx: 1 rows"]
    assert all(patient.mrn not in e.detail for e in events)
