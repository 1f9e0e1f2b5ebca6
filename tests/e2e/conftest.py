"""Real-browser fixtures: one live `streamlit run server.py` server per test session, driven by Debian's Chromium."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from desk.database import make_engine, migrate
from desk.demo import load_demo
from desk.web_sessions import COOKIE_NAME

ROOT = Path(__file__).resolve().parent.parent.parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("DESK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DEMO_PASSWORD = "spravato-demo"
# The demo accounts desk/demo.py creates, and the roles each one holds.
DEMO_ACCOUNTS = {
    "admin": ("admin",),
    "billing": ("billing",),
    "nurse": ("nurse",),
    "lead": ("billing", "nurse"),
}
START_TIMEOUT_S = 180
# An upper bound for one step on a busy 2-core machine; every wait ends as soon as its element is there.
UI_TIMEOUT_MS = 90_000
expect.set_options(timeout=UI_TIMEOUT_MS)


@dataclass(frozen=True)
class LiveServer:
    """A running desk: its address, database and captured output."""

    base_url: str
    database_url: str
    log_path: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def running_desk(workdir: Path, database_url: str, log_path: Path, *, demo: bool = True) -> Iterator[LiveServer]:
    """`streamlit run` of the desk on a free port against `database_url`, until the block ends."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DESK_DATA_DIR": str(workdir),
        "DESK_DEMO": "1" if demo else "0",
        "PYTHONUNBUFFERED": "1",
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", "server.py",
                "--server.port", str(port),
                "--server.address", "127.0.0.1",
                "--server.headless", "true",
                "--browser.gatherUsageStats", "false",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while not _healthy(base_url):
                if process.poll() is not None:
                    pytest.fail(f"the app exited with {process.returncode}; see {log_path}:\n{log_path.read_text()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"the app did not become healthy within {START_TIMEOUT_S} s; see {log_path}")
                time.sleep(0.2)
            yield LiveServer(base_url, database_url, log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real app on a free port with a fresh SQLite file and demo data; output goes to server.log.

    The database is migrated and the demo loaded before the server starts (as `python -m desk init` and
    `python -m desk demo` would), so no browser step waits for that first-start work."""
    workdir = tmp_path_factory.mktemp("live")
    log_path = Path(os.environ.get("DESK_E2E_LOG", workdir / "server.log"))
    database_url = f"sqlite:///{workdir / 'desk.sqlite3'}"
    migrate(database_url)
    engine = make_engine(database_url)
    load_demo(engine)
    engine.dispose()
    with running_desk(workdir, database_url, log_path) as server:
        yield server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything in tests/e2e carries the e2e marker (select or skip with -m)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium through Playwright (Playwright's own browser download is not used)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (scripts/test.sh does this)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def browser(chromium: Browser) -> Iterator[Page]:
    """A fresh browser context (own cookies, own Streamlit session) per test; yields its page."""
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def wait_for_app(page: Page) -> None:
    """Wait until Streamlit has finished a script run (no 'running' indicator) and the app is on screen."""
    page.wait_for_selector("[data-testid=stApp]")
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=stStatusWidget]')"
        " && document.querySelector('[data-testid=stAppViewContainer]')"
    )


def wait_for_session_cookie(page: Page, *, held: bool = True) -> None:
    """Wait until the browser holds (or no longer holds) the sign-in cookie, which the page has it collect (or
    drop) in the background after a sign-in (or sign-out) in the tab."""
    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
    while any(cookie.get("name") == COOKIE_NAME for cookie in page.context.cookies()) != held:
        assert time.monotonic() < deadline, f"the sign-in cookie was {'never set' if held else 'not cleared'}"
        page.wait_for_timeout(20)


def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Open the desk, fill the sign-in form, submit, and wait for the result (page or error; once signed in, the
    sign-in cookie too, so a new address or a reload resumes the sign-in)."""
    page.goto(base_url)
    # The first page of a fresh server migrates and loads the demo data first.
    page.get_by_label("Username").wait_for(timeout=START_TIMEOUT_S * 1000)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_selector(
        "[data-testid=stSidebarNav], [data-testid=stAlertContentError]"
    )
    wait_for_app(page)
    if page.locator("[data-testid=stSidebarNav]").count():
        wait_for_session_cookie(page)


def sidebar_titles(page: Page) -> list[str]:
    """The page titles listed in the sidebar navigation."""
    links = page.locator("[data-testid=stSidebarNav] [data-testid=stSidebarNavLink]")
    texts = links.evaluate_all(
        """links => links.map(link => {
            const copy = link.cloneNode(true);
            copy.querySelectorAll('[data-testid=stIconMaterial]').forEach(icon => icon.remove());
            return copy.textContent;
        })"""
    )
    return [re.sub(r"\s+", " ", str(text)).strip() for text in texts]


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG to artifacts/screenshots/<name>.png (CI keeps that folder)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def fresh(page: Page) -> Locator:
    """Elements drawn by the current script run; the previous run's stay on screen (greyed, data-stale) until
    this run ends."""
    return page.locator("[data-testid=stElementContainer][data-stale=false]")


def notice(page: Page, text: str) -> None:
    """Wait for the notice `text` drawn by the run that an action started (not a copy left from an earlier run)."""
    expect(fresh(page).filter(has_text=text)).to_be_visible()
    wait_for_app(page)


def choose(page: Page, label: str, option: str) -> None:
    """Pick `option` in the Streamlit selectbox labelled `label`."""
    page.locator("[data-testid=stSelectbox]").filter(has_text=label).first.click()
    page.keyboard.type(option)
    page.keyboard.press("Enter")
    expect(page.get_by_role("combobox", name=label, exact=True)).to_have_value(option)
    wait_for_app(page)


def open_tab(page: Page, name: str) -> None:
    """Open a tab once the script run has settled; a rerun started by a callback (the audited download)
    can land just after the click and show the first tab again, so check and click again then. Only the tab
    strip holding this run's elements counts: a stale copy can stay in the page while a run is under way."""
    for _ in range(5):
        wait_for_app(page)
        tabs = page.locator("[data-testid=stTabs]").filter(has=fresh(page))
        tab = tabs.get_by_role("tab", name=name)
        tab.click()
        expect(tab).to_have_attribute("aria-selected", "true")
        wait_for_app(page)
        if tab.get_attribute("aria-selected") == "true":
            return
    raise AssertionError(f"the tab {name!r} did not stay open")


def set_date(container: Locator, label: str, value: date) -> None:
    """Type a date into Streamlit's date field, one segment (year, month, day) at a time."""
    for part, text in (("year", f"{value.year:04d}"), ("month", f"{value.month:02d}"), ("day", f"{value.day:02d}")):
        segment = container.get_by_role("spinbutton", name=f"{part}, {label}")
        segment.click()
        segment.press_sequentially(text)
        expect(segment).to_have_attribute("aria-valuenow", str(int(text)))


def type_time(field: Locator, moment: datetime) -> None:
    """Type a time into Streamlit's time field (`field` is its labelled group), one segment at a time: a click
    on the group lands on the minutes, so typing into the whole field would keep the old hour."""
    for part, value in (("hour", moment.hour), ("minute", moment.minute)):
        segment = field.get_by_role("spinbutton", name=re.compile(rf"^{part},"))
        segment.click()
        segment.press_sequentially(f"{value:02d}")
        expect(segment).to_have_attribute("aria-valuenow", str(value))
    field.page.keyboard.press("Tab")


def audit_rows(database_url: str, **where: str) -> list[tuple[str, str, str]]:
    """(actor, action, entity id) of the audit rows matching `where` (column = value), once the app has written
    them: the server writes a click's row while the browser already has the file, so this waits for the row."""
    from sqlmodel import Session, select

    from desk.models import AuditEvent

    engine = make_engine(database_url)
    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
    try:
        while True:
            with Session(engine) as session:
                query = select(AuditEvent)
                for column, value in where.items():
                    query = query.where(getattr(AuditEvent, column) == value)
                rows = [(e.actor, e.action, e.entity_id) for e in session.exec(query).all()]
            if rows or time.monotonic() > deadline:
                return rows
            time.sleep(0.1)
    finally:
        engine.dispose()
