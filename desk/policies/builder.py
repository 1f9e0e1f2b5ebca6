"""The one case builder: a patient's database record turned into case facts (CLI and app use the same)."""

from __future__ import annotations

from datetime import date
from typing import Any, get_args

from sqlalchemy import func
from sqlmodel import Session, col, select

from desk.errors import NotFound
from desk.history.ehr_details import is_esketamine_allergy
from desk.models import (
    CONCURRENT_THERAPIES,
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
    RemsEnrollment,
    Site,
    TreatmentCourse,
    TreatmentSession,
)
from desk.models.prior_auth import PaAuthorization, PriorAuthCase
from desk.patients import diagnosis_details, psychotic_features_of
from desk.policies.case import (
    CaseFacts,
    CoverageFact,
    DiagnosisFact,
    MedicationFact,
    Outcome,
    PrescriberFact,
    PsychotherapyFact,
    RemsFact,
    ScoreFact,
    Screening,
    SettingFact,
    StayFact,
    TrialFact,
)
from desk.rems.config import RemsSettings, load_rems_settings

_OUTCOMES = frozenset(get_args(Outcome))
_METHODS = frozenset({"clinical_interview", "structured_interview", "other"})
# Cases whose authorization was granted (an expired one was granted too).
_GRANTED = ("approved", "overturned", "expired")


def build_case_facts(
    session: Session, *, patient_id: int, coverage_id: int | None = None, as_of: date,
    rems_settings: RemsSettings | None = None,
) -> CaseFacts:
    """Case facts for one patient as recorded on `as_of` (records dated later are left out).

    `rems_settings` gives the monitoring minimum the session log enforces (the clinic's settings by default).
    """
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"patient {patient_id} does not exist")
    coverage = None
    if coverage_id is not None:
        coverage = session.get(Coverage, coverage_id)
        if coverage is None or coverage.patient_id != patient_id:
            raise NotFound(f"coverage {coverage_id} does not belong to patient {patient_id}")
    prescriber = session.get(Prescriber, patient.prescriber_id) if patient.prescriber_id else None
    site = session.get(Site, patient.site_id)

    def rows(model: Any, order: Any) -> list[Any]:
        return list(session.exec(select(model).where(model.patient_id == patient_id).order_by(order, model.id)))

    return CaseFacts(
        birth_date=patient.dob,
        diagnoses=[
            DiagnosisFact(
                icd10=d.icd10, episode_start=d.episode_start,
                episode_type=d.episode_type if d.episode_type in ("single", "recurrent") else None,
                psychotic_features=psychotic_features_of(d.icd10, d.psychotic_features),
                method=d.diagnosis_method if d.diagnosis_method in _METHODS else None,
                dsm_edition=d.dsm_edition or None, diagnosed_on=d.diagnosed_on,
                suicidal_ideation=d.acute_suicidal_ideation, current=d.is_current,
            )
            for d in map(diagnosis_details, rows(Diagnosis, col(Diagnosis.diagnosed_on)))
            if d.diagnosed_on is None or d.diagnosed_on <= as_of
        ],
        trials=[
            TrialFact(
                drug=t.drug, role=t.role if t.role in ("antidepressant", "augmentation") else "antidepressant",
                daily_dose_mg=t.daily_dose_mg, start_date=t.start_date,
                end_date=t.end_date if t.end_date is None or t.end_date <= as_of else None,
                adherence_pct=t.adherence_pct,
                outcome=t.outcome if t.outcome in _OUTCOMES else None,
                improvement_pct=t.improvement_pct, current_episode=t.current_episode,
                at_max_tolerated_dose=t.at_max_tolerated_dose,
            )
            for t in rows(MedicationTrial, col(MedicationTrial.start_date))
            if t.start_date <= as_of
        ],
        psychotherapy=[
            PsychotherapyFact(modality=p.modality, start_date=p.start_date, end_date=p.end_date,
                              current_episode=p.current_episode)
            for p in rows(PsychotherapyTrial, col(PsychotherapyTrial.start_date))
            if p.start_date <= as_of
        ],
        scores=[
            ScoreFact(instrument=s.instrument, score=s.score, measured_on=s.measured_on)
            for s in rows(RatingScore, col(RatingScore.measured_on))
            if s.measured_on <= as_of
        ],
        current_medications=[
            MedicationFact(drug=m.drug, daily_dose_mg=m.daily_dose_mg, started_on=m.started_on)
            for m in rows(CurrentMedication, col(CurrentMedication.drug))
            if m.started_on is None or m.started_on <= as_of
        ],
        inpatient_stays=[
            StayFact(admitted_on=s.admitted_on, discharged_on=s.discharged_on, reason=s.reason,
                     esketamine_started=s.esketamine_started)
            for s in rows(InpatientStay, col(InpatientStay.admitted_on))
            if s.admitted_on <= as_of
        ],
        screening=Screening(
            aneurysmal_vascular_disease=patient.aneurysmal_vascular_disease,
            intracerebral_hemorrhage_history=patient.intracerebral_hemorrhage_history,
            esketamine_hypersensitivity=_hypersensitivity(patient, rows(Allergy, col(Allergy.id)), as_of),
            psychosis_history=patient.psychosis_history,
            substance_use=patient.substance_use if patient.substance_use in ("none", "in_remission", "current")
            else None,
            substance_remission_since=patient.substance_remission_since,
            substance_treated=patient.substance_treated if patient.substance_use == "current" else None,
            concurrent_therapies=_with_courses(
                _therapies(patient.concurrent_therapies, patient.concurrent_therapies_screened_on, as_of),
                rows(NeuromodulationCourse, col(NeuromodulationCourse.start_date)), as_of),
            prior_esketamine=patient.prior_esketamine,
            prior_esketamine_improvement_pct=patient.prior_esketamine_improvement_pct,
            esketamine_started_on=_esketamine_start(session, patient, as_of),
            pdmp_checked_on=patient.pdmp_checked_on if patient.pdmp_checked_on and patient.pdmp_checked_on <= as_of
            else None,
        ),
        prescriber=PrescriberFact(
            specialty=prescriber.specialty if prescriber and prescriber.specialty in
            ("psychiatrist", "psychiatric_np", "other") else None,
            # A recorded consultation counts; none recorded is unknown (the evaluator asks for documentation).
            psychiatric_consultation=True if patient.psychiatric_consult_on is not None
            and patient.psychiatric_consult_on <= as_of else None,
        ),
        previous_approvals=_previous_approvals(session, patient_id, as_of),
        setting=SettingFact(rems_certified_on=site.rems_certified_on if site else None,
                            rems_setting_id=(site.rems_setting_id.strip() or None) if site else None),
        rems=_rems(session, patient_id, as_of, rems_settings or load_rems_settings()),
        coverage=CoverageFact(payer_id=coverage.payer_id, plan_type=coverage.plan_type,
                              benefit=coverage.benefit if coverage.benefit in ("medical", "pharmacy") else None)
        if coverage else None,
    )


def _therapies(raw: str, screened_on: date | None, as_of: date) -> list[str] | None:
    """Therapies on record; an empty list only once the patient was screened by `as_of`, else None (unknown)."""
    found = [item.strip() for item in (raw or "").split(",") if item.strip() in CONCURRENT_THERAPIES]
    if found:
        return found
    return [] if screened_on is not None and screened_on <= as_of else None


def _with_courses(therapies: list[str] | None, courses: list[NeuromodulationCourse], as_of: date) -> list[str] | None:
    """The screening's concurrent therapies plus any ECT or TMS course on the record still going on at `as_of`
    (no end yet, or ending on or after that day)."""
    ongoing = [c.therapy for c in courses if c.therapy in CONCURRENT_THERAPIES and c.start_date <= as_of
               and (c.end_date is None or c.end_date >= as_of)]
    if not ongoing:
        return therapies
    return list(dict.fromkeys([*(therapies or []), *ongoing]))


def _hypersensitivity(patient: Patient, allergies: list[Allergy], as_of: date) -> bool | None:
    """The screening answer; while it is not recorded, an active allergy to esketamine or ketamine on the record
    (from the EHR or typed) counts as hypersensitivity."""
    if patient.esketamine_hypersensitivity is not None:
        return patient.esketamine_hypersensitivity
    if any(a.status == "active" and is_esketamine_allergy(a.substance) and (a.onset is None or a.onset <= as_of)
           for a in allergies):
        return True
    return None


def _esketamine_start(session: Session, patient: Patient, as_of: date) -> date | None:
    """The recorded start of esketamine treatment, else the REMS course start or first logged session."""
    if patient.esketamine_started_on is not None:
        return patient.esketamine_started_on if patient.esketamine_started_on <= as_of else None
    candidates = [
        session.exec(select(func.min(TreatmentCourse.start_date)).where(TreatmentCourse.patient_id == patient.id))
        .one(),
        session.exec(select(func.min(TreatmentSession.session_date)).where(TreatmentSession.patient_id == patient.id))
        .one(),
    ]
    dates = [d for d in candidates if d is not None and d <= as_of]
    return min(dates) if dates else None


def _previous_approvals(session: Session, patient_id: int, as_of: date) -> list[str] | None:
    """Payers whose authorization is on file in the desk, decided by `as_of`.

    None when the desk holds no authorization for the patient: approvals from before the clinic used the desk
    are not known, so "never approved" cannot be told from "not recorded".
    """
    payers = session.exec(
        select(PriorAuthCase.payer_id)
        .join(PaAuthorization, col(PaAuthorization.case_id) == col(PriorAuthCase.id))
        .where(
            PaAuthorization.patient_id == patient_id,
            col(PaAuthorization.decided_on) <= as_of,
            col(PriorAuthCase.status).in_(_GRANTED),
        )
        .distinct()
    ).all()
    return sorted(payers) if payers else None


_ENROLLMENT_STEPS = (
    ("patient_signed_on", "the patient's signature"),
    ("prescriber_signed_on", "the prescriber's signature"),
    ("submitted_on", "the submission date"),
)


def _rems(session: Session, patient_id: int, as_of: date, settings: RemsSettings) -> RemsFact:
    """Enrollment as of `as_of` and the monitoring of every session completed by then.

    The same steps as desk.rems.enrollment.is_enrolled: both signatures and the submission, each dated by `as_of`.
    """
    enrollment = session.exec(select(RemsEnrollment).where(RemsEnrollment.patient_id == patient_id)).first()
    enrolled_on: date | None = None
    pending: list[str] | None = None
    confirmation: str | None = None
    if enrollment is not None:
        pending = [label for name, label in _ENROLLMENT_STEPS
                   if (day := getattr(enrollment, name)) is None or day > as_of]
        if not pending:
            enrolled_on, pending = enrollment.submitted_on, None
            confirmation = enrollment.confirmation_number.strip() or None
    completed = session.exec(
        select(TreatmentSession, Site)
        .join(Site, col(Site.id) == col(TreatmentSession.site_id))
        .where(
            TreatmentSession.patient_id == patient_id,
            col(TreatmentSession.session_date) <= as_of,
            col(TreatmentSession.first_device_at).is_not(None),
            col(TreatmentSession.discharged_at).is_not(None),
        )
    ).all()
    minutes = [int((ts.discharged_at - ts.first_device_at).total_seconds() // 60) for ts, _ in completed
               if ts.discharged_at is not None and ts.first_device_at is not None]
    uncertified = sum(1 for ts, site in completed
                      if site.rems_certified_on is None or site.rems_certified_on > ts.session_date)
    return RemsFact(
        enrolled_on=enrolled_on, enrollment_confirmation=confirmation, enrollment_pending=pending,
        monitoring_minimum_minutes=settings.min_monitoring_minutes, monitored_sessions=len(completed),
        shortest_monitoring_minutes=min(minutes) if minutes else None,
        sessions_at_uncertified_setting=uncertified,
    )
