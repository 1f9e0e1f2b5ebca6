"""Clinical history from spreadsheets (CSV or XLSX) for clinics without a FHIR export: all or nothing.

One template per kind of fact (trials, scores, diagnoses, coverages, ECT/TMS courses, allergies, prescribers);
a CSV holds one kind (its header says which), an XLSX workbook one kind per sheet named after it. Every row is
checked first, against the record of the patient its MRN names; any problem refuses the whole file with every
problem by sheet, row and column (row numbers count the header as row 1). A file without problems goes to the
same review as a FHIR import.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, select

from desk.history.ehr_details import AllergyDetails, NeuromodulationDetails, PrescriberDetails
from desk.history.facts import Fact, HistoryImport, PatientHistory, PatientIdentity, Provenance, Section
from desk.history.review import fact_errors
from desk.imports import ImportFailed, ImportProblem
from desk.models import Patient
from desk.patients import CoverageDetails, DiagnosisDetails, ScoreDetails, TrialDetails
from desk.validation import DateTextError, parse_date_text


@dataclass(frozen=True)
class Template:
    """One kind of fact: its columns (required first) and an example row of fiction."""

    section: Section
    required: tuple[str, ...]
    optional: tuple[str, ...]
    example: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return ("mrn", *self.required, *self.optional)


TEMPLATES: dict[str, Template] = {
    "trials": Template("trials", ("drug", "daily_dose_mg", "start_date"),
                       ("end_date", "role", "adherence_pct", "outcome", "improvement_pct", "notes"),
                       ("DEMO-0001", "sertraline", "150", "2025-01-06", "2025-03-30", "antidepressant", "90",
                        "non_response", "10", "")),
    "scores": Template("scores", ("instrument", "score", "measured_on"), (),
                       ("DEMO-0001", "PHQ-9", "21", "2025-03-30")),
    "diagnoses": Template("diagnoses", ("icd10",),
                          ("description", "episode_start", "episode_type", "psychotic_features",
                           "diagnosis_method", "diagnosed_on", "is_current"),
                          ("DEMO-0001", "F33.2", "Major depressive disorder, recurrent severe", "2024-10-01",
                           "recurrent", "no", "clinical_interview", "2024-10-15", "yes")),
    "coverages": Template("coverages", ("payer_id", "plan_type", "member_id"),
                          ("benefit", "priority", "group_number", "start_date", "end_date"),
                          ("DEMO-0001", "cigna", "commercial", "M000123", "medical", "primary", "", "2025-01-01",
                           "")),
    "ect_tms": Template("neuromodulation", ("therapy", "start_date"), ("end_date", "sessions"),
                        ("DEMO-0001", "ECT", "2024-06-03", "2024-07-12", "12")),
    "allergies": Template("allergies", ("substance",), ("code", "criticality", "reaction", "status", "onset"),
                          ("DEMO-0001", "penicillin", "RxNorm 70618", "high", "hives", "active", "2010-05-01")),
    "prescribers": Template("prescribers", ("name",), ("npi", "role"),
                            ("DEMO-0001", "Pat Example", "1234567893", "Psychiatrist")),
}
_DATES = {"start_date", "end_date", "measured_on", "episode_start", "diagnosed_on", "onset"}
_NUMBERS = {"daily_dose_mg", "adherence_pct", "improvement_pct"}
_FLAGS = {"psychotic_features", "is_current"}
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}
MAX_ROWS = 20_000


def template_csv(kind: str) -> bytes:
    """The CSV template of one kind: the header and one example row."""
    template = TEMPLATES[kind]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(template.columns)
    writer.writerow(template.example)
    return buffer.getvalue().encode("utf-8")


def template_workbook() -> bytes:
    """One XLSX workbook with a sheet per kind (header and example row)."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for kind, template in TEMPLATES.items():
        sheet = book.create_sheet(kind)
        sheet.append(list(template.columns))
        sheet.append(list(template.example))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _kind_of(header: list[str]) -> str | None:
    for kind, template in TEMPLATES.items():
        if set(template.required) <= set(header) and set(header) <= set(template.columns):
            return kind
    return None


def _tables(name: str, data: bytes) -> list[tuple[str, list[list[str]]]]:
    """(sheet label, rows of text) for each table in the file."""
    if name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds for a file that is not a workbook
            raise ImportFailed([ImportProblem(1, "", "the file is not an Excel workbook (.xlsx)")]) from None
        tables = []
        for sheet in book.worksheets:
            rows = [["" if v is None else (v.isoformat()[:10] if isinstance(v, date) else str(v)).strip()
                     for v in row] for row in sheet.iter_rows(values_only=True)]
            tables.append((sheet.title, rows))
        return tables
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFailed([ImportProblem(1, "", "the file is not UTF-8 text; save it as CSV UTF-8")]) from None
    return [("", [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))])]


def _value(column: str, raw: str, problems: list[ImportProblem], number: int, where: str) -> Any:
    if raw == "":
        return None
    if column in _DATES:
        try:
            return parse_date_text(raw)
        except DateTextError as exc:
            problems.append(ImportProblem(number, where + column, f"bad date: {exc}"))
            return None
    if column in _NUMBERS:
        try:
            return float(raw)
        except ValueError:
            problems.append(ImportProblem(number, where + column, "a number"))
            return None
    if column in ("score", "sessions"):
        try:
            return int(raw)
        except ValueError:
            problems.append(ImportProblem(number, where + column, "a whole number"))
            return None
    if column in _FLAGS:
        if raw.lower() in _YES:
            return True
        if raw.lower() in _NO:
            return False
        problems.append(ImportProblem(number, where + column, "yes or no"))
        return None
    return raw


def _details(kind: str, values: dict[str, Any]) -> Any:
    given = {k: v for k, v in values.items() if v is not None and k != "mrn"}
    if kind == "trials":
        return TrialDetails(**{"daily_dose_mg": 0.0, "start_date": date.min, "drug": "", **given})
    if kind == "scores":
        return ScoreDetails(**{"instrument": "", "score": 0, "measured_on": date.min, **given})
    if kind == "diagnoses":
        return DiagnosisDetails(**{"icd10": "", **given})
    if kind == "ect_tms":
        return NeuromodulationDetails(**{"start_date": date.min, **given,
                                         "therapy": str(given.get("therapy", "")).upper()})
    if kind == "allergies":
        return AllergyDetails(**{"substance": "", **{k: (v.lower() if k in ("criticality", "status") else v)
                                                   for k, v in given.items()}})
    if kind == "prescribers":
        return PrescriberDetails(**{"name": "", **given})
    return CoverageDetails(**{"payer_id": "", "plan_type": "", "member_id": "",
                              **{k: (v.lower() if k in ("payer_id", "plan_type", "benefit", "priority") else v)
                                 for k, v in given.items()}})


def read_spreadsheet(
    session: Session, *, name: str, data: bytes, known_payers: Collection[str], today: date
) -> HistoryImport:
    """Check every row of the file; raises ImportFailed (nothing to review) when any row has a problem."""
    problems: list[ImportProblem] = []
    histories: dict[int, PatientHistory] = {}
    seen: dict[tuple[Any, ...], int] = {}
    tables = _tables(name, data)
    for sheet, rows in tables:
        where = f"{sheet}: " if sheet else ""
        rows = [r for r in rows if any(r)]
        if not rows:
            continue
        header = [h.strip().lower() for h in rows[0]]
        kind = sheet.lower() if sheet.lower() in TEMPLATES else _kind_of(header)
        if kind is None:
            problems.append(ImportProblem(1, where.strip(": "), "the columns match no template (trials, scores, "
                                          "diagnoses, coverages); download a template from the import page"))
            continue
        template = TEMPLATES[kind]
        missing = [c for c in ("mrn", *template.required) if c not in header]
        unknown = [c for c in header if c not in template.columns]
        problems += [ImportProblem(1, where + c, "missing required column") for c in missing]
        problems += [ImportProblem(1, where + (c or "(blank)"), f"unknown column for {kind}") for c in unknown]
        if missing or unknown:
            continue
        if len(rows) - 1 > MAX_ROWS:
            problems.append(ImportProblem(MAX_ROWS + 2, where.strip(": "), f"more than {MAX_ROWS} rows; split it"))
            continue
        for number, row in enumerate(rows[1:], start=2):
            row_problems: list[ImportProblem] = []
            if len(row) > len(header):
                row_problems.append(ImportProblem(number, where.strip(": "), "more values than columns"))
            cells = dict(zip(header, row + [""] * (len(header) - len(row)), strict=False))
            for column in ("mrn", *template.required):
                if not cells.get(column):
                    row_problems.append(ImportProblem(number, where + column, "required"))
            found = session.exec(select(Patient).where(Patient.mrn == cells["mrn"])).all() if cells.get("mrn") else []
            patient = found[0] if len(found) == 1 else None
            if cells.get("mrn") and not found:
                row_problems.append(ImportProblem(number, where + "mrn", "no patient on the desk has this MRN"))
            elif len(found) > 1:
                row_problems.append(ImportProblem(number, where + "mrn", "patients at several sites have this MRN"))
            values = {c: _value(c, cells.get(c, ""), row_problems, number, where) for c in header}
            if row_problems or patient is None:
                problems += row_problems
                continue
            details = _details(kind, values)
            given = tuple(c for c in header if c != "mrn" and values.get(c) is not None)
            fact = Fact(template.section, details, given,
                        (Provenance(name, f"{where}row {number}"),))
            for error in fact_errors(session, fact, patient=patient, known_payers=known_payers, today=today):
                problems.append(ImportProblem(number, where + error.field, error.message))
            key = (patient.id, fact.section, *fact.key)
            if key in seen:
                problems.append(ImportProblem(number, where.strip(": "), f"the same fact as row {seen[key]}"))
                continue
            seen[key] = number
            assert patient.id is not None
            history = histories.setdefault(patient.id, PatientHistory(PatientIdentity(
                resource_id=f"MRN {patient.mrn}", identifiers=(patient.mrn,))))
            history.facts.append(fact)
    if not histories and not problems:
        problems.append(ImportProblem(2, "", "the file has no rows to import"))
    if problems:
        raise ImportFailed(problems)
    return HistoryImport(kind="spreadsheet", files=(name,), imported_on=today, patients=list(histories.values()),
                         resources_read=sum(len(h.facts) for h in histories.values()))
