"""Demo data: synthetic, deterministic, loaded all at once, covering every payer with qualifying and failing cases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from desk.bootstrap import prepare_database
from desk.database import make_engine
from desk.demo import DEMO_PASSWORD, FIRST_NAMES, LAST_NAMES, SPECS, load_demo
from desk.models import (
    AuditEvent,
    Coverage,
    CurrentMedication,
    Diagnosis,
    InpatientStay,
    MedicationTrial,
    Patient,
    Prescriber,
    PsychotherapyTrial,
    RatingScore,
    RemsEnrollment,
    SavingsClaim,
    SavingsEnrollment,
    Site,
    TreatmentSession,
    User,
)
from desk.models.prior_auth import PaStatusChange, PriorAuthCase
from desk.patients import (
    CoverageDetails,
    DiagnosisDetails,
    MedicationDetails,
    PatientDetails,
    PsychotherapyDetails,
    ScoreDetails,
    ScreeningDetails,
    StayDetails,
    TrialDetails,
    coverage_errors,
    details_of,
    diagnosis_errors,
    get_patient_record,
    medication_errors,
    patient_errors,
    psychotherapy_errors,
    score_errors,
    screening_errors,
    stay_errors,
    trial_errors,
)
from desk.policies.builder import build_case_facts
from desk.prior_auth.devices import case_account
from desk.prior_auth.lifecycle import TRANSITIONS
from desk.prior_auth.worklist import todays_actions
from desk.rems.config import RemsSettings
from desk.rems.dashboard import blocked_patients
from desk.rems.enrollment import is_enrolled
from desk.rems.pmf import forms_open
from desk.rems.sessions import check_session, session_input
from desk.savings.eligibility import patient_eligibility
from desk.savings.worklist import billing_worklist
from desk.settings import Settings
from desk.validation import npi_problem

ROOT = Path(__file__).resolve().parent.parent.parent
TODAY = date(2026, 11, 2)
ZONE = ZoneInfo("America/New_York")
# load_demo's moment when only the day is given: mid-afternoon in the clinic's zone.
NOW = datetime.combine(TODAY, time(15, 0), tzinfo=ZONE)
COMMERCIAL_PAYERS = {
    "cigna", "uhc", "carefirst", "bcbsnd", "highmark", "bcbsok", "triple-s", "bcbsma", "bcbsnc", "medical-mutual",
    "generic-commercial",
}


@pytest.fixture
def demo(engine: Engine) -> dict[str, object]:
    """The demo data loaded into the test database on a fixed day."""
    return load_demo(engine, today=TODAY)


def test_summary_counts_and_no_phi(demo: dict[str, object], engine: Engine) -> None:
    assert demo["patients"] == len(SPECS) and len(SPECS) >= 36
    assert demo["users"] == 4 and demo["sites"] == 2 and demo["prescribers"] == 4
    assert demo["sessions"] >= 15 and demo["prior_auth_cases"] >= 12 and demo["savings_claims"] >= 10
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Patient)).one() == demo["patients"]
        names = {p.last_name for p in session.exec(select(Patient)).all()}
    assert not any(name in json.dumps(demo) for name in names)


def test_accounts(demo: dict[str, object], engine: Engine) -> None:
    with Session(engine) as session:
        users = {u.username: u for u in session.exec(select(User)).all()}
    assert {name: u.roles for name, u in users.items()} == {
        "admin": "admin", "billing": "billing", "nurse": "nurse", "lead": "billing,nurse",
    }
    assert all(u.is_demo and u.active for u in users.values())
    hashes = {u.password_hash for u in users.values()}
    assert len(hashes) == 1
    stored = hashes.pop()
    assert stored.startswith("$argon2id$")
    assert PasswordHasher().verify(stored, DEMO_PASSWORD)


def test_sites_and_prescribers(demo: dict[str, object], engine: Engine) -> None:
    with Session(engine) as session:
        sites = session.exec(select(Site).order_by(Site.id)).all()
        prescribers = session.exec(select(Prescriber)).all()
    # Every demo setting is certified, so no REMS warning hides the real ones on a first look.
    assert all(s.rems_setting_id and s.rems_certified_on and s.authorized_representative for s in sites)
    assert all("(demo)" in s.name for s in sites)
    assert Counter(p.specialty for p in prescribers) == {"psychiatrist": 2, "psychiatric_np": 1, "other": 1}
    assert all(npi_problem(p.npi) is None for p in prescribers)
    assert all(npi_problem(s.npi) is None for s in sites)


def test_payer_spread_and_residence(demo: dict[str, object], engine: Engine) -> None:
    with Session(engine) as session:
        coverages = session.exec(select(Coverage)).all()
        patients = session.exec(select(Patient)).all()
    primary = Counter(c.payer_id for c in coverages if c.priority == "primary")
    for payer in COMMERCIAL_PAYERS:
        assert primary[payer] >= 3, payer
    plan_types = {(c.payer_id, c.plan_type) for c in coverages}
    assert ("medicare", "medicare_part_d") in plan_types and ("medicaid", "medicaid_managed") in plan_types
    by_patient: dict[int, dict[str, str]] = {}
    for c in coverages:
        by_patient.setdefault(c.patient_id, {})[c.priority] = c.plan_type
    assert any(p.get("primary") == "medicare_part_d" and p.get("secondary") == "commercial"
               for p in by_patient.values())
    states = {p.state for p in patients}
    assert {"MA", "MI", "MN", "RI"} <= states
    assert all(p.mrn.startswith("DEMO-") for p in patients)
    assert all(p.first_name in FIRST_NAMES and p.last_name in LAST_NAMES for p in patients)


def test_each_payer_has_qualifying_and_failing_profiles() -> None:
    notes: dict[str, list[str]] = {}
    for spec in SPECS:
        notes.setdefault(spec.payer_id, []).append(spec.note)
    for payer in COMMERCIAL_PAYERS | {"medicare", "medicaid"}:
        assert any(note.startswith("meets criteria") or note in ("MDSI path", "Medicare Part D")
                   for note in notes[payer]), payer
        assert len(notes[payer]) >= 2, payer


def test_clinical_variety(demo: dict[str, object], engine: Engine) -> None:
    with Session(engine) as session:
        trials = session.exec(select(MedicationTrial)).all()
        assert any(not t.current_episode for t in trials)
        assert any(t.adherence_pct is not None and t.adherence_pct < 80 for t in trials)
        assert any(t.role == "augmentation" for t in trials)
        flagged = [
            view for p in session.exec(select(Patient)).all()
            for view in get_patient_record(session, patient_id=p.id, today=TODAY).trials if view.flags  # type: ignore[arg-type]
        ]
        assert any("below the minimum" in f for view in flagged for f in view.flags)
        records = [get_patient_record(session, patient_id=p.id, today=TODAY)  # type: ignore[arg-type]
                   for p in session.exec(select(Patient)).all()]
    concomitant = Counter(c for r in records for c in r.concomitant)
    assert concomitant["benzodiazepines"] >= 2 and concomitant["opioids"] >= 2
    assert any(r.stays for r in records)
    assert any(r.patient.psychosis_history for r in records)
    assert all(r.patient.pdmp_checked_on for r in records)
    instruments = {s.instrument for r in records for s in r.scores}
    assert {"PHQ-9", "MADRS", "HAM-D17"} <= instruments


def test_every_write_is_audited_as_system(demo: dict[str, object], engine: Engine) -> None:
    with Session(engine) as session:
        actors = set(session.exec(select(AuditEvent.actor)).all())
        creates = session.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.entity == "patient",
                                                                                  AuditEvent.action == "create")).one()
    assert actors == {"system"}
    assert creates == demo["patients"]


def test_deterministic_for_a_given_day(sqlite_url: str, tmp_path: Path) -> None:
    from desk.database import migrate

    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    migrate(other)
    snapshots = []
    for url in (sqlite_url, other):
        engine = make_engine(url)
        load_demo(engine, today=TODAY)
        with Session(engine) as session:
            snapshots.append([
                (p.mrn, p.first_name, p.last_name, p.dob, p.state)
                for p in session.exec(select(Patient).order_by(Patient.mrn)).all()
            ] + [
                (t.drug, t.daily_dose_mg, t.start_date, t.end_date)
                for t in session.exec(select(MedicationTrial).order_by(MedicationTrial.id)).all()
            ])
        engine.dispose()
    assert snapshots[0] == snapshots[1]


def test_second_load_fails_whole_and_writes_nothing(demo: dict[str, object], engine: Engine) -> None:
    with Session(engine) as session:
        before = session.exec(select(func.count()).select_from(AuditEvent)).one()
    with pytest.raises(Exception):  # noqa: B017 - the unique username constraint stops it
        load_demo(engine, today=TODAY)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(AuditEvent)).one() == before
        assert session.exec(select(func.count()).select_from(Patient)).one() == demo["patients"]


def test_first_start_loads_demo_unless_disabled(tmp_path: Path) -> None:
    on = Settings(database_url=f"sqlite:///{tmp_path / 'on.sqlite3'}", data_dir=tmp_path, demo=True)
    off = Settings(database_url=f"sqlite:///{tmp_path / 'off.sqlite3'}", data_dir=tmp_path, demo=False)
    for settings, expected in ((on, len(SPECS)), (off, 0)):
        engine = prepare_database(settings)
        with Session(engine) as session:
            assert session.exec(select(func.count()).select_from(Patient)).one() == expected
        engine.dispose()
    # A restart does not load a second copy.
    engine = prepare_database(on)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Patient)).one() == len(SPECS)
    engine.dispose()


def test_cli_demo_command(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    first = subprocess.run([sys.executable, "-m", "desk", "demo"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["patients"] == len(SPECS)
    again = subprocess.run([sys.executable, "-m", "desk", "demo"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=120)
    assert again.returncode == 1
    assert "already has accounts" in again.stderr


def test_ages_spread_with_one_minor(demo: dict[str, object], engine: Engine) -> None:
    with Session(engine) as session:
        dobs = [p.dob for p in session.exec(select(Patient)).all()]
    ages = [TODAY.year - d.year - ((TODAY.month, TODAY.day) < (d.month, d.day)) for d in dobs]
    assert sum(1 for a in ages if a < 18) == 1
    assert min(a for a in ages if a >= 18) < 30 and max(ages) > 65
    assert len(set(dobs)) == len(dobs)


@pytest.fixture(autouse=True)
def clinic_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clinic's time zone the expected dates below are computed in."""
    monkeypatch.setenv("DESK_TIMEZONE", "America/New_York")


def test_every_prior_authorization_stage_is_present(demo: dict[str, object], engine: Engine) -> None:
    with Session(engine) as session:
        cases = session.exec(select(PriorAuthCase)).all()
        statuses = Counter(c.status for c in cases)
        assert {"draft", "ready", "submitted", "info_requested", "pended", "approved", "denied", "appealed",
                "expired"} <= set(statuses)
        waiting = [c for c in cases if c.status == "submitted"]
        assert any(c.decision_due_at and NOW < c.decision_due_at <= NOW + timedelta(days=5) for c in waiting)
        assert any(c.decision_due_at and c.decision_due_at < NOW for c in waiting)
        info = next(c for c in cases if c.status == "info_requested")
        assert info.info_due_on is not None and TODAY <= info.info_due_on <= TODAY + timedelta(days=3)
        partly_used = []
        for case in cases:
            if case.status == "approved":
                assert case.id is not None
                account = case_account(session, case_id=case.id)
                assert account is not None and account.remaining_devices is not None
                if account.used_devices > 0:
                    partly_used.append(account)
        assert partly_used and all(a.remaining_devices is not None and a.remaining_devices < a.authorized_devices
                                   for a in partly_used)  # type: ignore[operator]
        # Every recorded step is an allowed transition of the lifecycle.
        for case in cases:
            steps = session.exec(select(PaStatusChange).where(PaStatusChange.case_id == case.id)
                                 .order_by(PaStatusChange.id)).all()
            assert steps[0].to_status == "draft" and steps[-1].to_status == case.status
            for step in steps[1:]:
                assert step.to_status in TRANSITIONS[step.from_status], (step.from_status, step.to_status)
            assert [s.at for s in steps] == sorted(s.at for s in steps)
        actions = todays_actions(session, now=NOW, today=TODAY, timezone="America/New_York", default_lead_days=21,
                                 draft_idle_days=7)
    # "Policy changed" fills only when a payer file changes after the desk read it, which demo data cannot do.
    assert actions.pop("policy_changed").total == 0
    assert {name: lst.total > 0 for name, lst in actions.items()} == dict.fromkeys(actions, True)


def test_rems_enrollments_sessions_and_forms(demo: dict[str, object], engine: Engine) -> None:
    settings = RemsSettings()
    with Session(engine) as session:
        enrollments = session.exec(select(RemsEnrollment)).all()
        assert sum(1 for e in enrollments if is_enrolled(e)) >= 0.8 * len(SPECS)
        sessions = session.exec(select(TreatmentSession)).all()
        assert Counter(s.pmf_status for s in sessions).keys() == {"draft", "ready", "submitted"}
        forms = forms_open(session, today=TODAY, settings=settings)
        assert any(f.overdue for f in forms)
        assert any(0 <= f.days_left <= settings.due_soon_days for f in forms)
        assert any(s.session_date == TODAY and s.discharged_at is None for s in sessions)  # under way now
        blocked = blocked_patients(session, today=TODAY)
        assert any("Enrollment Form is not complete" in b.reason for b in blocked)
        # Every logged session passes the same checks as a nurse's save.
        for ts in sessions:
            assert ts.id is not None
            data = session_input(session, session_id=ts.id)
            assert check_session(session, data=data, now=NOW, settings=settings, session_id=ts.id) == [], ts.id


def test_savings_enrollments_claims_and_worklist(demo: dict[str, object], engine: Engine) -> None:
    with Session(engine) as session:
        enrollments = session.exec(select(SavingsEnrollment)).all()
        assert Counter(e.status for e in enrollments) == {"active": 8, "pending": 1}
        for enrollment in enrollments:
            assert patient_eligibility(session, patient_id=enrollment.patient_id, on=TODAY).drug_eligible
        claims = session.exec(select(SavingsClaim)).all()
        assert {"paid", "submitted", "draft", "denied"} <= {c.status for c in claims}
        assert {c.kind for c in claims} == {"drug", "observation"}
        for claim in claims:
            assert 0 <= claim.savings_applied_cents <= claim.patient_responsibility_cents
            assert claim.insurance_paid_cents + claim.patient_responsibility_cents <= claim.billed_cents
        categories = {item.category for item in billing_worklist(session, today=TODAY)}
    assert categories == {"expiring", "nearly_used", "waiting_for_eob", "denied"}


def test_every_demo_record_passes_the_services_validation(demo: dict[str, object], engine: Engine) -> None:
    checks = (
        (Diagnosis, DiagnosisDetails, diagnosis_errors),
        (MedicationTrial, TrialDetails, trial_errors),
        (PsychotherapyTrial, PsychotherapyDetails, psychotherapy_errors),
        (RatingScore, ScoreDetails, score_errors),
        (CurrentMedication, MedicationDetails, medication_errors),
        (InpatientStay, StayDetails, stay_errors),
    )
    with Session(engine) as session:
        for patient in session.exec(select(Patient)).all():
            assert patient_errors(session, PatientDetails.of(patient), patient_id=patient.id, today=TODAY) == []
            assert screening_errors(ScreeningDetails.of(patient), dob=patient.dob, today=TODAY) == []
            for coverage in session.exec(select(Coverage).where(Coverage.patient_id == patient.id)).all():
                assert coverage_errors(details_of(coverage, CoverageDetails)) == []
            for model, kind, errors in checks:
                for row in session.exec(select(model).where(model.patient_id == patient.id)).all():  # type: ignore[attr-defined]
                    assert errors(details_of(row, kind), dob=patient.dob, today=TODAY) == [], model.__name__  # type: ignore[operator]


def test_new_record_facts_reach_the_case_builder(demo: dict[str, object], engine: Engine) -> None:
    with Session(engine) as session:
        patients = {p.mrn: p for p in session.exec(select(Patient)).all()}
        continuation = patients["DEMO-0011"]  # BCBS ND: an expired approval, now a continuation request
        assert continuation.id is not None
        facts = build_case_facts(session, patient_id=continuation.id, as_of=TODAY)
        assert facts.previous_approvals == ["bcbsnd"]
        assert facts.screening.esketamine_started_on == TODAY - timedelta(days=120)
        consulted = patients["DEMO-0016"]  # family-medicine prescriber who consulted a psychiatrist
        assert consulted.id is not None
        assert build_case_facts(session, patient_id=consulted.id, as_of=TODAY).prescriber.psychiatric_consultation
        assert all(build_case_facts(session, patient_id=p.id, as_of=TODAY).screening.concurrent_therapies  # type: ignore[arg-type]
                   is not None for p in patients.values())
