"""`python -m desk pa packet|appeal`: the audited export of what is sent, and its refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session, select

from desk.database import make_engine
from desk.demo import load_demo
from desk.models import AuditEvent

ROOT = Path(__file__).resolve().parent.parent.parent


def _run(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": db_url, "DESK_DEMO": "1"}
    return subprocess.run([sys.executable, "-m", "desk", "pa", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=180)


def test_packet_is_written_whole_and_audited_and_bad_input_writes_nothing(sqlite_url: str, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url)
    load_demo(engine)
    with Session(engine) as session:
        before = len(session.exec(select(AuditEvent)).all())
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "packet.pdf"
    done = _run(sqlite_url, "packet", "--case", "1", "--out", str(out), "--user", "billing")
    assert done.returncode == 0, done.stderr
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "Fax cover sheet" in text and "SPRAVATO" in text
    with Session(engine) as session:
        after = len(session.exec(select(AuditEvent)).all())
    assert after > before, "the export is audited"

    for args, message in (
        (("--out", str(folder / "missing" / "p.pdf"), "--user", "billing"), "does not exist"),
        (("--out", str(folder / "q.pdf"), "--user", "nobody"), "no active account"),
        (("--out", str(folder / "r.pdf"), "--user", "nurse"), "billing or admin role"),
    ):
        refused = _run(sqlite_url, "packet", "--case", "1", *args)
        assert refused.returncode != 0 and message in refused.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["packet.pdf"]
    with Session(engine) as session:
        assert len(session.exec(select(AuditEvent)).all()) == after, "refusals write nothing"
    engine.dispose()
