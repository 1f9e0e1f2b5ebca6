"""Needs a PA: billing finds patients by name and starts or opens their case in one click; Today links here."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from desk.database import unit_of_work
from desk.models import TreatmentCourse
from desk.models.prior_auth import PriorAuthCase
from tests.factories import make_coverage, make_enrollment, make_patient
from tests.ui.conftest import AppFactory
from tests.ui.screen import shown

PAGE = "pages/needs_pa.py"


def _enrolled_patient(engine: Engine, *, last_name: str = "Queuely") -> tuple[int, int]:
    with unit_of_work(engine, actor="setup") as session:
        patient = make_patient(session, last_name=last_name, first_name="Pat")
        cover = make_coverage(session, patient=patient, payer_id="cigna")
        make_enrollment(session, patient=patient)
        session.add(TreatmentCourse(patient_id=patient.id, indication="TRD", start_date=date.today()))
        assert patient.id is not None and cover.id is not None
        return patient.id, cover.id


def _open(page_app: AppFactory, **query: str):  # type: ignore[no-untyped-def]
    at = page_app("app.py", roles=("billing",)).run()
    for name, value in query.items():
        at.query_params[name] = value
    return at.switch_page(PAGE).run()


def test_enrolled_patient_without_a_case_is_named_and_start_case_opens_a_prefilled_draft(
        page_app: AppFactory, app_db: Engine) -> None:
    patient_id, coverage_id = _enrolled_patient(app_db)
    at = _open(page_app)
    assert not at.exception
    assert any(t.label == "No authorization for planned treatment (1)" for t in at.tabs)
    texts = [shown(m.value) for m in at.markdown]
    assert any(t.startswith(":material/person: Queuely, Pat · MRN ") and "Cigna" in t for t in texts)
    at.button(key=f"start_no_authorization_{patient_id}_0").click().run()
    assert not at.exception
    with unit_of_work(app_db, actor="check") as session:
        [case] = session.exec(select(PriorAuthCase)).all()
        assert (case.patient_id, case.coverage_id, case.indication, case.phase, case.status) == (
            patient_id, coverage_id, "TRD", "initial", "draft")
    assert at.session_state["pa_case_id"] == case.id
    assert shown(at.title[0].value) == f"PA #{case.id} · Queuely, Pat"


def test_renewal_row_offers_start_and_open(page_app: AppFactory, app_db: Engine) -> None:
    from desk.models.prior_auth import PaAuthorization

    patient_id, coverage_id = _enrolled_patient(app_db)
    today = date.today()
    with unit_of_work(app_db, actor="setup") as session:
        case = PriorAuthCase(patient_id=patient_id, coverage_id=coverage_id, payer_id="cigna", plan_type="commercial",
                             indication="TRD", phase="initial", status="approved", auth_number="A-1",
                             auth_start_on=today - timedelta(days=60), auth_end_on=today + timedelta(days=5))
        session.add(case)
        session.flush()
        session.add(PaAuthorization(case_id=case.id, patient_id=patient_id, auth_number="A-1",
                                    start_on=today - timedelta(days=60), end_on=today + timedelta(days=5),
                                    decided_on=today - timedelta(days=60)))
        case_id = case.id
    at = _open(page_app, list="renewal")
    assert not at.exception
    key = f"renewal_{patient_id}_{case_id}"
    assert at.button(key=f"start_{key}") and at.button(key=f"open_{key}")
    at.button(key=f"open_{key}").click().run()
    assert not at.exception
    assert at.session_state["pa_case_id"] == case_id
    assert shown(at.title[0].value).startswith(f"PA #{case_id} · ")


def test_today_counts_link_into_each_list(page_app: AppFactory, app_db: Engine) -> None:
    _enrolled_patient(app_db)
    at = page_app("app.py", roles=("billing",)).run()
    at = at.switch_page("pages/home.py").run()
    assert not at.exception
    links = [(link.proto.label, link.proto.page, link.proto.query_string, link.proto.disabled)
             for link in at.get("page_link")]
    [(_label, page, query, disabled)] = [link for link in links if link[0] == "See the 1 patient"]
    assert page.endswith("needs_pa") and query == "list=no_authorization" and not disabled
    assert any(q == "list=appeal" and d for _l, _p, q, d in links), "an empty list's link is disabled"
    assert any(p.endswith("worklist") and q == "action=overdue" for _l, p, q, _d in links)


def test_patient_list_shows_pa_status(page_app: AppFactory, app_db: Engine) -> None:
    _enrolled_patient(app_db)
    at = page_app("app.py", roles=("billing",)).run()
    at = at.switch_page("pages/patients.py").run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert list(frame.columns) == ["Name", "MRN", "Date of birth", "Site", "Payers", "PA status"]
    assert frame.iloc[0]["PA status"] == "Needs a PA" and frame.iloc[0]["Payers"] == "Cigna"
