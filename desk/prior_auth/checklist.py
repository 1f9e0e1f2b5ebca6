"""The case checklist: the payer policy's criteria evaluated on the record, plus staff attachments,
attestations and exceptions. A case is ready to submit only when the criteria tree is satisfied with
every leaf met, attested or excepted; otherwise the checklist says exactly what is missing.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from desk.errors import FieldError, NotFound, ValidationFailed
from desk.evaluation_cache import patient_evaluation
from desk.models import Diagnosis, utcnow
from desk.models.prior_auth import PaAttachment, PaSignoff, PaStatusChange, PriorAuthCase
from desk.patients import diagnosis_contradiction, diagnosis_details
from desk.pdf.inspect import PdfRejected, check_pdf, limits_from_settings
from desk.pdf.sanitize import document_title, sanitize_pdf
from desk.policies.case import RequestedRegimen
from desk.policies.drugs import default_drugs
from desk.policies.evaluator import Evaluation
from desk.policies.loader import GENERIC_POLICY_ID
from desk.policies.schema import AllOf, AnyOf, AtLeast, NotOf, Policy, Rule, children
from desk.prior_auth.cases import flush_or_stale, load_for_edit
from desk.prior_auth.clocks import local_today
from desk.prior_auth.payer_rules import payer_name, policy_for
from desk.settings import load_settings
from desk.validation import text_problem

SATISFIED = ("met", "attested", "excepted")
_RANK = {"not_met": 0, "unknown": 1, "attest": 2, "met": 3}
EDITABLE_STATUSES = ("draft", "ready")
ATTACHMENT_TYPE = "application/pdf"


@dataclass(frozen=True)
class AttachmentRef:
    """An attachment listed on the checklist (no content)."""

    id: int
    title: str
    content_type: str
    size_bytes: int
    include_in_packet: bool
    uploaded_by: str
    uploaded_at: datetime


@dataclass(frozen=True)
class ChecklistItem:
    """One criterion (or group) with the evaluator's verdict and what staff recorded against it."""

    id: str
    text: str
    kind: str
    depth: int
    parent: str | None
    is_group: bool
    status: str
    effective: str
    evidence: tuple[str, ...]
    missing: tuple[str, ...]
    source: str
    source_url: str
    needs: str
    attachments: tuple[AttachmentRef, ...] = ()
    attestation: PaSignoff | None = None
    exception: PaSignoff | None = None

    @property
    def satisfied(self) -> bool:
        return self.effective in SATISFIED

    @property
    def can_attest(self) -> bool:
        return not self.is_group and (self.status == "attest" or self.needs == "attestation") \
            and self.exception is None and self.attestation is None

    @property
    def can_except(self) -> bool:
        return not self.is_group and self.status != "met" and self.exception is None and self.attestation is None


@dataclass(frozen=True)
class CaseChecklist:
    """The whole checklist of a case on one date."""

    policy_id: str
    policy_title: str
    evaluation: Evaluation | None
    items: tuple[ChecklistItem, ...]
    ready: bool
    missing: tuple[str, ...]
    notes: tuple[str, ...] = ()
    general_attachments: tuple[AttachmentRef, ...] = field(default_factory=tuple)

    def item(self, criterion_id: str) -> ChecklistItem:
        for entry in self.items:
            if entry.id == criterion_id:
                return entry
        raise KeyError(criterion_id)


def _refs(rows: Sequence[PaAttachment]) -> tuple[AttachmentRef, ...]:
    return tuple(AttachmentRef(a.id or 0, a.title, a.content_type, a.size_bytes, a.include_in_packet,
                               a.uploaded_by, a.uploaded_at) for a in rows)


def active_signoffs(session: Session, *, case_id: int) -> Sequence[PaSignoff]:
    """Attestations and exceptions in force on the case (withdrawn ones are kept but not counted)."""
    return session.exec(
        select(PaSignoff).where(PaSignoff.case_id == case_id, PaSignoff.withdrawn == False)  # noqa: E712
        .order_by(col(PaSignoff.id))
    ).all()


def attachments(session: Session, *, case_id: int) -> Sequence[PaAttachment]:
    """The case's attachments that were not removed, oldest first."""
    return session.exec(
        select(PaAttachment).where(PaAttachment.case_id == case_id, PaAttachment.removed == False)  # noqa: E712
        .order_by(col(PaAttachment.id))
    ).all()


def resolve_policy(payer_id: str, as_of: date | None = None) -> tuple[Policy | None, str]:
    """The payer's policy (the version in force on `as_of`), else the generic one with a note saying so."""
    policy = policy_for(payer_id, as_of)
    if policy is not None:
        return policy, ""
    generic = policy_for(GENERIC_POLICY_ID, as_of)
    if generic is not None:
        return generic, f"No valid policy file for {payer_name(payer_id)}; the generic commercial checklist is shown."
    return None, f"No valid policy file for {payer_name(payer_id)} and no generic policy file."


def requested_regimen(case: PriorAuthCase) -> RequestedRegimen:
    """The regimen the case requests, as the evaluator reads it (weeks from sessions and sessions a week)."""
    weeks = None
    if case.sessions_requested and case.sessions_per_week:
        weeks = max(1, math.ceil(case.sessions_requested / case.sessions_per_week - 1e-9))
    dose = case.dose_mg if case.dose_mg in (28, 56, 84) else None
    first = case.first_dose_mg if case.first_dose_mg in (28, 56, 84) else None
    return RequestedRegimen.model_validate({
        "first_dose_mg": first, "dose_mg": dose, "sessions_per_week": case.sessions_per_week, "weeks": weeks,
        "sessions": case.sessions_requested})


def evaluate_case(session: Session, *, case: PriorAuthCase, as_of: date | None = None,
                  attested: Sequence[str] = (), policy: Policy | None = None
                  ) -> tuple[Evaluation | None, Policy | None, str]:
    """Run the payer's evaluator on the patient's record for this case (under `policy` when given, else the
    payer's version in force on the date)."""
    today = as_of or local_today(load_settings().timezone)
    note = ""
    if policy is None:
        policy, note = resolve_policy(case.payer_id, today)
    if policy is None:
        return None, None, note
    # Kept per the patient's facts version, the case's regimen and attestations (desk/evaluation_cache.py).
    evaluation = patient_evaluation(
        session, patient_id=case.patient_id, coverage_id=case.coverage_id, policy=policy,
        indication=case.indication.lower(), phase=case.phase, as_of=today, drugs=default_drugs(),
        requested=requested_regimen(case), attestations=attested)
    return evaluation, policy, note


def _effective(rule: Rule, leaf: dict[str, str]) -> str:
    if isinstance(rule, NotOf):
        inner = _as_rank(_effective(rule.rule, leaf))
        return {"met": "not_met", "not_met": "met"}.get(inner, inner)
    if isinstance(rule, AllOf | AnyOf | AtLeast):
        ranks = sorted((_RANK[_as_rank(_effective(child, leaf))] for child in rule.rules), reverse=True)
        if isinstance(rule, AllOf):
            rank = ranks[-1]
        elif isinstance(rule, AnyOf):
            rank = ranks[0]
        else:
            rank = ranks[rule.n - 1]
        return ("not_met", "unknown", "attest", "met")[rank]
    return leaf.get(rule.id, "unknown")


def _as_rank(status: str) -> str:
    return "met" if status in SATISFIED else status


def _missing(rule: Rule, effective: dict[str, str], texts: dict[str, tuple[str, ...]]) -> list[str]:
    if _as_rank(effective[rule.id]) == "met":
        return []
    if isinstance(rule, NotOf):
        detail = "; ".join(texts.get(rule.id, ()) + texts.get(rule.rule.id, ()))
        return [f"{rule.text} ({'not met' if effective[rule.id] == 'not_met' else 'not on record'}: {detail})"]
    if isinstance(rule, AllOf):
        return [m for child in rule.rules for m in _missing(child, effective, texts)]
    if isinstance(rule, AnyOf | AtLeast):
        open_children = [c for c in rule.rules if _as_rank(effective[c.id]) != "met"]
        need = 1 if isinstance(rule, AnyOf) else rule.n - (len(rule.rules) - len(open_children))
        options = " | ".join(c.text for c in open_children)
        return [f"{rule.text}: {need} more of: {options}"]
    status = effective[rule.id]
    detail = "; ".join(texts.get(rule.id, ()))
    if status == "attest":
        return [f"attestation: {rule.text}"]
    word = "not met" if status == "not_met" else "not on record"
    return [f"{rule.text} ({word}{': ' + detail if detail else ''})"]


def diagnosis_contradictions(session: Session, *, patient_id: int) -> list[str]:
    """Current diagnoses whose record contradicts their ICD-10 code (F32.3/F33.3 recorded without psychosis)."""
    rows = session.exec(select(Diagnosis).where(Diagnosis.patient_id == patient_id,
                                                Diagnosis.is_current == True)).all()  # noqa: E712
    return [m for d in rows if (m := diagnosis_contradiction(d.icd10, diagnosis_details(d).psychotic_features))]


def case_checklist(session: Session, *, case: PriorAuthCase, as_of: date | None = None) -> CaseChecklist:
    """The checklist of `case` as of today: evaluated criteria, staff marks, readiness and what is missing."""
    assert case.id is not None
    signoffs = active_signoffs(session, case_id=case.id)
    attested = {s.criterion_id: s for s in signoffs if s.kind == "attestation"}
    excepted = {s.criterion_id: s for s in signoffs if s.kind == "exception"}
    evaluation, policy, note = evaluate_case(session, case=case, as_of=as_of, attested=list(attested))
    files = attachments(session, case_id=case.id)
    by_criterion: dict[str, list[PaAttachment]] = {}
    for item in files:
        by_criterion.setdefault(item.criterion_id, []).append(item)
    notes = tuple(n for n in [note, *(evaluation.notes if evaluation else []),
                              *diagnosis_contradictions(session, patient_id=case.patient_id)] if n)
    general = _refs(by_criterion.get("", []))
    if evaluation is None or policy is None:
        return CaseChecklist("", "", None, (), False, (note,), notes, general)
    variant = policy.variant(case.indication.lower(), case.phase, evaluation.benefit)
    if evaluation.decision == "not_covered" or variant is None or variant.criteria is None:
        reason = evaluation.notes[0] if evaluation.notes else "The payer's policy does not cover this request."
        return CaseChecklist(policy.id, policy.title, evaluation, (), False, (reason,), notes, general)
    leaf: dict[str, str] = {}
    for result in evaluation.criteria:
        if result.is_group:
            continue
        if result.id in excepted:
            leaf[result.id] = "excepted"
        elif result.id in attested and (result.status == "met" or result.needs == "attestation"):
            leaf[result.id] = "attested"
        else:
            leaf[result.id] = result.status
    effective: dict[str, str] = {}
    for result in evaluation.criteria:
        rule = _rule_by_id(variant.criteria, result.id)
        effective[result.id] = _effective(rule, leaf) if result.is_group else leaf[result.id]
    texts = {r.id: tuple(r.missing or r.evidence) for r in evaluation.criteria}
    missing = tuple(_missing(variant.criteria, effective, texts))
    items = tuple(
        ChecklistItem(
            id=r.id, text=r.text, kind=r.kind, depth=r.depth, parent=r.parent, is_group=r.is_group,
            status=r.status, effective=effective[r.id], evidence=tuple(r.evidence), missing=tuple(r.missing),
            source=r.source, source_url=r.source_url, needs=r.needs,
            attachments=_refs(by_criterion.get(r.id, [])), attestation=attested.get(r.id),
            exception=excepted.get(r.id),
        )
        for r in evaluation.criteria
    )
    if evaluation.request_problems:
        missing = (*missing, *(f"requested regimen: {p}" for p in evaluation.request_problems))
    ready = _as_rank(effective[variant.criteria.id]) == "met" and not evaluation.request_problems
    return CaseChecklist(policy.id, policy.title, evaluation, items, ready, () if ready else missing, notes, general)


def _rule_by_id(rule: Rule, wanted: str) -> Rule:
    if rule.id == wanted:
        return rule
    for child in children(rule):
        try:
            return _rule_by_id(child, wanted)
        except KeyError:
            continue
    raise KeyError(wanted)


# ---------------------------------------------------------------- staff marks


def _editable(session: Session, case_id: int, expected_version: int) -> PriorAuthCase:
    case = load_for_edit(session, case_id=case_id, expected_version=expected_version)
    if case.status not in EDITABLE_STATUSES:
        raise ValidationFailed([FieldError("checklist", "the checklist can change only before submission "
                                           f"(the case is {case.status.replace('_', ' ')})")])
    return case


def _touch(session: Session, case: PriorAuthCase, actor: str, now: datetime | None = None) -> None:
    """Bump the case (version, updated time); a ready case that is no longer complete goes back to draft."""
    moment = now or utcnow()
    case.updated_at = moment
    session.add(case)
    flush_or_stale(session)
    if case.status == "ready" and not case_checklist(session, case=case).ready:
        assert case.id is not None
        session.add(PaStatusChange(case_id=case.id, at=moment, actor=actor, from_status="ready", to_status="draft",
                                   note="checklist no longer complete"))
        case.status = "draft"
        case.status_changed_at = moment
        session.add(case)
        flush_or_stale(session)


def _leaf(session: Session, case: PriorAuthCase, criterion_id: str) -> ChecklistItem:
    checklist = case_checklist(session, case=case)
    try:
        item = checklist.item(criterion_id)
    except KeyError:
        raise ValidationFailed([FieldError("criterion_id", "not a criterion of this case's checklist")]) from None
    if item.is_group:
        raise ValidationFailed([FieldError("criterion_id", "choose a single criterion, not a group")])
    return item


def attest(session: Session, *, case_id: int, expected_version: int, criterion_id: str, note: str,
           actor: str, now: datetime | None = None) -> PaSignoff:
    """Record that the prescriber attests a criterion (who, when, note)."""
    case = _editable(session, case_id, expected_version)
    item = _leaf(session, case, criterion_id)
    errors: list[FieldError] = []
    if not note.strip():
        errors.append(FieldError("note", "say who attests and on what basis"))
    if not item.can_attest:
        errors.append(FieldError("criterion_id", "this criterion is not met by attestation, or is already marked"))
    if errors:
        raise ValidationFailed(errors)
    mark = PaSignoff(case_id=case_id, criterion_id=criterion_id, kind="attestation", note=note.strip(), by=actor,
                     at=now or utcnow())
    session.add(mark)
    _touch(session, case, actor, now)
    return mark


def record_exception(session: Session, *, case_id: int, expected_version: int, criterion_id: str, reason: str,
                     actor: str, now: datetime | None = None) -> PaSignoff:
    """Mark a criterion as excepted (e.g. a clinical-exception request in the letter), with the reason."""
    case = _editable(session, case_id, expected_version)
    item = _leaf(session, case, criterion_id)
    errors: list[FieldError] = []
    if not reason.strip():
        errors.append(FieldError("reason", "give the reason for the exception"))
    if not item.can_except:
        errors.append(FieldError("criterion_id", "this criterion is met or already marked"))
    if errors:
        raise ValidationFailed(errors)
    mark = PaSignoff(case_id=case_id, criterion_id=criterion_id, kind="exception", note=reason.strip(), by=actor,
                     at=now or utcnow())
    session.add(mark)
    _touch(session, case, actor, now)
    return mark


def withdraw_signoff(session: Session, *, case_id: int, expected_version: int, signoff_id: int,
                     actor: str) -> PaSignoff:
    """Withdraw an attestation or exception (kept in the record, no longer counted)."""
    case = _editable(session, case_id, expected_version)
    mark = session.get(PaSignoff, signoff_id)
    if mark is None or mark.case_id != case_id or mark.withdrawn:
        raise NotFound("No such attestation or exception on this case.")
    mark.withdrawn = True
    session.add(mark)
    _touch(session, case, actor)
    return mark


def attach_document(
    session: Session,
    *,
    case_id: int,
    expected_version: int,
    title: str,
    content_type: str,
    content: bytes,
    actor: str,
    criterion_id: str = "",
    include_in_packet: bool = True,
) -> PaAttachment:
    """Keep a document on the case (optionally as evidence for one criterion)."""
    case = load_for_edit(session, case_id=case_id, expected_version=expected_version)
    if case.status in ("cancelled", "expired"):
        raise ValidationFailed([FieldError("case", "the case is closed")])
    errors: list[FieldError] = []
    if not title.strip():
        errors.append(FieldError("title", "required"))
    elif problem := text_problem(title):
        errors.append(FieldError("title", problem))
    if content_type != ATTACHMENT_TYPE:
        errors.append(FieldError("file", "attach a PDF (scan paper records to PDF)"))
    else:
        # The same safety checks as every uploaded PDF: size, pages, nesting, decompression bombs.
        try:
            check_pdf(content, limits=limits_from_settings(load_settings()))
            content = sanitize_pdf(content)  # stored without scripts, links, launches or embedded files
        except PdfRejected as exc:
            errors.append(FieldError("file", str(exc)))
    if criterion_id:
        try:
            _leaf(session, case, criterion_id)
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    item = PaAttachment(case_id=case_id, criterion_id=criterion_id,
                        title=document_title(title, fallback="Supporting document"), content_type=content_type,
                        size_bytes=len(content), sha256=hashlib.sha256(content).hexdigest(), content=content,
                        include_in_packet=include_in_packet, uploaded_by=actor)
    session.add(item)
    case.updated_at = utcnow()
    session.add(case)
    flush_or_stale(session)
    return item


def remove_attachment(session: Session, *, case_id: int, expected_version: int, attachment_id: int,
                      actor: str) -> PaAttachment:
    """Take a document off the case (kept for the record, no longer listed or sent)."""
    case = load_for_edit(session, case_id=case_id, expected_version=expected_version)
    item = session.get(PaAttachment, attachment_id)
    if item is None or item.case_id != case_id or item.removed:
        raise NotFound("No such attachment on this case.")
    item.removed = True
    session.add(item)
    case.updated_at = utcnow()
    session.add(case)
    flush_or_stale(session)
    return item


def attachment_content(session: Session, *, case_id: int, attachment_id: int) -> PaAttachment:
    """The attachment with its bytes (for the packet or a download)."""
    item = session.get(PaAttachment, attachment_id)
    if item is None or item.case_id != case_id or item.removed:
        raise NotFound("No such attachment on this case.")
    return item
