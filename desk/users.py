"""Staff account administration: create, change roles, deactivate, reset password."""

from __future__ import annotations

import re
from collections.abc import Sequence

from argon2 import PasswordHasher
from sqlmodel import Session, col, select

from desk.auth import DEFAULT_HASHER, hash_password
from desk.errors import FieldError, NotFound, StaleEdit, ValidationFailed
from desk.models import ROLES, User

MIN_PASSWORD_LENGTH = 12
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")


def _role_errors(roles: Sequence[str]) -> list[FieldError]:
    if not roles:
        return [FieldError("roles", "choose at least one role")]
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        return [FieldError("roles", f"unknown role {unknown[0]!r}; expected one of {', '.join(ROLES)}")]
    return []


def _password_errors(password: str) -> list[FieldError]:
    if len(password) < MIN_PASSWORD_LENGTH:
        return [FieldError("password", f"use at least {MIN_PASSWORD_LENGTH} characters")]
    return []


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    roles: Sequence[str],
    password: str,
    email: str = "",
    is_demo: bool = False,
    hasher: PasswordHasher = DEFAULT_HASHER,
) -> User:
    """Create a local account; raises ValidationFailed naming each bad field."""
    username = username.strip().lower()
    errors: list[FieldError] = []
    if not _USERNAME.match(username):
        errors.append(FieldError("username", "2-40 lowercase letters, digits, dot, dash or underscore"))
    elif session.exec(select(User).where(User.username == username)).first():
        errors.append(FieldError("username", "this username is taken"))
    if not display_name.strip():
        errors.append(FieldError("display_name", "required"))
    if email and "@" not in email:
        errors.append(FieldError("email", "not an e-mail address"))
    errors += _role_errors(roles)
    errors += _password_errors(password)
    if errors:
        raise ValidationFailed(errors)
    user = User(
        username=username,
        display_name=display_name.strip(),
        email=email.strip().lower(),
        roles=",".join(r for r in ROLES if r in roles),
        password_hash=hash_password(password, hasher=hasher),
        is_demo=is_demo,
    )
    session.add(user)
    session.flush()
    return user


def _load(session: Session, user_id: int, expected_version: int | None) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    if expected_version is not None and user.version != expected_version:
        raise StaleEdit("user account")
    return user


def set_roles(session: Session, *, user_id: int, roles: Sequence[str], expected_version: int | None = None) -> User:
    errors = _role_errors(roles)
    if errors:
        raise ValidationFailed(errors)
    user = _load(session, user_id, expected_version)
    user.roles = ",".join(r for r in ROLES if r in roles)
    session.add(user)
    return user


def set_active(session: Session, *, user_id: int, active: bool, expected_version: int | None = None) -> User:
    user = _load(session, user_id, expected_version)
    user.active = active
    if active:
        user.failed_attempts = 0
        user.locked_until = None
    session.add(user)
    return user


def reset_password(
    session: Session,
    *,
    user_id: int,
    password: str,
    expected_version: int | None = None,
    hasher: PasswordHasher = DEFAULT_HASHER,
) -> User:
    errors = _password_errors(password)
    if errors:
        raise ValidationFailed(errors)
    user = _load(session, user_id, expected_version)
    user.password_hash = hash_password(password, hasher=hasher)
    user.failed_attempts = 0
    user.locked_until = None
    session.add(user)
    return user


def list_users(session: Session) -> Sequence[User]:
    return session.exec(select(User).order_by(col(User.username))).all()


def demo_sign_ins(session: Session) -> list[tuple[str, str]]:
    """(username, roles) of the demo accounts, for the sign-in page's demo notice."""
    users = session.exec(select(User).where(User.is_demo == True, User.active == True)).all()  # noqa: E712
    return [(u.username, u.roles) for u in sorted(users, key=lambda u: u.username)]
