"""The patient list: search, filters, opening a record, adding a patient, the import section's role check."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from streamlit.testing.v1 import AppTest

from desk.database import unit_of_work
from desk.models import Patient
from tests.factories import make_coverage, make_patient, make_site
from tests.ui.conftest import AppFactory
from tests.ui.screen import shown
from ui.guard import SIGN_IN_PROMPT

PAGE = "pages/patients.py"


@pytest.fixture
def roster(app_db: Engine) -> dict[str, int]:
    """Two sites, three patients with cigna / uhc coverage."""
    with unit_of_work(app_db, actor="setup") as session:
        north, south = make_site(session, name="North"), make_site(session, name="South")
        ada = make_patient(session, site=north, first_name="Ada", last_name="Quintrell", mrn="N-1",
                           dob=date(1970, 2, 3))
        bram = make_patient(session, site=north, first_name="Bram", last_name="Quintrell", mrn="N-2")
        cleo = make_patient(session, site=south, first_name="Cleo", last_name="Ashworth", mrn="S-1")
        make_coverage(session, patient=ada, payer_id="cigna")
        make_coverage(session, patient=bram, payer_id="uhc")
        make_coverage(session, patient=cleo, payer_id="cigna")
        return {"north": north.id, "south": south.id, "ada": ada.id, "cleo": cleo.id}  # type: ignore[dict-item]


def _names(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value["Name"]) if at.dataframe else []


def test_signed_out_sees_only_the_prompt(page_app: AppFactory) -> None:
    at = page_app(PAGE).run()
    assert not at.exception
    assert SIGN_IN_PROMPT in shown(at.info[0].value)
    assert not at.title and not at.dataframe


def test_lists_and_searches(page_app: AppFactory, roster: dict[str, int]) -> None:
    at = page_app(PAGE, roles=("nurse",)).run()
    assert not at.exception
    assert shown(at.title[0].value) == "Patients"
    assert _names(at) == ["Ashworth, Cleo", "Quintrell, Ada", "Quintrell, Bram"]
    at.text_input(key="patients_search").input("quintrell ada").run()
    assert _names(at) == ["Quintrell, Ada"]
    at.text_input(key="patients_search").input("02/03/1970").run()
    assert _names(at) == ["Quintrell, Ada"]
    at.text_input(key="patients_search").input("1970-02-03").run()
    assert _names(at) == ["Quintrell, Ada"]
    at.text_input(key="patients_search").input("nobody-here").run()
    assert not at.dataframe and "No patient matches" in shown(at.info[0].value)


def test_site_and_payer_filters(page_app: AppFactory, roster: dict[str, int]) -> None:
    at = page_app(PAGE, roles=("billing",)).run()
    at.selectbox(key="patients_site").set_value(roster["north"]).run()
    assert _names(at) == ["Quintrell, Ada", "Quintrell, Bram"]
    at.selectbox(key="patients_payer").set_value("cigna").run()
    assert _names(at) == ["Quintrell, Ada"]
    at.selectbox(key="patients_site").set_value(None).run()
    assert _names(at) == ["Ashworth, Cleo", "Quintrell, Ada"]


def test_open_record_switches_to_the_record_page(page_app: AppFactory, roster: dict[str, int]) -> None:
    at = page_app("app.py", roles=("nurse",)).run()
    at.switch_page(PAGE).run()
    at.selectbox(key="patients_pick").set_value(roster["cleo"])
    next(b for b in at.button if b.label == "Open record").click().run()
    assert not at.exception
    assert at.session_state["patient_id"] == roster["cleo"]
    assert shown(at.title[0].value) == "Ashworth, Cleo"


def _fill_new_patient(at: AppTest, *, mrn: str) -> None:
    at.text_input(key="new_patient_0_first_name").input("Wren")
    at.text_input(key="new_patient_0_last_name").input("Examplefield")
    at.text_input(key="new_patient_0_mrn").input(mrn)
    at.date_input(key="new_patient_0_dob").set_value(date(1984, 6, 1))
    at.selectbox(key="new_patient_0_sex").set_value("F")
    next(b for b in at.button if b.label == "Add patient").click().run()


def test_add_patient(page_app: AppFactory, roster: dict[str, int], app_db: Engine) -> None:
    at = page_app(PAGE, roles=("billing",)).run()
    _fill_new_patient(at, mrn="N-9")
    assert not at.exception
    assert shown(at.success[0].value) == "Patient added."
    with Session(app_db) as session:
        wren = session.exec(select(Patient).where(Patient.mrn == "N-9")).one()
    assert wren.last_name == "Examplefield" and wren.site_id == roster["north"]


def test_duplicate_mrn_shows_message_and_saves_nothing(page_app: AppFactory, roster: dict[str, int],
                                                       app_db: Engine) -> None:
    at = page_app(PAGE, roles=("billing",)).run()
    _fill_new_patient(at, mrn="N-1")
    assert not at.exception
    assert any("another patient at this site already has this MRN" in shown(m.value) for m in at.markdown)
    with Session(app_db) as session:
        assert session.exec(select(func.count()).select_from(Patient)).one() == 3


def test_import_section_only_for_billing_and_admin(page_app: AppFactory, roster: dict[str, int]) -> None:
    for roles, visible in ((("billing",), True), (("admin",), True), (("nurse",), False)):
        at = page_app(PAGE, roles=roles, username=f"user-{roles[0]}").run()
        assert not at.exception
        labels = [e.label for e in at.expander]
        assert ("Import patients from a CSV file" in labels) is visible, roles
