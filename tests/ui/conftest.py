"""AppTest fixtures: the real app scripts against a real SQLite file, signed in as a chosen role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from desk.auth import CurrentUser, as_current_user
from desk.database import make_engine, unit_of_work
from desk.demo import load_demo
from desk.models import User, utcnow
from ui.guard import LAST_SEEN_KEY, USER_KEY

ROOT = Path(__file__).resolve().parent.parent.parent
AppFactory = Callable[..., AppTest]


@pytest.fixture
def app_db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Point the app at a fresh migrated SQLite file (demo loading off) and yield its engine."""
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("DESK_DEMO", "0")
    st.cache_resource.clear()
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()
    st.cache_resource.clear()


def ensure_account(engine: Engine, *, username: str, roles: tuple[str, ...]) -> CurrentUser:
    """An active account row with exactly `roles` (the guard re-reads the account on every run)."""
    with unit_of_work(engine, actor="tester") as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            user = User(username=username, display_name=username.title(), roles="")
        user.roles = ",".join(roles)
        user.active = True
        session.add(user)
        session.flush()
        return as_current_user(user)


@pytest.fixture
def demo_app_db(app_db: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """The app's database holding the demo clinic, served in demo mode (its accounts keep the demo password)."""
    load_demo(app_db)
    monkeypatch.setenv("DESK_DEMO", "1")
    return app_db


@pytest.fixture
def page_app(app_db: Engine) -> AppFactory:
    """Build an AppTest for a script (page file or app.py), optionally signed in with `roles`."""

    def build(script: str, *, roles: tuple[str, ...] | None = None, username: str = "tester",
              timeout: float = 30) -> AppTest:
        at = AppTest.from_file(str(ROOT / script), default_timeout=timeout)
        if roles is not None:
            at.session_state[USER_KEY] = ensure_account(app_db, username=username, roles=roles)
            at.session_state[LAST_SEEN_KEY] = utcnow()
        return at

    return build
