"""pmf_batch: 500 REMS Patient Monitoring Forms filled, flattened and merged in one batch (target <= 15 s)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bench.common import Result
from desk.audit import install_audit_hook
from desk.auth import CurrentUser
from desk.database import make_engine, migrate
from desk.models import Patient, Prescriber, RemsEnrollment, Site
from desk.rems.config import RemsSettings
from desk.rems.pmf_pdf import ready_forms_bundle
from desk.rems.sessions import record_session
from desk.rems.validation import ReadingInput, SessionInput

ZONE = ZoneInfo("America/New_York")
NURSE = CurrentUser(1, "bench-nurse", "Bench Nurse", ("nurse",))
TARGET_SECONDS = 15.0


def _session(patient_id: int, site_id: int, prescriber_id: int, day: date) -> SessionInput:
    def at(hour: int, minute: int) -> datetime:
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)

    return SessionInput(
        patient_id=patient_id, site_id=site_id, prescriber_on_site_id=prescriber_id, session_date=day, indication="TRD",
        dose_mg=84,
        lot_number="BENCH01", device_times=(at(9, 0), at(9, 5), at(9, 10)),
        no_food_2h=True, no_liquids_30min=True, nasal_medication_ok=True, ride_home_confirmed=True,
        readings=(ReadingInput("pre", at(8, 50), 124, 80, 70, 98), ReadingInput("post_40", at(9, 40), 138, 88, 76, 96),
                  ReadingInput("discharge", at(11, 5), 122, 78, 68, 98)),
        vitals_ok_before=True, vitals_ok_before_completion=True, ready_to_leave_minutes=90, discharged_at=at(11, 10),
        monitoring_hcp_first_name="Bench", monitoring_hcp_last_name="Nurse", monitoring_hcp_phone="217-555-0100",
        monitoring_hcp_email="nurse@example.org",
    )


def _seed(url: str, forms: int) -> tuple[date, date]:
    migrate(url)
    engine = make_engine(url)
    start = date(2026, 1, 5)
    settings = RemsSettings()
    with Session(engine, expire_on_commit=False) as session:
        session.info["actor"] = "bench"
        install_audit_hook(session)
        site = Site(name="Bench Clinic", address_line="1 Bench St", city="Springfield", state="IL", zip_code="62701",
                    rems_setting_id="RS999999", rems_certified_on=date(2025, 1, 1), authorized_representative="A. Rep")
        session.add(site)
        session.flush()
        prescriber = Prescriber(first_name="Synthetic", last_name="Prescriber", npi="1234567893", site_id=site.id)
        session.add(prescriber)
        session.flush()
        patients = []
        for n in range(50):
            patient = Patient(site_id=site.id or 0, mrn=f"B{n:05d}", first_name="Synthetic", last_name=f"Bench{n}",
                              dob=date(1980, 1, 1) + timedelta(days=n), sex="F")
            session.add(patient)
            session.flush()
            session.add(RemsEnrollment(patient_id=patient.id or 0, patient_signed_on=date(2025, 12, 1),
                                       prescriber_signed_on=date(2025, 12, 1), submitted_on=date(2025, 12, 2)))
            patients.append(patient)
        session.flush()
        for n in range(forms):
            day = start + timedelta(days=n // len(patients))
            record_session(session, user=NURSE, data=_session(patients[n % len(patients)].id or 0, site.id or 0,
                                                                  prescriber.id or 0, day),
                           now=datetime(2026, 12, 31, tzinfo=ZONE), settings=settings)
        session.commit()
    engine.dispose()
    return start, start + timedelta(days=forms // 50 + 1)


def run(quick: bool) -> Iterator[Result]:
    forms = 50 if quick else 500
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        start, end = _seed(url, forms)
        engine = make_engine(url)
        for as_zip, label in ((False, "merged_pdf"), (True, "zip")):
            with Session(engine) as session:
                session.info["actor"] = "bench"
                began = time.perf_counter()
                bundle = ready_forms_bundle(session, user=NURSE, start=start, end=end, as_zip=as_zip)
                seconds = time.perf_counter() - began
                session.rollback()
            assert len(bundle.session_ids) == forms
            yield Result("pmf_batch", f"{forms}_forms_{label}_seconds", seconds, "s", TARGET_SECONDS * forms / 500)
            yield Result("pmf_batch", f"{label}_ms_per_form", seconds * 1000 / forms, "ms")
        engine.dispose()
