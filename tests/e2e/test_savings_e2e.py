"""Savings program in a real browser: a billing user enrolls a demo patient, records two claims with EOBs
and sees the remaining benefit go down."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect
from reportlab.pdfgen import canvas
from sqlmodel import Session, col, select

from desk.database import make_engine
from desk.models import AuditEvent, Patient, SavingsClaim, SavingsDocument, SavingsEnrollment
from desk.savings.eligibility import patient_eligibility
from desk.savings.worklist import claims_waiting_for_eob
from tests.e2e.conftest import DEMO_PASSWORD, LiveServer, screenshot, set_date, sign_in, wait_for_app


def _eob_pdf(path: Path) -> Path:
    """A one-page EOB PDF whose file name carries a (synthetic) patient name, as scans often do."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Explanation of benefits: allowed $900.00, plan paid $600.00, you owe $300.00")
    page.showPage()
    page.save()
    path.write_bytes(buffer.getvalue())
    return path


def _eligible_unenrolled_patient(database_url: str) -> tuple[int, str]:
    """A demo patient eligible for both benefits and not enrolled yet: (id, label shown in the picker)."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            enrolled = set(session.exec(select(SavingsEnrollment.patient_id)).all())
            for patient in session.exec(select(Patient).order_by(col(Patient.id))).all():
                assert patient.id is not None
                if patient.id in enrolled:
                    continue
                result = patient_eligibility(session, patient_id=patient.id, on=date.today())
                if result.drug_eligible and result.rebate_eligible:
                    return patient.id, f"{patient.mrn} — {patient.display_name}"
    finally:
        engine.dispose()
    raise AssertionError("the demo data has no eligible patient left to enroll")




def _record_claim(page: Page, *, service_date: date, eob: Path) -> None:
    form = page.locator("[data-testid=stForm]").filter(has=page.get_by_role("button", name="Record claim"))
    set_date(form, "Service date", service_date)
    form.get_by_label("Billed ($)").fill("900")
    form.get_by_label("Insurance paid ($)").fill("600")
    form.get_by_label("Patient responsibility ($)").fill("300")
    uploader = form.locator("[data-testid=stFileUploader]").filter(has_text="EOB")
    uploader.locator("input[type=file]").set_input_files(str(eob))
    expect(uploader.get_by_role("button", name=f"Remove {eob.name}")).to_be_visible()
    form.get_by_role("button", name="Record claim").click()
    # The previous claim's notice stays on screen (greyed, data-stale) until this save's rerun replaces it.
    fresh = page.locator("[data-testid=stElementContainer][data-stale=false]")
    expect(fresh.filter(has_text="Claim recorded.")).to_be_visible()
    wait_for_app(page)


def test_billing_enrolls_records_two_claims_with_eobs_and_sees_remaining_benefit(
    live_server: LiveServer, browser: Page, tmp_path: Path
) -> None:
    sign_in(browser, live_server.base_url, "billing", DEMO_PASSWORD)  # the first visit migrates and seeds
    patient_id, label = _eligible_unenrolled_patient(live_server.database_url)
    eob = _eob_pdf(tmp_path / "Demoworth_Tamsin_EOB.pdf")
    browser.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Savings program").click()
    expect(browser.get_by_role("heading", name="Savings program", exact=True)).to_be_visible()
    wait_for_app(browser)

    picker = browser.locator("[data-testid=stSelectbox]").filter(has_text="Patient").first
    picker.click()
    browser.keyboard.type(label)
    browser.keyboard.press("Enter")
    expect(browser.get_by_role("combobox", name="Patient", exact=True)).to_have_value(label)
    wait_for_app(browser)
    expect(browser.get_by_text("Eligible: commercial insurance only, no government program on file.")).to_be_visible()

    today = date.today()
    # Two treatment dates three days apart in one program year (the previous one in the first days of January).
    first, second = (today - timedelta(days=3), today) if today.timetuple().tm_yday > 3 else (
        date(today.year - 1, 12, 28), date(today.year - 1, 12, 31))
    if second.year != today.year:
        year_picker = browser.locator("[data-testid=stSelectbox]").filter(has_text="Program year")
        year_picker.click()
        browser.get_by_role("option", name=str(second.year), exact=True).click()
        wait_for_app(browser)

    enroll_form = browser.locator("[data-testid=stForm]").filter(has=browser.get_by_role("button", name="Enroll"))
    set_date(enroll_form, "Enrolled on", date(second.year, 1, 1))
    enroll_form.get_by_label("Program member ID").fill("WM20260001")
    enroll_form.get_by_label("BIN").fill("610020")
    enroll_form.get_by_label("PCN").fill("PDMI")
    set_date(enroll_form, "Card expires on", date(second.year, 12, 31))
    enroll_form.get_by_role("button", name="Enroll").click()
    expect(browser.get_by_text("Patient enrolled in the savings program.")).to_be_visible()
    wait_for_app(browser)

    _record_claim(browser, service_date=first, eob=eob)
    browser.get_by_text("Record a claim").click()
    _record_claim(browser, service_date=second, eob=eob)

    remaining = browser.locator("[data-testid=stMetric]").filter(has_text="Drug benefit remaining")
    # Shipped terms: $7,150 yearly maximum, $10 per treatment; each claim applies $300 - $10 = $290.
    expect(remaining).to_contain_text("$6,570.00")
    expect(browser.get_by_text("Used $580.00 of $7,150.00")).to_be_visible()
    expect(browser.locator("[data-testid=stException]")).to_have_count(0)
    screenshot(browser, "savings-patient")

    engine = make_engine(live_server.database_url)
    try:
        with Session(engine) as session:
            claims = session.exec(select(SavingsClaim).where(SavingsClaim.patient_id == patient_id)).all()
            documents = session.exec(
                select(SavingsDocument).where(col(SavingsDocument.claim_id).in_([c.id for c in claims]))
            ).all()
            waiting = claims_waiting_for_eob(session)  # the demo has a rebate waiting for its EOB
    finally:
        engine.dispose()
    assert sorted(c.service_date for c in claims) == [first, second]
    assert all((c.savings_applied_cents, c.devices, c.status) == (29_000, 3, "draft") for c in claims)
    assert sorted(d.filename for d in documents) == sorted(f"claim-{c.id}-eob-1.pdf" for c in claims)
    assert all("Demoworth" not in d.filename and d.content.startswith(b"%PDF-") for d in documents)

    assert all(item.patient_id != patient_id for item in waiting)  # both claims came with their EOB
    browser.get_by_role("tab", name="Billing worklist").click()
    expect(browser.get_by_text(f"Claims waiting for an EOB ({len(waiting)})")).to_be_visible()
    screenshot(browser, "savings-billing")
    with browser.expect_download() as download_info:
        browser.get_by_role("button", name=f"Claims {second.year} (CSV)").click()
    download = download_info.value
    # Each copy handed out carries a random document id in its name.
    assert re.fullmatch(rf"savings-claims-{second.year}-[0-9a-f]{{16}}\.csv", download.suggested_filename)
    rows = list(csv.DictReader(io.StringIO(download.path().read_text(encoding="utf-8-sig"))))
    assert {int(r["claim_id"]) for r in rows} >= {c.id for c in claims}
    engine = make_engine(live_server.database_url)
    try:
        with Session(engine) as session:
            exports = session.exec(select(AuditEvent).where(AuditEvent.action == "export",
                                                            AuditEvent.entity == "savings_claim")).all()
    finally:
        engine.dispose()
    assert [(e.actor, e.detail) for e in exports] == [("billing", f"claims csv, {len(rows)} rows")]
