"""The PA worklist screen: roles, counts and actions, filters, case table, audited exports, new case."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from desk.database import unit_of_work
from desk.models import AuditEvent, utcnow
from desk.models.prior_auth import PriorAuthCase
from desk.prior_auth.cases import open_case
from tests.factories import make_coverage, make_diagnosis, make_patient
from tests.ui.conftest import AppFactory
from tests.ui.screen import row_widths, shown

PAGE = "pages/worklist.py"


def seed_cases(engine: Engine, *, count: int = 3) -> list[int]:
    """Patients with a coverage and a draft case each; the first is overdue at the payer."""
    ids = []
    with unit_of_work(engine, actor="setup") as session:
        for n in range(count):
            patient = make_patient(session)
            make_diagnosis(session, patient=patient)
            cover = make_coverage(session, patient=patient, payer_id="cigna-commercial")
            case = open_case(session, patient_id=patient.id, coverage_id=cover.id, indication="TRD",
                             phase="initial", actor="setup").case
            if n == 0:
                case.status = "submitted"
                case.decision_due_at = utcnow() - timedelta(hours=2)
                session.add(case)
            ids.append(case.id)
    return ids


def test_nurse_is_refused(page_app: AppFactory) -> None:
    at = page_app(PAGE, roles=("nurse",)).run()
    assert not at.exception
    assert shown(at.error[0].value) == "Your role does not allow this page."
    assert not at.title


def test_signed_out_sees_only_the_prompt(page_app: AppFactory) -> None:
    at = page_app(PAGE).run()
    assert "Please sign in" in shown(at.info[0].value) and not at.title


def test_billing_sees_counts_actions_and_cases(page_app: AppFactory, app_db: Engine) -> None:
    ids = seed_cases(app_db)
    at = page_app(PAGE, roles=("billing",)).run()
    assert not at.exception
    assert shown(at.title[0].value) == "Prior authorization worklist"
    metrics = {m.label: shown(m.value) for m in at.metric}
    assert metrics["Draft"] == "2" and metrics["Submitted"] == "1"
    assert any(t.label == "Decisions overdue (1)" for t in at.tabs)
    assert any("3 cases" in shown(m.value) for m in at.markdown)
    frames = [df.value for df in at.dataframe]
    assert any(set(ids) <= set(frame["Case"]) for frame in frames if "Case" in frame)
    # Headers, payers and dates in words: no column keys, raw payer ids, ISO dates or UTC offsets on screen.
    cases = next(frame for frame in frames if "Plan type" in frame)
    assert {"MRN", "Payer", "Plan type", "Opened"} <= set(cases.columns)
    assert not {"mrn", "payer", "plan_type", "created"} & set(cases.columns)
    opened = [str(v) for v in cases["Opened"]]
    assert all(re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", v) for v in opened), opened
    assert not any("+00:00" in str(v) for column in cases.columns for v in cases[column])


def test_admin_filters_by_status(page_app: AppFactory, app_db: Engine) -> None:
    seed_cases(app_db)
    at = page_app(PAGE, roles=("admin",)).run()
    at.multiselect(key="wl_status").select("submitted").run()
    assert not at.exception
    assert any("1 cases" in shown(m.value) for m in at.markdown)


def test_export_is_audited(page_app: AppFactory, app_db: Engine) -> None:
    seed_cases(app_db)
    at = page_app(PAGE, roles=("billing",), username="billing").run()
    at.button(key="prep_cases_csv").click().run()
    assert not at.exception
    with Session(app_db) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert [(e.actor, e.detail) for e in events] == [("billing", "pa-cases as csv: 3 rows")]


def test_new_pa_from_the_open_patient(page_app: AppFactory, app_db: Engine) -> None:
    with unit_of_work(app_db, actor="setup") as session:
        patient = make_patient(session)
        make_coverage(session, patient=patient, payer_id="cigna-commercial")
        patient_id = patient.id
    at = page_app(PAGE, roles=("billing",), username="billing")
    at.session_state["patient_id"] = patient_id
    at.run()
    at.button[0].click().run()  # New PA
    assert not at.exception
    coverage = next(s for s in at.selectbox if s.label == "Coverage")
    assert "cigna-commercial" not in coverage.options[0] and "commercial ·" not in coverage.options[0]
    form_button = next(b for b in at.button if b.label == "Create case")
    form_button.click().run()
    with Session(app_db) as session:
        case = session.exec(select(PriorAuthCase)).one()
    assert (case.patient_id, case.status, case.created_by, case.indication) == (patient_id, "draft", "billing", "TRD")


def test_new_pa_by_searching_the_patient(page_app: AppFactory, app_db: Engine) -> None:
    with unit_of_work(app_db, actor="setup") as session:
        patient = make_patient(session, mrn="MRN-FIND-ME")
        make_coverage(session, patient=patient, payer_id="cigna-commercial")
        patient_id = patient.id
    at = page_app(PAGE, roles=("billing",), username="billing").run()
    at.button[0].click().run()
    at.text_input(key="new_pa_search").input("FIND-ME").run()
    assert not at.exception
    assert at.selectbox(key="new_pa_patient").value == patient_id
    next(b for b in at.button if b.label == "Create case").click().run()
    with Session(app_db) as session:
        assert session.exec(select(PriorAuthCase.patient_id)).one() == patient_id


def test_status_figures_have_room_for_their_labels(page_app: AppFactory, app_db: Engine) -> None:
    """Eight figures in one row cut "More information requested" and "Ready to submit" at 1280 px."""
    seed_cases(app_db)
    at = page_app(PAGE, roles=("billing",)).run()
    assert {m.label for m in at.metric} >= {"More information requested", "Ready to submit"}
    assert row_widths(at, "metric") and max(row_widths(at, "metric")) <= 4


def test_only_the_chosen_action_list_is_drawn(page_app: AppFactory, app_db: Engine) -> None:
    seed_cases(app_db)
    at = page_app(PAGE, roles=("billing",)).run()
    action_tabs = [t for t in at.tabs if t.label.endswith(")")]
    assert len(action_tabs) > 1
    assert len([t for t in action_tabs if t.children]) == 1
    overdue = next(t for t in action_tabs if t.label == "Decisions overdue (1)")
    at.session_state["wl_action_tab"] = overdue.label
    at = at.run()
    drawn = [t.label for t in at.tabs if t.label.endswith(")") and t.children]
    assert drawn == ["Decisions overdue (1)"]


def test_the_aging_chart_is_drawn_while_its_expander_is_open(page_app: AppFactory, app_db: Engine) -> None:
    seed_cases(app_db)
    at = page_app(PAGE, roles=("billing",)).run()
    assert "Aging of open cases (days since opened)" in [e.label for e in at.expander]
    assert not at.get("vega_lite_chart")
    at.session_state["wl_aging"] = True
    at = at.run()
    assert not at.exception
    [chart] = at.get("vega_lite_chart")
    assert "open cases" in chart.proto.spec
