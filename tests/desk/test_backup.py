"""Backup and restore round trips on SQLite and PostgreSQL, and refusal of files that are not backups."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from desk.backup import BackupFailed, backup_database, restore_database
from desk.database import unit_of_work
from desk.models import Patient, Site
from tests.factories import make_patient


def _patient_mrns(engine: Engine) -> set[str]:
    with Session(engine) as session:
        return set(session.exec(select(Patient.mrn)).all())


def test_round_trip_restores_exactly_what_was_backed_up(engine: Engine, db_url: str, tmp_path: Path) -> None:
    with unit_of_work(engine, actor="tester") as session:
        first = make_patient(session)
    before = _patient_mrns(engine)
    archive = backup_database(url=db_url, out=tmp_path / "backup.bin")
    with unit_of_work(engine, actor="tester") as session:
        make_patient(session, site=session.get(Site, first.site_id))
    assert len(_patient_mrns(engine)) == 2

    restore_database(url=db_url, backup=archive)
    engine.dispose()
    assert _patient_mrns(engine) == before


def test_sqlite_restore_refuses_a_file_that_is_not_a_backup(sqlite_url: str, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.sqlite3"
    bogus.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(BackupFailed, match="not a SQLite database backup"):
        restore_database(url=sqlite_url, backup=bogus)


def test_restore_refuses_a_missing_file(sqlite_url: str, tmp_path: Path) -> None:
    with pytest.raises(BackupFailed, match="does not exist"):
        restore_database(url=sqlite_url, backup=tmp_path / "absent.bin")
