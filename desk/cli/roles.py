"""app-role-grants ROLE: the SQL an owner runs so the application role cannot alter the audit trail."""

from __future__ import annotations

import argparse
import sys

from desk.audit import app_role_grants_sql
from desk.cli import CommandFailed


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    grants = commands.add_parser(
        "app-role-grants",
        help="print the PostgreSQL GRANTs for the application role (run them as the owner after migrating)",
    )
    grants.add_argument("role")
    grants.set_defaults(handler=_grants)


def _grants(args: argparse.Namespace) -> int:
    try:
        statements = app_role_grants_sql(args.role)
    except ValueError as exc:
        raise CommandFailed(str(exc)) from exc
    sys.stdout.write("".join(f"{statement};\n" for statement in statements))
    return 0
