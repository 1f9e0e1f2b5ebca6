"""`python -m desk import patients FILE.csv [--dry-run]`: all-or-nothing patient import."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from desk.cli import CommandFailed, command_group, migrated_work, print_json
from desk.database import SYSTEM_ACTOR
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
