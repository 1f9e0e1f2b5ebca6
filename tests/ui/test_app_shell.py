"""The entry point: sign-in gate and role-filtered navigation."""

from __future__ import annotations

import pytest

from tests.ui.conftest import AppFactory


def test_signed_out_sees_only_sign_in(page_app: AppFactory) -> None:
    at = page_app("app.py").run()
    assert not at.exception
    assert at.title[0].value.startswith("SPRAVATO")
    assert [b.label for b in at.button] == ["Sign in"]


def test_page_run_directly_while_signed_out_shows_only_prompt(page_app: AppFactory) -> None:
    at = page_app("pages/home.py").run()
    assert not at.exception
    assert "Please sign in" in at.info[0].value
    assert not at.title


def test_app_does_not_start_with_a_loosened_rems_limit(page_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESK_REMS_PMF_DUE_DAYS", "30")
    at = page_app("app.py").run()
    assert not at.exception
    assert "DESK_REMS_PMF_DUE_DAYS=30" in at.error[0].value
    assert not at.button, "no sign-in form: the desk did not start"
