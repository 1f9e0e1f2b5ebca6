"""Patients, their insurance coverages and the clinical record payer checklists read."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from desk.models.base import utcnow, version_column

_patient_version = version_column()
_coverage_version = version_column()
_diagnosis_version = version_column()
_trial_version = version_column()
_psychotherapy_version = version_column()
_score_version = version_column()
_medication_version = version_column()
_stay_version = version_column()

SEXES = ("F", "M", "X", "U")
PLAN_TYPES = (
    "commercial",
    "medicare_part_b",
    "medicare_advantage",
    "medicare_part_d",
    "medicaid_ffs",
    "medicaid_managed",
    "tricare",
    "va",
    "other_government",
)
GOVERNMENT_PLAN_TYPES = frozenset(PLAN_TYPES) - {"commercial"}
# Plan types as a person names them (screens, tables, choice lists).
PLAN_TYPE_NAMES = {
    "commercial": "Commercial", "medicare_part_b": "Original Medicare (Part B)",
    "medicare_advantage": "Medicare Advantage", "medicare_part_d": "Medicare Part D",
    "medicaid_ffs": "Medicaid fee-for-service", "medicaid_managed": "Medicaid managed care", "tricare": "TRICARE",
    "va": "VA", "other_government": "Other government",
}
BENEFITS = ("medical", "pharmacy")
PRIORITIES = ("primary", "secondary", "tertiary")
SUBSTANCE_USE = ("none", "in_remission", "current")
CONCURRENT_THERAPIES = ("ECT", "TMS", "VNS", "DBS", "ketamine")
EPISODE_TYPES = ("single", "recurrent")
DIAGNOSIS_METHODS = ("structured_interview", "clinical_interview", "other")
DSM_EDITIONS = ("DSM-5-TR", "DSM-5", "DSM-IV-TR")
TRIAL_ROLES = ("antidepressant", "augmentation")
# not_recorded: a trial brought in from an EHR export, whose outcome staff have not set yet (payer criteria read
# it as unknown).
TRIAL_OUTCOMES = ("non_response", "partial_response", "intolerance", "contraindication", "response", "ongoing",
                  "not_recorded")
PSYCHOTHERAPY_MODALITIES = (
    "CBT",
    "IPT",
    "behavioral_activation",
    "schema_therapy",
    "MBCT",
    "CBASP",
    "problem_solving",
    "psychodynamic",
    "DBT",
    "supportive",
    "other",
)
STAY_REASONS = ("suicidality", "depression", "other")


class Patient(SQLModel, table=True):
    """A patient of one site. Screening fields are None until screened (unknown, not 'no')."""

    __table_args__ = (UniqueConstraint("site_id", "mrn", name="uq_patient_site_mrn"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    mrn: str = Field(index=True)
    first_name: str
    middle_initial: str = ""
    last_name: str = Field(index=True)
    dob: date
    sex: str
    address_line: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""
    phone: str = ""
    email: str = ""
    prescriber_id: int | None = Field(default=None, foreign_key="prescriber.id")
    # Contraindication screening (label §4) and history the payer checklists ask about.
    aneurysmal_vascular_disease: bool | None = None
    intracerebral_hemorrhage_history: bool | None = None
    esketamine_hypersensitivity: bool | None = None
    psychosis_history: bool | None = None
    substance_use: str | None = None
    substance_remission_since: date | None = None
    # Only meaningful for a current disorder (some policies accept one that is being treated).
    substance_treated: bool | None = None
    # A comma-separated list; it is "none" only once screened (screened_on set), otherwise unknown.
    concurrent_therapies: str = ""
    concurrent_therapies_screened_on: date | None = None
    prior_esketamine: bool | None = None
    prior_esketamine_improvement_pct: float | None = None
    # Start of the current esketamine treatment: the baseline for "improvement since treatment began".
    esketamine_started_on: date | None = None
    pdmp_checked_on: date | None = None
    # A prescriber who is not a psychiatrist consulted one (several policies accept that).
    psychiatric_consult_on: date | None = None
    psychiatric_consultant: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1, sa_column=_patient_version)
    __mapper_args__ = {"version_id_col": _patient_version}

    @property
    def display_name(self) -> str:
        return f"{self.last_name}, {self.first_name}"


class Coverage(SQLModel, table=True):
    """One insurance coverage; payer_id names a policy file in payers/."""

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    payer_id: str = Field(index=True)
    plan_type: str
    benefit: str = "medical"
    member_id: str
    group_number: str = ""
    rx_bin: str = ""
    rx_pcn: str = ""
    rx_group: str = ""
    priority: str = "primary"
    start_date: date | None = None
    end_date: date | None = None
    version: int = Field(default=1, sa_column=_coverage_version)
    __mapper_args__ = {"version_id_col": _coverage_version}


class Diagnosis(SQLModel, table=True):
    """A depressive-disorder diagnosis with how and when it was made."""

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    icd10: str
    description: str = ""
    episode_start: date | None = None
    # None = not recorded: a payer criterion that needs the detail stays unknown (never a silent default).
    episode_type: str | None = None
    psychotic_features: bool | None = None
    diagnosis_method: str | None = None
    dsm_edition: str | None = None
    # Details filled in by an old default and never confirmed (comma-separated column names): read as not recorded.
    not_recorded: str = ""
    diagnosed_on: date | None = None
    acute_suicidal_ideation: bool = False
    is_current: bool = True
    version: int = Field(default=1, sa_column=_diagnosis_version)
    __mapper_args__ = {"version_id_col": _diagnosis_version}


class MedicationTrial(SQLModel, table=True):
    """An antidepressant or augmentation trial; drug names match reference/drugs.yaml when known."""

    __tablename__ = "medication_trial"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    drug: str
    role: str = "antidepressant"
    daily_dose_mg: float
    start_date: date
    end_date: date | None = None
    adherence_pct: float | None = None
    outcome: str = "non_response"
    improvement_pct: float | None = None
    current_episode: bool = True
    at_max_tolerated_dose: bool = False
    notes: str = ""
    version: int = Field(default=1, sa_column=_trial_version)
    __mapper_args__ = {"version_id_col": _trial_version}


class PsychotherapyTrial(SQLModel, table=True):
    """A course of psychotherapy (CBT, IPT, ...)."""

    __tablename__ = "psychotherapy_trial"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    modality: str
    start_date: date
    end_date: date | None = None
    current_episode: bool = True
    version: int = Field(default=1, sa_column=_psychotherapy_version)
    __mapper_args__ = {"version_id_col": _psychotherapy_version}


class RatingScore(SQLModel, table=True):
    """A depression rating-scale result."""

    __tablename__ = "rating_score"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    instrument: str
    score: int
    measured_on: date
    version: int = Field(default=1, sa_column=_score_version)
    __mapper_args__ = {"version_id_col": _score_version}


class CurrentMedication(SQLModel, table=True):
    """A medication the patient takes now (feeds concurrent-AD checks and the REMS form)."""

    __tablename__ = "current_medication"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    drug: str
    daily_dose_mg: float | None = None
    started_on: date | None = None
    version: int = Field(default=1, sa_column=_medication_version)
    __mapper_args__ = {"version_id_col": _medication_version}


class InpatientStay(SQLModel, table=True):
    """A psychiatric hospital stay (some MDSI paths depend on a recent discharge)."""

    __tablename__ = "inpatient_stay"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    admitted_on: date
    discharged_on: date | None = None
    reason: str = "suicidality"
    esketamine_started: bool = False
    version: int = Field(default=1, sa_column=_stay_version)
    __mapper_args__ = {"version_id_col": _stay_version}
