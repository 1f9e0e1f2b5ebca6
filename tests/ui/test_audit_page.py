"""The audit log screen: rows, filters, export button (the export itself is tested in tests/desk/test_audit.py)."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from desk.audit import record_event
from desk.database import unit_of_work
from desk.models import AuditEvent
from tests.ui.conftest import AppFactory
from tests.ui.screen import shown

PAGE = "pages/audit_log.py"


def _seed(engine: Engine) -> None:
    with unit_of_work(engine, actor="nina") as session:
        record_event(session, action="download", entity="pdf", entity_id=4, detail="pmf")
    with unit_of_work(engine, actor="omar") as session:
        record_event(session, action="sign_in", entity="user", entity_id=9)


def test_admin_sees_rows_newest_first(page_app: AppFactory, app_db: Engine) -> None:
    at = page_app(PAGE, roles=("admin",))
    _seed(app_db)
    at.run()
    assert not at.exception
    frame = at.dataframe[0].value
    # Starting the desk records the payer files it read (actor "system"); the people's rows follow newest first.
    assert [a for a in frame["User"] if a != "system"][:2] == ["omar", "nina"]
    assert {"Row", "At", "User", "Action", "Record type", "Record", "Fields", "Detail"} <= set(frame.columns)
    # Times in the clinic's zone, MM/DD/YYYY HH:MM: no ISO dates or UTC offsets.
    assert all(re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", str(v)) for v in frame["At"])


def test_filters_narrow_the_rows(page_app: AppFactory, app_db: Engine) -> None:
    at = page_app(PAGE, roles=("admin",))
    _seed(app_db)
    at.run()
    next(s for s in at.selectbox if s.label == "User").set_value("nina")
    at.run()
    frame = at.dataframe[0].value
    assert list(frame["User"]) == ["nina"] and list(frame["Action"]) == ["download"]
    next(s for s in at.selectbox if s.label == "User").set_value("(any)")
    next(s for s in at.selectbox if s.label == "Action").set_value("sign_in")
    at.run()
    assert list(at.dataframe[0].value["User"]) == ["omar"]


def test_no_rows_in_the_chosen_days(page_app: AppFactory, app_db: Engine) -> None:
    at = page_app(PAGE, roles=("admin",))
    _seed(app_db)
    at.run()
    next(d for d in at.date_input if d.label == "Between").set_value((date(2020, 1, 1), date(2020, 1, 31)))
    at.run()
    assert shown(at.info[0].value) == "No audit rows match these filters."


def test_export_button_is_offered_and_viewing_writes_nothing(page_app: AppFactory, app_db: Engine) -> None:
    at = page_app(PAGE, roles=("admin",))
    _seed(app_db)
    at.run()
    at.run()
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == ["Export CSV"]
    # Rendering the page is not an export: only a click on the button records one.
    with Session(app_db) as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "export")).all() == []
