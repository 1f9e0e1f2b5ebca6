"""REMS screens in AppTest: session log, dashboard, enrollment & course; each role (billing reads, never records)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from desk.database import unit_of_work
from desk.models import (
    CurrentMedication,
    Patient,
    RemsEnrollment,
    SessionAmendment,
    Site,
    TreatmentCourse,
    TreatmentSession,
)
from desk.rems.config import RemsSettings
from desk.rems.coverage import authorization_tracking_available
from desk.rems.sessions import default_prescriber_on_site, record_session
from tests.desk.rems.conftest import NURSE, full_session
from tests.factories import make_enrollment, make_patient, make_prescriber, make_site
from tests.ui.conftest import AppFactory
from tests.ui.screen import all_messages, messages_under, row_widths, shown
from ui.rems_session.state import ROUND, field_key

PAGES = ("pages/rems_sessions.py", "pages/rems_dashboard.py", "pages/rems_patients.py")
# The kinds of input whose values the browser sends with every run it asks for.
STATEFUL = ("selectbox", "text_input", "text_area", "number_input", "time_input", "toggle", "radio", "checkbox")


def _field(at: AppTest, kind: str, name: str) -> Any:
    """The session log's input of form key `name` (a `kind` widget), as keyed in the current round."""
    return getattr(at, kind)(key=field_key(at.session_state[ROUND], name))


def _labelled(widgets: Any, label: str) -> Any:
    """The one widget of `widgets` labelled `label`."""
    [widget] = [w for w in widgets if w.label == label]
    return widget


def _picker(at: AppTest) -> Any:
    """The "Today's sessions" picker."""
    return _labelled(at.selectbox, "Today's sessions")


def _new_session_for(at: AppTest, patient_id: int) -> AppTest:
    """Open "Start a new session" and choose the patient, as a nurse does."""
    at.session_state["rems_starting"] = True
    at.run()
    return at.selectbox(key="rems_new_patient").select(patient_id).run()


def _new_log(page_app: AppFactory, patient_id: int) -> AppTest:
    """The session log with a new session for `patient_id` opened, as a nurse starts one."""
    at = _new_session_for(_screen(page_app, "pages/rems_sessions.py", "nurse"), patient_id)
    return at.button(key="rems_start").click().run()


@pytest.fixture
def clinic_zone(monkeypatch: pytest.MonkeyPatch) -> ZoneInfo:
    """A clinic time zone in which it is early afternoon now, so a whole session fits in today."""
    hour = datetime.now(UTC).hour
    offset = (14 - hour + 12) % 24 - 12  # local = UTC + offset, offset in -12..11
    name = f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # POSIX sign: Etc/GMT-3 is UTC+3
    monkeypatch.setenv("DESK_TIMEZONE", name)
    return ZoneInfo(name)


def _seed(engine: Engine, *, enrolled: bool = True, medication: str = "", site_id: int | None = None
          ) -> tuple[int, int]:
    """An enrolled patient (unless told) at a new site, or at site `site_id`."""
    with unit_of_work(engine, actor="tester") as session:
        site = session.get(Site, site_id) if site_id is not None else make_site(session)
        assert site is not None
        prescriber = make_prescriber(session, site_id=site.id)
        patient = make_patient(session, site=site, prescriber_id=prescriber.id)
        if enrolled:
            make_enrollment(session, patient=patient)
        if medication:
            session.add(CurrentMedication(patient_id=patient.id, drug=medication))
        assert patient.id is not None and site.id is not None
        return patient.id, site.id


def _record_today(engine: Engine, zone: ZoneInfo, patient_id: int, site_id: int, *, days_ago: int = 0,
                  complete: bool = True) -> int:
    day = datetime.now(zone).date() - timedelta(days=days_ago)
    base = datetime.combine(day, time(9, 0), tzinfo=zone) if days_ago else datetime.now(zone) - timedelta(hours=3)
    base = base.replace(second=0, microsecond=0)
    data = full_session(
        patient_id, site_id, session_date=day,
        device_times=(base + timedelta(minutes=10), base + timedelta(minutes=15)),
        readings=tuple(r.__class__(r.kind, base + delta, r.systolic, r.diastolic, r.heart_rate, r.spo2)
                       for r, delta in zip(full_session(1, 1).readings,
                                           (timedelta(0), timedelta(minutes=50), timedelta(minutes=125)), strict=True)),
        dissociation_resolved_at=base + timedelta(minutes=70),
        discharged_at=base + timedelta(minutes=135) if complete else None,
        ready_to_leave_minutes=95 if complete else None,
    )
    with unit_of_work(engine, actor="tester") as session:
        on_site = default_prescriber_on_site(session, patient_id=patient_id, site_id=site_id)
        ts = record_session(session, user=NURSE, data=replace(data, prescriber_on_site_id=on_site),
                            settings=RemsSettings(timezone=str(zone.key)))
        assert ts.id is not None
        return ts.id


def _screen(page_app: AppFactory, page: str, role: str, *, session_id: int | None = None,
            username: str = "tester") -> AppTest:
    """The page opened through the app's navigation (as in the browser), signed in with `role`."""
    at = page_app("app.py", roles=(role,), username=username).run()
    if session_id is not None:
        at.query_params["session"] = str(session_id)
    return at.switch_page(page).run()


def _count(engine: Engine) -> int:
    with unit_of_work(engine, actor="tester") as session:
        return int(session.exec(select(func.count()).select_from(TreatmentSession)).one())


@pytest.mark.parametrize("page", PAGES)
def test_signed_out_sees_only_the_prompt(page_app: AppFactory, page: str) -> None:
    at = page_app(page).run()
    assert not at.exception
    assert "Please sign in" in shown(at.info[0].value)
    assert not at.title


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", ["nurse", "admin", "billing"])
def test_each_role_opens_each_screen(page_app: AppFactory, app_db: Engine, clinic_zone: ZoneInfo, page: str,
                                     role: str) -> None:
    _seed(app_db)
    at = _screen(page_app, page, role)
    assert not at.exception
    assert at.title and not any("does not allow" in shown(e.value) for e in at.error)


def test_not_enrolled_patient_cannot_start(page_app: AppFactory, app_db: Engine, clinic_zone: ZoneInfo) -> None:
    patient_id, _ = _seed(app_db, enrolled=False)
    at = _screen(page_app, "pages/rems_sessions.py", "nurse")
    _new_session_for(at, patient_id)
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "Cannot start" in errors and "not enrolled in the SPRAVATO REMS" in errors
    assert any("Patient Enrollment Form" in i.value for i in at.info)
    assert not [b for b in at.button if b.key == "rems_start"]


def test_a_new_session_finds_its_patient_by_search_not_from_the_whole_clinic(
        page_app: AppFactory, app_db: Engine, clinic_zone: ZoneInfo) -> None:
    patient_id, site_id = _seed(app_db)
    with unit_of_work(app_db, actor="tester") as session:
        for number in range(55):
            make_patient(session, site=session.get(Site, site_id), mrn=f"BULK-{number:03d}")
        wanted = session.get(Patient, patient_id)
        assert wanted is not None
        mrn = wanted.mrn
    at = _screen(page_app, "pages/rems_sessions.py", "nurse")
    assert not [s for s in at.selectbox if s.key == "rems_new_patient"]  # nothing looked up until asked
    at.session_state["rems_starting"] = True
    at.run()
    assert len(at.selectbox(key="rems_new_patient").options) == 50
    assert "The first 50 of 56 patients" in " ".join(shown(c.value) for c in at.caption)
    at.text_input(key="rems_find_patient").input(mrn).run()
    assert at.selectbox(key="rems_new_patient").options == [f"{wanted.display_name} · {mrn}"]
    _new_session_for(at, patient_id)
    assert [b for b in at.button if b.key == "rems_start"]


def test_nurse_log_refuses_errors_and_saves_nothing(page_app: AppFactory, app_db: Engine,
                                                    clinic_zone: ZoneInfo) -> None:
    patient_id, _ = _seed(app_db)
    at = _new_log(page_app, patient_id)
    first = (datetime.now(clinic_zone) - timedelta(minutes=30)).time().replace(second=0, microsecond=0)
    _field(at, "time_input", "device_1").set_value(first)
    # A reading without its time is the form's own problem; it is reported with the service's refusals, at once.
    _field(at, "number_input", "post_40.systolic").set_value(130)
    _field(at, "number_input", "post_40.diastolic").set_value(80).run()
    at.button(key="rems_save").click().run()
    assert not at.exception
    assert shown(at.error[0].value).startswith("Nothing was saved")
    assert messages_under(at, _field(at, "toggle", "no_food_2h")) == [
        "No food for 2 h: confirm no food in the 2 hours before dosing before the first device"]
    assert messages_under(at, _field(at, "number_input", "post_40.spo2")) == [
        "~40 minutes after dosing · time: enter the time of this reading"]
    assert any(m.startswith("Readings: take the blood pressure before dosing") for m in all_messages(at))
    assert not any("_" in m.split(":")[0] for m in all_messages(at))
    assert _count(app_db) == 0


def test_nurse_saves_the_start_of_a_session(page_app: AppFactory, app_db: Engine, clinic_zone: ZoneInfo) -> None:
    patient_id, _ = _seed(app_db, medication="lorazepam")
    at = _new_log(page_app, patient_id)
    assert any("benzodiazepines: lorazepam" in shown(w.value) for w in at.warning)
    # The four checks before dosing stand two to a row: four in a row cut the nasal-spray check at 1280 px.
    assert row_widths(at, "toggle")[:2] == [2, 2]
    for key in ("no_food_2h", "no_liquids_30min", "nasal_medication_ok", "ride_home_confirmed"):
        _field(at, "toggle", key).set_value(True)
    reading_time = (datetime.now(clinic_zone) - timedelta(minutes=5)).time().replace(second=0, microsecond=0)
    _field(at, "time_input", "pre.time").set_value(reading_time)
    _field(at, "number_input", "pre.systolic").set_value(152)
    _field(at, "number_input", "pre.diastolic").set_value(95)
    _field(at, "number_input", "pre.spo2").set_value(98)
    at.run()
    assert any("above 140/90" in shown(w.value) for w in at.warning)
    at.button(key="rems_save").click().run()
    assert not at.exception and not at.error
    assert _count(app_db) == 1
    assert any("Session saved · monitoring form draft" in shown(s.value) for s in at.success)


def test_open_session_shows_clock_and_form_download(page_app: AppFactory, app_db: Engine,
                                                    clinic_zone: ZoneInfo) -> None:
    patient_id, site_id = _seed(app_db)
    session_id = _record_today(app_db, clinic_zone, patient_id, site_id, complete=False)
    at = _screen(page_app, "pages/rems_sessions.py", "nurse", session_id=session_id)
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert labels == ["Since first device", "~40-min BP", "Earliest discharge"]
    assert at.metric[0].value.endswith(" min")
    assert any("2-hour minimum was reached" in shown(w.value) for w in at.warning)
    assert [b for b in at.button if b.key == "rems_save"]


def test_billing_reads_but_cannot_record(page_app: AppFactory, app_db: Engine, clinic_zone: ZoneInfo) -> None:
    patient_id, site_id = _seed(app_db)
    session_id = _record_today(app_db, clinic_zone, patient_id, site_id)
    at = _screen(page_app, "pages/rems_sessions.py", "billing", session_id=session_id)
    assert not at.exception
    assert "can read session logs" in shown(at.info[0].value)
    assert not [b for b in at.button if b.key in ("rems_save", "rems_start")]
    assert all(t.disabled for t in at.toggle)
    assert at.get("download_button"), "billing may download the monitoring form"
    assert not [b for b in at.button if b.label == "Record submission"]
    nurse = _screen(page_app, "pages/rems_sessions.py", "nurse", session_id=session_id, username="nurse2")
    assert [b for b in nurse.button if b.label == "Record submission"]
    assert [b for b in nurse.button if b.key == "rems_save"]


def test_dashboard_lists_sessions_forms_and_blocked(page_app: AppFactory, app_db: Engine,
                                                    clinic_zone: ZoneInfo) -> None:
    patient_id, site_id = _seed(app_db)
    _record_today(app_db, clinic_zone, patient_id, site_id)
    _record_today(app_db, clinic_zone, patient_id, site_id, days_ago=9)
    blocked_id, _ = _seed(app_db, enrolled=False)
    with unit_of_work(app_db, actor="tester") as session:
        session.add(TreatmentCourse(patient_id=blocked_id, indication="TRD", start_date=date.today()))
    at = _screen(page_app, "pages/rems_dashboard.py", "nurse")
    assert not at.exception
    metrics = {m.label: shown(m.value) for m in at.metric}
    assert metrics["Sessions today"] == "1"
    assert metrics["Forms overdue"] == "1"
    assert any("not enrolled in the SPRAVATO REMS" in shown(e.value) for e in at.error)
    if authorization_tracking_available():
        # Neither patient has an approved authorization: both are listed for it, one also for enrollment; the
        # count is of patients, not of reasons.
        assert metrics["Patients blocked"] == "2"
        assert sum("No approved authorization" in shown(e.value) for e in at.error) == 2
    else:
        assert metrics["Patients blocked"] == "1"
        assert any("authorization tracking not available" in shown(c.value) for c in at.caption)
    assert any("2 days late" in shown(e.value) for e in at.error)


def test_enrollment_page_saves_and_billing_cannot(page_app: AppFactory, app_db: Engine,
                                                  clinic_zone: ZoneInfo) -> None:
    patient_id, _ = _seed(app_db, enrolled=False)
    at = _screen(page_app, "pages/rems_patients.py", "nurse")
    at.selectbox(key="rems_patient").select(patient_id).run()
    assert any("not enrolled" in shown(e.value) for e in at.error)
    today = datetime.now(clinic_zone).date()
    dates = at.date_input
    dates[0].set_value(today)
    dates[1].set_value(today)
    dates[2].set_value(today)
    at.text_input[0].set_value("ENR-77")
    at.button[0].click().run()
    assert not at.exception
    with unit_of_work(app_db, actor="tester") as session:
        enrollment = session.exec(select(RemsEnrollment).where(RemsEnrollment.patient_id == patient_id)).one()
        assert enrollment.confirmation_number == "ENR-77"
    billing = _screen(page_app, "pages/rems_patients.py", "billing", username="biller")
    billing.selectbox(key="rems_patient").select(patient_id).run()
    assert all(d.disabled for d in billing.date_input)


def test_submitted_session_is_corrected_only_by_amendment(page_app: AppFactory, app_db: Engine,
                                                          clinic_zone: ZoneInfo) -> None:
    patient_id, site_id = _seed(app_db)
    session_id = _record_today(app_db, clinic_zone, patient_id, site_id)
    with unit_of_work(app_db, actor="tester") as session:
        ts = session.get(TreatmentSession, session_id)
        assert ts is not None
        ts.pmf_status, ts.pmf_channel, ts.pmf_submitted_on = "submitted", "fax", datetime.now(clinic_zone).date()
    at = _screen(page_app, "pages/rems_sessions.py", "nurse", session_id=session_id)
    assert not [b for b in at.button if b.key == "rems_save"], "a submitted session is not edited in place"
    assert all(t.disabled for t in at.toggle)
    next(b for b in at.button if b.label == "Correct this session (amendment)").click().run()
    _field(at, "text_input", "lot_number").set_value("LOT9999Z")
    at.text_input(key="rems_amend_reason").set_value("short")
    at.button(key="rems_save").click().run()
    assert messages_under(at, at.text_input(key="rems_amend_reason")) == [
        "Reason for the amendment (kept with the correction): say why the session is corrected "
        "(at least 10 characters)"]
    at.text_input(key="rems_amend_reason").set_value("Lot number misread from the carton")
    at.button(key="rems_save").click().run()
    assert not at.exception and any("Amendment saved" in shown(s.value) for s in at.success)
    with unit_of_work(app_db, actor="tester") as session:
        [amendment] = session.exec(select(SessionAmendment)).all()
        assert '"lot_number": ["LOT4521A", "LOT9999Z"]' in amendment.changes_json
        stored = session.get(TreatmentSession, session_id)
        assert stored is not None and stored.pmf_status == "submitted" and stored.lot_number == "LOT9999Z"


def test_an_amendment_started_on_one_session_does_not_unlock_the_next_one_opened(
        page_app: AppFactory, app_db: Engine, clinic_zone: ZoneInfo) -> None:
    patient_id, site_id = _seed(app_db)
    first = _record_today(app_db, clinic_zone, patient_id, site_id, days_ago=2)
    second = _record_today(app_db, clinic_zone, patient_id, site_id, days_ago=1)
    with unit_of_work(app_db, actor="tester") as session:
        for ts in session.exec(select(TreatmentSession)).all():
            ts.pmf_status, ts.pmf_channel, ts.pmf_submitted_on = "submitted", "fax", datetime.now(clinic_zone).date()
    at = _screen(page_app, "pages/rems_sessions.py", "nurse", session_id=first)
    next(b for b in at.button if b.label == "Correct this session (amendment)").click().run()
    assert not all(t.disabled for t in at.toggle)
    at.query_params["session"] = str(second)
    at = at.run()
    assert not at.exception
    assert all(t.disabled for t in at.toggle), "the next session opens locked"
    assert [b for b in at.button if b.label == "Correct this session (amendment)"]


def test_dashboard_says_due_today_and_days_left(page_app: AppFactory, app_db: Engine, clinic_zone: ZoneInfo) -> None:
    patient_id, site_id = _seed(app_db)
    _record_today(app_db, clinic_zone, patient_id, site_id, days_ago=7)
    _record_today(app_db, clinic_zone, patient_id, site_id, days_ago=6)
    at = _screen(page_app, "pages/rems_dashboard.py", "nurse")
    assert not at.exception
    texts = [shown(w.value) for w in at.warning]
    assert any("(due today)" in t for t in texts) and any("(1 day left)" in t for t in texts)
    assert not any("day(s)" in t for t in texts)


def test_session_log_opens_the_latest_open_session_of_today(page_app: AppFactory, app_db: Engine,
                                                            clinic_zone: ZoneInfo) -> None:
    patient_id, site_id = _seed(app_db)
    other_id, _ = _seed(app_db)
    running = _record_today(app_db, clinic_zone, patient_id, site_id, complete=False)
    done = _record_today(app_db, clinic_zone, other_id, site_id)
    at = _screen(page_app, "pages/rems_sessions.py", "nurse")
    assert not at.exception
    assert _picker(at).value == running
    assert [m.label for m in at.metric] == ["Since first device", "~40-min BP", "Earliest discharge"]
    assert "Choose one of today's sessions, or start a new one." not in [shown(c.value) for c in at.caption]
    # Choosing another session opens it, and it is not undone on the next run.
    _picker(at).set_value(done).run()
    at.run()
    assert not at.exception
    assert _picker(at).value == done and at.session_state["rems_open"]["id"] == done
    assert _labelled(at.time_input, "Discharge time").value is not None, "the inputs show the chosen session"


def test_session_log_without_sessions_today_asks_to_choose(page_app: AppFactory, app_db: Engine,
                                                           clinic_zone: ZoneInfo) -> None:
    patient_id, site_id = _seed(app_db)
    _record_today(app_db, clinic_zone, patient_id, site_id, days_ago=2)
    at = _screen(page_app, "pages/rems_sessions.py", "nurse")
    assert not at.exception
    assert _picker(at).value is None
    assert "Choose one of today's sessions, or start a new one." in [shown(c.value) for c in at.caption]


def test_new_session_is_not_replaced_by_the_preselected_one(page_app: AppFactory, app_db: Engine,
                                                            clinic_zone: ZoneInfo) -> None:
    running_patient, site_id = _seed(app_db)
    new_patient, _ = _seed(app_db)
    _record_today(app_db, clinic_zone, running_patient, site_id, complete=False)
    at = _screen(page_app, "pages/rems_sessions.py", "nurse")
    assert _picker(at).value is not None
    _new_session_for(at, new_patient)
    at.button(key="rems_start").click().run()
    at.run()  # and it stays on the next run (any widget change)
    assert not at.exception
    assert _picker(at).value is None
    assert at.session_state["rems_open"]["id"] is None
    assert at.session_state["rems_open"]["patient_id"] == new_patient
    assert any("not saved yet" in shown(c.value) for c in at.caption)


def test_linked_session_is_not_replaced_by_an_earlier_choice(page_app: AppFactory, app_db: Engine,
                                                             clinic_zone: ZoneInfo) -> None:
    patient_id, site_id = _seed(app_db)
    other_id, _ = _seed(app_db)
    running = _record_today(app_db, clinic_zone, patient_id, site_id, complete=False)
    linked = _record_today(app_db, clinic_zone, other_id, site_id)
    at = _screen(page_app, "pages/rems_sessions.py", "nurse")
    assert _picker(at).value == running
    at.query_params["session"] = str(linked)
    at.run()
    at.run()
    assert not at.exception
    assert _picker(at).value == linked
    assert at.session_state["rems_open"]["id"] == linked


def test_screening_contraindications_need_an_acknowledgement_to_start(page_app: AppFactory, app_db: Engine,
                                                                     clinic_zone: ZoneInfo) -> None:
    from desk.models import Patient

    patient_id, _ = _seed(app_db)
    with unit_of_work(app_db, actor="tester") as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        patient.aneurysmal_vascular_disease = True
        patient.esketamine_hypersensitivity = None
    at = _screen(page_app, "pages/rems_sessions.py", "nurse")
    _new_session_for(at, patient_id)
    assert not at.exception
    assert any("Contraindication on the screening: aneurysmal vascular disease" in shown(e.value) for e in at.error)
    assert any("Not recorded on the screening: hypersensitivity" in shown(w.value) for w in at.warning)
    assert at.button(key="rems_start").disabled
    at.checkbox(key="rems_screening_ack").check().run()
    assert not at.button(key="rems_start").disabled
    at.button(key="rems_start").click().run()
    assert not at.exception and at.button(key="rems_save")


def test_starting_a_session_says_whether_an_authorization_covers_it(page_app: AppFactory, app_db: Engine,
                                                                    clinic_zone: ZoneInfo) -> None:
    from desk.models import Coverage
    from desk.models.prior_auth import PaAuthorization, PriorAuthCase

    patient_id, _ = _seed(app_db)
    at = _screen(page_app, "pages/rems_sessions.py", "nurse")
    _new_session_for(at, patient_id)
    today = datetime.now(clinic_zone).date()
    assert any(shown(w.value) == f"No approved authorization covers {today:%m/%d/%Y}: the payer may not pay for "
               "this session. Billing lists the patient under Needs a PA." for w in at.warning)
    with unit_of_work(app_db, actor="tester") as session:
        cover = Coverage(patient_id=patient_id, payer_id="cigna", plan_type="commercial", member_id="M1")
        session.add(cover)
        session.flush()
        case = PriorAuthCase(patient_id=patient_id, coverage_id=cover.id, payer_id="cigna", plan_type="commercial",
                             indication="TRD", phase="initial", status="approved")
        session.add(case)
        session.flush()
        session.add(PaAuthorization(case_id=case.id, patient_id=patient_id, auth_number="AUTH-9",
                                    start_on=today - timedelta(days=10), end_on=today + timedelta(days=80),
                                    approved_devices=7, decided_on=today - timedelta(days=10)))
    at.run()
    assert not any("No approved authorization" in shown(w.value) for w in at.warning)
    # 7 devices left at 2 a session (no session logged yet: the desk assumes 2 devices).
    assert (f"Authorization AUTH-9 still covers 3 sessions (this one included) through "
            f"{today + timedelta(days=80):%m/%d/%Y}.") in [shown(c.value) for c in at.caption]


def _shown(at: AppTest) -> list[tuple[Any, Any]]:
    """Every input on screen with the value it shows."""
    return [(widget, widget.value) for kind in STATEFUL for widget in at.get(kind)]


def _answer_before_drawing(shown: list[tuple[Any, Any]], clicked: Any) -> None:
    """The run a browser asks for (a click elsewhere) before it has drawn the run that `clicked` started: its
    inputs send the values they still show."""
    clicked.set_value(False)
    for widget, old in shown:
        widget.set_value(old)
    clicked.run()


def test_new_log_keeps_its_values_when_the_browser_answers_before_drawing_it(
        page_app: AppFactory, app_db: Engine, clinic_zone: ZoneInfo) -> None:
    running_patient, site_id = _seed(app_db)
    new_patient, _ = _seed(app_db, site_id=site_id)
    _record_today(app_db, clinic_zone, running_patient, site_id, complete=False)
    at = _screen(page_app, "pages/rems_sessions.py", "nurse")
    _new_session_for(at, new_patient)
    # The preselected session is on screen when the nurse opens the new log.
    assert _picker(at).value is not None
    assert _labelled(at.text_input, "Lot number").value == "LOT4521A"
    assert _labelled(at.time_input, "Device 1").value is not None
    shown = _shown(at)
    start = at.button(key="rems_start")
    start.click().run()
    assert _labelled(at.text_input, "Lot number").value == ""
    _answer_before_drawing(shown, start)
    assert not at.exception
    assert at.session_state["rems_open"]["id"] is None
    assert at.session_state["rems_open"]["patient_id"] == new_patient
    assert _picker(at).value is None
    assert _labelled(at.text_input, "Lot number").value == ""
    assert _labelled(at.time_input, "Device 1").value is None
    assert _labelled(at.text_input, "Monitoring HCP first name").value == "Tester"


def test_time_set_by_now_button_survives_an_answer_before_drawing(page_app: AppFactory, app_db: Engine,
                                                                  clinic_zone: ZoneInfo) -> None:
    patient_id, _ = _seed(app_db)
    at = _new_log(page_app, patient_id)
    _labelled(at.text_input, "Lot number").set_value("LOT1234B").run()
    assert _labelled(at.time_input, "Discharge time").value is None, "a time starts empty, not at the clock"
    shown = _shown(at)
    now = at.button(key="now_discharged_at")
    before = datetime.now(clinic_zone).replace(second=0, microsecond=0, tzinfo=None)
    now.click().run()
    stamped = _labelled(at.time_input, "Discharge time").value
    assert stamped is not None
    assert before <= datetime.combine(before.date(), stamped) <= before + timedelta(minutes=1)
    _answer_before_drawing(shown, now)
    assert not at.exception
    assert _labelled(at.time_input, "Discharge time").value == stamped
    assert _labelled(at.text_input, "Lot number").value == "LOT1234B", "the other inputs keep what was entered"
