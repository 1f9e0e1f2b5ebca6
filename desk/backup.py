"""Consistent online backups and restores: SQLite's backup API, pg_dump/pg_restore for PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

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


def _run(command: list[str], env: dict[str, str]) -> None:
    import os

    tool = command[0]
    if shutil.which(tool) is None:
        raise BackupFailed(f"{tool} is not installed (Debian package postgresql-client)")
    result = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last_line = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupFailed(f"{tool} failed: {last_line}")


def backup_database(*, url: str, out: Path) -> Path:
    """Write a consistent copy of the live database to `out` (a SQLite file or a pg_dump archive)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
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


def restore_database(*, url: str, backup: Path) -> None:
    """Replace the database at `url` with the contents of `backup` (checked first; all or nothing)."""
    if not backup.is_file():
        raise BackupFailed("the backup file does not exist")
    if url.startswith("sqlite"):
        _check_sqlite_backup(backup)
        target_path = _sqlite_path(url)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
        target = sqlite3.connect(target_path)
        try:
            source.backup(target)  # one transaction on the target: readers never see a half-restored file
        finally:
            target.close()
            source.close()
    elif url.startswith("postgresql"):
        args, env = _pg_args(url)
        listing = subprocess.run(["pg_restore", "--list", str(backup)], capture_output=True, check=False)
        if listing.returncode != 0:
            raise BackupFailed("the file is not a pg_dump archive")
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              "--exit-on-error", *args, str(backup)], env)
    else:
        raise BackupFailed("restores support SQLite and PostgreSQL URLs only")
