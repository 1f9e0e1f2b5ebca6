"""Database preparation from nothing, as on a fresh checkout."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from desk.bootstrap import prepare_database
from desk.database import make_engine, migrate
from desk.models import Patient, User
from desk.settings import Settings


def test_first_start_creates_the_data_folder_migrates_and_loads_demo(tmp_path: Path) -> None:
    data_dir = tmp_path / "not" / "created" / "yet"
    settings = Settings(database_url=f"sqlite:///{data_dir / 'desk.sqlite3'}", data_dir=data_dir, demo=True)
    engine = prepare_database(settings)
    with Session(engine) as session:
        assert session.exec(select(User).where(User.username == "billing")).first() is not None
        assert len(session.exec(select(Patient.id)).all()) >= 30
    engine.dispose()


def test_demo_off_leaves_a_new_database_empty(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'new' / 'desk.sqlite3'}", data_dir=tmp_path, demo=False)
    engine = prepare_database(settings)
    with Session(engine) as session:
        assert session.exec(select(User.id)).first() is None
    engine.dispose()


def test_sqlite_database_and_its_wal_files_are_created_owner_only(tmp_path: Path) -> None:
    import os
    import stat

    previous = os.umask(0o022)  # the usual umask would make files world-readable
    try:
        path = tmp_path / "fresh" / "desk.sqlite3"
        url = f"sqlite:///{path}"
        migrate(url)
        engine = make_engine(url)
        with engine.connect() as conn:  # keeps the -wal and -shm files open while they are checked
            conn.exec_driver_sql("SELECT count(*) FROM audit_event")
            for name in ("desk.sqlite3", "desk.sqlite3-wal", "desk.sqlite3-shm"):
                assert stat.S_IMODE((path.parent / name).stat().st_mode) == 0o600, name
        engine.dispose()
    finally:
        os.umask(previous)
