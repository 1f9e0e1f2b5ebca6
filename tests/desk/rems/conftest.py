"""REMS fixtures: a clock, settings in a fixed time zone, users by role and a complete valid session log."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from desk.auth import CurrentUser
from desk.rems.config import RemsSettings
from desk.rems.validation import ReadingInput, SessionInput
from tests.factories import make_enrollment, make_patient, make_prescriber, make_site

ZONE = ZoneInfo("America/New_York")
DAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=ZONE)
NURSE = CurrentUser(11, "nurse1", "Nurse One", ("nurse",))
ADMIN = CurrentUser(12, "admin1", "Admin One", ("admin",))
BILLING = CurrentUser(13, "billing1", "Billing One", ("billing",))


def at(hour: int, minute: int, day: date = DAY) -> datetime:
    """A clinic-local time on the session day."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def full_session(patient_id: int, site_id: int, prescriber_on_site_id: int | None = None,
                 **overrides: Any) -> SessionInput:
    """A complete, valid 56 mg session: pre-checks, 2 devices 5 min apart, 3 BP readings, SpO2, 125 min."""
    base = SessionInput(
        patient_id=patient_id,
        site_id=site_id,
        prescriber_on_site_id=prescriber_on_site_id,
        session_date=DAY,
        indication="TRD",
        dose_mg=56,
        lot_number="LOT4521A",
        device_times=(at(10, 0), at(10, 5)),
        no_food_2h=True,
        no_liquids_30min=True,
        nasal_medication_ok=True,
        ride_home_confirmed=True,
        readings=(
            ReadingInput("pre", at(9, 50), 128, 82, 72, 98),
            ReadingInput("post_40", at(10, 40), 136, 86, 80, 96),
            ReadingInput("discharge", at(11, 55), 124, 79, 70, 97),
        ),
        vitals_ok_before=True,
        vitals_ok_before_completion=True,
        dissociation=True,
        dissociation_resolved_at=at(11, 10),
        ready_to_leave_minutes=95,
        discharged_at=at(12, 5),
        monitoring_hcp_first_name="Rita",
        monitoring_hcp_last_name="Nurseworth",
        monitoring_hcp_phone="217-555-0142",
        monitoring_hcp_email="rita@example.org",
    )
    return replace(base, **overrides)


@pytest.fixture
def settings() -> RemsSettings:
    """REMS defaults in the America/New_York time zone."""
    return RemsSettings(timezone="America/New_York")


@pytest.fixture
def enrolled(session: Session) -> tuple[int, int, int]:
    """(patient_id, site_id, prescriber_id) of an enrolled patient at a certified site with its prescriber on site."""
    site = make_site(session)
    prescriber = make_prescriber(session, site_id=site.id)
    patient = make_patient(session, site=site, prescriber_id=prescriber.id)
    make_enrollment(session, patient=patient)
    session.commit()
    assert patient.id is not None and site.id is not None and prescriber.id is not None
    return patient.id, site.id, prescriber.id
