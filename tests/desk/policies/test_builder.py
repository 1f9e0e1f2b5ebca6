"""The case builder reads the patient's record (SQLite and PostgreSQL) into the facts the evaluator checks."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from desk.errors import NotFound
from desk.models import AuditEvent, CurrentMedication, InpatientStay, PsychotherapyTrial
from desk.policies.builder import build_case_facts
from desk.policies.drugs import ReferenceDrugs
from desk.policies.eligibility import coverage_eligibility, every_payer
from desk.policies.loader import PolicyCatalog
from tests.desk.policies.cases import AS_OF
from tests.factories import (
    make_coverage,
    make_diagnosis,
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
    assert case.screening.concurrent_therapies == ["TMS"]
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
    assert results[1].no_policy_message.startswith("No policy on file for this payer (medicare).")
    side = every_payer(session, patient_id=patient_id, catalog=catalog, drugs=drugs, indication="trd",
                       phase="initial", as_of=AS_OF)
    assert len(side) == 11
    highmark = next(e for e in side if e.payer == "highmark")
    assert highmark.criterion("trd-prescriber").status == "met"  # Highmark accepts a psychiatric NP
