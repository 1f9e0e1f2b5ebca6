"""The entry point: sign-in gate and role-filtered navigation."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from desk.auth import DEMO_PASSWORD
from desk.database import unit_of_work
from tests.factories import make_user
from tests.ui.conftest import AppFactory
from tests.ui.screen import shown


def test_signed_out_sees_only_sign_in(page_app: AppFactory) -> None:
    at = page_app("app.py").run()
    assert not at.exception
    assert shown(at.title[0].value).startswith("SPRAVATO")
    assert [b.label for b in at.button] == ["Sign in"]


def test_page_run_directly_while_signed_out_shows_only_prompt(page_app: AppFactory) -> None:
    at = page_app("pages/home.py").run()
    assert not at.exception
    assert "Please sign in" in shown(at.info[0].value)
    assert not at.title


def test_start_refused_with_the_demo_password_shows_how_to_fix(page_app: AppFactory, app_db: Engine,
                                                               fast_hasher: PasswordHasher) -> None:
    with unit_of_work(app_db, actor="tester") as session:
        make_user(session, hasher=fast_hasher, username="nurse", is_demo=True,
                  password_hash=fast_hasher.hash(DEMO_PASSWORD))
    at = page_app("app.py").run()
    assert not at.exception
    assert "python -m desk users password --username nurse" in shown(at.error[0].value)
    assert not at.text_input, "no sign-in form while the start is refused"


def test_app_does_not_start_with_a_loosened_rems_limit(page_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESK_REMS_PMF_DUE_DAYS", "30")
    at = page_app("app.py").run()
    assert not at.exception
    assert "DESK_REMS_PMF_DUE_DAYS=30" in shown(at.error[0].value)
    assert not at.button, "no sign-in form: the desk did not start"
