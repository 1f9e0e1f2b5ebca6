"""A payer file changes while a case is open: the case page shows each changed criterion with its old and new
status, and a billing user acknowledges it. Seen in a real browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from desk.database import make_engine, unit_of_work
from desk.models import AuditEvent
from desk.models.prior_auth import PayerPolicyFile, PriorAuthCase
from desk.policies.drugs import default_drugs
from desk.policies.loader import load_catalog
from desk.prior_auth.policy_changes import sync_payer_files
from tests.e2e.conftest import DEMO_PASSWORD, ROOT, UI_TIMEOUT_MS, LiveServer, screenshot, sign_in, wait_for_app

# A demo patient on the generic commercial policy with no case yet (the other browser tests use other patients).
DEMO_MRN = "DEMO-0034"
PAYER = "generic-commercial"


@pytest.fixture
def restore_payer_text(live_server: LiveServer) -> Iterator[None]:
    """Put back the payer file text the server recorded at start, so later tests see the shipped file."""
    yield
    engine = make_engine(live_server.database_url)
    try:
        with unit_of_work(engine, actor="test") as session:
            row = session.exec(select(PayerPolicyFile).where(PayerPolicyFile.payer_id == PAYER)).first()
            if row is not None:
                row.text = (ROOT / "payers" / f"{PAYER}.yaml").read_text(encoding="utf-8")
                session.add(row)
    finally:
        engine.dispose()


def _stricter_catalog(folder: Path) -> object:
    text = (ROOT / "payers" / f"{PAYER}.yaml").read_text(encoding="utf-8")
    assert "min_years: 18" in text
    (folder / f"{PAYER}.yaml").write_text(text.replace("min_years: 18", "min_years: 90"), encoding="utf-8")
    return load_catalog([folder], drugs=default_drugs())


@pytest.fixture
def patient_expect() -> Iterator[None]:
    """Each step waits for its own result; on a busy machine a script run can take longer than the default 5 s."""
    expect.set_options(timeout=UI_TIMEOUT_MS * 4)
    yield
    expect.set_options(timeout=UI_TIMEOUT_MS)  # back to the suite's bound (tests/e2e/conftest.py)


def test_changed_payer_file_shows_on_the_open_case(live_server: LiveServer, browser: Page, tmp_path: Path,
                                                    restore_payer_text: None, patient_expect: None) -> None:
    page = browser
    # The first visit prepares the database (migrations, demo data, payer files): wait for it, not a fixed time.
    page.goto(live_server.base_url)
    expect(page.get_by_label("Username")).to_be_visible(timeout=600_000)
    sign_in(page, live_server.base_url, "billing", DEMO_PASSWORD)
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Patients", exact=True).click()
    search = page.get_by_placeholder("Name, MRN, or date of birth (YYYY-MM-DD or MM/DD/YYYY)")
    search.fill(DEMO_MRN)
    search.press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Open record").click()
    wait_for_app(page)
    expect(page.get_by_text(f"MRN {DEMO_MRN}").first).to_be_visible()
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="PA worklist").click()
    expect(page.get_by_role("heading", name="Prior authorization worklist")).to_be_visible()
    wait_for_app(page)
    page.get_by_role("button", name="New PA").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("combobox", name="Patient", exact=True)).to_have_value(
        re.compile(f"MRN {DEMO_MRN}$"), timeout=UI_TIMEOUT_MS)
    wait_for_app(page)
    dialog.get_by_role("button", name="Create case").click()
    heading = page.locator("h1").filter(has_text="PA #")
    expect(heading).to_be_visible()
    wait_for_app(page)
    case_id = int(re.search(r"PA #(\d+)", heading.inner_text()).group(1))  # type: ignore[union-attr]

    # The payer file changes (age 18 becomes 90) and the desk reads the folder again.
    engine = make_engine(live_server.database_url)
    try:
        with unit_of_work(engine, actor="billing") as session:
            synced = sync_payer_files(session, catalog=_stricter_catalog(tmp_path),  # type: ignore[arg-type]
                                      as_of=date.today())
        assert [(s.payer_id, case_id in s.cases_changed) for s in synced] == [(PAYER, True)]
    finally:
        engine.dispose()

    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="PA case").click()
    box = page.locator("[data-testid=stVerticalBlock]").filter(has_text="Policy changed on").last
    expect(box).to_be_visible()
    expect(page.get_by_text("What changed, criterion by criterion", exact=False)).to_be_visible()
    expect(page.get_by_text(re.compile(r"Policy version .* → "))).to_be_visible()
    wait_for_app(page)
    path = screenshot(page, "pa-case-policy-changed")
    assert path.stat().st_size > 0

    page.get_by_role("button", name="Acknowledge the change").click()
    expect(page.locator("[data-testid=stElementContainer][data-stale=false]").filter(
        has_text="Policy change acknowledged.")).to_be_visible()
    expect(page.get_by_text("Policy changed on")).to_have_count(0)

    engine = make_engine(live_server.database_url)
    try:
        with unit_of_work(engine, actor="test") as session:
            case = session.get(PriorAuthCase, case_id)
            assert case is not None and case.policy_change == ""
            actions = session.exec(select(AuditEvent.action).where(AuditEvent.entity_id == str(case_id))).all()
            assert {"policy_change_recorded", "policy_change_acknowledged"} <= set(actions)
    finally:
        engine.dispose()
