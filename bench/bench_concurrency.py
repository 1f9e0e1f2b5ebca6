"""concurrency: 8 processes x 200 saves on the same PA cases and on the same REMS sessions, SQLite and PostgreSQL.

Every save goes through the real service with expected_version; stale ones are refused and retried (see
tests/contention.py). Reports attempts, conflicts (refused stale saves), retries, lost updates and seconds.
PostgreSQL uses a scratch database on DESK_TEST_PG (default postgresql+psycopg://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bench.common import Result
from desk.database import make_engine, migrate
from tests import contention

PG_SERVER = os.environ.get("DESK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
# Worker n starts on row n, so at any moment two workers share each row (8 workers over 4 rows).
ROWS = 4


@contextmanager
def _sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        migrate(url)
        yield url


@contextmanager
def _postgres() -> Iterator[str]:
    name = f"desk_bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(f"{PG_SERVER}/postgres").execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = f"{PG_SERVER}/{name}"
        migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _postgres_answers() -> bool:
    try:
        engine = make_engine(f"{PG_SERVER}/postgres")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except OperationalError:
        print(f"concurrency: no PostgreSQL at {PG_SERVER}; PostgreSQL figures skipped", file=sys.stderr)
        return False


def run(quick: bool) -> Iterator[Result]:
    workers, updates = (4, 25) if quick else (8, 200)
    databases = [("sqlite", _sqlite)] + ([("postgresql", _postgres)] if _postgres_answers() else [])
    for database, scratch in databases:
        with scratch() as url:
            ids = contention.prepare(url, rows=ROWS)
            for kind in contention.KINDS:
                outcome = contention.run(url, kind=kind, row_ids=ids[kind], workers=workers, updates=updates)
                counts = outcome.counts
                name = f"{database}_{kind}"
                yield Result("concurrency", f"{name}_saves", counts.saved, f"saves ({workers}x{updates})")
                yield Result("concurrency", f"{name}_attempts", counts.attempts, "attempts")
                yield Result("concurrency", f"{name}_conflicts", counts.conflicts, "refused stale saves")
                yield Result("concurrency", f"{name}_retries", counts.retries, "retries")
                yield Result("concurrency", f"{name}_lost_updates", outcome.lost_updates, "lost updates")
                yield Result("concurrency", f"{name}_seconds", outcome.seconds, "s")
