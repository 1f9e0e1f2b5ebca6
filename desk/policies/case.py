"""Case facts: what the evaluator knows about one patient (built from the record, or read from a JSON file).

`None` always means "not recorded" (unknown), never "no".
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from desk.errors import FieldError, ValidationFailed
from desk.models.patients import CONCURRENT_THERAPIES, SUBSTANCE_USE
from desk.policies.drugs import DrugLookup
from desk.validation import SCALE_RANGES, score_problem

CASE_SCHEMA_VERSION = 1
TrialRole = Literal["antidepressant", "augmentation"]
Outcome = Literal["non_response", "partial_response", "intolerance", "contraindicated", "response"]


class _Fact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DiagnosisFact(_Fact):
    icd10: str
    episode_start: date | None = None
    episode_type: Literal["single", "recurrent"] | None = None
    psychotic_features: bool | None = None
    method: Literal["clinical_interview", "structured_interview", "other"] | None = None
    dsm_edition: str | None = None
    diagnosed_on: date | None = None
    suicidal_ideation: bool | None = None
    current: bool = True


class TrialFact(_Fact):
    drug: str = Field(description="generic name as in the drug reference data")
    role: TrialRole = "antidepressant"
    daily_dose_mg: float | None = Field(default=None, ge=0)
    start_date: date | None = None
    end_date: date | None = Field(default=None, description="empty while the trial is ongoing")
    adherence_pct: float | None = Field(default=None, ge=0, le=100)
    outcome: Outcome | None = None
    improvement_pct: float | None = Field(default=None, ge=-100, le=100,
                                          description="symptom reduction on a validated scale")
    current_episode: bool | None = None
    at_max_tolerated_dose: bool | None = None


class PsychotherapyFact(_Fact):
    modality: str
    start_date: date | None = None
    end_date: date | None = None
    current_episode: bool | None = None


class ScoreFact(_Fact):
    instrument: str = Field(description=f"one of {', '.join(SCALE_RANGES)}")
    score: float
    measured_on: date


class MedicationFact(_Fact):
    drug: str
    daily_dose_mg: float | None = Field(default=None, ge=0)
    started_on: date | None = None


class StayFact(_Fact):
    admitted_on: date
    discharged_on: date | None = None
    reason: str = "suicidality"
    esketamine_started: bool | None = None


class Screening(_Fact):
    aneurysmal_vascular_disease: bool | None = None
    intracerebral_hemorrhage_history: bool | None = None
    esketamine_hypersensitivity: bool | None = None
    psychosis_history: bool | None = None
    substance_use: Literal["none", "in_remission", "current"] | None = None
    substance_remission_since: date | None = None
    substance_treated: bool | None = None
    concurrent_therapies: list[Literal["ECT", "TMS", "VNS", "DBS", "ketamine"]] | None = None
    prior_esketamine: bool | None = None
    prior_esketamine_improvement_pct: float | None = Field(default=None, ge=-100, le=100)
    esketamine_started_on: date | None = None
    pdmp_checked_on: date | None = None


class PrescriberFact(_Fact):
    specialty: Literal["psychiatrist", "psychiatric_np", "other"] | None = None
    psychiatric_consultation: bool | None = None


class SettingFact(_Fact):
    """The outpatient setting where the patient is treated."""

    rems_certified_on: date | None = Field(default=None, description="the day the setting's REMS certification "
                                           "took effect")
    rems_setting_id: str | None = Field(default=None, max_length=40, description="the setting's REMS ID")


class RemsFact(_Fact):
    """The patient's SPRAVATO REMS record: enrollment, and the monitoring of the sessions given so far."""

    enrolled_on: date | None = Field(
        default=None, description="the day the Patient Enrollment Form, signed by the patient and the prescriber, "
        "was submitted to the REMS")
    enrollment_confirmation: str | None = Field(default=None, max_length=40,
                                                description="the confirmation number the REMS gave")
    enrollment_pending: list[str] | None = Field(
        default=None, description="steps of a started enrollment form not yet recorded (e.g. \"the submission "
        "date\"); empty or missing when no form is on file")
    monitoring_minimum_minutes: int | None = Field(
        default=None, ge=0, le=1440, description="minutes from the first device before the session log lets a "
        "patient be discharged")
    monitored_sessions: int | None = Field(default=None, ge=0, description="sessions completed (discharged)")
    shortest_monitoring_minutes: int | None = Field(
        default=None, ge=0, description="the shortest monitoring, first device to discharge, of those sessions")
    sessions_at_uncertified_setting: int | None = Field(
        default=None, ge=0, description="of those sessions, how many were given where no REMS certification was in "
        "effect on the day")


class RequestedRegimen(_Fact):
    """What the prior-authorization request asks for (from the PA case); 28 mg per device."""

    first_dose_mg: Literal[28, 56, 84] | None = Field(default=None, description="the first session's dose")
    dose_mg: Literal[28, 56, 84] | None = Field(default=None, description="the dose of the later sessions")
    sessions_per_week: float | None = Field(default=None, gt=0, le=7)
    weeks: int | None = Field(default=None, ge=1, le=104)
    sessions_requested: int | None = Field(default=None, ge=1, alias="sessions",
                                           description="sessions requested; else sessions a week x weeks")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def sessions(self) -> int | None:
        if self.sessions_requested is not None:
            return self.sessions_requested
        if self.sessions_per_week is None or self.weeks is None:
            return None
        return max(1, round(self.sessions_per_week * self.weeks))

    def devices_total(self) -> int | None:
        """Devices over the whole request (first session at first_dose_mg, the rest at dose_mg)."""
        sessions = self.sessions
        if sessions is None or self.dose_mg is None:
            return None
        first = self.first_dose_mg or self.dose_mg
        return first // 28 + (sessions - 1) * (self.dose_mg // 28)


class CoverageFact(_Fact):
    payer_id: str
    plan_type: str | None = None
    benefit: Literal["medical", "pharmacy"] | None = None


class CaseFacts(_Fact):
    """Everything a payer checklist reads about one patient; no names, addresses or identifiers."""

    schema_version: Literal[1] = 1
    birth_date: date | None = Field(default=None, description="used only to compute age on the as-of date")
    age_years: int | None = Field(default=None, ge=0, le=130, description="when birth_date is not given")
    diagnoses: list[DiagnosisFact] = Field(default_factory=list)
    trials: list[TrialFact] = Field(default_factory=list)
    psychotherapy: list[PsychotherapyFact] = Field(default_factory=list)
    scores: list[ScoreFact] = Field(default_factory=list)
    current_medications: list[MedicationFact] = Field(default_factory=list)
    inpatient_stays: list[StayFact] = Field(default_factory=list)
    screening: Screening = Field(default_factory=Screening)
    prescriber: PrescriberFact = Field(default_factory=PrescriberFact)
    setting: SettingFact = Field(default_factory=SettingFact)
    rems: RemsFact = Field(default_factory=RemsFact)
    coverage: CoverageFact | None = None
    previous_approvals: list[str] | None = Field(default=None, description="payer ids that approved SPRAVATO before")
    requested: RequestedRegimen | None = Field(default=None, description="the regimen the request asks for")
    attestations: list[str] = Field(default_factory=list, description="criterion ids the prescriber attests")


def case_json_schema() -> dict[str, object]:
    """The JSON Schema of a case file."""
    schema = CaseFacts.model_json_schema()
    schema["$id"] = "https://spravato-desk.invalid/schemas/case-facts-v1.json"
    schema["title"] = "SPRAVATO Paperwork Desk case facts"
    return schema


def case_problems(case: CaseFacts, *, as_of: date, drugs: DrugLookup) -> list[FieldError]:
    """What is wrong with a case: unknown drugs or scales, impossible scores, dates after `as_of`."""
    problems: list[FieldError] = []

    def future(field: str, value: date | None) -> None:
        if value is not None and value > as_of:
            problems.append(FieldError(field, f"{value.isoformat()} is after the as-of date {as_of.isoformat()}"))

    future("birth_date", case.birth_date)
    for i, dx in enumerate(case.diagnoses):
        future(f"diagnoses[{i}].diagnosed_on", dx.diagnosed_on)
        future(f"diagnoses[{i}].episode_start", dx.episode_start)
    for i, trial in enumerate(case.trials):
        if drugs.info(trial.drug) is None:
            problems.append(FieldError(f"trials[{i}].drug", f"unknown drug {trial.drug!r}; use a generic or brand "
                                       "name from the drug reference data"))
        future(f"trials[{i}].start_date", trial.start_date)
        future(f"trials[{i}].end_date", trial.end_date)
        if trial.start_date and trial.end_date and trial.end_date < trial.start_date:
            problems.append(FieldError(f"trials[{i}].end_date", "is before start_date"))
    for i, course in enumerate(case.psychotherapy):
        future(f"psychotherapy[{i}].start_date", course.start_date)
        future(f"psychotherapy[{i}].end_date", course.end_date)
    for i, score in enumerate(case.scores):
        message = score_problem(score.instrument, int(score.score)) if score.score == int(score.score) else (
            "scores are whole numbers")
        if message:
            problems.append(FieldError(f"scores[{i}].{'instrument' if 'instrument' in message else 'score'}", message))
        future(f"scores[{i}].measured_on", score.measured_on)
    for i, med in enumerate(case.current_medications):
        if drugs.info(med.drug) is None:
            problems.append(FieldError(f"current_medications[{i}].drug", f"unknown drug {med.drug!r}; use a "
                                       "generic or brand name from the drug reference data"))
        future(f"current_medications[{i}].started_on", med.started_on)
    for i, stay in enumerate(case.inpatient_stays):
        future(f"inpatient_stays[{i}].admitted_on", stay.admitted_on)
        future(f"inpatient_stays[{i}].discharged_on", stay.discharged_on)
    future("screening.substance_remission_since", case.screening.substance_remission_since)
    future("screening.pdmp_checked_on", case.screening.pdmp_checked_on)
    future("screening.esketamine_started_on", case.screening.esketamine_started_on)
    future("rems.enrolled_on", case.rems.enrolled_on)
    rems = case.rems
    if rems.enrolled_on is not None and rems.enrollment_pending:
        problems.append(FieldError("rems.enrollment_pending", "an enrolled patient has no pending enrollment steps"))
    if rems.enrollment_confirmation and rems.enrolled_on is None:
        problems.append(FieldError("rems.enrolled_on", "a confirmation number needs the enrollment date"))
    sessions = rems.monitored_sessions or 0
    if rems.shortest_monitoring_minutes is not None and sessions == 0:
        problems.append(FieldError("rems.shortest_monitoring_minutes", "needs monitored_sessions above 0"))
    if rems.sessions_at_uncertified_setting is not None and rems.sessions_at_uncertified_setting > sessions:
        problems.append(FieldError("rems.sessions_at_uncertified_setting",
                                   f"is more than the {sessions} monitored sessions"))
    return problems


def read_case(text: str, *, as_of: date, drugs: DrugLookup) -> CaseFacts:
    """Parse and check a case file's JSON; raises ValidationFailed naming each bad field."""
    try:
        raw: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed([FieldError("case", f"not valid JSON: {exc.msg} at line {exc.lineno}, "
                                           f"column {exc.colno}")]) from exc
    if not isinstance(raw, dict):
        raise ValidationFailed([FieldError("case", "expected a JSON object (see `payers case-schema`)")])
    try:
        case = CaseFacts.model_validate(raw)
    except ValidationError as exc:
        errors = []
        for error in exc.errors():
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]).lstrip(".")
            message = str(error["msg"])
            if error["type"] == "extra_forbidden":
                message = "unknown field"
            elif error["type"] != "missing":
                message = f"{message} (got {error.get('input')!r})"
            errors.append(FieldError(where or "case", message))
        raise ValidationFailed(errors) from exc
    problems = case_problems(case, as_of=as_of, drugs=drugs)
    if problems:
        raise ValidationFailed(problems)
    return case


__all__ = [
    "CASE_SCHEMA_VERSION",
    "CONCURRENT_THERAPIES",
    "SUBSTANCE_USE",
    "CaseFacts",
    "CoverageFact",
    "DiagnosisFact",
    "MedicationFact",
    "PrescriberFact",
    "PsychotherapyFact",
    "RemsFact",
    "RequestedRegimen",
    "ScoreFact",
    "Screening",
    "SettingFact",
    "StayFact",
    "TrialFact",
    "case_json_schema",
    "case_problems",
    "read_case",
]
