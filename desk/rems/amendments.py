"""Corrections to a session whose monitoring form was submitted: audited, with reason and before/after."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from desk.auth import CurrentUser
from desk.errors import FieldError, ValidationFailed
from desk.models import SessionAmendment, utcnow
from desk.records import check_version
from desk.rems.config import RemsSettings, load_rems_settings
from desk.rems.permissions import require_record
from desk.rems.sessions import apply_input, check_session, get_session, session_input
from desk.rems.validation import SessionInput


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | list | tuple | dict):
        return json.loads(json.dumps(value, default=str))
    return value


def changed_fields(before: SessionInput, after: SessionInput) -> dict[str, tuple[Any, Any]]:
    """Field name → (old, new) for every field that differs."""
    old, new = asdict(before), asdict(after)
    return {name: (_plain(old[name]), _plain(new[name])) for name in old if old[name] != new[name]}


def amend_session(
    session: Session,
    *,
    user: CurrentUser,
    session_id: int,
    expected_version: int,
    data: SessionInput,
    reason: str,
    now: datetime | None = None,
    settings: RemsSettings | None = None,
) -> SessionAmendment:
    """Correct a submitted session; the same validation applies, and the change is kept with its reason."""
    require_record(user)
    now = now or utcnow()
    settings = settings or load_rems_settings()
    ts = check_version(
        get_session(session, session_id=session_id), expected_version=expected_version, entity="treatment session"
    )
    errors: list[FieldError] = []
    if ts.pmf_status != "submitted":
        errors.append(FieldError("pmf_status", "the monitoring form is not submitted yet; edit the session "
                                               "directly"))
    if len(reason.strip()) < 10:
        errors.append(FieldError("reason", "say why the session is corrected (at least 10 characters)"))
    if data.patient_id != ts.patient_id:
        errors.append(FieldError("patient_id", "a session cannot be moved to another patient"))
    if errors:
        raise ValidationFailed(errors)
    before = session_input(session, session_id=session_id)
    changes = changed_fields(before, data)
    if not changes:
        raise ValidationFailed([FieldError("session", "nothing was changed")])
    problems = check_session(session, data=data, now=now, settings=settings, session_id=session_id)
    if problems:
        raise ValidationFailed(problems)
    if data.discharged_at is None:
        raise ValidationFailed([FieldError("discharged_at", "a submitted session keeps its discharge time")])
    apply_input(session, ts=ts, data=data, recorded_by=ts.recorded_by)
    amendment = SessionAmendment(
        treatment_session_id=session_id,
        amended_at=now,
        amended_by=user.username,
        reason=reason.strip(),
        changes_json=json.dumps({k: list(v) for k, v in changes.items()}, default=str, sort_keys=True),
    )
    session.add(amendment)
    session.flush()
    return amendment


def amendments_of(session: Session, *, session_id: int) -> Sequence[SessionAmendment]:
    return session.exec(
        select(SessionAmendment)
        .where(SessionAmendment.treatment_session_id == session_id)
        .order_by(col(SessionAmendment.amended_at), col(SessionAmendment.id))
    ).all()
