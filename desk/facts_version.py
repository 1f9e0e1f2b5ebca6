"""The facts version of a patient: changes with every write that can change what an evaluation reads.

Generic on purpose: in the audited unit of work (desk/audit.py installs `install_facts_hook` with the audit hook),
every created, changed or deleted row that belongs to a patient gives that patient a new version:

- the patient row itself, and any row with a `patient_id` (coverages, diagnoses, trials, scores, medications,
  stays, REMS enrollment, treatment courses and sessions, PA cases and authorizations, imported history, ...);
  when `patient_id` itself changes, both the old and the new patient;
- rows of a PA case (`case_id`: signoffs, attachments, status changes, ...): the case's patient;
- rows of a treatment session (`treatment_session_id`: devices, readings, amendments): the session's patient.

Rows shared by many patients (sites: REMS certification; prescribers: specialty) change the `shared` version,
which every patient's key includes; so does a write whose patient cannot be told (a link column not loaded).
A new table linked to a patient by one of those columns is covered without changes here; a table linked to
patients some other way must be added to `_patients_of`.

The new versions are written at commit, in the same transaction as the rows (a rolled-back write changes no
version). They are random 63-bit numbers, not counters, so no number is ever given twice. A session that has
written facts in its open transaction is marked (`facts_written`) until it commits or rolls back: readers must not
cache what they read through it (the write may still be rolled back).
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel, col

from desk.models import (
    SHARED_SCOPE,
    AuditEvent,
    FactsVersion,
    Patient,
    Prescriber,
    PriorAuthCase,
    Site,
    TreatmentSession,
)

_HOOKED = "facts_hook_installed"
WRITTEN = "facts_written"
_PENDING = "facts_scopes_pending"  # scopes written by this transaction's flushes, versioned at commit
_COMMITTING = "facts_committing"
_READ = "facts_versions_read"  # versions read in the open transaction, by patient (one query per page, not per payer)
_SHARED_MODELS = (Site, Prescriber)


def patient_scope(patient_id: int) -> str:
    return f"patient:{patient_id}"


def install_facts_hook(session: Session) -> None:
    """Make every commit of `session` give a new facts version to each patient whose rows its flushes wrote."""
    if session.info.get(_HOOKED):
        return
    event.listen(session, "after_flush", _collect_after_flush)
    event.listen(session, "before_commit", _write_before_commit)
    event.listen(session, "after_commit", _forget_transaction)
    event.listen(session, "after_rollback", _forget_transaction)
    session.info[_HOOKED] = True


def _forget_transaction(session: Session) -> None:
    for name in (WRITTEN, _READ, _PENDING, _COMMITTING):
        session.info.pop(name, None)


def _write_before_commit(session: Session) -> None:
    # Versions are written last, just before the commit: the rows they lock (one per patient) are held for an
    # instant, so two people writing the same patient's record never wait on each other in the middle of a
    # transaction (and cannot deadlock there).
    session.flush()
    session.info[_COMMITTING] = True
    _write_pending(session)


def _write_pending(session: Session) -> None:
    scopes: set[str] = session.info.pop(_PENDING, set())
    if scopes:
        bump(session, scopes=scopes)


def _values(obj: Any, name: str) -> set[int] | None:
    """The attribute's value and, for a changed row, the value it had before; None when not loaded (unknown)."""
    state = inspect(obj)
    history = state.attrs[name].history
    found = {v for v in (*history.added, *history.unchanged, *history.deleted) if isinstance(v, int)}
    current = state.dict.get(name)
    if isinstance(current, int):
        found.add(current)
    return found if found or name in state.dict else None


def _patients_of(session: Session, obj: Any) -> set[int] | None:
    """The patients whose facts a write to `obj` can change; None when it can change anyone's (the shared scope)."""
    if isinstance(obj, _SHARED_MODELS):
        return None
    if isinstance(obj, Patient):
        return _values(obj, "id")
    names = set(inspect(obj).mapper.column_attrs.keys())
    if "patient_id" in names:
        return _values(obj, "patient_id")
    patients: set[int] = set()
    for name, parent in (("case_id", PriorAuthCase), ("treatment_session_id", TreatmentSession)):
        if name not in names:
            continue
        ids = _values(obj, name)
        if ids is None:
            return None
        if ids:
            patients.update(session.connection().execute(
                select(col(parent.patient_id)).where(col(parent.id).in_(sorted(ids)))).scalars())
    return patients


def _collect_after_flush(session: Session, _context: Any) -> None:
    scopes: set[str] = set()
    for changed, objects in ((False, session.new), (True, session.dirty), (False, session.deleted)):
        for obj in objects:
            if isinstance(obj, AuditEvent | FactsVersion) or not isinstance(obj, SQLModel):
                continue
            if changed and not session.is_modified(obj, include_collections=False):
                continue
            patients = _patients_of(session, obj)
            if patients is None:
                scopes.add(SHARED_SCOPE)
            else:
                scopes.update(patient_scope(p) for p in patients)
    if scopes:
        session.info.setdefault(_PENDING, set()).update(scopes)
        session.info[WRITTEN] = True
        session.info.pop(_READ, None)
        if session.info.get(_COMMITTING):  # a flush the commit itself makes after the versions were written
            _write_pending(session)


def bump(session: Session, *, scopes: set[str]) -> None:
    """Give each scope a new random version, in the session's transaction (sorted: no lock-order deadlocks)."""
    connection = session.connection()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    for scope in sorted(scopes):
        version = secrets.randbits(63)
        statement = insert(FactsVersion).values(scope=scope, version=version)
        connection.execute(statement.on_conflict_do_update(index_elements=["scope"], set_={"version": version}))
    session.info[WRITTEN] = True
    session.info.pop(_READ, None)


def facts_version(session: Session, *, patient_id: int) -> tuple[int, int]:
    """The patient's facts version and the shared version (0 for a scope never written since 0013); read once per
    transaction of the session and patient."""
    # Kept only where the hook forgets them at commit and rollback (an unhooked session reads every time).
    read: dict[int, tuple[int, int]] = session.info.setdefault(_READ, {}) if session.info.get(_HOOKED) else {}
    if patient_id in read:
        return read[patient_id]
    rows: dict[str, int] = dict(session.connection().execute(
        select(col(FactsVersion.scope), col(FactsVersion.version))
        .where(col(FactsVersion.scope).in_([patient_scope(patient_id), SHARED_SCOPE]))).all())
    found = read[patient_id] = (rows.get(patient_scope(patient_id), 0), rows.get(SHARED_SCOPE, 0))
    return found


def wrote_facts(session: Session) -> bool:
    """True when the session's open transaction has written facts (not committed yet)."""
    return bool(session.info.get(WRITTEN))
