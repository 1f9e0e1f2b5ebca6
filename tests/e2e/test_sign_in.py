"""Signing in through a real browser: each demo role sees exactly its pages; bad passwords get one generic error."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from desk.auth import GENERIC_FAILURE
from desk.database import make_engine
from desk.models import AuditEvent
from desk.navigation import pages_for
from tests.e2e.conftest import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    LiveServer,
    screenshot,
    sidebar_titles,
    sign_in,
    wait_for_app,
)


@pytest.mark.parametrize("username", list(DEMO_ACCOUNTS))
def test_each_role_sees_only_its_pages(live_server: LiveServer, browser: Page, username: str) -> None:
    sign_in(browser, live_server.base_url, username, DEMO_PASSWORD)
    expect(browser.get_by_role("heading", name="Today")).to_be_visible()
    expected = [spec.title for spec in pages_for(DEMO_ACCOUNTS[username])]
    assert sidebar_titles(browser) == expected
    sidebar = browser.locator("[data-testid=stSidebar]")
    expect(sidebar.get_by_role("button", name="Sign out")).to_be_visible()
    screenshot(browser, f"landing-{username}")


def test_wrong_password_shows_the_generic_error(live_server: LiveServer, browser: Page) -> None:
    sign_in(browser, live_server.base_url, "nurse", "not the password")
    expect(browser.get_by_text(GENERIC_FAILURE)).to_be_visible()
    expect(browser.locator("[data-testid=stSidebarNav]")).to_have_count(0)
    screenshot(browser, "sign-in-failed")


def test_signed_out_visitor_opening_an_admin_url_gets_the_sign_in_form(live_server: LiveServer, browser: Page) -> None:
    browser.goto(f"{live_server.base_url}/admin_users")
    wait_for_app(browser)
    expect(browser.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    expect(browser.get_by_role("heading", name="Users", exact=True)).to_have_count(0)


def test_sign_out_returns_to_the_sign_in_form(live_server: LiveServer, browser: Page) -> None:
    sign_in(browser, live_server.base_url, "billing", DEMO_PASSWORD)
    browser.locator("[data-testid=stSidebar]").get_by_role("button", name="Sign out").click()
    expect(browser.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    expect(browser.locator("[data-testid=stSidebarNav]")).to_have_count(0)
    engine = make_engine(live_server.database_url)
    with Session(engine) as session:
        actors = session.exec(select(AuditEvent.actor).where(AuditEvent.action == "sign_out")).all()
    engine.dispose()
    assert "billing" in actors
