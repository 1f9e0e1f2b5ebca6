"""Writing an accepted import: the chosen sections of one patient's review, in the caller's unit of work.

The review is computed again here, inside the same transaction, so a record changed since the screen was drawn
is compared as it is now. A fact is written only when the review found it new (or changed since an earlier
import) and the record's own checks accept it (the same checks as typing it in); a changed fact updates only the
fields the source gave. Each written row gets its
provenance. One audit event counts what was written; it holds no values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from desk.audit import record_event
from desk.errors import DeskError
from desk.history.facts import SECTIONS, Fact, PatientHistory
from desk.history.review import MODEL_OF, PatientMatch, PatientReview, review_patient
from desk.models import ImportedFact
from desk.patients import CoverageDetails, DiagnosisDetails, add_coverage
from desk.records import flush_edit


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
    values = {f.name: getattr(fact.details, f.name) for f in fields(fact.details)}
    values = {k: v.strip() if isinstance(v, str) else v for k, v in values.items()}
    if isinstance(fact.details, DiagnosisDetails):
        values["icd10"] = values["icd10"].upper()
    return MODEL_OF[fact.section](patient_id=patient_id, **values)


@dataclass
class _Staged:
    """One patient's accepted facts, written but not yet given provenance (new rows have no id before a flush)."""

    patient_id: int
    result: AcceptResult
    created: list[tuple[Fact, Any]]
    updated: list[tuple[Fact, int]]


def _stage(session: Session, review: PatientReview, *, sections: Collection[str], known_payers: Collection[str],
           today: date) -> _Staged | None:
    patient_id = review.match.patient_id
    assert patient_id is not None
    items = review.writable(sections)
    if not items:
        return None
    staged = _Staged(patient_id, AcceptResult(), [], [])
    for item in items:
        fact = item.fact
        if item.status == "new" and isinstance(fact.details, CoverageDetails):
            # Coverages go one at a time through the service: two new ones may clash with each other.
            row: Any = add_coverage(session, patient_id=patient_id, details=fact.details, known_payers=known_payers,
                                    today=today)
            staged.created.append((fact, row))
        elif item.status == "new":
            row = _new_row(fact, patient_id=patient_id)
            session.add(row)
            staged.created.append((fact, row))
        else:
            assert item.row_id is not None
            row = session.get(MODEL_OF[fact.section], item.row_id)
            for name in fact.fields:
                setattr(row, name, getattr(fact.details, name))
            session.add(row)
            flush_edit(session, entity=fact.section)
            staged.result.updated[fact.section] += 1
            staged.updated.append((fact, item.row_id))
    return staged


def _finish(session: Session, staged: Sequence[_Staged], *, imported_on: date, kind: str) -> None:
    """After the flush that gave the new rows their ids: provenance per fact and one audit event per patient."""
    ids = [s.patient_id for s in staged]
    recorded = {(p, s, r, f) for p, s, r, f in session.exec(
        select(ImportedFact.patient_id, ImportedFact.section, ImportedFact.row_id, ImportedFact.resource_ids)
        .where(col(ImportedFact.patient_id).in_(ids))).all()}
    for one in staged:
        for fact, row_id in one.updated:
            _provenance(session, fact, patient_id=one.patient_id, row_id=row_id, imported_on=imported_on,
                        recorded=recorded)
        for fact, row in one.created:
            one.result.created[fact.section] += 1
            _provenance(session, fact, patient_id=one.patient_id, row_id=int(row.id), imported_on=imported_on,
                        recorded=recorded)
        if one.result.written:
            record_event(session, action="import", entity="patient", entity_id=one.patient_id,
                         detail=f"clinical history from {'an EHR export' if kind == 'fhir' else 'a spreadsheet'}: "
                                f"{one.result.summary()}")


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

    `review` may be passed when it was made in this same unit of work; otherwise the patient is reviewed again
    here. Many patients at once: accept_reviews.
    """
    today = today or date.today()
    if match.needs_confirmation and not confirmed:
        raise MatchNotConfirmed("This patient was matched by name and date of birth only; confirm the match first.")
    if review is None:
        review = review_patient(session, history=history, patient_id=patient_id, match=match,
                                known_payers=known_payers, today=today)
    staged = _stage(session, replace(review, match=PatientMatch(patient_id, review.match.how, review.match.label)),
                    sections=sections, known_payers=known_payers, today=today)
    if staged is None:
        return AcceptResult()
    session.flush()
    _finish(session, [staged], imported_on=imported_on, kind=kind)
    session.flush()
    return staged.result


CHUNK = 250


def accept_reviews(
    session: Session,
    *,
    reviews: Iterable[PatientReview],
    known_payers: Collection[str],
    imported_on: date,
    kind: str,
    today: date,
    sections: Collection[str] = SECTIONS,
) -> list[AcceptResult]:
    """accept_history for many patients matched by MRN and reviewed in this unit of work (the command line and
    bulk imports): the same rows, provenance and one audit event per patient, flushed a few hundred patients at a
    time. Patients matched by name and date of birth only are skipped (they wait for the screen)."""
    results: list[AcceptResult] = []
    batch: list[_Staged] = []
    for review in reviews:
        if review.match.patient_id is None or review.match.needs_confirmation:
            results.append(AcceptResult())
            continue
        staged = _stage(session, review, sections=sections, known_payers=known_payers, today=today)
        if staged is None:
            results.append(AcceptResult())
            continue
        results.append(staged.result)
        batch.append(staged)
        if len(batch) >= CHUNK:
            session.flush()
            _finish(session, batch, imported_on=imported_on, kind=kind)
            batch = []
    if batch:
        session.flush()
        _finish(session, batch, imported_on=imported_on, kind=kind)
    session.flush()
    return results


def _provenance(session: Session, fact: Fact, *, patient_id: int, row_id: int, imported_on: date,
                recorded: set[tuple[int, str, int, str]]) -> None:
    by_file: dict[str, list[str]] = {}
    for source in fact.provenance:
        by_file.setdefault(source.source_file, []).append(source.resource_id)
    for source_file, ids in by_file.items():
        joined = ", ".join(ids)
        if (patient_id, fact.section, row_id, joined) not in recorded:
            recorded.add((patient_id, fact.section, row_id, joined))
            session.add(ImportedFact(patient_id=patient_id, section=fact.section, row_id=row_id,
                                     source_file=source_file, resource_ids=joined, imported_on=imported_on))
