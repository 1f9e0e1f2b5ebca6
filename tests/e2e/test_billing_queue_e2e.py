"""Billing's day in a real browser: Today's 'Needs a PA' count leads to the named list, one click starts the
patient's case pre-filled, and the lead dashboard draws its charts at 1280 px."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from desk.database import make_engine
from desk.models import Patient
from desk.models.prior_auth import PriorAuthCase
from desk.prior_auth.worklist import WorklistFilter, case_page
from tests.e2e.conftest import DEMO_PASSWORD, LiveServer, audit_rows, fresh, screenshot, sign_in, wait_for_app


def _server_ready(page: Page, base_url: str) -> None:
    """The first visit of a fresh server loads the demo clinic: wait for the sign-in form however long that takes."""
    page.goto(base_url)
    page.get_by_label("Username").wait_for(timeout=600_000)


def test_today_to_needs_pa_to_a_started_case(browser: Page, live_server: LiveServer) -> None:
    page = browser
    page.set_viewport_size({"width": 1280, "height": 900})
    _server_ready(page, live_server.base_url)
    sign_in(page, live_server.base_url, "billing", DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Today")).to_be_visible()
    link = page.get_by_role("link", name=re.compile(r"See the \d+ patients?")).first
    expect(link).to_be_visible()
    screenshot(page, "today-billing-needs-pa")
    link.click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Needs a PA")).to_be_visible()
    selected = page.get_by_role("tab", selected=True)
    expect(selected).to_have_text(re.compile(r"No authorization for planned treatment \(\d+\)"))
    page.set_viewport_size({"width": 1280, "height": 1400})
    screenshot(page, "needs-pa")
    first = fresh(page).filter(has_text="MRN DEMO-").first
    mrn = re.search(r"MRN (DEMO-\d{4})", first.inner_text())
    assert mrn is not None
    page.get_by_role("button", name="Start case").first.click()
    expect(page.get_by_role("heading", name=re.compile(r"PA #\d+ · "))).to_be_visible()
    wait_for_app(page)
    screenshot(page, "needs-pa-started-case")
    engine = make_engine(live_server.database_url)
    try:
        with Session(engine) as session:
            patient = session.exec(select(Patient).where(Patient.mrn == mrn.group(1))).one()
            cases = session.exec(select(PriorAuthCase).where(PriorAuthCase.patient_id == patient.id)).all()
    finally:
        engine.dispose()
    assert [c.status for c in cases] == ["draft"] and cases[0].created_by == "billing"


def test_lead_dashboard_draws_every_chart(browser: Page, live_server: LiveServer) -> None:
    page = browser
    page.set_viewport_size({"width": 1280, "height": 900})
    _server_ready(page, live_server.base_url)
    sign_in(page, live_server.base_url, "lead", DEMO_PASSWORD)
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Lead dashboard").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Lead dashboard")).to_be_visible()
    expect(page.locator("[data-testid=stVegaLiteChart]")).to_have_count(9)
    expect(page.get_by_role("button", name="Download the data (CSV)")).to_have_count(9)
    page.wait_for_function("() => document.querySelectorAll('[data-testid=stVegaLiteChart] canvas, "
                           "[data-testid=stVegaLiteChart] svg').length >= 9")
    page.set_viewport_size({"width": 1280, "height": 4600})  # the whole page in one picture
    wait_for_app(page)
    screenshot(page, "lead-dashboard")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the data (CSV)").first.click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "Payer,Month,Approved,Denied,Approval rate (%),Median days to decision"
    wait_for_app(page)
    served = audit_rows(live_server.database_url, entity="dashboard figure")
    assert [(actor, action) for actor, action, _ in served] == [("lead", "download")], "the click is audited, once"


def test_a_worklist_row_click_opens_its_case(browser: Page, live_server: LiveServer) -> None:
    page = browser
    page.set_viewport_size({"width": 1280, "height": 900})
    _server_ready(page, live_server.base_url)
    sign_in(page, live_server.base_url, "billing", DEMO_PASSWORD)
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="PA worklist", exact=True).click()
    expect(page.get_by_role("heading", name="Prior authorization worklist")).to_be_visible()
    wait_for_app(page)
    engine = make_engine(live_server.database_url)
    try:
        with Session(engine) as session:
            first = case_page(session, filters=WorklistFilter(), page=1, page_size=1, sort="updated").rows[0]
    finally:
        engine.dispose()
    cases = page.locator("[data-testid=stDataFrame]").last  # the Cases table, after the action lists
    cases.scroll_into_view_if_needed()
    box = cases.bounding_box()
    assert box is not None
    # The grid is drawn on a canvas: click the selection box of its first row (under the 35 px header).
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
    expect(page.get_by_role("heading", name=re.compile(rf"PA #{first['case']} · "))).to_be_visible()
    expect(page.get_by_role("tab", name="Checklist")).to_be_visible()
