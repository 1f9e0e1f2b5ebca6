"""Clinical history import in a real browser: a billing user uploads a synthetic FHIR bundle, reviews it,
accepts it, and the patient's Payer criteria tab shows the imported trials with their provenance."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlmodel import Session, col, func, select

from desk.database import make_engine
from desk.demo_ehr import as_bundle, depression_history
from desk.models import ImportedFact, MedicationTrial, Patient
from tests.e2e.conftest import DEMO_PASSWORD, UI_TIMEOUT_MS, LiveServer, screenshot, sign_in, wait_for_app


def _demo_patient(database_url: str) -> tuple[int, str, date]:
    """The last demo patient (id, MRN, date of birth); the other browser tests use the first ones."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            patient = session.exec(select(Patient).order_by(col(Patient.id).desc())).first()
            assert patient is not None and patient.id is not None
            return patient.id, patient.mrn, patient.dob
    finally:
        engine.dispose()


def _imported(database_url: str, patient_id: int) -> tuple[int, int]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            provenance = select(func.count()).select_from(ImportedFact).where(ImportedFact.patient_id == patient_id)
            trials = select(func.count()).select_from(MedicationTrial).where(
                MedicationTrial.patient_id == patient_id, MedicationTrial.outcome == "not_recorded")
            return session.exec(trials).one(), session.exec(provenance).one()
    finally:
        engine.dispose()


def test_billing_imports_a_fhir_bundle_and_sees_the_trials_behind_the_payer_criteria(
    live_server: LiveServer, browser: Page, tmp_path: Path
) -> None:
    sign_in(browser, live_server.base_url, "billing", DEMO_PASSWORD)
    patient_id, mrn, dob = _demo_patient(live_server.database_url)
    bundle = tmp_path / "ehr-export.json"
    bundle.write_text(json.dumps(as_bundle(depression_history(
        key="e2e", mrn=mrn, first_name="Synthetic", last_name="Export", birth_date=dob, today=date.today()))))
    assert _imported(live_server.database_url, patient_id) == (0, 0)

    browser.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Import clinical history").click()
    wait_for_app(browser)
    uploader = browser.locator("[data-testid=stFileUploader]").filter(has_text="FHIR files")
    uploader.locator("input[type=file]").set_input_files(str(bundle))
    expect(uploader.get_by_text("ehr-export.json")).to_be_visible(timeout=UI_TIMEOUT_MS)
    browser.get_by_role("button", name="Read files").click()
    accept_all = browser.get_by_role("button", name="Accept all")
    expect(accept_all).to_be_enabled(timeout=UI_TIMEOUT_MS)
    expect(browser.get_by_text("matched by MRN", exact=False)).to_be_visible(timeout=UI_TIMEOUT_MS)
    wait_for_app(browser)
    screenshot(browser, "history-import-review")
    accept_all.click()
    fresh = browser.locator("[data-testid=stElementContainer][data-stale=false]")
    expect(fresh.filter(has_text="Accepted:")).to_be_visible(timeout=UI_TIMEOUT_MS)
    wait_for_app(browser)
    trials, provenance = _imported(live_server.database_url, patient_id)
    assert trials == 6 and provenance > 6

    browser.get_by_role("button", name="Open the record just updated").click()
    wait_for_app(browser)
    tab = browser.get_by_role("tab", name="Payer criteria")
    expect(tab).to_be_visible(timeout=UI_TIMEOUT_MS)
    tab.click()
    wait_for_app(browser)
    evidence = browser.locator(".st-key-imported-evidence-" + str(patient_id))
    expect(evidence.get_by_text("Imported history behind these criteria")).to_be_visible(timeout=UI_TIMEOUT_MS)
    fill = evidence.get_by_text("MedicationDispense/e2e-sertraline-fill0", exact=False)
    expect(fill).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(evidence.get_by_text("sertraline 150 mg/day", exact=False)).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(evidence.get_by_text("ehr-export.json").first).to_be_visible(timeout=UI_TIMEOUT_MS)
    evidence.scroll_into_view_if_needed()
    screenshot(browser, "history-import-payer-criteria")

    browser.get_by_role("tab", name="Medications & screening").click()
    wait_for_app(browser)
    from_ehr = browser.locator(".st-key-ehr-history-" + str(patient_id))
    expect(from_ehr.get_by_text("3 session(s)", exact=False)).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(from_ehr.get_by_text("AllergyIntolerance/e2e-allergy", exact=False)).to_be_visible(timeout=UI_TIMEOUT_MS)
    from_ehr.scroll_into_view_if_needed()
    screenshot(browser, "history-import-ehr-history-on-record")


def test_billing_imports_a_scores_spreadsheet_through_the_same_review(
    live_server: LiveServer, browser: Page, tmp_path: Path
) -> None:
    sign_in(browser, live_server.base_url, "billing", DEMO_PASSWORD)
    engine = make_engine(live_server.database_url)
    try:
        with Session(engine) as session:
            patient = session.exec(select(Patient).order_by(col(Patient.id).desc()).offset(1)).first()
            assert patient is not None and patient.id is not None
            patient_id, mrn = patient.id, patient.mrn
    finally:
        engine.dispose()
    sheet = tmp_path / "scores.csv"
    sheet.write_text(f"mrn,instrument,score,measured_on\n{mrn},PHQ-9,23,2026-01-05\n{mrn},MADRS,35,2026-01-05\n")
    browser.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Import clinical history").click()
    wait_for_app(browser)
    browser.get_by_role("tab", name="Spreadsheet").click()
    uploader = browser.locator("[data-testid=stFileUploader]").filter(has_text="Spreadsheet")
    uploader.locator("input[type=file]").set_input_files(str(sheet))
    expect(uploader.get_by_text("scores.csv")).to_be_visible(timeout=UI_TIMEOUT_MS)
    browser.get_by_role("button", name="Check file").click()
    accept_all = browser.get_by_role("button", name="Accept all (2)")
    expect(accept_all).to_be_enabled(timeout=UI_TIMEOUT_MS)
    accept_all.click()
    fresh = browser.locator("[data-testid=stElementContainer][data-stale=false]")
    expect(fresh.filter(has_text="Accepted: 2 new")).to_be_visible(timeout=UI_TIMEOUT_MS)
    engine = make_engine(live_server.database_url)
    try:
        with Session(engine) as session:
            sources = session.exec(select(ImportedFact.source_file, ImportedFact.resource_ids)
                                   .where(ImportedFact.patient_id == patient_id)).all()
    finally:
        engine.dispose()
    assert sorted(sources) == [("scores.csv", "row 2"), ("scores.csv", "row 3")]
