"""Billing's queue: who needs a PA started, renewed, topped up or appealed, and the patient list's PA status."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session

from desk.models import TreatmentCourse
from desk.models.prior_auth import PaDeviceEntry, PriorAuthCase
from desk.prior_auth.needs_pa import NeedsPa, NewCase, needs_pa, pa_status_by_patient
from tests.desk.prior_auth.conftest import TODAY, approved_case, draft_case, patient_with_coverage
from tests.factories import make_enrollment


def _queue(session: Session, *, today: date = TODAY, window: int = 180, warning: int = 14) -> NeedsPa:
    return needs_pa(session, today=today, default_lead_days=21, appeal_window_days=window,
                    appeal_warning_days=warning)


def test_enrolled_patient_with_no_case_is_listed_with_a_prefilled_initial_case(session: Session) -> None:
    patient, cover = patient_with_coverage(session)
    make_enrollment(session, patient=patient)
    [row] = _queue(session).of_kind("no_authorization")
    assert row.patient == f"{patient.last_name}, {patient.first_name}" and row.mrn == patient.mrn
    assert row.payer == "Test Health"
    assert "no approved or pending authorization covers 11/26/2026" in row.reason
    assert row.new_case == NewCase(patient.id, cover.id, "TRD", "initial") and row.case_id is None


def test_course_starting_later_is_checked_on_its_start_date(session: Session) -> None:
    patient, _cover = patient_with_coverage(session)
    session.add(TreatmentCourse(patient_id=patient.id, indication="MDSI", start_date=TODAY + timedelta(days=5)))
    session.flush()
    [row] = _queue(session).of_kind("no_authorization")
    assert row.reason.startswith("Course starts 12/01/2026;") and row.new_case is not None
    assert row.new_case.indication == "MDSI"
    # An authorization that ends before the course starts does not cover it; one that spans it does.
    approved_case(session, patient=patient, start=TODAY - timedelta(days=60), end=TODAY + timedelta(days=2))
    assert [r.patient_id for r in _queue(session).of_kind("no_authorization")] == [patient.id]
    approved_case(session, patient=patient, start=TODAY, end=TODAY + timedelta(days=90))
    assert _queue(session).of_kind("no_authorization") == []


def test_pending_case_takes_the_patient_off_the_list_and_a_denial_puts_them_back(session: Session) -> None:
    case = draft_case(session)
    patient_id = case.patient_id
    session.add(TreatmentCourse(patient_id=patient_id, indication="TRD", start_date=TODAY))
    session.flush()
    assert _queue(session).of_kind("no_authorization") == []
    case.status, case.denied_on = "denied", TODAY - timedelta(days=3)
    session.add(case)
    session.flush()
    [row] = _queue(session).of_kind("no_authorization")
    assert row.case_id == case.id and "Last case denied." in row.reason and row.new_case is not None


def test_expired_authorization_makes_the_next_case_a_continuation(session: Session) -> None:
    case, _auth = approved_case(session, start=TODAY - timedelta(days=200), end=TODAY - timedelta(days=10),
                                status="expired")
    session.add(TreatmentCourse(patient_id=case.patient_id, indication="TRD", start_date=TODAY - timedelta(
        days=200)))
    session.flush()
    [row] = _queue(session).of_kind("no_authorization")
    assert row.new_case is not None and row.new_case.phase == "continuation"


def test_patient_without_coverage_is_listed_without_a_case_to_start(session: Session) -> None:
    from tests.factories import make_patient

    patient = make_patient(session)
    make_enrollment(session, patient=patient)
    [row] = _queue(session).of_kind("no_authorization")
    assert row.new_case is None and row.payer == "No coverage" and "No insurance coverage on record" in row.reason


def test_authorization_ending_within_the_lead_is_listed_for_renewal_until_a_renewal_case_opens(
        session: Session) -> None:
    case, _auth = approved_case(session, start=TODAY - timedelta(days=80), end=TODAY + timedelta(days=10))
    far, _ = approved_case(session, start=TODAY - timedelta(days=10), end=TODAY + timedelta(days=100))
    [row] = _queue(session).of_kind("renewal")
    assert row.case_id == case.id and row.reason.startswith("Authorization ends 12/06/2026 (10 days left)")
    assert row.new_case == NewCase(case.patient_id, case.coverage_id, "TRD", "continuation")
    renewal = PriorAuthCase(patient_id=case.patient_id, coverage_id=case.coverage_id, payer_id=case.payer_id,
                            plan_type="commercial", indication="TRD", phase="continuation")
    session.add(renewal)
    session.flush()
    assert _queue(session).of_kind("renewal") == []
    assert far.id not in {r.case_id for r in _queue(session).rows}


def test_devices_that_will_not_cover_two_weeks_are_listed_with_the_case_to_open(session: Session) -> None:
    case, _auth = approved_case(session, start=TODAY - timedelta(days=30), end=TODAY + timedelta(days=90),
                                devices=24)
    session.add(PaDeviceEntry(patient_id=case.patient_id, case_id=case.id, session_date=TODAY - timedelta(
        days=1), devices=21, recorded_by="tester"))
    session.flush()
    [row] = _queue(session).of_kind("devices")
    assert row.case_id == case.id and row.new_case is None
    assert row.reason.startswith("3 devices left; next two weeks need")


def test_denial_is_listed_when_its_appeal_window_closes_within_the_warning(session: Session) -> None:
    case = draft_case(session)
    case.status, case.denied_on = "denied", TODAY - timedelta(days=170)
    session.add(case)
    session.flush()
    [row] = _queue(session).of_kind("appeal")
    assert row.case_id == case.id
    assert row.reason == "Denied on 06/09/2026; the appeal window closes 12/06/2026 (10 days left)."
    assert _queue(session, warning=5).of_kind("appeal") == []
    assert _queue(session, window=160).of_kind("appeal") == [], "a closed window is past acting on"
    assert _queue(session, window=170).of_kind("appeal")[0].reason.endswith("(closes today).")


def test_counts_are_patients_per_list(session: Session) -> None:
    for _ in range(3):
        patient, _cover = patient_with_coverage(session)
        make_enrollment(session, patient=patient)
    assert _queue(session).counts() == {"no_authorization": 3, "renewal": 0, "devices": 0, "appeal": 0}


def test_pa_status_column(session: Session) -> None:
    approved, _ = approved_case(session, start=TODAY - timedelta(days=5), end=TODAY + timedelta(days=60))
    pending = draft_case(session)
    enrolled, _cover = patient_with_coverage(session)
    make_enrollment(session, patient=enrolled)
    untreated, _cover = patient_with_coverage(session)
    status = pa_status_by_patient(session, patient_ids=[approved.patient_id, pending.patient_id, enrolled.id,
                                                               untreated.id], today=TODAY)
    assert status == {approved.patient_id: "Approved through 01/25/2027", pending.patient_id: "Draft",
                      enrolled.id: "Needs a PA", untreated.id: ""}
