"""Local sign-in, lockout, idle timeout, organisation (OIDC) sign-in and role checks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from desk.auth import (
    GENERIC_FAILURE,
    CurrentUser,
    current_account,
    idle_expired,
    require,
    sign_in_with_email,
    sign_in_with_password,
    sign_out_event,
)
from desk.database import unit_of_work
from desk.errors import PermissionDenied, SignInFailed
from desk.models import AuditEvent, User, utcnow
from tests.factories import make_user

PASSWORD = "correct horse battery"


def _account(engine: Engine, hasher: PasswordHasher, **overrides: object) -> int:
    with unit_of_work(engine, actor="tester") as session:
        user = make_user(session, hasher=hasher, **overrides)  # type: ignore[arg-type]
        assert user.id is not None
        return user.id


def _sign_in(engine: Engine, hasher: PasswordHasher, username: str, password: str) -> CurrentUser:
    return sign_in_with_password(engine, username=username, password=password, hasher=hasher)


def _events(engine: Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _user(engine: Engine, user_id: int) -> User:
    with Session(engine) as session:
        user = session.get(User, user_id)
        assert user is not None
        return user


def test_sign_in_returns_roles_and_is_audited(engine: Engine, fast_hasher: PasswordHasher) -> None:
    user_id = _account(engine, fast_hasher, username="casey", roles="billing,nurse")
    user = _sign_in(engine, fast_hasher, " Casey ", PASSWORD)
    assert (user.id, user.username, user.roles) == (user_id, "casey", ("billing", "nurse"))
    [event] = _events(engine, "sign_in")
    assert (event.actor, event.entity, event.entity_id) == ("casey", "user", str(user_id))
    assert _user(engine, user_id).last_sign_in_at is not None


def test_wrong_password_and_unknown_user_give_the_same_message(engine: Engine, fast_hasher: PasswordHasher) -> None:
    _account(engine, fast_hasher, username="casey")
    with pytest.raises(SignInFailed) as wrong:
        _sign_in(engine, fast_hasher, "casey", "not the password")
    with pytest.raises(SignInFailed) as unknown:
        _sign_in(engine, fast_hasher, "nobody", PASSWORD)
    assert str(wrong.value) == str(unknown.value) == GENERIC_FAILURE
    failures = _events(engine, "sign_in_failed")
    assert [(e.actor, e.detail) for e in failures] == [("casey", "wrong password"), ("anonymous", "unknown username")]
    assert all(PASSWORD not in e.detail and "not the password" not in e.detail for e in failures)


def test_five_failures_lock_for_fifteen_minutes(engine: Engine, fast_hasher: PasswordHasher) -> None:
    user_id = _account(engine, fast_hasher, username="casey")
    for _ in range(4):
        with pytest.raises(SignInFailed):
            _sign_in(engine, fast_hasher, "casey", "wrong")
    assert _user(engine, user_id).locked_until is None
    with pytest.raises(SignInFailed):
        _sign_in(engine, fast_hasher, "casey", "wrong")
    locked_until = _user(engine, user_id).locked_until
    assert locked_until is not None
    assert timedelta(minutes=14) < locked_until - utcnow() <= timedelta(minutes=15)
    assert _events(engine, "sign_in_failed")[-1].detail == "wrong password; locked for 15 minutes"
    # The right password does not help while locked, and the message does not say so.
    with pytest.raises(SignInFailed, match="not correct, or the account is locked"):
        _sign_in(engine, fast_hasher, "casey", PASSWORD)
    assert _events(engine, "sign_in_failed")[-1].detail == "locked"
    # After the lock expires the right password works again.
    with unit_of_work(engine, actor="tester") as session:
        user = session.get(User, user_id)
        assert user is not None
        user.locked_until = utcnow() - timedelta(seconds=1)
    assert _sign_in(engine, fast_hasher, "casey", PASSWORD).id == user_id
    assert _user(engine, user_id).failed_attempts == 0


def test_lockout_settings_are_honoured(engine: Engine, fast_hasher: PasswordHasher) -> None:
    user_id = _account(engine, fast_hasher, username="casey")
    for _ in range(2):
        with pytest.raises(SignInFailed):
            sign_in_with_password(engine, username="casey", password="wrong", max_attempts=2, lockout_minutes=60,
                                  hasher=fast_hasher)
    locked_until = _user(engine, user_id).locked_until
    assert locked_until is not None and locked_until - utcnow() > timedelta(minutes=59)


def test_inactive_account_cannot_sign_in(engine: Engine, fast_hasher: PasswordHasher) -> None:
    _account(engine, fast_hasher, username="casey", active=False)
    with pytest.raises(SignInFailed, match="not correct"):
        _sign_in(engine, fast_hasher, "casey", PASSWORD)
    assert _events(engine, "sign_in_failed")[-1].detail == "inactive"


def test_idle_expired() -> None:
    now = utcnow()
    assert not idle_expired(last_seen=now - timedelta(minutes=30), now=now, idle_minutes=30)
    assert idle_expired(last_seen=now - timedelta(minutes=30, seconds=1), now=now, idle_minutes=30)


def test_organisation_sign_in_maps_email_to_our_roles(engine: Engine, fast_hasher: PasswordHasher) -> None:
    user_id = _account(engine, fast_hasher, username="robin", roles="nurse", email="robin@clinic.org")
    user = sign_in_with_email(engine, email=" Robin@Clinic.org ")
    assert (user.id, user.roles) == (user_id, ("nurse",))
    assert _events(engine, "sign_in")[-1].detail == "oidc"
    with pytest.raises(SignInFailed, match="not registered on this desk"):
        sign_in_with_email(engine, email="stranger@elsewhere.org")
    failure = _events(engine, "sign_in_failed")[-1]
    assert (failure.actor, failure.detail) == ("anonymous", "oidc: no active account")
    assert "stranger" not in failure.detail


def test_organisation_sign_in_refuses_inactive_and_blank(engine: Engine, fast_hasher: PasswordHasher) -> None:
    _account(engine, fast_hasher, username="robin", email="robin@clinic.org", active=False)
    _account(engine, fast_hasher, username="blank", email="")
    for email in ("robin@clinic.org", "", "  "):
        with pytest.raises(SignInFailed):
            sign_in_with_email(engine, email=email)


def test_current_account_follows_role_changes_and_deactivation(engine: Engine, fast_hasher: PasswordHasher) -> None:
    user_id = _account(engine, fast_hasher, roles="billing")
    with unit_of_work(engine, actor="tester") as session:
        account = current_account(session, user_id=user_id)
        assert account is not None and account.roles == ("billing",)
        user = session.get(User, user_id)
        assert user is not None
        user.roles = "billing,admin"
    with Session(engine) as session:
        account = current_account(session, user_id=user_id)
        assert account is not None and account.roles == ("billing", "admin")
    with unit_of_work(engine, actor="tester") as session:
        user = session.get(User, user_id)
        assert user is not None
        user.active = False
    with Session(engine) as session:
        assert current_account(session, user_id=user_id) is None
        assert current_account(session, user_id=999_999) is None


def test_sign_out_is_audited(engine: Engine) -> None:
    sign_out_event(engine, user=CurrentUser(7, "casey", "Casey", ("nurse",)), reason="idle")
    [event] = _events(engine, "sign_out")
    assert (event.actor, event.entity_id, event.detail) == ("casey", "7", "idle")


def test_require_checks_roles() -> None:
    nurse = CurrentUser(1, "n", "N", ("nurse",))
    assert require(nurse, "nurse", "admin") is nurse
    with pytest.raises(PermissionDenied):
        require(nurse, "admin")
    with pytest.raises(PermissionDenied):
        require(None, "nurse")


def _burst(engine: Engine, hasher: PasswordHasher, passwords: list[str], max_attempts: int) -> list[str]:
    """Sign in with each password at once from its own thread; 'ok' or the error's type per attempt."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    start = Barrier(len(passwords))

    def attempt(password: str) -> str:
        start.wait()
        try:
            sign_in_with_password(engine, username="casey", password=password, hasher=hasher,
                                  max_attempts=max_attempts)
            return "ok"
        except Exception as exc:
            return type(exc).__name__

    with ThreadPoolExecutor(len(passwords)) as pool:
        return list(pool.map(attempt, passwords))


def test_twenty_simultaneous_sign_ins_are_each_counted_and_the_right_password_gets_in(
    engine: Engine, fast_hasher: PasswordHasher
) -> None:
    user_id = _account(engine, fast_hasher, username="casey", password=PASSWORD)
    results = _burst(engine, fast_hasher, ["wrong"] * 10 + [PASSWORD] + ["wrong"] * 9, max_attempts=50)
    assert sorted(results) == ["SignInFailed"] * 19 + ["ok"]
    assert len(_events(engine, "sign_in")) == 1
    assert len(_events(engine, "sign_in_failed")) == 19
    assert _user(engine, user_id).failed_attempts <= 19


def test_a_burst_of_wrong_passwords_locks_the_account_exactly_once(
    engine: Engine, fast_hasher: PasswordHasher
) -> None:
    user_id = _account(engine, fast_hasher, username="casey", password=PASSWORD)
    results = _burst(engine, fast_hasher, ["wrong"] * 20, max_attempts=5)
    assert results == ["SignInFailed"] * 20
    details = sorted(event.detail for event in _events(engine, "sign_in_failed"))
    assert details == ["locked"] * 15 + ["wrong password"] * 4 + ["wrong password; locked for 15 minutes"]
    user = _user(engine, user_id)
    assert user.locked_until is not None and user.failed_attempts == 0
