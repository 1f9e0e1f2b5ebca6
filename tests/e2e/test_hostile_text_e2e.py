"""Hostile stored text in a real Chromium: no request leaves for another host and no payload script runs.

The clinic's free-text fields all hold the corpus of tests/hostile_text.py (images, links, iframes, meta
refresh, forms, svg scripts, KaTeX, directives, autolinks). Billing and a nurse walk Today, the patient
list, a patient record with every tab, a PA case, the session log and the REMS dashboard.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page
from sqlmodel import Session, select

from desk.database import make_engine, migrate
from desk.demo import load_demo
from desk.models import Patient, PriorAuthCase
from tests.e2e.conftest import (
    DEMO_PASSWORD,
    UI_TIMEOUT_MS,
    LiveServer,
    running_desk,
    screenshot,
    sign_in,
    wait_for_app,
)
from tests.hostile_text import MARKER, fill_with_hostile_text


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real app on a demo clinic whose free-text fields all hold hostile text."""
    workdir = tmp_path_factory.mktemp("hostile-live")
    database_url = f"sqlite:///{workdir / 'desk.sqlite3'}"
    migrate(database_url)
    engine = make_engine(database_url)
    load_demo(engine)
    fill_with_hostile_text(engine)
    engine.dispose()
    with running_desk(workdir, database_url, workdir / "server.log") as server:
        yield server


@pytest.fixture
def watched(chromium: Browser, hostile_server: LiveServer) -> Iterator[tuple[Page, list[str]]]:
    """A fresh browser context whose every request URL is recorded."""
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(UI_TIMEOUT_MS)
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    yield page, requests
    context.close()


def _mrn_with_a_case(database_url: str) -> str:
    engine = make_engine(database_url)
    with Session(engine) as session:
        case = session.exec(select(PriorAuthCase).order_by(PriorAuthCase.id)).first()
        assert case is not None
        patient = session.get(Patient, case.patient_id)
        assert patient is not None
        mrn = patient.mrn
    engine.dispose()
    return mrn


def _open_sidebar_page(page: Page, title: str, heading: str) -> None:
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name=title, exact=True).click()
    page.get_by_role("heading", name=heading).first.wait_for()
    wait_for_app(page)


def _elsewhere(requests: list[str], base_url: str) -> list[str]:
    own = urlsplit(base_url).netloc
    return [url for url in requests if urlsplit(url).scheme in ("http", "https", "ws", "wss")
            and urlsplit(url).netloc != own]


def _assert_inert(page: Page, requests: list[str], base_url: str, name: str) -> None:
    screenshot(page, f"hostile-{name}")
    assert page.evaluate("() => window.__hostile === undefined"), "a payload script ran"
    assert page.locator("[data-testid=stMain] iframe, [data-testid=stMain] form[action]").count() == 0
    assert page.locator("[data-testid=stMain] img[src*='127.0.0.9']").count() == 0
    assert page.locator("[data-testid=stMain] a[href*='127.0.0.9'], a[href^='javascript']").count() == 0
    assert page.locator(".katex").count() == 0
    assert _elsewhere(requests, base_url) == []


def test_billing_walks_today_record_and_case(watched: tuple[Page, list[str]], hostile_server: LiveServer) -> None:
    page, requests = watched
    sign_in(page, hostile_server.base_url, "billing", DEMO_PASSWORD)
    page.get_by_role("heading", name="Today").wait_for()
    _assert_inert(page, requests, hostile_server.base_url, "today-billing")

    _open_sidebar_page(page, "Patients", "Patients")
    mrn = _mrn_with_a_case(hostile_server.database_url)
    page.get_by_role("textbox", name="Search").fill(mrn)
    page.get_by_role("textbox", name="Search").press("Enter")
    page.get_by_text("1 patient(s)").wait_for()
    wait_for_app(page)
    page.get_by_role("button", name="Open record").click()
    page.get_by_role("tab", name="Authorizations").wait_for()
    wait_for_app(page)
    main = page.locator("[data-testid=stMain]")
    assert MARKER in main.inner_text(), "the record's hostile name is on screen as text"
    for tab in page.get_by_role("tab").all():
        tab.click()
    _assert_inert(page, requests, hostile_server.base_url, "record-billing")

    page.get_by_role("tab", name="Authorizations").click()
    page.locator("[data-testid=stMain]").get_by_role("link", name=re.compile(r"Case #\d+")).first.click()
    page.get_by_role("heading", name=re.compile(r"^PA #\d+")).wait_for()
    wait_for_app(page)
    assert MARKER in page.locator("[data-testid=stMain]").inner_text()
    _assert_inert(page, requests, hostile_server.base_url, "case-billing")


def test_nurse_walks_session_log_and_rems_dashboard(watched: tuple[Page, list[str]],
                                                    hostile_server: LiveServer) -> None:
    page, requests = watched
    sign_in(page, hostile_server.base_url, "nurse", DEMO_PASSWORD)
    page.get_by_role("heading", name="Today").wait_for()
    _assert_inert(page, requests, hostile_server.base_url, "today-nurse")
    _open_sidebar_page(page, "REMS dashboard", "REMS dashboard")
    _assert_inert(page, requests, hostile_server.base_url, "rems-dashboard-nurse")
    _open_sidebar_page(page, "Session log", "Session log")
    _assert_inert(page, requests, hostile_server.base_url, "session-log-nurse")

