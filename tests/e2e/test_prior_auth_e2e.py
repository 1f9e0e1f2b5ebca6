"""Prior authorization in a real browser: a billing user opens a demo patient, creates a PA, completes the
checklist, downloads the packet, records submission and approval, and sees the devices remaining."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlmodel import Session, col, select

from desk.database import make_engine
from desk.models import Patient
from desk.models.prior_auth import PriorAuthCase
from desk.pdf.document_id import document_id_of
from desk.prior_auth.checklist import case_checklist
from tests.e2e.conftest import (
    DEMO_PASSWORD,
    UI_TIMEOUT_MS,
    LiveServer,
    audit_rows,
    choose,
    notice,
    open_tab,
    screenshot,
    set_date,
    sign_in,
    wait_for_app,
)

# A demo patient on the generic commercial policy whose record meets every criterion but the attestations.
DEMO_MRN = "DEMO-0032"












def _attestations_needed(database_url: str, case_id: int) -> list[str]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            case = session.get(PriorAuthCase, case_id)
            assert case is not None
            checklist = case_checklist(session, case=case)
            return [i.text for i in checklist.items if not i.is_group and i.effective == "attest"]
    finally:
        engine.dispose()


def _latest_case(database_url: str) -> PriorAuthCase:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            case = session.exec(select(PriorAuthCase).order_by(col(PriorAuthCase.id).desc())).first()
            assert case is not None
            return case
    finally:
        engine.dispose()


def test_billing_user_takes_a_pa_from_checklist_to_approval(live_server: LiveServer, browser: Page,
                                                            tmp_path: Path) -> None:
    page = browser
    sign_in(page, live_server.base_url, "billing", DEMO_PASSWORD)

    # Open the demo patient from the patient list.
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Patients", exact=True).click()
    expect(page.get_by_role("heading", name="Patients", exact=True)).to_be_visible()
    search = page.get_by_placeholder("Name, MRN, or date of birth (YYYY-MM-DD or MM/DD/YYYY)")
    search.fill(DEMO_MRN)
    search.press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Open record").click()
    wait_for_app(page)
    expect(page.get_by_text(f"MRN {DEMO_MRN}").first).to_be_visible()

    # New PA from the worklist: the open patient is preselected.
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="PA worklist").click()
    expect(page.get_by_role("heading", name="Prior authorization worklist")).to_be_visible()
    wait_for_app(page)
    screenshot(page, "pa-worklist")
    page.get_by_role("button", name="New PA").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("combobox", name="Patient", exact=True)).to_have_value(
        re.compile(f"MRN {DEMO_MRN}$"), timeout=UI_TIMEOUT_MS)
    wait_for_app(page)
    dialog.get_by_role("button", name="Create case").click()
    expect(page.locator("h1").filter(has_text="PA #")).to_be_visible()
    wait_for_app(page)
    case = _latest_case(live_server.database_url)
    assert case.created_by == "billing" and case.status == "draft"

    # Complete the checklist: attest each item the record cannot show.
    needed = _attestations_needed(live_server.database_url, case.id or 0)
    assert needed, "the demo patient should need at least one attestation"
    for text in needed:
        choose(page, "Criterion", text)
        page.get_by_label("Note (attestation) or reason (exception) or document title").fill(
            "Confirmed by the prescriber; documentation on file")
        page.get_by_role("button", name="Save", exact=True).click()
        notice(page, "Attestation recorded.")
    expect(page.get_by_text("Every required item is met")).to_be_visible()
    screenshot(page, "pa-case-checklist")

    # Generate and download the packet.
    open_tab(page, "Request & packet")
    page.get_by_role("button", name="Generate packet").click()
    notice(page, "Packet generated and kept.")
    open_tab(page, "Request & packet")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download").first.click()
    packet = tmp_path / "packet.pdf"
    download_info.value.save_as(packet)
    reader = PdfReader(io.BytesIO(packet.read_bytes()))
    assert len(reader.pages) >= 4
    assert [o.title for o in reader.outline][:3] == [  # type: ignore[union-attr]
        "Fax cover sheet", "Prior authorization request", "Letter of medical necessity"]
    assert DEMO_MRN not in download_info.value.suggested_filename
    document_id = document_id_of(packet.read_bytes())
    assert len(document_id) == 32 and document_id[:16] in download_info.value.suggested_filename

    # Ready, submitted, approved.
    open_tab(page, "Status & decisions")
    page.get_by_role("button", name="Record: Ready to submit").click()
    notice(page, "Recorded: Ready to submit.")
    open_tab(page, "Status & decisions")
    choose(page, "Next step", "Submitted")
    open_tab(page, "Status & decisions")
    page.get_by_label("Reference / confirmation number").fill("FAX-20261126-01")
    page.get_by_role("button", name="Record: Submitted").click()
    notice(page, "Recorded: Submitted.")
    expect(page.locator("[data-testid=stMetric]").filter(has_text="Decision due")).to_be_visible()

    open_tab(page, "Status & decisions")
    choose(page, "Next step", "Approved")
    open_tab(page, "Status & decisions")
    form = page.locator("[data-testid=stForm]").filter(has=page.get_by_role("button", name="Record: Approved"))
    form.get_by_label("Authorization number").fill("AUTH-E2E-1")
    set_date(form, "End date", date.today() + timedelta(days=180))
    form.get_by_label("Approved devices").fill("24")
    form.get_by_role("button", name="Record: Approved").click()
    notice(page, "Recorded: Approved.")
    remaining = page.locator("[data-testid=stMetric]").filter(has_text="Devices remaining")
    expect(remaining).to_contain_text("24")
    screenshot(page, "pa-case-approved")

    downloads = audit_rows(live_server.database_url, action="download", entity="pa_generated_file")
    assert downloads and all(actor == "billing" for actor, _, _ in downloads)
    engine = make_engine(live_server.database_url)
    try:
        with Session(engine) as session:
            approved = session.get(PriorAuthCase, case.id)
            assert approved is not None
            assert (approved.status, approved.auth_number, approved.approved_devices) == ("approved", "AUTH-E2E-1", 24)
            patient = session.get(Patient, approved.patient_id)
            assert patient is not None and patient.mrn == DEMO_MRN
    finally:
        engine.dispose()
