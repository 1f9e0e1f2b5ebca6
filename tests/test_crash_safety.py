"""Killing the process (SIGKILL) in the middle of a batch leaves the database consistent, on both databases.

Two batches: a patient import (`python -m desk import patients FILE.csv`, one transaction) killed while it is
demonstrably inserting rows, and a REMS monitoring-form batch (`python -m desk rems forms`) killed while it is
filling forms. Afterwards the database passes its integrity checks, the work committed before is intact, and
nothing of the interrupted batch is there: no rows, no audit entry, no file (not even a partial one).
"""

from __future__ import annotations

import csv
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from desk.database import make_engine, unit_of_work
from desk.models import AuditEvent, Coverage, Patient, TreatmentSession
from desk.rems.sessions import record_session
from tests.contention import RECORDED_AT, REMS_SETTINGS
from tests.desk.rems.conftest import NURSE, at, full_session
from tests.factories import make_enrollment, make_patient, make_prescriber, make_site, make_user

ROOT = Path(__file__).resolve().parent.parent
SITE = "Crash Test Clinic"
BIG_IMPORT_ROWS = 2000
BATCH_SESSIONS = 120
EARLIER_DAY = date(2026, 3, 3)
BATCH_DAY = date(2026, 3, 10)
WAIT_S = 120


def _desk(url: str, *args: str, stdout: object = subprocess.PIPE, stderr: object = subprocess.PIPE) -> subprocess.Popen:  # type: ignore[type-arg]
    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "desk", *args], cwd=ROOT, env=env, stdout=stdout, stderr=stderr)


def _run_desk(url: str, *args: str) -> None:
    process = _desk(url, *args)
    _out, err = process.communicate(timeout=WAIT_S)
    assert process.returncode == 0, err.decode()


def _write_csv(path: Path, prefix: str, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["site", "mrn", "first_name", "last_name", "dob", "sex", "payer_id", "plan_type", "member_id"])
        for n in range(rows):
            writer.writerow([SITE, f"{prefix}{n:06d}", "Bulk", f"Importee{prefix}{n}", "1980-01-02", "F", "uhc",
                             "commercial", f"M{prefix}{n:06d}"])


def _writer_active(url: str) -> bool:
    """True while another connection holds an open write transaction that touched the patient table."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.split("///", 1)[1], timeout=0, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc):
                return True
            raise
        finally:
            connection.close()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            held = conn.execute(text(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE c.relname = 'patient' AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()"
            )).scalar_one()
        return bool(held)
    finally:
        engine.dispose()


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen, what: str) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the batch ended (exit {process.returncode}) before {what}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(0.05)


def _kill(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    assert process.poll() is None, "the batch finished before it could be interrupted"
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL


def _assert_consistent(url: str) -> None:
    """SQLite: integrity and foreign-key checks pass. PostgreSQL: the killed backend is gone, every table reads."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if url.startswith("sqlite"):
                assert conn.execute(text("PRAGMA integrity_check")).scalars().all() == ["ok"]
                assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
            else:
                deadline = time.monotonic() + 30
                while conn.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
                )).scalar_one():
                    assert time.monotonic() < deadline, "the killed client's transaction is still open"
                    time.sleep(0.2)
                    conn.rollback()
            for table in SQLModel.metadata.sorted_tables:
                conn.execute(text(f'SELECT count(*) FROM "{table.name}"')).scalar_one()
    finally:
        engine.dispose()


def _patients(engine: Engine) -> list[tuple[int, str, str]]:
    with Session(engine) as session:
        return [(int(p.id or 0), p.mrn, p.last_name)
                for p in session.exec(select(Patient).order_by(col(Patient.id))).all()]


def _count(engine: Engine, model: type[SQLModel], *where: object) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())  # type: ignore[arg-type]


def test_killed_patient_import_leaves_committed_patients_and_none_of_its_own(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    with unit_of_work(engine, actor="tester") as session:
        make_site(session, name=SITE)
    committed_file, big_file = tmp_path / "committed.csv", tmp_path / "big.csv"
    _write_csv(committed_file, "KEEP", 5)
    _write_csv(big_file, "BULK", BIG_IMPORT_ROWS)
    _run_desk(db_url, "import", "patients", str(committed_file))
    before = _patients(engine)
    coverages, audit = _count(engine, Coverage), _count(engine, AuditEvent)
    assert len(before) == 5

    importer = _desk(db_url, "import", "patients", str(big_file), stdout=subprocess.DEVNULL)
    _wait_for(lambda: _writer_active(db_url), importer, "the import was inserting patients")
    time.sleep(1.0)  # well into the batch: hundreds of rows inserted but not committed
    assert _writer_active(db_url), "the import stopped writing before it could be interrupted"
    _kill(importer)

    _assert_consistent(db_url)
    assert _patients(engine) == before, "committed patients changed, or rows of the killed import are present"
    assert _count(engine, Patient, col(Patient.mrn).like("BULK%")) == 0
    assert _count(engine, Coverage) == coverages
    assert _count(engine, AuditEvent) == audit
    # The database takes writes again at once (no stale lock, WAL recovered).
    again = tmp_path / "again.csv"
    _write_csv(again, "AGAIN", 3)
    _run_desk(db_url, "import", "patients", str(again))
    assert len(_patients(engine)) == 8
    engine.dispose()


def _ready_sessions(engine: Engine, hasher: PasswordHasher) -> None:
    """Two ready sessions on EARLIER_DAY and BATCH_SESSIONS on BATCH_DAY, one patient each; a nurse account."""
    with unit_of_work(engine, actor="tester") as session:
        site = make_site(session)
        on_site = make_prescriber(session, site_id=site.id)
        make_user(session, hasher=hasher, roles="nurse", username="crashnurse")
        for n in range(2 + BATCH_SESSIONS):
            day = EARLIER_DAY if n < 2 else BATCH_DAY
            patient = make_patient(session, site=site)
            make_enrollment(session, patient=patient)
            assert patient.id is not None and site.id is not None
            shift = timedelta(days=(day - BATCH_DAY).days)
            base = full_session(patient.id, site.id, on_site.id)
            data = replace(
                base, session_date=day, device_times=tuple(t + shift for t in base.device_times),
                readings=tuple(replace(r, measured_at=r.measured_at + shift) for r in base.readings),
                dissociation_resolved_at=at(11, 10, day), discharged_at=at(12, 5, day),
            )
            record_session(session, user=NURSE, data=data, now=RECORDED_AT, settings=REMS_SETTINGS)


def _exports(engine: Engine) -> int:
    return _count(engine, AuditEvent, AuditEvent.action == "export")


def test_killed_form_batch_leaves_no_file_and_no_audit_entry(
    db_url: str, tmp_path: Path, fast_hasher: PasswordHasher
) -> None:
    engine = make_engine(db_url)
    _ready_sessions(engine, fast_hasher)
    out = tmp_path / "out"
    out.mkdir()
    first = out / "earlier.pdf"
    _run_desk(db_url, "rems", "forms", "--start", EARLIER_DAY.isoformat(), "--end", EARLIER_DAY.isoformat(),
              "--user", "crashnurse", "--out", str(first))
    kept = hashlib.sha256(first.read_bytes()).hexdigest()
    exports = _exports(engine)
    assert exports == 1

    progress = tmp_path / "progress.txt"
    with progress.open("wb") as log:
        batch = _desk(db_url, "rems", "forms", "--start", BATCH_DAY.isoformat(), "--end", BATCH_DAY.isoformat(),
                      "--user", "crashnurse", "--out", str(out / "batch.pdf"), stdout=subprocess.DEVNULL, stderr=log)
        _wait_for(lambda: f"filled 30 of {BATCH_SESSIONS} forms" in progress.read_text(), batch,
                  "the batch had filled 30 forms")
        _kill(batch)

    _assert_consistent(db_url)
    assert sorted(p.name for p in out.iterdir()) == ["earlier.pdf"], "the killed batch left a file behind"
    assert hashlib.sha256(first.read_bytes()).hexdigest() == kept
    assert _exports(engine) == exports, "the killed batch left an audit entry for an export that never happened"
    assert _count(engine, TreatmentSession, TreatmentSession.pmf_status == "ready") == 2 + BATCH_SESSIONS
    # The same batch runs to the end afterwards.
    _run_desk(db_url, "rems", "forms", "--start", BATCH_DAY.isoformat(), "--end", BATCH_DAY.isoformat(),
              "--user", "crashnurse", "--out", str(out / "batch.pdf"))
    assert (out / "batch.pdf").read_bytes().startswith(b"%PDF")
    assert _exports(engine) == exports + 1
    engine.dispose()
