"""Import a Da Vinci PAS ClaimResponse: check it belongs to the case, read the decision, move the case.

Accepted input: a ClaimResponse, or a PAS response Bundle whose entries hold one ClaimResponse. The decision
is the X12 HCR01 review action of the drug item (item 1 of the desk's request): A1/A2/A6 approve, A3 denies,
A4 pends. Everything is checked before the case changes; on any problem nothing is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from desk.audit import record_event
from desk.errors import DeskError
from desk.fhir import codes as c
from desk.fhir.pas import DEVICE_MG, DRUG_CODES, case_billing, claim_identifier, full_url
from desk.fhir.validate import FhirInvalid, validate_resource
from desk.models import Coverage, Patient
from desk.models.prior_auth import STATUS_LABELS, PriorAuthCase
from desk.prior_auth import lifecycle
from desk.prior_auth.cases import ENTITY, get_case
from desk.prior_auth.clocks import local_today
from desk.prior_auth.compose import sessions_requested
from desk.prior_auth.payer_rules import policy_for
from desk.records import check_version
from desk.settings import load_settings

MAX_BYTES = 5 * 1024 * 1024


class ClaimResponseRejected(DeskError):
    """The ClaimResponse cannot be applied to the case; nothing was changed."""


@dataclass(frozen=True)
class ClaimResponseApplied:
    """What the import did to the case."""

    case_id: int
    decision: str
    status: str
    auth_number: str = ""
    start_on: date | None = None
    end_on: date | None = None
    approved_sessions: int | None = None
    approved_devices: int | None = None
    reason: str = ""

    def summary(self) -> dict[str, Any]:
        return {"case": self.case_id, "decision": self.decision, "status": self.status,
                "auth_number": self.auth_number or None,
                "start_on": self.start_on.isoformat() if self.start_on else None,
                "end_on": self.end_on.isoformat() if self.end_on else None,
                "approved_sessions": self.approved_sessions, "approved_devices": self.approved_devices,
                "reason": self.reason or None}


def _load(payload: bytes | str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    if isinstance(payload, bytes):
        if len(payload) > MAX_BYTES:
            raise ClaimResponseRejected(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
        try:
            payload = payload.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ClaimResponseRejected("The file is not UTF-8 text; expected a FHIR ClaimResponse in JSON.") from None
    try:
        data = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise ClaimResponseRejected(f"The file is not JSON (line {exc.lineno}, column {exc.colno}): expected a "
                                    "FHIR ClaimResponse.") from None
    if not isinstance(data, dict):
        raise ClaimResponseRejected("The file holds JSON but not a FHIR resource (expected an object).")
    kind = data.get("resourceType")
    if kind == "Bundle":
        try:
            validate_resource(data, expected="Bundle")
        except FhirInvalid as exc:
            raise ClaimResponseRejected(f"The response Bundle is not valid FHIR: {exc}") from None
        entries = [e for e in data.get("entry", []) if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
        responses = [e["resource"] for e in entries if e["resource"].get("resourceType") == "ClaimResponse"]
        if len(responses) != 1:
            raise ClaimResponseRejected(f"The Bundle holds {len(responses)} ClaimResponse resources; expected one.")
        others = {e["fullUrl"]: e["resource"] for e in entries if isinstance(e.get("fullUrl"), str)}
        for e in entries:
            res = e["resource"]
            if isinstance(res.get("id"), str):
                others.setdefault(f"{res.get('resourceType')}/{res['id']}", res)
        data = responses[0]
    elif kind != "ClaimResponse":
        shown = kind if isinstance(kind, str) else "missing"
        raise ClaimResponseRejected(f"resourceType is {shown!r}; expected 'ClaimResponse' (or a PAS response Bundle).")
    else:
        others = {}
    try:
        validate_resource(data, expected="ClaimResponse")
    except FhirInvalid as exc:
        raise ClaimResponseRejected(f"The ClaimResponse is not valid FHIR: {exc}") from None
    return data, others


def _ext(node: dict[str, Any], url: str) -> list[dict[str, Any]]:
    return [e for e in node.get("extension", []) if isinstance(e, dict) and e.get("url") == url]


def _sub(ext: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [e for e in ext.get("extension", []) if isinstance(e, dict) and e.get("url") == name]


def _codes(concept: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    if not concept:
        return []
    return [(str(x.get("system", "")), str(x.get("code", "")), str(x.get("display", "")))
            for x in concept.get("coding", []) if isinstance(x, dict)]


def _parse_date(value: Any, field: str) -> date:
    if not isinstance(value, str) or not value:
        raise ClaimResponseRejected(f"{field}: a date is required.")
    try:
        return date.fromisoformat(value[:10]) if len(value) >= 10 else date.fromisoformat(value)
    except ValueError:
        raise ClaimResponseRejected(f"{field}: {value!r} is not a full date (YYYY-MM-DD).") from None


@dataclass(frozen=True)
class _Action:
    sequence: int | None
    code: str
    number: str
    reasons: tuple[str, ...]


def _actions(node: dict[str, Any], sequence: int | None) -> list[_Action]:
    found = []
    for adjudication in node.get("adjudication", []) or []:
        for review in _ext(adjudication, c.EXT_REVIEW_ACTION):
            codes = [code for ext in _sub(review, "code") for _s, code, _d in _codes(ext.get("valueCodeableConcept"))]
            number = next((str(n.get("valueString")) for n in _sub(review, "number") if n.get("valueString")), "")
            reasons = tuple(d or code for ext in _sub(review, "reasonCode")
                            for _s, code, d in _codes(ext.get("valueCodeableConcept")))
            reasons += tuple(str(ext["valueCodeableConcept"]["text"]) for ext in _sub(review, "reasonCode")
                             if isinstance(ext.get("valueCodeableConcept"), dict)
                             and ext["valueCodeableConcept"].get("text"))
            for code in codes:
                found.append(_Action(sequence, code, number, reasons))
    return found


def _check_request(data: dict[str, Any], case: PriorAuthCase) -> None:
    assert case.id is not None
    request = data.get("request")
    if not isinstance(request, dict):
        raise ClaimResponseRejected("request is missing: the response must point at the desk's Claim "
                                    f"({claim_identifier(case.id)}).")
    reference = str(request.get("reference", ""))
    identifier = request.get("identifier") if isinstance(request.get("identifier"), dict) else {}
    ours = {full_url(case.id, "claim"), f"Claim/pa{case.id}-claim"}
    if reference in ours or reference.endswith(f"/Claim/pa{case.id}-claim") or (
            identifier and identifier.get("value") == claim_identifier(case.id)):
        return
    raise ClaimResponseRejected(f"This response answers another request, not case #{case.id} "
                                f"(expected request {claim_identifier(case.id)}).")


def _check_patient(data: dict[str, Any], others: dict[str, dict[str, Any]], case: PriorAuthCase,
                   coverage: Coverage) -> None:
    assert case.id is not None
    raw = data.get("patient")
    ref: dict[str, Any] = raw if isinstance(raw, dict) else {}
    reference = str(ref.get("reference", ""))
    ids: list[str] = []
    if isinstance(ref.get("identifier"), dict) and ref["identifier"].get("value"):
        ids.append(str(ref["identifier"]["value"]))
    resolved = others.get(reference)
    if resolved and resolved.get("resourceType") == "Patient":
        ids.extend(str(i.get("value")) for i in resolved.get("identifier", []) if isinstance(i, dict))
    if reference in (full_url(case.id, "patient"), f"Patient/pa{case.id}-patient") and not ids:
        return
    if coverage.member_id in ids:
        return
    raise ClaimResponseRejected(f"This response is for another patient: its patient does not match the member "
                                f"ID or record of case #{case.id}.")


def _decision(data: dict[str, Any], case: PriorAuthCase) -> tuple[str, _Action | None, dict[str, Any] | None]:
    outcome = data.get("outcome")
    if outcome == "error":
        errors = [code for e in data.get("error", []) or [] for _s, code, _d in _codes(e.get("code"))]
        raise ClaimResponseRejected("The payer's response reports an error (X12 codes: "
                                    f"{', '.join(errors) or 'none given'}); fix the request and submit again.")
    if outcome not in ("complete", "partial", "queued"):
        raise ClaimResponseRejected(f"outcome is {outcome!r}; expected complete, partial or queued.")
    items = [i for i in data.get("item", []) or [] if isinstance(i, dict)]
    for item in items:
        if item.get("itemSequence") not in (1, 2):
            raise ClaimResponseRejected(f"item.itemSequence {item.get('itemSequence')} is not an item of the "
                                        "desk's request (1 = the drug, 2 = administration).")
    drug = next((i for i in items if i.get("itemSequence") == 1), None)
    actions = _actions(drug, 1) if drug else []
    if not actions:
        actions = _actions(data, None)
    if not actions:
        if outcome == "queued":
            return "pended", None, drug
        raise ClaimResponseRejected("No review action (X12 HCR01 code A1/A2/A6 approved, A3 denied, A4 pended) on "
                                    "the drug item or the response.")
    codes = {a.code for a in actions}
    if len(codes) > 1:
        raise ClaimResponseRejected(f"The drug item carries conflicting review actions ({', '.join(sorted(codes))}).")
    action = actions[0]
    if action.code in c.REVIEW_APPROVED:
        return "approved", action, drug
    if action.code in c.REVIEW_DENIED:
        return "denied", action, drug
    if action.code in c.REVIEW_PENDED:
        return "pended", action, drug
    raise ClaimResponseRejected(f"Review action {action.code!r} is not one the desk can apply (A1, A2, A6 approved; "
                                "A3 denied; A4 pended); record the payer's answer by hand.")


def _period(data: dict[str, Any], drug: dict[str, Any] | None) -> tuple[date, date]:
    period = data.get("preAuthPeriod")
    field = "preAuthPeriod"
    if not isinstance(period, dict) and drug is not None:
        for ext in _ext(drug, c.EXT_ITEM_PREAUTH_PERIOD):
            period, field = ext.get("valuePeriod"), "item.extension(itemPreAuthPeriod)"
    if not isinstance(period, dict):
        raise ClaimResponseRejected("preAuthPeriod is missing: an approval needs the authorization's start and end.")
    start = _parse_date(period.get("start"), f"{field}.start")
    end = _parse_date(period.get("end"), f"{field}.end")
    if end < start:
        raise ClaimResponseRejected(f"{field}: the end ({end.isoformat()}) is before the start ({start.isoformat()}).")
    return start, end


def _quantities(case: PriorAuthCase, action: _Action, drug: dict[str, Any] | None) -> tuple[int | None, int | None]:
    """(sessions, devices) approved: the authorized detail's quantity, else (certified in total) the request's."""
    detail = [e for e in _ext(drug or {}, c.EXT_ITEM_AUTHORIZED_DETAIL)]
    quantity: dict[str, Any] | None = None
    service_codes: list[str] = []
    for ext in detail:
        for q in _sub(ext, "quantity"):
            quantity = q.get("valueQuantity")
        for p in _sub(ext, "productOrServiceCode"):
            service_codes.extend(code for _s, code, _d in _codes(p.get("valueCodeableConcept")))
    per_session = case.dose_mg // DEVICE_MG
    if quantity is None:
        if action.code != "A1":
            raise ClaimResponseRejected(f"Review action {action.code} ({c.REVIEW_APPROVED[action.code]}) needs the "
                                        "authorized quantity (item extension itemAuthorizedDetail.quantity).")
        sessions = sessions_requested(case)
        return sessions, sessions * per_session
    value = quantity.get("value")
    if not isinstance(value, int | float) or value <= 0 or value != int(value):
        raise ClaimResponseRejected("itemAuthorizedDetail.quantity.value must be a positive whole number.")
    amount = int(value)
    code = str(quantity.get("code", "")).upper()
    unit = str(quantity.get("unit", "")).lower()
    if code == c.QUANTITY_VISITS or unit in ("visit", "visits", "session", "sessions"):
        return amount, None
    if unit in ("device", "devices"):
        return None, amount
    if code == c.QUANTITY_UNITS or unit in ("unit", "units"):
        # HCPCS J0013/S0013 bill 1 mg per unit; one device holds 28 mg.
        if not set(service_codes) <= set(DRUG_CODES) or amount % DEVICE_MG:
            raise ClaimResponseRejected(f"itemAuthorizedDetail.quantity: {amount} units is not a whole number of "
                                        "28 mg devices of the drug code.")
        return None, amount // DEVICE_MG
    raise ClaimResponseRejected(f"itemAuthorizedDetail.quantity: unit {quantity.get('unit') or code!r} is not "
                                "visits, devices or units.")


def _reason(data: dict[str, Any], action: _Action) -> str:
    parts = list(action.reasons)
    parts += [str(n.get("text")) for n in data.get("processNote", []) or [] if isinstance(n, dict) and n.get("text")]
    if data.get("disposition"):
        parts.append(str(data["disposition"]))
    return "; ".join(dict.fromkeys(p.strip() for p in parts if p.strip())) or \
        "Not certified (X12 review action A3); the response gave no reason."


def _created(data: dict[str, Any], drug: dict[str, Any] | None, tz: str) -> date:
    for ext in _ext(drug or {}, c.EXT_ITEM_PREAUTH_ISSUE_DATE):
        return _parse_date(ext.get("valueDate"), "item.extension(preAuthIssueDate)")
    created = data.get("created")
    try:
        moment = datetime.fromisoformat(str(created).replace("Z", "+00:00"))
    except ValueError:
        raise ClaimResponseRejected(f"created: {created!r} is not a date and time.") from None
    if moment.tzinfo is None:
        return moment.date()
    return local_today(tz, now=moment)


def apply_claim_response(session: Session, *, case_id: int, payload: bytes | str, actor: str,
                         expected_version: int | None = None, now: datetime | None = None) -> ClaimResponseApplied:
    """Check a PAS ClaimResponse against the case and record the payer's decision through the lifecycle."""
    case = check_version(get_case(session, case_id=case_id), expected_version=expected_version, entity=ENTITY)
    data, others = _load(payload)
    if data.get("use") != "preauthorization":
        raise ClaimResponseRejected(f"use is {data.get('use')!r}; expected 'preauthorization'.")
    if data.get("status") != "active":
        raise ClaimResponseRejected(f"status is {data.get('status')!r}; only an active response can be applied.")
    patient = session.get(Patient, case.patient_id)
    coverage = session.get(Coverage, case.coverage_id)
    if patient is None or coverage is None:
        raise ClaimResponseRejected("The case's patient or coverage no longer exists.")
    _check_request(data, case)
    _check_patient(data, others, case, coverage)
    decision, action, drug = _decision(data, case)
    appeal = case.status in ("appealed",)
    wanted = {"approved": "overturned" if appeal else "approved", "denied": "upheld" if appeal else "denied",
              "pended": "pended"}[decision]
    if wanted not in lifecycle.TRANSITIONS.get(case.status, frozenset()):
        raise ClaimResponseRejected(str(lifecycle.IllegalTransition(case.status, wanted)) + " Nothing was changed.")
    settings = load_settings()
    decided_on = _created(data, drug, settings.timezone)
    if decided_on > local_today(settings.timezone, now=now):
        raise ClaimResponseRejected(f"created: the decision date {decided_on.isoformat()} is in the future.")
    common: dict[str, Any] = {"case_id": case_id, "expected_version": case.version, "actor": actor, "now": now}
    note = "from a PAS ClaimResponse"
    if decision == "approved":
        assert action is not None
        auth_number = str(data.get("preAuthRef") or "").strip()
        if not auth_number:
            raise ClaimResponseRejected("preAuthRef is missing: an approval needs the payer's authorization number.")
        start, end = _period(data, drug)
        sessions, devices = _quantities(case, action, drug)
        approved_codes = ",".join(code for i in (data.get("item") or []) if isinstance(i, dict)
                                  for a in _actions(i, i.get("itemSequence")) if a.code in c.REVIEW_APPROVED
                                  for code in _request_codes(session, case, i.get("itemSequence")))
        terms = lifecycle.ApprovalTerms(auth_number=auth_number, start_on=start, end_on=end, approved_devices=devices,
                                        approved_sessions=sessions, approved_codes=approved_codes,
                                        decided_on=decided_on)
        step = lifecycle.record_overturned if appeal else lifecycle.record_approval
        moved = step(session, terms=terms, note=f"{note} ({action.code})", **common)
        result = ClaimResponseApplied(case_id, decision, moved.status, auth_number, start, end, sessions, devices)
    elif decision == "denied":
        assert action is not None
        reason = _reason(data, action)
        if appeal:
            moved = lifecycle.record_upheld(session, decided_on=decided_on, note=f"{note}: {reason}", **common)
        else:
            moved = lifecycle.record_denial(session, reason=reason, denied_on=decided_on, note=note, **common)
        result = ClaimResponseApplied(case_id, decision, moved.status, reason=reason)
    else:
        moved = lifecycle.record_pended(session, note=note, **common)
        result = ClaimResponseApplied(case_id, decision, moved.status)
    record_event(session, action="import", entity="pa_case", entity_id=case_id,
                 detail=f"PAS ClaimResponse: {decision} → {STATUS_LABELS[moved.status]}")
    session.flush()
    return result


def _request_codes(session: Session, case: PriorAuthCase, sequence: Any) -> list[str]:
    """The code the desk's request put on item `sequence` (1 = the service, then any observation codes)."""
    policy = policy_for(case.payer_id)
    on = case.start_on or local_today(load_settings().timezone)
    billing = case_billing(case, plan_type=case.plan_type, policy=policy, on=on)
    codes = billing.codes
    if isinstance(sequence, int) and 1 <= sequence <= len(codes):
        return [codes[sequence - 1]]
    return []
