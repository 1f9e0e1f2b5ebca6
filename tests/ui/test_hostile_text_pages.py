"""Every page, as every role, on a clinic whose free-text fields all hold hostile text: nothing is drawn as markup."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from desk.database import make_engine
from desk.demo import load_demo
from desk.models import Patient, PriorAuthCase, TreatmentSession
from desk.navigation import PAGES
from tests.hostile_text import MARKER, fill_with_hostile_text, markdown_strings, raw_markup_in
from tests.ui.conftest import AppFactory
from tests.ui.screen import every_record_tab_shown, shown

# Pages that show one chosen record in markdown (lists show records in tables, which draw no markup).
SHOWS_HOSTILE_TEXT = {"pages/patient_record.py", "pages/prior_auth.py", "pages/rems_sessions.py"}
PAGE_ROLES = [(page.path, role) for page in PAGES for role in ("admin", "billing", "nurse") if role in page.roles]


@pytest.fixture(scope="module")
def hostile_template(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """A SQLite file holding the demo clinic with every free-text field overwritten by the hostile corpus."""
    path = tmp_path_factory.mktemp("hostile") / "hostile.sqlite3"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    load_demo(engine)
    fill_with_hostile_text(engine)
    engine.dispose()
    return path


@pytest.fixture
def hostile_db(hostile_template: Path, app_db: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """The app's database replaced by a copy of the hostile clinic, served in demo mode."""
    monkeypatch.setenv("DESK_DEMO", "1")
    target = Path(str(app_db.url.database))
    app_db.dispose()
    shutil.copy(hostile_template, target)
    return app_db


def _nodes(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _nodes(child)


def _markdown_of(at: AppTest) -> list[str]:
    texts: list[str] = []
    for node in _nodes(at._tree):
        proto = getattr(node, "proto", None)
        if proto is not None:
            texts += markdown_strings(proto, type(proto).__name__)
    return texts


def _open(page_app: AppFactory, engine: Engine, path: str, role: str) -> AppTest:
    at = page_app("app.py", roles=(role,), username=f"hostile-{role}").run()
    with Session(engine) as session:
        patient = session.exec(select(Patient).order_by(Patient.id)).first()
        case = session.exec(select(PriorAuthCase).order_by(PriorAuthCase.id)).first()
        treatment = session.exec(select(TreatmentSession).order_by(TreatmentSession.id.desc())).first()  # type: ignore[union-attr]
    assert patient and case and treatment
    at.session_state["patient_id"] = patient.id
    at.session_state["pa_case_id"] = case.id
    at.query_params["session"] = str(treatment.id)
    at = at.switch_page(path).run()
    return every_record_tab_shown(at) if path == "pages/patient_record.py" else at


@pytest.mark.parametrize(("path", "role"), PAGE_ROLES)
def test_no_page_draws_stored_text_as_markup(page_app: AppFactory, hostile_db: Engine, path: str, role: str) -> None:
    at = _open(page_app, hostile_db, path, role)
    assert not at.exception, [e.value for e in at.exception]
    texts = _markdown_of(at)
    assert texts, "the page drew nothing"
    assert raw_markup_in(texts) == []
    if path in SHOWS_HOSTILE_TEXT:
        assert any(MARKER in shown(text) for text in texts), "the hostile records were not on screen"
