"""The imported facts on a record, each with where it came from (for the record's screens)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from desk.history.facts import SECTION_LABELS, Section
from desk.history.review import MODEL_OF
from desk.models import ImportedFact


@dataclass(frozen=True)
class ImportedFactView:
    section: str
    fact: str
    source_file: str
    resource_ids: str
    imported_on: date


def describe_row(section: str, row: Any) -> str:
    """A short description of one record row, for lists of imported facts."""
    if section == "trials":
        end = row.end_date.isoformat() if row.end_date else "ongoing"
        return f"{row.drug} {row.daily_dose_mg:g} mg/day, {row.start_date.isoformat()} to {end} ({row.role})"
    if section == "scores":
        return f"{row.instrument} {row.score} on {row.measured_on.isoformat()}"
    if section == "diagnoses":
        return f"{row.icd10} {row.description}".strip()
    if section == "psychotherapy":
        return f"{row.modality} from {row.start_date.isoformat()}"
    if section == "stays":
        return f"inpatient from {row.admitted_on.isoformat()} ({row.reason})"
    return f"{row.payer_id} {row.plan_type}"


def imported_facts(session: Session, *, patient_id: int, section: Section | None = None) -> list[ImportedFactView]:
    """Every imported fact still on the record (a row staff removed since is left out), newest import first."""
    query = select(ImportedFact).where(ImportedFact.patient_id == patient_id)
    if section is not None:
        query = query.where(ImportedFact.section == section)
    views = []
    for item in session.exec(query.order_by(col(ImportedFact.imported_at).desc(), col(ImportedFact.id))).all():
        model = MODEL_OF.get(item.section)  # type: ignore[call-overload]
        row = session.get(model, item.row_id) if model is not None else None
        if row is None or row.patient_id != patient_id:
            continue
        views.append(ImportedFactView(SECTION_LABELS.get(item.section, item.section),  # type: ignore[call-overload]
                                      describe_row(item.section, row), item.source_file, item.resource_ids,
                                      item.imported_on))
    return views
