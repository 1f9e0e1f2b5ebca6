"""Writing an accepted import: the chosen sections of one patient's review, in the caller's unit of work.

The review is computed again here, inside the same transaction, so a record changed since the screen was drawn
is compared as it is now. New facts go through the record's own services (the same checks as typing them in);
facts changed since an earlier import update only the fields the source gave. Each written row gets its
provenance. One audit event counts what was written; it holds no values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, select

from desk.audit import record_event
from desk.errors import DeskError
from desk.history.facts import SECTIONS, Fact, PatientHistory
from desk.history.review import MODEL_OF, PatientMatch, PatientReview, review_patient
from desk.models import ImportedFact
from desk.patients import (
    CoverageDetails,
    DiagnosisDetails,
    PsychotherapyDetails,
    ScoreDetails,
    StayDetails,
    TrialDetails,
    add_coverage,
    add_diagnosis,
    add_psychotherapy,
    add_score,
    add_stay,
    add_trial,
)
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


def _create(session: Session, fact: Fact, *, patient_id: int, known_payers: Collection[str], today: date) -> int:
    details = fact.details
    if isinstance(details, TrialDetails):
        row: Any = add_trial(session, patient_id=patient_id, details=details, today=today)
    elif isinstance(details, ScoreDetails):
        row = add_score(session, patient_id=patient_id, details=details, today=today)
    elif isinstance(details, DiagnosisDetails):
        row = add_diagnosis(session, patient_id=patient_id, details=details, today=today)
    elif isinstance(details, PsychotherapyDetails):
        row = add_psychotherapy(session, patient_id=patient_id, details=details, today=today)
    elif isinstance(details, StayDetails):
        row = add_stay(session, patient_id=patient_id, details=details, today=today)
    else:
        assert isinstance(details, CoverageDetails)
        row = add_coverage(session, patient_id=patient_id, details=details, known_payers=known_payers, today=today)
    return int(row.id)


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
) -> AcceptResult:
    """Write the new and changed facts of the chosen sections; returns the counts (nothing written: zeros)."""
    today = today or date.today()
    if match.needs_confirmation and not confirmed:
        raise MatchNotConfirmed("This patient was matched by name and date of birth only; confirm the match first.")
    review: PatientReview = review_patient(session, history=history, patient_id=patient_id, match=match,
                                           known_payers=known_payers, today=today)
    result = AcceptResult()
    recorded = {(s, r, f) for s, r, f in session.exec(
        select(ImportedFact.section, ImportedFact.row_id, ImportedFact.resource_id)
        .where(ImportedFact.patient_id == patient_id)).all()}
    for item in review.writable(sections):
        fact = item.fact
        if item.status == "new":
            row_id = _create(session, fact, patient_id=patient_id, known_payers=known_payers, today=today)
            result.created[fact.section] += 1
        else:
            assert item.row_id is not None
            row = session.get(MODEL_OF[fact.section], item.row_id)
            for name in fact.fields:
                setattr(row, name, getattr(fact.details, name))
            session.add(row)
            flush_edit(session, entity=fact.section)
            row_id = item.row_id
            result.updated[fact.section] += 1
        for source in fact.provenance:
            if (fact.section, row_id, source.resource_id) not in recorded:
                session.add(ImportedFact(patient_id=patient_id, section=fact.section, row_id=row_id,
                                         source_file=source.source_file, resource_id=source.resource_id,
                                         imported_on=imported_on))
    if result.written:
        session.flush()
        record_event(session, action="import", entity="patient", entity_id=patient_id,
                     detail=f"clinical history from {'an EHR export' if kind == 'fhir' else 'a spreadsheet'}: "
                            f"{result.summary()}")
    return result
