"""Collect a case's CaseFacts from the record: the first step of every outgoing document (see desk/prior_auth)."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from desk.models import CurrentMedication, Diagnosis, MedicationTrial, RatingScore
from desk.models.prior_auth import PaDenial, PaSignoff, PriorAuthCase
from desk.policies.drugs import default_drugs
from desk.prior_auth.billing import decide_billing
from desk.prior_auth.cases import case_record
from desk.prior_auth.checklist import CaseChecklist, ChecklistItem, resolve_policy
from desk.prior_auth.facts import (
    CaseFacts,
    Conclusion,
    CoverageFacts,
    CriterionFacts,
    DenialFacts,
    DiagnosisFacts,
    Episode,
    MedicationFacts,
    PatientFacts,
    PrescriberFacts,
    RemsFacts,
    RequestFacts,
    ScoreFacts,
    SignoffFacts,
    SiteFacts,
    TrialFacts,
)
from desk.prior_auth.payer_rules import policy_for
from desk.prior_auth.request_schedule import check_request_schedule
from desk.prior_auth.wording import payer_sentence
from desk.reference import combination_components
from desk.reference.spravato import spravato
from desk.rems.enrollment import get_enrollment
from desk.savings.eligibility import PLAN_TYPE_LABELS

DEFAULT_SESSIONS = {"initial": 8, "continuation": 12}
SPECIALTY_WORDS = {"psychiatrist": "Psychiatry", "psychiatric_np": "Psychiatric nurse practitioner",
                   "other": "Other"}
APPEALABLE = ("denied", "appealed", "upheld")
SATISFIED = ("met", "attested", "excepted")


def sessions_requested(case: PriorAuthCase) -> int:
    """The sessions the request asks for (the phase's default when none was entered)."""
    return case.sessions_requested or DEFAULT_SESSIONS[case.phase]


def trial_episode(*, start: date, end: date | None, episode_start: date | None) -> Episode:
    """A trial belongs to the current episode when it was still taken on or after the episode began."""
    if episode_start is None:
        return "unknown"
    return "current" if end is None or end >= episode_start else "earlier"


def _drug_name(name: str) -> str:
    """The drug as recorded; a combination product names its components (Symbyax: olanzapine and fluoxetine)."""
    components = combination_components(name)
    return name[:1].upper() + name[1:] + (f" ({' and '.join(components)})" if components else "")


def _signoff(mark: PaSignoff | None) -> SignoffFacts | None:
    return SignoffFacts(mark.note, mark.at.date()) if mark is not None else None


def _relied_on(checklist: CaseChecklist) -> list[ChecklistItem]:
    """Leaves the request rests on: an open alternative under a satisfied group is left out."""
    effective = {item.id: item.effective for item in checklist.items}
    kept = []
    for item in checklist.items:
        if item.is_group:
            continue
        if item.effective not in SATISFIED and effective.get(item.parent or "") in SATISFIED:
            continue
        kept.append(item)
    return kept


def conclusion_of(checklist: CaseChecklist, criteria: list[ChecklistItem]) -> Conclusion:
    """What the evaluation found: met, met with attestations, met only by exception, or still open."""
    if not checklist.ready:
        return "open"
    if any(item.effective == "excepted" for item in criteria):
        return "met_by_exception"
    if any(item.effective == "attested" for item in criteria):
        return "met_by_attestation"
    return "met"


def _criterion(item: ChecklistItem) -> CriterionFacts:
    status = item.effective if item.effective in ("met", "attested", "excepted", "not_met", "unknown", "attest") \
        else "unknown"
    evidence = item.evidence if status in ("met", "attested") else (item.missing or item.evidence)
    return CriterionFacts(text=item.text, status=status,  # type: ignore[arg-type]
                          evidence=tuple(payer_sentence(e) for e in evidence),
                          attestation=_signoff(item.attestation), exception=_signoff(item.exception))


def compose_case_facts(session: Session, *, case: PriorAuthCase, checklist: CaseChecklist, today: date) -> CaseFacts:
    """Every fact an outgoing document of `case` may state, from the record as of `today`."""
    patient, coverage, site, prescriber = case_record(session, case=case)
    policy = policy_for(case.payer_id)
    start = case.start_on or today
    sessions = sessions_requested(case)
    drugs = default_drugs()
    reference = spravato()

    diagnoses = session.exec(select(Diagnosis).where(Diagnosis.patient_id == patient.id,
                                                     Diagnosis.is_current == True)  # noqa: E712
                             .order_by(col(Diagnosis.id))).all()
    starts = [d.episode_start for d in diagnoses if d.episode_start is not None]
    episode_start = max(starts) if starts else None
    trials = session.exec(select(MedicationTrial).where(MedicationTrial.patient_id == patient.id)
                          .order_by(col(MedicationTrial.start_date), col(MedicationTrial.id))).all()
    scores = session.exec(select(RatingScore).where(RatingScore.patient_id == patient.id)
                          .order_by(col(RatingScore.measured_on).desc(), col(RatingScore.id))).all()
    latest: dict[str, RatingScore] = {}
    for score in scores:
        latest.setdefault(score.instrument, score)
    medications = session.exec(select(CurrentMedication).where(CurrentMedication.patient_id == patient.id)
                               .order_by(col(CurrentMedication.id))).all()
    current_ads = [m for m in medications if (info := drugs.info(m.drug)) and info.is_antidepressant]

    enrollment = get_enrollment(session, patient_id=patient.id or 0)
    missing = []
    if enrollment is not None:
        missing = [label for label, value in (("the patient's signature", enrollment.patient_signed_on),
                                              ("the prescriber's signature", enrollment.prescriber_signed_on),
                                              ("the submission date", enrollment.submitted_on)) if value is None]
    rems = RemsFacts(
        service_date=start, setting_id=site.rems_setting_id.strip() if site else "",
        certified_on=site.rems_certified_on if site else None,
        certified_until=site.rems_certified_until if site else None,
        patient_enrolled_on=enrollment.submitted_on if enrollment else None,
        enrollment_confirmation=enrollment.confirmation_number.strip() if enrollment else "",
        enrollment_missing=tuple(missing),
    )

    resolved, _note = resolve_policy(case.payer_id)
    variant = resolved.variant(case.indication.lower(), case.phase, coverage.benefit) if resolved else None
    schedule = check_request_schedule(indication=case.indication, phase=case.phase, dose_mg=case.dose_mg,
                                      sessions=sessions, start=start, approval=variant.approval if variant else None)
    kit = reference.kit(case.dose_mg)
    request = RequestFacts(
        indication=case.indication, phase=case.phase, urgency=case.urgency, dose_mg=case.dose_mg,
        devices_per_session=reference.devices_for(case.dose_mg), ndc=kit.ndc if kit else "",
        sessions=sessions, start_on=start, frequency=schedule.requested.frequency,
        duration=schedule.requested.duration,
        billing=decide_billing(plan_type=coverage.plan_type, policy=policy, dose_mg=case.dose_mg,
                               service_date=start, session_doses=tuple(d.mg for d in schedule.requested.doses)),
        first_session_mg=schedule.requested.doses[0].mg if schedule.requested.doses else None,
        deviation_reason=case.schedule_reason, deviations=schedule.deviations,
    )

    criteria = _relied_on(checklist)
    denial = None
    if case.status in APPEALABLE:
        row = session.exec(select(PaDenial).where(PaDenial.case_id == case.id)
                           .order_by(col(PaDenial.id).desc())).first()
        denial = DenialFacts(denied_on=row.denied_on if row else case.denied_on,
                             reference=case.auth_number or f"PA-{case.id}",
                             reason=row.reason if row else case.denial_reason)
    fax = [c.number for c in policy.submission if c.channel == "fax"] if policy else []
    phones = [c.number for c in policy.submission if c.channel == "phone"] if policy else []
    return CaseFacts(
        reference=f"PA-{case.id}",
        prepared_on=today,
        patient=PatientFacts(patient.first_name, patient.middle_initial, patient.last_name, patient.dob, patient.sex,
                             patient.phone, patient.address_line, patient.city, patient.state, patient.zip_code,
                             patient.mrn),
        coverage=CoverageFacts(coverage.payer_id,
                               policy.payer if policy else coverage.payer_id.replace("-", " ").title(),
                               coverage.plan_type,
                               PLAN_TYPE_LABELS.get(coverage.plan_type, coverage.plan_type.replace("_", " ")),
                               coverage.benefit, coverage.member_id, coverage.group_number,
                               fax[0] if fax else "", phones[0] if phones else ""),
        prescriber=PrescriberFacts(prescriber.first_name, prescriber.last_name, prescriber.credentials,
                                   prescriber.npi, SPECIALTY_WORDS.get(prescriber.specialty, prescriber.specialty),
                                   prescriber.phone, prescriber.fax, prescriber.email) if prescriber else None,
        site=SiteFacts(site.name, site.address_line, site.city, site.state, site.zip_code, site.phone, site.fax,
                       site.npi, site.tin, site.address_line2) if site else None,
        rems=rems,
        request=request,
        diagnoses=tuple(DiagnosisFacts(d.icd10.strip().upper(), d.description, d.episode_start) for d in diagnoses),
        episode_start=episode_start,
        trials=tuple(
            TrialFacts(drug=_drug_name(t.drug), role=t.role, daily_dose_mg=t.daily_dose_mg, start_date=t.start_date,
                       end_date=t.end_date, adherence_pct=t.adherence_pct, outcome=t.outcome,
                       improvement_pct=t.improvement_pct,
                       episode=trial_episode(start=t.start_date, end=t.end_date, episode_start=episode_start))
            for t in trials),
        scores=tuple(ScoreFacts(s.instrument, s.score, s.measured_on) for s in latest.values()),
        current_antidepressants=tuple(MedicationFacts(m.drug.capitalize(), m.daily_dose_mg) for m in current_ads),
        policy_title=checklist.policy_title or "the plan policy",
        criteria=tuple(_criterion(item) for item in criteria),
        conclusion=conclusion_of(checklist, criteria),
        denial=denial,
        notes=checklist.notes,
    )
