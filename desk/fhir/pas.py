"""A prior-authorization case as a Da Vinci PAS request Bundle (FHIR R4 JSON).

Follows the PAS STU 2.1 request profiles: the Bundle is a `collection` with an identifier and timestamp
and the Claim first; every resource has a `urn:uuid:` fullUrl (stable per case, so a ClaimResponse can
point back at the Claim); every supporting resource is referenced from `Claim.supportingInfo`.
The codes are the request's billing decision (desk/prior_auth/billing.py). The requested service is one
Claim item: either the drug code billed per mg (J0013, or S0013 before 2026, quantity in units = mg over all
sessions) or the session code that includes the drug (G2082/G2083, quantity in visits), never both. Its PAS
requestedService extension points at a MedicationRequest carrying the NDC kit for the dose and the devices
requested. Observation codes the payer file names (99415/99416) follow as items of their own.
"""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from desk.errors import FieldError, ValidationFailed
from desk.fhir import codes as c
from desk.fhir.questionnaire import NoCriteria, evaluation_response
from desk.fhir.validate import validate_resource
from desk.models import Coverage, Diagnosis, Patient, Prescriber, Site, utcnow
from desk.models.prior_auth import PriorAuthCase
from desk.pdf.inspect import PdfRejected
from desk.pdf.sanitize import sanitize_pdf
from desk.policies.schema import Policy
from desk.prior_auth.billing import BillingDecision, decide_billing
from desk.prior_auth.cases import case_record, get_case
from desk.prior_auth.checklist import attachments, case_checklist
from desk.prior_auth.clocks import local_today
from desk.prior_auth.compose import sessions_requested
from desk.prior_auth.payer_rules import policy_for
from desk.prior_auth.request_schedule import label_request
from desk.reference.spravato import spravato
from desk.settings import load_settings

DEVICE_MG = spravato().device.mg
DRUG_TEXT = f"SPRAVATO (esketamine) nasal spray, {DEVICE_MG} mg per device"
DRUG_CODES = tuple(c.code for c in spravato().codes_of("drug"))
_NAMESPACE = uuid.UUID("5b0f6b8e-3f53-4c5e-9a57-6d1b2f0c7e21")


def full_url(case_id: int, kind: str, key: int | str = "") -> str:
    """The stable `urn:uuid:` of one resource of a case's bundle."""
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'pa-case/{case_id}/{kind}/{key}')}"


def claim_identifier(case_id: int) -> str:
    """The Claim's business identifier value (the request's trace number)."""
    return f"PA-{case_id}"


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def claim_identifier_system(site: Site) -> str:
    """X12 TRN03 style 'urn:trnorg:1<EIN>' when the site has a TIN; else the desk's own system."""
    tin = _digits(site.tin)
    return f"urn:trnorg:1{tin}" if len(tin) == 9 else f"{c.DESK}:pa-request"


def case_billing(case: PriorAuthCase, *, plan_type: str, policy: Policy | None, on: date) -> BillingDecision:
    """The request's billing decision (the same one the letters and the request form print)."""
    planned = label_request(indication=case.indication, phase=case.phase, dose_mg=case.dose_mg,
                            sessions=sessions_requested(case), start=on)
    return decide_billing(plan_type=plan_type, policy=policy, dose_mg=case.dose_mg, service_date=on,
                          session_doses=tuple(d.mg for d in planned.doses))


@dataclass(frozen=True)
class _Facts:
    case: PriorAuthCase
    patient: Patient
    coverage: Coverage
    site: Site
    prescriber: Prescriber
    diagnoses: list[Diagnosis]
    policy: Policy | None


def _facts(session: Session, case_id: int) -> _Facts:
    case = get_case(session, case_id=case_id)
    patient, coverage, site, prescriber = case_record(session, case=case)
    diagnoses = list(session.exec(select(Diagnosis).where(Diagnosis.patient_id == patient.id,
                                                          Diagnosis.is_current == True)  # noqa: E712
                                  .order_by(col(Diagnosis.id))).all())
    errors: list[FieldError] = []
    if site is None or len(_digits(site.npi)) != 10:
        errors.append(FieldError("site.npi", "the clinic site needs its 10-digit NPI (Admin → Sites)"))
    if prescriber is None:
        errors.append(FieldError("prescriber", "the patient has no prescriber on record"))
    elif len(_digits(prescriber.npi)) != 10:
        errors.append(FieldError("prescriber.npi", "the prescriber needs a 10-digit NPI"))
    if not coverage.member_id.strip():
        errors.append(FieldError("coverage.member_id", "the coverage has no member ID"))
    if not diagnoses:
        errors.append(FieldError("diagnoses", "the patient has no current diagnosis on record"))
    if spravato().kit(case.dose_mg) is None:
        errors.append(FieldError("dose_mg", "the request needs a dose of 56 mg or 84 mg"))
    if errors:
        raise ValidationFailed(errors)
    assert site is not None and prescriber is not None
    return _Facts(case, patient, coverage, site, prescriber, diagnoses, policy_for(case.payer_id))


def _coding(system: str, code: str, display: str = "") -> dict[str, str]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def _concept(system: str, code: str, display: str = "") -> dict[str, Any]:
    return {"coding": [_coding(system, code, display)]}


def _address(line: str, city: str, state: str, zip_code: str, line2: str = "") -> list[dict[str, Any]]:
    if not any((line, line2, city, state, zip_code)):
        return []
    address: dict[str, Any] = {"country": "US"}
    if line or line2:
        address["line"] = [part for part in (line, line2) if part]
    for key, value in (("city", city), ("state", state), ("postalCode", zip_code)):
        if value:
            address[key] = value
    return [address]


def _phone(*values: str) -> list[dict[str, str]]:
    return [{"system": "phone", "value": v} for v in values if v]


def _patient(f: _Facts, rid: str) -> dict[str, Any]:
    p = f.patient
    data: dict[str, Any] = {
        "resourceType": "Patient", "id": rid, "meta": {"profile": [c.PAS_BENEFICIARY]},
        "identifier": [
            {"type": _concept(c.V2_IDENTIFIER_TYPE, "MR"), "system": f"{c.MRN_SYSTEM}:site-{p.site_id}",
             "value": p.mrn},
            {"type": _concept(c.V2_IDENTIFIER_TYPE, "MB"), "system": f"{c.MEMBER_ID_SYSTEM}:{f.coverage.payer_id}",
             "value": f.coverage.member_id},
        ],
        "name": [{"family": p.last_name, "given": [g for g in (p.first_name, p.middle_initial) if g]}],
        "gender": c.GENDER_BY_SEX.get(p.sex, "unknown"),
        "birthDate": p.dob.isoformat(),
    }
    if address := _address(p.address_line, p.city, p.state, p.zip_code):
        data["address"] = address
    if phone := _phone(p.phone):
        data["telecom"] = phone
    return data


def _payer(f: _Facts, rid: str) -> dict[str, Any]:
    name = f.policy.payer if f.policy else f.case.payer_id
    return {
        "resourceType": "Organization", "id": rid, "meta": {"profile": [c.PAS_INSURER]}, "active": True,
        "identifier": [{"system": c.PAYER_ID_SYSTEM, "value": f.case.payer_id}],
        "type": [_concept(c.X12_ENTITY, "PR", "Payer")], "name": name,
    }


def _site(f: _Facts, rid: str) -> dict[str, Any]:
    s = f.site
    identifiers = [{"system": c.NPI, "value": _digits(s.npi)}]
    if len(_digits(s.tin)) == 9:
        identifiers.append({"system": c.EIN, "value": _digits(s.tin)})
    data: dict[str, Any] = {
        "resourceType": "Organization", "id": rid, "meta": {"profile": [c.PAS_REQUESTOR]}, "active": True,
        "identifier": identifiers, "type": [_concept(c.X12_ENTITY, "1P", "Provider")], "name": s.name,
    }
    if address := _address(s.address_line, s.city, s.state, s.zip_code, s.address_line2):
        data["address"] = address
    telecom = _phone(s.phone) + ([{"system": "fax", "value": s.fax}] if s.fax else [])
    if telecom:
        data["telecom"] = telecom
        data["contact"] = [{"name": {"text": s.authorized_representative or s.name}, "telecom": telecom}]
    return data


def _practitioner(f: _Facts, rid: str) -> dict[str, Any]:
    pr = f.prescriber
    data: dict[str, Any] = {
        "resourceType": "Practitioner", "id": rid, "meta": {"profile": [c.PAS_PRACTITIONER]},
        "identifier": [{"system": c.NPI, "value": _digits(pr.npi)}],
        "name": [{"family": pr.last_name, "given": [pr.first_name]}
                 | ({"suffix": [pr.credentials]} if pr.credentials else {})],
    }
    telecom = _phone(pr.phone) + ([{"system": "fax", "value": pr.fax}] if pr.fax else [])
    if telecom:
        data["telecom"] = telecom
    return data


def _role(f: _Facts, rid: str, practitioner: str, site: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "resourceType": "PractitionerRole", "id": rid, "meta": {"profile": [c.PAS_PRACTITIONER_ROLE]},
        "practitioner": {"reference": practitioner}, "organization": {"reference": site},
    }
    if taxonomy := c.TAXONOMY_BY_SPECIALTY.get(f.prescriber.specialty):
        data["specialty"] = [_concept(c.NUCC_TAXONOMY, *taxonomy)]
    return data


def _coverage(f: _Facts, rid: str, patient: str, payer: str) -> dict[str, Any]:
    cv = f.coverage
    data: dict[str, Any] = {
        "resourceType": "Coverage", "id": rid, "meta": {"profile": [c.PAS_COVERAGE]},
        "identifier": [{"type": _concept(c.V2_IDENTIFIER_TYPE, "MB"),
                        "system": f"{c.MEMBER_ID_SYSTEM}:{cv.payer_id}", "value": cv.member_id}],
        "status": "active",
        "subscriberId": cv.member_id,
        "beneficiary": {"reference": patient},
        # The record holds no subscriber other than the patient (see docs/fhir.md, "Not supported").
        "relationship": {"coding": [_coding(c.SUBSCRIBER_RELATIONSHIP, "self"), _coding(c.X12_RELATIONSHIP, "18")]},
        "payor": [{"reference": payer}],
        "order": {"primary": 1, "secondary": 2, "tertiary": 3}.get(cv.priority, 1),
    }
    if cv.start_date or cv.end_date:
        data["period"] = {k: v.isoformat() for k, v in (("start", cv.start_date), ("end", cv.end_date)) if v}
    classes = [("group", cv.group_number), ("rxbin", cv.rx_bin), ("rxpcn", cv.rx_pcn), ("rxgroup", cv.rx_group)]
    if kept := [{"type": _concept(c.COVERAGE_CLASS, kind), "value": value} for kind, value in classes if value]:
        data["class"] = kept
    return data


def _condition(d: Diagnosis, rid: str, patient: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "resourceType": "Condition", "id": rid, "meta": {"profile": [c.US_CORE_CONDITION]},
        "clinicalStatus": _concept(c.CONDITION_CLINICAL, "active"),
        "verificationStatus": _concept(c.CONDITION_VERIFICATION, "confirmed"),
        "category": [_concept(c.CONDITION_CATEGORY, "problem-list-item")],
        "code": {"coding": [_coding(c.ICD10CM, d.icd10.strip().upper(), d.description)]},
        "subject": {"reference": patient},
    }
    if d.episode_start:
        data["onsetDateTime"] = d.episode_start.isoformat()
    if d.diagnosed_on:
        data["recordedDate"] = d.diagnosed_on.isoformat()
    return data


def _document_info(report_type: str, description: str) -> dict[str, Any]:
    return {"url": c.EXT_DOCUMENT_INFORMATION, "extension": [
        {"url": "reportTypeCode", "valueCodeableConcept": _concept(c.X12_REPORT_TYPE, report_type)},
        {"url": "transmissionMethod", "valueCodeableConcept": _concept(c.X12_TRANSMISSION, "EL")},
        {"url": "description", "valueString": description},
    ]}


def build_pas_bundle(session: Session, *, case_id: int, now: datetime | None = None,
                     include_documents: bool = True) -> dict[str, Any]:
    """The case as a PAS request Bundle (dict of FHIR JSON), validated structurally before it is returned."""
    f = _facts(session, case_id)
    case = f.case
    assert case.id is not None
    moment = (now or utcnow()).replace(microsecond=0)
    today = local_today(load_settings().timezone, now=moment)
    start = case.start_on or today
    sessions = sessions_requested(case)
    devices_per_session = case.dose_mg // DEVICE_MG
    urls = {k: full_url(case.id, k) for k in ("claim", "patient", "coverage", "payer", "site", "practitioner",
                                              "role", "medication", "questionnaire-response")}
    ids = {k: f"pa{case.id}-{k}"[:64] for k in urls}
    entries: list[tuple[str, dict[str, Any]]] = [
        (urls["patient"], _patient(f, ids["patient"])),
        (urls["coverage"], _coverage(f, ids["coverage"], urls["patient"], urls["payer"])),
        (urls["payer"], _payer(f, ids["payer"])),
        (urls["site"], _site(f, ids["site"])),
        (urls["practitioner"], _practitioner(f, ids["practitioner"])),
        (urls["role"], _role(f, ids["role"], urls["practitioner"], urls["site"])),
    ]
    supporting: list[dict[str, Any]] = []

    def support(url: str, report_type: str, description: str) -> None:
        supporting.append({"sequence": len(supporting) + 1, "category": _concept(
            "http://hl7.org/fhir/us/davinci-pas/CodeSystem/PASTempCodes", "additionalInformation"),
            "extension": [_document_info(report_type, description)], "valueReference": {"reference": url}})

    diagnosis_entries = []
    for index, diagnosis in enumerate(f.diagnoses, start=1):
        url = full_url(case.id, "condition", diagnosis.id or index)
        entries.append((url, _condition(diagnosis, f"pa{case.id}-condition-{diagnosis.id}", urls["patient"])))
        support(url, "05", "Treatment diagnosis")
        entry: dict[str, Any] = {
            "sequence": index,
            "diagnosisCodeableConcept": _concept(c.ICD10CM, diagnosis.icd10.strip().upper(), diagnosis.description),
            "type": [_concept(c.X12_DIAGNOSIS_TYPE, "ABK" if index == 1 else "ABF")],
        }
        if diagnosis.diagnosed_on:
            entry["extension"] = [{"url": c.EXT_DIAGNOSIS_RECORDED_DATE,
                                   "valueDate": diagnosis.diagnosed_on.isoformat()}]
        diagnosis_entries.append(entry)

    checklist = case_checklist(session, case=case, as_of=today)
    try:
        response = evaluation_response(checklist, subject=urls["patient"], author=urls["role"], authored=moment,
                                       resource_id=ids["questionnaire-response"])
    except NoCriteria:
        response = None
    if response is not None:
        response["meta"] = {"profile": [c.US_CORE_QUESTIONNAIRE_RESPONSE]}
        entries.append((urls["questionnaire-response"], response))
        support(urls["questionnaire-response"], "OZ", f"Payer criteria checklist ({checklist.policy_id})")
    if include_documents:
        for item in attachments(session, case_id=case.id):
            if not item.include_in_packet:
                continue
            url = full_url(case.id, "document", item.id or 0)
            try:
                data = sanitize_pdf(item.content)  # what leaves the desk is inert, even a document stored before
            except PdfRejected as exc:
                raise ValidationFailed([FieldError(f"attachment {item.id}", str(exc))]) from None
            entries.append((url, {
                "resourceType": "DocumentReference", "id": f"pa{case.id}-document-{item.id}",
                "meta": {"profile": [c.PAS_DOCUMENT_REFERENCE]}, "status": "current",
                "type": {"text": item.title}, "subject": {"reference": urls["patient"]},
                "date": item.uploaded_at.isoformat(timespec="seconds") if item.uploaded_at.tzinfo
                else item.uploaded_at.replace(tzinfo=moment.tzinfo).isoformat(timespec="seconds"),
                "content": [{"attachment": {"contentType": item.content_type, "title": item.title,
                                            "data": base64.b64encode(data).decode("ascii"),
                                            "size": len(data)}}],
            }))
            support(url, "M1", f"Medical record attachment{' for ' + item.criterion_id if item.criterion_id else ''}")

    billing = case_billing(case, plan_type=f.coverage.plan_type, policy=f.policy, on=start)
    kit = spravato().kit(case.dose_mg)
    assert kit is not None
    ndc = kit.ndc
    # The same label-schedule wording as the paper request, for the sessions actually requested.
    planned = label_request(indication=case.indication, phase=case.phase, dose_mg=case.dose_mg, sessions=sessions,
                            start=start)
    frequency, duration = planned.frequency, planned.duration
    entries.append((urls["medication"], {
        "resourceType": "MedicationRequest", "id": ids["medication"], "meta": {"profile": [c.PAS_MEDICATION_REQUEST]},
        "status": "active", "intent": "order",
        "medicationCodeableConcept": {"coding": [_coding(c.NDC, ndc, f"{DRUG_TEXT}, {case.dose_mg} mg kit "
                                                                   f"({devices_per_session} devices)")],
                                      "text": DRUG_TEXT},
        "subject": {"reference": urls["patient"]}, "authoredOn": moment.isoformat(timespec="seconds"),
        "requester": {"reference": urls["role"]},
        "reasonCode": [_concept(c.ICD10CM, d.icd10.strip().upper()) for d in f.diagnoses],
        "dosageInstruction": [{
            "text": f"{case.dose_mg} mg ({devices_per_session} devices) intranasally per session under direct "
                    f"supervision; {frequency}; duration {duration}",
            "route": {"text": "nasal"},
            "doseAndRate": [{"doseQuantity": {"value": case.dose_mg, "unit": "mg", "system": c.UCUM, "code": "mg"}}],
        }],
        "dispenseRequest": {"quantity": {"value": planned.devices, "unit": "device"},
                            "numberOfRepeatsAllowed": 0},
    }))

    end = _period_end(f, start)
    serviced: dict[str, Any] = {"servicedPeriod": {"start": start.isoformat(), "end": end.isoformat()}} if end else \
        {"servicedDate": start.isoformat()}
    category = _concept(c.X12_SERVICE_TYPE, "88" if f.coverage.benefit == "pharmacy" else "1")
    common_ext = [
        {"url": c.EXT_REQUEST_TYPE,
         "valueCodeableConcept": _concept(c.X12_REQUEST_TYPE, "HS", "Health Services Review")},
        {"url": c.EXT_CERTIFICATION_TYPE, "valueCodeableConcept": _concept(
            c.X12_CERTIFICATION_TYPE, c.CERTIFICATION_BY_PHASE[case.phase])},
    ]
    visits = {"value": sessions, "unit": "visits", "system": c.X12_QUANTITY, "code": c.QUANTITY_VISITS}
    service = billing.service
    if service.unit == "mg":
        # The drug code bills per mg: the units of every requested session (the label's first dose included).
        quantity = {"value": billing.total_units, "unit": "units", "system": c.X12_QUANTITY, "code": c.QUANTITY_UNITS}
    else:
        quantity = {**visits, "value": billing.sessions - billing.other_sessions}
    location = _concept(c.PLACE_OF_SERVICE, "11", "Office")
    diagnosis_sequence = list(range(1, len(diagnosis_entries) + 1))
    items: list[dict[str, Any]] = [{
        "sequence": 1,
        "extension": [*common_ext,
                      {"url": c.EXT_REQUESTED_SERVICE, "valueReference": {"reference": urls["medication"]}}],
        "careTeamSequence": [1], "diagnosisSequence": diagnosis_sequence,
        "category": category, "productOrService": _concept(c.HCPCS if service.system == "HCPCS" else c.CPT,
                                                           service.code, service.includes),
        **serviced, "locationCodeableConcept": location, "quantity": quantity,
    }]
    if billing.other_session_code is not None and billing.other_sessions:
        # The label's first session at a dose the main session code does not cover (G2082 for 56 mg).
        items.append({
            "sequence": len(items) + 1, "extension": list(common_ext), "careTeamSequence": [1],
            "diagnosisSequence": diagnosis_sequence, "category": category,
            "productOrService": _concept(c.HCPCS, billing.other_session_code.code,
                                         billing.other_session_code.includes),
            **serviced, "locationCodeableConcept": location, "quantity": {**visits, "value": billing.other_sessions},
        })
    for extra in billing.observation:
        items.append({
            "sequence": len(items) + 1, "extension": list(common_ext), "careTeamSequence": [1],
            "diagnosisSequence": diagnosis_sequence, "category": category,
            "productOrService": _concept(c.CPT if extra.system == "CPT" else c.HCPCS, extra.code),
            **serviced, "locationCodeableConcept": location, "quantity": dict(visits),
        })
    claim: dict[str, Any] = {
        "resourceType": "Claim", "id": ids["claim"], "meta": {"profile": [c.PAS_CLAIM]},
        "identifier": [{"system": claim_identifier_system(f.site), "value": claim_identifier(case.id)}],
        "status": "active",
        "type": _concept(c.CLAIM_TYPE, "pharmacy" if f.coverage.benefit == "pharmacy" else "professional"),
        "use": "preauthorization",
        "patient": {"reference": urls["patient"]},
        "created": moment.isoformat(timespec="seconds"),
        "insurer": {"reference": urls["payer"]},
        "provider": {"reference": urls["site"]},
        "priority": _concept(c.PROCESS_PRIORITY, "stat" if case.urgency == "expedited" else "normal"),
        "careTeam": [{"extension": [{"url": c.EXT_CARE_TEAM_SCOPE, "valueBoolean": True}], "sequence": 1,
                      "provider": {"reference": urls["role"]},
                      "role": _concept(c.X12_ENTITY, "DK", "Ordering Physician")}],
        "diagnosis": diagnosis_entries,
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": urls["coverage"]}}],
        "item": items,
    }
    if supporting:
        claim["supportingInfo"] = supporting
    bundle = {
        "resourceType": "Bundle",
        "meta": {"profile": [c.PAS_REQUEST_BUNDLE]},
        "identifier": {"system": claim_identifier_system(f.site),
                       "value": f"{claim_identifier(case.id)}-{moment:%Y%m%d%H%M%S}"},
        "type": "collection",
        "timestamp": moment.isoformat(timespec="seconds"),
        "entry": [{"fullUrl": urls["claim"], "resource": claim}]
        + [{"fullUrl": url, "resource": resource} for url, resource in entries],
    }
    validate_resource(bundle, expected="Bundle")
    return bundle


def _period_end(f: _Facts, start: date) -> date | None:
    if f.policy is None:
        return None
    variant = f.policy.variant(f.case.indication.lower(), f.case.phase, f.coverage.benefit)
    if variant is None or variant.approval.length is None:
        return None
    length = variant.approval.length
    days = length.value if length.unit == "days" else round(length.value * 30.4375)
    return start + timedelta(days=days - 1)
