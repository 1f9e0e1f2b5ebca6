"""ECT and TMS courses, allergies and EHR prescribers: read from FHIR or a spreadsheet, reviewed, accepted with
provenance (audited by counts), idempotent on re-import, shown with their sources and read by payer criteria.
Also: the element cache of the FHIR validation gives exactly the messages of a whole validation."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import Session, func, select

from desk.demo_ehr import as_bundle, depression_history
from desk.fhir.ehr_import import SourceFile, read_fhir_export
from desk.fhir.validate import FhirInvalid, ResourceValidator, validate_resource
from desk.history.accept import accept_history, accept_reviews
from desk.history.facts import SECTIONS, HistoryImport, PatientHistory
from desk.history.provenance import ehr_history
from desk.history.review import match_patient, review_patient, review_patients
from desk.history.spreadsheet import read_spreadsheet
from desk.imports import ImportFailed
from desk.models import Allergy, AuditEvent, EhrPrescriber, ImportedFact, NeuromodulationCourse
from desk.policies.builder import build_case_facts
from tests.factories import make_patient

TODAY = date(2026, 12, 2)
PAYERS = frozenset({"cigna", "generic-commercial"})
TABLES = (NeuromodulationCourse, Allergy, EhrPrescriber, ImportedFact, AuditEvent)


def _resources() -> list[dict[str, Any]]:
    return depression_history(key="p1", mrn="EHR-0001", first_name="Ann", last_name="Example",
                              birth_date=date(1980, 1, 1), today=TODAY)


def _read(resources: list[dict[str, Any]], name: str = "chart.json") -> HistoryImport:
    return read_fhir_export([SourceFile(name, json.dumps(as_bundle(resources)).encode())], today=TODAY,
                            known_payers=PAYERS)


def _only(imported: HistoryImport) -> PatientHistory:
    assert len(imported.patients) == 1
    return imported.patients[0]


def _counts(session: Session) -> tuple[int, ...]:
    return tuple(session.exec(select(func.count()).select_from(table)).one() for table in TABLES)


def _accept(session: Session, history: PatientHistory, patient_id: int, sections: Any = SECTIONS) -> Any:
    return accept_history(session, history=history, patient_id=patient_id,
                          match=match_patient(session, history.identity), sections=sections, known_payers=PAYERS,
                          imported_on=TODAY, kind="fhir", today=TODAY)


def _tms(status: str = "in-progress", **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Procedure", "id": "p1-tms", "status": status, "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "90868"}],
                     "text": "TMS treatment session"},
            "performedPeriod": {"start": (TODAY - timedelta(days=20)).isoformat()}, **extra}


def _allergy(rid: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "AllergyIntolerance", "id": rid, "patient": {"reference": "Patient/p1"},
            **({"code": {"text": text}} if text else {}), **extra}


def test_accept_stores_courses_allergies_and_prescribers_with_provenance_and_counts_only(session: Session) -> None:
    patient = make_patient(session, mrn="EHR-0001")
    history = _only(_read(_resources()))
    review = review_patient(session, history=history, patient_id=patient.id or 0,
                            match=match_patient(session, history.identity), known_payers=PAYERS, today=TODAY)
    assert {f.status for f in review.facts if f.fact.section in ("neuromodulation", "allergies", "prescribers")} \
        == {"new"}
    result = _accept(session, history, patient.id or 0)
    session.commit()
    assert (result.created["neuromodulation"], result.created["allergies"], result.created["prescribers"]) == (1, 1, 1)
    course = session.exec(select(NeuromodulationCourse)).one()
    start = TODAY - timedelta(days=900)
    assert (course.therapy, course.start_date, course.end_date, course.sessions) == (
        "ECT", start + timedelta(days=541), start + timedelta(days=545), 3)
    allergy = session.exec(select(Allergy)).one()
    assert (allergy.substance, allergy.code, allergy.criticality, allergy.reaction, allergy.status) == (
        "penicillin", "RxNorm 70618", "high", "Hives", "active")
    prescriber = session.exec(select(EhrPrescriber)).one()
    assert (prescriber.name, prescriber.npi, prescriber.role) == ("Pat Example", "1234567893", "Psychiatrist")
    shown = ehr_history(session, patient_id=patient.id or 0)
    assert shown.neuromodulation[0].fact.startswith("ECT ") and "3 session(s)" in shown.neuromodulation[0].fact
    assert "chart.json: Procedure/p1-ect-0, Procedure/p1-ect-1, Procedure/p1-ect-2" in shown.neuromodulation[0].source
    assert "AllergyIntolerance/p1-allergy" in shown.allergies[0].source
    assert "MedicationRequest/p1-sertraline" in shown.prescribers[0].source
    (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "import")).all()
    assert "neuromodulation 1" in event.detail and "allergies 1" in event.detail and "prescribers 1" in event.detail
    for value in ("penicillin", "Example", "1234567893", "ECT"):
        assert value not in event.detail


def test_reimport_changes_nothing_and_a_later_export_updates_the_course(session: Session) -> None:
    patient = make_patient(session, mrn="EHR-0001")
    _accept(session, _only(_read(_resources())), patient.id or 0)
    session.commit()
    before = _counts(session)
    again = _only(_read(_resources()))
    review = review_patient(session, history=again, patient_id=patient.id or 0,
                            match=match_patient(session, again.identity), known_payers=PAYERS, today=TODAY)
    assert set(review.counts()) == {"unchanged"}
    assert _accept(session, again, patient.id or 0).written == 0
    session.commit()
    assert _counts(session) == before
    start = TODAY - timedelta(days=900)
    later = [*_resources(), {"resourceType": "Procedure", "id": "p1-ect-3", "status": "completed",
                             "subject": {"reference": "Patient/p1"},
                             "code": {"coding": [{"system": "http://snomed.info/sct", "code": "23835007"}]},
                             "performedDateTime": (start + timedelta(days=548)).isoformat()}]
    result = _accept(session, _only(_read(later)), patient.id or 0)
    session.commit()
    assert result.updated["neuromodulation"] == 1 and result.written == 1
    course = session.exec(select(NeuromodulationCourse)).one()
    assert (course.end_date, course.sessions) == (start + timedelta(days=548), 4)


def test_staff_entered_allergy_that_differs_is_a_conflict_and_stays(session: Session) -> None:
    patient = make_patient(session, mrn="EHR-0001")
    session.add(Allergy(patient_id=patient.id or 0, substance="penicillin", status="resolved"))
    session.commit()
    history = _only(_read(_resources()))
    review = review_patient(session, history=history, patient_id=patient.id or 0,
                            match=match_patient(session, history.identity), known_payers=PAYERS, today=TODAY)
    (conflict,) = [f for f in review.facts if f.fact.section == "allergies"]
    assert conflict.status == "conflict" and "status" in conflict.differences
    _accept(session, history, patient.id or 0)
    session.commit()
    assert session.exec(select(Allergy.status)).one() == "resolved"


def test_bad_allergies_and_procedures_are_listed_by_id_and_the_rest_continues() -> None:
    resources = [*_resources(), _allergy("no-code", ""), _tms(),
                 {**_tms(status="completed"), "id": "p1-tms-backwards",
                  "performedPeriod": {"start": "2026-03-10", "end": "2026-03-01"}},
                 _allergy("future", "latex", onsetDateTime="2030-01-01")]
    imported = _read(resources)
    reasons = {p.resource_id: p.reason for p in imported.problems}
    assert reasons["AllergyIntolerance/no-code"] == "the allergy names no substance (code)"
    assert reasons["Procedure/p1-tms-backwards"] == "TMS procedure ends before it starts"
    assert reasons["AllergyIntolerance/future"] == "onset is in the future"
    history = _only(imported)
    (tms,) = [f.details for f in history.facts if f.section == "neuromodulation" and f.details.therapy == "TMS"]  # type: ignore[union-attr]
    assert tms.end_date is None  # type: ignore[union-attr]
    assert len([f for f in history.facts if f.section == "trials"]) == 6


def test_ongoing_tms_and_a_ketamine_allergy_reach_the_payer_criteria(session: Session) -> None:
    patient = make_patient(session, mrn="EHR-0001")
    patient.esketamine_hypersensitivity = None  # not screened yet
    session.add(patient)
    resources = [*_resources(), _tms(), _allergy("p1-ketamine", "ketamine", clinicalStatus={"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]})]
    history = _only(_read(resources))
    assert any("p1-ketamine" in note and "hypersensitivity" in note for note in history.notes)
    _accept(session, history, patient.id or 0)
    session.commit()
    case = build_case_facts(session, patient_id=patient.id or 0, as_of=TODAY)
    assert case.screening.concurrent_therapies == ["TMS"]  # the ECT course ended long ago
    assert case.screening.esketamine_hypersensitivity is True
    patient.esketamine_hypersensitivity = False  # staff's screening answer wins once recorded
    session.add(patient)
    session.commit()
    assert build_case_facts(session, patient_id=patient.id or 0, as_of=TODAY).screening \
        .esketamine_hypersensitivity is False


def test_bulk_accept_writes_what_accepting_one_by_one_writes(session: Session) -> None:
    patients = [make_patient(session, mrn=f"EHR-{n}") for n in range(3)]
    resources = [r for n in range(3) for r in depression_history(
        key=f"k{n}", mrn=f"EHR-{n}", first_name="Ann", last_name="Example", birth_date=date(1980, 1, 1),
        today=TODAY)]
    pending = _read(resources)
    items = [(h, match_patient(session, h.identity)) for h in pending.patients]
    reviews = review_patients(session, items=items, known_payers=PAYERS, today=TODAY)
    results = accept_reviews(session, reviews=reviews, known_payers=PAYERS, imported_on=TODAY, kind="fhir",
                             today=TODAY)
    session.commit()
    assert [r.created["trials"] for r in results] == [6, 6, 6]
    assert session.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "import")).one() == 3
    for patient in patients:
        assert len(ehr_history(session, patient_id=patient.id or 0).allergies) == 1
    provenance = session.exec(select(func.count()).select_from(ImportedFact)).one()
    again = review_patients(session, items=items, known_payers=PAYERS, today=TODAY)
    assert all(set(r.counts()) == {"unchanged"} for r in again)
    assert sum(r.written for r in accept_reviews(session, reviews=again, known_payers=PAYERS, imported_on=TODAY,
                                                  kind="fhir", today=TODAY)) == 0
    assert session.exec(select(func.count()).select_from(ImportedFact)).one() == provenance


# --- spreadsheets ------------------------------------------------------------------------------------------


def test_spreadsheet_courses_allergies_and_prescribers_go_to_the_same_review(session: Session) -> None:
    patient = make_patient(session, mrn="S-1")
    for name, data, section in (
        ("ect.csv", b"mrn,therapy,start_date,end_date,sessions\nS-1,tms,2025-02-03,2025-03-14,30\n", "neuromodulation"),
        ("allergies.csv", b"mrn,substance,criticality,status\nS-1,Latex,HIGH,active\n", "allergies"),
        ("prescribers.csv", b"mrn,name,npi,role\nS-1,Pat Example,1234567893,Psychiatrist\n", "prescribers"),
    ):
        pending = read_spreadsheet(session, name=name, data=data, known_payers=PAYERS, today=TODAY)
        (history,) = pending.patients
        assert [f.section for f in history.facts] == [section]
        result = accept_history(session, history=history, patient_id=patient.id or 0,
                                match=match_patient(session, history.identity), sections=SECTIONS,
                                known_payers=PAYERS, imported_on=TODAY, kind="spreadsheet", today=TODAY)
        assert result.created[section] == 1
    session.commit()
    course = session.exec(select(NeuromodulationCourse)).one()
    assert (course.therapy, course.sessions) == ("TMS", 30)
    assert session.exec(select(Allergy.criticality)).one() == "high"


@pytest.mark.parametrize(("data", "column", "message"), [
    (b"mrn,therapy,start_date\nS-1,VNS,2025-02-03\n", "therapy", "unknown therapy"),
    (b"mrn,therapy,start_date,sessions\nS-1,ECT,2025-02-03,many\n", "sessions", "a whole number"),
    (b"mrn,therapy,start_date,end_date\nS-1,ECT,2025-02-03,2025-01-03\n", "end_date", "before the start date"),
    (b"mrn,substance,status\nS-1,latex,maybe\n", "status", "unknown status"),
    (b"mrn,name,npi\nS-1,Pat Example,1234567890\n", "npi", "NPI"),
])
def test_bad_spreadsheet_rows_are_refused_by_row_and_column(session: Session, data: bytes, column: str,
                                                            message: str) -> None:
    make_patient(session, mrn="S-1")
    before = _counts(session)
    with pytest.raises(ImportFailed) as failed:
        read_spreadsheet(session, name="file.csv", data=data, known_payers=PAYERS, today=TODAY)
    (problem,) = failed.value.problems
    assert (problem.row, problem.column) == (2, column) and message in problem.message
    assert _counts(session) == before


# --- validation with the element cache -------------------------------------------------------------------------


def _message(call: Any, data: dict[str, Any]) -> str:
    with pytest.raises(FhirInvalid) as raised:
        call(data)
    return str(raised.value)


@pytest.mark.parametrize("bad", [
    {"quantity": {"value": "thirty"}},
    {"dosageInstruction": {"text": "not a list"}},
    {"dosageInstruction": [None]},
    {"subject": {"reference": 5}},
    {"medicationReference": {"reference": "Medication/x"}},  # a second choice of medication[x]
    {"unknownElement": 1},
    {"status": None, "whenHandedOver": "yesterday"},
])
def test_cached_validation_gives_the_whole_validation_message(bad: dict[str, Any]) -> None:
    good = {"resourceType": "MedicationDispense", "id": "d1", "status": "completed",
            "subject": {"reference": "Patient/p1"}, "quantity": {"value": 30},
            "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                      "code": "36437"}]},
            "dosageInstruction": [{"text": "one daily"}]}
    validator = ResourceValidator()
    validator.validate(good)  # fills the cache with the good elements
    validator.validate({**good, "id": "d2"})
    data = {**good, **bad}
    assert _message(validator.validate, data) == _message(validate_resource, data)
