"""The Alembic migrations build exactly the schema the models declare, on SQLite and PostgreSQL, and carry data.

The data test walks the history from an empty database: at each revision it inserts one row into every table
that revision created, then checks the rows at head, steps down one revision at a time to the base (every row
of a table that still exists must be unchanged) and upgrades back to head (again unchanged).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import desk.models  # noqa: F401
from desk.database import alembic_config, make_engine
from tests.conftest import PG_SERVER, REQUIRE_PG, _postgres_available

Snapshot = dict[str, list[dict[str, Any]]]


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_migration_history_has_a_single_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"merge the heads {heads} into one revision"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def blank_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty, never-migrated database, once on SQLite and once on PostgreSQL (dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.sqlite3'}"
        return
    if not _postgres_available():
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required here (DESK_REQUIRE_POSTGRES=1) but {PG_SERVER} does not answer")
        pytest.skip("no PostgreSQL server answers at 127.0.0.1:5432 (set DESK_TEST_PG to use another)")
    name = f"desk_migrations_{uuid.uuid4().hex[:10]}"
    admin = make_engine(f"{PG_SERVER}/postgres").execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _revisions_oldest_first(config: Any) -> list[str]:
    script = ScriptDirectory.from_config(config)
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def _tables(engine: Engine) -> set[str]:
    return {name for name in sa.inspect(engine).get_table_names() if name != "alembic_version"}


def _value(column: sa.Column[Any], seed: int) -> Any:
    """A synthetic value that fits the reflected column's type."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return seed % 2 == 0
    if isinstance(kind, sa.DateTime):
        return datetime(2026, 1, 1 + seed % 28, 9, seed % 60, tzinfo=UTC)
    if isinstance(kind, sa.Date):
        return date(2026, 2, 1 + seed % 28)
    if isinstance(kind, sa.Integer):
        return seed
    if isinstance(kind, (sa.Float, sa.Numeric)):
        return seed + 0.5
    if isinstance(kind, sa.LargeBinary):
        return f"bytes-{seed}".encode()
    if isinstance(kind, sa.String):
        text = f"v{seed}-{column.name}"
        length = getattr(kind, "length", None)
        return text[:length] if length else text
    if isinstance(kind, sa.JSON):
        return {"seed": seed}
    raise AssertionError(f"no synthetic value for {column.table.name}.{column.name} of type {kind!r}")


def _insert_one_row(engine: Engine, table_name: str, parents: dict[str, int], seed: int) -> int:
    """Insert one row into `table_name` (foreign keys point at the rows inserted before); return its id."""
    table = sa.Table(table_name, sa.MetaData(), autoload_with=engine)
    targets: dict[str, str] = {}
    for fk in table.foreign_keys:
        targets[fk.parent.name] = fk.column.table.name
    values: dict[str, Any] = {}
    for column in table.columns:
        if column.primary_key and isinstance(column.type, sa.Integer) and column.name == "id":
            continue
        if column.name in targets:
            parent = targets[column.name]
            if parent == table_name and column.nullable:
                values[column.name] = None  # a self-reference (e.g. duplicate_of) stays empty on the first row
                continue
            assert parent in parents, f"{table_name}.{column.name} refers to {parent}, which has no row yet"
            values[column.name] = parents[parent]
        else:
            values[column.name] = _value(column, seed + len(values))
    with engine.begin() as conn:
        result = conn.execute(table.insert().values(**values))
        key = result.inserted_primary_key
    return int(key[0]) if key and key[0] is not None else 1


def _parents_first(engine: Engine, names: set[str]) -> list[str]:
    metadata = sa.MetaData()
    metadata.reflect(engine, only=sorted(names))
    return [t.name for t in metadata.sorted_tables]


def _snapshot(engine: Engine, names: set[str]) -> Snapshot:
    metadata = sa.MetaData()
    metadata.reflect(engine, only=sorted(names))
    with engine.connect() as conn:
        return {
            table.name: [dict(row._mapping) for row in conn.execute(sa.select(table).order_by(*table.primary_key))]
            for table in metadata.sorted_tables
        }


def _unchanged(now: Snapshot, before: Snapshot) -> bool:
    """Every row in `now` equals its earlier self, compared on the columns the table still has."""
    def project(rows: list[dict[str, Any]], columns: set[str]) -> list[dict[str, Any]]:
        return [{k: v for k, v in row.items() if k in columns} for row in rows]

    for name, rows in now.items():
        columns = set(rows[0]) if rows else set()
        if project(rows, columns) != project(before[name], columns):
            return False
    return set(now) <= set(before)


def test_upgrade_with_data_in_every_table_then_down_and_up_again(blank_db_url: str) -> None:
    config = alembic_config(blank_db_url)
    engine = make_engine(blank_db_url)
    try:
        revisions = _revisions_oldest_first(config)
        created_at: dict[str, str] = {}
        parents: dict[str, int] = {}
        seed = 1
        for revision in revisions:
            before = _tables(engine)
            command.upgrade(config, revision)
            new = _tables(engine) - before
            for name in new:
                created_at[name] = revision
            for name in _parents_first(engine, _tables(engine)):
                if name in new:
                    parents[name] = _insert_one_row(engine, name, parents, seed)
                    seed += 100
        model_tables = set(SQLModel.metadata.tables)
        assert _tables(engine) == model_tables
        at_head = _snapshot(engine, model_tables)
        assert all(len(rows) == 1 for rows in at_head.values()), {k: len(v) for k, v in at_head.items()}

        # Step down one revision at a time: the tables that remain keep every row unchanged.
        for position in range(len(revisions) - 1, -1, -1):
            command.downgrade(config, "-1")
            remaining = {name for name, revision in created_at.items() if revisions.index(revision) < position}
            assert _tables(engine) == remaining, f"after downgrading {revisions[position]}"
            assert _unchanged(_snapshot(engine, remaining), at_head), f"rows changed downgrading {revisions[position]}"

        # And back to head: the schema matches the models again and new rows go in everywhere.
        command.upgrade(config, "head")
        assert _tables(engine) == model_tables
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
        parents = {}
        for name in _parents_first(engine, model_tables):
            parents[name] = _insert_one_row(engine, name, parents, seed)
            seed += 100
        assert all(len(rows) == 1 for rows in _snapshot(engine, model_tables).values())
    finally:
        engine.dispose()


def test_one_step_down_and_up_keeps_the_rows_of_earlier_revisions(blank_db_url: str) -> None:
    config = alembic_config(blank_db_url)
    engine = make_engine(blank_db_url)
    try:
        revisions = _revisions_oldest_first(config)
        if len(revisions) < 2:
            pytest.skip("a single revision has nothing to step down to")
        command.upgrade(config, revisions[-2])
        earlier = _tables(engine)
        parents: dict[str, int] = {}
        for seed, name in enumerate(_parents_first(engine, earlier), start=1):
            parents[name] = _insert_one_row(engine, name, parents, seed * 100)
        kept = _snapshot(engine, earlier)
        command.upgrade(config, "head")
        assert _unchanged(kept, _snapshot(engine, earlier))
        command.downgrade(config, "-1")
        assert _tables(engine) == earlier
        assert _unchanged(_snapshot(engine, earlier), kept)
        command.upgrade(config, "head")
        assert _unchanged(kept, _snapshot(engine, earlier))
    finally:
        engine.dispose()
