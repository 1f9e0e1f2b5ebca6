"""Sign-in that survives a reload (server session + signed cookie), and generated documents only to their
session, in a real browser against the live server."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Cookie, Page, expect
from sqlmodel import Session, select

from desk.database import make_engine
from desk.models import AuditEvent
from desk.web import ESTABLISH_PATH
from desk.web_sessions import COOKIE_NAME
from tests.e2e.conftest import (
    DEMO_PASSWORD,
    UI_TIMEOUT_MS,
    LiveServer,
    screenshot,
    wait_for_app,
    wait_for_session_cookie,
)

CASE_HEADING = re.compile(r"^PA #1 ")
expect.set_options(timeout=UI_TIMEOUT_MS)
START_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module", autouse=True)
def opened_once(live_server: LiveServer, chromium: Browser) -> None:
    """Until a first browser has opened the root address, Streamlit runs pages/*.py files on their own
    (README, Security); the first start also loads the demo data."""
    page = chromium.new_page()
    page.goto(live_server.base_url)
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible(timeout=START_TIMEOUT_MS)
    page.close()


@pytest.fixture
def contexts(chromium: Browser) -> Iterator[list[BrowserContext]]:
    """Extra browser contexts (each its own cookie jar), closed after the test."""
    made: list[BrowserContext] = []
    yield made
    for context in made:
        context.close()


def _context(chromium: Browser, made: list[BrowserContext]) -> Page:
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    context.set_default_timeout(UI_TIMEOUT_MS)
    made.append(context)
    return context.new_page()


def _fill_sign_in(page: Page, username: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def _signed_in(page: Page) -> None:
    expect(page.locator("[data-testid=stSidebar]").get_by_role("button", name="Sign out")).to_be_visible()
    wait_for_app(page)
    wait_for_session_cookie(page)


def _sign_in_form(page: Page) -> None:
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    expect(page.locator("[data-testid=stSidebarNav]")).to_have_count(0)
    wait_for_app(page)


def _session_cookie(page: Page) -> Cookie:
    [cookie] = [c for c in page.context.cookies() if c.get("name") == COOKIE_NAME]
    return cookie


def test_bookmark_opens_after_sign_in_and_a_reload_keeps_page_and_query(live_server: LiveServer,
                                                                         browser: Page) -> None:
    browser.goto(f"{live_server.base_url}/prior_auth?case=1")
    expect(browser.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    loads: list[str] = []
    browser.on("framenavigated", lambda frame: loads.append(frame.url) if frame == browser.main_frame else None)
    with browser.expect_response(lambda r: ESTABLISH_PATH in r.url) as establish:
        _fill_sign_in(browser, "billing")
    set_cookie = establish.value.header_value("set-cookie") or ""
    assert set_cookie.startswith(f"{COOKIE_NAME}=")
    flags = {part.strip().lower() for part in set_cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= flags
    expect(browser.get_by_role("heading", name=CASE_HEADING)).to_be_visible()
    _signed_in(browser)
    cookie = _session_cookie(browser)
    assert cookie.get("httpOnly") is True and cookie.get("sameSite") == "Strict"
    # The cookie is collected in the background: signing in opens the page without loading the app again.
    assert all(url.endswith("/prior_auth?case=1") for url in loads), loads

    browser.reload()
    expect(browser.get_by_role("heading", name=CASE_HEADING)).to_be_visible()
    _signed_in(browser)
    assert browser.url.endswith("/prior_auth?case=1")
    # A typed address in another tab of the same browser opens directly, signed in.
    other = browser.context.new_page()
    other.goto(f"{live_server.base_url}/worklist")
    expect(other.get_by_role("heading", name="Prior authorization worklist")).to_be_visible()
    _signed_in(other)
    screenshot(browser, "reload-keeps-case")


def test_a_page_the_role_does_not_allow_is_not_opened_from_the_address(live_server: LiveServer,
                                                                        browser: Page) -> None:
    browser.goto(f"{live_server.base_url}/admin_users")
    _fill_sign_in(browser, "nurse")
    expect(browser.get_by_role("heading", name="Today")).to_be_visible()
    _signed_in(browser)
    expect(browser.get_by_role("heading", name="Users", exact=True)).to_have_count(0)
    expect(browser.get_by_role("dialog")).to_have_count(0)


def test_a_stolen_cookie_stops_working_at_sign_out(live_server: LiveServer, browser: Page, chromium: Browser,
                                                  contexts: list[BrowserContext]) -> None:
    browser.goto(live_server.base_url)
    _fill_sign_in(browser, "billing")
    expect(browser.get_by_role("heading", name="Today")).to_be_visible()
    _signed_in(browser)
    stolen = _session_cookie(browser)

    thief = _context(chromium, contexts)
    thief.context.add_cookies([stolen])
    thief.goto(f"{live_server.base_url}/prior_auth?case=1")
    expect(thief.get_by_role("heading", name=CASE_HEADING)).to_be_visible()  # the cookie works while signed in

    browser.locator("[data-testid=stSidebar]").get_by_role("button", name="Sign out").click()
    _sign_in_form(browser)
    wait_for_session_cookie(browser, held=False)  # the sign-in form has the browser drop it

    later = _context(chromium, contexts)
    later.context.add_cookies([stolen])
    later.goto(f"{live_server.base_url}/prior_auth?case=1")
    _sign_in_form(later)
    expect(later.get_by_role("heading", name=CASE_HEADING)).to_have_count(0)
    thief.reload()
    _sign_in_form(thief)
    expect(thief.get_by_role("heading", name=CASE_HEADING)).to_have_count(0)


def test_a_forged_or_tampered_cookie_is_refused(live_server: LiveServer, browser: Page, chromium: Browser,
                                               contexts: list[BrowserContext]) -> None:
    browser.goto(live_server.base_url)
    _fill_sign_in(browser, "billing")
    _signed_in(browser)
    real = _session_cookie(browser)
    token, signature = str(real.get("value")).split(".")
    flipped = signature[:-1] + ("1" if signature[-1] == "0" else "0")
    altered = token[:-1] + ("B" if token.endswith("A") else "A")  # a token ending in "A" would stay the same
    for value in (f"{token}.{flipped}", f"{altered}.{signature}", "forged.0000", token):
        page = _context(chromium, contexts)
        page.context.add_cookies([{**real, "value": value}])
        page.goto(f"{live_server.base_url}/worklist")
        _sign_in_form(page)
        expect(page.get_by_role("heading", name="Prior authorization worklist")).to_have_count(0)
    # The untouched cookie still works: the refusals above are about the forgery.
    page = _context(chromium, contexts)
    page.context.add_cookies([real])
    page.goto(f"{live_server.base_url}/worklist")
    expect(page.get_by_role("heading", name="Prior authorization worklist")).to_be_visible()


def test_a_generated_document_goes_only_to_its_session(live_server: LiveServer, browser: Page, chromium: Browser,
                                                      contexts: list[BrowserContext]) -> None:
    browser.goto(f"{live_server.base_url}/worklist")
    _fill_sign_in(browser, "billing")
    expect(browser.get_by_role("heading", name="Prior authorization worklist")).to_be_visible()
    _signed_in(browser)
    browser.get_by_role("button", name="Export CSV").first.click()
    download_button = browser.locator("[data-testid=stDownloadButton] button").first
    expect(download_button).to_be_visible()
    with browser.expect_download() as downloaded:
        download_button.click()
    address = downloaded.value.url
    assert "/media/" in address and re.search(r"-[0-9a-f]{16}\.csv$", downloaded.value.suggested_filename)

    assert browser.context.request.get(address).status == 200
    anonymous = _context(chromium, contexts)
    assert anonymous.context.request.get(address).status == 403
    second = _context(chromium, contexts)
    second.goto(live_server.base_url)
    _fill_sign_in(second, "lead")
    _signed_in(second)
    assert second.context.request.get(address).status == 403
    stolen = _session_cookie(browser)

    browser.locator("[data-testid=stSidebar]").get_by_role("button", name="Sign out").click()
    _sign_in_form(browser)
    assert browser.context.request.get(address).status == 403
    replay = _context(chromium, contexts)
    replay.context.add_cookies([stolen])
    assert replay.context.request.get(address).status == 403

    # The export was audited when billing prepared it; serving the file (six GETs above) is no download.
    engine = make_engine(live_server.database_url)
    with Session(engine) as session:
        exported = session.exec(select(AuditEvent).where(AuditEvent.action == "export",
                                                         AuditEvent.entity == "pa_case")).all()
        served = session.exec(select(AuditEvent).where(AuditEvent.action == "download",
                                                       AuditEvent.entity == "worklist_export")).all()
    engine.dispose()
    assert exported and {e.actor for e in exported} == {"billing"} and served == []
