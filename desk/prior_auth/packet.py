"""The submission packet and the appeal letter of a case, built from the record and kept as generated.

The data handed to the forms follows the "PA case data" shape of forms/README.md
(desk/pdf/sample_data.py::sample_pa_case). Every generated file is stored with its SHA-256, author and
time; every download is audited.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from desk.audit import record_event
from desk.errors import FieldError, NotFound, ValidationFailed
from desk.models import (
    CurrentMedication,
    Diagnosis,
    MedicationTrial,
    RatingScore,
    User,
    utcnow,
)
from desk.models.prior_auth import PaAttachment, PaDenial, PaGeneratedFile, PriorAuthCase
from desk.pdf.fieldmap import parse_field_map
from desk.pdf.inspect import limits_from_settings
from desk.pdf.letters import appeal_letter
from desk.pdf.packet import Document, prior_auth_packet
from desk.pdf.payer_forms import payer_form_for
from desk.policies.drugs import default_drugs
from desk.prior_auth.cases import case_record
from desk.prior_auth.checklist import CaseChecklist, case_checklist
from desk.prior_auth.clocks import local_today
from desk.prior_auth.payer_rules import policy_for
from desk.rems.course import label_schedule
from desk.settings import load_settings

DRUG = "SPRAVATO (esketamine) nasal spray 28 mg/device"
# NDC kits (shared/domain/spravato.md §3 [10]): 56 mg = 2 devices, 84 mg = 3 devices.
NDC_BY_DOSE = {56: "50458-028-02", 84: "50458-028-03"}
# S0013 ends 2025-12-31; J0013 from 2026-01-01 (spravato.md §3 [19][20]); a payer file's codes win.
J0013_FROM = date(2026, 1, 1)
PLACE_OF_SERVICE = "11 (office)"
DEFAULT_SESSIONS = {"initial": 8, "continuation": 12}
STATUS_WORDS = {"met": "met", "attested": "attested", "excepted": "exception requested", "not_met": "not met",
                "unknown": "not documented", "attest": "attestation needed"}
APPEALABLE = ("denied", "appealed", "upheld")
SPECIALTY_WORDS = {"psychiatrist": "Psychiatry", "psychiatric_np": "Psychiatric nurse practitioner",
                   "other": "Other"}


@dataclass(frozen=True)
class GeneratedRef:
    """A generated file as listed on the case (no content)."""

    id: int
    kind: str
    file_name: str
    sha256: str
    size_bytes: int
    created_by: str
    created_at: datetime


def request_schedule(indication: str, phase: str, sessions: int, start: date) -> tuple[str, str]:
    """(frequency, duration) of the requested sessions along the label schedule (spravato.md §2 [11])."""
    if indication == "MDSI":
        weeks = math.ceil(min(sessions, 8) / 2)
        return "Twice weekly", f"{weeks} weeks"
    if phase == "continuation":
        return "Weekly or every 2 weeks (maintenance)", f"{sessions} weeks (weekly) to {2 * sessions} weeks"
    plan = label_schedule(indication="TRD", start_date=start, through=start + timedelta(weeks=2 * sessions + 8))
    last = plan[min(sessions, len(plan)) - 1].planned_on
    weeks = (last - start).days // 7 + 1
    if sessions <= 8:
        frequency = "Twice weekly (induction, weeks 1-4)"
    elif sessions <= 12:
        frequency = "Twice weekly weeks 1-4, then weekly weeks 5-8"
    else:
        frequency = "Twice weekly weeks 1-4, weekly weeks 5-8, then weekly or every 2 weeks"
    return frequency, f"{weeks} weeks"


def _hcpcs(payer_id: str, on: date) -> str:
    policy = policy_for(payer_id)
    if policy is not None:
        for code in policy.billing_codes:
            if code.code not in ("J0013", "S0013"):
                continue
            if (code.accepted_from is None or code.accepted_from <= on) and (
                    code.accepted_until is None or on <= code.accepted_until):
                return code.code
    return "J0013" if on >= J0013_FROM else "S0013"


def _weeks(start: date, end: date | None) -> int | None:
    return round((end - start).days / 7) if end else None


def _trial_outcome(trial: MedicationTrial) -> str:
    words = trial.outcome.replace("_", " ").capitalize()
    return f"{words} ({trial.improvement_pct:g}%)" if trial.improvement_pct is not None else words


def case_data(session: Session, *, case: PriorAuthCase, checklist: CaseChecklist, actor: str,
              today: date | None = None) -> dict[str, Any]:
    """The PA case data (forms/README.md) for this case, from the record as of today."""
    today = today or local_today(load_settings().timezone)
    patient, coverage, site, prescriber = case_record(session, case=case)
    user = session.exec(select(User).where(User.username == actor)).first()
    policy = policy_for(case.payer_id)
    fax_numbers = [c.number for c in policy.submission if c.channel == "fax"] if policy else []
    phones = [c.number for c in policy.submission if c.channel == "phone"] if policy else []
    start = case.start_on or today
    drugs = default_drugs()
    current_ads = [m for m in session.exec(select(CurrentMedication).where(
        CurrentMedication.patient_id == patient.id)).all() if (info := drugs.info(m.drug)) and info.is_antidepressant]
    diagnoses = session.exec(select(Diagnosis).where(Diagnosis.patient_id == patient.id, Diagnosis.is_current == True)  # noqa: E712
                             .order_by(col(Diagnosis.id))).all()
    trials = session.exec(select(MedicationTrial).where(MedicationTrial.patient_id == patient.id)
                          .order_by(col(MedicationTrial.start_date))).all()
    scores = session.exec(select(RatingScore).where(RatingScore.patient_id == patient.id)
                          .order_by(col(RatingScore.measured_on).desc())).all()
    latest: dict[str, RatingScore] = {}
    for score in scores:
        latest.setdefault(score.instrument, score)
    denial = session.exec(select(PaDenial).where(PaDenial.case_id == case.id).order_by(col(PaDenial.id).desc())).first()
    effective = {item.id: item.effective for item in checklist.items}
    criteria = []
    other: list[str] = []
    for item in checklist.items:
        if item.is_group:
            continue
        if item.effective not in ("met", "attested", "excepted") and effective.get(item.parent or "") in (
                "met", "attested", "excepted"):
            continue  # an alternative path the request does not rely on
        evidence = list(item.evidence) if item.effective == "met" else []
        if item.attestation is not None:
            evidence.append(f"Attested by {item.attestation.by} on {item.attestation.at:%Y-%m-%d}: "
                            f"{item.attestation.note}")
            other.append(f"{item.text}: attested ({item.attestation.note}).")
        if item.exception is not None:
            evidence.append(f"Clinical exception requested: {item.exception.note}")
        if not evidence:
            evidence = list(item.missing) or list(item.evidence)
        criteria.append({"criterion": item.text, "status": STATUS_WORDS.get(item.effective, item.effective),
                         "evidence": evidence})
        if item.effective == "met" and item.kind not in ("trials", "diagnosis", "rating_score", "age"):
            other.extend(item.evidence)
    sessions = case.sessions_requested or DEFAULT_SESSIONS[case.phase]
    frequency, duration = request_schedule(case.indication, case.phase, sessions, start)
    return {
        "case_id": f"PA-{case.id}",
        "prepared_on": today,
        "patient": {
            "first_name": patient.first_name, "middle_initial": patient.middle_initial,
            "last_name": patient.last_name, "dob": patient.dob, "sex": patient.sex, "phone": patient.phone,
            "address_line": patient.address_line, "city": patient.city, "state": patient.state,
            "zip_code": patient.zip_code, "mrn": patient.mrn,
        },
        "coverage": {
            "payer_id": coverage.payer_id, "payer_name": policy.payer if policy else coverage.payer_id,
            "plan_type": coverage.plan_type.replace("_", " "), "benefit": coverage.benefit,
            "member_id": coverage.member_id, "group_number": coverage.group_number,
            "payer_phone": phones[0] if phones else "", "payer_fax": fax_numbers[0] if fax_numbers else "",
            "payer_department": "Prior Authorization",
        },
        "prescriber": {
            "first_name": prescriber.first_name if prescriber else "",
            "last_name": prescriber.last_name if prescriber else "",
            "credentials": prescriber.credentials if prescriber else "",
            "npi": prescriber.npi if prescriber else "",
            "specialty": SPECIALTY_WORDS.get(prescriber.specialty, prescriber.specialty) if prescriber else "",
            "phone": prescriber.phone if prescriber else "", "fax": prescriber.fax if prescriber else "",
            "email": prescriber.email if prescriber else "",
        },
        "site": {
            "name": site.name if site else "", "address_line": site.address_line if site else "",
            "city": site.city if site else "", "state": site.state if site else "",
            "zip_code": site.zip_code if site else "", "phone": site.phone if site else "",
            "fax": site.fax if site else "", "npi": site.npi if site else "", "tin": site.tin if site else "",
            "rems_setting_id": site.rems_setting_id if site else "",
            "rems_certified": bool(site and site.rems_certified_on),
            "rems_certified_on": site.rems_certified_on if site else None,
        },
        "request": {
            "urgency": case.urgency, "type": case.phase, "indication": case.indication, "drug": DRUG,
            "ndc": NDC_BY_DOSE.get(case.dose_mg, ""), "hcpcs": _hcpcs(case.payer_id, start),
            "dose_mg": case.dose_mg, "devices_per_session": case.dose_mg // 28,
            "frequency": frequency, "duration": duration, "sessions_requested": sessions,
            "start_date": start, "place_of_service": PLACE_OF_SERVICE,
            "concurrent_oral_ad": bool(current_ads),
            "concurrent_oral_ad_name": "; ".join(
                f"{m.drug} {m.daily_dose_mg:g} mg daily" if m.daily_dose_mg else m.drug for m in current_ads),
        },
        "diagnoses": [{"code": d.icd10, "description": d.description} for d in diagnoses],
        "trials": [
            {"drug": t.drug.capitalize() + (" (augmentation)" if t.role == "augmentation" else ""),
             "daily_dose_mg": t.daily_dose_mg, "start_date": t.start_date, "end_date": t.end_date,
             "weeks": _weeks(t.start_date, t.end_date), "adherence_pct": t.adherence_pct,
             "outcome": _trial_outcome(t)}
            for t in trials
        ],
        "scales": [{"instrument": s.instrument, "score": s.score, "date": s.measured_on} for s in latest.values()],
        "other_criteria": " ".join(dict.fromkeys(other)),
        "checklist": {"policy": checklist.policy_title or "the plan policy", "criteria": criteria},
        "denial": {
            "date": denial.denied_on if denial else None, "reference": case.auth_number or f"PA-{case.id}",
            "reason": denial.reason if denial else "",
        },
        "sender": {
            "name": user.display_name if user else actor, "phone": site.phone if site else "",
            "fax": site.fax if site else "", "email": user.email if user else "",
        },
        "fax": {
            "message": ("Enclosed: appeal of a prior-authorization denial for SPRAVATO with supporting records."
                        if case.status in APPEALABLE else
                        "Enclosed: prior authorization request for SPRAVATO, letter of medical necessity and "
                        "supporting records. Please call with any questions."),
            "pages": None,
        },
    }


def _keep(session: Session, *, case: PriorAuthCase, kind: str, pdf: bytes, actor: str) -> PaGeneratedFile:
    moment = utcnow()
    row = PaGeneratedFile(case_id=case.id or 0, kind=kind,
                          file_name=f"pa-{case.id}-{kind.replace('_', '-')}-{moment:%Y%m%d-%H%M%S}.pdf",
                          sha256=hashlib.sha256(pdf).hexdigest(), size_bytes=len(pdf), content=pdf,
                          created_by=actor, created_at=moment)
    session.add(row)
    session.flush()
    return row


def generate_packet(session: Session, *, case_id: int, actor: str, attachment_ids: Sequence[int] | None = None,
                    today: date | None = None) -> PaGeneratedFile:
    """Cover sheet + request form (the payer's own when mapped, else ours) + letter + chosen attachments.

    For a denied case the appeal letter takes the letter of medical necessity's place.
    """
    case = session.get(PriorAuthCase, case_id)
    if case is None:
        raise NotFound(f"No prior-authorization case #{case_id}.")
    if case.status in ("cancelled", "expired"):
        raise ValidationFailed([FieldError("case", "the case is closed")])
    checklist = case_checklist(session, case=case, as_of=today)
    data = case_data(session, case=case, checklist=checklist, actor=actor, today=today)
    chosen = _attachments(session, case_id=case_id, attachment_ids=attachment_ids)
    settings = load_settings()
    payer_form = payer_form_for(session, payer_id=case.payer_id)
    request_form = None
    if payer_form is not None:
        request_form = (payer_form.pdf, parse_field_map(payer_form.field_map_yaml,
                                                        source=f"payer form {payer_form.id}"))
    pdf = prior_auth_packet(case=data, forms_dir=settings.forms_dir,
                            documents=[Document(a.title, a.content) for a in chosen],
                            limits=limits_from_settings(settings), request_form=request_form,
                            appeal=case.status in APPEALABLE)
    return _keep(session, case=case, kind="packet", pdf=pdf, actor=actor)


def _attachments(session: Session, *, case_id: int, attachment_ids: Sequence[int] | None) -> list[PaAttachment]:
    rows = session.exec(select(PaAttachment).where(PaAttachment.case_id == case_id,
                                                   PaAttachment.removed == False)  # noqa: E712
                        .order_by(col(PaAttachment.id))).all()
    if attachment_ids is None:
        return [a for a in rows if a.include_in_packet]
    known = {a.id: a for a in rows}
    unknown = [i for i in attachment_ids if i not in known]
    if unknown:
        raise ValidationFailed([FieldError("attachments", f"attachment #{unknown[0]} is not on this case")])
    return [known[i] for i in attachment_ids]


def generate_appeal_letter(session: Session, *, case_id: int, actor: str, today: date | None = None,
                           ) -> PaGeneratedFile:
    """The appeal letter alone, prefilled from the denial reason and the checklist evidence."""
    case = session.get(PriorAuthCase, case_id)
    if case is None:
        raise NotFound(f"No prior-authorization case #{case_id}.")
    if case.status not in APPEALABLE:
        raise ValidationFailed([FieldError("case", "an appeal letter needs a denied case")])
    checklist = case_checklist(session, case=case, as_of=today)
    pdf = appeal_letter(case_data(session, case=case, checklist=checklist, actor=actor, today=today))
    return _keep(session, case=case, kind="appeal_letter", pdf=pdf, actor=actor)


def generated_files(session: Session, *, case_id: int) -> list[GeneratedRef]:
    """Files generated for the case, newest first (contents are not loaded)."""
    rows = session.execute(
        sa_select(*(col(c) for c in (PaGeneratedFile.id, PaGeneratedFile.kind, PaGeneratedFile.file_name,
                                     PaGeneratedFile.sha256, PaGeneratedFile.size_bytes, PaGeneratedFile.created_by,
                                     PaGeneratedFile.created_at)))
        .where(col(PaGeneratedFile.case_id) == case_id).order_by(col(PaGeneratedFile.id).desc())
    ).all()
    return [GeneratedRef(int(r[0] or 0), r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]


def download_generated(session: Session, *, case_id: int, file_id: int) -> PaGeneratedFile:
    """A kept file's bytes, with an audited 'download' event."""
    row = session.get(PaGeneratedFile, file_id)
    if row is None or row.case_id != case_id:
        raise NotFound("No such generated file on this case.")
    record_event(session, action="download", entity="pa_generated_file", entity_id=file_id,
                 detail=f"{row.kind} of case {case_id}, sha256 {row.sha256[:12]}")
    return row

