"""Database preparation from nothing, as on a fresh checkout."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from desk.bootstrap import prepare_database
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
