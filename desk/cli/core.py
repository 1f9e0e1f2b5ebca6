"""Set-up commands: init, demo, users add / password / deactivate."""

from __future__ import annotations

import argparse
import getpass
import os
from collections.abc import Callable

from sqlmodel import Session, select

from desk.bootstrap import database_is_empty
from desk.cli import CommandFailed, print_json
from desk.database import SYSTEM_ACTOR, make_engine, migrate, unit_of_work
from desk.errors import ValidationFailed
from desk.models import ROLES, User
from desk.settings import load_settings
from desk.users import create_user, reset_password, set_active


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    init = commands.add_parser("init", help="migrate the database; create the first admin if none exists")
    init.add_argument("--admin", default="admin", help="username of the first admin (default: admin)")
    init.set_defaults(handler=_init)

    demo = commands.add_parser("demo", help="load the synthetic demo data into an empty database")
    demo.set_defaults(handler=_demo)

    users = commands.add_parser("users", help="manage staff accounts")
    users_commands = users.add_subparsers(dest="users_command", required=True)
    add = users_commands.add_parser("add", help="add an account (password from DESK_PASSWORD or a prompt)")
    add.add_argument("--username", required=True)
    add.add_argument("--role", action="append", required=True, choices=ROLES, help="repeat for several roles")
    add.add_argument("--display-name", default="")
    add.add_argument("--email", default="")
    add.set_defaults(handler=_users_add)
    password = users_commands.add_parser("password", help="set an account's password (from DESK_PASSWORD or a prompt)")
    password.add_argument("--username", required=True)
    password.set_defaults(handler=_users_password)
    deactivate = users_commands.add_parser("deactivate", help="stop an account from signing in")
    deactivate.add_argument("--username", required=True)
    deactivate.set_defaults(handler=_users_deactivate)


def _password() -> str:
    from_env = os.environ.get("DESK_PASSWORD")
    if from_env:
        return from_env
    if not os.isatty(0):
        raise CommandFailed("no password: set DESK_PASSWORD or run in a terminal to be prompted")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise CommandFailed("the two passwords differ")
    return first


def _create(username: str, roles: list[str], display_name: str, email: str) -> None:
    settings = load_settings()
    password = _password()
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(engine, actor=SYSTEM_ACTOR) as session:
            user = create_user(
                session,
                username=username,
                display_name=display_name or username,
                roles=roles,
                password=password,
                email=email,
            )
            print_json({"id": user.id, "username": user.username, "roles": user.role_list})
    except ValidationFailed as exc:
        raise CommandFailed(str(exc)) from exc


def _init(args: argparse.Namespace) -> int:
    settings = load_settings()
    migrate(settings.database_url)
    if database_is_empty(make_engine(settings.database_url)):
        _create(args.admin, ["admin"], "Administrator", "")
    else:
        print_json({"migrated": True, "admin_created": False})
    return 0


def _demo(_args: argparse.Namespace) -> int:
    from desk.demo import load_demo

    settings = load_settings()
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    if not database_is_empty(engine):
        raise CommandFailed("the database already has accounts; demo data loads only into an empty database")
    print_json(load_demo(engine))
    return 0


def _users_add(args: argparse.Namespace) -> int:
    migrate(load_settings().database_url)
    _create(args.username, args.role, args.display_name, args.email)
    return 0


def _account_id(session: Session, username: str) -> int:
    user = session.exec(select(User).where(User.username == username.strip().lower())).first()
    if user is None or user.id is None:
        raise CommandFailed(f"no account named {username!r}")
    return user.id


def _change_account(username: str, change: Callable[[Session, int], User]) -> User:
    """Apply `change` to the named account in one audited unit of work; a refusal becomes the command's error."""
    settings = load_settings()
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(engine, actor=SYSTEM_ACTOR) as session:
            return change(session, _account_id(session, username))
    except ValidationFailed as exc:
        raise CommandFailed(str(exc)) from exc


def _users_password(args: argparse.Namespace) -> int:
    password = _password()
    user = _change_account(args.username, lambda s, i: reset_password(s, user_id=i, password=password))
    print_json({"id": user.id, "username": user.username, "password_changed": True})
    return 0


def _users_deactivate(args: argparse.Namespace) -> int:
    user = _change_account(args.username, lambda s, i: set_active(s, user_id=i, active=False))
    print_json({"id": user.id, "username": user.username, "active": user.active})
    return 0
