"""`python -m desk import patients FILE.csv [--dry-run]`: all-or-nothing patient import.
`python -m desk import fhir FILE... [--dry-run]` and `python -m desk import history FILE [--dry-run]`: clinical
history from an EHR's FHIR export or from spreadsheets, written for patients matched by MRN."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from desk.cli import CommandFailed, command_group, migrated_work, print_json
from desk.database import SYSTEM_ACTOR
from desk.fhir.ehr_import import ImportRefused, SourceFile, read_fhir_export
from desk.history.accept import accept_reviews
from desk.history.facts import HistoryImport
from desk.history.review import match_patient, review_patients
from desk.history.spreadsheet import read_spreadsheet
from desk.imports import ImportFailed, import_patients, known_payer_ids, read_csv_text
from desk.settings import load_settings


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    kinds = command_group(commands, "import", help="import records from files")
    patients = kinds.add_parser(
        "patients", help="import patients (and one coverage each) from a CSV file; see docs/import.md"
    )
    patients.add_argument("file", type=Path, help="CSV file with a header row")
    patients.add_argument("--dry-run", action="store_true", help="check every row and report; write nothing")
    patients.set_defaults(handler=_import_patients)
    fhir = kinds.add_parser(
        "fhir", help="import clinical history from FHIR R4 Bundle JSON or bulk-export NDJSON files; patients are "
        "matched by MRN (a match by name and birth date waits for review in the app)",
    )
    fhir.add_argument("files", type=Path, nargs="+", help="Bundle .json or .ndjson files")
    fhir.add_argument("--dry-run", action="store_true", help="read and compare with the records; write nothing")
    fhir.set_defaults(handler=_import_fhir)
    history = kinds.add_parser(
        "history", help="import trials, scores, diagnoses or coverages from a CSV or XLSX template (all or nothing)"
    )
    history.add_argument("file", type=Path, help="a .csv template file or an .xlsx workbook")
    history.add_argument("--dry-run", action="store_true", help="check every row and compare; write nothing")
    history.set_defaults(handler=_import_history)


def _import_patients(args: argparse.Namespace) -> int:
    settings = load_settings()
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise CommandFailed(f"cannot read {args.file}: {exc.strerror}") from exc
    try:
        with migrated_work(settings.database_url, actor=SYSTEM_ACTOR) as session:
            result = import_patients(
                session, csv_text=read_csv_text(data), known_payers=known_payer_ids(settings.payers_dir),
                dry_run=args.dry_run,
            )
    except ImportFailed as failed:
        print(f"error: {failed}", file=sys.stderr)
        for problem in failed.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print_json(result.summary())
    return 0


def _apply(pending: HistoryImport, *, database_url: str, known_payers: list[str], dry_run: bool) -> dict[str, Any]:
    """Compare every patient with the record and (unless `dry_run`) write what is new or changed, in one unit."""
    matches: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    created = updated = 0
    with migrated_work(database_url, actor=SYSTEM_ACTOR) as session:
        items = [(history, match_patient(session, history.identity)) for history in pending.patients]
        matches.update(match.how for _, match in items)
        matched = [(history, match) for history, match in items if match.patient_id is not None]
        reviews = review_patients(session, items=matched, known_payers=known_payers, today=pending.imported_on)
        for review in reviews:
            statuses.update(review.counts())
        if not dry_run:
            for result in accept_reviews(session, reviews=reviews, known_payers=known_payers,
                                         imported_on=pending.imported_on, kind=pending.kind,
                                         today=pending.imported_on):
                created += sum(result.created.values())
                updated += sum(result.updated.values())
    return {
        "dry_run": dry_run, "files": len(pending.files), "read": pending.resources_read,
        "refused": [str(p) for p in pending.problems],
        "patients": {"matched_by_mrn": matches["identifier"], "need_review_in_the_app": matches["name_and_dob"],
                     "not_on_the_desk": matches["none"], "ambiguous": matches["ambiguous"]},
        "facts": dict(statuses), "created": created, "updated": updated,
    }


def _import_fhir(args: argparse.Namespace) -> int:
    settings = load_settings()
    payers = sorted(known_payer_ids(settings.payers_dir))
    for path in args.files:
        if not path.is_file():
            raise CommandFailed(f"cannot read {path}: no such file")
    try:
        pending = read_fhir_export([SourceFile(path.name, path=path) for path in args.files], today=date.today(),
                                   known_payers=payers, max_mb=settings.ehr_import_max_mb)
    except ImportRefused as refused:
        raise CommandFailed(f"nothing imported: {refused}") from None
    print_json(_apply(pending, database_url=settings.database_url, known_payers=payers, dry_run=args.dry_run))
    return 0


def _import_history(args: argparse.Namespace) -> int:
    settings = load_settings()
    payers = sorted(known_payer_ids(settings.payers_dir))
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise CommandFailed(f"cannot read {args.file}: {exc.strerror}") from exc
    try:
        with migrated_work(settings.database_url, actor=SYSTEM_ACTOR) as session:
            pending = read_spreadsheet(session, name=args.file.name, data=data, known_payers=payers,
                                       today=date.today())
    except ImportFailed as failed:
        print(f"error: {failed}", file=sys.stderr)
        for problem in failed.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print_json(_apply(pending, database_url=settings.database_url, known_payers=payers, dry_run=args.dry_run))
    return 0
