"""The admin screens in a real browser: they render without errors, and the audit export is itself audited."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from desk.database import make_engine
from desk.models import AuditEvent
from tests.e2e.conftest import DEMO_PASSWORD, LiveServer, screenshot, sign_in, wait_for_app

ADMIN_SCREENS = [("Users", "admin-users"), ("Sites & prescribers", "admin-sites"), ("Audit log", "audit-log")]


def _open(page: Page, title: str) -> None:
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    wait_for_app(page)


@pytest.mark.parametrize(("title", "name"), ADMIN_SCREENS, ids=[n for _, n in ADMIN_SCREENS])
def test_admin_screen_renders(live_server: LiveServer, browser: Page, title: str, name: str) -> None:
    sign_in(browser, live_server.base_url, "admin", DEMO_PASSWORD)
    _open(browser, title)
    expect(browser.locator("[data-testid=stException]")).to_have_count(0)
    expect(browser.locator("[data-testid=stDataFrame]").first).to_be_visible()
    screenshot(browser, name)


def test_audit_export_downloads_csv_and_is_audited(live_server: LiveServer, browser: Page) -> None:
    sign_in(browser, live_server.base_url, "admin", DEMO_PASSWORD)
    _open(browser, "Audit log")
    with browser.expect_download() as download_info:
        browser.get_by_role("button", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("audit-log-") and download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(download.path().read_text(encoding="utf-8"))))
    assert rows and {"actor", "action", "entity", "fields"} <= set(rows[0])
    assert any(row["action"] == "sign_in" and row["actor"] == "admin" for row in rows)
    engine = make_engine(live_server.database_url)
    with Session(engine) as session:
        exports = session.exec(select(AuditEvent).where(AuditEvent.action == "export",
                                                        AuditEvent.entity == "audit_event")).all()
    engine.dispose()
    assert [e.actor for e in exports] == ["admin"]
    assert exports[0].detail == f"csv, {len(rows)} rows"
