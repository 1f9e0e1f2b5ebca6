"""Outside demo mode the published demo password opens nothing, and the desk will not start while an account has it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from desk.auth import DEMO_PASSWORD, sign_in_with_password
from desk.bootstrap import prepare_database
from desk.database import unit_of_work
from desk.errors import SignInFailed, StartRefused
from desk.models import AuditEvent, User
from desk.settings import load_settings
from desk.users import accounts_with_demo_password, reset_password
from tests.factories import make_user

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def demo_accounts(engine: Engine, fast_hasher: PasswordHasher) -> list[str]:
    """Two demo accounts with the demo password, one real account, one inactive demo account."""
    with unit_of_work(engine, actor="tester") as session:
        for username, active in (("nurse", True), ("billing", True), ("old-demo", False)):
            make_user(session, hasher=fast_hasher, username=username, is_demo=True, active=active,
                      password_hash=fast_hasher.hash(DEMO_PASSWORD))
        make_user(session, hasher=fast_hasher, username="real.admin", roles="admin")
    return ["billing", "nurse"]


def _start(db_url: str, *, demo: bool) -> Engine:
    return prepare_database(replace(load_settings(), database_url=db_url, demo=demo))


def test_start_is_refused_while_an_active_account_has_the_demo_password(
    engine: Engine, db_url: str, demo_accounts: list[str]
) -> None:
    with Session(engine) as session:
        assert accounts_with_demo_password(session) == demo_accounts
    with pytest.raises(StartRefused) as refused:
        _start(db_url, demo=False)
    message = str(refused.value)
    assert "DESK_DEMO=0" in message and "billing, nurse" in message
    assert "python -m desk users password --username billing" in message
    assert "python -m desk users deactivate --username billing" in message
    _start(db_url, demo=True).dispose()  # the demo itself still starts


def test_new_passwords_and_deactivation_through_the_cli_let_it_start(
    engine: Engine, db_url: str, demo_accounts: list[str]
) -> None:
    env = {**os.environ, "DATABASE_URL": db_url, "DESK_DEMO": "0", "DESK_PASSWORD": "a new long passphrase"}
    changed = subprocess.run([sys.executable, "-m", "desk", "users", "password", "--username", "billing"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert changed.returncode == 0, changed.stderr
    with pytest.raises(StartRefused, match="still have the published demo password: nurse"):
        _start(db_url, demo=False)
    stopped = subprocess.run([sys.executable, "-m", "desk", "users", "deactivate", "--username", "nurse"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert stopped.returncode == 0, stopped.stderr
    _start(db_url, demo=False).dispose()
    with Session(engine) as session:
        actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.entity == "user")).all()]
    assert actions.count("update") >= 2, "both changes are audited"
    unknown = subprocess.run([sys.executable, "-m", "desk", "users", "deactivate", "--username", "nobody"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert unknown.returncode != 0 and "no account named 'nobody'" in unknown.stderr


def test_demo_password_is_refused_at_sign_in_outside_demo_mode(
    engine: Engine, demo_accounts: list[str], fast_hasher: PasswordHasher
) -> None:
    with pytest.raises(SignInFailed):
        sign_in_with_password(engine, username="nurse", password=DEMO_PASSWORD, hasher=fast_hasher, demo=False)
    with Session(engine) as session:
        refused = session.exec(select(AuditEvent).where(AuditEvent.action == "sign_in_failed")).all()
        assert [e.detail for e in refused] == ["demo password"]
        assert session.exec(select(User).where(User.username == "nurse")).one().failed_attempts == 1
    assert sign_in_with_password(engine, username="nurse", password=DEMO_PASSWORD, hasher=fast_hasher,
                                 demo=True).username == "nurse"


def test_a_reset_password_is_no_longer_the_demo_one(engine: Engine, demo_accounts: list[str],
                                                     fast_hasher: PasswordHasher) -> None:
    with unit_of_work(engine, actor="tester") as session:
        nurse = session.exec(select(User).where(User.username == "nurse")).one()
        assert nurse.id is not None
        reset_password(session, user_id=nurse.id, password="another long passphrase", hasher=fast_hasher)
    with Session(engine) as session:
        assert accounts_with_demo_password(session) == ["billing"]
        assert not session.exec(select(User).where(User.username == "nurse")).one().is_demo
