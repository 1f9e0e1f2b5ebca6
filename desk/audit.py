"""Audit trail: every ORM write is recorded automatically, plus explicit events (sign-in, export)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, insert, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel, col, select

from desk.errors import DeskError
from desk.models import AuditEvent, utcnow

_HOOKED = "audit_hook_installed"


def install_audit_hook(session: Session) -> None:
    """Make every flush of `session` write one audit row per created, changed or deleted record (and give each
    patient whose rows it wrote a new facts version: desk/facts_version.py)."""
    from desk.facts_version import install_facts_hook

    install_facts_hook(session)  # the same writes give the patients they touch a new facts version
    if session.info.get(_HOOKED):
        return
    event.listen(session, "after_flush", _audit_flush)
    session.info[_HOOKED] = True


def _entity_name(obj: Any) -> str:
    return str(getattr(obj, "__tablename__", type(obj).__name__.lower()))


def _identity(obj: Any) -> str:
    state = inspect(obj)
    key = state.identity or state.mapper.primary_key_from_instance(obj)
    return ",".join(str(k) for k in key if k is not None)


def _changed_fields(obj: Any) -> list[str]:
    state = inspect(obj)
    names = []
    for attr in state.mapper.column_attrs:
        if attr.key in ("version", "id"):
            continue
        if state.attrs[attr.key].history.has_changes():
            names.append(attr.key)
    return names


def _audit_flush(session: Session, _context: Any) -> None:
    actor = session.info.get("actor")
    if not actor:
        raise RuntimeError("refusing to write without an actor: every write is audited")
    rows: list[dict[str, Any]] = []
    at = utcnow()
    for action, objects in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            if isinstance(obj, AuditEvent) or not isinstance(obj, SQLModel):
                continue
            if action == "update" and not session.is_modified(obj, include_collections=False):
                continue
            fields = _changed_fields(obj) if action != "delete" else []
            if action == "update" and not fields:
                continue
            rows.append(
                {
                    "at": at,
                    "actor": str(actor),
                    "action": action,
                    "entity": _entity_name(obj),
                    "entity_id": _identity(obj),
                    "fields": ",".join(sorted(fields)),
                    "detail": "",
                }
            )
    if rows:
        session.connection().execute(insert(AuditEvent), rows)


def record_event(
    session: Session,
    *,
    action: str,
    entity: str,
    entity_id: str | int = "",
    detail: str = "",
) -> None:
    """Record an action that is not a row write (sign-in, export, download). `detail` must hold no PHI."""
    session.add(
        AuditEvent(
            actor=str(session.info.get("actor", "")) or "anonymous",
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            detail=detail,
        )
    )


def list_audit_events(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    entity: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
) -> Sequence[AuditEvent]:
    """Audit rows, newest first, filtered by any of the given facets."""
    query = select(AuditEvent)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if action:
        query = query.where(AuditEvent.action == action)
    if entity:
        query = query.where(AuditEvent.entity == entity)
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at <= until)
    query = query.order_by(col(AuditEvent.id).desc()).limit(limit)
    return session.exec(query).all()


AUDIT_COLUMNS = ("id", "at", "actor", "action", "entity", "entity_id", "fields", "detail")


def audit_events_csv(events: Sequence[AuditEvent]) -> str:
    """The given audit rows as CSV text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(AUDIT_COLUMNS)
    for item in events:
        writer.writerow([getattr(item, name) for name in AUDIT_COLUMNS])
    return buffer.getvalue()


def export_audit_csv(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    entity: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100_000,
) -> str:
    """The filtered audit rows as CSV; the export itself is audited (exports are reads worth recording)."""
    events = list_audit_events(
        session, actor=actor, action=action, entity=entity, since=since, until=until, limit=limit
    )
    record_event(session, action="export", entity="audit_event", detail=f"csv, {len(events)} rows")
    return audit_events_csv(events)


def utc_day_bounds(first: date | None, last: date | None, timezone: str = "UTC"
                   ) -> tuple[datetime | None, datetime | None]:
    """[start of `first`, end of `last`] as UTC moments, for filtering by calendar days of `timezone` (the clinic's
    days on screen; both ends inclusive)."""
    zone = ZoneInfo(timezone)
    since = datetime.combine(first, time.min, tzinfo=zone).astimezone(UTC) if first else None
    until = datetime.combine(last, time.max, tzinfo=zone).astimezone(UTC) if last else None
    return since, until


def audit_facets(session: Session) -> dict[str, list[str]]:
    """The distinct actors, actions and entities present, for filter pickers."""
    return {
        name: sorted(str(v) for v in session.exec(select(column).distinct()).all())
        for name, column in (("actor", AuditEvent.actor), ("action", AuditEvent.action), ("entity", AuditEvent.entity))
    }


def audit_trigger_sql(dialect: str) -> list[str]:
    """DDL that makes the audit table append-only at the database level."""
    if dialect == "sqlite":
        return [
            "CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_event "
            "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
            "CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_event "
            "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
        ]
    return [
        "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'audit_event is append-only'; END; $$ LANGUAGE plpgsql",
        "DROP TRIGGER IF EXISTS audit_event_no_change ON audit_event",
        "CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    ]


def audit_truncate_guard_sql() -> list[str]:
    """PostgreSQL DDL refusing TRUNCATE of the audit table (row triggers do not fire on TRUNCATE)."""
    return [
        "CREATE OR REPLACE FUNCTION audit_event_no_truncate() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'audit_event is append-only: TRUNCATE is refused'; END; $$ LANGUAGE plpgsql",
        "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event",
        "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_no_truncate()",
    ]


# The triggers that keep the audit table append-only, per dialect (created by the migrations).
AUDIT_TRIGGERS: dict[str, tuple[str, ...]] = {
    "sqlite": ("audit_event_no_update", "audit_event_no_delete"),
    "postgresql": ("audit_event_no_change", "audit_event_no_truncate"),
}


class AuditUnprotected(DeskError):
    """The audit table lacks a trigger that keeps it append-only; the desk does not run on it."""

    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = tuple(missing)
        super().__init__(
            "the audit trail is not protected: missing or disabled trigger(s) "
            f"{', '.join(self.missing)} on audit_event. The desk will not start on this database. "
            "Restore a backup that has them, or recreate them as the database owner "
            "(README, section 'Audit trail')."
        )


def missing_audit_protections(connection: Connection) -> list[str]:
    """The names of the audit triggers that are absent, disabled or no longer refuse the change."""
    dialect = connection.dialect.name
    required = AUDIT_TRIGGERS.get(dialect, ())
    if dialect == "sqlite":
        rows = connection.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'"
        )).all()
        working = {str(name) for name, sql in rows if "RAISE(ABORT" in str(sql).upper().replace(" ", "")}
    elif dialect == "postgresql":
        rows = connection.execute(text(
            "SELECT t.tgname, p.prosrc FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE t.tgrelid = to_regclass('audit_event') AND NOT t.tgisinternal AND t.tgenabled <> 'D'"
        )).all()
        working = {str(name) for name, source in rows if "RAISE EXCEPTION" in str(source).upper()}
    else:
        return []
    return [name for name in required if name not in working]


def ensure_audit_protected(engine: Engine) -> None:
    """Raise AuditUnprotected unless every audit trigger is in place and enabled."""
    with engine.connect() as connection:
        missing = missing_audit_protections(connection)
    if missing:
        raise AuditUnprotected(missing)


_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def app_role_grants_sql(role: str) -> list[str]:
    """PostgreSQL statements, run by the owner after every migration, that let the application role
    read and write the desk's tables but only INSERT and SELECT audit rows (no UPDATE, DELETE,
    TRUNCATE; DROP and ALTER belong to the owner alone)."""
    if not _ROLE_NAME.match(role):
        raise ValueError("a role name is lower-case letters, digits and underscores")
    return [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"REVOKE ALL ON audit_event FROM {role}",
        f"GRANT SELECT, INSERT ON audit_event TO {role}",
        f"REVOKE ALL ON alembic_version FROM {role}",
        f"GRANT SELECT ON alembic_version TO {role}",
    ]


def engine_dialect(engine: Engine) -> str:
    return engine.dialect.name
