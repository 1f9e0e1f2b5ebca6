"""The audit trail: every write recorded with field names only, explicit events, CSV export, append-only."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from desk.audit import (
    AUDIT_COLUMNS,
    audit_facets,
    export_audit_csv,
    list_audit_events,
    record_event,
    utc_day_bounds,
)
from desk.auth import sign_in_with_password
from desk.database import unit_of_work
from desk.errors import SignInFailed
from desk.models import AuditEvent, Patient, Site, utcnow
from desk.sites import SiteDetails, create_site, update_site
from desk.users import create_user
from tests.factories import make_patient, make_site, make_user


def _all(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).order_by(AuditEvent.id)))


def test_create_update_delete_record_field_names_without_values(engine: Engine) -> None:
    with unit_of_work(engine, actor="dana") as session:
        site = make_site(session)
        patient = make_patient(session, site=site, first_name="Quincy", last_name="Zebulon", dob=date(1971, 3, 9))
        patient_id = patient.id
    with unit_of_work(engine, actor="dana") as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        patient.last_name = "Yarrow"
        patient.phone = "217-555-0199"
    with unit_of_work(engine, actor="erin") as session:
        patient = session.get(Patient, patient_id)
        session.delete(patient)

    events = [e for e in _all(engine) if e.entity == "patient"]
    assert [(e.actor, e.action, e.entity_id) for e in events] == [
        ("dana", "create", str(patient_id)),
        ("dana", "update", str(patient_id)),
        ("erin", "delete", str(patient_id)),
    ]
    assert {"first_name", "last_name", "dob", "mrn"} <= set(events[0].fields.split(","))
    assert events[1].fields == "last_name,phone"
    assert events[2].fields == ""
    dumped = " ".join(f"{e.fields} {e.detail} {e.entity_id}" for e in _all(engine))
    for value in ("Quincy", "Zebulon", "Yarrow", "1971", "555-0199"):
        assert value not in dumped


def test_service_writes_are_audited(engine: Engine, fast_hasher: PasswordHasher) -> None:
    with unit_of_work(engine, actor="admin1") as session:
        site = create_site(session, details=SiteDetails(name="East"))
        create_user(session, username="kim", display_name="Kim", roles=["nurse"], password="long enough pass",
                    hasher=fast_hasher)
    with unit_of_work(engine, actor="admin1") as session:
        assert site.id is not None
        update_site(session, site_id=site.id, expected_version=1, details=SiteDetails(name="East", city="Salem"))
    rows = [(e.actor, e.action, e.entity, e.fields) for e in _all(engine)]
    assert ("admin1", "update", "site", "city") in rows
    user_create = next(r for r in rows if r[2] == "user")
    assert user_create[1] == "create" and "password_hash" in user_create[3]
    assert all("$argon2" not in e.fields + e.detail for e in _all(engine))


def test_nothing_is_written_without_an_actor(engine: Engine) -> None:
    with pytest.raises(RuntimeError, match="without an actor"), Session(engine) as session:
        session.add(Site(name="Nowhere"))
        from desk.audit import install_audit_hook

        install_audit_hook(session)
        session.flush()
    with Session(engine) as session:
        assert session.exec(select(Site)).all() == []


def test_sign_in_and_failed_sign_in_are_recorded(engine: Engine, fast_hasher: PasswordHasher) -> None:
    with unit_of_work(engine, actor="tester") as session:
        make_user(session, hasher=fast_hasher, username="lee")
    sign_in_with_password(engine, username="lee", password="correct horse battery", hasher=fast_hasher)
    with pytest.raises(SignInFailed):
        sign_in_with_password(engine, username="lee", password="guess", hasher=fast_hasher)
    actions = [(e.actor, e.action) for e in _all(engine) if e.action.startswith("sign_in")]
    assert actions == [("lee", "sign_in"), ("lee", "sign_in_failed")]
    assert all("guess" not in e.detail for e in _all(engine))


def test_export_is_audited_and_filtered(engine: Engine) -> None:
    with unit_of_work(engine, actor="ann") as session:
        record_event(session, action="download", entity="pdf", entity_id=1, detail="pmf")
        record_event(session, action="download", entity="pdf", entity_id=2, detail="pmf")
    with unit_of_work(engine, actor="bob") as session:
        record_event(session, action="view", entity="patient", entity_id=3)
    with unit_of_work(engine, actor="admin9") as session:
        exported = export_audit_csv(session, actor="ann")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert tuple(rows[0]) == AUDIT_COLUMNS
    assert [(r["actor"], r["entity_id"]) for r in rows] == [("ann", "2"), ("ann", "1")]
    export = _all(engine)[-1]
    assert (export.actor, export.action, export.entity, export.detail) == ("admin9", "export", "audit_event",
                                                                           "csv, 2 rows")


def test_list_filters_and_day_bounds(engine: Engine) -> None:
    with unit_of_work(engine, actor="ann") as session:
        record_event(session, action="download", entity="pdf")
        record_event(session, action="export", entity="patient")
    with Session(engine) as session:
        assert [e.entity for e in list_audit_events(session, action="export")] == ["patient"]
        assert [e.action for e in list_audit_events(session, entity="pdf")] == ["download"]
        assert list_audit_events(session, actor="nobody") == []
        today = utcnow().date()
        since, until = utc_day_bounds(today, today)
        assert len(list_audit_events(session, since=since, until=until)) == 2
        since, until = utc_day_bounds(today - timedelta(days=3), today - timedelta(days=1))
        assert list_audit_events(session, since=since, until=until) == []
        assert audit_facets(session) == {"actor": ["ann"], "action": ["download", "export"],
                                         "entity": ["patient", "pdf"]}
    assert utc_day_bounds(None, None) == (None, None)
    since, until = utc_day_bounds(date(2026, 1, 2), date(2026, 1, 2))
    assert since is not None and until is not None
    assert until - since == timedelta(days=1) - timedelta(microseconds=1)
    assert isinstance(since, datetime) and since.tzinfo is not None


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET actor = 'someone else'", "DELETE FROM audit_event"])
def test_database_refuses_to_change_audit_rows(engine: Engine, statement: str) -> None:
    with unit_of_work(engine, actor="ann") as session:
        record_event(session, action="download", entity="pdf")
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    [event] = _all(engine)
    assert event.actor == "ann"
