"""Patient import from CSV: all or nothing.

Every row is checked before anything is written. Any problem (a missing field, a bad date, a duplicate MRN in
the file or in the database, an unknown payer or site) aborts the whole import with the complete list of
problems by row and column. Row numbers count the header as row 1, as a spreadsheet shows them. The column
reference is docs/import.md.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from desk.audit import record_event
from desk.errors import DeskError
from desk.models import Prescriber, Site
from desk.patients import (
    CoverageDetails,
    PatientDetails,
    add_coverage,
    coverage_errors,
    create_patient,
    patient_errors,
)
from desk.validation import DateTextError, npi_problem, parse_date_text, text_problem

# Payers without a policy file that the desk still knows: government programs.
GOVERNMENT_PAYER_IDS = ("medicare", "medicaid")
REQUIRED_COLUMNS = ("site", "mrn", "first_name", "last_name", "dob", "sex")
PATIENT_COLUMNS = ("middle_initial", "address_line", "city", "state", "zip_code", "phone", "email", "prescriber_npi")
COVERAGE_COLUMNS = (
    "payer_id",
    "plan_type",
    "benefit",
    "member_id",
    "group_number",
    "rx_bin",
    "rx_pcn",
    "rx_group",
    "coverage_start",
    "coverage_end",
)
ALL_COLUMNS = REQUIRED_COLUMNS + PATIENT_COLUMNS + COVERAGE_COLUMNS
MAX_ROWS = 20_000
MAX_CELL_CHARS = 1_000  # longer than any name, address or identifier
# Service field names that are spelled differently in the file.
_COLUMN_OF = {"site_id": "site", "prescriber_id": "prescriber_npi", "start_date": "coverage_start",
              "end_date": "coverage_end"}


def known_payer_ids(payers_dir: Path) -> frozenset[str]:
    """Payer ids the desk accepts: the stem of each payer policy file, plus the government programs."""
    stems = {path.stem for path in payers_dir.glob("*.yaml")} if payers_dir.is_dir() else set()
    return frozenset(stems | set(GOVERNMENT_PAYER_IDS))


@dataclass(frozen=True, order=True)
class ImportProblem:
    """One problem in the file: where it is and what is wrong (never the value itself)."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.message}" if self.column else f"row {self.row}: {self.message}"


class ImportFailed(DeskError):
    """The file has problems; nothing was written."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = sorted(problems)
        super().__init__(f"{len(self.problems)} problem(s) in the file; nothing was imported")


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote (or, on a dry run, would write)."""

    rows: int
    patients: int
    coverages: int
    dry_run: bool
    sites: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "rows": self.rows, "patients": self.patients, "coverages": self.coverages,
                "patients_per_site": self.sites}


@dataclass(frozen=True)
class _Row:
    number: int
    patient: PatientDetails
    coverage: CoverageDetails | None
    site_name: str


def read_csv_text(data: bytes) -> str:
    """Decode an uploaded file (UTF-8, with or without the byte-order mark spreadsheets add)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed([ImportProblem(1, "", "the file is not UTF-8 text; save it as CSV UTF-8")]) from exc


def _header(fieldnames: Sequence[str] | None) -> list[ImportProblem]:
    if not fieldnames:
        return [ImportProblem(1, "", "the file is empty; the first row must name the columns")]
    names = [(name or "").strip().lower() for name in fieldnames]
    problems = [ImportProblem(1, name, "missing required column") for name in REQUIRED_COLUMNS if name not in names]
    problems += [ImportProblem(1, name or "(blank)", "unknown column; see docs/import.md")
                 for name in names if name not in ALL_COLUMNS]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    problems += [ImportProblem(1, name, "column appears more than once") for name in duplicated]
    return problems


def _date(value: str, *, row: int, column: str, problems: list[ImportProblem]) -> date | None:
    if not value:
        return None
    try:
        return parse_date_text(value)
    except DateTextError as exc:
        problems.append(ImportProblem(row, column, f"bad date: {exc}"))
        return None


def _check_rows(
    session: Session, text: str, *, known_payers: Collection[str], today: date
) -> tuple[list[_Row], list[ImportProblem]]:
    # The csv module's own cap (131,072 characters) raises a bare error with no row or column; parse
    # with a cap as large as an upload can be and name the cell that is too long below.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.DictReader(io.StringIO(text))
    problems = _header(reader.fieldnames)
    if problems:
        return [], problems
    sites = {name.lower(): site_id for site_id, name in session.exec(select(Site.id, Site.name)).all()}
    rows: list[_Row] = []
    first_row_of: dict[tuple[int, str], int] = {}
    for number, raw in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            problems.append(ImportProblem(number, "", f"more than {MAX_ROWS} rows; split the file"))
            break
        extra = raw.get(None)
        values = {key.strip().lower(): (value or "").strip() for key, value in raw.items() if key is not None}
        if not any(values.values()) and not extra:
            continue  # a blank line
        if extra:
            problems.append(ImportProblem(number, "", "more values than columns; check for an unquoted comma"))
        unreadable = _unreadable_cells(values, number)
        if unreadable:
            problems += unreadable  # the row's other checks would only repeat these cells
            continue
        row_problems: list[ImportProblem] = []
        for column in REQUIRED_COLUMNS:
            if not values.get(column):
                row_problems.append(ImportProblem(number, column, "required"))
        site_id = sites.get(values.get("site", "").lower())
        if values.get("site") and site_id is None:
            row_problems.append(ImportProblem(number, "site", "unknown site; use a site name from Sites & prescribers"))
        dob = _date(values.get("dob", ""), row=number, column="dob", problems=row_problems)
        prescriber_id = _prescriber(session, values.get("prescriber_npi", ""), number, row_problems)
        patient = PatientDetails(
            site_id=site_id or 0, mrn=values.get("mrn", ""), first_name=values.get("first_name", ""),
            last_name=values.get("last_name", ""), dob=dob or today, sex=values.get("sex", "").upper(),
            middle_initial=values.get("middle_initial", ""), address_line=values.get("address_line", ""),
            city=values.get("city", ""), state=values.get("state", "").upper(),
            zip_code=values.get("zip_code", ""), phone=values.get("phone", ""), email=values.get("email", "").lower(),
            prescriber_id=prescriber_id,
        )
        reported = {p.column for p in row_problems}
        for error in patient_errors(session, patient, patient_id=None, today=today):
            column = _COLUMN_OF.get(error.field, error.field)
            if column not in reported:
                row_problems.append(ImportProblem(number, column, error.message))
        if site_id is not None and patient.mrn:
            key = (site_id, patient.mrn)
            if key in first_row_of:
                row_problems.append(ImportProblem(number, "mrn", f"duplicate MRN: also on row {first_row_of[key]}"))
            else:
                first_row_of[key] = number
        coverage = _coverage(values, number, row_problems, known_payers)
        problems += row_problems
        rows.append(_Row(number, patient, coverage, values.get("site", "")))
    if not rows and not problems:
        problems.append(ImportProblem(2, "", "the file has no patient rows"))
    return rows, problems


def _unreadable_cells(values: dict[str, str], number: int) -> list[ImportProblem]:
    problems = []
    for column, value in values.items():
        if len(value) > MAX_CELL_CHARS:
            problems.append(ImportProblem(number, column, f"{len(value):,} characters; a value may hold at most "
                                          f"{MAX_CELL_CHARS:,} (check for a missing closing quote)"))
            continue
        problem = text_problem(value)
        if problem:
            problems.append(ImportProblem(number, column, problem))
    return problems


def _prescriber(session: Session, npi: str, number: int, problems: list[ImportProblem]) -> int | None:
    if not npi:
        return None
    message = npi_problem(npi)
    if message:
        problems.append(ImportProblem(number, "prescriber_npi", message))
        return None
    prescriber_id = session.exec(select(Prescriber.id).where(Prescriber.npi == npi)).first()
    if prescriber_id is None:
        problems.append(ImportProblem(number, "prescriber_npi", "no prescriber has this NPI; add them first"))
    return prescriber_id


def _coverage(
    values: dict[str, str], number: int, problems: list[ImportProblem], known_payers: Collection[str]
) -> CoverageDetails | None:
    if not any(values.get(column) for column in COVERAGE_COLUMNS):
        return None
    start = _date(values.get("coverage_start", ""), row=number, column="coverage_start", problems=problems)
    end = _date(values.get("coverage_end", ""), row=number, column="coverage_end", problems=problems)
    details = CoverageDetails(
        payer_id=values.get("payer_id", "").lower(), plan_type=values.get("plan_type", "").lower(),
        member_id=values.get("member_id", ""), benefit=(values.get("benefit") or "medical").lower(),
        group_number=values.get("group_number", ""), rx_bin=values.get("rx_bin", ""),
        rx_pcn=values.get("rx_pcn", ""), rx_group=values.get("rx_group", ""), start_date=start, end_date=end,
    )
    for error in coverage_errors(details, known_payers=known_payers):
        problems.append(ImportProblem(number, _COLUMN_OF.get(error.field, error.field), error.message))
    return details


def import_patients(
    session: Session,
    *,
    csv_text: str,
    known_payers: Collection[str],
    dry_run: bool = False,
    today: date | None = None,
) -> ImportResult:
    """Check every row, then (unless `dry_run`) create the patients and their coverages.

    Raises ImportFailed with every problem when any row is bad; nothing is written then.
    """
    today = today or date.today()
    rows, problems = _check_rows(session, csv_text, known_payers=known_payers, today=today)
    if problems:
        raise ImportFailed(problems)
    per_site: dict[str, int] = {}
    for row in rows:
        per_site[row.site_name] = per_site.get(row.site_name, 0) + 1
    result = ImportResult(
        rows=len(rows), patients=len(rows), coverages=sum(1 for r in rows if r.coverage), dry_run=dry_run,
        sites=per_site,
    )
    if dry_run:
        return result
    for row in rows:
        patient = create_patient(session, details=row.patient, today=today)
        assert patient.id is not None
        if row.coverage is not None:
            add_coverage(session, patient_id=patient.id, details=row.coverage, known_payers=known_payers, today=today)
    record_event(session, action="import", entity="patient",
                 detail=f"{result.patients} patients, {result.coverages} coverages from CSV")
    return result
