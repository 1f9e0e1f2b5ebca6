"""The entry point: sign-in gate and role-filtered navigation."""

from __future__ import annotations

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
