"""Every registered page as every demo role and as a signed-out visitor, in a real Chromium.

Allowed pages render without a Streamlit exception or a traceback and are photographed full length into
artifacts/screenshots/<role>__<page>.png. A page the role may not open is never shown: its URL, typed into the
address bar or pushed onto the history of a signed-in tab, ends on the sign-in form, the refusal or the
user's own start page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from desk.navigation import PAGES, PageSpec
from tests.e2e.conftest import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    SCREENSHOTS,
    UI_TIMEOUT_MS,
    LiveServer,
    sidebar_titles,
    sign_in,
    wait_for_app,
)
from ui.guard import REFUSAL, SIGN_IN_PROMPT

VIEWPORT = {"width": 1366, "height": 900}
PATIENTS = next(spec for spec in PAGES if spec.url_path == "patients")
MAX_SCREENSHOT_HEIGHT = 8000
# What an uncaught exception looks like on screen, whatever showErrorDetails is set to.
EXCEPTION_TEXT = re.compile(r"Traceback \(most recent call last\)|\b[A-Z][A-Za-z]*(Error|Exception): ")

ALLOWED = [
    pytest.param(role, spec, id=f"{role}-{spec.url_path}")
    for role, roles in DEMO_ACCOUNTS.items()
    for spec in PAGES
    if set(roles) & set(spec.roles)
]
# Each page's own heading, the element that proves a run of that page has drawn (records show the patient or case).
HEADINGS: dict[str, re.Pattern[str]] = {
    spec.url_path: re.compile(rf"^{re.escape(spec.title)}$") for spec in PAGES
} | {
    "worklist": re.compile(r"^Prior authorization worklist$"),
    "patient_record": re.compile(r"^(Patient record|.+, .+)$"),
    "prior_auth": re.compile(r"^(Prior authorization case|PA #\d+ · .+)$"),
}
# What a signed-in tab shows after asking for a page its role may not open.
NOT_THERE = re.compile(rf"^(Today|{re.escape(REFUSAL)})$")
FORBIDDEN = [
    pytest.param(role, spec, id=f"{role}-{spec.url_path}")
    for role, roles in DEMO_ACCOUNTS.items()
    for spec in PAGES
    if not set(roles) & set(spec.roles)
]


@pytest.fixture(scope="module")
def tabs(chromium: Browser, live_server: LiveServer) -> Iterator[dict[str, Page]]:
    """One signed-in tab per demo role, opened on first use and kept for the module (one sign-in per role)."""
    contexts: list[BrowserContext] = []
    opened: dict[str, Page] = {}

    class Tabs(dict[str, Page]):
        def __missing__(self, role: str) -> Page:
            context = chromium.new_context(viewport=VIEWPORT)
            context.set_default_timeout(UI_TIMEOUT_MS)
            contexts.append(context)
            page = context.new_page()
            sign_in(page, live_server.base_url, role, DEMO_PASSWORD)
            expect(page.locator("[data-testid=stSidebarNav]")).to_be_visible()
            self[role] = page
            return page

    yield Tabs(opened)
    for context in contexts:
        context.close()


def _heading(page: Page, pattern: re.Pattern[str]) -> None:
    """Wait for a heading of the current run matching `pattern` (stale copies of an earlier run do not count)."""
    page.locator("[data-testid=stMain] h1:not([data-stale=true] h1)").filter(has_text=pattern).first.wait_for()
    wait_for_app(page)


def _go_in_tab(page: Page, spec: PageSpec) -> None:
    """Open `spec`'s URL inside the tab's Streamlit session, as the browser's back/forward buttons do.

    The tab first shows the patient list, so the wait below ends only once the forbidden address was handled:
    the list's heading is gone and the start page or the refusal is drawn."""
    _open_from_menu(page, PATIENTS)
    page.evaluate(
        "path => { window.history.pushState({}, '', path);"
        " window.dispatchEvent(new PopStateEvent('popstate', {state: {}})); }",
        f"/{spec.url_path}",
    )
    expect(page.locator("[data-testid=stMain] h1").filter(has_text=HEADINGS["patients"])).to_have_count(0)
    page.locator("[data-testid=stMain]").get_by_text(NOT_THERE).first.wait_for()
    wait_for_app(page)


def _open_from_menu(page: Page, spec: PageSpec) -> None:
    link = page.locator("[data-testid=stSidebarNav] [data-testid=stSidebarNavLink]").filter(
        has_text=re.compile(rf"^\W*\w*\s*{re.escape(spec.title)}\s*$")
    )
    link.first.click()
    _heading(page, HEADINGS[spec.url_path])


def _main_text(page: Page) -> str:
    return str(page.locator("[data-testid=stMain]").inner_text())


def assert_no_exception(page: Page, where: str) -> None:
    """No Streamlit exception box and no traceback-looking text anywhere in the app."""
    assert page.locator("[data-testid=stException]").count() == 0, f"{where}: Streamlit exception on screen"
    text = str(page.locator("[data-testid=stApp]").inner_text())
    match = EXCEPTION_TEXT.search(text)
    assert match is None, f"{where}: error text on screen: {text[max(0, match.start() - 80):match.end() + 80]!r}"


def full_screenshot(page: Page, name: str) -> None:
    """A PNG of the whole page: the viewport is stretched to the height of Streamlit's scrolling main area."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = int(page.evaluate(
        """() => Math.max(...['[data-testid=stMain]', '[data-testid=stAppViewContainer]',
                               '[data-testid=stSidebarContent]']
            .map(s => document.querySelector(s)).filter(Boolean).map(e => e.scrollHeight), window.innerHeight)"""
    ))
    page.set_viewport_size({"width": VIEWPORT["width"], "height": min(max(height, VIEWPORT["height"]),
                                                                       MAX_SCREENSHOT_HEIGHT)})
    try:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    finally:
        page.set_viewport_size(VIEWPORT)


@pytest.mark.parametrize(("role", "spec"), ALLOWED)
def test_allowed_page_renders(live_server: LiveServer, tabs: dict[str, Page], role: str, spec: PageSpec) -> None:
    page = tabs[role]
    if spec.url_path == "patient_record":
        # The record shows a patient only once one is opened from the list: open the first one, as staff do.
        _open_from_menu(page, next(s for s in PAGES if s.url_path == "patients"))
        page.get_by_role("button", name="Open record").click()
        _heading(page, re.compile(r"^.+, .+$"))
    else:
        _open_from_menu(page, spec)
    assert urlparse(page.url).path.strip("/") in (spec.url_path, "")
    expect(page.locator("[data-testid=stMain] h1").first).to_be_visible()
    wait_for_app(page)
    assert REFUSAL not in _main_text(page)
    assert_no_exception(page, f"{spec.path} as {role}")
    full_screenshot(page, f"{role}__{spec.url_path}")


@pytest.mark.parametrize(("role", "spec"), FORBIDDEN)
def test_forbidden_page_is_not_reachable_in_a_signed_in_tab(
    live_server: LiveServer, tabs: dict[str, Page], role: str, spec: PageSpec
) -> None:
    page = tabs[role]
    assert spec.title not in sidebar_titles(page)
    _go_in_tab(page, spec)
    text = _main_text(page)
    on_forbidden_url = urlparse(page.url).path.strip("/") == spec.url_path
    assert not on_forbidden_url or REFUSAL in text, f"{spec.path} opened for {role}"
    expect(page.get_by_role("heading", name=spec.title, exact=True)).to_have_count(0)
    assert_no_exception(page, f"{spec.path} as {role}")


@pytest.mark.parametrize(("role", "spec"), FORBIDDEN)
def test_forbidden_page_typed_as_url_shows_no_content(
    live_server: LiveServer, browser: Page, role: str, spec: PageSpec
) -> None:
    # A new address is a new Streamlit session, signed in again by the browser's sign-in cookie: the role
    # still does not open the page.
    sign_in(browser, live_server.base_url, role, DEMO_PASSWORD)
    browser.goto(f"{live_server.base_url}/{spec.url_path}")
    # Streamlit's "Page not found" dialog hides the rest of the page from the accessibility tree.
    expect(browser.locator("[data-testid=stSidebarNav]")).to_be_visible()
    wait_for_app(browser)
    expect(browser.get_by_role("heading", name=spec.title, exact=True, include_hidden=True)).to_have_count(0)
    assert spec.title not in sidebar_titles(browser)


@pytest.mark.parametrize("spec", PAGES, ids=[spec.url_path for spec in PAGES])
def test_signed_out_visitor_gets_only_the_sign_in(live_server: LiveServer, browser: Page, spec: PageSpec) -> None:
    browser.goto(f"{live_server.base_url}/{spec.url_path}")
    wait_for_app(browser)
    expect(browser.get_by_role("button", name="Sign in", exact=True).or_(
        browser.get_by_text(SIGN_IN_PROMPT))).to_be_visible()
    expect(browser.locator("[data-testid=stSidebarNav]")).to_have_count(0)
    expect(browser.get_by_role("heading", name=spec.title, exact=True)).to_have_count(0)
    assert_no_exception(browser, f"{spec.path} signed out")
    full_screenshot(browser, f"signed-out__{spec.url_path}")
