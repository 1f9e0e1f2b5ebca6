"""backup OUT and restore IN."""

from __future__ import annotations

import argparse
from pathlib import Path

from desk.backup import backup_database, restore_database
from desk.cli import print_json
from desk.settings import load_settings


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    backup = commands.add_parser("backup", help="write a consistent online copy of the database to OUT")
    backup.add_argument("out", type=Path)
    backup.set_defaults(handler=_backup)
    restore = commands.add_parser("restore", help="replace the database with the backup IN (then migrate)")
    restore.add_argument("backup", type=Path)
    restore.set_defaults(handler=_restore)


def _backup(args: argparse.Namespace) -> int:
    out = backup_database(url=load_settings().database_url, out=args.out)
    print_json({"backup": str(out), "bytes": out.stat().st_size})
    return 0


def _restore(args: argparse.Namespace) -> int:
    url = load_settings().database_url
    restore_database(url=url, backup=args.backup)
    print_json({"restored": str(args.backup)})
    return 0
