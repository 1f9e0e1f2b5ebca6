"""CSV and Excel exports of the billing worklist and the claims register; every export is audited."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from openpyxl import Workbook
from sqlmodel import Session, col, select

from desk.audit import record_event
from desk.errors import FieldError, ValidationFailed
from desk.models import SavingsClaim
from desk.patients import patients_by_id
from desk.savings.claims import missing_documents
from desk.savings.money import format_cents
from desk.savings.worklist import CATEGORIES, WorkItem, billing_worklist

Report = Literal["worklist", "claims"]
Format = Literal["csv", "xlsx"]
Cell = str | int | float | None
MIME = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

WORKLIST_COLUMNS = ("category", "mrn", "patient", "due_on", "detail", "amount", "claim_id", "enrollment_id")
CLAIM_COLUMNS = (
    "claim_id", "mrn", "patient", "service_date", "kind", "devices", "method", "status", "billed",
    "insurance_paid", "patient_responsibility", "savings_applied", "paid", "paid_on", "submitted_on",
    "denial_reason", "missing_documents",
)


@dataclass(frozen=True)
class ExportFile:
    """An export ready for download; its name carries no PHI."""

    filename: str
    mime: str
    content: bytes
    rows: int


def _safe(value: Cell) -> Cell:
    # A text cell starting with = + - @ runs as a formula in spreadsheet programs (CSV injection, OWASP).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def worklist_rows(items: Sequence[WorkItem]) -> list[tuple[Cell, ...]]:
    return [
        (CATEGORIES[i.category], i.mrn, i.patient, i.due_on.isoformat() if i.due_on else "", i.detail,
         format_cents(i.amount_cents) if i.amount_cents is not None else "", i.claim_id, i.enrollment_id)
        for i in items
    ]


def claim_rows(session: Session, *, year: int) -> list[tuple[Cell, ...]]:
    claims = session.exec(
        select(SavingsClaim)
        .where(SavingsClaim.service_date >= date(year, 1, 1), SavingsClaim.service_date <= date(year, 12, 31))
        .order_by(col(SavingsClaim.service_date), col(SavingsClaim.id))
    ).all()
    ids = {c.patient_id for c in claims}
    people = patients_by_id(session, ids=ids)
    rows: list[tuple[Cell, ...]] = []
    for c in claims:
        patient = people[c.patient_id]
        rows.append((
            c.id, patient.mrn, patient.display_name, c.service_date.isoformat(), c.kind, c.devices, c.method,
            c.status, c.billed_cents / 100, c.insurance_paid_cents / 100, c.patient_responsibility_cents / 100,
            c.savings_applied_cents / 100, None if c.paid_cents is None else c.paid_cents / 100,
            c.paid_on.isoformat() if c.paid_on else "", c.submitted_on.isoformat() if c.submitted_on else "",
            c.denial_reason, ", ".join(missing_documents(session, claim=c)),
        ))
    return rows


def _csv(columns: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else _safe(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8 correctly


def _xlsx(title: str, columns: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(list(columns))
    for row in rows:
        sheet.append([_safe(v) for v in row])
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_report(session: Session, *, report: Report, fmt: Format, today: date, year: int | None = None,
                  within_days: int = 30, threshold_pct: float = 80.0) -> ExportFile:
    """Build the export and record it in the audit trail (report, format and row count; no PHI)."""
    if report not in ("worklist", "claims"):
        raise ValidationFailed([FieldError("report", "use worklist or claims")])
    if fmt not in MIME:
        raise ValidationFailed([FieldError("format", "use csv or xlsx")])
    if report == "worklist":
        columns: Sequence[str] = WORKLIST_COLUMNS
        rows = worklist_rows(billing_worklist(session, today=today, within_days=within_days,
                                              threshold_pct=threshold_pct))
        stem = f"savings-worklist-{today.isoformat()}"
    else:
        year = year or today.year
        columns = CLAIM_COLUMNS
        rows = claim_rows(session, year=year)
        stem = f"savings-claims-{year}"
    content = _csv(columns, rows) if fmt == "csv" else _xlsx(report, columns, rows)
    record_event(session, action="export", entity="savings_claim" if report == "claims" else "savings_worklist",
                 detail=f"{report} {fmt}, {len(rows)} rows")
    return ExportFile(f"{stem}.{fmt}", MIME[fmt], content, len(rows))
