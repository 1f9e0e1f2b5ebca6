"""Clinical history from spreadsheets (all or nothing, same review) and the `import fhir` / `import history`
commands against a real SQLite file."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlmodel import Session, func, select

from desk.database import make_engine, migrate, unit_of_work
from desk.demo_ehr import as_bundle, depression_history
from desk.history.accept import accept_history
from desk.history.facts import SECTIONS
from desk.history.review import match_patient, review_patient
from desk.history.spreadsheet import TEMPLATES, read_spreadsheet, template_csv, template_workbook
from desk.imports import ImportFailed
from desk.models import AuditEvent, Coverage, Diagnosis, ImportedFact, MedicationTrial, RatingScore
from tests.factories import make_patient

ROOT = Path(__file__).resolve().parent.parent.parent.parent
TODAY = date(2026, 12, 2)
PAYERS = frozenset({"cigna", "uhc", "medicare", "medicaid"})
TABLES = (MedicationTrial, RatingScore, Diagnosis, Coverage, ImportedFact, AuditEvent)


def _counts(session: Session) -> tuple[int, ...]:
    return tuple(session.exec(select(func.count()).select_from(t)).one() for t in TABLES)


TRIALS = (b"mrn,drug,daily_dose_mg,start_date,end_date,role,adherence_pct,outcome\n"
          b"S-1,sertraline,150,2025-01-06,2025-03-30,antidepressant,90,non_response\n"
          b"S-1,aripiprazole,5,02/01/2025,,augmentation,,partial_response\n")


def test_templates_are_readable_and_list_the_columns() -> None:
    header = template_csv("trials").decode().splitlines()[0].split(",")
    assert header == list(TEMPLATES["trials"].columns)
    book = load_workbook(io.BytesIO(template_workbook()))
    assert book.sheetnames == list(TEMPLATES)


def test_csv_goes_to_review_and_accepting_writes_with_provenance(session: Session) -> None:
    patient = make_patient(session, mrn="S-1")
    pending = read_spreadsheet(session, name="trials.csv", data=TRIALS, known_payers=PAYERS, today=TODAY)
    (history,) = pending.patients
    match = match_patient(session, history.identity)
    review = review_patient(session, history=history, patient_id=patient.id or 0, match=match,
                            known_payers=PAYERS, today=TODAY)
    assert review.counts() == {"new": 2}
    result = accept_history(session, history=history, patient_id=patient.id or 0, match=match, sections=SECTIONS,
                            known_payers=PAYERS, imported_on=TODAY, kind="spreadsheet", today=TODAY)
    session.commit()
    assert result.created["trials"] == 2
    sources = session.exec(select(ImportedFact.source_file, ImportedFact.resource_ids)).all()
    assert sorted(sources) == [("trials.csv", "row 2"), ("trials.csv", "row 3")]
    again = read_spreadsheet(session, name="trials.csv", data=TRIALS, known_payers=PAYERS, today=TODAY)
    review = review_patient(session, history=again.patients[0], patient_id=patient.id or 0, match=match,
                            known_payers=PAYERS, today=TODAY)
    assert review.counts() == {"unchanged": 2}


def test_xlsx_workbook_with_a_sheet_per_kind(session: Session) -> None:
    make_patient(session, mrn="S-1")
    book = Workbook()
    book.remove(book.active)
    scores = book.create_sheet("scores")
    scores.append(["mrn", "instrument", "score", "measured_on"])
    scores.append(["S-1", "PHQ-9", 21, date(2025, 3, 30)])
    diagnoses = book.create_sheet("diagnoses")
    diagnoses.append(["mrn", "icd10", "episode_start", "episode_type", "is_current"])
    diagnoses.append(["S-1", "F33.2", "2024-10-01", "recurrent", "yes"])
    data = io.BytesIO()
    book.save(data)
    pending = read_spreadsheet(session, name="history.xlsx", data=data.getvalue(), known_payers=PAYERS, today=TODAY)
    facts = pending.patients[0].facts
    assert sorted(f.section for f in facts) == ["diagnoses", "scores"]
    assert {p.resource_id for f in facts for p in f.provenance} == {"scores: row 2", "diagnoses: row 2"}


@pytest.mark.parametrize(("data", "expected"), [
    (TRIALS.replace(b"S-1,sertraline", b"S-9,sertraline"), "row 2, mrn: no patient on the desk has this MRN"),
    (TRIALS.replace(b"2025-01-06", b"2099-01-06"), "row 2, start_date: start date cannot be in the future"),
    (TRIALS.replace(b",150,", b",-5,"), "row 2, daily_dose_mg: a dose cannot be negative"),
    (TRIALS.replace(b"mrn,drug", b"mrn,colour"), "the columns match no template"),
    (b"mrn,instrument,score,measured_on\nS-1,PHQ-9,40,2025-01-01\n", "row 2, score: PHQ-9 scores run from 0 to 27"),
    (TRIALS + TRIALS.splitlines(keepends=True)[1], "row 4: the same fact as row 2"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_any_bad_row_refuses_the_whole_file_and_nothing_is_written(
    session: Session, data: bytes, expected: str
) -> None:
    make_patient(session, mrn="S-1")
    session.commit()
    before = _counts(session)
    with pytest.raises(ImportFailed) as failed:
        read_spreadsheet(session, name="trials.csv", data=data, known_payers=PAYERS, today=TODAY)
    session.commit()
    assert any(expected in str(p) for p in failed.value.problems), [str(p) for p in failed.value.problems]
    assert _counts(session) == before


def test_a_file_that_is_not_a_workbook(session: Session) -> None:
    with pytest.raises(ImportFailed) as failed:
        read_spreadsheet(session, name="x.xlsx", data=b"not a zip", known_payers=PAYERS, today=TODAY)
    assert "not an Excel workbook" in str(failed.value.problems[0])


# --- command line -----------------------------------------------------------------------------------------------


def _cli(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "DESK_DEMO": "0"}
    return subprocess.run([sys.executable, "-m", "desk", "import", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def test_cli_fhir_dry_run_then_import_then_reimport(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'desk.sqlite3'}"
    migrate(url)
    engine = make_engine(url)
    with unit_of_work(engine, actor="tester") as session:
        make_patient(session, mrn="CLI-1", dob=date(1980, 1, 1))
    bundle = tmp_path / "export.json"
    bundle.write_text(json.dumps(as_bundle(depression_history(
        key="c1", mrn="CLI-1", first_name="Ann", last_name="Example", birth_date=date(1980, 1, 1),
        today=date.today()))))
    dry = _cli("fhir", str(bundle), "--dry-run", url=url)
    assert dry.returncode == 0, dry.stderr
    summary = json.loads(dry.stdout)
    assert summary["patients"]["matched_by_mrn"] == 1 and summary["created"] == 0 and summary["facts"]["new"] > 10
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(MedicationTrial)).one() == 0
    done = json.loads(_cli("fhir", str(bundle), url=url).stdout)
    assert done["created"] == summary["facts"]["new"]
    again = json.loads(_cli("fhir", str(bundle), url=url).stdout)
    assert again["created"] == 0 and again["updated"] == 0 and set(again["facts"]) == {"unchanged"}
    assert "Ann" not in dry.stdout + done["refused"].__str__()
    engine.dispose()


def test_cli_refuses_a_file_that_is_not_fhir(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'desk.sqlite3'}"
    bad = tmp_path / "export.json"
    bad.write_text("not json")
    result = _cli("fhir", str(bad), url=url)
    assert result.returncode == 1 and "not FHIR JSON" in result.stderr


def test_cli_refuses_a_file_over_the_configured_limit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'desk.sqlite3'}"
    big = tmp_path / "Patient.ndjson"
    with big.open("wb") as handle:
        handle.truncate(2 * 1024 * 1024)
    env_url = url
    result = subprocess.run([sys.executable, "-m", "desk", "import", "fhir", str(big)], cwd=ROOT,
                            env={**os.environ, "DATABASE_URL": env_url, "DESK_EHR_IMPORT_MAX_MB": "1"},
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 1 and "larger than 1 MB" in result.stderr
