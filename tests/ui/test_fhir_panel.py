"""The FHIR panel on the PA case screen: audited PAS bundle download, ClaimResponse import, refusals."""

from __future__ import annotations

import json
import re
from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from desk.database import unit_of_work
from desk.fhir import codes as c
from desk.fhir.pas import claim_identifier, full_url
from desk.models import AuditEvent
from desk.models.prior_auth import PriorAuthCase
from desk.prior_auth.cases import open_case
from tests.factories import make_coverage, make_diagnosis, make_patient, make_prescriber, make_site
from tests.ui.conftest import AppFactory
from tests.ui.screen import shown

PAGE = "pages/prior_auth.py"


def seed_submitted_case(engine: Engine) -> int:
    """A submitted Cigna case of a patient with a site, prescriber and diagnosis."""
    with unit_of_work(engine, actor="setup") as session:
        site = make_site(session)
        prescriber = make_prescriber(session, site_id=site.id)
        patient = make_patient(session, site=site, prescriber_id=prescriber.id)
        make_diagnosis(session, patient=patient)
        cover = make_coverage(session, patient=patient, payer_id="cigna")
        case = open_case(session, patient_id=patient.id, coverage_id=cover.id, indication="TRD", phase="initial",
                         actor="setup").case
        case.status, case.sessions_requested, case.start_on = "submitted", 8, date(2026, 12, 1)
        session.add(case)
        session.flush()
        assert case.id is not None
        return case.id


def approval(case_id: int) -> bytes:
    """A PAS ClaimResponse certifying the request in total."""
    return json.dumps({
        "resourceType": "ClaimResponse", "status": "active", "use": "preauthorization",
        "type": {"coding": [{"system": c.CLAIM_TYPE, "code": "professional"}]},
        "patient": {"reference": full_url(case_id, "patient")}, "created": "2026-11-20T09:00:00-05:00",
        "insurer": {"display": "Cigna"}, "request": {"identifier": {"value": claim_identifier(case_id)}},
        "outcome": "complete", "preAuthRef": "CIG-123", "preAuthPeriod": {"start": "2026-12-01", "end": "2027-05-31"},
        "item": [{"itemSequence": 1, "adjudication": [{
            "category": {"coding": [{"system": c.ADJUDICATION, "code": "submitted"}]},
            "extension": [{"url": c.EXT_REVIEW_ACTION, "extension": [{"url": "code", "valueCodeableConcept": {
                "coding": [{"system": c.X12_REVIEW_ACTION, "code": "A1"}]}}]}]}]}],
    }).encode("utf-8")


def open_page(page_app: AppFactory, case_id: int) -> object:
    """The case opened through the app's navigation, as in the browser (its links need the registered pages)."""
    at = page_app("app.py", roles=("billing",)).run()
    at.session_state["pa_case_id"] = case_id
    return at.switch_page(PAGE).run()


def test_prepare_and_download_the_pas_bundle_is_audited(page_app: AppFactory, app_db: Engine) -> None:
    case_id = seed_submitted_case(app_db)
    at = open_page(page_app, case_id)
    assert not at.exception
    assert not at.download_button  # nothing is handed out before it is prepared
    at.button(key=f"fhir_prepare_{case_id}").click().run()
    assert not at.exception and not [e for e in at.error if "bundle" in shown(e.value)]
    download = at.download_button(key=f"fhir_download_{case_id}")
    assert shown(download.label) == "Download PAS bundle (JSON)"
    download.click().run()
    with Session(app_db) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "download",
                                                       AuditEvent.entity == "pa_case")).all()
    assert [(e.entity_id, e.actor) for e in events] == [(str(case_id), "tester")]
    assert "FHIR PAS request bundle" in events[0].detail


def test_uploading_an_approval_updates_the_case(page_app: AppFactory, app_db: Engine) -> None:
    case_id = seed_submitted_case(app_db)
    at = open_page(page_app, case_id)
    at.file_uploader(key=f"fhir_upload_{case_id}").upload("response.json", approval(case_id), "application/json")
    at.run()
    at.button(key=f"fhir_apply_{case_id}").click().run()
    assert not at.exception
    applied = next(shown(s.value) for s in at.success if "ClaimResponse applied" in shown(s.value))
    assert "Approved: authorization CIG-123" in applied
    assert re.search(r"\d{2}/\d{2}/\d{4} to \d{2}/\d{2}/\d{4}", applied) and not re.search(r"\d{4}-\d{2}", applied)
    with Session(app_db) as session:
        case = session.get(PriorAuthCase, case_id)
        assert case is not None
        assert (case.status, case.auth_number, case.approved_sessions) == ("approved", "CIG-123", 8)


def test_a_malformed_upload_is_refused_and_changes_nothing(page_app: AppFactory, app_db: Engine) -> None:
    case_id = seed_submitted_case(app_db)
    at = open_page(page_app, case_id)
    at.file_uploader(key=f"fhir_upload_{case_id}").upload("response.json", b"{oops", "application/json")
    at.run()
    at.button(key=f"fhir_apply_{case_id}").click().run()
    assert not at.exception
    assert any("nothing changed: The file is not JSON" in shown(e.value) for e in at.error)
    with Session(app_db) as session:
        assert session.get(PriorAuthCase, case_id).status == "submitted"


def test_a_case_that_cannot_be_exported_says_why(page_app: AppFactory, app_db: Engine) -> None:
    case_id = seed_submitted_case(app_db)
    with unit_of_work(app_db, actor="setup") as session:
        case = session.get(PriorAuthCase, case_id)
        from desk.models import Patient
        patient = session.get(Patient, case.patient_id)
        patient.prescriber_id = None
        session.add(patient)
    at = open_page(page_app, case_id)
    at.button(key=f"fhir_prepare_{case_id}").click().run()
    refusal = next(shown(e.value) for e in at.error if "cannot be built yet" in shown(e.value))
    assert "The patient has no prescriber on record" in refusal
    assert "prescriber:" not in refusal
    assert not at.download_button
