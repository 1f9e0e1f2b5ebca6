"""EHR history from FHIR: reading a synthetic depression history and the US Core examples, refusing bad input,
review against the record, accepting (audited, with provenance) and re-importing (nothing changes)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, func, select

from desk.demo_ehr import as_bundle, depression_history
from desk.fhir.ehr_import import ImportRefused, SourceFile, read_fhir_export
from desk.history.accept import MatchNotConfirmed, accept_history
from desk.history.facts import SECTIONS, HistoryImport, PatientHistory
from desk.history.provenance import imported_facts
from desk.history.review import match_patient, review_patient
from desk.models import (
    AuditEvent,
    Coverage,
    Diagnosis,
    ImportedFact,
    InpatientStay,
    MedicationTrial,
    Patient,
    PsychotherapyTrial,
    RatingScore,
)
from desk.policies.builder import build_case_facts
from tests.factories import make_patient, make_site, make_trial

TODAY = date(2026, 12, 2)
PAYERS = frozenset({"cigna", "uhc", "generic-commercial", "medicare", "medicaid"})
US_CORE = Path(__file__).parent / "us_core"
TABLES = (Coverage, Diagnosis, MedicationTrial, PsychotherapyTrial, RatingScore, InpatientStay, ImportedFact,
          AuditEvent)


def _history(mrn: str = "EHR-0001", key: str = "p1", **changes: Any) -> list[dict[str, Any]]:
    values: dict[str, Any] = {"key": key, "mrn": mrn, "first_name": "Ann", "last_name": "Example",
                              "birth_date": date(1980, 1, 1), "today": TODAY}
    values.update(changes)
    return depression_history(**values)


def _bundle_file(resources: list[dict[str, Any]], name: str = "export.json") -> SourceFile:
    return SourceFile(name, json.dumps(as_bundle(resources)).encode())


def _read(*sources: SourceFile, **options: Any) -> HistoryImport:
    return read_fhir_export(list(sources), today=TODAY, known_payers=PAYERS, **options)


def _counts(session: Session) -> tuple[int, ...]:
    return tuple(session.exec(select(func.count()).select_from(table)).one() for table in TABLES)


def _only(imported: HistoryImport) -> PatientHistory:
    assert len(imported.patients) == 1
    return imported.patients[0]


def _trials(history: PatientHistory) -> dict[str, Any]:
    return {f.details.drug: f.details for f in history.facts if f.section == "trials"}  # type: ignore[union-attr]


# --- reading -------------------------------------------------------------------------------------------------


def test_synthetic_history_becomes_trials_scores_diagnosis_stay_and_psychotherapy() -> None:
    history = _only(_read(_bundle_file(_history())))
    trials = _trials(history)
    assert set(trials) == {"sertraline", "escitalopram", "venlafaxine", "duloxetine", "aripiprazole", "lithium"}
    sertraline = trials["sertraline"]
    start = TODAY - timedelta(days=900)
    # Four 30-day fills on days 0, 30, 62, 90: one trial to the last fill's supply, two uncovered days of 90.
    assert (sertraline.start_date, sertraline.end_date) == (start, start + timedelta(days=119))
    assert sertraline.daily_dose_mg == 150 and sertraline.adherence_pct == 97.8
    assert sertraline.outcome == "not_recorded"
    assert "proportion of days covered" in sertraline.notes and "outcome: not recorded" in sertraline.notes
    # Overlapping duloxetine prescriptions join into one trial at the higher dose.
    assert trials["duloxetine"].daily_dose_mg == 120
    assert trials["duloxetine"].start_date == start + timedelta(days=380)
    # Venlafaxine dispenses of a product the reference does not list: mapped by name, dose from the supply.
    assert trials["venlafaxine"].daily_dose_mg == 150 and trials["venlafaxine"].adherence_pct == 100.0
    assert trials["aripiprazole"].role == "augmentation" and trials["lithium"].role == "augmentation"
    assert trials["lithium"].daily_dose_mg == 1200  # two 300 mg tablets twice a day
    assert trials["escitalopram"].adherence_pct is None
    scores = sorted((f.details.instrument, f.details.score) for f in history.facts  # type: ignore[union-attr]
                    if f.section == "scores")
    assert scores == [("MADRS", 34), ("PHQ-9", 19), ("PHQ-9", 20), ("PHQ-9", 21), ("PHQ-9", 22)]
    (diagnosis,) = [f.details for f in history.facts if f.section == "diagnoses"]
    assert diagnosis.icd10 == "F33.2" and diagnosis.episode_type == "recurrent"  # type: ignore[union-attr]
    (stay,) = [f.details for f in history.facts if f.section == "stays"]
    assert stay.reason == "suicidality"  # type: ignore[union-attr]
    (therapy,) = [f for f in history.facts if f.section == "psychotherapy"]
    assert len(therapy.provenance) == 8
    (coverage,) = [f.details for f in history.facts if f.section == "coverages"]
    assert coverage.payer_id == "cigna"  # type: ignore[union-attr]
    notes = "\n".join(history.notes)
    assert "RxNorm 99999901" in notes and "not in the drug reference" in notes
    assert "bupropion" in notes and "no dose" in notes
    assert "SNOMED CT only" in notes
    (ect,) = [f for f in history.facts if f.section == "neuromodulation"]
    assert (ect.details.therapy, ect.details.sessions) == ("ECT", 3)  # type: ignore[union-attr]
    assert ect.details.start_date == start + timedelta(days=541)  # type: ignore[union-attr]
    assert ect.details.end_date == start + timedelta(days=545)  # type: ignore[union-attr]
    (allergy,) = [f.details for f in history.facts if f.section == "allergies"]
    assert (allergy.substance, allergy.code, allergy.criticality, allergy.reaction, allergy.status) == (  # type: ignore[union-attr]
        "penicillin", "RxNorm 70618", "high", "Hives", "active")
    (prescriber,) = [f.details for f in history.facts if f.section == "prescribers"]
    assert (prescriber.name, prescriber.npi, prescriber.role) == ("Pat Example", "1234567893",  # type: ignore[union-attr]
                                                                  "Psychiatrist")


def test_every_fact_names_its_source_file_and_resource() -> None:
    history = _only(_read(_bundle_file(_history(), name="chart.json")))
    for fact in history.facts:
        assert fact.provenance and all(p.source_file == "chart.json" for p in fact.provenance)
    sources = {p.resource_id for f in history.facts if f.section == "trials" for p in f.provenance}
    assert "MedicationDispense/p1-sertraline-fill2" in sources


def test_bundle_and_ndjson_read_the_same_facts(tmp_path: Path) -> None:
    resources = _history()
    by_type: dict[str, list[str]] = {}
    for resource in resources:
        by_type.setdefault(resource["resourceType"], []).append(json.dumps(resource))
    files = []
    for kind, lines in by_type.items():
        path = tmp_path / f"{kind}.ndjson"
        path.write_text("\n".join(lines) + "\n")
        files.append(SourceFile(path.name, path=path))
    from_ndjson = _only(_read(*files))
    from_bundle = _only(_read(_bundle_file(resources)))
    assert sorted(str(f.details) for f in from_ndjson.facts) == sorted(str(f.details) for f in from_bundle.facts)


@pytest.mark.parametrize("as_ndjson", [False, True])
def test_us_core_examples(as_ndjson: bool) -> None:
    resources = [json.loads(path.read_text()) for path in sorted(US_CORE.glob("*.json"))]
    if as_ndjson:
        source = SourceFile("us-core.ndjson", "\n".join(json.dumps(r) for r in resources).encode())
    else:
        source = _bundle_file(resources, name="us-core.json")
    imported = _read(source)
    history = _only(imported)
    assert history.identity.identifiers == ("1032702",)
    (score,) = [f.details for f in history.facts if f.section == "scores"]
    assert (score.instrument, score.score) == ("PHQ-9", 12)  # type: ignore[union-attr]
    assert any("RxNorm 476872" in note for note in history.notes)  # nizatidine: not an antidepressant
    # The in-progress inpatient encounter example has no start date: listed with its id, the rest continues.
    assert [(p.resource_id, p.reason) for p in imported.problems] == [
        ("Encounter/1036", "inpatient encounter has no start date (period.start)")]


# --- bad input: refused with a message ------------------------------------------------------------------------


def _refusal(*sources: SourceFile, **options: Any) -> str:
    with pytest.raises(ImportRefused) as refused:
        _read(*sources, **options)
    return str(refused.value)


def test_not_json_is_refused() -> None:
    assert "not FHIR JSON" in _refusal(SourceFile("export.json", b"MSH|^~\\&|EPIC|"))
    assert "not valid JSON" in _refusal(SourceFile("export.json", b'{"resourceType": "Bundle", '))


def test_wrong_resource_type_is_refused() -> None:
    message = _refusal(SourceFile("one.json", json.dumps(_history()[0]).encode()))
    assert "resourceType is 'Patient'" in message and "Bundle" in message


def test_r5_and_stu3_resources_are_refused() -> None:
    resources = _history()
    r5 = [*resources, {"resourceType": "MedicationRequest", "id": "r5", "status": "active", "intent": "order",
                       "subject": {"reference": "Patient/p1"},
                       "medication": {"concept": {"text": "sertraline"}}}]
    assert "FHIR R5" in _refusal(_bundle_file(r5))
    stu3 = [*resources, {"resourceType": "MedicationStatement", "id": "s3", "status": "completed", "taken": "y",
                         "subject": {"reference": "Patient/p1"},
                         "medicationCodeableConcept": {"text": "sertraline"}}]
    assert "FHIR STU3" in _refusal(_bundle_file(stu3))
    declared = as_bundle(resources) | {"meta": {"fhirVersion": "5.0.0"}}
    assert "FHIR 5.0.0" in _refusal(SourceFile("x.json", json.dumps(declared).encode()))


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.ndjson"
    with path.open("wb") as handle:
        handle.truncate(1024 * 1024 + 1)
    message = _refusal(SourceFile(path.name, path=path), max_mb=1)
    assert "larger than 1 MB" in message and "DESK_EHR_IMPORT_MAX_MB" in message


def test_patient_without_identifier_unresolved_reference_and_future_date_are_listed() -> None:
    resources = _history()
    resources[0] = {k: v for k, v in resources[0].items() if k != "identifier"}
    other = _history(mrn="EHR-0002", key="p2")
    other.append({"resourceType": "Observation", "id": "orphan", "status": "final",
                  "subject": {"reference": "Patient/nobody"}, "code": {"coding": [
                      {"system": "http://loinc.org", "code": "44261-6"}]},
                  "effectiveDateTime": "2026-01-01", "valueInteger": 20})
    other.append({"resourceType": "Observation", "id": "future", "status": "final",
                  "subject": {"reference": "Patient/p2"}, "code": {"coding": [
                      {"system": "http://loinc.org", "code": "44261-6"}]},
                  "effectiveDateTime": (TODAY + timedelta(days=3)).isoformat(), "valueInteger": 20})
    other.append({"resourceType": "Condition", "id": "broken", "subject": {"reference": "Patient/p2"},
                  "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F33.1"}]},
                  "onsetDateTime": "not a date"})
    imported = _read(_bundle_file(resources + other))
    problems = {p.resource_id: p.reason for p in imported.problems}
    assert "no identifier" in problems["Patient/p1"]
    assert "does not resolve" in problems["Observation/orphan"]
    assert problems["Observation/future"] == "effective is in the future"
    assert problems["Condition/broken"].startswith("not valid FHIR R4: Condition.onsetDateTime")
    # Facts of the patient without an identifier are not offered; the other patient continues.
    assert [h.identity.identifiers for h in imported.patients] == [("EHR-0002",)]
    scores = [f.details.measured_on for f in imported.patients[0].facts if f.section == "scores"]  # type: ignore
    assert len(scores) == 5 and max(scores) <= TODAY


# --- review and accept ----------------------------------------------------------------------------------------


def _accept(session: Session, history: PatientHistory, patient: Patient, *, sections: Any = SECTIONS,
            confirmed: bool = False) -> Any:
    match = match_patient(session, history.identity)
    assert match.patient_id == patient.id
    return accept_history(session, history=history, patient_id=patient.id or 0, match=match, sections=sections,
                          known_payers=PAYERS, imported_on=TODAY, kind="fhir", confirmed=confirmed, today=TODAY)


def test_accept_writes_every_new_fact_with_provenance_and_one_audit_event_without_values(session: Session) -> None:
    patient = make_patient(session, mrn="EHR-0001")
    history = _only(_read(_bundle_file(_history(), name="chart.json")))
    match = match_patient(session, history.identity)
    assert match.how == "identifier"
    review = review_patient(session, history=history, patient_id=patient.id or 0, match=match,
                            known_payers=PAYERS, today=TODAY)
    assert set(review.counts()) == {"new"}
    before = _counts(session)
    assert session.exec(select(func.count()).select_from(MedicationTrial)).one() == 0
    result = _accept(session, history, patient)
    session.commit()
    assert result.created["trials"] == 6 and result.created["scores"] == 5 and result.created["coverages"] == 1
    trials = session.exec(select(MedicationTrial).where(MedicationTrial.patient_id == patient.id)).all()
    assert {t.outcome for t in trials} == {"not_recorded"}
    views = imported_facts(session, patient_id=patient.id or 0)
    assert any("MedicationDispense/p1-sertraline-fill3" in v.resource_ids.split(", ") and v.source_file == "chart.json"
               and v.fact.startswith("sertraline 150 mg/day") for v in views)
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "import")).all()
    assert len(events) == 1
    detail = events[0].detail
    assert "trials 6" in detail and "scores 5" in detail
    for value in ("sertraline", "EHR-0001", "Example", "F33.2", "1980"):
        assert value not in detail
    assert _counts(session) != before


def test_reimporting_the_same_file_changes_nothing(session: Session) -> None:
    patient = make_patient(session, mrn="EHR-0001")
    source = _bundle_file(_history())
    _accept(session, _only(_read(source)), patient)
    session.commit()
    before = _counts(session)
    history = _only(_read(source))
    review = review_patient(session, history=history, patient_id=patient.id or 0,
                            match=match_patient(session, history.identity), known_payers=PAYERS, today=TODAY)
    assert set(review.counts()) == {"unchanged"}
    result = _accept(session, history, patient)
    session.commit()
    assert result.written == 0
    assert _counts(session) == before


def test_a_later_export_updates_imported_facts_but_keeps_what_staff_set(session: Session) -> None:
    patient = make_patient(session, mrn="EHR-0001")
    _accept(session, _only(_read(_bundle_file(_history()))), patient)
    session.commit()
    trial = session.exec(select(MedicationTrial).where(MedicationTrial.drug == "escitalopram")).one()
    trial.outcome = "non_response"
    session.add(trial)
    session.commit()
    later = _history()
    for resource in later:
        if resource["id"] == "p1-escitalopram":
            resource["dosage"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 10
    history = _only(_read(_bundle_file(later)))
    review = review_patient(session, history=history, patient_id=patient.id or 0,
                            match=match_patient(session, history.identity), known_payers=PAYERS, today=TODAY)
    (changed,) = [f for f in review.facts if f.status == "changed"]
    assert changed.differences == ("daily_dose_mg",) and changed.on_record == (("daily_dose_mg", 20.0),)
    result = _accept(session, history, patient)
    session.commit()
    assert result.updated["trials"] == 1 and result.written == 1
    session.refresh(trial)
    assert (trial.daily_dose_mg, trial.outcome) == (10, "non_response")


def test_staff_entries_that_differ_are_conflicts_and_stay_as_entered(session: Session) -> None:
    patient = make_patient(session, mrn="EHR-0001")
    start = TODAY - timedelta(days=900)
    entered = make_trial(session, patient=patient, drug="sertraline", start_date=start, daily_dose_mg=200,
                         end_date=start + timedelta(days=100))
    history = _only(_read(_bundle_file(_history())))
    review = review_patient(session, history=history, patient_id=patient.id or 0,
                            match=match_patient(session, history.identity), known_payers=PAYERS, today=TODAY)
    (conflict,) = [f for f in review.facts if f.status == "conflict"]
    assert conflict.row_id == entered.id and "daily_dose_mg" in conflict.differences
    _accept(session, history, patient)
    session.commit()
    session.refresh(entered)
    assert entered.daily_dose_mg == 200


def test_accept_one_section_only(session: Session) -> None:
    patient = make_patient(session, mrn="EHR-0001")
    result = _accept(session, _only(_read(_bundle_file(_history()))), patient, sections=("scores",))
    session.commit()
    assert dict(result.created) == {"scores": 5}
    assert session.exec(select(func.count()).select_from(MedicationTrial)).one() == 0


def test_a_match_by_name_and_birth_date_needs_confirmation(session: Session) -> None:
    patient = make_patient(session, mrn="LOCAL-9", first_name="Ann", last_name="Example", dob=date(1980, 1, 1))
    history = _only(_read(_bundle_file(_history())))
    match = match_patient(session, history.identity)
    assert match.how == "name_and_dob" and match.needs_confirmation and match.patient_id == patient.id
    before = _counts(session)
    with pytest.raises(MatchNotConfirmed):
        _accept(session, history, patient)
    assert _counts(session) == before
    result = _accept(session, history, patient, confirmed=True)
    assert result.written > 0


def test_no_match_and_ambiguous_match(session: Session) -> None:
    history = _only(_read(_bundle_file(_history())))
    assert match_patient(session, history.identity).how == "none"
    make_patient(session, site=make_site(session), mrn="EHR-0001")
    make_patient(session, site=make_site(session), mrn="EHR-0001")
    assert match_patient(session, history.identity).how == "ambiguous"


def test_imported_trials_feed_the_payer_criteria(session: Session) -> None:
    patient = make_patient(session, mrn="EHR-0001")
    _accept(session, _only(_read(_bundle_file(_history()))), patient)
    session.commit()
    case = build_case_facts(session, patient_id=patient.id or 0, as_of=TODAY)
    drugs = {t.drug: t for t in case.trials}
    assert {"sertraline", "duloxetine", "lithium"} <= set(drugs)
    assert drugs["sertraline"].outcome is None  # not recorded: unknown to the criteria, never a guess
    assert drugs["sertraline"].adherence_pct == 97.8
    assert len(case.scores or []) == 5


def test_esketamine_is_never_a_trial() -> None:
    resources = [*_history(), {"resourceType": "MedicationStatement", "id": "spravato", "status": "completed",
                               "subject": {"reference": "Patient/p1"}, "effectivePeriod": {"start": "2026-01-05"},
                               "medicationCodeableConcept": {"text": "Spravato (esketamine) 28 MG nasal spray"}}]
    history = _only(_read(_bundle_file(resources)))
    assert "esketamine" not in _trials(history)
    assert any(note.startswith("MedicationStatement/spravato: esketamine") for note in history.notes)
