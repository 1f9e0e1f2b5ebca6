"""Patients and their clinical record: validated create/update/remove, search, and the full record view.

Every function validates first and writes nothing when any field is bad (ValidationFailed lists each field).
Updates and removals take the version the user saw (`expected_version`) and raise StaleEdit when someone
else saved in between. Messages never contain names, dates of birth or other PHI values.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import and_, or_
from sqlmodel import Session, SQLModel, col, func, select

from desk.errors import FieldError, NotFound, ValidationFailed
from desk.models import (
    BENEFITS,
    CONCURRENT_THERAPIES,
    PLAN_TYPES,
    PRIORITIES,
    SEXES,
    SUBSTANCE_USE,
    Allergy,
    Coverage,
    CurrentMedication,
    Diagnosis,
    InpatientStay,
    MedicationTrial,
    NeuromodulationCourse,
    Patient,
    Prescriber,
    PsychotherapyTrial,
    RatingScore,
    Site,
)
from desk.models.patients import (
    DIAGNOSIS_METHODS,
    DSM_EDITIONS,
    EPISODE_TYPES,
    PSYCHOTHERAPY_MODALITIES,
    STAY_REASONS,
    TRIAL_OUTCOMES,
    TRIAL_ROLES,
)
from desk.records import Versioned, apply_details, flush_edit, load_for_edit, stripped
from desk.records import details_of as details_of  # edit forms read a row's details from here
from desk.reference import Drug, concomitant_categories, find_drug, is_esketamine
from desk.validation import (
    DateTextError,
    birth_date_problem,
    email_problem,
    icd10_problem,
    normalize_phone,
    parse_date_text,
    past_date_problem,
    phone_problem,
    score_problem,
    state_problem,
    zip_problem,
)

_MRN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
_PAYER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,59}$")
_MRN_TAKEN = FieldError("mrn", "another patient at this site already has this MRN")

# --- input shapes ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatientDetails:
    """Demographics a user edits."""

    site_id: int
    mrn: str
    first_name: str
    last_name: str
    dob: date
    sex: str
    middle_initial: str = ""
    address_line: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""
    phone: str = ""
    email: str = ""
    prescriber_id: int | None = None

    @classmethod
    def of(cls, patient: Patient) -> PatientDetails:
        return details_of(patient, cls)


@dataclass(frozen=True)
class ScreeningDetails:
    """Contraindication screening and history; None means not screened (unknown), never 'no'."""

    aneurysmal_vascular_disease: bool | None = None
    intracerebral_hemorrhage_history: bool | None = None
    esketamine_hypersensitivity: bool | None = None
    psychosis_history: bool | None = None
    substance_use: str | None = None
    substance_remission_since: date | None = None
    substance_treated: bool | None = None
    concurrent_therapies: tuple[str, ...] = ()
    concurrent_therapies_screened_on: date | None = None
    prior_esketamine: bool | None = None
    prior_esketamine_improvement_pct: float | None = None
    esketamine_started_on: date | None = None
    pdmp_checked_on: date | None = None
    psychiatric_consult_on: date | None = None
    psychiatric_consultant: str = ""

    @classmethod
    def of(cls, patient: Patient) -> ScreeningDetails:
        values = {name: getattr(patient, name) for name in cls.__dataclass_fields__}
        values["concurrent_therapies"] = tuple(t for t in patient.concurrent_therapies.split(",") if t)
        return cls(**values)


@dataclass(frozen=True)
class CoverageDetails:
    """One insurance coverage."""

    payer_id: str
    plan_type: str
    member_id: str
    benefit: str = "medical"
    priority: str = "primary"
    group_number: str = ""
    rx_bin: str = ""
    rx_pcn: str = ""
    rx_group: str = ""
    start_date: date | None = None
    end_date: date | None = None


@dataclass(frozen=True)
class DiagnosisDetails:
    """A depressive-disorder diagnosis."""

    icd10: str
    description: str = ""
    episode_start: date | None = None
    episode_type: str | None = None
    psychotic_features: bool | None = None
    diagnosis_method: str | None = None
    dsm_edition: str | None = None
    diagnosed_on: date | None = None
    acute_suicidal_ideation: bool = False
    is_current: bool = True


@dataclass(frozen=True)
class TrialDetails:
    """An antidepressant or augmentation trial."""

    drug: str
    daily_dose_mg: float
    start_date: date
    end_date: date | None = None
    role: str = "antidepressant"
    adherence_pct: float | None = None
    outcome: str = "non_response"
    improvement_pct: float | None = None
    current_episode: bool = True
    at_max_tolerated_dose: bool = False
    notes: str = ""


@dataclass(frozen=True)
class PsychotherapyDetails:
    """A course of psychotherapy."""

    modality: str
    start_date: date
    end_date: date | None = None
    current_episode: bool = True


@dataclass(frozen=True)
class ScoreDetails:
    """A rating-scale result."""

    instrument: str
    score: int
    measured_on: date


@dataclass(frozen=True)
class MedicationDetails:
    """A medication taken now."""

    drug: str
    daily_dose_mg: float | None = None
    started_on: date | None = None


@dataclass(frozen=True)
class StayDetails:
    """A psychiatric inpatient stay."""

    admitted_on: date
    discharged_on: date | None = None
    reason: str = "suicidality"
    esketamine_started: bool = False


_Row = TypeVar("_Row", bound=SQLModel)
_Edited = TypeVar("_Edited", bound=Versioned)


def _choice(value: str | None, allowed: Sequence[str], what: str) -> str | None:
    if value not in allowed:
        return f"unknown {what}; expected one of {', '.join(allowed)}"
    return None


def _optional_choice(value: str | None, allowed: Sequence[str], what: str) -> str | None:
    """None means 'not recorded' and is allowed; anything else must be one of `allowed`."""
    return None if value is None else _choice(value, allowed, what)


def _not_before_birth(value: date | None, dob: date, label: str) -> str | None:
    if value is not None and value < dob:
        return f"{label} is before the patient's date of birth"
    return None


def _event_date(value: date | None, *, dob: date, today: date, label: str) -> str | None:
    """A date of something that already happened: not in the future, not before birth."""
    return past_date_problem(value, today=today, label=label) or _not_before_birth(value, dob, label)


def _end_problem(start: date | None, end: date | None, label: str = "end date") -> str | None:
    if start is not None and end is not None and end < start:
        return f"{label} is before the start date"
    return None


def _collect(checks: Sequence[tuple[str, str | None]]) -> list[FieldError]:
    return [FieldError(name, message) for name, message in checks if message]


# --- patient ---------------------------------------------------------------------------------------------


def _clean_patient(details: PatientDetails) -> PatientDetails:
    details = stripped(details)
    return replace(
        details,
        state=details.state.upper(),
        middle_initial=details.middle_initial[:1].upper(),
        phone=normalize_phone(details.phone) or details.phone,
        email=details.email.lower(),
    )


def _earliest_clinical_date(session: Session, patient_id: int) -> date | None:
    """The earliest dated fact already on the record (a birth date after it is impossible)."""
    columns: list[Any] = [
        (MedicationTrial, MedicationTrial.start_date),
        (PsychotherapyTrial, PsychotherapyTrial.start_date),
        (RatingScore, RatingScore.measured_on),
        (Diagnosis, Diagnosis.episode_start),
        (InpatientStay, InpatientStay.admitted_on),
        (NeuromodulationCourse, NeuromodulationCourse.start_date),
        (Allergy, Allergy.onset),
    ]
    candidates: list[date | None] = [
        session.exec(select(func.min(column)).where(model.patient_id == patient_id)).one() for model, column in columns
    ]
    dates = [d for d in candidates if d is not None]
    return min(dates) if dates else None


def patient_errors(
    session: Session, details: PatientDetails, *, patient_id: int | None, today: date
) -> list[FieldError]:
    """Every problem with `details` (already cleaned), checked against the database."""
    errors = _collect(
        [
            ("first_name", None if details.first_name else "required"),
            ("last_name", None if details.last_name else "required"),
            ("dob", birth_date_problem(details.dob, today=today)),
            ("sex", _choice(details.sex, SEXES, "sex")),
            ("state", state_problem(details.state)),
            ("zip_code", zip_problem(details.zip_code)),
            ("phone", phone_problem(details.phone)),
            ("email", email_problem(details.email)),
        ]
    )
    if not details.mrn:
        errors.append(FieldError("mrn", "required"))
    elif not _MRN.match(details.mrn):
        errors.append(FieldError("mrn", "use up to 40 letters, digits, dots, dashes or underscores"))
    if not details.site_id or session.get(Site, details.site_id) is None:
        errors.append(FieldError("site_id", "no such site"))
    elif details.mrn:
        clash = session.exec(
            select(Patient.id).where(
                Patient.site_id == details.site_id, Patient.mrn == details.mrn, Patient.id != patient_id
            )
        ).first()
        if clash is not None:
            errors.append(_MRN_TAKEN)
    if details.prescriber_id is not None and session.get(Prescriber, details.prescriber_id) is None:
        errors.append(FieldError("prescriber_id", "no such prescriber"))
    if patient_id is not None and details.dob is not None:
        earliest = _earliest_clinical_date(session, patient_id)
        if earliest is not None and details.dob > earliest:
            errors.append(
                FieldError("dob", "date of birth is after a recorded trial, diagnosis, score or stay; check the dates")
            )
    return errors


def create_patient(session: Session, *, details: PatientDetails, today: date | None = None) -> Patient:
    """Add a patient; raises ValidationFailed naming each bad field (nothing is written then)."""
    details = _clean_patient(details)
    errors = patient_errors(session, details, patient_id=None, today=today or date.today())
    if errors:
        raise ValidationFailed(errors)
    patient = Patient(**asdict(details))
    session.add(patient)
    flush_edit(session, entity="patient", unique=_MRN_TAKEN)
    return patient


def update_patient(
    session: Session,
    *,
    patient_id: int,
    expected_version: int,
    details: PatientDetails,
    today: date | None = None,
) -> Patient:
    """Replace a patient's demographics."""
    patient = _load(session, Patient, patient_id, expected_version, "patient record")
    details = _clean_patient(details)
    errors = patient_errors(session, details, patient_id=patient_id, today=today or date.today())
    if errors:
        raise ValidationFailed(errors)
    return apply_details(session, patient, details, entity="patient record", unique=_MRN_TAKEN)


MAX_CONSULTANT_LENGTH = 100


def screening_errors(details: ScreeningDetails, *, dob: date, today: date) -> list[FieldError]:
    errors = _collect(
        [
            (
                "substance_use",
                None if details.substance_use is None else _choice(details.substance_use, SUBSTANCE_USE, "status"),
            ),
            (
                "substance_remission_since",
                _event_date(details.substance_remission_since, dob=dob, today=today, label="remission date"),
            ),
            ("pdmp_checked_on", _event_date(details.pdmp_checked_on, dob=dob, today=today, label="PDMP check date")),
            (
                "concurrent_therapies_screened_on",
                _event_date(details.concurrent_therapies_screened_on, dob=dob, today=today, label="screening date"),
            ),
            (
                "esketamine_started_on",
                _event_date(details.esketamine_started_on, dob=dob, today=today, label="esketamine start date"),
            ),
            (
                "psychiatric_consult_on",
                _event_date(details.psychiatric_consult_on, dob=dob, today=today, label="consultation date"),
            ),
        ]
    )
    consultant = details.psychiatric_consultant
    if len(consultant) > MAX_CONSULTANT_LENGTH:
        errors.append(FieldError("psychiatric_consultant", f"at most {MAX_CONSULTANT_LENGTH} characters"))
    if consultant and details.psychiatric_consult_on is None:
        errors.append(FieldError("psychiatric_consult_on", "enter the date of the psychiatric consultation"))
    if details.psychiatric_consult_on is not None and not consultant:
        errors.append(FieldError("psychiatric_consultant", "enter the name of the psychiatrist consulted"))
    unknown = [t for t in details.concurrent_therapies if t not in CONCURRENT_THERAPIES]
    if unknown:
        errors.append(
            FieldError("concurrent_therapies", f"unknown therapy; expected any of {', '.join(CONCURRENT_THERAPIES)}")
        )
    if details.substance_use == "in_remission" and details.substance_remission_since is None:
        errors.append(FieldError("substance_remission_since", "enter since when the substance use is in remission"))
    pct = details.prior_esketamine_improvement_pct
    if pct is not None:
        if not -100 <= pct <= 100:
            errors.append(FieldError("prior_esketamine_improvement_pct", "a percentage from -100 to 100"))
        elif details.prior_esketamine is not True:
            errors.append(
                FieldError("prior_esketamine_improvement_pct", "only applies when the patient had esketamine before")
            )
    return errors


def update_screening(
    session: Session,
    *,
    patient_id: int,
    expected_version: int,
    details: ScreeningDetails,
    today: date | None = None,
) -> Patient:
    """Replace the contraindication screening and history answers."""
    patient = _load(session, Patient, patient_id, expected_version, "patient record")
    details = stripped(details)
    errors = screening_errors(details, dob=patient.dob, today=today or date.today())
    if errors:
        raise ValidationFailed(errors)
    values = asdict(details)
    values["concurrent_therapies"] = ",".join(t for t in CONCURRENT_THERAPIES if t in details.concurrent_therapies)
    # Answers that belong to another substance-use status are dropped rather than kept out of sight.
    if values["substance_use"] != "in_remission":
        values["substance_remission_since"] = None
    if values["substance_use"] != "current":
        values["substance_treated"] = None
    for name, value in values.items():
        setattr(patient, name, value)
    session.add(patient)
    flush_edit(session, entity="patient record")
    return patient


def patients_by_id(session: Session, *, ids: Iterable[int]) -> dict[int, Patient]:
    """The patients with these ids, by id (only those a screen names, never the whole clinic)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    found = session.exec(select(Patient).where(col(Patient.id).in_(wanted))).all()
    return {p.id: p for p in found if p.id is not None}


def get_patient(session: Session, *, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("No such patient.")
    return patient


# --- coverage --------------------------------------------------------------------------------------------


def coverage_errors(
    details: CoverageDetails, *, known_payers: Collection[str] | None = None
) -> list[FieldError]:
    errors = _collect(
        [
            ("plan_type", _choice(details.plan_type, PLAN_TYPES, "plan type")),
            ("benefit", _choice(details.benefit, BENEFITS, "benefit")),
            ("priority", _choice(details.priority, PRIORITIES, "priority")),
            ("member_id", None if details.member_id else "required"),
            ("end_date", _end_problem(details.start_date, details.end_date)),
        ]
    )
    if not details.payer_id:
        errors.append(FieldError("payer_id", "required"))
    elif not _PAYER_ID.match(details.payer_id):
        errors.append(FieldError("payer_id", "a payer id is lowercase letters, digits and dashes (e.g. cigna)"))
    elif known_payers is not None and details.payer_id not in known_payers:
        errors.append(FieldError("payer_id", "unknown payer id; it must name a payer policy file or medicare/medicaid"))
    return errors


def add_coverage(
    session: Session,
    *,
    patient_id: int,
    details: CoverageDetails,
    known_payers: Collection[str] | None = None,
    today: date | None = None,
) -> Coverage:
    """Add a coverage; `known_payers` (when given) limits payer ids to those with a policy."""
    patient = get_patient(session, patient_id=patient_id)
    details = replace(stripped(details), payer_id=details.payer_id.strip().lower())
    errors = coverage_errors(details, known_payers=known_payers) + _priority_clash(
        session, patient.id, details, None, today or date.today()
    )
    if errors:
        raise ValidationFailed(errors)
    return _insert(session, Coverage(patient_id=patient_id, **asdict(details)))


def update_coverage(
    session: Session,
    *,
    coverage_id: int,
    expected_version: int,
    details: CoverageDetails,
    known_payers: Collection[str] | None = None,
    today: date | None = None,
) -> Coverage:
    row = _load(session, Coverage, coverage_id, expected_version, "coverage")
    details = replace(stripped(details), payer_id=details.payer_id.strip().lower())
    errors = coverage_errors(details, known_payers=known_payers) + _priority_clash(
        session, row.patient_id, details, coverage_id, today or date.today()
    )
    if errors:
        raise ValidationFailed(errors)
    return apply_details(session, row, details, entity="coverage")


def coverage_clash(
    session: Session, *, patient_id: int, details: CoverageDetails, today: date
) -> list[FieldError]:
    """The priority clash a new coverage would cause (checked before an import offers it)."""
    return _priority_clash(session, patient_id, details, None, today)


def _priority_clash(
    session: Session, patient_id: int | None, details: CoverageDetails, coverage_id: int | None, today: date
) -> list[FieldError]:
    """Two open coverages cannot both be primary (or both secondary) at the same time."""
    if details.end_date is not None and details.end_date < today:
        return []
    others = session.exec(
        select(Coverage).where(
            Coverage.patient_id == patient_id, Coverage.priority == details.priority, Coverage.id != coverage_id
        )
    ).all()
    for other in others:
        open_other = other.end_date is None or other.end_date >= today
        if open_other and _overlap(details.start_date, details.end_date, other.start_date, other.end_date):
            return [FieldError("priority", f"the patient already has a {details.priority} coverage for these dates")]
    return []


def _overlap(a_start: date | None, a_end: date | None, b_start: date | None, b_end: date | None) -> bool:
    return (a_start or date.min) <= (b_end or date.max) and (b_start or date.min) <= (a_end or date.max)


def remove_coverage(session: Session, *, coverage_id: int, expected_version: int) -> None:
    _delete(session, _load(session, Coverage, coverage_id, expected_version, "coverage"), "coverage")


# --- diagnoses -------------------------------------------------------------------------------------------


# ICD-10-CM codes whose title says "with psychotic features/symptoms" (F32.3 single episode, F33.3 recurrent;
# CMS ICD-10-CM tabular list, F30-F39).
PSYCHOTIC_FEATURE_CODES = frozenset({"F32.3", "F33.3"})


def code_psychotic_features(icd10: str) -> bool | None:
    """True when the code itself says psychotic features; None when the code does not say."""
    return True if icd10.strip().upper() in PSYCHOTIC_FEATURE_CODES else None


def psychotic_features_of(icd10: str, recorded: bool | None) -> bool | None:
    """The code decides where it says so; otherwise what was recorded (None: not recorded)."""
    return code_psychotic_features(icd10) or recorded


def diagnosis_contradiction(icd10: str, recorded: bool | None) -> str | None:
    """A record that says 'no psychotic features' under a code that says the opposite."""
    if code_psychotic_features(icd10) and recorded is False:
        return (f"Diagnosis {icd10.strip().upper()} is coded with psychotic features but the record says without; "
                "correct the code or the record.")
    return None


def unrecorded_fields(row: Diagnosis) -> frozenset[str]:
    """Details an old default filled in and nobody confirmed (migration 0008): they read as not recorded."""
    return frozenset(name for name in row.not_recorded.split(",") if name)


def diagnosis_details(row: Diagnosis) -> DiagnosisDetails:
    """The diagnosis as recorded: a detail never recorded is None, whatever the column holds."""
    details = details_of(row, DiagnosisDetails)
    marked = unrecorded_fields(row)
    unset: dict[str, Any] = {name: None for name in marked if hasattr(details, name)}
    return replace(details, **unset)


def diagnosis_errors(details: DiagnosisDetails, *, dob: date, today: date) -> list[FieldError]:
    return _collect(
        [
            ("icd10", icd10_problem(details.icd10)),
            ("episode_start", _event_date(details.episode_start, dob=dob, today=today, label="episode start")),
            ("episode_type", _optional_choice(details.episode_type, EPISODE_TYPES, "episode type")),
            ("diagnosis_method", _optional_choice(details.diagnosis_method, DIAGNOSIS_METHODS, "method")),
            ("dsm_edition", _optional_choice(details.dsm_edition, DSM_EDITIONS, "DSM edition")),
            ("diagnosed_on", _event_date(details.diagnosed_on, dob=dob, today=today, label="diagnosis date")),
        ]
    )


def _clean_diagnosis(details: DiagnosisDetails) -> DiagnosisDetails:
    details = stripped(details)
    return replace(details, icd10=details.icd10.upper())


def add_diagnosis(
    session: Session, *, patient_id: int, details: DiagnosisDetails, today: date | None = None
) -> Diagnosis:
    patient = get_patient(session, patient_id=patient_id)
    details = _clean_diagnosis(details)
    _raise(diagnosis_errors(details, dob=patient.dob, today=today or date.today()))
    return _insert(session, Diagnosis(patient_id=patient_id, **asdict(details)))


def update_diagnosis(
    session: Session, *, diagnosis_id: int, expected_version: int, details: DiagnosisDetails,
    today: date | None = None,
) -> Diagnosis:
    row = _load(session, Diagnosis, diagnosis_id, expected_version, "diagnosis")
    details = _clean_diagnosis(details)
    _raise(diagnosis_errors(details, dob=_dob(session, row.patient_id), today=today or date.today()))
    row.not_recorded = ""  # every detail was shown and saved: what is None now is not recorded, the rest is
    return apply_details(session, row, details, entity="diagnosis")


def remove_diagnosis(session: Session, *, diagnosis_id: int, expected_version: int) -> None:
    _delete(session, _load(session, Diagnosis, diagnosis_id, expected_version, "diagnosis"), "diagnosis")


# --- medication trials -----------------------------------------------------------------------------------


def trial_errors(details: TrialDetails, *, dob: date, today: date) -> list[FieldError]:
    errors = _collect(
        [
            ("role", _choice(details.role, TRIAL_ROLES, "role")),
            ("outcome", _choice(details.outcome, TRIAL_OUTCOMES, "outcome")),
            ("start_date", past_date_problem(details.start_date, today=today, label="start date")
             if details.start_date else "required"),
            ("end_date", past_date_problem(details.end_date, today=today, label="end date")
             or _end_problem(details.start_date, details.end_date)),
        ]
    )
    if details.start_date is not None and details.start_date < dob:
        errors.append(FieldError("start_date", "the trial starts before the patient's date of birth"))
    if not details.drug:
        errors.append(FieldError("drug", "required"))
    elif is_esketamine(details.drug):
        errors.append(FieldError("drug", "esketamine is not an antidepressant trial; record it under screening"))
    if details.daily_dose_mg is None:
        errors.append(FieldError("daily_dose_mg", "required"))
    elif details.daily_dose_mg < 0:
        errors.append(FieldError("daily_dose_mg", "a dose cannot be negative"))
    elif details.daily_dose_mg == 0:
        errors.append(FieldError("daily_dose_mg", "enter the daily dose in mg (more than 0)"))
    if details.adherence_pct is not None and not 0 <= details.adherence_pct <= 100:
        errors.append(FieldError("adherence_pct", "adherence is a percentage from 0 to 100"))
    if details.improvement_pct is not None and not -100 <= details.improvement_pct <= 100:
        errors.append(FieldError("improvement_pct", "improvement is a percentage from -100 to 100"))
    return errors


def add_trial(
    session: Session, *, patient_id: int, details: TrialDetails, today: date | None = None
) -> MedicationTrial:
    """Add a medication trial; an unknown drug is allowed (the record flags it)."""
    patient = get_patient(session, patient_id=patient_id)
    details = stripped(details)
    _raise(trial_errors(details, dob=patient.dob, today=today or date.today()))
    return _insert(session, MedicationTrial(patient_id=patient_id, **asdict(details)))


def update_trial(
    session: Session, *, trial_id: int, expected_version: int, details: TrialDetails, today: date | None = None
) -> MedicationTrial:
    row = _load(session, MedicationTrial, trial_id, expected_version, "medication trial")
    details = stripped(details)
    _raise(trial_errors(details, dob=_dob(session, row.patient_id), today=today or date.today()))
    return apply_details(session, row, details, entity="medication trial")


def remove_trial(session: Session, *, trial_id: int, expected_version: int) -> None:
    _delete(session, _load(session, MedicationTrial, trial_id, expected_version, "medication trial"),
            "medication trial")


# --- psychotherapy ---------------------------------------------------------------------------------------


def psychotherapy_errors(details: PsychotherapyDetails, *, dob: date, today: date) -> list[FieldError]:
    return _collect(
        [
            ("modality", _choice(details.modality, PSYCHOTHERAPY_MODALITIES, "modality")),
            ("start_date", None if details.start_date else "required"),
            ("start_date", _event_date(details.start_date, dob=dob, today=today, label="start date")),
            ("end_date", past_date_problem(details.end_date, today=today, label="end date")
             or _end_problem(details.start_date, details.end_date)),
        ]
    )


def add_psychotherapy(
    session: Session, *, patient_id: int, details: PsychotherapyDetails, today: date | None = None
) -> PsychotherapyTrial:
    patient = get_patient(session, patient_id=patient_id)
    details = stripped(details)
    _raise(psychotherapy_errors(details, dob=patient.dob, today=today or date.today()))
    return _insert(session, PsychotherapyTrial(patient_id=patient_id, **asdict(details)))


def update_psychotherapy(
    session: Session, *, psychotherapy_id: int, expected_version: int, details: PsychotherapyDetails,
    today: date | None = None,
) -> PsychotherapyTrial:
    row = _load(session, PsychotherapyTrial, psychotherapy_id, expected_version, "psychotherapy trial")
    details = stripped(details)
    _raise(psychotherapy_errors(details, dob=_dob(session, row.patient_id), today=today or date.today()))
    return apply_details(session, row, details, entity="psychotherapy trial")


def remove_psychotherapy(session: Session, *, psychotherapy_id: int, expected_version: int) -> None:
    row = _load(session, PsychotherapyTrial, psychotherapy_id, expected_version, "psychotherapy trial")
    _delete(session, row, "psychotherapy trial")


# --- rating scores ---------------------------------------------------------------------------------------


def score_errors(details: ScoreDetails, *, dob: date, today: date) -> list[FieldError]:
    score_message: str | None
    if isinstance(details.score, bool) or not isinstance(details.score, int):
        score_message = "a whole number"
    else:
        score_message = score_problem(details.instrument, details.score)
        if score_message and score_message.startswith("unknown instrument"):
            return [FieldError("instrument", score_message)]
    return _collect(
        [
            ("score", score_message),
            ("measured_on", None if details.measured_on else "required"),
            ("measured_on", _event_date(details.measured_on, dob=dob, today=today, label="date")),
        ]
    )


def add_score(session: Session, *, patient_id: int, details: ScoreDetails, today: date | None = None) -> RatingScore:
    patient = get_patient(session, patient_id=patient_id)
    details = stripped(details)
    _raise(score_errors(details, dob=patient.dob, today=today or date.today()))
    return _insert(session, RatingScore(patient_id=patient_id, **asdict(details)))


def update_score(
    session: Session, *, score_id: int, expected_version: int, details: ScoreDetails, today: date | None = None
) -> RatingScore:
    row = _load(session, RatingScore, score_id, expected_version, "rating score")
    details = stripped(details)
    _raise(score_errors(details, dob=_dob(session, row.patient_id), today=today or date.today()))
    return apply_details(session, row, details, entity="rating score")


def remove_score(session: Session, *, score_id: int, expected_version: int) -> None:
    _delete(session, _load(session, RatingScore, score_id, expected_version, "rating score"), "rating score")


# --- current medications ---------------------------------------------------------------------------------


def medication_errors(details: MedicationDetails, *, dob: date, today: date) -> list[FieldError]:
    errors = _collect(
        [
            ("drug", None if details.drug else "required"),
            ("started_on", _event_date(details.started_on, dob=dob, today=today, label="start date")),
        ]
    )
    if details.daily_dose_mg is not None and details.daily_dose_mg < 0:
        errors.append(FieldError("daily_dose_mg", "a dose cannot be negative"))
    return errors


def add_medication(
    session: Session, *, patient_id: int, details: MedicationDetails, today: date | None = None
) -> CurrentMedication:
    patient = get_patient(session, patient_id=patient_id)
    details = stripped(details)
    _raise(medication_errors(details, dob=patient.dob, today=today or date.today()))
    return _insert(session, CurrentMedication(patient_id=patient_id, **asdict(details)))


def update_medication(
    session: Session, *, medication_id: int, expected_version: int, details: MedicationDetails,
    today: date | None = None,
) -> CurrentMedication:
    row = _load(session, CurrentMedication, medication_id, expected_version, "medication")
    details = stripped(details)
    _raise(medication_errors(details, dob=_dob(session, row.patient_id), today=today or date.today()))
    return apply_details(session, row, details, entity="medication")


def remove_medication(session: Session, *, medication_id: int, expected_version: int) -> None:
    _delete(session, _load(session, CurrentMedication, medication_id, expected_version, "medication"), "medication")


# --- inpatient stays -------------------------------------------------------------------------------------


def stay_errors(details: StayDetails, *, dob: date, today: date) -> list[FieldError]:
    return _collect(
        [
            ("admitted_on", None if details.admitted_on else "required"),
            ("admitted_on", _event_date(details.admitted_on, dob=dob, today=today, label="admission date")),
            (
                "discharged_on",
                past_date_problem(details.discharged_on, today=today, label="discharge date")
                or _end_problem(details.admitted_on, details.discharged_on, "discharge date"),
            ),
            ("reason", _choice(details.reason, STAY_REASONS, "reason")),
        ]
    )


def add_stay(session: Session, *, patient_id: int, details: StayDetails, today: date | None = None) -> InpatientStay:
    patient = get_patient(session, patient_id=patient_id)
    details = stripped(details)
    _raise(stay_errors(details, dob=patient.dob, today=today or date.today()))
    return _insert(session, InpatientStay(patient_id=patient_id, **asdict(details)))


def update_stay(
    session: Session, *, stay_id: int, expected_version: int, details: StayDetails, today: date | None = None
) -> InpatientStay:
    row = _load(session, InpatientStay, stay_id, expected_version, "inpatient stay")
    details = stripped(details)
    _raise(stay_errors(details, dob=_dob(session, row.patient_id), today=today or date.today()))
    return apply_details(session, row, details, entity="inpatient stay")


def remove_stay(session: Session, *, stay_id: int, expected_version: int) -> None:
    _delete(session, _load(session, InpatientStay, stay_id, expected_version, "inpatient stay"), "inpatient stay")


# --- search and the full record --------------------------------------------------------------------------


@dataclass(frozen=True)
class PatientSummary:
    """One row of the patient list."""

    id: int
    mrn: str
    first_name: str
    last_name: str
    dob: date
    site_id: int
    site_name: str
    payer_ids: tuple[str, ...]

    @property
    def display_name(self) -> str:
        return f"{self.last_name}, {self.first_name}"


@dataclass(frozen=True)
class PatientPage:
    """A page of search results and how many matched in all."""

    rows: list[PatientSummary]
    total: int


def _text_filter(text: str) -> Any:
    """Name/MRN words (all must match), or a date of birth typed as YYYY-MM-DD or MM/DD/YYYY."""
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{4}", text):
        try:
            return Patient.dob == parse_date_text(text)
        except DateTextError:
            return Patient.id == -1  # an impossible date matches nobody
    words = [w for w in re.split(r"[\s,]+", text) if w]
    clauses = []
    for word in words:
        pattern = f"%{word.replace('%', '').replace('_', '')}%"
        clauses.append(
            or_(
                col(Patient.first_name).ilike(pattern),
                col(Patient.last_name).ilike(pattern),
                col(Patient.mrn).ilike(pattern),
            )
        )
    return and_(*clauses) if clauses else None


def search_patients(
    session: Session,
    *,
    text: str = "",
    site_id: int | None = None,
    payer_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> PatientPage:
    """Patients matching name/MRN words or a date of birth, optionally at one site or with one payer."""
    conditions: list[Any] = []
    text_clause = _text_filter(text) if text.strip() else None
    if text_clause is not None:
        conditions.append(text_clause)
    if site_id is not None:
        conditions.append(Patient.site_id == site_id)
    if payer_id:
        covered = select(Coverage.patient_id).where(Coverage.payer_id == payer_id)
        conditions.append(col(Patient.id).in_(covered))
    total = session.exec(select(func.count()).select_from(Patient).where(*conditions)).one()
    query = (
        select(Patient, Site.name)
        .join(Site, col(Site.id) == col(Patient.site_id))
        .where(*conditions)
        .order_by(func.lower(Patient.last_name), func.lower(Patient.first_name), col(Patient.id))
        .limit(max(1, min(limit, 500)))
        .offset(max(0, offset))
    )
    found = session.exec(query).all()
    ids = [p.id for p, _ in found]
    payers: dict[int, list[str]] = {}
    if ids:
        for patient_id, payer in session.exec(
            select(Coverage.patient_id, Coverage.payer_id)
            .where(col(Coverage.patient_id).in_(ids))
            .order_by(col(Coverage.patient_id), col(Coverage.priority), col(Coverage.id))
        ).all():
            if payer not in payers.setdefault(patient_id, []):
                payers[patient_id].append(payer)
    rows = [
        PatientSummary(
            id=p.id or 0,
            mrn=p.mrn,
            first_name=p.first_name,
            last_name=p.last_name,
            dob=p.dob,
            site_id=p.site_id,
            site_name=site_name,
            payer_ids=tuple(payers.get(p.id or 0, [])),
        )
        for p, site_name in found
    ]
    return PatientPage(rows=rows, total=int(total))


@dataclass(frozen=True)
class TrialView:
    """A trial with what the reference data says about it."""

    trial: MedicationTrial
    drug: Drug | None
    weeks: float
    flags: tuple[str, ...]


@dataclass(frozen=True)
class MedicationView:
    """A current medication with its class and REMS concomitant-medication categories."""

    medication: CurrentMedication
    drug: Drug | None
    categories: tuple[str, ...]


@dataclass(frozen=True)
class PatientRecord:
    """Everything on one patient's record, as the record page and the payer checklists read it."""

    patient: Patient
    site: Site
    prescriber: Prescriber | None
    coverages: list[Coverage]
    diagnoses: list[Diagnosis]
    trials: list[TrialView]
    psychotherapy: list[PsychotherapyTrial]
    scores: list[RatingScore]
    medications: list[MedicationView]
    stays: list[InpatientStay]
    concomitant: dict[str, list[str]] = field(default_factory=dict)


def trial_flags(trial: MedicationTrial, drug: Drug | None) -> tuple[str, ...]:
    """What a reviewer should look at: unknown drug, dose outside the reference range, role mismatch."""
    if drug is None:
        return ("unknown drug: not in the reference list, so its class and doses cannot be checked",)
    flags: list[str] = []
    if trial.daily_dose_mg < drug.min_daily_mg.mg:
        flags.append(f"dose below the minimum therapeutic dose ({drug.min_daily_mg.mg:g} mg)")
    if trial.daily_dose_mg > drug.max_daily_mg.mg:
        flags.append(f"dose above the labeled maximum ({drug.max_daily_mg.mg:g} mg)")
    if trial.role == "antidepressant" and not drug.counts_as_antidepressant:
        flags.append("recorded as an antidepressant, but the reference lists it as an augmentation agent")
    if trial.role == "augmentation" and not drug.counts_as_augmentation:
        flags.append("recorded as augmentation, but the reference lists it as an antidepressant")
    return tuple(flags)


def trial_weeks(trial: MedicationTrial, *, today: date) -> float:
    """Duration in weeks (an ongoing trial counts up to today)."""
    return round(((trial.end_date or today) - trial.start_date).days / 7, 1)


def get_patient_record(session: Session, *, patient_id: int, today: date | None = None) -> PatientRecord:
    """The patient with every related row, newest first where order matters."""
    today = today or date.today()
    patient = get_patient(session, patient_id=patient_id)
    site = session.get(Site, patient.site_id)
    if site is None:
        raise NotFound("No such site.")
    prescriber = session.get(Prescriber, patient.prescriber_id) if patient.prescriber_id else None

    def rows(model: type[_Row], *order: Any) -> list[_Row]:
        query = select(model).where(model.patient_id == patient_id)  # type: ignore[attr-defined]
        return list(session.exec(query.order_by(*order)).all())

    trials = rows(MedicationTrial, col(MedicationTrial.start_date).desc(), col(MedicationTrial.id))
    medications = rows(CurrentMedication, col(CurrentMedication.drug))
    concomitant = concomitant_categories([m.drug for m in medications])
    medication_views = [
        MedicationView(
            medication=m,
            drug=find_drug(m.drug),
            categories=tuple(cat for cat, names in concomitant.items() if m.drug in names),
        )
        for m in medications
    ]
    trial_views = []
    for trial in trials:
        drug = find_drug(trial.drug)
        trial_views.append(
            TrialView(trial=trial, drug=drug, weeks=trial_weeks(trial, today=today), flags=trial_flags(trial, drug))
        )
    return PatientRecord(
        patient=patient,
        site=site,
        prescriber=prescriber,
        coverages=rows(Coverage, col(Coverage.priority), col(Coverage.id)),
        diagnoses=rows(Diagnosis, col(Diagnosis.is_current).desc(), col(Diagnosis.id)),
        trials=trial_views,
        psychotherapy=rows(PsychotherapyTrial, col(PsychotherapyTrial.start_date).desc()),
        scores=rows(RatingScore, col(RatingScore.measured_on).desc(), col(RatingScore.id)),
        medications=medication_views,
        stays=rows(InpatientStay, col(InpatientStay.admitted_on).desc()),
        concomitant=concomitant,
    )


# --- shared write helpers --------------------------------------------------------------------------------


def _raise(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors)


def _dob(session: Session, patient_id: int) -> date:
    return get_patient(session, patient_id=patient_id).dob


def _load(session: Session, model: type[_Edited], row_id: int, expected_version: int, entity: str) -> _Edited:
    return load_for_edit(
        session, model, row_id, expected_version=expected_version, entity=entity,
        missing=f"No such {entity}; it may have been removed by someone else.",
    )


def _insert(session: Session, row: _Row) -> _Row:
    session.add(row)
    session.flush()
    return row


def _delete(session: Session, row: SQLModel, entity: str) -> None:
    session.delete(row)
    flush_edit(session, entity=entity)
