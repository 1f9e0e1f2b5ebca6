"""`python -m desk pa packet|appeal --case ID --out FILE.pdf --user NAME`: what is sent to the payer, as a file.

Both are generated from the case's facts exactly as the PA case screen generates them, kept on the case with
their SHA-256, and audited as an export; the file appears whole (see desk/cli/rems.py) only after the export
was committed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from desk.audit import record_event
from desk.cli import CommandFailed, command_group, export_work, print_json, write_whole
from desk.errors import NotFound, ValidationFailed
from desk.navigation import roles_for
from desk.prior_auth.packet import generate_appeal_letter, generate_packet
from desk.settings import load_settings

PA_PAGE = "pages/prior_auth.py"


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    pa = command_group(commands, "pa", help="prior-authorization documents")
    for name, text in (("packet", "the submission packet: fax cover, request form, letter and attachments"),
                       ("appeal", "the appeal letter of a denied case")):
        parser = pa.add_parser(name, help=text)
        parser.add_argument("--case", required=True, type=int, help="the case number (PA-<number>)")
        parser.add_argument("--out", required=True, type=Path, help="PDF file to write")
        parser.add_argument("--user", required=True, help="the account exporting it (billing or admin)")
        parser.set_defaults(handler=_export, kind=name)


def _export(args: argparse.Namespace) -> int:
    out: Path = args.out
    with export_work(load_settings().database_url, username=str(args.user), out=out) as (session, account):
        if not set(account.role_list) & set(roles_for(PA_PAGE)):
            raise CommandFailed("--user: prior-authorization documents need the billing or admin role")
        try:
            if args.kind == "packet":
                kept = generate_packet(session, case_id=args.case, actor=account.username)
            else:
                kept = generate_appeal_letter(session, case_id=args.case, actor=account.username)
        except (ValidationFailed, NotFound) as exc:
            raise CommandFailed(f"--case: {exc}") from None
        record_event(session, action="export", entity="pa_generated_file", entity_id=kept.id or 0,
                     detail=f"{kept.kind} of case {args.case} to a file, sha256 {kept.sha256[:12]}")
        content, sha256, kind = kept.content, kept.sha256, kept.kind
    write_whole(out, content)
    print_json({"out": str(out), "case": args.case, "kind": kind, "bytes": len(content), "sha256": sha256})
    return 0
