"""The imported facts on a record, each with where it came from (for the record's screens)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from desk.history.facts import SECTION_LABELS, Section
from desk.history.review import MODEL_OF
from desk.models import Allergy, EhrPrescriber, ImportedFact, NeuromodulationCourse


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
        end = f"{row.end_date:%m/%d/%Y}" if row.end_date else "ongoing"
        return f"{row.drug} {row.daily_dose_mg:g} mg/day, {row.start_date:%m/%d/%Y} to {end} ({row.role})"
    if section == "scores":
        return f"{row.instrument} {row.score} on {row.measured_on:%m/%d/%Y}"
    if section == "diagnoses":
        return f"{row.icd10} {row.description}".strip()
    if section == "psychotherapy":
        return f"{row.modality} from {row.start_date:%m/%d/%Y}"
    if section == "stays":
        return f"inpatient from {row.admitted_on:%m/%d/%Y} ({row.reason})"
    if section == "neuromodulation":
        end = f"{row.end_date:%m/%d/%Y}" if row.end_date else "ongoing"
        sessions = f", {row.sessions} session(s)" if row.sessions else ""
        return f"{row.therapy} {row.start_date:%m/%d/%Y} to {end}{sessions}"
    if section == "allergies":
        return f"{row.substance} ({row.status})" + (f": {row.reaction}" if row.reaction else "")
    if section == "prescribers":
        return f"{row.name}" + (f", NPI {row.npi}" if row.npi else "") + (f" ({row.role})" if row.role else "")
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


@dataclass(frozen=True)
class EhrHistoryRow:
    """One ECT/TMS course, allergy or EHR prescriber on the record, described, with where it came from."""

    fact: str
    source: str


@dataclass(frozen=True)
class EhrHistory:
    neuromodulation: list[EhrHistoryRow]
    allergies: list[EhrHistoryRow]
    prescribers: list[EhrHistoryRow]


def ehr_history(session: Session, *, patient_id: int) -> EhrHistory:
    """The record's ECT and TMS courses, allergies and EHR prescribers (kept only as imported), each with the file
    and resources it was read from."""
    sources: dict[tuple[str, int], list[str]] = {}
    for item in session.exec(select(ImportedFact).where(
            ImportedFact.patient_id == patient_id,
            col(ImportedFact.section).in_(("neuromodulation", "allergies", "prescribers")))
            .order_by(col(ImportedFact.id))).all():
        sources.setdefault((item.section, item.row_id), []).append(
            f"{item.source_file}: {item.resource_ids} ({item.imported_on:%m/%d/%Y})")

    def rows(section: Section, order: Any) -> list[EhrHistoryRow]:
        model = MODEL_OF[section]
        found = session.exec(select(model).where(model.patient_id == patient_id).order_by(order, model.id)).all()
        return [EhrHistoryRow(describe_row(section, row), "; ".join(sources.get((section, int(row.id)), []))
                              or "entered on the desk") for row in found]

    return EhrHistory(
        neuromodulation=rows("neuromodulation", col(NeuromodulationCourse.start_date)),
        allergies=rows("allergies", col(Allergy.substance)),
        prescribers=rows("prescribers", col(EhrPrescriber.name)),
    )
