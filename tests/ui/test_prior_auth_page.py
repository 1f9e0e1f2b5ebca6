"""The PA case screen: roles, checklist marks, lifecycle forms, stale saves, packet, devices."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from desk.database import unit_of_work
from desk.models import AuditEvent
from desk.models.prior_auth import PaGeneratedFile, PriorAuthCase
from desk.prior_auth.cases import open_case, save_notes
from desk.prior_auth.clocks import local_today
from tests.desk.prior_auth.conftest import TEST_POLICY
from tests.factories import make_coverage, make_diagnosis, make_patient, make_prescriber
from tests.ui.conftest import AppFactory
from tests.ui.screen import all_messages, messages_under, shown

PAGE = "pages/prior_auth.py"


@pytest.fixture
def case_id(app_db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """A draft TRD case for a patient with a Test Health coverage (policy file in a temp folder)."""
    folder = tmp_path / "payers"
    folder.mkdir()
    (folder / "test-payer.yaml").write_text(TEST_POLICY, encoding="utf-8")
    monkeypatch.setenv("DESK_PAYERS_DIR", str(folder))
    with unit_of_work(app_db, actor="setup") as session:
        patient = make_patient(session)
        patient.prescriber_id = make_prescriber(session).id
        make_diagnosis(session, patient=patient)
        cover = make_coverage(session, patient=patient, payer_id="test-payer")
        case = open_case(session, patient_id=patient.id, coverage_id=cover.id, indication="TRD", phase="initial",
                         actor="setup").case
        assert case.id is not None
        return case.id


def _open(page_app: AppFactory, case_id: int, roles: tuple[str, ...] = ("billing",)) -> AppTest:
    """The case opened through the app's navigation, as in the browser (its links need the registered pages)."""
    at = page_app("app.py", roles=roles, username="billing").run()
    at.session_state["pa_case_id"] = case_id
    return at.switch_page(PAGE).run()


def _case(engine: Engine, case_id: int) -> PriorAuthCase:
    with Session(engine) as session:
        case = session.get(PriorAuthCase, case_id)
        assert case is not None
        return case


def _step(at: AppTest, status: str) -> AppTest:
    next(s for s in at.selectbox if s.label == "Next step").set_value(status).run()
    return at


def _submit(at: AppTest, label_start: str) -> AppTest:
    next(b for b in at.button if b.label.startswith(label_start)).click().run()
    return at


def test_nurse_is_refused(page_app: AppFactory, case_id: int) -> None:
    at = page_app(PAGE, roles=("nurse",))
    at.session_state["pa_case_id"] = case_id
    at.run()
    assert shown(at.error[0].value) == "Your role does not allow this page." and not at.title


def test_signed_out_sees_only_the_prompt(page_app: AppFactory) -> None:
    at = page_app(PAGE).run()
    assert "Please sign in" in shown(at.info[0].value) and not at.title


def test_without_a_case_points_to_the_worklist(page_app: AppFactory, app_db: Engine) -> None:
    at = page_app(PAGE, roles=("admin",)).run()
    assert not at.exception and "Open a case from the worklist" in shown(at.info[0].value)


def test_unknown_case_says_so(page_app: AppFactory, app_db: Engine) -> None:
    at = _open(page_app, 424242)
    assert not at.exception and "No prior-authorization case #424242" in shown(at.error[0].value)


def test_checklist_attest_then_lifecycle_to_approval(page_app: AppFactory, app_db: Engine, case_id: int) -> None:
    at = _open(page_app, case_id)
    assert not at.exception
    assert shown(at.title[0].value).startswith(f"PA #{case_id}")
    assert any("attestation: The setting is REMS certified" in shown(e.value) for e in at.error)
    # Attest the REMS criterion: the checklist re-evaluates at once.
    at.selectbox(key="mark_criterion").set_value("trd-rems")
    at.radio(key="mark_kind").set_value("Attestation")
    at.text_area(key="mark_text").input("REMS certificate on file")
    _submit(at, "Save")
    assert not at.exception
    assert any("Every required item is met" in shown(s.value) for s in at.success)
    # Ready, then submitted by fax.
    _step(at, "ready")
    _submit(at, "Record: Ready to submit")
    assert _case(app_db, case_id).status == "ready"
    _step(at, "submitted")
    _submit(at, "Record: Submitted")
    case = _case(app_db, case_id)
    assert case.status == "submitted" and case.decision_due_at is not None
    assert any(m.label == "Decision due" for m in at.metric)
    # Approval with missing details is refused with a message naming the field.
    _step(at, "approved")
    at.text_input(key="st_devices").input("two dozen")
    _submit(at, "Record: Approved")
    # Every refusal at once, each directly under its input in the words of the input's label.
    assert messages_under(at, at.text_input(key="st_auth_number")) == ["Authorization number is required"]
    assert messages_under(at, at.date_input(key="st_end_on")) == ["End date is required"]
    assert messages_under(at, at.text_input(key="st_devices")) == [
        "Approved devices must be a positive whole number"]
    assert not any("auth number" in m or "end on" in m or "_" in m for m in all_messages(at))
    assert _case(app_db, case_id).status == "submitted"
    at.text_input(key="st_devices").input("")
    today = local_today("America/New_York")
    at.text_input(key="st_auth_number").input("AUTH-77")
    at.date_input(key="st_end_on").set_value(today + timedelta(days=180))
    at.text_input(key="st_devices").input("24")
    _submit(at, "Record: Approved")
    assert not at.exception
    assert _case(app_db, case_id).status == "approved"
    metrics = {m.label: shown(m.value) for m in at.metric}
    assert metrics["Devices remaining"] == "24"


def test_decision_clock_shown_from_the_payer_file(page_app: AppFactory, case_id: int) -> None:
    at = _open(page_app, case_id)
    assert not at.exception
    assert next(m.value for m in at.metric if m.label == "Decision clock") == "72 hours"
    assert not any("no decision clock known" in shown(w.value) for w in at.warning)


def test_plan_type_without_a_clock_says_so(page_app: AppFactory, app_db: Engine, case_id: int) -> None:
    with unit_of_work(app_db, actor="setup") as session:
        case = session.get(PriorAuthCase, case_id)
        assert case is not None
        case.plan_type = "medicare_advantage"
        session.add(case)
    at = _open(page_app, case_id)
    assert not at.exception
    assert next(m.value for m in at.metric if m.label == "Decision clock") == "none known"
    warning = next(w.value for w in at.warning if "Decision clock" in shown(w.value))
    assert "no decision clock known — set one in the payer file" in warning
    # Billing reads the plan type and payer by name; the file and key are an administrator's technical detail.
    assert "Medicare Advantage plans of Test Health" in shown(warning)
    assert "medicare_advantage" not in shown(warning) and "test-payer" not in shown(warning)
    assert not at.expander or all(x.label != "Technical details" for x in at.expander)
    admin = _open(page_app, case_id, roles=("admin",))
    technical = next(x for x in admin.expander if x.label == "Technical details")
    assert "medicare_advantage" in shown(technical.caption[0].value)
    assert "test-payer.yaml" in shown(technical.caption[0].value)


def test_stale_save_is_refused_and_nothing_lost(page_app: AppFactory, app_db: Engine, case_id: int) -> None:
    at = _open(page_app, case_id)
    with unit_of_work(app_db, actor="someone-else") as session:
        case = session.get(PriorAuthCase, case_id)
        assert case is not None
        save_notes(session, case_id=case_id, expected_version=case.version, notes="called the payer")
    _step(at, "cancelled")
    at.text_input(key="st_note").input("duplicate")
    _submit(at, "Record: Cancelled")
    assert any("changed by someone else" in shown(e.value) for e in at.error)
    kept = _case(app_db, case_id)
    assert (kept.status, kept.notes) == ("draft", "called the payer")


def test_packet_generation_is_kept_and_listed(page_app: AppFactory, app_db: Engine, case_id: int) -> None:
    at = _open(page_app, case_id)
    _submit(at, "Generate packet")
    assert not at.exception
    with Session(app_db) as session:
        kept = session.exec(select(PaGeneratedFile)).one()
        created = session.exec(select(AuditEvent).where(AuditEvent.entity == "pa_generated_file")).all()
    assert kept.created_by == "billing" and kept.content.startswith(b"%PDF")
    assert [e.action for e in created] == ["create"]
    assert any(s.value == "Packet generated and kept." for s in at.success)
    assert any("Packet" in shown(m.value) and "KB" in shown(m.value) for m in at.markdown)
    # A hash is a technical detail: billing sees none, an administrator finds it under Technical details.
    everything = [shown(getattr(e, "value", "")) for e in at.main if hasattr(e, "value")]
    assert not any(kept.sha256[:16] in str(v) for v in everything)
    assert not any("sha256" in str(v).lower() for v in everything)
    admin = _open(page_app, case_id, roles=("admin",))
    history = next(t for t in admin.tabs if t.label == "History")
    technical = next(x for x in history.expander if x.label == "Technical details")
    assert kept.sha256 in list(technical.dataframe[0].value["SHA-256"])


def test_device_entry_flagged_without_authorization(page_app: AppFactory, app_db: Engine, case_id: int) -> None:
    at = _open(page_app, case_id)
    _submit(at, "Check and record")
    devices = next(s for s in at.selectbox if s.label == "Devices")
    assert any("No approved authorization covers" in m for m in messages_under(at, devices))
    assert all(m.startswith("Devices: ") for m in messages_under(at, devices))


def _next_step(at: AppTest) -> str:
    return str(next(s for s in at.selectbox if s.label == "Next step").value)


def _ready(app_db: Engine, case_id: int) -> None:
    with unit_of_work(app_db, actor="setup") as session:
        case = session.get(PriorAuthCase, case_id)
        assert case is not None
        case.status = "ready"
        session.add(case)


def test_next_step_preselects_the_forward_step(page_app: AppFactory, app_db: Engine, case_id: int) -> None:
    at = _open(page_app, case_id)
    assert _next_step(at) == "ready"
    _ready(app_db, case_id)
    at.run()
    assert _next_step(at) == "submitted", "after Ready the next step is the submission, not back to Draft"


def test_backdated_submission_time_survives_a_rerun_a_minute_later(
        page_app: AppFactory, app_db: Engine, case_id: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime, time
    from zoneinfo import ZoneInfo

    import desk.models

    _ready(app_db, case_id)
    clock = [datetime.now(UTC)]
    monkeypatch.setattr(desk.models, "utcnow", lambda: clock[0])
    at = _step(_open(page_app, case_id), "submitted")
    yesterday = local_today("America/New_York") - timedelta(days=1)
    next(d for d in at.date_input if d.label == "Submitted on").set_value(yesterday)
    next(t for t in at.time_input if t.label == "At (clinic time)").set_value(time(16, 5))
    clock[0] += timedelta(minutes=1)  # the clerk clicks Record a minute after the form was drawn
    _submit(at, "Record: Submitted")
    assert not at.exception
    case = _case(app_db, case_id)
    assert case.submitted_at is not None
    submitted = case.submitted_at.replace(tzinfo=case.submitted_at.tzinfo or UTC)
    assert submitted.astimezone(ZoneInfo("America/New_York")).replace(tzinfo=None) == datetime.combine(
        yesterday, time(16, 5))


def test_case_page_links_to_its_patient_and_the_sidebar_record_opens_on_them(
        page_app: AppFactory, app_db: Engine, case_id: int) -> None:
    at = page_app("app.py", roles=("billing",), username="billing").run()
    at.session_state["patient_id"] = 999  # the last patient opened from the list, someone else
    at.session_state["pa_case_id"] = case_id
    at = at.switch_page(PAGE).run()
    case = _case(app_db, case_id)
    assert at.session_state["patient_id"] == case.patient_id
    [link] = [link.proto for link in at.get("page_link") if link.proto.label == "Open the patient record"]
    assert link.page.endswith("patient_record") and link.query_string == f"patient={case.patient_id}"
    assert "Test Health (Commercial, primary)" in shown(at.caption[0].value)


def test_case_screen_writes_every_date_the_clinic_way(page_app: AppFactory, app_db: Engine, case_id: int) -> None:
    at = _open(page_app, case_id)
    assert not at.exception
    texts = [shown(e.value) for e in at.main if isinstance(getattr(e, "value", None), str)]
    assert any(re.search(r"\b\d{2}/\d{2}/\d{4}\b", t) for t in texts)
    iso = [t for t in texts if re.search(r"\b\d{4}-\d{2}-\d{2}\b", t)]
    assert not iso, iso
