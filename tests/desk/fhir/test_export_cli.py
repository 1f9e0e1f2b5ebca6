"""`python -m desk export fhir-pas|questionnaire` and `import claim-response`: JSON out, one-line refusals, audit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select

from desk.cli import main
from desk.database import make_engine, unit_of_work
from desk.models import AuditEvent
from desk.models.prior_auth import PriorAuthCase
from tests.desk.fhir.conftest import claim_response, export_ready_case


@pytest.fixture
def cli_db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The commands' database: a fresh migrated SQLite file."""
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    return sqlite_url


def _case(url: str, *, status: str = "submitted") -> int:
    engine = make_engine(url)
    with unit_of_work(engine, actor="setup") as session:
        case = export_ready_case(session)
        case.status = status
        session.add(case)
        session.flush()
        case_id = case.id
    engine.dispose()
    assert case_id is not None
    return case_id


def _events(url: str, action: str) -> list[AuditEvent]:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())
    engine.dispose()
    return rows


def test_export_fhir_pas_prints_the_bundle_and_audits_it(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    case_id = _case(cli_db)
    assert main(["export", "fhir-pas", "--case", str(case_id)]) == 0
    bundle = json.loads(capsys.readouterr().out)
    assert bundle["resourceType"] == "Bundle" and bundle["entry"][0]["resource"]["resourceType"] == "Claim"
    events = _events(cli_db, "export")
    assert [(e.entity, e.entity_id) for e in events] == [("pa_case", str(case_id))]


def test_export_fhir_pas_to_a_file(cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_id = _case(cli_db)
    out = tmp_path / "out" / "bundle.json"
    assert main(["export", "fhir-pas", "--case", str(case_id), "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["out"] == str(out) and summary["resources"] == len(json.loads(out.read_text())["entry"])


def test_export_fhir_pas_refusals_are_one_line(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "fhir-pas", "--case", "4242"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "error: --case: No prior-authorization case #4242."
    assert not _events(cli_db, "export")


def test_export_questionnaire(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "questionnaire", "--payer", "fhir-payer", "--indication", "trd"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["resourceType"] == "Questionnaire" and data["id"] == "fhir-payer-trd-initial"
    assert [(e.entity, e.entity_id) for e in _events(cli_db, "export")] == [("payer_policy", "fhir-payer")]


@pytest.mark.parametrize(("args", "message"), [
    (["--payer", "nobody"], "--payer: no policy on file for 'nobody'; known: fhir-payer"),
    (["--payer", "fhir-payer", "--indication", "mdsi"], "no criteria on file"),
])
def test_export_questionnaire_refusals(cli_db: str, capsys: pytest.CaptureFixture[str], args: list[str],
                                       message: str) -> None:
    assert main(["export", "questionnaire", *args]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_import_claim_response_updates_the_case(cli_db: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    case_id = _case(cli_db)
    engine = make_engine(cli_db)
    with Session(engine) as session:
        case = session.get(PriorAuthCase, case_id)
        payload = claim_response(case, period={"start": "2026-12-01", "end": "2027-05-31"})
    path = tmp_path / "response.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    assert main(["import", "claim-response", "--case", str(case_id), str(path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "approved" and summary["auth_number"] == "AUTH-777"
    with Session(engine) as session:
        assert session.get(PriorAuthCase, case_id).status == "approved"
    engine.dispose()


def test_import_claim_response_refusals(cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_id = _case(cli_db)
    bad = tmp_path / "bad.json"
    bad.write_text("not json", encoding="utf-8")
    assert main(["import", "claim-response", "--case", str(case_id), str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: bad.json: The file is not JSON") and err.count("\n") == 1
    assert main(["import", "claim-response", "--case", str(case_id), str(tmp_path / "missing.json")]) == 1
    assert "cannot read" in capsys.readouterr().err
    engine = make_engine(cli_db)
    with Session(engine) as session:
        assert session.get(PriorAuthCase, case_id).status == "submitted"
    engine.dispose()


def test_patient_import_still_shares_the_import_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    text = capsys.readouterr().out
    assert "patients" in text and "claim-response" in text
