"""Recording sessions on both databases: enrollment blocking, nothing written on error, roles, devices used."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from desk.errors import PermissionDenied, StaleEdit, ValidationFailed
from desk.models import (
    AuditEvent,
    CurrentMedication,
    RemsEnrollment,
    SessionDevice,
    SessionReading,
    TreatmentSession,
)
from desk.rems.config import RemsSettings
from desk.rems.sessions import devices_used, record_session, session_clock, session_input
from desk.rems.validation import ReadingInput
from tests.desk.rems.conftest import BILLING, DAY, NOW, NURSE, at, full_session
from tests.factories import make_enrollment, make_patient, make_site


def counts(session: Session) -> tuple[int, ...]:
    return tuple(
        session.exec(select(func.count()).select_from(model)).one()
        for model in (TreatmentSession, SessionDevice, SessionReading, AuditEvent)
    )


def test_records_a_complete_session(session: Session, enrolled: tuple[int, int, int], settings: RemsSettings) -> None:
    patient_id, site_id, prescriber_id = enrolled
    session.add(CurrentMedication(patient_id=patient_id, drug="clonazepam 0.5 mg"))
    session.add(CurrentMedication(patient_id=patient_id, drug="sertraline"))
    session.commit()
    ts = record_session(session, user=NURSE, data=full_session(patient_id, site_id, prescriber_id),
                        now=NOW, settings=settings)
    session.commit()
    assert ts.pmf_status == "ready"
    assert ts.devices == 2 and ts.first_device_at == at(10, 0)
    assert ts.concomitant_classes == "benzodiazepines"
    assert ts.recorded_by == "nurse1"
    assert ts.id is not None
    assert session_input(session, session_id=ts.id) == full_session(patient_id, site_id, prescriber_id)
    audited = session.exec(select(AuditEvent).where(AuditEvent.entity == "treatment_session")).all()
    assert [e.action for e in audited] == ["create"] and audited[0].actor == "tester"


def test_not_enrolled_patient_cannot_start(session: Session, settings: RemsSettings) -> None:
    patient = make_patient(session, site=make_site(session))
    session.commit()
    before = counts(session)
    assert patient.id is not None
    with pytest.raises(ValidationFailed) as caught:
        record_session(session, user=NURSE, data=full_session(patient.id, patient.site_id), now=NOW,
                       settings=settings)
    session.rollback()
    [message] = caught.value.for_field("patient_id")
    assert message.startswith("This patient is not enrolled in the SPRAVATO REMS")
    assert "Patient Enrollment Form" in message
    assert counts(session) == before


def test_incomplete_enrollment_names_what_is_missing(session: Session, settings: RemsSettings) -> None:
    patient = make_patient(session, site=make_site(session))
    make_enrollment(session, patient=patient, prescriber_signed_on=None, submitted_on=None, confirmation_number="")
    session.commit()
    assert patient.id is not None
    with pytest.raises(ValidationFailed) as caught:
        record_session(session, user=NURSE, data=full_session(patient.id, patient.site_id), now=NOW,
                       settings=settings)
    [message] = caught.value.for_field("patient_id")
    assert "the prescriber's signature, the submission date missing" in message


def test_enrollment_after_session_date_blocks(session: Session, enrolled: tuple[int, int, int],
                                              settings: RemsSettings) -> None:
    patient_id, site_id, prescriber_id = enrolled
    enrollment = session.exec(select(RemsEnrollment).where(RemsEnrollment.patient_id == patient_id)).one()
    enrollment.submitted_on = DAY + timedelta(days=1)
    session.commit()
    with pytest.raises(ValidationFailed) as caught:
        record_session(session, user=NURSE, data=full_session(patient_id, site_id, prescriber_id),
                       now=NOW, settings=settings)
    assert caught.value.for_field("session_date")


def test_invalid_session_writes_nothing(session: Session, enrolled: tuple[int, int, int],
                                        settings: RemsSettings) -> None:
    patient_id, site_id, prescriber_id = enrolled
    before = counts(session)
    bad = full_session(patient_id, site_id, prescriber_id, discharged_at=at(11, 30),
                       device_times=(at(10, 0), at(10, 3)))
    with pytest.raises(ValidationFailed) as caught:
        record_session(session, user=NURSE, data=bad, now=NOW, settings=settings)
    session.rollback()
    assert {"discharged_at", "device_times[1]"} <= {e.field for e in caught.value.errors}
    assert counts(session) == before


def test_billing_may_not_record(session: Session, enrolled: tuple[int, int, int], settings: RemsSettings) -> None:
    patient_id, site_id, prescriber_id = enrolled
    before = counts(session)
    with pytest.raises(PermissionDenied):
        record_session(session, user=BILLING, data=full_session(patient_id, site_id, prescriber_id),
                       now=NOW, settings=settings)
    session.rollback()
    assert counts(session) == before


def test_session_saved_in_steps_then_completed(session: Session, enrolled: tuple[int, int, int],
                                               settings: RemsSettings) -> None:
    patient_id, site_id, prescriber_id = enrolled
    complete = full_session(patient_id, site_id, prescriber_id)
    start = replace(complete, device_times=(), readings=complete.readings[:1], discharged_at=None,
                    ready_to_leave_minutes=None, dissociation=False, dissociation_resolved_at=None,
                    vitals_ok_before_completion=None)
    ts = record_session(session, user=NURSE, data=start, now=at(9, 55), settings=settings)
    session.commit()
    assert ts.pmf_status == "draft" and ts.first_device_at is None
    ts = record_session(session, user=NURSE, data=complete, session_id=ts.id, expected_version=ts.version,
                        now=NOW, settings=settings)
    session.commit()
    assert ts.pmf_status == "ready" and ts.devices == 2
    assert session.exec(select(func.count()).select_from(SessionReading)).one() == 3


def test_stale_edit_is_refused(session: Session, enrolled: tuple[int, int, int], settings: RemsSettings) -> None:
    patient_id, site_id, prescriber_id = enrolled
    ts = record_session(session, user=NURSE, data=full_session(patient_id, site_id, prescriber_id, discharged_at=None,
                                                               ready_to_leave_minutes=None), now=NOW, settings=settings)
    session.commit()
    stale = ts.version
    record_session(session, user=NURSE, data=full_session(patient_id, site_id, prescriber_id), session_id=ts.id,
                   expected_version=stale, now=NOW, settings=settings)
    session.commit()
    with pytest.raises(StaleEdit):
        record_session(session, user=NURSE, data=full_session(patient_id, site_id, prescriber_id, lot_number="X1"),
                       session_id=ts.id, expected_version=stale, now=NOW, settings=settings)


def test_devices_used_counts_devices_in_window(session: Session, enrolled: tuple[int, int, int],
                                               settings: RemsSettings) -> None:
    patient_id, site_id, prescriber_id = enrolled
    record_session(session, user=NURSE, data=full_session(patient_id, site_id, prescriber_id),
                   now=NOW, settings=settings)
    earlier_day = date(2026, 3, 6)
    earlier = full_session(
        patient_id, site_id, prescriber_id, session_date=earlier_day, dose_mg=84,
        device_times=(at(10, 0, earlier_day), at(10, 5, earlier_day), at(10, 10, earlier_day)),
        readings=tuple(replace(r, measured_at=r.measured_at - timedelta(days=4)) for r in full_session(1, 1).readings),
        dissociation_resolved_at=at(11, 10, earlier_day), discharged_at=at(12, 10, earlier_day),
    )
    record_session(session, user=NURSE, data=earlier, now=NOW, settings=settings)
    session.commit()
    assert devices_used(session, patient_id=patient_id, start=date(2026, 3, 1), end=date(2026, 3, 31)) == 5
    assert devices_used(session, patient_id=patient_id, start=DAY, end=DAY) == 2
    assert devices_used(session, patient_id=patient_id, start=date(2026, 3, 7), end=date(2026, 3, 9)) == 0
    assert devices_used(session, patient_id=patient_id + 1000, start=date(2026, 3, 1), end=date(2026, 3, 31)) == 0


def test_clock_reminders(settings: RemsSettings) -> None:
    first = at(10, 0)
    early = session_clock(first_device_at=first, readings=[], discharged_at=None, now=at(10, 20), settings=settings)
    assert early.minutes_since_first_device == 20
    assert early.reminders == ["~40-minute blood pressure due at 10:40 (in 20 min).",
                               "2-hour mark at 12:00 (in 100 min); no discharge before."]
    due = session_clock(first_device_at=first, readings=[], discharged_at=None, now=at(10, 41), settings=settings)
    assert due.reminders[0] == "The ~40-minute blood pressure is due now (since 10:40)."
    taken = [ReadingInput("post_40", at(10, 41), 130, 80)]
    late = session_clock(first_device_at=first, readings=taken, discharged_at=None, now=at(12, 1), settings=settings)
    assert late.post_dose_reading_done
    assert late.reminders == ["The 2-hour minimum was reached at 12:00: take the discharge blood pressure; "
                              "discharge when the patient is clinically stable."]
    done = session_clock(first_device_at=first, readings=taken, discharged_at=at(12, 5), now=at(12, 6),
                         settings=settings)
    assert done.reminders == [] and done.discharged


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"rems_certified_on": None}, "REMS certification is not on file"),
        ({"rems_setting_id": ""}, "REMS certification is not on file"),
        ({"rems_certified_on": DAY + timedelta(days=1)}, "is before that. Only a certified setting may treat"),
        ({"rems_certified_until": DAY - timedelta(days=1)}, "ended"),
    ],
)
def test_a_session_outside_the_settings_certification_is_refused(session: Session, enrolled: tuple[int, int, int],
                                                                 settings: RemsSettings, change: dict[str, object],
                                                                 says: str) -> None:
    from desk.models import Site

    patient_id, site_id, prescriber_id = enrolled
    site = session.get(Site, site_id)
    assert site is not None
    for name, value in change.items():
        setattr(site, name, value)
    session.commit()
    before = counts(session)
    with pytest.raises(ValidationFailed) as caught:
        record_session(session, user=NURSE, data=full_session(patient_id, site_id, prescriber_id),
                       now=NOW, settings=settings)
    session.rollback()
    [message] = caught.value.for_field("site_id")
    assert says in message and ("Admin → Sites" in message or "SPRAVATOrems.com" in message)
    assert counts(session) == before


def test_a_session_on_the_last_certified_day_is_accepted(session: Session, enrolled: tuple[int, int, int],
                                                        settings: RemsSettings) -> None:
    from desk.models import Site

    patient_id, site_id, prescriber_id = enrolled
    site = session.get(Site, site_id)
    assert site is not None
    site.rems_certified_until = DAY
    session.commit()
    record_session(session, user=NURSE, data=full_session(patient_id, site_id, prescriber_id),
                   now=NOW, settings=settings)


def test_the_prescriber_on_site_is_recorded_and_must_belong_to_the_site(
        session: Session, enrolled: tuple[int, int, int], settings: RemsSettings) -> None:
    from tests.factories import make_prescriber

    patient_id, site_id, _own_prescriber = enrolled
    here = make_prescriber(session, site_id=site_id)
    elsewhere = make_prescriber(session, site_id=make_site(session).id)
    retired = make_prescriber(session, site_id=site_id, active=False)
    session.commit()
    before = counts(session)
    refusals = {
        None: "choose the prescriber who was on site during dosing: the REMS requires a prescriber on site while "
              "SPRAVATO is given",
        elsewhere.id: "choose a prescriber of this site",
        retired.id: "this prescriber is inactive; choose an active prescriber of this site",
    }
    for on_site, message in refusals.items():
        with pytest.raises(ValidationFailed) as caught:
            record_session(session, user=NURSE, data=full_session(patient_id, site_id, on_site),
                           now=NOW, settings=settings)
        session.rollback()
        assert caught.value.for_field("prescriber_on_site_id") == [message]
        assert counts(session) == before
    # Before the first device nobody has been dosed yet: the log may be saved without it.
    record_session(session, user=NURSE, data=full_session(patient_id, site_id, None, device_times=(), readings=(
        full_session(1, 1).readings[0],), discharged_at=None, dissociation=False, dissociation_resolved_at=None,
        ready_to_leave_minutes=None, vitals_ok_before_completion=None), now=NOW, settings=settings)
    session.rollback()
    ts = record_session(session, user=NURSE, data=full_session(patient_id, site_id, here.id),
                        now=NOW, settings=settings)
    assert ts.prescriber_on_site_id == here.id
    assert session_input(session, session_id=ts.id or 0).prescriber_on_site_id == here.id


def test_a_new_log_preselects_the_patients_prescriber_when_they_work_at_the_site(
        session: Session, enrolled: tuple[int, int, int]) -> None:
    from desk.rems.sessions import default_prescriber_on_site

    patient_id, site_id, own = enrolled
    assert default_prescriber_on_site(session, patient_id=patient_id, site_id=site_id) == own
    other_site = make_site(session)
    session.commit()
    assert default_prescriber_on_site(session, patient_id=patient_id, site_id=other_site.id or 0) is None


def test_a_first_trd_session_not_at_56_mg_is_warned(session: Session, enrolled: tuple[int, int, int],
                                                    settings: RemsSettings) -> None:
    from desk.rems.sessions import first_dose_warning

    patient_id, site_id, prescriber_id = enrolled
    warning = first_dose_warning(session, patient_id=patient_id, indication="TRD", dose_mg=84, session_date=DAY)
    assert warning is not None and "starts TRD at 56 mg on day 1" in warning
    assert first_dose_warning(session, patient_id=patient_id, indication="TRD", dose_mg=56, session_date=DAY) is None
    assert first_dose_warning(session, patient_id=patient_id, indication="MDSI", dose_mg=84, session_date=DAY) is None
    record_session(session, user=NURSE, data=full_session(patient_id, site_id, prescriber_id, dose_mg=56,
                                                          device_times=(at(10, 0), at(10, 5))),
                   now=NOW, settings=settings)
    later = DAY + timedelta(days=3)
    assert first_dose_warning(session, patient_id=patient_id, indication="TRD", dose_mg=84, session_date=later) is None


def test_clock_stops_at_discharge(settings: RemsSettings) -> None:
    first = at(6, 10)
    taken = [ReadingInput("post_40", at(6, 50), 130, 80)]
    later = session_clock(first_device_at=first, readings=taken, discharged_at=at(8, 15), now=at(14, 0),
                          settings=settings)
    assert later.minutes_since_first_device == 125, "counted to the discharge at 08:15, not to now"
