"""Case lifecycle: an explicit table of allowed transitions, each step recorded with who, when and why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from desk.errors import DeskError, FieldError, ValidationFailed
from desk.models import Coverage, utcnow
from desk.models.prior_auth import (
    STATUS_LABELS,
    SUBMISSION_CHANNELS,
    URGENCIES,
    PaAppeal,
    PaAuthorization,
    PaDenial,
    PaInfoRequest,
    PaStatusChange,
    PaSubmission,
    PriorAuthCase,
)
from desk.prior_auth.cases import flush_or_stale, load_for_edit
from desk.prior_auth.checklist import case_checklist
from desk.prior_auth.clocks import decision_due, local_today
from desk.prior_auth.payer_rules import decision_clock_for
from desk.prior_auth.request_schedule import schedule_problem
from desk.settings import load_settings

TRANSITIONS: Mapping[str, frozenset[str]] = {
    "draft": frozenset({"ready", "cancelled"}),
    "ready": frozenset({"draft", "submitted", "cancelled"}),
    "submitted": frozenset({"pended", "info_requested", "approved", "denied", "cancelled"}),
    "pended": frozenset({"info_requested", "approved", "denied", "cancelled"}),
    "info_requested": frozenset({"pended", "approved", "denied", "cancelled"}),
    "denied": frozenset({"appealed", "cancelled"}),
    "appealed": frozenset({"overturned", "upheld"}),
    # A further level (e.g. external review) may follow an upheld denial.
    "upheld": frozenset({"appealed", "cancelled"}),
    "approved": frozenset({"expired"}),
    "overturned": frozenset({"expired"}),
    "cancelled": frozenset(),
    "expired": frozenset(),
}
# References that identify a submission in the payer's system; a fax or call may have none.
REFERENCE_REQUIRED_CHANNELS = ("portal", "electronic_pa")
# A submission time a few minutes ahead of this server's clock is tolerated (clock skew on the fax machine).
FUTURE_TOLERANCE = timedelta(minutes=10)


class IllegalTransition(DeskError):
    """The case's current status does not allow the requested step."""

    def __init__(self, current: str, wanted: str) -> None:
        allowed = sorted(TRANSITIONS[current], key=list(STATUS_LABELS).index)
        nexts = ", ".join(STATUS_LABELS[s] for s in allowed) or "none (the case is closed)"
        super().__init__(
            f"A case that is '{STATUS_LABELS[current]}' cannot become '{STATUS_LABELS[wanted]}'. "
            f"Allowed next: {nexts}."
        )
        self.current = current
        self.wanted = wanted


def allowed_next(status: str) -> list[str]:
    """The statuses a case in `status` may move to, in lifecycle order."""
    return sorted(TRANSITIONS[status], key=list(STATUS_LABELS).index)


def next_forward_step(status: str) -> str | None:
    """The step a case in `status` usually takes next: the first allowed status later in the lifecycle (never a
    cancel, an expiry or a step back to draft); else the first allowed one that is not a cancel; else None."""
    order = list(STATUS_LABELS)
    allowed = [s for s in allowed_next(status) if s not in ("cancelled", "expired")]
    forward = [s for s in allowed if order.index(s) > order.index(status)]
    choices = forward or allowed
    return choices[0] if choices else None


def _move(session: Session, case: PriorAuthCase, to_status: str, *, actor: str, note: str,
          now: datetime | None = None) -> PriorAuthCase:
    if to_status not in TRANSITIONS.get(case.status, frozenset()):
        raise IllegalTransition(case.status, to_status)
    moment = now or utcnow()
    assert case.id is not None
    session.add(PaStatusChange(case_id=case.id, at=moment, actor=actor, from_status=case.status,
                               to_status=to_status, note=note.strip()))
    case.status = to_status
    case.status_changed_at = moment
    case.updated_at = moment
    session.add(case)
    flush_or_stale(session)
    return case


def _open(session: Session, case_id: int, expected_version: int, to_status: str) -> PriorAuthCase:
    case = load_for_edit(session, case_id=case_id, expected_version=expected_version)
    if to_status not in TRANSITIONS.get(case.status, frozenset()):
        raise IllegalTransition(case.status, to_status)
    return case


def _raise(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors)


def _today(now: datetime | None) -> date:
    return local_today(load_settings().timezone, now=now)


def mark_ready(session: Session, *, case_id: int, expected_version: int, actor: str, note: str = "",
               now: datetime | None = None) -> PriorAuthCase:
    """Draft → ready, only when every required checklist item is met, attested or excepted."""
    case = _open(session, case_id, expected_version, "ready")
    checklist = case_checklist(session, case=case)
    if not checklist.ready:
        raise ValidationFailed([FieldError("checklist", "still missing: " + "; ".join(checklist.missing))])
    coverage = session.get(Coverage, case.coverage_id)
    problem = schedule_problem(case, today=local_today(load_settings().timezone, now=now),
                               benefit=coverage.benefit if coverage else None)
    if problem:
        raise ValidationFailed([FieldError("request", problem)])
    return _move(session, case, "ready", actor=actor, note=note, now=now)


def reopen_draft(session: Session, *, case_id: int, expected_version: int, actor: str, note: str = "") -> PriorAuthCase:
    """Ready → draft, to change the request before it goes out."""
    case = _open(session, case_id, expected_version, "draft")
    return _move(session, case, "draft", actor=actor, note=note)


def record_submission(
    session: Session,
    *,
    case_id: int,
    expected_version: int,
    actor: str,
    submitted_at: datetime | None,
    channel: str,
    reference: str = "",
    urgency: str | None = None,
    note: str = "",
    now: datetime | None = None,
) -> PriorAuthCase:
    """Ready → submitted: when, how and the payer's reference; starts the decision clock."""
    case = _open(session, case_id, expected_version, "submitted")
    moment = now or utcnow()
    urgency = urgency or case.urgency
    errors: list[FieldError] = []
    if submitted_at is None:
        errors.append(FieldError("submitted_at", "required"))
    elif submitted_at.tzinfo is None:
        errors.append(FieldError("submitted_at", "needs a time zone"))
    elif submitted_at > moment + FUTURE_TOLERANCE:
        errors.append(FieldError("submitted_at", "cannot be in the future"))
    if channel not in SUBMISSION_CHANNELS:
        errors.append(FieldError("channel", f"expected one of {', '.join(SUBMISSION_CHANNELS)}"))
    elif channel in REFERENCE_REQUIRED_CHANNELS and not reference.strip():
        errors.append(FieldError("reference", f"required for a {channel.replace('_', ' ')} submission"))
    if urgency not in URGENCIES:
        errors.append(FieldError("urgency", f"expected one of {', '.join(URGENCIES)}"))
    _raise(errors)
    assert submitted_at is not None and case.id is not None
    settings = load_settings()
    clock = decision_clock_for(payer_id=case.payer_id, plan_type=case.plan_type, urgency=urgency)
    due = None
    if clock is not None:
        due = decision_due(submitted_at=submitted_at, clock=clock, timezone=settings.timezone,
                           holidays=settings.business_holidays)
    session.add(PaSubmission(case_id=case.id, submitted_at=submitted_at, channel=channel,
                             reference=reference.strip(), urgency=urgency, decision_due_at=due, recorded_by=actor))
    case.urgency = urgency
    case.submitted_at = submitted_at
    case.decision_due_at = due
    detail = f"{channel}" + (f", reference {reference.strip()}" if reference.strip() else "")
    return _move(session, case, "submitted", actor=actor, note=note or detail, now=moment)


def record_pended(session: Session, *, case_id: int, expected_version: int, actor: str, note: str = "",
                  now: datetime | None = None) -> PriorAuthCase:
    """Submitted / information requested → pended (the payer is reviewing; information sent)."""
    case = _open(session, case_id, expected_version, "pended")
    if case.status == "info_requested":
        open_requests = session.exec(
            select(PaInfoRequest).where(PaInfoRequest.case_id == case.id, col(PaInfoRequest.answered_at).is_(None))
        ).all()
        for request in open_requests:
            request.answered_at = now or utcnow()
            session.add(request)
        case.info_due_on = None
    return _move(session, case, "pended", actor=actor, note=note, now=now)


def record_info_request(
    session: Session,
    *,
    case_id: int,
    expected_version: int,
    actor: str,
    requested_on: date | None,
    due_on: date | None,
    description: str,
    now: datetime | None = None,
) -> PriorAuthCase:
    """The payer asked for more information by a due date."""
    case = _open(session, case_id, expected_version, "info_requested")
    errors: list[FieldError] = []
    if requested_on is None:
        errors.append(FieldError("requested_on", "required"))
    elif requested_on > _today(now):
        errors.append(FieldError("requested_on", "cannot be in the future"))
    if due_on is None:
        errors.append(FieldError("due_on", "required"))
    elif requested_on is not None and due_on < requested_on:
        errors.append(FieldError("due_on", "cannot be before the request date"))
    if not description.strip():
        errors.append(FieldError("description", "say what the payer asked for"))
    _raise(errors)
    assert requested_on is not None and due_on is not None and case.id is not None
    session.add(PaInfoRequest(case_id=case.id, requested_on=requested_on, due_on=due_on,
                              description=description.strip()))
    case.info_due_on = due_on
    return _move(session, case, "info_requested", actor=actor, note=f"due {due_on.isoformat()}", now=now)


@dataclass(frozen=True)
class ApprovalTerms:
    """What the payer approved."""

    auth_number: str
    start_on: date | None
    end_on: date | None
    approved_devices: int | None = None
    approved_sessions: int | None = None
    approved_codes: str = ""
    decided_on: date | None = None


def _approval_errors(terms: ApprovalTerms, today: date) -> list[FieldError]:
    errors: list[FieldError] = []
    if not terms.auth_number.strip():
        errors.append(FieldError("auth_number", "required"))
    if terms.start_on is None:
        errors.append(FieldError("start_on", "required"))
    if terms.end_on is None:
        errors.append(FieldError("end_on", "required"))
    elif terms.start_on is not None and terms.end_on < terms.start_on:
        errors.append(FieldError("end_on", "cannot be before the start date"))
    if terms.approved_devices is None and terms.approved_sessions is None:
        errors.append(FieldError("approved_devices", "enter the approved devices or the approved sessions"))
    if terms.approved_devices is not None and terms.approved_devices <= 0:
        errors.append(FieldError("approved_devices", "must be a positive whole number"))
    if terms.approved_sessions is not None and terms.approved_sessions <= 0:
        errors.append(FieldError("approved_sessions", "must be a positive whole number"))
    if terms.decided_on is not None and terms.decided_on > today:
        errors.append(FieldError("decided_on", "cannot be in the future"))
    return errors


def _apply_approval(session: Session, case: PriorAuthCase, terms: ApprovalTerms, today: date, *,
                    via_appeal: bool) -> None:
    assert case.id is not None and terms.start_on is not None and terms.end_on is not None
    codes = ",".join(c.strip().upper() for c in terms.approved_codes.replace(";", ",").split(",") if c.strip())
    session.add(PaAuthorization(
        case_id=case.id, patient_id=case.patient_id, auth_number=terms.auth_number.strip(),
        start_on=terms.start_on, end_on=terms.end_on, approved_devices=terms.approved_devices,
        approved_sessions=terms.approved_sessions, approved_codes=codes, decided_on=terms.decided_on or today,
        via_appeal=via_appeal,
    ))
    case.auth_number = terms.auth_number.strip()
    case.auth_start_on = terms.start_on
    case.auth_end_on = terms.end_on
    case.approved_devices = terms.approved_devices
    case.approved_sessions = terms.approved_sessions
    case.approved_codes = codes
    case.info_due_on = None


def record_approval(session: Session, *, case_id: int, expected_version: int, actor: str, terms: ApprovalTerms,
                    note: str = "", now: datetime | None = None) -> PriorAuthCase:
    """Submitted / pended / information requested → approved, with the authorization's terms."""
    case = _open(session, case_id, expected_version, "approved")
    today = _today(now)
    _raise(_approval_errors(terms, today))
    _apply_approval(session, case, terms, today, via_appeal=False)
    return _move(session, case, "approved", actor=actor, note=note or f"authorization {terms.auth_number.strip()}",
                 now=now)


def record_denial(session: Session, *, case_id: int, expected_version: int, actor: str, reason: str,
                  denied_on: date | None, note: str = "", now: datetime | None = None) -> PriorAuthCase:
    """A decision against the request, with the payer's stated reason."""
    case = _open(session, case_id, expected_version, "denied")
    errors: list[FieldError] = []
    if not reason.strip():
        errors.append(FieldError("reason", "enter the payer's stated reason"))
    if denied_on is None:
        errors.append(FieldError("denied_on", "required"))
    elif denied_on > _today(now):
        errors.append(FieldError("denied_on", "cannot be in the future"))
    _raise(errors)
    assert denied_on is not None and case.id is not None
    session.add(PaDenial(case_id=case.id, reason=reason.strip(), denied_on=denied_on))
    case.denial_reason = reason.strip()
    case.denied_on = denied_on
    case.info_due_on = None
    return _move(session, case, "denied", actor=actor, note=note, now=now)


def record_appeal(session: Session, *, case_id: int, expected_version: int, actor: str, filed_on: date | None,
                  level: int | None = None, peer_to_peer: bool = False, peer_to_peer_on: date | None = None,
                  note: str = "", now: datetime | None = None) -> PriorAuthCase:
    """Denied / upheld → appealed, at the next level unless one is given; notes any peer-to-peer call."""
    case = _open(session, case_id, expected_version, "appealed")
    level = level if level is not None else case.appeal_level + 1
    today = _today(now)
    errors: list[FieldError] = []
    if filed_on is None:
        errors.append(FieldError("filed_on", "required"))
    elif filed_on > today:
        errors.append(FieldError("filed_on", "cannot be in the future"))
    elif case.denied_on is not None and filed_on < case.denied_on:
        errors.append(FieldError("filed_on", "cannot be before the denial"))
    if level <= case.appeal_level:
        errors.append(FieldError("level", f"must be above the last level ({case.appeal_level})"))
    if peer_to_peer_on is not None and not peer_to_peer:
        errors.append(FieldError("peer_to_peer_on", "only with a peer-to-peer call"))
    _raise(errors)
    assert filed_on is not None and case.id is not None
    session.add(PaAppeal(case_id=case.id, level=level, filed_on=filed_on, peer_to_peer=peer_to_peer,
                         peer_to_peer_on=peer_to_peer_on))
    case.appeal_level = level
    text = f"level {level}" + (", peer-to-peer" if peer_to_peer else "")
    return _move(session, case, "appealed", actor=actor, note=note or text, now=now)


def _current_appeal(session: Session, case: PriorAuthCase) -> PaAppeal | None:
    return session.exec(
        select(PaAppeal).where(PaAppeal.case_id == case.id).order_by(col(PaAppeal.id).desc())
    ).first()


def record_overturned(session: Session, *, case_id: int, expected_version: int, actor: str, terms: ApprovalTerms,
                      note: str = "", now: datetime | None = None) -> PriorAuthCase:
    """Appeal won: the denial is reversed and the authorization's terms are recorded."""
    case = _open(session, case_id, expected_version, "overturned")
    today = _today(now)
    _raise(_approval_errors(terms, today))
    appeal = _current_appeal(session, case)
    if appeal is not None:
        appeal.outcome, appeal.outcome_on = "overturned", terms.decided_on or today
        session.add(appeal)
    _apply_approval(session, case, terms, today, via_appeal=True)
    return _move(session, case, "overturned", actor=actor, note=note or f"authorization {terms.auth_number.strip()}",
                 now=now)


def record_upheld(session: Session, *, case_id: int, expected_version: int, actor: str, decided_on: date | None,
                  note: str = "", now: datetime | None = None) -> PriorAuthCase:
    """Appeal lost: the denial stands (a further level may follow)."""
    case = _open(session, case_id, expected_version, "upheld")
    if decided_on is None:
        raise ValidationFailed([FieldError("decided_on", "required")])
    if decided_on > _today(now):
        raise ValidationFailed([FieldError("decided_on", "cannot be in the future")])
    appeal = _current_appeal(session, case)
    if appeal is not None:
        appeal.outcome, appeal.outcome_on = "upheld", decided_on
        session.add(appeal)
    return _move(session, case, "upheld", actor=actor, note=note, now=now)


def cancel(session: Session, *, case_id: int, expected_version: int, actor: str, reason: str,
           now: datetime | None = None) -> PriorAuthCase:
    """Close the case without a decision (patient stopped, wrong payer, duplicate...)."""
    case = _open(session, case_id, expected_version, "cancelled")
    if not reason.strip():
        raise ValidationFailed([FieldError("reason", "say why the case is cancelled")])
    return _move(session, case, "cancelled", actor=actor, note=reason, now=now)


def expire_lapsed(session: Session, *, today: date, actor: str = "system", limit: int = 500) -> int:
    """Approved or overturned cases whose end date has passed become expired; returns how many."""
    lapsed = session.exec(
        select(PriorAuthCase)
        .where(col(PriorAuthCase.status).in_(("approved", "overturned")), col(PriorAuthCase.auth_end_on) < today)
        .limit(limit)
    ).all()
    for case in lapsed:
        assert case.auth_end_on is not None
        _move(session, case, "expired", actor=actor, note=f"authorization ended {case.auth_end_on.isoformat()}")
    return len(lapsed)
