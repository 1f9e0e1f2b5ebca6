"""A billing clerk's whole case in a real browser: Today → Needs a PA → Start case → checklist → packet →
Ready → Submitted with a backdated time → a reload of the page → Approved. Each step is screenshotted."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect
from sqlmodel import Session

from desk.database import make_engine
from desk.models import Coverage
from desk.models.prior_auth import PriorAuthCase
from desk.prior_auth.checklist import case_checklist
from desk.prior_auth.request_schedule import case_schedule_check
from desk.settings import load_settings
from tests.e2e.conftest import (
    DEMO_PASSWORD,
    LiveServer,
    choose,
    notice,
    open_tab,
    screenshot,
    set_date,
    sign_in,
    type_time,
    wait_for_app,
)


def _case(database_url: str, case_id: int) -> PriorAuthCase:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            case = session.get(PriorAuthCase, case_id)
            assert case is not None
            session.expunge(case)
            return case
    finally:
        engine.dispose()


def _next_open_item(database_url: str, case_id: int) -> tuple[str, str] | None:
    """The first checklist item the record does not meet yet, with what to record (an attestation where the
    payer accepts one, else an exception); None once the checklist is complete."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            case = session.get(PriorAuthCase, case_id)
            assert case is not None
            checklist = case_checklist(session, case=case)
            if checklist.ready:
                return None
            item = next(i for i in checklist.items if not i.is_group and not i.satisfied)
            return item.text, "Attestation" if item.can_attest else "Exception"
    finally:
        engine.dispose()


def _schedule_fits(database_url: str, case_id: int, today: datetime) -> bool:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            case = session.get(PriorAuthCase, case_id)
            assert case is not None
            coverage = session.get(Coverage, case.coverage_id)
            return case_schedule_check(case, today=today.date(), benefit=coverage.benefit if coverage else None).fits
    finally:
        engine.dispose()


def test_billing_walks_a_case_from_today_to_approval_and_a_reload_loses_nothing(browser: Page,
                                                                                live_server: LiveServer) -> None:
    page = browser
    page.set_viewport_size({"width": 1280, "height": 900})
    zone = ZoneInfo(load_settings().timezone)
    now = datetime.now(zone)
    sign_in(page, live_server.base_url, "billing", DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Today")).to_be_visible()
    screenshot(page, "walkthrough-1-today")

    page.get_by_role("link", name=re.compile(r"See the \d+ patients?")).first.click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Needs a PA")).to_be_visible()
    screenshot(page, "walkthrough-2-needs-pa")
    row = page.locator("[data-testid=stHorizontalBlock]").filter(
        has=page.get_by_role("button", name="Start case")).filter(has_text="MRN DEMO-").first
    row.get_by_role("button", name="Start case").click()
    heading = page.get_by_role("heading", name=re.compile(r"PA #\d+ · "))
    expect(heading).to_be_visible()
    wait_for_app(page)
    found = re.search(r"[?&]case=(\d+)", page.url)
    assert found, f"the case page has no deep link: {page.url}"
    case_id = int(found.group(1))
    assert _case(live_server.database_url, case_id).status == "draft"

    # The checklist: an attestation where the payer takes one, otherwise a stated exception.
    for _ in range(30):
        item = _next_open_item(live_server.database_url, case_id)
        if item is None:
            break
        text, kind = item
        choose(page, "Criterion", text)
        page.locator("[data-testid=stRadio]").get_by_text(kind, exact=True).click()
        page.get_by_label("Note (attestation) or reason (exception) or document title").fill(
            "Confirmed by the prescriber; documentation on file")
        page.get_by_role("button", name="Save", exact=True).click()
        notice(page, f"{kind} recorded.")
    else:
        raise AssertionError("the checklist did not complete")
    expect(page.get_by_text("Every required item is met")).to_be_visible()
    screenshot(page, "walkthrough-3-checklist")

    open_tab(page, "Request & packet")
    if not _schedule_fits(live_server.database_url, case_id, now):
        page.get_by_label("Prescriber's reason for this schedule").fill("Full induction course per the label.")
        page.get_by_role("button", name="Save reason").click()
        notice(page, "Reason saved.")
        open_tab(page, "Request & packet")
    page.get_by_role("button", name="Generate packet").click()
    notice(page, "Packet generated and kept.")
    open_tab(page, "Request & packet")
    screenshot(page, "walkthrough-4-packet")

    open_tab(page, "Status & decisions")
    page.get_by_role("button", name="Record: Ready to submit").click()
    notice(page, "Recorded: Ready to submit.")
    open_tab(page, "Status & decisions")
    # The next forward step is offered first.
    expect(page.get_by_role("combobox", name="Next step", exact=True)).to_have_value("Submitted")
    form = page.locator("[data-testid=stForm]").filter(has=page.get_by_role("button", name="Record: Submitted"))
    sent = (now - timedelta(days=1)).replace(hour=16, minute=5, second=0, microsecond=0)
    set_date(form, "Submitted on", sent.date())
    type_time(form.get_by_label("At (clinic time)", exact=True), sent)
    form.get_by_label("Reference / confirmation number").fill("FAX-WALK-1")
    form.get_by_role("button", name="Record: Submitted").click()
    notice(page, "Recorded: Submitted.")
    submitted = _case(live_server.database_url, case_id)
    assert submitted.status == "submitted" and submitted.submitted_at is not None
    assert submitted.submitted_at.astimezone(zone) == sent, "the backdated submission time is kept"

    # A reload keeps the user signed in, on this case, with what was saved.
    page.reload()
    wait_for_app(page)
    expect(page.get_by_role("heading", name=re.compile(rf"PA #{case_id} · "))).to_be_visible()
    assert f"case={case_id}" in page.url
    open_tab(page, "Status & decisions")
    expect(page.get_by_text(f"Submitted {sent:%m/%d/%Y} 16:05").first).to_be_visible()
    screenshot(page, "walkthrough-5-submitted-after-reload")

    choose(page, "Next step", "Approved")
    open_tab(page, "Status & decisions")
    form = page.locator("[data-testid=stForm]").filter(has=page.get_by_role("button", name="Record: Approved"))
    form.get_by_label("Authorization number").fill("AUTH-WALK-1")
    set_date(form, "End date", (now + timedelta(days=180)).date())
    form.get_by_label("Approved devices").fill("24")
    form.get_by_role("button", name="Record: Approved").click()
    notice(page, "Recorded: Approved.")
    expect(page.locator("[data-testid=stMetric]").filter(has_text="Devices remaining")).to_contain_text("24")
    screenshot(page, "walkthrough-6-approved")
    approved = _case(live_server.database_url, case_id)
    assert (approved.status, approved.auth_number, approved.approved_devices) == ("approved", "AUTH-WALK-1", 24)
    assert approved.submitted_at == submitted.submitted_at
