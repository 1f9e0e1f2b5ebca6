"""The case builder reads the patient's record (SQLite and PostgreSQL) into the facts the evaluator checks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from desk.errors import NotFound
from desk.models import (
    AuditEvent,
    CurrentMedication,
    InpatientStay,
    Patient,
    PsychotherapyTrial,
    TreatmentCourse,
    TreatmentSession,
)
from desk.models.prior_auth import PaAuthorization, PriorAuthCase
from desk.policies.builder import build_case_facts
from desk.policies.drugs import ReferenceDrugs
from desk.policies.eligibility import coverage_eligibility, every_payer
from desk.policies.evaluator import evaluate
from desk.policies.loader import PolicyCatalog
from desk.rems.config import RemsSettings
from tests.desk.policies.cases import AS_OF
from tests.factories import (
    make_coverage,
    make_diagnosis,
    make_enrollment,
    make_patient,
    make_prescriber,
    make_score,
    make_site,
    make_trial,
)


def _record(session: Session) -> tuple[int, int, int]:
    site = make_site(session)
    prescriber = make_prescriber(session, specialty="psychiatric_np")
    patient = make_patient(session, site=site, prescriber_id=prescriber.id, concurrent_therapies="TMS",
                           pdmp_checked_on=date(2026, 11, 1))
    assert patient.id is not None
    make_diagnosis(session, patient=patient)
    make_trial(session, patient=patient)
    make_trial(session, patient=patient, drug="bupropion", daily_dose_mg=300, start_date=date(2025, 6, 1),
               end_date=date(2025, 8, 1), outcome="contraindicated")
    make_trial(session, patient=patient, drug="venlafaxine", start_date=date(2027, 1, 1), end_date=None)
    make_score(session, patient=patient, instrument="MADRS", score=34, measured_on=date(2026, 11, 1))
    make_score(session, patient=patient, instrument="MADRS", score=10, measured_on=date(2026, 12, 20))
    session.add(PsychotherapyTrial(patient_id=patient.id, modality="CBT", start_date=date(2025, 5, 1)))
    session.add(CurrentMedication(patient_id=patient.id, drug="mirtazapine", daily_dose_mg=30,
                                  started_on=date(2026, 11, 15)))
    session.add(InpatientStay(patient_id=patient.id, admitted_on=date(2026, 10, 1),
                              discharged_on=date(2026, 10, 9)))
    primary = make_coverage(session, patient=patient, payer_id="cigna")
    secondary = make_coverage(session, patient=patient, payer_id="medicare", plan_type="medicare_part_d",
                              priority="secondary")
    session.commit()
    assert primary.id is not None and secondary.id is not None
    return patient.id, primary.id, secondary.id


def test_builds_facts_from_the_record(session: Session) -> None:
    patient_id, coverage_id, _ = _record(session)
    audit_rows = len(session.exec(select(AuditEvent)).all())
    case = build_case_facts(session, patient_id=patient_id, coverage_id=coverage_id, as_of=AS_OF)
    assert case.birth_date == date(1980, 5, 17)
    assert [d.icd10 for d in case.diagnoses] == ["F33.2"]
    assert case.diagnoses[0].method == "structured_interview"
    assert [t.drug for t in case.trials] == ["sertraline", "bupropion"]  # the 2027 trial is after the as-of date
    assert case.trials[1].outcome == "contraindicated"
    assert [s.score for s in case.scores] == [34]
    assert case.screening.concurrent_therapies == ["TMS"]  # listed therapies stand without a screening date
    assert case.screening.substance_use == "none"
    assert case.prescriber.specialty == "psychiatric_np"
    assert case.setting.rems_certified_on == date(2024, 1, 15)
    assert case.coverage is not None and case.coverage.payer_id == "cigna"
    assert case.psychotherapy[0].modality == "CBT"
    assert case.current_medications[0].drug == "mirtazapine"
    assert case.inpatient_stays[0].discharged_on == date(2026, 10, 9)
    assert len(session.exec(select(AuditEvent)).all()) == audit_rows  # reading writes nothing


def test_unknown_patient_or_foreign_coverage(session: Session) -> None:
    _, coverage_id, _ = _record(session)
    with pytest.raises(NotFound, match="patient 9999 does not exist"):
        build_case_facts(session, patient_id=9999, as_of=AS_OF)
    other = make_patient(session)
    assert other.id is not None
    with pytest.raises(NotFound, match=f"coverage {coverage_id} does not belong to patient {other.id}"):
        build_case_facts(session, patient_id=other.id, coverage_id=coverage_id, as_of=AS_OF)


def test_eligibility_per_coverage_and_side_by_side(session: Session, catalog: PolicyCatalog,
                                                   drugs: ReferenceDrugs) -> None:
    patient_id, _, _ = _record(session)
    results = coverage_eligibility(session, patient_id=patient_id, catalog=catalog, drugs=drugs, indication="trd",
                                   phase="initial", as_of=AS_OF)
    assert [(r.priority, r.payer_id) for r in results] == [("primary", "cigna"), ("secondary", "medicare")]
    cigna = results[0].evaluation
    assert cigna is not None
    assert cigna.criterion("trd-prescriber").status == "not_met"  # a psychiatric NP, Cigna wants a psychiatrist
    assert cigna.decision == "does_not_meet"
    assert results[1].evaluation is None
    assert results[1].reference is not None and results[1].reference.payer == "generic-commercial"
    assert results[1].no_policy_message.startswith("No policy on file for this payer (Medicare).")
    side = every_payer(session, patient_id=patient_id, catalog=catalog, drugs=drugs, indication="trd",
                       phase="initial", as_of=AS_OF)
    assert len(side) == len(catalog.policies)
    highmark = next(e for e in side if e.payer == "highmark")
    assert highmark.criterion("trd-prescriber").status == "met"  # Highmark accepts a psychiatric NP


def _granted(session: Session, *, patient_id: int, coverage_id: int, payer_id: str, status: str,
             decided_on: date) -> None:
    """A case in `status` with an authorization row decided on `decided_on` (a data fixture)."""
    case = PriorAuthCase(patient_id=patient_id, coverage_id=coverage_id, payer_id=payer_id, plan_type="commercial",
                         indication="TRD", phase="initial", status=status)
    session.add(case)
    session.flush()
    assert case.id is not None
    session.add(PaAuthorization(case_id=case.id, patient_id=patient_id, auth_number=f"A{case.id}",
                                start_on=decided_on, end_on=date(2027, 6, 30), approved_devices=24,
                                decided_on=decided_on))
    session.flush()


def test_record_facts_the_policies_ask_about(session: Session) -> None:
    patient_id, _, _ = _record(session)
    patient = session.get(Patient, patient_id)
    assert patient is not None
    base = build_case_facts(session, patient_id=patient_id, as_of=AS_OF)
    assert base.prescriber.psychiatric_consultation is None  # nothing recorded: unknown, not "no"
    assert base.screening.substance_treated is None
    assert base.screening.esketamine_started_on is None
    assert base.previous_approvals is None  # the desk holds no authorization for this patient
    patient.psychiatric_consult_on, patient.psychiatric_consultant = date(2026, 10, 5), "Dr. Rowan Consultwell"
    patient.substance_use, patient.substance_treated = "current", True
    patient.esketamine_started_on = date(2026, 9, 1)
    session.add(patient)
    session.flush()
    case = build_case_facts(session, patient_id=patient_id, as_of=AS_OF)
    assert case.prescriber.psychiatric_consultation is True
    assert case.screening.substance_treated is True
    assert case.screening.esketamine_started_on == date(2026, 9, 1)
    # A consultation after the as-of date is not yet on the record.
    assert build_case_facts(session, patient_id=patient_id, as_of=date(2026, 10, 1)).prescriber \
        .psychiatric_consultation is None
    # Treated only means something for a current disorder.
    patient.substance_use = "in_remission"
    session.add(patient)
    session.flush()
    assert build_case_facts(session, patient_id=patient_id, as_of=AS_OF).screening.substance_treated is None


def test_concurrent_therapies_are_unknown_until_screened(session: Session) -> None:
    patient = make_patient(session)
    assert patient.id is not None
    assert build_case_facts(session, patient_id=patient.id, as_of=AS_OF).screening.concurrent_therapies is None
    patient.concurrent_therapies_screened_on = date(2026, 11, 20)
    session.add(patient)
    session.flush()
    assert build_case_facts(session, patient_id=patient.id, as_of=AS_OF).screening.concurrent_therapies == []
    # Screened only after the as-of date: still unknown then.
    early = build_case_facts(session, patient_id=patient.id, as_of=date(2026, 11, 1))
    assert early.screening.concurrent_therapies is None


def test_esketamine_start_falls_back_to_the_rems_course(session: Session) -> None:
    patient = make_patient(session)
    assert patient.id is not None
    session.add(TreatmentCourse(patient_id=patient.id, indication="TRD", start_date=date(2026, 10, 12)))
    session.flush()
    assert build_case_facts(session, patient_id=patient.id, as_of=AS_OF).screening.esketamine_started_on \
        == date(2026, 10, 12)
    assert build_case_facts(session, patient_id=patient.id, as_of=date(2026, 10, 1)).screening \
        .esketamine_started_on is None
    patient.esketamine_started_on = date(2026, 3, 2)  # started elsewhere, before the course logged here
    session.add(patient)
    session.flush()
    assert build_case_facts(session, patient_id=patient.id, as_of=AS_OF).screening.esketamine_started_on \
        == date(2026, 3, 2)


def test_previous_approvals_come_from_granted_authorizations(session: Session) -> None:
    patient_id, coverage_id, _ = _record(session)
    _granted(session, patient_id=patient_id, coverage_id=coverage_id, payer_id="cigna", status="expired",
             decided_on=date(2026, 3, 1))
    _granted(session, patient_id=patient_id, coverage_id=coverage_id, payer_id="uhc", status="approved",
             decided_on=date(2026, 12, 1))  # decided after the as-of date
    denied = PriorAuthCase(patient_id=patient_id, coverage_id=coverage_id, payer_id="bcbsnd", plan_type="commercial",
                           indication="TRD", phase="initial", status="denied")
    session.add(denied)
    session.flush()
    case = build_case_facts(session, patient_id=patient_id, as_of=AS_OF)
    assert case.previous_approvals == ["cigna"]
    assert build_case_facts(session, patient_id=patient_id, as_of=date(2026, 12, 2)).previous_approvals \
        == ["cigna", "uhc"]
    assert build_case_facts(session, patient_id=patient_id, as_of=date(2026, 2, 1)).previous_approvals is None


def test_recorded_consultation_meets_a_consultation_criterion(session: Session, catalog: PolicyCatalog,
                                                             drugs: ReferenceDrugs) -> None:
    site = make_site(session)
    prescriber = make_prescriber(session, specialty="other")
    patient = make_patient(session, site=site, prescriber_id=prescriber.id)
    assert patient.id is not None
    make_coverage(session, patient=patient, payer_id="uhc")
    session.flush()

    def uhc_prescriber() -> str:
        results = coverage_eligibility(session, patient_id=patient.id or 0, catalog=catalog, drugs=drugs,
                                       indication="trd", phase="initial", as_of=AS_OF)
        evaluation = results[0].evaluation
        assert evaluation is not None
        rule = next(c for c in evaluation.criteria if c.kind == "prescriber")
        return rule.status

    assert uhc_prescriber() == "attest"
    patient.psychiatric_consult_on, patient.psychiatric_consultant = date(2026, 11, 3), "Dr. Rowan Consultwell"
    session.add(patient)
    session.flush()
    assert uhc_prescriber() == "met"


def _logged(session: Session, *, patient_id: int, site_id: int, day: date, minutes: int | None) -> None:
    """A session row first dosed at 15:00 UTC and discharged `minutes` later (None: not discharged yet)."""
    first = datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC)
    session.add(TreatmentSession(
        patient_id=patient_id, site_id=site_id, session_date=day, dose_mg=56, devices=2, first_device_at=first,
        discharged_at=first + timedelta(minutes=minutes) if minutes is not None else None,
    ))
    session.flush()


def test_rems_facts_come_from_enrollment_sessions_and_site(session: Session, catalog: PolicyCatalog,
                                                          drugs: ReferenceDrugs) -> None:
    site = make_site(session, rems_setting_id="RS000417")
    patient = make_patient(session, site=site)
    assert patient.id is not None and site.id is not None
    make_enrollment(session, patient=patient, patient_signed_on=date(2026, 9, 30),
                    prescriber_signed_on=date(2026, 10, 1), submitted_on=date(2026, 10, 2),
                    confirmation_number="ENR-7731")
    uncertified = make_site(session, rems_certified_on=date(2026, 10, 20))
    assert uncertified.id is not None
    _logged(session, patient_id=patient.id, site_id=site.id, day=date(2026, 10, 5), minutes=131)
    _logged(session, patient_id=patient.id, site_id=site.id, day=date(2026, 10, 8), minutes=124)
    _logged(session, patient_id=patient.id, site_id=uncertified.id, day=date(2026, 10, 12), minutes=150)
    _logged(session, patient_id=patient.id, site_id=site.id, day=date(2026, 10, 15), minutes=None)  # still open
    _logged(session, patient_id=patient.id, site_id=site.id, day=date(2026, 12, 1), minutes=60)  # after as-of
    session.commit()

    case = build_case_facts(session, patient_id=patient.id, as_of=AS_OF)
    assert case.setting.rems_certified_on == date(2024, 1, 15)
    assert case.setting.rems_setting_id == "RS000417"
    assert case.rems.enrolled_on == date(2026, 10, 2)
    assert case.rems.enrollment_confirmation == "ENR-7731"
    assert case.rems.enrollment_pending is None
    assert case.rems.monitoring_minimum_minutes == 120
    assert case.rems.monitored_sessions == 3
    assert case.rems.shortest_monitoring_minutes == 124
    assert case.rems.sessions_at_uncertified_setting == 1  # certified only from 2026-10-20

    highmark = evaluate(case, catalog.policies["highmark"], indication="trd", phase="initial", as_of=AS_OF,
                        drugs=drugs)
    enrolled = highmark.criterion("trd-rems-enrolled")
    assert (enrolled.status, enrolled.evidence) == ("met", ["Enrolled in the REMS on 2026-10-02 (confirmation "
                                                            "ENR-7731)."])
    monitoring = highmark.criterion("trd-monitoring")
    assert monitoring.status == "not_met"
    assert monitoring.evidence == ["1 logged session was given where no REMS certification was in effect on the day."]

    # On an earlier date: the enrollment was not submitted yet and no session was complete.
    early = build_case_facts(session, patient_id=patient.id, as_of=date(2026, 10, 1))
    assert early.rems.enrolled_on is None and early.rems.enrollment_confirmation is None
    assert early.rems.enrollment_pending == ["the submission date"]
    assert (early.rems.monitored_sessions, early.rems.shortest_monitoring_minutes) == (0, None)
    # A clinic that lowered its discharge minimum: the builder reports the setting it runs with.
    lowered = build_case_facts(session, patient_id=patient.id, as_of=AS_OF,
                               rems_settings=RemsSettings(min_monitoring_minutes=90))
    assert lowered.rems.monitoring_minimum_minutes == 90


def test_rems_facts_without_enrollment_or_sessions(session: Session, catalog: PolicyCatalog,
                                                   drugs: ReferenceDrugs) -> None:
    site = make_site(session, rems_setting_id="", rems_certified_on=None)
    patient = make_patient(session, site=site)
    assert patient.id is not None
    case = build_case_facts(session, patient_id=patient.id, as_of=AS_OF)
    assert case.setting.rems_certified_on is None and case.setting.rems_setting_id is None
    assert case.rems.enrolled_on is None and case.rems.enrollment_pending is None
    assert case.rems.monitored_sessions == 0
    generic = evaluate(case, catalog.policies["generic-commercial"], indication="trd", phase="initial", as_of=AS_OF,
                       drugs=drugs)
    assert generic.criterion("trd-rems-enrolled").status == "unknown"
    assert generic.criterion("trd-monitoring").status == "unknown"
    assert generic.criterion("trd-monitoring").missing == ["the setting's REMS certification"]

    make_enrollment(session, patient=patient, prescriber_signed_on=None, submitted_on=None, confirmation_number="")
    started = build_case_facts(session, patient_id=patient.id, as_of=AS_OF)
    assert started.rems.enrollment_pending == ["the prescriber's signature", "the submission date"]
    result = evaluate(started, catalog.policies["generic-commercial"], indication="trd", phase="initial",
                      as_of=AS_OF, drugs=drugs).criterion("trd-rems-enrolled")
    assert (result.status, result.evidence) == ("not_met", [
        "Not enrolled yet: the REMS Patient Enrollment Form lacks the prescriber's signature, the submission date."])
