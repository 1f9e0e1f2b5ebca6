"""Consistent online backups and restores: SQLite's backup API, pg_dump/pg_restore for PostgreSQL."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from desk.audit import AUDIT_TRIGGERS, missing_audit_protections, record_event
from desk.database import SYSTEM_ACTOR, create_private_file, make_engine, migrate, unit_of_work
from desk.errors import DeskError


class BackupFailed(DeskError):
    """A backup or restore could not be completed; the target was left as it was."""


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupFailed("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    parsed = make_url(url)
    args = ["--host", parsed.host or "127.0.0.1", "--port", str(parsed.port or 5432),
            "--username", parsed.username or "postgres", "--dbname", parsed.database or ""]
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    return args, env


def _run(command: list[str], env: dict[str, str]) -> str:
    tool = command[0]
    if shutil.which(tool) is None:
        raise BackupFailed(f"{tool} is not installed (Debian package postgresql-client)")
    result = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last_line = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupFailed(f"{tool} failed: {last_line}")
    return result.stdout


def backup_database(*, url: str, out: Path) -> Path:
    """Write a consistent copy of the live database to `out` (a SQLite file or a pg_dump archive)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    create_private_file(partial)  # a backup holds PHI: owner-only (0600) from its first byte
    if url.startswith("sqlite"):
        source_path = _sqlite_path(url)
        if not source_path.exists():
            raise BackupFailed("the database file does not exist")
        source = sqlite3.connect(source_path)
        target = sqlite3.connect(partial)
        try:
            source.backup(target)  # online and consistent even while the app writes (WAL)
        finally:
            target.close()
            source.close()
    elif url.startswith("postgresql"):
        args, env = _pg_args(url)
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(partial), *args], env)
    else:
        raise BackupFailed("backups support SQLite and PostgreSQL URLs only")
    os.chmod(partial, 0o600)
    partial.replace(out)
    return out


def _check_sqlite_backup(path: Path) -> None:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            status = connection.execute("PRAGMA integrity_check").fetchone()
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise BackupFailed("the file is not a SQLite database backup") from exc
    if not status or status[0] != "ok":
        raise BackupFailed("the backup file fails SQLite's integrity check")
    if "alembic_version" not in tables or "audit_event" not in tables:
        raise BackupFailed("the file is a SQLite database but not a backup of this desk")
    engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        with engine.connect() as checked:
            missing = missing_audit_protections(checked)
    finally:
        engine.dispose()
    if missing:
        raise BackupFailed(_unprotected(missing))


def _unprotected(missing: list[str]) -> str:
    return (f"the backup's audit trail is not protected (missing trigger(s) {', '.join(missing)}); "
            "it may have been altered, so it is not restored")


def _check_pg_archive(listing: str, env: dict[str, str], backup: Path) -> None:
    """The archive must hold the audit triggers its schema revision has (an older revision is
    brought up to date, triggers included, by the migrations that run after the restore)."""
    from alembic.script import ScriptDirectory

    from desk.database import alembic_config

    data = _run(["pg_restore", "--data-only", "--table=alembic_version", "--file=-", str(backup)], env)
    lines = data.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("COPY") and "alembic_version" in line), None)
    revision = lines[start + 1].strip() if start is not None and start + 1 < len(lines) else ""
    if not revision or revision == "\\.":
        raise BackupFailed("the file is a pg_dump archive but not a backup of this desk")
    script = ScriptDirectory.from_config(alembic_config("postgresql://"))
    required: tuple[str, ...] = AUDIT_TRIGGERS["postgresql"]
    if revision not in script.get_heads():
        required = ("audit_event_no_change",)  # present since the first schema
    present = {parts[6] for parts in (line.split() for line in listing.splitlines())
               if len(parts) >= 7 and parts[3] == "TRIGGER" and parts[5] == "audit_event"}
    missing = [name for name in required if name not in present]
    if missing:
        raise BackupFailed(_unprotected(missing))


def restore_database(*, url: str, backup: Path, actor: str = SYSTEM_ACTOR) -> None:
    """Replace the database at `url` with the contents of `backup` (checked first; all or nothing),
    bring it to the newest schema and record the restore in its audit trail."""
    if not backup.is_file():
        raise BackupFailed("the backup file does not exist")
    with backup.open("rb") as stream:
        digest = hashlib.file_digest(stream, "sha256").hexdigest()
    if url.startswith("sqlite"):
        _check_sqlite_backup(backup)
        target_path = _sqlite_path(url)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target_path.parent) as scratch:
            # Migrated and checked on a private copy first, so a backup that fails either never
            # replaces the live file.
            staged = Path(scratch) / "staged.sqlite3"
            create_private_file(staged)
            _sqlite_copy(f"file:{backup}?mode=ro", staged)
            migrate(f"sqlite:///{staged}")
            create_private_file(target_path)
            _sqlite_copy(f"file:{staged}?mode=ro", target_path)
    elif url.startswith("postgresql"):
        args, env = _pg_args(url)
        listing = subprocess.run(["pg_restore", "--list", str(backup)], capture_output=True, text=True,
                                 check=False)
        if listing.returncode != 0:
            raise BackupFailed("the file is not a pg_dump archive")
        _check_pg_archive(listing.stdout, env, backup)
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              "--exit-on-error", *args, str(backup)], env)
    else:
        raise BackupFailed("restores support SQLite and PostgreSQL URLs only")
    migrate(url)
    engine = make_engine(url)
    try:
        with unit_of_work(engine, actor=actor) as session:
            record_event(session, action="restore", entity="database",
                         detail=f"from a backup of {backup.stat().st_size} bytes, sha256 {digest[:16]}")
    finally:
        engine.dispose()


def _sqlite_copy(source_uri: str, target: Path) -> None:
    source = sqlite3.connect(source_uri, uri=True)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)  # one transaction on the target: readers never see a half-restored file
    finally:
        destination.close()
        source.close()
