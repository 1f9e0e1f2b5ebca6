"""A nurse logs a whole SPRAVATO session in the real app and downloads its Patient Monitoring Form."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlmodel import select

from desk.database import make_engine, unit_of_work
from desk.models import Coverage, Patient, RemsEnrollment, TreatmentSession
from desk.models.prior_auth import PaAuthorization, PriorAuthCase
from desk.prior_auth.devices import account
from desk.settings import load_settings
from tests.e2e.conftest import DEMO_PASSWORD, LiveServer, audit_rows, screenshot, sign_in, type_time, wait_for_app

ENROLLED_MRN = "DEMO-0007"
NOT_ENROLLED_MRN = "DEMO-0008"
AUTHORIZED_DEVICES = 24


def _seed(server: LiveServer) -> tuple[int, int]:
    """Enroll one demo patient and give them an approved 24-device authorization (as billing would have)."""
    engine = make_engine(server.database_url)
    today = datetime.now(ZoneInfo(load_settings().timezone)).date()
    with unit_of_work(engine, actor="e2e-setup") as session:
        patient = session.exec(select(Patient).where(Patient.mrn == ENROLLED_MRN)).one()
        coverage = session.exec(select(Coverage).where(Coverage.patient_id == patient.id)).first()
        assert patient.id is not None and coverage is not None and coverage.id is not None
        session.add(RemsEnrollment(patient_id=patient.id, patient_signed_on=today - timedelta(days=10),
                                   prescriber_signed_on=today - timedelta(days=10),
                                   submitted_on=today - timedelta(days=9), confirmation_number="E2E-ENR-1"))
        case = PriorAuthCase(patient_id=patient.id, coverage_id=coverage.id, payer_id=coverage.payer_id,
                             plan_type=coverage.plan_type, indication="TRD", phase="induction", status="approved",
                             auth_number="E2E-AUTH-1", auth_start_on=today - timedelta(days=3),
                             auth_end_on=today + timedelta(days=60), approved_devices=AUTHORIZED_DEVICES)
        session.add(case)
        session.flush()
        assert case.id is not None
        authorization = PaAuthorization(case_id=case.id, patient_id=patient.id, auth_number="E2E-AUTH-1",
                                        start_on=today - timedelta(days=3), end_on=today + timedelta(days=60),
                                        approved_devices=AUTHORIZED_DEVICES, decided_on=today - timedelta(days=3))
        session.add(authorization)
        session.flush()
        assert authorization.id is not None
        result = (patient.id, authorization.id)
    engine.dispose()
    return result


def _visible(page: Page, label: str) -> Locator:
    return page.get_by_label(label, exact=True).locator("visible=true")




def _reading(page: Page, moment: datetime, systolic: int, diastolic: int, heart_rate: int, spo2: int) -> None:
    type_time(_visible(page, "Time").first, moment)
    for label, value in (("Systolic", systolic), ("Diastolic", diastolic), ("Heart rate", heart_rate),
                         ("SpO2 %", spo2)):
        _visible(page, label).first.fill(str(value))
        _visible(page, label).first.press("Tab")
    wait_for_app(page)


def _toggle(page: Page, label: str) -> None:
    page.locator("[data-testid=stCheckbox]").locator("visible=true").filter(has_text=label).first.click()
    wait_for_app(page)


def _pick_patient(page: Page, mrn: str) -> None:
    page.get_by_role("button", name="Start a new session").click()
    page.locator("[data-testid=stPopoverBody] [data-testid=stSelectbox]").first.click()
    page.keyboard.type(mrn)
    page.keyboard.press("Enter")
    wait_for_app(page)


def test_nurse_records_a_full_session_and_downloads_the_form(live_server: LiveServer, browser: Page) -> None:
    zone = ZoneInfo(load_settings().timezone)
    now = datetime.now(zone).replace(second=0, microsecond=0)
    start = now - timedelta(minutes=150)
    if start.date() != now.date():
        pytest.skip("a 2.5-hour session ending now would start yesterday in the clinic's time zone")
    page = browser
    sign_in(page, live_server.base_url, "nurse", DEMO_PASSWORD)  # the first visit migrates and loads the demo
    patient_id, authorization_id = _seed(live_server)
    page.locator("[data-testid=stSidebarNav]").get_by_text("Session log", exact=True).click()
    wait_for_app(page)

    # A patient without REMS enrollment cannot start: the nurse sees why and what to do.
    _pick_patient(page, NOT_ENROLLED_MRN)
    page.get_by_text("Cannot start.").wait_for()
    screenshot(page, "rems_session_not_enrolled")
    assert page.get_by_text("Patient Enrollment Form", exact=False).first.is_visible()
    assert page.get_by_role("button", name="Open the log").count() == 0
    page.keyboard.press("Escape")

    _pick_patient(page, ENROLLED_MRN)
    open_log = page.get_by_role("button", name="Open the log")
    open_log.wait_for()
    wait_for_app(page)
    # Findings of the contraindication screening (or answers not recorded) need the nurse's acknowledgement first.
    acknowledgement = page.get_by_text("I have reviewed these with the prescriber before dosing")
    if acknowledgement.count():
        acknowledgement.click()
    expect(open_log).to_be_enabled()
    open_log.click()
    # Act only once the new, unsaved log is drawn by the current run (the preselected session is on screen before).
    page.locator("[data-testid=stElementContainer][data-stale=false]").filter(has_text="not saved yet").first.wait_for()
    wait_for_app(page)
    page.keyboard.press("Escape")

    # 1 · Before dosing
    for label in ("No food for 2 h", "No liquids for 30 min", "No nasal steroid", "Ride home confirmed"):
        _toggle(page, label)
    _reading(page, start, 128, 82, 72, 98)
    page.locator("[data-testid=stRadio]").locator("visible=true").first.get_by_text("Yes").click()
    wait_for_app(page)

    # 2 · Dosing: 84 mg = 3 devices, 5 minutes apart
    page.get_by_role("tab", name="2 · Dosing").click()
    page.get_by_role("radiogroup", name="Dose").get_by_text("84 mg (3 devices)").click()
    wait_for_app(page)
    _visible(page, "Lot number").fill("E2E7731K")
    _visible(page, "Lot number").press("Tab")
    first_device = start + timedelta(minutes=10)
    for n in range(3):
        type_time(_visible(page, f"Device {n + 1}"), first_device + timedelta(minutes=5 * n))
        wait_for_app(page)

    # 3 · Monitoring
    page.get_by_role("tab", name="3 · Monitoring").click()
    _reading(page, first_device + timedelta(minutes=41), 138, 88, 80, 96)
    _toggle(page, "Dissociation")
    type_time(_visible(page, "Resolved at").first, first_device + timedelta(minutes=60))
    wait_for_app(page)

    # 4 · Discharge: 130 minutes after the first device
    page.get_by_role("tab", name="4 · Discharge").click()
    _reading(page, first_device + timedelta(minutes=122), 124, 79, 70, 97)
    page.locator("[data-testid=stRadio]").locator("visible=true").first.get_by_text("Yes").click()
    wait_for_app(page)
    minutes = page.get_by_role("spinbutton", name=re.compile(r"REMS question")).locator("visible=true")
    minutes.fill("90")
    minutes.press("Tab")
    type_time(_visible(page, "Discharge time"), first_device + timedelta(minutes=130))
    wait_for_app(page)
    # The prescriber on site is preselected only when the setting or the patient's own prescriber settles it;
    # otherwise the nurse picks one, as here.
    on_site = page.get_by_role("combobox", name="Prescriber on site during the session (REMS)").locator("visible=true")
    if not on_site.input_value():
        on_site.click()
        page.get_by_role("option").first.click()
        wait_for_app(page)
    expect(on_site).not_to_have_value("")
    screenshot(page, "rems_session_log_before_save")
    page.get_by_role("button", name="Save session").click()
    wait_for_app(page)
    page.get_by_text("Session saved · monitoring form ready").wait_for()

    page.get_by_role("tab", name="Monitoring form").click()
    screenshot(page, "rems_session_log_saved")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download monitoring form (PDF)").click()
    pdf = download_info.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    flat = " ".join(text.decode().split())
    for value in ("E2E7731K", "128", "82", "138", "88", "124", "79", "130", "90", "96", f"{now:%m/%d/%Y}"):
        assert value in flat, value

    engine = make_engine(live_server.database_url)
    with unit_of_work(engine, actor="e2e-check") as session:
        stored = session.exec(select(TreatmentSession).where(TreatmentSession.patient_id == patient_id)).one()
        assert (stored.devices, stored.dose_mg, stored.pmf_status) == (3, 84, "ready")
        authorization = session.get(PaAuthorization, authorization_id)
        assert authorization is not None
        assert account(session, authorization=authorization).remaining_devices == AUTHORIZED_DEVICES - 3
    engine.dispose()
    # Drawing the button fetched the form already; only the click is a download.
    downloads = audit_rows(live_server.database_url, action="download", entity="rems_monitoring_form")
    assert downloads == [("nurse", "download", str(stored.id))]
