"""Demo data: synthetic, deterministic, loaded all at once, covering every payer with qualifying and failing cases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from desk.bootstrap import prepare_database
from desk.database import make_engine
from desk.demo import DEMO_PASSWORD, FIRST_NAMES, LAST_NAMES, SPECS, load_demo
from desk.models import AuditEvent, Coverage, MedicationTrial, Patient, Prescriber, Site, User
from desk.patients import get_patient_record
from desk.settings import Settings
from desk.validation import npi_problem

ROOT = Path(__file__).resolve().parent.parent.parent
TODAY = date(2026, 11, 2)
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
    assert [bool(s.rems_setting_id) for s in sites] == [True, False]
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
