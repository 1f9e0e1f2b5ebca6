"""Writing an accepted import: the chosen sections of one patient's review, in the caller's unit of work.

The review is computed again here, inside the same transaction, so a record changed since the screen was drawn
is compared as it is now. A fact is written only when the review found it new (or changed since an earlier
import) and the record's own checks accept it (the same checks as typing it in); a changed fact updates only the
fields the source gave. Each written row gets its
provenance. One audit event counts what was written; it holds no values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any

from sqlmodel import Session, select

from desk.audit import record_event
from desk.errors import DeskError
from desk.history.facts import SECTIONS, Fact, PatientHistory
from desk.history.review import MODEL_OF, PatientMatch, PatientReview, review_patient
from desk.models import ImportedFact
from desk.patients import CoverageDetails, DiagnosisDetails, add_coverage
from desk.records import flush_edit, stripped


class MatchNotConfirmed(DeskError):
    """A patient matched by name and date of birth only; staff must confirm before anything is written."""


@dataclass(frozen=True)
class AcceptResult:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)

    @property
    def written(self) -> int:
        return sum(self.created.values()) + sum(self.updated.values())

    def summary(self) -> str:
        parts = [f"{section} {self.created[section] + self.updated[section]}" for section in SECTIONS
                 if self.created[section] + self.updated[section]]
        return (f"{sum(self.created.values())} new, {sum(self.updated.values())} updated"
                + (f" ({', '.join(parts)})" if parts else ""))


def _new_row(fact: Fact, *, patient_id: int) -> Any:
    """The record row for a fact the review found new and valid (cleaned as the record's services clean input)."""
    details: Any = stripped(fact.details)
    if isinstance(details, DiagnosisDetails):
        details = replace(details, icd10=details.icd10.upper())
    return MODEL_OF[fact.section](patient_id=patient_id, **asdict(details))


def accept_history(
    session: Session,
    *,
    history: PatientHistory,
    patient_id: int,
    match: PatientMatch,
    sections: Collection[str],
    known_payers: Collection[str],
    imported_on: date,
    kind: str,
    confirmed: bool = False,
    today: date | None = None,
    review: PatientReview | None = None,
) -> AcceptResult:
    """Write the new and changed facts of the chosen sections; returns the counts (nothing written: zeros).

    `review` may be passed when it was made in this same unit of work (a bulk import reviews many patients at
    once); otherwise the patient is reviewed again here.
    """
    today = today or date.today()
    if match.needs_confirmation and not confirmed:
        raise MatchNotConfirmed("This patient was matched by name and date of birth only; confirm the match first.")
    if review is None:
        review = review_patient(session, history=history, patient_id=patient_id, match=match,
                                known_payers=known_payers, today=today)
    result = AcceptResult()
    items = review.writable(sections)
    if not items:
        return result
    recorded = {(s, r, f) for s, r, f in session.exec(
        select(ImportedFact.section, ImportedFact.row_id, ImportedFact.resource_ids)
        .where(ImportedFact.patient_id == patient_id)).all()}
    created: list[tuple[Fact, Any]] = []
    for item in items:
        fact = item.fact
        if item.status == "new" and isinstance(fact.details, CoverageDetails):
            # Coverages go one at a time through the service: two new ones may clash with each other.
            row: Any = add_coverage(session, patient_id=patient_id, details=fact.details, known_payers=known_payers,
                               today=today)
            created.append((fact, row))
        elif item.status == "new":
            row = _new_row(fact, patient_id=patient_id)
            session.add(row)
            created.append((fact, row))
        else:
            assert item.row_id is not None
            row = session.get(MODEL_OF[fact.section], item.row_id)
            for name in fact.fields:
                setattr(row, name, getattr(fact.details, name))
            session.add(row)
            flush_edit(session, entity=fact.section)
            result.updated[fact.section] += 1
            _provenance(session, fact, patient_id=patient_id, row_id=item.row_id, imported_on=imported_on,
                        recorded=recorded)
    session.flush()
    for fact, row in created:
        result.created[fact.section] += 1
        _provenance(session, fact, patient_id=patient_id, row_id=int(row.id), imported_on=imported_on,
                    recorded=recorded)
    if result.written:
        record_event(session, action="import", entity="patient", entity_id=patient_id,
                     detail=f"clinical history from {'an EHR export' if kind == 'fhir' else 'a spreadsheet'}: "
                            f"{result.summary()}")
    session.flush()
    return result


def _provenance(session: Session, fact: Fact, *, patient_id: int, row_id: int, imported_on: date,
                recorded: set[tuple[str, int, str]]) -> None:
    by_file: dict[str, list[str]] = {}
    for source in fact.provenance:
        by_file.setdefault(source.source_file, []).append(source.resource_id)
    for source_file, ids in by_file.items():
        joined = ", ".join(ids)
        if (fact.section, row_id, joined) not in recorded:
            session.add(ImportedFact(patient_id=patient_id, section=fact.section, row_id=row_id,
                                     source_file=source_file, resource_ids=joined, imported_on=imported_on))
