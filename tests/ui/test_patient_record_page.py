"""The patient record: tabs, edits with field messages, stale edits, who may change coverage."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from streamlit.testing.v1 import AppTest

from desk.database import unit_of_work
from desk.models import AuditEvent, Coverage, MedicationTrial, Patient, RatingScore
from tests.factories import make_coverage, make_diagnosis, make_patient, make_trial
from tests.ui.conftest import AppFactory
from tests.ui.screen import all_messages, every_record_tab_shown, messages_under, show_record_tab, shown
from ui.guard import SIGN_IN_PROMPT

PAGE = "pages/patient_record.py"
TABS = ["Demographics", "Coverage", "Diagnoses", "Trials", "Scales", "Medications & screening", "Stays",
        "Payer criteria", "Authorizations"]


@pytest.fixture
def patient_id(app_db: Engine) -> int:
    """A patient with a coverage, a diagnosis, one known and one unknown trial, and lorazepam."""
    from desk.models import CurrentMedication

    with unit_of_work(app_db, actor="setup") as session:
        patient = make_patient(session, first_name="Ada", last_name="Quintrell", mrn="N-1", dob=date(1970, 2, 3))
        make_coverage(session, patient=patient, payer_id="cigna")
        make_diagnosis(session, patient=patient)
        make_trial(session, patient=patient)
        make_trial(session, patient=patient, drug="zuranolone", daily_dose_mg=50)
        session.add(CurrentMedication(patient_id=patient.id, drug="lorazepam", daily_dose_mg=1))
        assert patient.id is not None
        return patient.id


def _open(page_app: AppFactory, patient_id: int, roles: tuple[str, ...], username: str = "tester") -> AppTest:
    """The record opened through the app's navigation, as in the browser (its links need the registered pages),
    with every tab drawn."""
    at = page_app("app.py", roles=roles, username=username).run()
    at.session_state["patient_id"] = patient_id
    at = at.switch_page(PAGE).run()
    return every_record_tab_shown(at) if at.tabs else at


def _expand(at: AppTest, form: str) -> AppTest:
    """Open the expander holding `form` (e.g. "add_rating_score_3"), as a click on its header does."""
    at.session_state[f"open_{form}"] = True
    return at.run()


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def _button(at: AppTest, label: str):  # type: ignore[no-untyped-def]
    return next(b for b in at.button if b.label == label)


def test_signed_out_sees_only_the_prompt(page_app: AppFactory, patient_id: int) -> None:
    at = page_app(PAGE)
    at.session_state["patient_id"] = patient_id
    at.run()
    assert not at.exception
    assert SIGN_IN_PROMPT in shown(at.info[0].value)
    assert not at.title and not at.tabs


def test_without_a_chosen_patient(page_app: AppFactory) -> None:
    at = page_app(PAGE, roles=("nurse",)).run()
    assert not at.exception
    assert "Open a patient from the patient list" in shown(at.info[0].value)


def test_unknown_patient(page_app: AppFactory) -> None:
    at = _open(page_app, 424242, ("nurse",))
    assert not at.exception
    assert "no longer exists" in shown(at.error[0].value)


def test_record_shows_every_tab_and_flags(page_app: AppFactory, patient_id: int) -> None:
    at = _open(page_app, patient_id, ("billing",))
    assert not at.exception
    assert shown(at.title[0].value) == "Quintrell, Ada"
    assert "MRN N-1" in shown(at.caption[0].value) and "payers: Cigna" in shown(at.caption[0].value)
    assert [shown(t.label) for t in at.tabs] == TABS
    assert "Benzodiazepines" in shown(at.info[0].value)
    trials = next(df.value for df in at.dataframe if "Drug" in df.value.columns and "Flags" in df.value.columns)
    flags = dict(zip(trials["Drug"], trials["Flags"], strict=True))
    assert flags["zuranolone"].startswith("unknown drug") and flags["sertraline"] == ""
    assert any("need a look" in shown(w.value) for w in at.warning)


def test_a_record_opens_on_a_demographics_summary_and_edits_in_a_form_drawn_on_demand(
        page_app: AppFactory, patient_id: int) -> None:
    at = page_app("app.py", roles=("nurse",)).run()
    at.session_state["patient_id"] = patient_id
    at = at.switch_page(PAGE).run()
    summary = " ".join(m.value for m in at.markdown)
    for fact in ("**Name:** Ada Quintrell", "**MRN:** N\\-1", "**Date of birth:** 02/03/1970"):
        assert fact in summary
    assert not [w for w in at.text_input if str(w.key).startswith(f"demographics_{patient_id}")]
    at = _expand(at, f"demographics_{patient_id}")
    assert at.text_input(key=f"demographics_{patient_id}_0_last_name").value == "Quintrell"


def test_edit_demographics_is_saved_and_audited(page_app: AppFactory, patient_id: int, app_db: Engine) -> None:
    at = _expand(_open(page_app, patient_id, ("nurse",)), f"demographics_{patient_id}")
    at.text_input(key=f"demographics_{patient_id}_0_city").input("Salem")
    _button(at, "Save demographics").click().run()
    assert not at.exception
    assert shown(at.success[0].value) == "Demographics saved."
    with Session(app_db) as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None and patient.city == "Salem" and patient.version == 2
        event = session.exec(select(AuditEvent).where(AuditEvent.entity == "patient",
                                                      AuditEvent.action == "update")).one()
    assert event.actor == "tester" and event.fields == "city"


def test_bad_trial_shows_messages_next_to_fields_and_saves_nothing(page_app: AppFactory, patient_id: int,
                                                                   app_db: Engine) -> None:
    at = _open(page_app, patient_id, ("nurse",))
    form = f"add_medication_trial_{patient_id}_0"
    _expand(at, f"add_medication_trial_{patient_id}")
    at.selectbox(key=f"{form}_drug").set_value("bupropion")
    at.number_input(key=f"{form}_daily_dose_mg").set_value(-150)
    at.date_input(key=f"{form}_start_date").set_value(date(2025, 1, 1))
    at.date_input(key=f"{form}_end_date").set_value(date(2024, 12, 1))
    at.number_input(key=f"{form}_adherence_pct").set_value(120)
    _button(at, "Add medication trial").click().run()
    assert not at.exception
    # Every refusal at once, each directly under its input and named by the input's label.
    assert messages_under(at, at.number_input(key=f"{form}_daily_dose_mg")) == [
        "Daily dose (mg): a dose cannot be negative"]
    assert messages_under(at, at.date_input(key=f"{form}_end_date")) == [
        "End (empty while ongoing): end date is before the start date"]
    assert messages_under(at, at.number_input(key=f"{form}_adherence_pct")) == [
        "Adherence %: adherence is a percentage from 0 to 100"]
    assert not any("_" in m for m in all_messages(at))
    with Session(app_db) as session:
        assert session.exec(select(func.count()).select_from(MedicationTrial)).one() == 2


def test_coverage_names_payers_and_plan_types_and_refuses_by_label(page_app: AppFactory, patient_id: int) -> None:
    at = _open(page_app, patient_id, ("billing",))
    coverage = at.tabs[TABS.index("Coverage")]
    table = coverage.dataframe[0].value
    assert list(table["Payer"]) == ["Cigna"] and list(table["Plan type"]) == ["Commercial"]
    assert not {"payer", "plan type", "plan_type", "member id"} & set(table.columns)
    form = f"add_coverage_{patient_id}_0"
    _expand(at, f"add_coverage_{patient_id}")
    at.selectbox(key=f"{form}_payer_id").set_value(None)
    at.text_input(key=f"{form}_member_id").input("")
    _button(at, "Add coverage").click().run()
    assert not at.exception
    assert messages_under(at, at.selectbox(key=f"{form}_payer_id")) == ["Payer is required"]


def test_nurse_adds_a_score(page_app: AppFactory, patient_id: int, app_db: Engine) -> None:
    at = _open(page_app, patient_id, ("nurse",))
    form = f"add_rating_score_{patient_id}_0"
    _expand(at, f"add_rating_score_{patient_id}")
    at.selectbox(key=f"{form}_instrument").set_value("MADRS")
    at.number_input(key=f"{form}_score").set_value(61)
    _button(at, "Add rating score").click().run()
    assert "MADRS scores run from 0 to 60" in _markdown(at)
    at.number_input(key=f"{form}_score").set_value(33)
    _button(at, "Add rating score").click().run()
    assert not at.exception
    assert shown(at.success[0].value) == "Rating score added."
    with Session(app_db) as session:
        score = session.exec(select(RatingScore)).one()
    assert (score.instrument, score.score, score.measured_on) == ("MADRS", 33, date.today())


def test_stale_edit_is_refused_with_a_message(page_app: AppFactory, patient_id: int, app_db: Engine) -> None:
    at = _expand(_open(page_app, patient_id, ("nurse",)), f"demographics_{patient_id}")
    with unit_of_work(app_db, actor="someone-else") as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        patient.city = "Elsewhere"
        session.add(patient)
    at.text_input(key=f"demographics_{patient_id}_0_city").input("Salem")
    _button(at, "Save demographics").click().run()
    assert not at.exception
    assert "changed by someone else" in shown(at.error[0].value)
    with Session(app_db) as session:
        assert session.get(Patient, patient_id).city == "Elsewhere"  # type: ignore[union-attr]


def test_nurse_may_not_change_coverage(page_app: AppFactory, patient_id: int) -> None:
    at = _open(page_app, patient_id, ("nurse",))
    assert "Your role may view but not change this section." in [shown(c.value) for c in at.caption]
    sections = [shown(e.label) for e in at.expander]
    assert "Add coverage" not in sections and "Edit or remove coverage" not in sections
    assert "Add diagnosis" in sections


def test_billing_removes_a_coverage(page_app: AppFactory, patient_id: int, app_db: Engine) -> None:
    at = _expand(_open(page_app, patient_id, ("billing",)), f"edit_coverage_{patient_id}")
    coverage_forms = [b for b in at.button if b.label == "Remove" and "coverage" in (b.form_id or "")]
    assert len(coverage_forms) == 1
    coverage_forms[0].click().run()
    assert not at.exception
    assert shown(at.success[0].value) == "Coverage removed."
    with Session(app_db) as session:
        assert session.exec(select(func.count()).select_from(Coverage)).one() == 0


def test_screening_records_consultation_and_therapy_screening(page_app: AppFactory, patient_id: int,
                                                              app_db: Engine) -> None:
    at = _open(page_app, patient_id, ("nurse",))
    form = f"screening_{patient_id}_0"
    at.text_input(key=f"{form}_psychiatric_consultant").input("Dr. Rowan Consultwell")
    _button(at, "Save screening").click().run()
    assert not at.exception
    assert "enter the date of the psychiatric consultation" in _markdown(at)
    with Session(app_db) as session:
        assert session.get(Patient, patient_id).psychiatric_consultant == ""  # type: ignore[union-attr]
    at.date_input(key=f"{form}_psychiatric_consult_on").set_value(date(2026, 1, 15))
    at.date_input(key=f"{form}_concurrent_therapies_screened_on").set_value(date(2026, 1, 15))
    at.date_input(key=f"{form}_esketamine_started_on").set_value(date(2026, 2, 2))
    _button(at, "Save screening").click().run()
    assert not at.exception
    assert shown(at.success[0].value) == "Screening saved."
    with Session(app_db) as session:
        patient = session.get(Patient, patient_id)
    assert patient is not None
    assert (patient.psychiatric_consult_on, patient.psychiatric_consultant) == (date(2026, 1, 15),
                                                                                "Dr. Rowan Consultwell")
    assert patient.concurrent_therapies_screened_on == date(2026, 1, 15)
    assert patient.esketamine_started_on == date(2026, 2, 2)


def _authorizations(at: AppTest):  # type: ignore[no-untyped-def]
    return at.tabs[TABS.index("Authorizations")]


def _case_links(at: AppTest) -> list[tuple[str, str]]:
    return [(link.proto.label, link.proto.page) for link in at.get("page_link")
            if "prior_auth" in link.proto.page]


@pytest.fixture
def authorized_patient_id(app_db: Engine, patient_id: int) -> int:
    """The patient with an approved authorization in force (24 devices, 3 used) and a denied earlier case."""
    from desk.models import PriorAuthCase
    from desk.prior_auth.devices import record_device_use
    from tests.desk.prior_auth.conftest import approved_case

    today = date.today()
    with unit_of_work(app_db, actor="setup") as session:
        patient = session.get(Patient, patient_id)
        case, _ = approved_case(session, patient=patient, start=today - timedelta(days=20),
                                end=today + timedelta(days=150), devices=24)
        record_device_use(session, patient_id=patient_id, case_id=case.id, session_date=today - timedelta(days=2),
                          devices=3, actor="billing")
        denied = PriorAuthCase(patient_id=patient_id, coverage_id=case.coverage_id, payer_id="test-payer",
                               plan_type="commercial", indication="TRD", phase="initial", status="denied")
        session.add(denied)
    return patient_id


def test_authorizations_tab_without_a_case(page_app: AppFactory, patient_id: int) -> None:
    at = _open(page_app, patient_id, ("nurse",))
    tab = _authorizations(at)
    assert "No prior authorization on file for this patient." in tab.info[0].value
    assert not _case_links(at)


def test_billing_sees_devices_and_opens_the_case(page_app: AppFactory, authorized_patient_id: int) -> None:
    at = _open(page_app, authorized_patient_id, ("billing",))
    assert not at.exception
    tab = _authorizations(at)
    metrics = {m.label: shown(m.value) for m in tab.metric}
    assert metrics == {"Devices authorized": "24", "Devices used": "3", "Devices remaining": "21"}
    assert "In force:" in tab.markdown[0].value
    table = tab.dataframe[0].value
    assert list(table["Status"]) == ["Denied", "Approved"]
    assert list(table["Remaining"]) == ["", "21"]
    links = _case_links(at)
    assert len(links) == 2 and all(label.startswith("Case #") for label, _ in links)


def test_nurse_sees_status_and_devices_without_case_links(page_app: AppFactory, authorized_patient_id: int) -> None:
    at = _open(page_app, authorized_patient_id, ("nurse",))
    assert not at.exception
    tab = _authorizations(at)
    assert {m.label: shown(m.value) for m in tab.metric}["Devices remaining"] == "21"
    assert list(tab.dataframe[0].value["Status"]) == ["Denied", "Approved"]
    assert not _case_links(at)


def test_a_link_names_the_patient_and_the_address_keeps_it(page_app: AppFactory, patient_id: int,
                                                           app_db: Engine) -> None:
    with unit_of_work(app_db, actor="setup") as session:
        other = make_patient(session, first_name="Bo", last_name="Other", mrn="N-2").id
    at = page_app("app.py", roles=("billing",)).run()
    at.session_state["patient_id"] = other  # the last patient opened from the list
    at.query_params["patient"] = str(patient_id)
    at = at.switch_page(PAGE).run()
    assert not at.exception
    assert shown(at.title[0].value) == "Quintrell, Ada"
    assert at.query_params["patient"] == str(patient_id)


def test_the_tab_stays_after_a_save_and_is_in_the_address(page_app: AppFactory, patient_id: int) -> None:
    at = page_app("app.py", roles=("nurse",)).run()
    at.session_state["patient_id"] = patient_id
    at.query_params["tab"] = "Scales"
    at = at.switch_page(PAGE).run()
    assert at.session_state["tab"] == "Scales"
    form = f"add_rating_score_{patient_id}_0"
    _expand(at, f"add_rating_score_{patient_id}")
    at.selectbox(key=f"{form}_instrument").set_value("MADRS")
    at.number_input(key=f"{form}_score").set_value(33)
    _button(at, "Add rating score").click().run()
    assert shown(at.success[0].value) == "Rating score added."
    assert at.session_state["tab"] == "Scales" and at.query_params["tab"] == "Scales"
    # The add form stays open, emptied for the next score.
    assert at.number_input(key=f"add_rating_score_{patient_id}_1_score").value is None


def test_closed_section_forms_are_not_drawn_until_opened(page_app: AppFactory, patient_id: int) -> None:
    at = _open(page_app, patient_id, ("nurse",))
    keys = [getattr(w, "key", None) or "" for w in (*at.selectbox, *at.number_input, *at.text_input, *at.date_input)]
    assert not [k for k in keys if k.startswith(("add_medication_trial_", "edit_medication_trial_"))]
    assert "Add medication trial" in [shown(e.label) for e in at.expander]
    at = _expand(at, f"add_medication_trial_{patient_id}")
    assert at.selectbox(key=f"add_medication_trial_{patient_id}_0_drug").value is None
    at = _expand(at, f"edit_medication_trial_{patient_id}")
    assert [b for b in at.button if b.label == "Remove" and "medication_trial" in (b.form_id or "")]


def test_a_record_draws_a_tab_from_when_it_is_shown_until_another_record_opens(
        page_app: AppFactory, patient_id: int, app_db: Engine) -> None:
    at = page_app("app.py", roles=("nurse",)).run()
    at.session_state["patient_id"] = patient_id
    at = at.switch_page(PAGE).run()
    drawn = {shown(tab.label) for tab in at.tabs if tab.children}
    assert drawn == {"Demographics"}
    at = _expand(at, f"demographics_{patient_id}")
    at = show_record_tab(at, "Trials")
    # The tab left behind stays drawn (its form too), so what was typed there is still there on the way back.
    assert {shown(tab.label) for tab in at.tabs if tab.children} == {"Demographics", "Trials"}
    assert at.text_input(key=f"demographics_{patient_id}_0_city")
    with unit_of_work(app_db, actor="tester") as session:
        other = make_patient(session, mrn="MRN-OTHER-TABS")
        assert other.id is not None
        other_id = other.id
    at.session_state["patient_id"] = other_id
    at.query_params["patient"] = str(other_id)
    at = at.run()
    assert {shown(tab.label) for tab in at.tabs if tab.children} == {"Trials"}
