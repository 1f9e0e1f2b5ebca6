"""Synthetic EHR exports (FHIR R4, US Core shapes) of a depression history, for the demo, tests and benchmarks.

Everything here is fiction. One history holds several SSRIs and SNRIs with dispenses, augmentation with
aripiprazole and lithium, a PHQ-9 series and a MADRS total, an inpatient stay, ECT, psychotherapy sessions,
a medication with an RxNorm code the reference does not know, one without a dosage, and overlapping periods.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UNKNOWN_RXNORM = "99999901"  # not an RxNorm concept: stands for a drug outside the reference list


def _coding(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _rx(code: str, display: str) -> dict[str, Any]:
    return _coding(RXNORM, code, display)


def _daily(mg: float | None, *, tablets: float | None = None, per_day: int = 1) -> list[dict[str, Any]]:
    if mg is None and tablets is None:
        return []
    dose = ({"value": mg, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"} if mg is not None
            else {"value": tablets, "unit": "tablet", "system": "http://unitsofmeasure.org", "code": "{tbl}"})
    return [{"text": "by mouth", "timing": {"repeat": {"frequency": per_day, "period": 1, "periodUnit": "d"}},
             "doseAndRate": [{"doseQuantity": dose}]}]


def depression_history(
    *, key: str, mrn: str, first_name: str, last_name: str, birth_date: date, today: date
) -> list[dict[str, Any]]:
    """The resources of one synthetic patient's depression history; `key` makes resource ids unique."""
    patient = f"Patient/{key}"
    subject = {"reference": patient}
    d = today - timedelta(days=900)  # first antidepressant

    def day(offset: int) -> str:
        return (d + timedelta(days=offset)).isoformat()

    out: list[dict[str, Any]] = [
        {"resourceType": "Patient", "id": key,
         "identifier": [{"type": _coding("http://terminology.hl7.org/CodeSystem/v2-0203", "MR",
                                         "Medical Record Number"),
                         "system": "http://example.org/ehr/mrn", "value": mrn}],
         "name": [{"family": last_name, "given": [first_name]}], "gender": "female",
         "birthDate": birth_date.isoformat()},
        {"resourceType": "Practitioner", "id": f"{key}-prescriber",
         "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}],
         "name": [{"family": "Example", "given": ["Pat"]}]},
        {"resourceType": "PractitionerRole", "id": f"{key}-prescriber-role",
         "practitioner": {"reference": f"Practitioner/{key}-prescriber"},
         "code": [{"text": "Psychiatrist"}]},
        {"resourceType": "Organization", "id": f"{key}-payer", "name": "Cigna Healthcare"},
        {"resourceType": "Coverage", "id": f"{key}-coverage", "status": "active", "beneficiary": subject,
         "subscriberId": f"{mrn}-M01", "payor": [{"reference": f"Organization/{key}-payer"}],
         "type": _coding("urn:oid:2.16.840.1.113883.3.221.5", "5", "PRIVATE HEALTH INSURANCE"),
         "period": {"start": (today - timedelta(days=400)).isoformat()}},
        {"resourceType": "Condition", "id": f"{key}-mdd", "subject": subject,
         "clinicalStatus": _coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"),
         "verificationStatus": _coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed",
                                       "Confirmed"),
         "code": _coding("http://hl7.org/fhir/sid/icd-10-cm", "F33.2",
                         "Major depressive disorder, recurrent severe without psychotic features"),
         "onsetDateTime": day(-30), "recordedDate": day(-20)},
        {"resourceType": "Condition", "id": f"{key}-snomed", "subject": subject,
         "code": _coding("http://snomed.info/sct", "35489007", "Depressive disorder"), "onsetDateTime": day(-400)},
    ]
    # Sertraline: a prescription and four 30-day dispenses with a two-day gap (adherence below 100%).
    out.append({"resourceType": "MedicationRequest", "id": f"{key}-sertraline", "status": "completed",
                "intent": "order", "subject": subject, "authoredOn": day(0),
                "requester": {"reference": f"PractitionerRole/{key}-prescriber-role"},
                "medicationCodeableConcept": _rx("36437", "sertraline"), "dosageInstruction": _daily(150)})
    for n, offset in enumerate((0, 30, 62, 90)):
        out.append({"resourceType": "MedicationDispense", "id": f"{key}-sertraline-fill{n}", "status": "completed",
                    "subject": subject, "whenHandedOver": day(offset),
                    "medicationCodeableConcept": _rx("36437", "sertraline 50 MG Oral Tablet"),
                    "quantity": {"value": 90}, "daysSupply": {"value": 30, "unit": "day"},
                    "dosageInstruction": _daily(None, tablets=3)})
    # Escitalopram: a statement with its period.
    out.append({"resourceType": "MedicationStatement", "id": f"{key}-escitalopram", "status": "completed",
                "subject": subject, "medicationCodeableConcept": _rx("321988", "escitalopram 20 MG Oral Tablet"),
                "effectivePeriod": {"start": day(150), "end": day(240)}, "dosage": _daily(20)})
    # Venlafaxine: only dispenses of a product whose code the reference does not list (mapped by its name); the
    # dose comes from quantity, strength and days' supply.
    for n, offset in enumerate((260, 290, 320)):
        out.append({"resourceType": "MedicationDispense", "id": f"{key}-venlafaxine-fill{n}",
                    "status": "completed", "subject": subject, "whenHandedOver": day(offset),
                    "medicationCodeableConcept": _rx("99999902", "venlafaxine 150 MG 24HR Extended Release Oral "
                                                     "Capsule"),
                    "quantity": {"value": 30}, "daysSupply": {"value": 30, "unit": "day"}})
    # Duloxetine: two overlapping prescriptions (a dose increase) form one trial at the higher dose.
    out.append({"resourceType": "MedicationRequest", "id": f"{key}-duloxetine-1", "status": "completed",
                "intent": "order", "subject": subject, "authoredOn": day(380),
                "medicationCodeableConcept": _rx("72625", "duloxetine"),
                "dosageInstruction": [{**_daily(60)[0], "timing": {"repeat": {
                    "frequency": 1, "period": 1, "periodUnit": "d",
                    "boundsPeriod": {"start": day(380), "end": day(440)}}}}]})
    out.append({"resourceType": "MedicationRequest", "id": f"{key}-duloxetine-2", "status": "completed",
                "intent": "order", "subject": subject, "authoredOn": day(430),
                "medicationCodeableConcept": _rx("72625", "duloxetine"),
                "dosageInstruction": [{**_daily(120)[0], "timing": {"repeat": {
                    "frequency": 1, "period": 1, "periodUnit": "d",
                    "boundsPeriod": {"start": day(430), "end": day(520)}}}}]})
    # Augmentation of duloxetine: aripiprazole, then lithium (two 300 mg tablets twice a day).
    out.append({"resourceType": "MedicationStatement", "id": f"{key}-aripiprazole", "status": "completed",
                "subject": subject, "medicationCodeableConcept": _rx("89013", "aripiprazole 5 MG Oral Tablet"),
                "effectivePeriod": {"start": day(450), "end": day(500)}, "dosage": _daily(5)})
    out.append({"resourceType": "MedicationRequest", "id": f"{key}-lithium", "status": "completed",
                "intent": "order", "subject": subject, "authoredOn": day(470),
                "medicationCodeableConcept": _rx("42351", "lithium carbonate 300 MG Oral Tablet"),
                "dosageInstruction": [{**_daily(None, tablets=2, per_day=2)[0], "timing": {"repeat": {
                    "frequency": 2, "period": 1, "periodUnit": "d",
                    "boundsPeriod": {"start": day(470), "end": day(520)}}}}]})
    # Bupropion with no dosage and no dispense: cannot become a trial without a dose.
    out.append({"resourceType": "MedicationStatement", "id": f"{key}-bupropion", "status": "completed",
                "subject": subject, "medicationCodeableConcept": _rx("42347", "bupropion"),
                "effectivePeriod": {"start": day(600), "end": day(650)}})
    # A drug outside the reference list.
    out.append({"resourceType": "MedicationRequest", "id": f"{key}-unknown", "status": "completed",
                "intent": "order", "subject": subject, "authoredOn": day(660),
                "medicationCodeableConcept": _rx(UNKNOWN_RXNORM, "examplamine 10 MG Oral Tablet"),
                "dosageInstruction": _daily(10)})
    # PHQ-9 series and one MADRS total named only by its text.
    for n, (offset, score) in enumerate(((0, 22), (120, 20), (380, 19), (700, 21))):
        out.append({"resourceType": "Observation", "id": f"{key}-phq9-{n}", "status": "final", "subject": subject,
                    "category": [_coding("http://terminology.hl7.org/CodeSystem/observation-category", "survey",
                                         "Survey")],
                    "code": _coding("http://loinc.org", "44261-6", "Patient Health Questionnaire 9 item (PHQ-9) "
                                    "total score [Reported]"),
                    "effectiveDateTime": day(offset), "valueQuantity": {"value": score, "unit": "{score}"}})
    out.append({"resourceType": "Observation", "id": f"{key}-madrs", "status": "final", "subject": subject,
                "code": {"text": "MADRS total score"}, "effectiveDateTime": day(700), "valueInteger": 34})
    # An inpatient stay for suicidal ideation, then ECT and a course of weekly psychotherapy.
    out.append({"resourceType": "Encounter", "id": f"{key}-stay", "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP",
                          "display": "inpatient encounter"}, "subject": subject,
                "period": {"start": day(540), "end": day(552)},
                "reasonCode": [_coding("http://hl7.org/fhir/sid/icd-10-cm", "R45.851", "Suicidal ideations")]})
    for n, offset in enumerate((541, 543, 545)):
        out.append({"resourceType": "Procedure", "id": f"{key}-ect-{n}", "status": "completed",
                    "subject": subject,
                    "code": _coding("http://www.ama-assn.org/go/cpt", "90870", "Electroconvulsive therapy"),
                    "performedDateTime": day(offset)})
    for n in range(8):
        out.append({"resourceType": "Procedure", "id": f"{key}-therapy-{n}", "status": "completed",
                    "subject": subject,
                    "code": _coding("http://www.ama-assn.org/go/cpt", "90834", "Psychotherapy, 45 minutes"),
                    "performedDateTime": day(560 + 7 * n)})
    out.append({"resourceType": "AllergyIntolerance", "id": f"{key}-allergy", "patient": subject,
                "clinicalStatus": _coding("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                                          "active", "Active"),
                "criticality": "high", "code": _coding(RXNORM, "70618", "penicillin"),
                "onsetDateTime": day(-200),
                "reaction": [{"manifestation": [_coding("http://snomed.info/sct", "247472004", "Hives")]}]})
    return out


def as_bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A collection Bundle holding the resources (fullUrl = the resource's relative address)."""
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r} for r in resources]}


def bulk_export_rows(*, patients: int, medications_per_patient: int, today: date) -> Iterator[dict[str, Any]]:
    """A bulk export's resources, patient by patient: each patient with `medications_per_patient` requests and
    dispenses of a few antidepressants (for the import benchmark)."""
    drugs = [("36437", "sertraline", 100), ("4493", "fluoxetine", 40), ("321988", "escitalopram", 20),
             ("39786", "venlafaxine", 150), ("72625", "duloxetine", 60)]
    for index in range(patients):
        key = f"bulk{index:06d}"
        subject = {"reference": f"Patient/{key}"}
        yield {"resourceType": "Patient", "id": key,
               "identifier": [{"system": "http://example.org/ehr/mrn", "value": f"BULK-{index:06d}"}],
               "name": [{"family": "Bulk", "given": ["Example"]}], "birthDate": "1980-01-01"}
        for n in range(medications_per_patient):
            code, name, mg = drugs[(index + n // 4) % len(drugs)]
            start = today - timedelta(days=900 - 30 * n)
            if n % 4 == 0:
                yield {"resourceType": "MedicationRequest", "id": f"{key}-rx{n}", "status": "completed",
                       "intent": "order", "subject": subject, "authoredOn": start.isoformat(),
                       "medicationCodeableConcept": _rx(code, name), "dosageInstruction": _daily(mg)}
            else:
                yield {"resourceType": "MedicationDispense", "id": f"{key}-fill{n}", "status": "completed",
                       "subject": subject, "whenHandedOver": start.isoformat(),
                       "medicationCodeableConcept": _rx(code, name), "quantity": {"value": 30},
                       "daysSupply": {"value": 30}, "dosageInstruction": _daily(mg)}


def write_ndjson(rows: Iterator[dict[str, Any]], folder: Path) -> list[Path]:
    """Write resources into one NDJSON file per resource type, as a bulk export does."""
    folder.mkdir(parents=True, exist_ok=True)
    handles: dict[str, Any] = {}
    try:
        for row in rows:
            kind = row["resourceType"]
            if kind not in handles:
                handles[kind] = (folder / f"{kind}.ndjson").open("w", encoding="utf-8")
            handles[kind].write(json.dumps(row, separators=(",", ":")) + "\n")
    finally:
        for handle in handles.values():
            handle.close()
    return sorted(folder / f"{kind}.ndjson" for kind in handles)
