"""PAS request bundle: case → bundle → parsed with fhir.resources → the same facts; structure and refusals."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlmodel import Session, func, select

from desk.errors import ValidationFailed
from desk.fhir import codes as c
from desk.fhir.pas import build_pas_bundle, claim_identifier, full_url
from desk.fhir.validate import FhirInvalid, validate_resource
from desk.models import AuditEvent, Coverage, Diagnosis, Patient, Prescriber, Site
from desk.prior_auth.checklist import attach_document, attest
from desk.prior_auth.request_schedule import label_request
from tests.desk.fhir.conftest import NOW, export_ready_case
from tests.desk.pdf.activekit import VISIBLE, active_content, everything
from tests.desk.pdf.pdfkit import pdftotext
from tests.factories import make_patient


def _parse(bundle: dict[str, Any]) -> tuple[Bundle, dict[str, Any]]:
    """Parse the JSON text as a payer would: fhir.resources model plus a fullUrl → resource map."""
    parsed = Bundle.model_validate_json(json.dumps(bundle))
    by_url = {e.fullUrl: e.resource for e in parsed.entry}
    return parsed, by_url


def _of(by_url: dict[str, Any], kind: str) -> list[Any]:
    return [r for r in by_url.values() if r.get_resource_type() == kind]


def test_round_trip_keeps_patient_coverage_diagnoses_codes_quantities_and_answers(session: Session) -> None:
    case = export_ready_case(session)
    attest(session, case_id=case.id, expected_version=case.version, criterion_id="trd-rems",
           note="REMS certificate on file", actor="tester")
    bundle = build_pas_bundle(session, case_id=case.id, now=NOW)
    parsed, by_url = _parse(bundle)
    patient_row = session.get(Patient, case.patient_id)
    coverage_row = session.get(Coverage, case.coverage_id)
    prescriber_row = session.get(Prescriber, patient_row.prescriber_id)
    site_row = session.get(Site, patient_row.site_id)

    assert parsed.type == "collection" and parsed.timestamp is not None and parsed.identifier.value
    claim = parsed.entry[0].resource
    assert claim.get_resource_type() == "Claim" and claim.use == "preauthorization"
    assert claim.identifier[0].value == claim_identifier(case.id)
    assert claim.priority.coding[0].code == "normal"

    patient = by_url[claim.patient.reference]
    assert patient.name[0].family == patient_row.last_name
    assert patient.birthDate == patient_row.dob and patient.gender == "female"
    coverage = by_url[claim.insurance[0].coverage.reference]
    assert coverage.subscriberId == coverage_row.member_id
    assert coverage.identifier[0].value == coverage_row.member_id
    assert coverage.beneficiary.reference == claim.patient.reference
    assert [k.value for k in coverage.class_fhir] == ["GRP-77"]
    assert by_url[claim.insurer.reference].name == "Fhir Health"
    assert by_url[coverage.payor[0].reference] is by_url[claim.insurer.reference]

    site = by_url[claim.provider.reference]
    assert {(i.system, i.value) for i in site.identifier} == {(c.NPI, site_row.npi), (c.EIN, "123456789")}
    role = by_url[claim.careTeam[0].provider.reference]
    practitioner = by_url[role.practitioner.reference]
    assert practitioner.identifier[0].system == c.NPI and practitioner.identifier[0].value == prescriber_row.npi
    assert role.specialty[0].coding[0].code == "2084P0800X"

    diagnoses = [(d.diagnosisCodeableConcept.coding[0].system, d.diagnosisCodeableConcept.coding[0].code)
                 for d in claim.diagnosis]
    assert diagnoses == [(c.ICD10CM, "F33.2"), (c.ICD10CM, "F41.1")]
    conditions = _of(by_url, "Condition")
    assert sorted(x.code.coding[0].code for x in conditions) == ["F33.2", "F41.1"]

    # One service item: the drug code per mg. The payer file lists G2083 but does not require it, and a session
    # code already includes the drug, so it is never added next to J0013.
    [drug] = claim.item
    assert drug.productOrService.coding[0].system == c.HCPCS and drug.productOrService.coding[0].code == "J0013"
    assert drug.quantity.value == 56 + 7 * 84 and drug.quantity.code == "FL"  # label day 1 at 56 mg, then 84 mg
    # Six months = 183 days (6 x 30.4375, the evaluator's month), so the window ends on 2027-06-01.
    assert str(drug.servicedPeriod.start) == "2026-12-01" and str(drug.servicedPeriod.end) == "2027-06-01"
    requested = next(e.valueReference.reference for e in drug.extension if e.url == c.EXT_REQUESTED_SERVICE)
    medication = by_url[requested]
    assert medication.medicationCodeableConcept.coding[0].system == c.NDC
    assert medication.medicationCodeableConcept.coding[0].code == "50458-028-03"
    assert medication.dispenseRequest.quantity.value == 2 + 7 * 3  # 56 mg on day 1, then 7 sessions x 3 devices
    certification = next(e.valueCodeableConcept.coding[0].code for e in drug.extension
                         if e.url == c.EXT_CERTIFICATION_TYPE)
    assert certification == "I"

    supported = [s.valueReference.reference for s in claim.supportingInfo]
    response = next(by_url[u] for u in supported if by_url[u].get_resource_type() == "QuestionnaireResponse")
    answers = {}
    for item in response.item[0].item:
        if item.answer:
            answers[item.linkId] = item.answer[0].valueCoding.code
    assert answers["trd-age"] == "met" and answers["trd-rems"] == "attested"
    rems = next(i for i in response.item[0].item if i.linkId == "trd-rems")
    notes = [a.valueString for n in rems.answer[0].item if n.linkId == "trd-rems.note" for a in n.answer]
    assert notes and "REMS certificate on file" in notes[0]
    assert response.subject.reference == claim.patient.reference


def test_every_reference_resolves_inside_the_bundle_and_every_support_is_referenced(session: Session) -> None:
    case = export_ready_case(session)
    bundle = build_pas_bundle(session, case_id=case.id, now=NOW)
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(urls) == len(set(urls)) and all(u.startswith("urn:uuid:") for u in urls)
    assert bundle["entry"][0]["fullUrl"] == full_url(case.id, "claim")
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("reference"), str):
                refs.append(node["reference"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(bundle)
    assert refs and set(refs) <= set(urls)
    claim = bundle["entry"][0]["resource"]
    direct = {claim["patient"]["reference"], claim["insurer"]["reference"], claim["provider"]["reference"],
              claim["careTeam"][0]["provider"]["reference"], claim["insurance"][0]["coverage"]["reference"]}
    supported = {s["valueReference"]["reference"] for s in claim["supportingInfo"]}
    requested = {e["valueReference"]["reference"] for e in claim["item"][0]["extension"] if "valueReference" in e}
    linked = direct | supported | requested
    for entry in bundle["entry"][1:]:
        kind = entry["resource"]["resourceType"]
        if kind in ("Condition", "QuestionnaireResponse", "DocumentReference", "MedicationRequest", "Patient",
                    "Coverage"):
            assert entry["fullUrl"] in linked, kind
    assert sorted(s["sequence"] for s in claim["supportingInfo"]) == list(range(1, len(supported) + 1))


def test_profiles_are_declared(session: Session) -> None:
    bundle = build_pas_bundle(session, case_id=export_ready_case(session).id, now=NOW)
    assert bundle["meta"]["profile"] == [c.PAS_REQUEST_BUNDLE]
    profiles = {e["resource"]["resourceType"]: e["resource"]["meta"]["profile"][0] for e in bundle["entry"]}
    assert profiles["Claim"] == c.PAS_CLAIM and profiles["Coverage"] == c.PAS_COVERAGE
    assert profiles["Patient"] == c.PAS_BENEFICIARY and profiles["MedicationRequest"] == c.PAS_MEDICATION_REQUEST


def test_dose_urgency_phase_and_date_choose_ndc_priority_certification_and_hcpcs(session: Session) -> None:
    case = export_ready_case(session, dose_mg=56, sessions=None, start_on=date(2025, 12, 20), urgency="expedited")
    case.phase = "continuation"
    session.add(case)
    session.flush()
    claim_bundle = build_pas_bundle(session, case_id=case.id, now=NOW)
    claim = claim_bundle["entry"][0]["resource"]
    medication = next(e["resource"] for e in claim_bundle["entry"]
                      if e["resource"]["resourceType"] == "MedicationRequest")
    assert medication["medicationCodeableConcept"]["coding"][0]["code"] == "50458-028-02"
    assert claim["priority"]["coding"][0]["code"] == "stat"
    # The payer file accepts S0013 until 2025-12-31; no administration code for 56 mg (G2082 is not listed).
    assert [i["productOrService"]["coding"][0]["code"] for i in claim["item"]] == ["S0013"]
    assert claim["item"][0]["quantity"]["value"] == 12 * 56  # the continuation default of 12 sessions, in mg
    certification = [e for e in claim["item"][0]["extension"] if e["url"] == c.EXT_CERTIFICATION_TYPE]
    assert certification[0]["valueCodeableConcept"]["coding"][0]["code"] == "R"


@pytest.mark.parametrize(
    ("sessions", "wording"),
    [
        (8, "Twice weekly (induction, weeks 1-4); duration 4 weeks"),
        (12, "Twice weekly weeks 1-4, then weekly weeks 5-8; duration 8 weeks"),
    ],
)
def test_dosage_wording_follows_the_sessions_requested_like_the_packet(session: Session, sessions: int,
                                                                       wording: str) -> None:
    case = export_ready_case(session, sessions=sessions)
    bundle = build_pas_bundle(session, case_id=case.id, now=NOW)
    medication = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "MedicationRequest")
    assert medication["dosageInstruction"][0]["text"] == (
        f"84 mg (3 devices) intranasally per session under direct supervision; {wording}")
    packet = label_request(indication="TRD", phase="initial", dose_mg=84, sessions=sessions, start=date(2026, 12, 1))
    assert wording == f"{packet.frequency}; duration {packet.duration}"


def test_attachments_travel_as_document_references(session: Session) -> None:
    case = export_ready_case(session)
    pdf = _tiny_pdf()
    item = attach_document(session, case_id=case.id, expected_version=case.version, title="Chart notes",
                           content_type="application/pdf", content=pdf, actor="tester", criterion_id="trd-age")
    item.content = everything()  # as if stored before uploads were made inert
    session.add(item)
    session.flush()
    bundle = build_pas_bundle(session, case_id=case.id, now=NOW)
    documents = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference"]
    assert len(documents) == 1
    import base64
    sent = base64.b64decode(documents[0]["content"][0]["attachment"]["data"])
    assert active_content(sent) == [] and VISIBLE in pdftotext(sent)
    assert documents[0]["content"][0]["attachment"]["size"] == len(sent)


def _tiny_pdf() -> bytes:
    from io import BytesIO

    from reportlab.pdfgen import canvas
    buffer = BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Synthetic chart note")
    page.save()
    return buffer.getvalue()


@pytest.mark.parametrize(("change", "field"), [
    ("site_npi", "site.npi"), ("no_prescriber", "prescriber"), ("prescriber_npi", "prescriber.npi"),
    ("member_id", "coverage.member_id"), ("no_diagnosis", "diagnoses"),
])
def test_missing_facts_are_named_and_nothing_is_written(session: Session, change: str, field: str) -> None:
    case = export_ready_case(session)
    patient = session.get(Patient, case.patient_id)
    if change == "site_npi":
        site = session.get(Site, patient.site_id)
        site.npi = ""
        session.add(site)
    elif change == "no_prescriber":
        patient.prescriber_id = None
        session.add(patient)
    elif change == "prescriber_npi":
        prescriber = session.get(Prescriber, patient.prescriber_id)
        prescriber.npi = "123"
        session.add(prescriber)
    elif change == "member_id":
        coverage = session.get(Coverage, case.coverage_id)
        coverage.member_id = " "
        session.add(coverage)
    else:
        for row in session.exec(select(Diagnosis).where(Diagnosis.patient_id == patient.id)).all():
            row.is_current = False
            session.add(row)
    session.flush()
    before = session.exec(select(func.count()).select_from(AuditEvent)).one()
    with pytest.raises(ValidationFailed) as caught:
        build_pas_bundle(session, case_id=case.id, now=NOW)
    assert caught.value.for_field(field)
    assert session.exec(select(func.count()).select_from(AuditEvent)).one() == before


def test_a_patient_without_a_case_is_not_found(session: Session) -> None:
    make_patient(session)
    from desk.errors import NotFound
    with pytest.raises(NotFound, match="#9999"):
        build_pas_bundle(session, case_id=9999, now=NOW)


def test_structural_validation_rejects_broken_resources() -> None:
    with pytest.raises(FhirInvalid, match=r"Claim\.(insurer|patient|type): required"):
        validate_resource({"resourceType": "Claim", "status": "active", "use": "preauthorization"})
    with pytest.raises(FhirInvalid, match="birthDate"):
        validate_resource({"resourceType": "Patient", "birthDate": "1980-13-45"})
    with pytest.raises(FhirInvalid, match="not a FHIR R4 resource"):
        validate_resource({"resourceType": "Spaceship"})
    with pytest.raises(FhirInvalid, match="expected 'Bundle'"):
        validate_resource({"resourceType": "Patient"}, expected="Bundle")
