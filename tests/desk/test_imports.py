"""Patient CSV import: all or nothing, every problem listed by row and column, CLI exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from desk.database import make_engine, unit_of_work
from desk.imports import ImportFailed, ImportProblem, import_patients, known_payer_ids, read_csv_text
from desk.models import AuditEvent, Coverage, Patient
from tests.factories import make_patient, make_prescriber, make_site

ROOT = Path(__file__).resolve().parent.parent.parent
TODAY = date(2026, 11, 1)
PAYERS = frozenset({"cigna", "uhc", "medicare", "medicaid"})
HEADER = "site,mrn,first_name,last_name,dob,sex,state,prescriber_npi,payer_id,plan_type,member_id,coverage_start"


def _csv(*rows: str, header: str = HEADER) -> str:
    return "\n".join((header, *rows)) + "\n"


def _counts(session: Session) -> tuple[int, int, int]:
    return (
        session.exec(select(func.count()).select_from(Patient)).one(),
        session.exec(select(func.count()).select_from(Coverage)).one(),
        session.exec(select(func.count()).select_from(AuditEvent)).one(),
    )


def _problems(session: Session, text: str, *, dry_run: bool = False) -> list[str]:
    session.commit()
    before = _counts(session)
    with pytest.raises(ImportFailed) as caught:
        import_patients(session, csv_text=text, known_payers=PAYERS, dry_run=dry_run, today=TODAY)
    session.commit()
    assert _counts(session) == before, "a failed import must write nothing"
    return [str(p) for p in caught.value.problems]


@pytest.fixture
def north(session: Session) -> str:
    """A site named North with one prescriber (NPI 1234567893) and an existing patient MRN N-1."""
    site = make_site(session, name="North")
    make_prescriber(session, npi="1234567893")
    make_patient(session, site=site, mrn="N-1")
    session.commit()
    return site.name


def test_import_writes_patients_and_coverages(session: Session, north: str) -> None:
    text = _csv(
        "North,N-2,Wren,Examplefield,1981-04-12,F,ma,1234567893,cigna,commercial,CGN1,2026-01-01",
        "",
        "north,N-3,Tobin,Fabricato,07/30/1975,m,,,,,,",
    )
    before = _counts(session)
    result = import_patients(session, csv_text=text, known_payers=PAYERS, today=TODAY)
    session.commit()
    assert result.summary() == {"dry_run": False, "rows": 2, "patients": 2, "coverages": 1,
                                "patients_per_site": {"North": 1, "north": 1}}
    patients, coverages, _ = _counts(session)
    assert (patients, coverages) == (before[0] + 2, before[1] + 1)
    tobin = session.exec(select(Patient).where(Patient.mrn == "N-3")).one()
    assert tobin.dob == date(1975, 7, 30) and tobin.sex == "M"
    wren = session.exec(select(Patient).where(Patient.mrn == "N-2")).one()
    assert wren.state == "MA" and wren.prescriber_id is not None
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "import")).one()
    assert event.detail == "2 patients, 1 coverages from CSV"
    assert "Wren" not in event.detail


def test_dry_run_writes_nothing(session: Session, north: str) -> None:
    session.commit()
    before = _counts(session)
    result = import_patients(session, csv_text=_csv("North,N-2,Wren,Ex,1981-04-12,F,,,,,,"), known_payers=PAYERS,
                             dry_run=True, today=TODAY)
    session.commit()
    assert result.dry_run and result.patients == 1
    assert _counts(session) == before


def test_every_problem_is_listed_and_nothing_written(session: Session, north: str) -> None:
    text = _csv(
        "North,N-10,Ada,Okay,1980-01-01,F,,,cigna,commercial,C1,",           # fine on its own
        "North,,Bea,Nomrn,1980-01-01,F,,,,,,",                               # missing MRN
        "North,N-11,Cy,Baddate,1980-02-30,M,,,,,,",                          # impossible date
        "North,N-12,Di,Formatdate,2020/01/01,F,,,,,,",                       # malformed date
        "North,N-10,Ed,Dupe,1980-01-01,M,,,,,,",                             # duplicate of row 2
        "North,N-1,Fay,Indb,1980-01-01,F,,,,,,",                             # MRN already in the database
        "Nowhere,N-13,Gus,Site,1980-01-01,M,,,,,,",                          # unknown site
        "North,N-14,Hal,Payer,1980-01-01,M,,,acme,commercial,A1,",            # unknown payer
        "North,N-15,Ivy,Npi,1980-01-01,F,,1234567890,,,,",                   # NPI check digit
        "North,N-16,Jo,Future,2030-01-01,F,,,,,,",                           # future birth date
        "North,N-17,Kai,Plan,1980-01-01,M,,,uhc,premium,,",                  # bad plan type, no member id
    )
    problems = _problems(session, text)
    assert problems == [
        "row 3, mrn: required",
        "row 4, dob: bad date: this date does not exist on the calendar",
        "row 5, dob: bad date: use YYYY-MM-DD or MM/DD/YYYY",
        "row 6, mrn: duplicate MRN: also on row 2",
        "row 7, mrn: another patient at this site already has this MRN",
        "row 8, site: unknown site; use a site name from Sites & prescribers",
        "row 9, payer_id: unknown payer id; it must name a payer policy file or medicare/medicaid",
        "row 10, prescriber_npi: this NPI fails its check digit; check for a typo",
        "row 11, dob: date of birth cannot be in the future",
        "row 12, member_id: required",
        "row 12, plan_type: unknown plan type; expected one of commercial, medicare_part_b, medicare_advantage, "
        "medicare_part_d, "
        "medicaid_ffs, medicaid_managed, tricare, va, other_government",
    ]


def test_problems_never_repeat_values(session: Session, north: str) -> None:
    problems = " ".join(_problems(session, _csv("North,N-2,Secretname,X,1980-02-31,F,,,,,,")))
    assert "Secretname" not in problems and "1980-02-31" not in problems


def test_header_problems(session: Session, north: str) -> None:
    problems = _problems(session, _csv("North,N-2,A,B,F", header="site,mrn,first_name,lastname,sex"))
    assert problems == [
        "row 1, dob: missing required column",
        "row 1, last_name: missing required column",
        "row 1, lastname: unknown column; see docs/import.md",
    ]
    assert _problems(session, "") == ["row 1: the file is empty; the first row must name the columns"]
    assert _problems(session, HEADER + "\n") == ["row 2: the file has no patient rows"]
    assert _problems(session, _csv(header="site,mrn,mrn,first_name,last_name,dob,sex")) == [
        "row 1, mrn: column appears more than once"
    ]


def test_unknown_prescriber_and_extra_values(session: Session, north: str) -> None:
    text = _csv("North,N-2,A,B,1980-01-01,F,,1245319599,,,,", "North,N-3,A,B,1980-01-01,F,,,,,,,x")
    problems = _problems(session, text)
    assert problems == [
        "row 2, prescriber_npi: no prescriber has this NPI; add them first",
        "row 3: more values than columns; check for an unquoted comma",
    ]


def test_dry_run_reports_the_same_problems(session: Session, north: str) -> None:
    assert _problems(session, _csv("North,N-2,A,B,1980-13-01,F,,,,,,"), dry_run=True) == [
        "row 2, dob: bad date: this date does not exist on the calendar"
    ]


def test_read_csv_text() -> None:
    assert read_csv_text("\ufeffsite,mrn".encode()) == "site,mrn"
    with pytest.raises(ImportFailed) as caught:
        read_csv_text(b"\xff\xfe\x00bad")
    assert caught.value.problems == [ImportProblem(1, "", "the file is not UTF-8 text; save it as CSV UTF-8")]


def test_known_payer_ids(tmp_path: Path) -> None:
    (tmp_path / "cigna.yaml").write_text("id: cigna\n")
    (tmp_path / "README.md").write_text("not a payer\n")
    assert known_payer_ids(tmp_path) == {"cigna", "medicare", "medicaid"}
    assert known_payer_ids(tmp_path / "missing") == {"medicare", "medicaid"}
    assert {"cigna", "uhc", "bcbsnc"} <= known_payer_ids(ROOT / "payers")


def test_example_file_imports_into_demo_data(sqlite_url: str) -> None:
    from desk.demo import load_demo

    engine = make_engine(sqlite_url)
    load_demo(engine, today=TODAY)
    with unit_of_work(engine, actor="tester") as session:
        result = import_patients(session, csv_text=(ROOT / "docs/examples/patients.csv").read_text(),
                                 known_payers=known_payer_ids(ROOT / "payers"), today=TODAY)
    assert (result.patients, result.coverages) == (4, 3)
    engine.dispose()


def _cli(args: list[str], url: str, payers: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "DESK_PAYERS_DIR": str(payers), "DESK_DEMO": "0"}
    return subprocess.run([sys.executable, "-m", "desk", "import", "patients", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli(sqlite_url: str, tmp_path: Path) -> None:
    payers = tmp_path / "payers"
    payers.mkdir()
    (payers / "cigna.yaml").write_text("id: cigna\n")
    engine = make_engine(sqlite_url)
    with unit_of_work(engine, actor="tester") as session:
        make_site(session, name="North")
    good = tmp_path / "good.csv"
    good.write_text(_csv("North,N-2,Wren,Ex,1981-04-12,F,,,cigna,commercial,C1,2026-01-01"))
    bad = tmp_path / "bad.csv"
    bad.write_text(_csv("North,N-2,Wren,Ex,1981-04-12,F,,,uhc,commercial,C1,", "North,N-3,Al,Ex,99/99/1999,M,,,,,,"))

    dry = _cli([str(good), "--dry-run"], sqlite_url, payers)
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["dry_run"] is True

    failed = _cli([str(bad)], sqlite_url, payers)
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert "row 2, payer_id: unknown payer id" in failed.stderr
    assert "row 3, dob: bad date" in failed.stderr

    done = _cli([str(good)], sqlite_url, payers)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["patients"] == 1

    again = _cli([str(good)], sqlite_url, payers)
    assert again.returncode == 1 and "row 2, mrn: another patient at this site already has this MRN" in again.stderr

    missing = _cli([str(tmp_path / "absent.csv")], sqlite_url, payers)
    assert missing.returncode == 1 and "cannot read" in missing.stderr
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Patient)).one() == 1
    engine.dispose()
