"""Patient and clinical-record services: validation (message + nothing written), locking, search, record view."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, func, select

from desk import patients as svc
from desk.database import unit_of_work
from desk.errors import NotFound, StaleEdit, ValidationFailed
from desk.models import (
    AuditEvent,
    Coverage,
    CurrentMedication,
    Diagnosis,
    InpatientStay,
    MedicationTrial,
    Patient,
    PsychotherapyTrial,
    RatingScore,
)
from desk.patients import (
    CoverageDetails,
    DiagnosisDetails,
    MedicationDetails,
    PatientDetails,
    PsychotherapyDetails,
    ScoreDetails,
    ScreeningDetails,
    StayDetails,
    TrialDetails,
)
from tests.factories import make_patient, make_prescriber, make_site, make_trial

TODAY = date(2026, 11, 1)
TABLES: tuple[type[SQLModel], ...] = (
    Patient, Coverage, Diagnosis, MedicationTrial, PsychotherapyTrial, RatingScore, CurrentMedication,
    InpatientStay, AuditEvent,
)


def _counts(session: Session) -> dict[str, int]:
    return {m.__name__: session.exec(select(func.count()).select_from(m)).one() for m in TABLES}


def _rejects(session: Session, action: Callable[[], Any], field: str, fragment: str) -> None:
    """`action` raises ValidationFailed with `fragment` on `field`, and committing afterwards writes nothing."""
    session.commit()
    before = _counts(session)
    with pytest.raises(ValidationFailed) as caught:
        action()
    messages = caught.value.for_field(field)
    assert any(fragment in m for m in messages), f"{field}: {messages} / {caught.value}"
    session.commit()
    assert _counts(session) == before


def _details(site_id: int, **overrides: Any) -> PatientDetails:
    values: dict[str, Any] = {
        "site_id": site_id, "mrn": "A-1001", "first_name": "Quill", "last_name": "Testerby",
        "dob": date(1979, 3, 4), "sex": "F", "state": "ma", "zip_code": "02110", "phone": "(617) 555 0142",
    }
    values.update(overrides)
    return PatientDetails(**values)


def _trial(**overrides: Any) -> TrialDetails:
    values: dict[str, Any] = {"drug": "sertraline", "daily_dose_mg": 150, "start_date": date(2026, 1, 5),
                              "end_date": date(2026, 3, 2), "adherence_pct": 90}
    values.update(overrides)
    return TrialDetails(**values)


# --- patients --------------------------------------------------------------------------------------------


def test_create_patient_cleans_and_audits(session: Session) -> None:
    site = make_site(session)
    patient = svc.create_patient(session, details=_details(site.id), today=TODAY)
    session.commit()
    assert patient.id and patient.state == "MA" and patient.phone == "617-555-0142"
    audit = session.exec(select(AuditEvent).where(AuditEvent.entity == "patient")).one()
    assert audit.action == "create" and audit.actor == "tester"
    assert "Quill" not in audit.fields + audit.detail


def test_duplicate_mrn_at_the_same_site_is_refused(session: Session) -> None:
    site = make_site(session)
    svc.create_patient(session, details=_details(site.id), today=TODAY)
    _rejects(session, lambda: svc.create_patient(session, details=_details(site.id, first_name="Other"), today=TODAY),
             "mrn", "already has this MRN")


def test_same_mrn_at_another_site_is_fine(session: Session) -> None:
    one, two = make_site(session), make_site(session)
    svc.create_patient(session, details=_details(one.id), today=TODAY)
    assert svc.create_patient(session, details=_details(two.id), today=TODAY).id


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"dob": date(2027, 1, 1)}, "dob", "cannot be in the future"),
        ({"dob": date(1890, 1, 1)}, "dob", "more than 120 years ago"),
        ({"mrn": ""}, "mrn", "required"),
        ({"mrn": "has space"}, "mrn", "letters, digits"),
        ({"first_name": "  "}, "first_name", "required"),
        ({"sex": "Q"}, "sex", "unknown sex"),
        ({"state": "ZZ"}, "state", "two-letter"),
        ({"zip_code": "1234"}, "zip_code", "ZIP"),
        ({"phone": "555-0100"}, "phone", "10 digits"),
        ({"email": "not-an-address"}, "email", "e-mail"),
        ({"prescriber_id": 9999}, "prescriber_id", "no such prescriber"),
        ({"site_id": 9999}, "site_id", "no such site"),
    ],
)
def test_bad_patient_input(session: Session, overrides: dict[str, Any], field: str, fragment: str) -> None:
    site = make_site(session)
    details = _details(site.id)
    details = replace(details, **overrides)
    _rejects(session, lambda: svc.create_patient(session, details=details, today=TODAY), field, fragment)


def test_several_problems_are_reported_together(session: Session) -> None:
    site = make_site(session)
    with pytest.raises(ValidationFailed) as caught:
        svc.create_patient(session, details=_details(site.id, mrn="", sex="?", state="XX"), today=TODAY)
    assert {e.field for e in caught.value.errors} == {"mrn", "sex", "state"}


def test_messages_hold_no_phi(session: Session) -> None:
    site = make_site(session)
    with pytest.raises(ValidationFailed) as caught:
        svc.create_patient(session, details=_details(site.id, dob=date(2030, 2, 3), email="x"), today=TODAY)
    text = str(caught.value)
    assert "2030" not in text and "Quill" not in text and "Testerby" not in text


def test_update_patient_and_stale_version(session: Session) -> None:
    site = make_site(session)
    prescriber = make_prescriber(session)
    patient = svc.create_patient(session, details=_details(site.id), today=TODAY)
    session.commit()
    version = patient.version
    svc.update_patient(session, patient_id=patient.id, expected_version=version,
                       details=_details(site.id, city="Boston", prescriber_id=prescriber.id), today=TODAY)
    session.commit()
    assert patient.version == version + 1 and patient.city == "Boston"
    with pytest.raises(StaleEdit):
        svc.update_patient(session, patient_id=patient.id, expected_version=version,
                           details=_details(site.id, city="Salem"), today=TODAY)
    session.commit()
    session.refresh(patient)
    assert patient.city == "Boston"


def test_concurrent_save_is_a_stale_edit(engine: Engine) -> None:
    with unit_of_work(engine, actor="a") as s:
        site = make_site(s)
        patient_id = svc.create_patient(s, details=_details(site.id), today=TODAY).id
        site_id = site.id
    with unit_of_work(engine, actor="a") as first, unit_of_work(engine, actor="b") as second:
        svc.update_patient(first, patient_id=patient_id, expected_version=1,
                           details=_details(site_id, city="One"), today=TODAY)
        first.commit()
        with pytest.raises(StaleEdit):
            # Both opened version 1; the second save finds the row already at version 2.
            second.get(Patient, patient_id)
            svc.update_patient(second, patient_id=patient_id, expected_version=1,
                               details=_details(site_id, city="Two"), today=TODAY)
    with Session(engine) as check:
        assert check.get(Patient, patient_id).city == "One"  # type: ignore[union-attr]


def test_dob_after_a_trial_start_is_refused(session: Session) -> None:
    patient = make_patient(session, dob=date(1980, 1, 1))
    make_trial(session, patient=patient, start_date=date(2000, 6, 1), end_date=date(2000, 8, 1))
    details = replace(PatientDetails.of(patient), dob=date(2001, 1, 1))
    _rejects(session, lambda: svc.update_patient(session, patient_id=patient.id, expected_version=patient.version,
                                                 details=details, today=TODAY), "dob", "after a recorded trial")


def test_trial_before_birth_is_refused(session: Session) -> None:
    patient = make_patient(session, dob=date(1980, 1, 1))
    _rejects(session, lambda: svc.add_trial(session, patient_id=patient.id,
                                            details=_trial(start_date=date(1979, 1, 1), end_date=None), today=TODAY),
             "start_date", "before the patient's date of birth")


def test_screening_update(session: Session) -> None:
    patient = make_patient(session)
    svc.update_screening(
        session, patient_id=patient.id, expected_version=patient.version, today=TODAY,
        details=ScreeningDetails(psychosis_history=False, substance_use="in_remission",
                                 substance_remission_since=date(2025, 1, 1), concurrent_therapies=("TMS", "ECT"),
                                 prior_esketamine=True, prior_esketamine_improvement_pct=40),
    )
    session.commit()
    assert patient.concurrent_therapies == "ECT,TMS"
    assert ScreeningDetails.of(patient).concurrent_therapies == ("ECT", "TMS")


def test_screening_records_consultation_treatment_start_and_therapy_screening(session: Session) -> None:
    patient = make_patient(session)
    svc.update_screening(
        session, patient_id=patient.id, expected_version=patient.version, today=TODAY,
        details=ScreeningDetails(substance_use="current", substance_treated=True,
                                 concurrent_therapies_screened_on=date(2026, 10, 1),
                                 esketamine_started_on=date(2026, 9, 1),
                                 psychiatric_consult_on=date(2026, 8, 15),
                                 psychiatric_consultant="  Dr. Rowan Consultwell  "),
    )
    session.commit()
    saved = ScreeningDetails.of(patient)
    assert saved.substance_treated is True
    assert saved.concurrent_therapies == () and saved.concurrent_therapies_screened_on == date(2026, 10, 1)
    assert saved.esketamine_started_on == date(2026, 9, 1)
    assert (saved.psychiatric_consult_on, saved.psychiatric_consultant) == (date(2026, 8, 15),
                                                                            "Dr. Rowan Consultwell")


def test_treated_answer_is_dropped_unless_the_disorder_is_current(session: Session) -> None:
    patient = make_patient(session)
    svc.update_screening(session, patient_id=patient.id, expected_version=patient.version, today=TODAY,
                         details=ScreeningDetails(substance_use="none", substance_treated=True))
    session.commit()
    assert patient.substance_use == "none" and patient.substance_treated is None


@pytest.mark.parametrize(
    ("details", "field", "fragment"),
    [
        (ScreeningDetails(substance_use="sometimes"), "substance_use", "unknown status"),
        (ScreeningDetails(substance_use="in_remission"), "substance_remission_since", "since when"),
        (ScreeningDetails(pdmp_checked_on=date(2027, 1, 1)), "pdmp_checked_on", "future"),
        (ScreeningDetails(concurrent_therapies=("yoga",)), "concurrent_therapies", "unknown therapy"),
        (ScreeningDetails(prior_esketamine=True, prior_esketamine_improvement_pct=150),
         "prior_esketamine_improvement_pct", "-100 to 100"),
        (ScreeningDetails(prior_esketamine=False, prior_esketamine_improvement_pct=20),
         "prior_esketamine_improvement_pct", "only applies"),
        (ScreeningDetails(concurrent_therapies_screened_on=date(2026, 11, 2)), "concurrent_therapies_screened_on",
         "future"),
        (ScreeningDetails(esketamine_started_on=date(2027, 1, 1)), "esketamine_started_on", "future"),
        (ScreeningDetails(esketamine_started_on=date(1970, 1, 1)), "esketamine_started_on",
         "before the patient's date of birth"),
        (ScreeningDetails(psychiatric_consult_on=date(2027, 1, 1), psychiatric_consultant="Dr. A"),
         "psychiatric_consult_on", "future"),
        (ScreeningDetails(psychiatric_consultant="Dr. A"), "psychiatric_consult_on", "date of the psychiatric"),
        (ScreeningDetails(psychiatric_consult_on=date(2026, 1, 1), psychiatric_consultant="   "),
         "psychiatric_consultant", "name of the psychiatrist"),
        (ScreeningDetails(psychiatric_consult_on=date(2026, 1, 1), psychiatric_consultant="x" * 101),
         "psychiatric_consultant", "at most 100"),
    ],
)
def test_bad_screening(session: Session, details: ScreeningDetails, field: str, fragment: str) -> None:
    patient = make_patient(session)
    _rejects(session, lambda: svc.update_screening(session, patient_id=patient.id, expected_version=patient.version,
                                                   details=details, today=TODAY), field, fragment)


# --- coverage --------------------------------------------------------------------------------------------


def _coverage(**overrides: Any) -> CoverageDetails:
    values: dict[str, Any] = {"payer_id": "cigna", "plan_type": "commercial", "member_id": "CIG123",
                              "start_date": date(2026, 1, 1)}
    values.update(overrides)
    return CoverageDetails(**values)


def test_coverage_add_update_remove(session: Session) -> None:
    patient = make_patient(session)
    coverage = svc.add_coverage(session, patient_id=patient.id, details=_coverage(payer_id=" Cigna "), today=TODAY)
    session.commit()
    assert coverage.payer_id == "cigna"
    svc.update_coverage(session, coverage_id=coverage.id, expected_version=coverage.version,
                        details=_coverage(member_id="NEW1"), today=TODAY)
    session.commit()
    assert coverage.member_id == "NEW1" and coverage.version == 2
    with pytest.raises(StaleEdit):
        svc.remove_coverage(session, coverage_id=coverage.id, expected_version=1)
    svc.remove_coverage(session, coverage_id=coverage.id, expected_version=2)
    session.commit()
    assert session.get(Coverage, coverage.id) is None
    with pytest.raises(NotFound):
        svc.remove_coverage(session, coverage_id=coverage.id, expected_version=2)


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"plan_type": "premium"}, "plan_type", "unknown plan type"),
        ({"benefit": "dental"}, "benefit", "unknown benefit"),
        ({"priority": "first"}, "priority", "unknown priority"),
        ({"member_id": ""}, "member_id", "required"),
        ({"payer_id": ""}, "payer_id", "required"),
        ({"payer_id": "Blue Cross!"}, "payer_id", "lowercase letters"),
        ({"payer_id": "acme-health"}, "payer_id", "unknown payer id"),
        ({"end_date": date(2025, 1, 1)}, "end_date", "before the start date"),
    ],
)
def test_bad_coverage(session: Session, overrides: dict[str, Any], field: str, fragment: str) -> None:
    patient = make_patient(session)
    _rejects(session, lambda: svc.add_coverage(session, patient_id=patient.id, details=_coverage(**overrides),
                                               known_payers={"cigna", "uhc"}, today=TODAY), field, fragment)


def test_two_open_primary_coverages_are_refused(session: Session) -> None:
    patient = make_patient(session)
    svc.add_coverage(session, patient_id=patient.id, details=_coverage(), today=TODAY)
    _rejects(session, lambda: svc.add_coverage(session, patient_id=patient.id, details=_coverage(payer_id="uhc"),
                                               today=TODAY), "priority", "already has a primary")
    # An ended old coverage does not clash, and a secondary is fine.
    svc.add_coverage(session, patient_id=patient.id, today=TODAY,
                     details=_coverage(payer_id="medicare", plan_type="medicare_part_d", priority="secondary"))


# --- diagnoses, trials, psychotherapy, scores, medications, stays -----------------------------------------


def test_diagnosis_round_trip(session: Session) -> None:
    patient = make_patient(session)
    row = svc.add_diagnosis(session, patient_id=patient.id, today=TODAY,
                            details=DiagnosisDetails(icd10=" f33.2 ", episode_start=date(2026, 2, 1)))
    session.commit()
    assert row.icd10 == "F33.2"
    edited = replace(svc.details_of(row, DiagnosisDetails), diagnosis_method="structured_interview")
    svc.update_diagnosis(session, diagnosis_id=row.id, expected_version=row.version, today=TODAY, details=edited)
    session.commit()
    assert row.diagnosis_method == "structured_interview"
    svc.remove_diagnosis(session, diagnosis_id=row.id, expected_version=row.version)
    session.commit()
    assert session.get(Diagnosis, row.id) is None


@pytest.mark.parametrize(
    ("details", "field", "fragment"),
    [
        (DiagnosisDetails(icd10="F3"), "icd10", "not an ICD-10-CM code"),
        (DiagnosisDetails(icd10="MDD"), "icd10", "not an ICD-10-CM code"),
        (DiagnosisDetails(icd10="F33.2", episode_start=date(2027, 1, 1)), "episode_start", "future"),
        (DiagnosisDetails(icd10="F33.2", episode_start=date(1970, 1, 1)), "episode_start", "before the patient's"),
        (DiagnosisDetails(icd10="F33.2", episode_type="chronic"), "episode_type", "unknown episode type"),
        (DiagnosisDetails(icd10="F33.2", diagnosis_method="guess"), "diagnosis_method", "unknown method"),
    ],
)
def test_bad_diagnosis(session: Session, details: DiagnosisDetails, field: str, fragment: str) -> None:
    patient = make_patient(session, dob=date(1980, 5, 17))
    _rejects(session, lambda: svc.add_diagnosis(session, patient_id=patient.id, details=details, today=TODAY),
             field, fragment)


def test_trial_round_trip_and_stale(session: Session) -> None:
    patient = make_patient(session)
    trial = svc.add_trial(session, patient_id=patient.id, details=_trial(), today=TODAY)
    session.commit()
    svc.update_trial(session, trial_id=trial.id, expected_version=1, details=_trial(daily_dose_mg=200), today=TODAY)
    session.commit()
    with pytest.raises(StaleEdit):
        svc.update_trial(session, trial_id=trial.id, expected_version=1, details=_trial(daily_dose_mg=50), today=TODAY)
    session.commit()
    session.refresh(trial)
    assert trial.daily_dose_mg == 200
    svc.remove_trial(session, trial_id=trial.id, expected_version=2)
    session.commit()
    assert session.get(MedicationTrial, trial.id) is None


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"daily_dose_mg": -50}, "daily_dose_mg", "cannot be negative"),
        ({"daily_dose_mg": 0}, "daily_dose_mg", "more than 0"),
        ({"adherence_pct": 101}, "adherence_pct", "0 to 100"),
        ({"adherence_pct": -1}, "adherence_pct", "0 to 100"),
        ({"improvement_pct": 250}, "improvement_pct", "-100 to 100"),
        ({"end_date": date(2025, 12, 1)}, "end_date", "before the start date"),
        ({"start_date": date(2026, 12, 1), "end_date": None}, "start_date", "future"),
        ({"end_date": date(2026, 12, 1)}, "end_date", "future"),
        ({"drug": ""}, "drug", "required"),
        ({"start_date": None, "end_date": None}, "start_date", "required"),
        ({"drug": "Spravato"}, "drug", "esketamine is not an antidepressant trial"),
        ({"outcome": "meh"}, "outcome", "unknown outcome"),
        ({"role": "booster"}, "role", "unknown role"),
    ],
)
def test_bad_trial(session: Session, overrides: dict[str, Any], field: str, fragment: str) -> None:
    patient = make_patient(session)
    _rejects(session, lambda: svc.add_trial(session, patient_id=patient.id, details=_trial(**overrides), today=TODAY),
             field, fragment)


def test_unknown_drug_is_allowed_and_flagged(session: Session) -> None:
    patient = make_patient(session)
    svc.add_trial(session, patient_id=patient.id, details=_trial(drug="zuranolone", daily_dose_mg=50), today=TODAY)
    svc.add_trial(session, patient_id=patient.id, details=_trial(drug="Zoloft", daily_dose_mg=25,
                                                                 start_date=date(2025, 1, 1),
                                                                 end_date=date(2025, 2, 1)), today=TODAY)
    svc.add_trial(session, patient_id=patient.id, details=_trial(drug="aripiprazole", daily_dose_mg=5,
                                                                 start_date=date(2024, 1, 1),
                                                                 end_date=date(2024, 3, 1)), today=TODAY)
    record = svc.get_patient_record(session, patient_id=patient.id, today=TODAY)
    flags = {view.trial.drug: view.flags for view in record.trials}
    assert flags["zuranolone"][0].startswith("unknown drug")
    assert flags["Zoloft"] == ("dose below the minimum therapeutic dose (50 mg)",)
    assert "augmentation agent" in flags["aripiprazole"][0]
    weeks = {view.trial.drug: view.weeks for view in record.trials}
    assert weeks["Zoloft"] == 4.4


def test_psychotherapy(session: Session) -> None:
    patient = make_patient(session)
    row = svc.add_psychotherapy(session, patient_id=patient.id, today=TODAY,
                                details=PsychotherapyDetails(modality="CBT", start_date=date(2026, 1, 1)))
    session.commit()
    svc.update_psychotherapy(session, psychotherapy_id=row.id, expected_version=1, today=TODAY,
                             details=PsychotherapyDetails(modality="IPT", start_date=date(2026, 1, 1),
                                                          end_date=date(2026, 4, 1)))
    session.commit()
    assert row.modality == "IPT"
    _rejects(session, lambda: svc.add_psychotherapy(
        session, patient_id=patient.id, today=TODAY,
        details=PsychotherapyDetails(modality="yoga", start_date=date(2026, 1, 1))), "modality", "unknown modality")
    _rejects(session, lambda: svc.add_psychotherapy(
        session, patient_id=patient.id, today=TODAY,
        details=PsychotherapyDetails(modality="CBT", start_date=date(2026, 5, 1), end_date=date(2026, 4, 1))),
        "end_date", "before the start date")
    svc.remove_psychotherapy(session, psychotherapy_id=row.id, expected_version=2)


@pytest.mark.parametrize(
    ("instrument", "score", "ok"),
    [("PHQ-9", 27, True), ("PHQ-9", 28, False), ("MADRS", 60, True), ("MADRS", 61, False),
     ("HAM-D17", 52, True), ("HAM-D17", 53, False), ("QIDS-SR16", 28, False), ("BDI-II", 63, True),
     ("BDI-II", 64, False), ("PHQ-9", -1, False)],
)
def test_score_ranges(session: Session, instrument: str, score: int, ok: bool) -> None:
    patient = make_patient(session)
    details = ScoreDetails(instrument=instrument, score=score, measured_on=date(2026, 10, 1))
    if ok:
        assert svc.add_score(session, patient_id=patient.id, details=details, today=TODAY).id
    else:
        _rejects(session, lambda: svc.add_score(session, patient_id=patient.id, details=details, today=TODAY),
                 "score", f"{instrument} scores run from")


def test_score_other_problems(session: Session) -> None:
    patient = make_patient(session)
    _rejects(session, lambda: svc.add_score(session, patient_id=patient.id, today=TODAY,
                                            details=ScoreDetails("HAMD", 10, date(2026, 1, 1))),
             "instrument", "unknown instrument")
    _rejects(session, lambda: svc.add_score(session, patient_id=patient.id, today=TODAY,
                                            details=ScoreDetails("PHQ-9", 10, date(2026, 12, 1))),
             "measured_on", "future")
    row = svc.add_score(session, patient_id=patient.id, today=TODAY,
                        details=ScoreDetails("PHQ-9", 10, date(2026, 9, 1)))
    session.commit()
    svc.update_score(session, score_id=row.id, expected_version=1, today=TODAY,
                     details=ScoreDetails("PHQ-9", 12, date(2026, 9, 1)))
    svc.remove_score(session, score_id=row.id, expected_version=2)


def test_medications_and_concomitant_categories(session: Session) -> None:
    patient = make_patient(session)
    svc.add_medication(session, patient_id=patient.id, today=TODAY, details=MedicationDetails("lorazepam", 1))
    svc.add_medication(session, patient_id=patient.id, today=TODAY, details=MedicationDetails("Percocet"))
    row = svc.add_medication(session, patient_id=patient.id, today=TODAY, details=MedicationDetails("sertraline", 100))
    _rejects(session, lambda: svc.add_medication(session, patient_id=patient.id, today=TODAY,
                                                 details=MedicationDetails("sertraline", -5)),
             "daily_dose_mg", "cannot be negative")
    _rejects(session, lambda: svc.add_medication(session, patient_id=patient.id, today=TODAY,
                                                 details=MedicationDetails("")), "drug", "required")
    record = svc.get_patient_record(session, patient_id=patient.id, today=TODAY)
    assert record.concomitant == {"benzodiazepines": ["lorazepam"], "opioids": ["Percocet"]}
    by_drug = {m.medication.drug: m for m in record.medications}
    assert by_drug["sertraline"].drug is not None and by_drug["sertraline"].categories == ()
    assert by_drug["Percocet"].categories == ("opioids",)
    svc.update_medication(session, medication_id=row.id, expected_version=1, today=TODAY,
                          details=MedicationDetails("sertraline", 150))
    session.commit()
    svc.remove_medication(session, medication_id=row.id, expected_version=2)


def test_stays(session: Session) -> None:
    patient = make_patient(session)
    row = svc.add_stay(session, patient_id=patient.id, today=TODAY,
                       details=StayDetails(admitted_on=date(2026, 9, 1), discharged_on=date(2026, 9, 10)))
    _rejects(session, lambda: svc.add_stay(session, patient_id=patient.id, today=TODAY,
                                           details=StayDetails(admitted_on=date(2026, 9, 10),
                                                               discharged_on=date(2026, 9, 1))),
             "discharged_on", "before the start date")
    _rejects(session, lambda: svc.add_stay(session, patient_id=patient.id, today=TODAY,
                                           details=StayDetails(admitted_on=date(2026, 9, 1), reason="vacation")),
             "reason", "unknown reason")
    session.commit()
    svc.update_stay(session, stay_id=row.id, expected_version=1, today=TODAY,
                    details=StayDetails(admitted_on=date(2026, 9, 1), esketamine_started=True))
    session.commit()
    svc.remove_stay(session, stay_id=row.id, expected_version=2)


def test_child_of_missing_patient(session: Session) -> None:
    with pytest.raises(NotFound):
        svc.add_score(session, patient_id=424242, details=ScoreDetails("PHQ-9", 1, date(2026, 1, 1)), today=TODAY)


# --- search and record -----------------------------------------------------------------------------------


@pytest.fixture
def roster(session: Session) -> dict[str, Any]:
    """Three patients over two sites with different payers."""
    north, south = make_site(session, name="North"), make_site(session, name="South")
    a = make_patient(session, site=north, first_name="Ada", last_name="Quintrell", mrn="N-100", dob=date(1970, 2, 3))
    b = make_patient(session, site=north, first_name="Bram", last_name="Quintrell", mrn="N-200", dob=date(1985, 7, 9))
    c = make_patient(session, site=south, first_name="Cleo", last_name="Ashworth", mrn="S-100", dob=date(1990, 1, 1))
    svc.add_coverage(session, patient_id=a.id, details=_coverage(payer_id="cigna"), today=TODAY)
    svc.add_coverage(session, patient_id=b.id, details=_coverage(payer_id="uhc"), today=TODAY)
    svc.add_coverage(session, patient_id=c.id, details=_coverage(payer_id="cigna"), today=TODAY)
    svc.add_coverage(session, patient_id=c.id, today=TODAY,
                     details=_coverage(payer_id="medicaid", plan_type="medicaid_managed", priority="secondary"))
    session.commit()
    return {"north": north, "south": south, "a": a, "b": b, "c": c}


def _names(page: svc.PatientPage) -> list[str]:
    return [r.first_name for r in page.rows]


def test_search_by_name_mrn_and_dob(session: Session, roster: dict[str, Any]) -> None:
    assert _names(svc.search_patients(session, text="quintrell")) == ["Ada", "Bram"]
    assert _names(svc.search_patients(session, text="Quintrell, bram")) == ["Bram"]
    assert _names(svc.search_patients(session, text="s-100")) == ["Cleo"]
    assert _names(svc.search_patients(session, text="1985-07-09")) == ["Bram"]
    assert _names(svc.search_patients(session, text="07/09/1985")) == ["Bram"]
    assert _names(svc.search_patients(session, text="02/30/1985")) == []
    assert _names(svc.search_patients(session, text="100%")) == ["Cleo", "Ada"]


def test_search_filters_and_paging(session: Session, roster: dict[str, Any]) -> None:
    assert _names(svc.search_patients(session, site_id=roster["south"].id)) == ["Cleo"]
    assert _names(svc.search_patients(session, payer_id="cigna")) == ["Cleo", "Ada"]
    assert _names(svc.search_patients(session, payer_id="cigna", site_id=roster["north"].id)) == ["Ada"]
    page = svc.search_patients(session, limit=2, offset=0)
    assert page.total == 3 and _names(page) == ["Cleo", "Ada"]
    assert _names(svc.search_patients(session, limit=2, offset=2)) == ["Bram"]
    cleo = svc.search_patients(session, text="cleo").rows[0]
    assert cleo.site_name == "South" and cleo.payer_ids == ("cigna", "medicaid")


def test_patient_record_has_everything(session: Session, roster: dict[str, Any]) -> None:
    a = roster["a"]
    svc.add_diagnosis(session, patient_id=a.id, details=DiagnosisDetails(icd10="F33.2"), today=TODAY)
    svc.add_trial(session, patient_id=a.id, details=_trial(), today=TODAY)
    svc.add_psychotherapy(session, patient_id=a.id, today=TODAY,
                          details=PsychotherapyDetails(modality="CBT", start_date=date(2026, 1, 1)))
    svc.add_score(session, patient_id=a.id, details=ScoreDetails("MADRS", 34, date(2026, 10, 1)), today=TODAY)
    svc.add_stay(session, patient_id=a.id, details=StayDetails(admitted_on=date(2026, 8, 1)), today=TODAY)
    session.commit()
    record = svc.get_patient_record(session, patient_id=a.id, today=TODAY)
    assert record.site.name == "North" and record.prescriber is None
    assert [c.payer_id for c in record.coverages] == ["cigna"]
    assert len(record.diagnoses) == len(record.trials) == len(record.psychotherapy) == 1
    assert record.scores[0].score == 34 and len(record.stays) == 1
    assert record.trials[0].drug is not None and record.trials[0].flags == ()
    with pytest.raises(NotFound):
        svc.get_patient_record(session, patient_id=99999)
