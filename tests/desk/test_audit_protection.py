"""The audit trail cannot be quietly emptied: PostgreSQL refuses TRUNCATE, the application role may only
INSERT and SELECT audit rows, and the desk, the CLI and restore refuse a database whose triggers are gone."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from desk.audit import AUDIT_TRIGGERS, AuditUnprotected, app_role_grants_sql, record_event
from desk.backup import BackupFailed, backup_database, restore_database
from desk.bootstrap import prepare_database
from desk.database import PROJECT_ROOT, make_engine, migrate, unit_of_work
from desk.models import AuditEvent
from desk.settings import load_settings
from tests.conftest import PG_SERVER
from tests.factories import make_patient


def _audit_count(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(AuditEvent.id)).all())


def _drop_trigger(engine: Engine, name: str) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text(f"DROP TRIGGER {name}"))
        else:
            conn.execute(text(f"DROP TRIGGER {name} ON audit_event"))


@pytest.mark.postgres
def test_postgres_refuses_truncate_even_for_the_owner(fresh_postgres_url: str) -> None:
    engine = make_engine(fresh_postgres_url)
    with unit_of_work(engine, actor="tester") as session:
        record_event(session, action="export", entity="audit_event")
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_event"))
    assert _audit_count(engine) == 1
    engine.dispose()


@pytest.fixture
def app_role(postgres_url: str) -> Iterator[tuple[str, str]]:
    """A login role with only the documented grants, and the URL the application would use with it."""
    role = f"desk_app_{uuid.uuid4().hex[:8]}"
    owner = make_engine(postgres_url)
    with owner.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"))
        for statement in app_role_grants_sql(role):
            conn.execute(text(statement))
    url = make_url(postgres_url).set(username=role).render_as_string(hide_password=False)
    yield role, url
    with owner.begin() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"))
        conn.execute(text(f"DROP OWNED BY {role}"))
        conn.execute(text(f"DROP ROLE {role}"))
    owner.dispose()


@pytest.mark.postgres
def test_app_role_may_insert_and_select_audit_rows_but_never_change_or_remove_them(
    app_role: tuple[str, str], postgres_url: str
) -> None:
    _role, url = app_role
    migrate(url)  # the app's own start-up check runs fine under the restricted role
    app = make_engine(url)
    try:
        with unit_of_work(app, actor="tester") as session:
            make_patient(session)  # ordinary tables: full access
            record_event(session, action="export", entity="audit_event", detail="by the app role")
        before = _audit_count(app)
        assert before >= 2
        for statement in ("UPDATE audit_event SET detail = 'x'", "DELETE FROM audit_event",
                          "TRUNCATE audit_event", "DROP TABLE audit_event CASCADE",
                          "ALTER TABLE audit_event DISABLE TRIGGER ALL",
                          "DROP TRIGGER audit_event_no_change ON audit_event"):
            with pytest.raises(DBAPIError) as caught, app.begin() as conn:
                conn.execute(text(statement))
            assert "permission denied" in str(caught.value) or "must be owner" in str(caught.value), statement
        assert _audit_count(app) == before
    finally:
        app.dispose()


@pytest.mark.parametrize("dialect", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_start_is_refused_when_an_audit_trigger_is_missing(
    dialect: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = str(request.getfixturevalue("sqlite_url" if dialect == "sqlite" else "fresh_postgres_url"))
    engine = make_engine(url)
    migrate(url)  # protected: accepted
    _drop_trigger(engine, AUDIT_TRIGGERS[dialect][-1])
    engine.dispose()

    with pytest.raises(AuditUnprotected, match=AUDIT_TRIGGERS[dialect][-1]):
        migrate(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DESK_DEMO", "0")
    with pytest.raises(AuditUnprotected, match="will not start"):
        prepare_database(load_settings())
    result = subprocess.run([sys.executable, "-m", "desk", "init"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            env={**os.environ, "DATABASE_URL": url, "DESK_PASSWORD": "x" * 16}, check=False)
    assert result.returncode == 1
    assert "audit trail is not protected" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.postgres
def test_a_disabled_trigger_counts_as_missing(fresh_postgres_url: str) -> None:
    engine = make_engine(fresh_postgres_url)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_truncate"))
    engine.dispose()
    with pytest.raises(AuditUnprotected, match="audit_event_no_truncate"):
        migrate(fresh_postgres_url)


@pytest.fixture
def new_postgres_database(postgres_url: str) -> Iterator[Callable[[], str]]:
    """Makes migrated databases of their own, for tests that damage a schema (dropped afterwards)."""
    names: list[str] = []
    admin = make_engine(f"{PG_SERVER}/postgres").execution_options(isolation_level="AUTOCOMMIT")

    def create() -> str:
        name = f"desk_test_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        names.append(name)
        url = f"{PG_SERVER}/{name}"
        migrate(url)
        return url

    yield create
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def fresh_postgres_url(new_postgres_database: Callable[[], str]) -> str:
    return new_postgres_database()


@pytest.mark.parametrize("dialect", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_restore_refuses_a_backup_without_audit_triggers_and_audits_a_good_one(
    dialect: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = str(request.getfixturevalue("sqlite_url" if dialect == "sqlite" else "fresh_postgres_url"))
    engine = make_engine(url)
    with unit_of_work(engine, actor="tester") as session:
        make_patient(session)
    good = backup_database(url=url, out=tmp_path / "good.bin")
    assert stat.S_IMODE(good.stat().st_mode) == 0o600

    # A copy of the database whose audit trigger was dropped, then backed up.
    if dialect == "sqlite":
        damaged_url = f"sqlite:///{tmp_path / 'damaged.sqlite3'}"
        restore_database(url=damaged_url, backup=good)
    else:
        damaged_url = request.getfixturevalue("new_postgres_database")()
        restore_database(url=damaged_url, backup=good)
    damaged = make_engine(damaged_url)
    _drop_trigger(damaged, AUDIT_TRIGGERS[dialect][0])
    damaged.dispose()
    bad = backup_database(url=damaged_url, out=tmp_path / "bad.bin")

    with unit_of_work(engine, actor="tester") as session:
        make_patient(session)
    rows_before = _audit_count(engine)
    with pytest.raises(BackupFailed, match=f"not protected.*{AUDIT_TRIGGERS[dialect][0]}"):
        restore_database(url=url, backup=bad)
    assert _audit_count(engine) == rows_before  # nothing replaced

    restore_database(url=url, backup=good)
    engine.dispose()
    with Session(engine) as session:
        last = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()  # type: ignore[union-attr]
    assert last is not None and last.action == "restore" and last.entity == "database"
    assert "sha256" in last.detail
    engine.dispose()
