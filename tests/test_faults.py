"""Faults with nothing lost and nothing leaked: control characters refused at input on both databases,
oversized CSV values named by row and column, unplanned errors logged by type and reference only."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from desk.database import unit_of_work
from desk.errors import ValidationFailed
from desk.faults import report_unexpected
from desk.models import AuditEvent, Patient
from desk.settings import PROJECT_ROOT
from desk.validation import text_problem
from tests.factories import make_patient, make_prescriber, make_site, make_trial, make_user

HEADER = "site,mrn,first_name,last_name,dob,sex,state"
SECRET_NAME, SECRET_DOB = "Zebulon", "1971-03-09"


def _import(url: str, csv_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "DESK_DEMO": "0"}
    return subprocess.run([sys.executable, "-m", "desk", "import", "patients", str(csv_path)], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def _patients(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(Patient.id)).all())


def _writes(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(AuditEvent.id).where(AuditEvent.entity == "patient")).all())


@pytest.mark.parametrize(("cell", "code"), [("\x00", "U+0000"), ("\x07", "U+0007"), ("\x1b[2J", "U+001B"),
                                            ("\x85", "U+0085")])
def test_csv_with_a_control_character_is_refused_naming_row_and_column(
    engine: Engine, db_url: str, tmp_path: Path, cell: str, code: str
) -> None:
    with unit_of_work(engine, actor="tester") as session:
        make_site(session, name="North")
    before = _writes(engine)
    path = tmp_path / "patients.csv"
    path.write_text(f"{HEADER}\nNorth,N-1,{SECRET_NAME}{cell}x,Quill,{SECRET_DOB},F,IL\n", encoding="utf-8")
    result = _import(db_url, path)
    assert result.returncode == 1, result.stderr
    assert f"row 2, first_name: contains an invisible control character ({code})" in result.stderr
    assert SECRET_NAME not in result.stderr + result.stdout and SECRET_DOB not in result.stderr
    assert "Traceback" not in result.stderr
    assert _patients(engine) == 0 and _writes(engine) == before


def test_a_line_break_inside_a_quoted_name_is_refused(engine: Engine, db_url: str, tmp_path: Path) -> None:
    with unit_of_work(engine, actor="tester") as session:
        make_site(session, name="North")
    path = tmp_path / "patients.csv"
    path.write_text(f'{HEADER}\nNorth,N-1,"Ann\nMarie",Quill,{SECRET_DOB},F,IL\n', encoding="utf-8")
    result = _import(db_url, path)
    assert result.returncode == 1 and "row 2, first_name: must be a single line" in result.stderr
    assert _patients(engine) == 0


def test_an_oversized_csv_value_gets_a_message_naming_its_row_and_column(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    with unit_of_work(engine, actor="tester") as session:
        make_site(session, name="North")
    path = tmp_path / "patients.csv"
    huge = "A" * 131_073  # one more than the csv module's default field limit
    path.write_text(f"{HEADER},address_line\nNorth,N-1,Ann,Quill,{SECRET_DOB},F,IL,{huge}\n", encoding="utf-8")
    result = _import(db_url, path)
    assert result.returncode == 1, result.stderr
    assert "row 2, address_line: 131,073 characters; a value may hold at most 1,000" in result.stderr
    assert "_csv.Error" not in result.stderr and "Traceback" not in result.stderr
    assert _patients(engine) == 0


@pytest.mark.parametrize("field", ["first_name", "last_name", "address_line", "city", "mrn"])
def test_every_write_refuses_control_characters_whatever_the_path(engine: Engine, field: str) -> None:
    with pytest.raises(ValidationFailed) as refused, unit_of_work(engine, actor="tester") as session:
        make_patient(session, **{field: "Ann\x00\x1b"})
    assert refused.value.for_field(field) == [text_problem("\x00")]
    assert _patients(engine) == 0 and _writes(engine) == 0


@pytest.mark.parametrize(("make", "field"), [
    ("site", "name"), ("site", "address_line"), ("prescriber", "last_name"), ("trial", "drug"),
    ("trial", "notes"), ("user", "username"), ("user", "display_name"),
])
def test_control_characters_are_refused_in_every_kind_of_record(
    engine: Engine, fast_hasher: PasswordHasher, make: str, field: str
) -> None:
    with unit_of_work(engine, actor="tester") as session:
        patient = make_patient(session)
    before = _audit_rows(engine)
    with pytest.raises(ValidationFailed) as refused, unit_of_work(engine, actor="tester") as session:
        value = "North\x00\x1b"
        if make == "site":
            make_site(session, **{field: value})
        elif make == "prescriber":
            make_prescriber(session, **{field: value})
        elif make == "trial":
            make_trial(session, patient=session.get(Patient, patient.id), **{field: value})
        else:
            make_user(session, hasher=fast_hasher, **{field: value})
    assert refused.value.for_field(field) == [text_problem("\x00")]
    assert _audit_rows(engine) == before  # nothing written


def _audit_rows(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(AuditEvent.id)).all())


def test_notes_may_hold_line_breaks_and_tabs_but_names_may_not(engine: Engine) -> None:
    with unit_of_work(engine, actor="tester") as session:
        patient = make_patient(session)
    with unit_of_work(engine, actor="tester") as session:
        row = session.get(Patient, patient.id)
        assert row is not None
        row.first_name = "Ann\tMarie"
        with pytest.raises(ValidationFailed, match="first_name: must be a single line"):
            session.flush()
        session.rollback()
    assert text_problem("line one\n\tline two", multiline=True) is None
    assert text_problem("line one\x00", multiline=True) is not None


def test_a_nul_in_a_search_is_refused_the_same_way_on_both_databases(engine: Engine) -> None:
    with pytest.raises(ValidationFailed, match="NUL"), Session(engine) as session:
        session.exec(select(Patient).where(Patient.last_name == "Quill\x00")).all()


@pytest.mark.postgres
def test_unexpected_errors_are_logged_by_type_and_reference_never_values(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from desk.database import make_engine

    engine = make_engine(postgres_url)
    with unit_of_work(engine, actor="tester") as session:
        site = make_site(session)
        make_patient(session, site=site, mrn="MRN-ZEBULON-1971")
    row = {"site": site.id, "mrn": "MRN-ZEBULON-1971", "first": SECRET_NAME, "dob": SECRET_DOB}
    with pytest.raises(IntegrityError) as caught, engine.begin() as conn:  # a real error quoting the row
        conn.execute(text("INSERT INTO patient (site_id, mrn, first_name, last_name, dob, sex, version) "
                          "VALUES (:site, :mrn, :first, 'Q', :dob, 'F', 1)"), row)
    assert "MRN-ZEBULON-1971" in str(caught.value)
    engine.dispose()
    with caplog.at_level(logging.ERROR, logger="desk.faults"):
        reference = report_unexpected(caught.value)
    logged = caplog.text
    assert reference in logged and "sqlalchemy.exc.IntegrityError" in logged and "psycopg.errors" in logged
    for value in ("MRN-ZEBULON-1971", SECRET_NAME, SECRET_DOB):
        assert value not in logged


@pytest.mark.postgres
def test_the_cli_reports_an_unexpected_error_with_a_reference_only(postgres_url: str, tmp_path: Path) -> None:
    missing = make_url(postgres_url).set(database="desk_missing_database_for_fault_test")
    path = tmp_path / "patients.csv"
    path.write_text(f"{HEADER}\nNorth,N-1,{SECRET_NAME},Quill,{SECRET_DOB},F,IL\n", encoding="utf-8")
    result = _import(missing.render_as_string(hide_password=False), path)
    assert result.returncode == 2
    assert "Quote reference" in result.stderr and "sqlalchemy.exc.OperationalError" in result.stderr
    assert "Traceback" not in result.stderr and SECRET_NAME not in result.stderr
