"""Server-side sign-in sessions: one-time tickets, signed cookies, idle and absolute timeouts, sign-out."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from desk.auth import CurrentUser, as_current_user
from desk.database import unit_of_work
from desk.models import AuditEvent, User, WebSession, utcnow
from desk.settings import SECRET_KEY_MISSING, SecretKeyMissing, Settings, require_secret_key
from desk.web_sessions import (
    TICKET_SECONDS,
    check_session,
    digest,
    end_session,
    redeem_ticket,
    resume,
    sign_token,
    signing_key,
    start_session,
    touch,
    verify_cookie,
)
from tests.factories import make_user

SETTINGS = Settings(database_url="unused", data_dir=Path("."), idle_minutes=30, session_max_hours=12)


@pytest.fixture
def user(engine: Engine, fast_hasher: PasswordHasher) -> CurrentUser:
    with unit_of_work(engine, actor="tester") as session:
        return as_current_user(make_user(session, hasher=fast_hasher))


def _row(engine: Engine, session_id: int) -> WebSession:
    with Session(engine) as session:
        row = session.get(WebSession, session_id)
        assert row is not None
        return row


def _audit(engine: Engine, entity: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.entity == entity)
                                 .order_by(col(AuditEvent.id))).all())


def test_ticket_buys_one_cookie_token_and_the_token_resumes_the_session(engine: Engine, user: CurrentUser) -> None:
    started = start_session(engine, user=user)
    row = _row(engine, started.id)
    assert row.ticket_hash == digest(started.ticket) and row.token_hash is None
    token = redeem_ticket(engine, ticket=started.ticket)
    assert token is not None
    assert redeem_ticket(engine, ticket=started.ticket) is None  # single use
    row = _row(engine, started.id)
    assert row.token_hash == digest(token) and row.ticket_hash is None
    assert token not in (row.token_hash or "")
    live = resume(engine, token=token, settings=SETTINGS, announce=True)
    assert live is not None and live.id == started.id and live.user == user
    assert resume(engine, token=token + "x", settings=SETTINGS) is None
    writes = _audit(engine, "web_session")
    assert [(e.action, e.actor) for e in writes[:1]] == [("create", user.username)]
    assert any(e.action == "session_cookie_issued" for e in writes)
    with Session(engine) as session:
        resumed = session.exec(select(AuditEvent).where(AuditEvent.detail == f"resumed web session {started.id}")).all()
    assert [(e.action, e.actor) for e in resumed] == [("sign_in", user.username)]


def test_an_expired_ticket_is_refused_and_spent(engine: Engine, user: CurrentUser) -> None:
    started = start_session(engine, user=user)
    later = utcnow() + timedelta(seconds=TICKET_SECONDS + 1)
    assert redeem_ticket(engine, ticket=started.ticket, now=later) is None
    assert _row(engine, started.id).token_hash is None
    assert redeem_ticket(engine, ticket=started.ticket) is None
    assert redeem_ticket(engine, ticket="") is None
    assert redeem_ticket(engine, ticket="never-issued") is None


def test_idle_timeout_ends_the_session_on_the_server(engine: Engine, user: CurrentUser) -> None:
    started = start_session(engine, user=user)
    token = redeem_ticket(engine, ticket=started.ticket)
    assert token is not None
    idle = utcnow() + timedelta(minutes=31)
    assert resume(engine, token=token, settings=SETTINGS, now=idle) is None
    row = _row(engine, started.id)
    assert row.ended_at is not None and row.end_reason == "idle"
    assert resume(engine, token=token, settings=SETTINGS) is None


def test_activity_does_not_outlast_the_absolute_timeout(engine: Engine, user: CurrentUser) -> None:
    started = start_session(engine, user=user)
    token = redeem_ticket(engine, ticket=started.ticket)
    assert token is not None
    now = utcnow()
    for minutes in range(20, 12 * 60, 20):  # active every 20 minutes for 12 hours
        assert resume(engine, token=token, settings=SETTINGS, now=now + timedelta(minutes=minutes)) is not None
    assert resume(engine, token=token, settings=SETTINGS, now=now + timedelta(hours=12, minutes=1)) is None
    assert _row(engine, started.id).end_reason == "absolute timeout"
    shorter = replace(SETTINGS, session_max_hours=1)
    second = start_session(engine, user=user)
    assert check_session(engine, session_id=second.id, settings=shorter, now=utcnow() + timedelta(minutes=61),
                         touch=False) is None
    assert _row(engine, second.id).end_reason == "absolute timeout"


def test_touch_writes_at_most_once_a_minute(engine: Engine, user: CurrentUser) -> None:
    started = start_session(engine, user=user)
    now = utcnow()
    before = len(_audit(engine, "web_session"))
    for seconds in (10, 20, 30, 50):
        touch(engine, session_id=started.id, now=now + timedelta(seconds=seconds))
    assert len(_audit(engine, "web_session")) == before
    touch(engine, session_id=started.id, now=now + timedelta(seconds=61))
    after = _audit(engine, "web_session")
    assert len(after) == before + 1 and after[-1].fields == "last_seen_at"
    assert _row(engine, started.id).last_seen_at > now


def test_sign_out_ends_the_session_and_the_stolen_token_is_refused(engine: Engine, user: CurrentUser) -> None:
    started = start_session(engine, user=user)
    token = redeem_ticket(engine, ticket=started.ticket)
    assert token is not None
    assert end_session(engine, session_id=started.id, reason="user")
    assert not end_session(engine, session_id=started.id, reason="user")
    assert resume(engine, token=token, settings=SETTINGS) is None
    assert check_session(engine, session_id=started.id, settings=SETTINGS) is None
    row = _row(engine, started.id)
    assert row.end_reason == "user"
    ended = [e for e in _audit(engine, "web_session") if e.action == "update" and "ended_at" in e.fields]
    assert [(e.actor, e.action) for e in ended] == [(user.username, "update")]


def test_a_deactivated_account_ends_its_session(engine: Engine, user: CurrentUser) -> None:
    started = start_session(engine, user=user)
    with unit_of_work(engine, actor="admin") as session:
        account = session.get(User, user.id)
        assert account is not None
        account.active = False
    assert check_session(engine, session_id=started.id, settings=SETTINGS) is None
    assert _row(engine, started.id).end_reason == "account deactivated"


def test_cookie_signature_is_checked() -> None:
    key = b"k" * 32
    value = sign_token("abc", key=key)
    assert verify_cookie(value, key=key) == "abc"
    token, signature = value.split(".")
    flipped = signature[:-1] + ("1" if signature[-1] == "0" else "0")
    forged = [
        None, "", "abc", f"abd.{signature}", f"{token}.{flipped}",
        sign_token("abc", key=b"other key"), f"{value}.extra", f".{signature}",
    ]
    for bad in forged:
        assert verify_cookie(bad, key=key) is None, bad


def test_the_secret_key_is_required_outside_demo_mode() -> None:
    with pytest.raises(SecretKeyMissing) as refused:
        require_secret_key(replace(SETTINGS, demo=False, secret_key="  "))
    assert str(refused.value) == SECRET_KEY_MISSING and "DESK_SECRET_KEY" in SECRET_KEY_MISSING
    assert require_secret_key(replace(SETTINGS, demo=False, secret_key="s3cret")) == "s3cret"
    demo_key = signing_key(replace(SETTINGS, demo=True, secret_key=""))
    assert len(demo_key) == 32 and demo_key == signing_key(replace(SETTINGS, demo=True, secret_key=""))
    assert signing_key(replace(SETTINGS, secret_key="s3cret")) == b"s3cret"
