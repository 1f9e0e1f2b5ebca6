"""Engine creation, sessions per unit of work, and schema migration."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from desk.settings import PROJECT_ROOT
from desk.validation import refuse_nul_parameters, refuse_unstorable_text

SYSTEM_ACTOR = "system"

# Every write in every session (and every query value) passes the one free-text rule.
event.listen(Session, "before_flush", refuse_unstorable_text)
event.listen(Engine, "before_cursor_execute", refuse_nul_parameters)


def _ensure_sqlite_folder(url: str) -> None:
    """SQLite creates the file but not its folder (a fresh checkout has no ./data yet).

    The file is created owner-only (0600): it holds PHI. SQLite gives its -wal and -shm files the
    database file's permissions.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1].split("?", 1)[0]
        if path and path != ":memory:" and not path.startswith("file::memory:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            create_private_file(Path(path))


def create_private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 unless it exists (whatever the process umask says)."""
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    if url.startswith("sqlite"):
        _ensure_sqlite_folder(url)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@contextmanager
def unit_of_work(engine: Engine, *, actor: str) -> Iterator[Session]:
    """A session that commits on success, rolls back on error; `actor` is audited on every write."""
    from desk.audit import install_audit_hook

    session = Session(engine, expire_on_commit=False)
    session.info["actor"] = actor
    install_audit_hook(session)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str) -> Any:
    """The Alembic configuration of this project, pointed at `url`."""
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the database at `url` to the newest schema, then confirm the audit table is still protected
    (raises AuditUnprotected otherwise: every start and every command goes through here)."""
    from alembic import command

    from desk.audit import ensure_audit_protected

    _ensure_sqlite_folder(url)
    command.upgrade(alembic_config(url), "heads")
    engine = make_engine(url)
    try:
        ensure_audit_protected(engine)
    finally:
        engine.dispose()
