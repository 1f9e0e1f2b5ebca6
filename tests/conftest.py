"""Shared fixtures: real SQLite files and a real PostgreSQL database, a fast password hasher."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from desk.audit import install_audit_hook
from desk.database import make_engine, migrate

PG_SERVER = os.environ.get("DESK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
REQUIRE_PG = os.environ.get("DESK_REQUIRE_POSTGRES") == "1"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


def _postgres_available() -> bool:
    try:
        engine = make_engine(f"{PG_SERVER}/postgres")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test that needs a database."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run (dropped afterwards)."""
    if not _postgres_available():
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required here (DESK_REQUIRE_POSTGRES=1) but {PG_SERVER} does not answer")
        pytest.skip("no PostgreSQL server answers at 127.0.0.1:5432 (set DESK_TEST_PG to use another)")
    name = f"desk_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(f"{PG_SERVER}/postgres").execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{PG_SERVER}/{name}"
    migrate(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_postgres(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        # The audit table refuses TRUNCATE by trigger; a superuser may skip triggers for this transaction.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """URL of a fresh migrated SQLite file for one test."""
    path = tmp_path / "desk.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """URL of an empty migrated database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    url = str(request.getfixturevalue("postgres_url"))
    engine = make_engine(url)
    _truncate_postgres(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the test database (both backends)."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """An audited session acting as 'tester'; the test commits what it wants kept."""
    with Session(engine, expire_on_commit=False) as sess:
        sess.info["actor"] = "tester"
        install_audit_hook(sess)
        yield sess


@pytest.fixture(scope="session")
def fast_hasher() -> PasswordHasher:
    """An argon2id hasher with tiny costs so tests do not spend 0.2 s per hash."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The project's shared/ folder (domain notes and third-party PDF fixtures)."""
    return SHARED
