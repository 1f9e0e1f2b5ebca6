"""`python -m desk rems forms`: the audited bundle of ready monitoring forms, and clear refusals that write nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher
from pypdf import PdfReader
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from desk.cli import main
from desk.models import AuditEvent
from desk.rems.sessions import record_session
from tests.desk.rems.conftest import NOW, NURSE, full_session
from tests.factories import make_user


def _exports(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(AuditEvent)
                                .where(AuditEvent.action == "export")).one())


@pytest.fixture
def ready(session: Session, enrolled: tuple[int, int, int], settings, fast_hasher: PasswordHasher,  # type: ignore[no-untyped-def]
          db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """One ready session on 2026-03-10, a nurse account 'formnurse' and a deactivated 'gone'; the CLI points here."""
    record_session(session, user=NURSE, data=full_session(*enrolled), now=NOW, settings=settings)
    make_user(session, hasher=fast_hasher, roles="nurse", username="formnurse")
    make_user(session, hasher=fast_hasher, roles="nurse", username="gone", active=False)
    session.commit()
    monkeypatch.setenv("DATABASE_URL", db_url)


def _run(tmp_path: Path, *args: str) -> tuple[int, Path]:
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "forms.pdf"
    return main(["rems", "forms", "--out", str(out), *args]), out


def test_writes_the_forms_and_audits_the_export(ready: None, engine: Engine, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(tmp_path, "--start", "2026-03-01", "--end", "2026-03-31", "--user", "FormNurse")
    assert code == 0
    assert len(PdfReader(out).pages) >= 1
    captured = capsys.readouterr()
    assert '"forms": 1' in captured.out and "filled 1 of 1 forms" in captured.err
    assert _exports(engine) == 1
    assert sorted(p.name for p in out.parent.iterdir()) == ["forms.pdf"]


@pytest.mark.parametrize(("args", "message"), [
    (("--start", "2026-03-01", "--end", "2026-03-31", "--user", "nobody"), "--user: no active account"),
    (("--start", "2026-03-01", "--end", "2026-03-31", "--user", "gone"), "--user: no active account"),
    (("--start", "2026-04-01", "--end", "2026-04-30", "--user", "formnurse"), "no monitoring form is ready"),
    (("--start", "2026-03-31", "--end", "2026-03-01", "--user", "formnurse"), "end: the end date is before"),
])
def test_refusals_write_nothing(ready: None, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                args: tuple[str, ...], message: str) -> None:
    code, out = _run(tmp_path, *args)
    assert code == 1
    assert message in capsys.readouterr().err
    assert list(out.parent.iterdir()) == []
    assert _exports(engine) == 0
