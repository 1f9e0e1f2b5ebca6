"""Server-side sign-in sessions: a random token in a signed cookie, its SHA-256 in the database.

Sign-in creates the session and a one-time ticket; the web server trades the ticket for the cookie
(desk.web), so the token itself never passes through the page. Every write goes through unit_of_work
and is audited.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from desk.audit import record_event
from desk.auth import CurrentUser, current_account
from desk.database import unit_of_work
from desk.models import User, WebSession, utcnow
from desk.settings import Settings, require_secret_key

COOKIE_NAME = "desk_session"
TICKET_SECONDS = 60
TOUCH_EVERY = timedelta(minutes=1)
# Used to sign cookies in demo mode when DESK_SECRET_KEY is empty: cookies die with the process.
_PROCESS_KEY = secrets.token_bytes(32)


@dataclass(frozen=True)
class StartedSession:
    """A new server session and the one-time ticket that lets the browser collect its cookie."""

    id: int
    ticket: str


@dataclass(frozen=True)
class LiveSession:
    """A session that is still valid, and the account behind it as it is now."""

    id: int
    user: CurrentUser
    ticket_pending: bool = False  # the browser has not yet traded its one-time ticket for the cookie


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def signing_key(settings: Settings) -> bytes:
    """DESK_SECRET_KEY, or this process's random key in demo mode when it is empty."""
    key = require_secret_key(settings)
    return key.encode() if key else _PROCESS_KEY


def sign_token(token: str, *, key: bytes) -> str:
    """The cookie value: the token and its HMAC-SHA256."""
    return f"{token}.{hmac.new(key, token.encode(), hashlib.sha256).hexdigest()}"


def verify_cookie(value: str | None, *, key: bytes) -> str | None:
    """The token inside a cookie value whose signature is right, else None."""
    if not value or value.count(".") != 1:
        return None
    token, signature = value.split(".")
    expected = hmac.new(key, token.encode(), hashlib.sha256).hexdigest()
    if not token or not hmac.compare_digest(signature, expected):
        return None
    return token


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def start_session(engine: Engine, *, user: CurrentUser, now: datetime | None = None) -> StartedSession:
    """Record a new sign-in session for `user` with a one-time ticket valid TICKET_SECONDS."""
    now = now or utcnow()
    ticket = secrets.token_urlsafe(32)
    with unit_of_work(engine, actor=user.username) as session:
        row = WebSession(
            user_id=user.id,
            ticket_hash=digest(ticket),
            ticket_expires_at=now + timedelta(seconds=TICKET_SECONDS),
            created_at=now,
            last_seen_at=now,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        return StartedSession(row.id, ticket)


def redeem_ticket(engine: Engine, *, ticket: str, now: datetime | None = None) -> str | None:
    """Trade a fresh, unused ticket of a live session for a new cookie token (once); else None."""
    now = now or utcnow()
    if not ticket:
        return None
    with unit_of_work(engine, actor="anonymous") as session:
        row = session.exec(select(WebSession).where(WebSession.ticket_hash == digest(ticket))).first()
        if row is None:
            return None
        session.info["actor"] = _username(session, row.user_id)
        # The ticket is spent whatever happens next.
        row.ticket_hash = None
        expires = row.ticket_expires_at
        row.ticket_expires_at = None
        if row.ended_at is not None or expires is None or _aware(expires) < now:
            return None
        token = secrets.token_urlsafe(32)
        row.token_hash = digest(token)
        row.last_seen_at = now
        record_event(session, action="session_cookie_issued", entity="web_session", entity_id=row.id or "")
    return token


def _username(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    return user.username if user else "anonymous"


def _end(session: Session, row: WebSession, *, reason: str, now: datetime) -> None:
    row.ended_at = now
    row.end_reason = reason
    row.ticket_hash = None
    row.ticket_expires_at = None


def _timed_out(row: WebSession, *, now: datetime, settings: Settings) -> str:
    if now - _aware(row.created_at) > timedelta(hours=settings.session_max_hours):
        return "absolute timeout"
    if now - _aware(row.last_seen_at) > timedelta(minutes=settings.idle_minutes):
        return "idle"
    return ""


def _check(
    engine: Engine, *, row_filter: object, settings: Settings, now: datetime | None, touch: bool
) -> LiveSession | None:
    now = now or utcnow()
    with Session(engine) as session:
        row = session.exec(select(WebSession).where(row_filter)).first()  # type: ignore[arg-type]
        if row is None or row.ended_at is not None:
            return None
        assert row.id is not None
        row_id = row.id
        reason = _timed_out(row, now=now, settings=settings)
        user = current_account(session, user_id=row.user_id) if not reason else None
        if not reason and user is None:
            reason = "account deactivated"
        stale = now - _aware(row.last_seen_at) >= TOUCH_EVERY
        ticket_pending = (row.ticket_hash is not None and row.ticket_expires_at is not None
                          and _aware(row.ticket_expires_at) >= now)
    if reason:
        end_session(engine, session_id=row_id, reason=reason, now=now)
        return None
    assert user is not None
    if touch and stale:
        _touch(engine, session_id=row_id, now=now)
    return LiveSession(row_id, user, ticket_pending)


def resume(
    engine: Engine, *, token: str, settings: Settings, now: datetime | None = None, announce: bool = False
) -> LiveSession | None:
    """The live session a cookie token refers to; ends it (and returns None) once a timeout has passed.

    `announce` audits the sign-in this makes in a new browser tab (a reload, a bookmark).
    """
    if not token:
        return None
    live = _check(engine, row_filter=WebSession.token_hash == digest(token), settings=settings, now=now,
                  touch=True)
    if live is not None and announce:
        with unit_of_work(engine, actor=live.user.username) as session:
            record_event(session, action="sign_in", entity="user", entity_id=live.user.id,
                         detail=f"resumed web session {live.id}")
    return live


def check_session(
    engine: Engine, *, session_id: int, settings: Settings, now: datetime | None = None, touch: bool = True
) -> LiveSession | None:
    """Like resume() for a session already known by id: None once it was ended anywhere or timed out."""
    return _check(engine, row_filter=WebSession.id == session_id, settings=settings, now=now, touch=touch)


def touch(engine: Engine, *, session_id: int, now: datetime | None = None) -> None:
    """Record activity, at most once per TOUCH_EVERY (each write is an audit row)."""
    now = now or utcnow()
    with Session(engine) as session:
        row = session.get(WebSession, session_id)
        if row is None or row.ended_at is not None or now - _aware(row.last_seen_at) < TOUCH_EVERY:
            return
    _touch(engine, session_id=session_id, now=now)


def _touch(engine: Engine, *, session_id: int, now: datetime) -> None:
    with unit_of_work(engine, actor="anonymous") as session:
        row = session.get(WebSession, session_id)
        if row is None or row.ended_at is not None:
            return
        session.info["actor"] = _username(session, row.user_id)
        row.last_seen_at = now


def end_session(engine: Engine, *, session_id: int, reason: str, now: datetime | None = None) -> bool:
    """End a session on the server (sign-out, timeout); False when it had already ended."""
    now = now or utcnow()
    with unit_of_work(engine, actor="anonymous") as session:
        row = session.get(WebSession, session_id)
        if row is None or row.ended_at is not None:
            return False
        session.info["actor"] = _username(session, row.user_id)
        _end(session, row, reason=reason, now=now)
    return True

