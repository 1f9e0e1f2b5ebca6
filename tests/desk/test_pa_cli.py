"""`python -m desk pa packet|appeal`: the audited export of what is sent, and its refusals."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from desk.database import make_engine
from desk.demo import load_demo
from desk.models import AuditEvent
from desk.models.prior_auth import PriorAuthCase
from desk.prior_auth.compose import APPEALABLE

ROOT = Path(__file__).resolve().parent.parent.parent


def _run(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": db_url, "DESK_DEMO": "1"}
    return subprocess.run([sys.executable, "-m", "desk", "pa", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=180)


def _audit_rows(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(AuditEvent)).all())


def _case_ids(engine: Engine) -> tuple[int, int]:
    """A denied demo case (it has an appeal letter) and one that is not denied (it has none)."""
    with Session(engine) as session:
        cases = session.exec(select(PriorAuthCase).order_by(col(PriorAuthCase.id))).all()
    denied = next(c.id for c in cases if c.status in APPEALABLE)
    other = next(c.id for c in cases if c.status not in APPEALABLE)
    assert denied is not None and other is not None
    return denied, other


@pytest.mark.parametrize(("kind", "heading"), [("packet", "Fax cover sheet"), ("appeal", "Appeal")])
def test_the_document_is_written_whole_and_audited_and_bad_input_writes_nothing(
        sqlite_url: str, tmp_path: Path, kind: str, heading: str) -> None:
    engine = make_engine(sqlite_url)
    load_demo(engine)
    denied, not_denied = _case_ids(engine)
    case = str(denied if kind == "appeal" else not_denied)
    before = _audit_rows(engine)
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / f"{kind}.pdf"
    done = _run(sqlite_url, kind, "--case", case, "--out", str(out), "--user", "billing")
    assert done.returncode == 0, done.stderr
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert heading in text and "SPRAVATO" in text
    assert json.loads(done.stdout)["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    after = _audit_rows(engine)
    assert after > before, "the export is audited"

    refusals = [
        (("--case", case, "--out", str(folder / "missing" / "p.pdf"), "--user", "billing"), "does not exist"),
        (("--case", case, "--out", str(folder / "q.pdf"), "--user", "nobody"), "no active account"),
        (("--case", case, "--out", str(folder / "r.pdf"), "--user", "nurse"), "billing or admin role"),
        (("--case", "99999", "--out", str(folder / "s.pdf"), "--user", "billing"), "No prior-authorization case"),
    ]
    if kind == "appeal":
        refusals.append((("--case", str(not_denied), "--out", str(folder / "t.pdf"), "--user", "billing"),
                         "needs a denied case"))
    for args, message in refusals:
        refused = _run(sqlite_url, kind, *args)
        assert refused.returncode != 0 and message in refused.stderr, refused.stderr
    assert sorted(p.name for p in folder.iterdir()) == [out.name]
    assert _audit_rows(engine) == after, "refusals write nothing"
    engine.dispose()
