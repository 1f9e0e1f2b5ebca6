"""Review of an import against the record: which record each patient is, and for every fact whether it is new,
already there, changed since an earlier import, in conflict with what staff entered, or not acceptable."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import func
from sqlmodel import Session, col, select

from desk.errors import FieldError
from desk.history.ehr_details import (
    AllergyDetails,
    NeuromodulationDetails,
    PrescriberDetails,
    allergy_errors,
    neuromodulation_errors,
    prescriber_errors,
)
from desk.history.facts import KEY_FIELDS, SECTIONS, Fact, PatientHistory, PatientIdentity, Section
from desk.models import (
    Allergy,
    Coverage,
    Diagnosis,
    EhrPrescriber,
    ImportedFact,
    InpatientStay,
    MedicationTrial,
    NeuromodulationCourse,
    Patient,
    PsychotherapyTrial,
    RatingScore,
    Site,
)
from desk.patients import (
    CoverageDetails,
    DiagnosisDetails,
    PsychotherapyDetails,
    ScoreDetails,
    StayDetails,
    TrialDetails,
    coverage_clash,
    coverage_errors,
    diagnosis_errors,
    psychotherapy_errors,
    score_errors,
    stay_errors,
    trial_errors,
)

MODEL_OF: dict[Section, type[Any]] = {
    "coverages": Coverage, "diagnoses": Diagnosis, "trials": MedicationTrial, "psychotherapy": PsychotherapyTrial,
    "scores": RatingScore, "stays": InpatientStay, "neuromodulation": NeuromodulationCourse, "allergies": Allergy,
    "prescribers": EhrPrescriber,
}
Status = Literal["new", "unchanged", "changed", "conflict", "invalid"]
STATUS_WORDS: dict[str, str] = {
    "new": "new", "unchanged": "already on the record", "changed": "changed since the last import",
    "conflict": "differs from what staff entered (kept as entered)", "invalid": "cannot be imported",
}


@dataclass(frozen=True)
class PatientMatch:
    """The record an imported patient belongs to, and how it was found."""

    patient_id: int | None
    how: Literal["identifier", "name_and_dob", "none", "ambiguous"]
    label: str = ""

    @property
    def needs_confirmation(self) -> bool:
        return self.how == "name_and_dob"

    @property
    def message(self) -> str:
        return {
            "identifier": "matched by MRN",
            "name_and_dob": "matched by name and date of birth only: confirm it is the same person",
            "none": "no record on the desk has this MRN, or this name and date of birth; add the patient first",
            "ambiguous": "more than one record matches; add the MRN to the right record first",
        }[self.how]


@dataclass(frozen=True)
class FactReview:
    fact: Fact
    status: Status
    row_id: int | None = None
    differences: tuple[str, ...] = ()
    on_record: tuple[tuple[str, Any], ...] = ()
    problem: str = ""


@dataclass(frozen=True)
class PatientReview:
    history: PatientHistory
    match: PatientMatch
    facts: tuple[FactReview, ...]

    def counts(self) -> Counter[str]:
        return Counter(f.status for f in self.facts)

    def section(self, section: Section) -> list[FactReview]:
        return [f for f in self.facts if f.fact.section == section]

    def writable(self, sections: Collection[str]) -> list[FactReview]:
        return [f for f in self.facts if f.fact.section in sections and f.status in ("new", "changed")]


def match_patient(session: Session, identity: PatientIdentity) -> PatientMatch:
    """By MRN (any of the patient's identifiers equal to a record's MRN), else by name and date of birth."""
    if identity.identifiers:
        rows = session.exec(
            select(Patient.id, Patient.mrn, Site.name).join(Site, col(Site.id) == col(Patient.site_id))
            .where(col(Patient.mrn).in_(identity.identifiers))
        ).all()
        if len(rows) == 1:
            return PatientMatch(rows[0][0], "identifier", f"MRN {rows[0][1]} · {rows[0][2]}")
        if len(rows) > 1:
            return PatientMatch(None, "ambiguous")
    if identity.last_name and identity.first_name and identity.dob is not None:
        rows = session.exec(
            select(Patient.id, Patient.mrn, Site.name).join(Site, col(Site.id) == col(Patient.site_id)).where(
                func.lower(Patient.last_name) == identity.last_name.strip().lower(),
                func.lower(Patient.first_name) == identity.first_name.strip().lower(),
                Patient.dob == identity.dob,
            )
        ).all()
        if len(rows) == 1:
            return PatientMatch(rows[0][0], "name_and_dob", f"MRN {rows[0][1]} · {rows[0][2]}")
        if len(rows) > 1:
            return PatientMatch(None, "ambiguous")
    return PatientMatch(None, "none")


def fact_errors(
    session: Session, fact: Fact, *, patient: Patient, known_payers: Collection[str], today: date
) -> list[FieldError]:
    """What the record's own checks say about this fact for this patient."""
    details = fact.details
    if isinstance(details, TrialDetails):
        return trial_errors(details, dob=patient.dob, today=today)
    if isinstance(details, ScoreDetails):
        return score_errors(details, dob=patient.dob, today=today)
    if isinstance(details, DiagnosisDetails):
        return diagnosis_errors(details, dob=patient.dob, today=today)
    if isinstance(details, PsychotherapyDetails):
        return psychotherapy_errors(details, dob=patient.dob, today=today)
    if isinstance(details, StayDetails):
        return stay_errors(details, dob=patient.dob, today=today)
    if isinstance(details, NeuromodulationDetails):
        return neuromodulation_errors(details, dob=patient.dob, today=today)
    if isinstance(details, AllergyDetails):
        return allergy_errors(details, dob=patient.dob, today=today)
    if isinstance(details, PrescriberDetails):
        return prescriber_errors(details)
    assert isinstance(details, CoverageDetails)
    return coverage_errors(details, known_payers=known_payers)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(float(a) - float(b)) < 0.05
    return bool(a == b)


@dataclass
class _Snapshot:
    """What the record holds for some patients: each section's rows by key, and which rows were imported."""

    patients: dict[int, Patient]
    rows: dict[tuple[int, Section], dict[tuple[Any, ...], Any]]
    imported: set[tuple[int, str, int]]


def _snapshot(session: Session, patient_ids: Sequence[int]) -> _Snapshot:
    ids = list(dict.fromkeys(patient_ids))
    patients = {p.id or 0: p for p in session.exec(select(Patient).where(col(Patient.id).in_(ids))).all()}
    rows: dict[tuple[int, Section], dict[tuple[Any, ...], Any]] = {}
    for section in SECTIONS:
        model = MODEL_OF[section]
        for row in session.exec(select(model).where(col(model.patient_id).in_(ids)).order_by(model.id)).all():
            key = tuple(getattr(row, name) for name in KEY_FIELDS[section])
            rows.setdefault((row.patient_id, section), {}).setdefault(key, row)
    imported = {(p, s, r) for p, s, r in session.exec(
        select(ImportedFact.patient_id, ImportedFact.section, ImportedFact.row_id)
        .where(col(ImportedFact.patient_id).in_(ids))).all()}
    return _Snapshot(patients, rows, imported)


def review_patient(
    session: Session,
    *,
    history: PatientHistory,
    patient_id: int,
    match: PatientMatch,
    known_payers: Collection[str],
    today: date,
) -> PatientReview:
    """Every fact of `history` against the record of `patient_id`."""
    return _review(session, _snapshot(session, [patient_id]), history=history, patient_id=patient_id, match=match,
                   known_payers=known_payers, today=today)


CHUNK = 500


def review_patients(
    session: Session,
    *,
    items: Sequence[tuple[PatientHistory, PatientMatch]],
    known_payers: Collection[str],
    today: date,
) -> list[PatientReview]:
    """review_patient for many matched patients, reading the records a few hundred patients at a time."""
    reviews: list[PatientReview] = []
    for offset in range(0, len(items), CHUNK):
        chunk = items[offset:offset + CHUNK]
        snapshot = _snapshot(session, [m.patient_id for _, m in chunk if m.patient_id is not None])
        for history, match in chunk:
            if match.patient_id is None:
                reviews.append(PatientReview(history, match, ()))
                continue
            reviews.append(_review(session, snapshot, history=history, patient_id=match.patient_id, match=match,
                                   known_payers=known_payers, today=today))
    return reviews


def _review(
    session: Session,
    snapshot: _Snapshot,
    *,
    history: PatientHistory,
    patient_id: int,
    match: PatientMatch,
    known_payers: Collection[str],
    today: date,
) -> PatientReview:
    patient = snapshot.patients.get(patient_id)
    if patient is None:
        return PatientReview(history, PatientMatch(None, "none"), ())
    reviews: list[FactReview] = []
    for fact in history.facts:
        row = snapshot.rows.get((patient_id, fact.section), {}).get(fact.key)
        if row is None:
            errors = fact_errors(session, fact, patient=patient, known_payers=known_payers, today=today)
            if isinstance(fact.details, CoverageDetails) and not errors:
                errors = coverage_clash(session, patient_id=patient_id, details=fact.details, today=today)
            if errors:
                reviews.append(FactReview(fact, "invalid", problem="; ".join(str(e) for e in errors)))
            else:
                reviews.append(FactReview(fact, "new"))
            continue
        row_id = int(row.id)
        differences = tuple(name for name in fact.fields if not _same(getattr(row, name), getattr(fact.details, name)))
        if not differences:
            reviews.append(FactReview(fact, "unchanged", row_id))
            continue
        on_record = tuple((name, getattr(row, name)) for name in differences)
        if (patient_id, fact.section, row_id) not in snapshot.imported:
            reviews.append(FactReview(fact, "conflict", row_id, differences, on_record))
            continue
        errors = fact_errors(session, fact, patient=patient, known_payers=known_payers, today=today)
        if errors:
            reviews.append(FactReview(fact, "invalid", row_id, differences, on_record,
                                      "; ".join(str(e) for e in errors)))
        else:
            reviews.append(FactReview(fact, "changed", row_id, differences, on_record))
    return PatientReview(history, match, tuple(reviews))
