"""Exports: CSV and Excel read back, formula cells neutralised, every export audited without PHI."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from desk.errors import ValidationFailed
from desk.models import AuditEvent, Patient
from desk.savings.claims import ClaimAmounts, record_claim
from desk.savings.export import CLAIM_COLUMNS, export_report
from tests.desk.savings.conftest import TODAY


@pytest.fixture
def with_claims(session: Session, enrolled: Patient) -> Patient:
    """Two claims for the enrolled patient, one with a note that looks like a formula."""
    for day in (date(2026, 2, 2), date(2026, 2, 5)):
        record_claim(session, patient_id=enrolled.id or 0, service_date=day, kind="drug", devices=3,
                     method="rebate_request", amounts=ClaimAmounts(90_000, 60_000, 30_000), today=TODAY)
    enrolled.last_name = "=HYPERLINK(\"http://x\")"
    session.add(enrolled)
    session.flush()
    return enrolled


def test_claims_csv_reads_back_and_is_audited(session: Session, with_claims: Patient) -> None:
    export = export_report(session, report="claims", fmt="csv", today=TODAY, year=2026)
    assert export.filename == "savings-claims-2026.csv" and export.rows == 2
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert list(rows[0]) == list(CLAIM_COLUMNS)
    assert [r["service_date"] for r in rows] == ["2026-02-02", "2026-02-05"]
    assert rows[0]["savings_applied"] == "290.0" and rows[0]["mrn"] == with_claims.mrn
    assert rows[0]["patient"].startswith("'=HYPERLINK"), "formula-like text must not run in a spreadsheet"
    assert rows[0]["missing_documents"] == "eob, proof_of_payment"
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert (event.entity, event.detail) == ("savings_claim", "claims csv, 2 rows")
    assert with_claims.mrn not in event.detail and "HYPERLINK" not in event.detail


def test_worklist_excel_reads_back_and_is_audited(session: Session, with_claims: Patient) -> None:
    export = export_report(session, report="worklist", fmt="xlsx", today=TODAY)
    assert export.filename == "savings-worklist-2026-06-30.xlsx"
    sheet = load_workbook(io.BytesIO(export.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("category", "mrn", "patient")
    assert {row[0] for row in values[1:]} == {"Waiting for an EOB"}
    assert len(values) == 3
    assert str(values[1][2]).startswith("'=")
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "export")).one().entity == "savings_worklist"


def test_unknown_format_is_refused_and_not_audited(session: Session) -> None:
    with pytest.raises(ValidationFailed) as failure:
        export_report(session, report="claims", fmt="pdf", today=TODAY)  # type: ignore[arg-type]
    assert failure.value.for_field("format") == ["use csv or xlsx"]
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "export")).all() == []
