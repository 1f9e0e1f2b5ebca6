"""`python -m desk rems forms --start D --end D --user NAME --out FILE [--zip]`: every ready monitoring form.

The forms are filled in memory; the export is audited and committed before the file appears, and the file
appears whole (written beside its destination, synced, then renamed), so an interrupted run leaves no
half-written bundle under the destination name.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from desk.auth import as_current_user
from desk.cli import CommandFailed, command_group, export_work, print_json, write_whole
from desk.errors import PermissionDenied, ValidationFailed
from desk.rems.pmf_pdf import ready_forms_bundle
from desk.settings import load_settings


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    rems = command_group(commands, "rems", help="REMS paperwork")
    forms = rems.add_parser("forms", help="every ready Patient Monitoring Form of a date range in one file")
    forms.add_argument("--start", required=True, type=date.fromisoformat, help="first session date, YYYY-MM-DD")
    forms.add_argument("--end", required=True, type=date.fromisoformat, help="last session date, YYYY-MM-DD")
    forms.add_argument("--user", required=True, help="the account exporting the forms (nurse, billing or admin)")
    forms.add_argument("--out", required=True, type=Path, help="file to write (.pdf, or .zip with --zip)")
    forms.add_argument("--zip", action="store_true", help="one PDF per session in a zip instead of one merged PDF")
    forms.set_defaults(handler=_forms)


def _progress(done: int, total: int) -> None:
    if done == total or done % 10 == 0:
        print(f"filled {done} of {total} forms", file=sys.stderr, flush=True)


def _forms(args: argparse.Namespace) -> int:
    out: Path = args.out
    with export_work(load_settings().database_url, username=str(args.user), out=out) as (session, account):
        try:
            bundle = ready_forms_bundle(session, user=as_current_user(account), start=args.start, end=args.end,
                                        as_zip=args.zip, on_progress=_progress)
        except ValidationFailed as exc:
            raise CommandFailed(str(exc)) from None
        except PermissionDenied as exc:
            raise CommandFailed(f"--user: {exc}") from None
    write_whole(out, bundle.content)
    print_json({"out": str(out), "forms": len(bundle.session_ids), "bytes": len(bundle.content)})
    return 0
