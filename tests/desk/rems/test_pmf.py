"""Monitoring form: due dates (incl. month and year ends), status transitions, due/overdue lists, data shape."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlmodel import Session

from desk.errors import ValidationFailed
from desk.models import CurrentMedication, TreatmentSession
from desk.rems.config import RemsSettings
from desk.rems.pmf import forms_due_soon, forms_open, forms_overdue, mark_submitted, pmf_data, pmf_due_date
from desk.rems.sessions import record_session
from tests.desk.rems.conftest import DAY, NOW, NURSE, full_session


@pytest.mark.parametrize(
    ("session_date", "due"),
    [
        (date(2026, 3, 10), date(2026, 3, 17)),
        (date(2026, 1, 28), date(2026, 2, 4)),
        (date(2026, 2, 25), date(2026, 3, 4)),
        (date(2028, 2, 25), date(2028, 3, 3)),  # leap year
        (date(2026, 12, 28), date(2027, 1, 4)),
        (date(2026, 4, 30), date(2026, 5, 7)),
    ],
)
def test_due_date_is_seven_calendar_days(session_date: date, due: date, settings: RemsSettings) -> None:
    assert pmf_due_date(session_date, settings=settings) == due


def test_due_window_is_a_setting(settings: RemsSettings) -> None:
    assert pmf_due_date(date(2026, 3, 10), settings=replace(settings, pmf_due_days=5)) == date(2026, 3, 15)


def _record(session: Session, enrolled: tuple[int, int, int], settings: RemsSettings,
            **overrides: object) -> TreatmentSession:
    ts = record_session(session, user=NURSE, data=full_session(*enrolled, **overrides), now=NOW, settings=settings)  # type: ignore[arg-type]
    session.commit()
    return ts


def test_status_ready_then_submitted(session: Session, enrolled: tuple[int, int, int], settings: RemsSettings) -> None:
    ts = _record(session, enrolled, settings)
    assert ts.id is not None and ts.pmf_status == "ready"
    with pytest.raises(ValidationFailed) as caught:
        mark_submitted(session, user=NURSE, session_id=ts.id, expected_version=ts.version, submitted_on=DAY,
                       channel="online", confirmation_number="", today=DAY)
    assert caught.value.for_field("confirmation_number")
    session.rollback()
    mark_submitted(session, user=NURSE, session_id=ts.id, expected_version=ts.version,
                   submitted_on=DAY + timedelta(days=1), channel="online", confirmation_number="PMF-778",
                   today=DAY + timedelta(days=1))
    session.commit()
    assert (ts.pmf_status, ts.pmf_channel, ts.pmf_confirmation) == ("submitted", "online", "PMF-778")
    with pytest.raises(ValidationFailed) as again:
        mark_submitted(session, user=NURSE, session_id=ts.id, expected_version=ts.version, submitted_on=DAY,
                       channel="fax", confirmation_number="", today=DAY)
    assert again.value.for_field("pmf_status") == ["the monitoring form is already submitted"]
    with pytest.raises(ValidationFailed) as locked:
        record_session(session, user=NURSE, data=full_session(*enrolled, lot_number="NEW1"), session_id=ts.id,
                       expected_version=ts.version, now=NOW, settings=settings)
    assert "amendment" in locked.value.for_field("pmf_status")[0]


def test_draft_cannot_be_submitted(session: Session, enrolled: tuple[int, int, int], settings: RemsSettings) -> None:
    ts = _record(session, enrolled, settings, discharged_at=None, ready_to_leave_minutes=None)
    assert ts.id is not None and ts.pmf_status == "draft"
    with pytest.raises(ValidationFailed) as caught:
        mark_submitted(session, user=NURSE, session_id=ts.id, expected_version=ts.version, submitted_on=DAY,
                       channel="fax", confirmation_number="", today=DAY)
    assert caught.value.for_field("pmf_status") == ["the session is not complete yet: record the discharge first"]


def test_due_and_overdue_lists(session: Session, enrolled: tuple[int, int, int], settings: RemsSettings) -> None:
    ts = _record(session, enrolled, settings)
    assert forms_overdue(session, today=date(2026, 3, 17), settings=settings) == []
    assert [f.session_id for f in forms_due_soon(session, today=date(2026, 3, 15), settings=settings)] == [ts.id]
    assert forms_due_soon(session, today=date(2026, 3, 14), settings=settings) == []
    [late] = forms_overdue(session, today=date(2026, 3, 18), settings=settings)
    assert late.days_left == -1 and late.due_date == date(2026, 3, 17)
    assert ts.id is not None
    mark_submitted(session, user=NURSE, session_id=ts.id, expected_version=ts.version, submitted_on=date(2026, 3, 18),
                   channel="fax", confirmation_number="", today=date(2026, 3, 18))
    session.commit()
    assert forms_open(session, today=date(2026, 3, 18), settings=settings) == []


def test_pmf_data_shape(session: Session, enrolled: tuple[int, int, int], settings: RemsSettings) -> None:
    patient_id, _site, _prescriber = enrolled
    session.add(CurrentMedication(patient_id=patient_id, drug="Adderall XR 20 mg"))
    session.add(CurrentMedication(patient_id=patient_id, drug="zolpidem"))
    session.commit()
    ts = _record(session, enrolled, settings)
    assert ts.id is not None
    data = pmf_data(session, session_id=ts.id)
    assert set(data) == {"patient", "first_treatment", "rems_enrolled", "concomitant", "monitoring_hcp", "site",
                         "session"}
    assert data["first_treatment"] is True and data["rems_enrolled"] is True
    assert data["concomitant"] == {"benzodiazepines": False, "non_benzo_hypnotics": True, "psychostimulants": True,
                                   "maois": False, "opioids": False, "none": False}
    assert data["patient"]["dob"] == date(1980, 5, 17)
    assert data["monitoring_hcp"] == {"first_name": "Rita", "last_name": "Nurseworth", "phone": "217-555-0142",
                                      "email": "rita@example.org"}
    s = data["session"]
    assert (s["date"], s["dose_mg"], s["dose_other_mg"], s["devices"]) == (DAY, 56, None, 2)
    assert (s["total_monitoring_minutes"], s["ready_to_leave_minutes"]) == (125, 95)
    assert (s["bp_pre_systolic"], s["bp_pre_diastolic"], s["bp_40_systolic"], s["bp_40_diastolic"],
            s["bp_discharge_systolic"], s["bp_discharge_diastolic"]) == (128, 82, 136, 86, 124, 79)
    assert (s["sedation"], s["dissociation"], s["respiratory_depression"]) == (False, True, False)
    assert (s["pulse_oximetry_done"], s["spo2_lowest"]) == (True, 96)
    assert s["lot_number"] == "LOT4521A" and s["serious_adverse_event"] is False
    assert set(s) == {"date", "dose_mg", "dose_other_mg", "lot_number", "devices", "total_monitoring_minutes",
                      "ready_to_leave_minutes", "vitals_ok_before", "vitals_ok_before_completion", "bp_pre_systolic",
                      "bp_pre_diastolic", "bp_40_systolic", "bp_40_diastolic", "bp_discharge_systolic",
                      "bp_discharge_diastolic", "sedation", "dissociation", "respiratory_depression",
                      "pulse_oximetry_done", "spo2_lowest", "serious_adverse_event", "sae_details"}


def test_no_concomitant_medication_ticks_none(session: Session, enrolled: tuple[int, int, int],
                                              settings: RemsSettings) -> None:
    ts = _record(session, enrolled, settings)
    assert ts.id is not None
    assert pmf_data(session, session_id=ts.id)["concomitant"]["none"] is True
