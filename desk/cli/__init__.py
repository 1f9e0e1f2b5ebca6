"""`python -m desk ...`: each module in this package adds its sub-commands through `register`.

Conventions: machine-readable output is JSON on stdout; bad input exits non-zero with a one-line
reason on stderr; nothing is written unless the whole command succeeds.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desk.errors import DeskError

if TYPE_CHECKING:
    from sqlmodel import Session

    from desk.models import User

Handler = Callable[[argparse.Namespace], int]


class CommandFailed(DeskError):
    """A command's one-line reason for exiting non-zero."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


@contextmanager
def migrated_work(database_url: str, *, actor: str) -> Iterator[Session]:
    """A unit of work on `database_url`, brought to the newest schema first; the engine is disposed after."""
    from desk.database import make_engine, migrate, unit_of_work

    migrate(database_url)
    engine = make_engine(database_url)
    try:
        with unit_of_work(engine, actor=actor) as session:
            yield session
    finally:
        engine.dispose()


def write_whole(path: Path, content: bytes) -> None:
    """Write beside the destination, sync, then rename: an interrupted run leaves no half-written file."""
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        with partial.open("wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise CommandFailed(f"--out: cannot write {path} ({exc.strerror})") from None


def command_group(commands: argparse._SubParsersAction, name: str, *, help: str) -> argparse._SubParsersAction:  # type: ignore[type-arg]
    """The sub-commands of `name` (e.g. `import`), created once and shared by every module that adds to it."""
    parser = commands.choices.get(name)
    if parser is None:
        parser = commands.add_parser(name, help=help)
        parser.set_defaults(_group=parser.add_subparsers(dest=f"{name}_command", required=True))
    group: argparse._SubParsersAction = parser.get_default("_group")  # type: ignore[type-arg]
    return group


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m desk", description="SPRAVATO Paperwork Desk")
    commands = parser.add_subparsers(dest="command", required=True)
    package = importlib.import_module(__name__)
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from desk.rems.config import load_rems_settings

    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        load_rems_settings()  # a REMS limit loosened by a setting stops every command before it starts
        return handler(args)
    except CommandFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except DeskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # anything unplanned: a reference and the type in the log, never the values
        from desk.faults import report_unexpected, unexpected_message

        print(f"error: {unexpected_message(report_unexpected(exc))}", file=sys.stderr)
        return 2


@contextmanager
def export_work(database_url: str, *, username: str, out: Path) -> Iterator[tuple[Session, User]]:
    """The unit of work of an audited export to `out`, acting as the active account `username`."""
    from sqlalchemy import func
    from sqlmodel import select

    from desk.models import User

    if not out.parent.is_dir():
        raise CommandFailed(f"--out: the folder {out.parent} does not exist")
    actor = username.strip().lower()
    with migrated_work(database_url, actor=actor) as session:
        account = session.exec(select(User).where(func.lower(User.username) == actor)).first()
        if account is None or not account.active:
            raise CommandFailed("--user: no active account with this username")
        yield session, account
