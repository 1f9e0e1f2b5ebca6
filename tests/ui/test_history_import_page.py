"""Import clinical history page: role guard, review of a read export, accept, and the record's payer criteria
showing the imported trials with their provenance."""

from __future__ import annotations

import json
import re
from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import func, select
from streamlit.testing.v1 import AppTest

from desk.database import unit_of_work
from desk.demo_ehr import as_bundle, depression_history
from desk.fhir.ehr_import import SourceFile, read_fhir_export
from desk.imports import known_payer_ids
from desk.models import AuditEvent, MedicationTrial
from desk.settings import load_settings
from tests.factories import make_patient
from tests.ui.conftest import AppFactory
from tests.ui.screen import every_record_tab_shown, shown

PAGE = "pages/history_import.py"


def _pending(mrn: str, *, first: str = "Ann", last: str = "Example", key: str = "p1") -> object:
    today = date.today()
    bundle = as_bundle(depression_history(key=key, mrn=mrn, first_name=first, last_name=last,
                                          birth_date=date(1980, 1, 1), today=today))
    return read_fhir_export([SourceFile("chart.json", json.dumps(bundle).encode())], today=today,
                            known_payers=known_payer_ids(load_settings().payers_dir))


def _patient(engine: Engine, **values: object) -> int:
    with unit_of_work(engine, actor="tester") as session:
        patient = make_patient(session, **values)
        assert patient.id is not None
        return patient.id


def _open(page_app: AppFactory, pending: object, roles: tuple[str, ...] = ("billing",)) -> AppTest:
    """The page opened through the app's navigation with a read import waiting for review."""
    at = page_app("app.py", roles=roles).run()
    at.session_state["history_import_pending"] = pending
    return at.switch_page(PAGE).run()


def test_nurses_may_not_open_the_page(page_app: AppFactory) -> None:
    at = page_app(PAGE, roles=("nurse",)).run()
    assert at.error and "does not allow" in at.error[0].value


def test_review_accept_and_payer_criteria_show_the_imported_trials(page_app: AppFactory, app_db: Engine) -> None:
    patient_id = _patient(app_db, mrn="EHR-UI-1")
    at = _open(page_app, _pending("EHR-UI-1"))
    assert not at.exception
    texts = " ".join(t.value for t in at.text)
    assert "Example, Ann" in texts and "matched by MRN" in texts
    with unit_of_work(app_db, actor="tester") as session:
        assert session.exec(select(func.count()).select_from(MedicationTrial)).one() == 0
    accept_all = next(b for b in at.button if b.label.startswith("Accept all"))
    accept_all.click().run()
    assert not at.exception
    assert at.success and shown(at.success[0].value).startswith("Accepted:")
    with unit_of_work(app_db, actor="tester") as session:
        assert session.exec(select(func.count()).select_from(MedicationTrial)).one() == 6
        imports = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "import")
        assert session.exec(imports).one() == 1
    at.session_state["patient_id"] = patient_id
    every_record_tab_shown(at.switch_page("pages/patient_record.py").run())
    assert not at.exception
    tables = [t.value for t in at.table]
    provenance = next(t for t in tables if "Source file" in t.columns)
    assert "MedicationDispense/p1-sertraline-fill0" in " ".join(provenance["Resources"])
    assert all(re.fullmatch(r"\d{2}/\d{2}/\d{4}", v) for v in provenance["Imported on"])
    assert any(fact.startswith("sertraline 150 mg/day") for fact in provenance["Fact"])
    assert set(provenance["Source file"]) == {"chart.json"}


def test_a_name_and_birth_date_match_waits_for_confirmation(page_app: AppFactory, app_db: Engine) -> None:
    _patient(app_db, mrn="LOCAL-1", first_name="Ann", last_name="Example", dob=date(1980, 1, 1))
    at = _open(page_app, _pending("EHR-OTHER"))
    accept_all = next(b for b in at.button if b.label.startswith("Accept all"))
    assert accept_all.disabled
    at.checkbox(key="history_confirm_0").check().run()
    next(b for b in at.button if b.label.startswith("Accept all")).click().run()
    assert at.success and shown(at.success[0].value).startswith("Accepted:")


def test_imported_text_is_shown_as_text(page_app: AppFactory, app_db: Engine) -> None:
    _patient(app_db, mrn="EHR-UI-2", first_name="<b>x</b>", last_name="**bold**", dob=date(1980, 1, 1))
    at = _open(page_app, _pending("EHR-UI-2", first="<b>x</b>", last="**bold**"), roles=("admin",))
    assert not at.exception
    assert any("**bold**, <b>x</b>" in t.value for t in at.text)
    assert not any("**bold**" in m.value for m in at.markdown)



def test_accepted_courses_allergies_and_prescribers_show_on_the_record_with_sources(page_app: AppFactory,
                                                                                   app_db: Engine) -> None:
    patient_id = _patient(app_db, mrn="EHR-UI-3")
    at = _open(page_app, _pending("EHR-UI-3", key="p3"))
    next(b for b in at.button if b.label.startswith("Accept all")).click().run()
    assert not at.exception
    at.session_state["patient_id"] = patient_id
    every_record_tab_shown(at.switch_page("pages/patient_record.py").run())
    assert not at.exception
    tables = [t.value for t in at.table]
    sourced = [t for t in tables if list(t.columns) == ["Fact", "Source"]]
    facts = " ".join(f for t in sourced for f in t["Fact"])
    sources = " ".join(s for t in sourced for s in t["Source"])
    assert "ECT " in facts and "3 session(s)" in facts and "penicillin (active): Hives" in facts
    assert "Pat Example, NPI 1234567893 (Psychiatrist)" in facts
    assert "chart.json: AllergyIntolerance/p3-allergy" in sources
    provenance = next(t for t in tables if "Source file" in t.columns)
    assert {"ECT and TMS", "Allergies", "Prescribers in the EHR"} <= set(provenance["Section"])
