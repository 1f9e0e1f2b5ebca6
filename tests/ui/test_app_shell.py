"""The entry point: sign-in gate and role-filtered navigation."""

from __future__ import annotations

import logging

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from desk.auth import DEMO_PASSWORD
from desk.database import unit_of_work
from tests.factories import make_user
from tests.ui.conftest import AppFactory
from tests.ui.screen import shown
from ui.faults import keep_values_out_of_the_log


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


def test_an_unplanned_error_shows_a_reference_and_logs_no_values(
    page_app: AppFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("duplicate key value (mrn)=(MRN-4242) for Calder Sampleton, born 1970-02-03")

    monkeypatch.setattr("desk.today.prior_auth_today", broken)
    at = page_app("app.py", roles=("billing",)).run()  # Today, billing's start page, run by app.py's navigation
    assert not at.exception, "the desk's handler, not Streamlit's traceback"
    message = shown(at.error[0].value)
    assert message.startswith("Something unexpected went wrong and nothing was saved. Quote reference")
    reference = message.split("reference ")[1].split()[0]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert reference in logged and "RuntimeError" in logged
    assert "Sampleton" not in logged and "MRN-4242" not in logged and "1970" not in logged


def test_streamlits_own_traceback_record_is_dropped_from_the_log() -> None:
    keep_values_out_of_the_log()
    logger = logging.getLogger("streamlit.error_util")
    kept = logging.LogRecord("streamlit.error_util", logging.ERROR, __file__, 1, "Uncaught app execution", (), None)
    other = logging.LogRecord("streamlit.error_util", logging.ERROR, __file__, 1, "something else", (), None)
    assert not logger.filter(kept) and logger.filter(other)
