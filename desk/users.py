"""Staff account administration: create, edit, change roles, deactivate, unlock, reset password."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from argon2 import PasswordHasher
from sqlmodel import Session, col, select

from desk.auth import DEFAULT_HASHER, DEMO_PASSWORD, hash_password, password_matches
from desk.errors import FieldError, NotFound, ValidationFailed
from desk.models import ROLES, User
from desk.records import check_version

MIN_PASSWORD_LENGTH = 12
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _role_errors(roles: Sequence[str]) -> list[FieldError]:
    if not roles:
        return [FieldError("roles", "choose at least one role")]
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        return [FieldError("roles", f"unknown role {unknown[0]!r}; expected one of {', '.join(ROLES)}")]
    return []


def _email_errors(session: Session, email: str, *, user_id: int | None) -> list[FieldError]:
    # Organisation sign-in (OIDC) maps an e-mail to exactly one account, so e-mails are unique.
    email = email.strip().lower()
    if not email:
        return []
    if not _EMAIL.match(email):
        return [FieldError("email", "not an e-mail address")]
    clash = session.exec(select(User.id).where(User.email == email, User.id != user_id)).first()
    if clash is not None:
        return [FieldError("email", "another account already uses this e-mail")]
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
    errors += _email_errors(session, email, user_id=None)
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


def get_user(session: Session, *, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def _load(session: Session, user_id: int, expected_version: int | None) -> User:
    return check_version(get_user(session, user_id=user_id), expected_version=expected_version, entity="user account")


def set_roles(session: Session, *, user_id: int, roles: Sequence[str], expected_version: int | None = None) -> User:
    errors = _role_errors(roles)
    if errors:
        raise ValidationFailed(errors)
    user = _load(session, user_id, expected_version)
    if "admin" not in roles:
        _keep_an_admin(session, user, field="roles")
    user.roles = ",".join(r for r in ROLES if r in roles)
    session.add(user)
    session.flush()
    return user


def set_active(session: Session, *, user_id: int, active: bool, expected_version: int | None = None) -> User:
    user = _load(session, user_id, expected_version)
    if not active:
        _keep_an_admin(session, user, field="active")
    user.active = active
    if active:
        user.failed_attempts = 0
        user.locked_until = None
    session.add(user)
    session.flush()
    return user


def _keep_an_admin(session: Session, user: User, *, field: str) -> None:
    """Refuse a change that would leave the desk without an active administrator."""
    if not user.active or "admin" not in user.role_list:
        return
    others = session.exec(
        select(User).where(User.active == True, User.id != user.id)  # noqa: E712
    ).all()
    if not any("admin" in other.role_list for other in others):
        raise ValidationFailed([FieldError(field, "this is the last active administrator; add another first")])


def update_details(
    session: Session, *, user_id: int, display_name: str, email: str, expected_version: int | None = None
) -> User:
    """Change an account's display name and e-mail (the e-mail links an organisation sign-in)."""
    errors = [] if display_name.strip() else [FieldError("display_name", "required")]
    errors += _email_errors(session, email, user_id=user_id)
    if errors:
        raise ValidationFailed(errors)
    user = _load(session, user_id, expected_version)
    user.display_name = display_name.strip()
    user.email = email.strip().lower()
    session.add(user)
    session.flush()
    return user


def update_account(
    session: Session, *, user_id: int, display_name: str, email: str, roles: Sequence[str],
    expected_version: int | None = None,
) -> User:
    """Change an account's display name, e-mail and roles in one save; every refused field is named at once."""
    errors = [] if display_name.strip() else [FieldError("display_name", "required")]
    errors += _email_errors(session, email, user_id=user_id)
    errors += _role_errors(roles)
    if errors:
        raise ValidationFailed(errors)
    update_details(session, user_id=user_id, display_name=display_name, email=email,
                   expected_version=expected_version)
    return set_roles(session, user_id=user_id, roles=roles)


def unlock(session: Session, *, user_id: int, expected_version: int | None = None) -> User:
    """Lift a lockout after failed sign-ins before it expires by itself."""
    user = _load(session, user_id, expected_version)
    user.failed_attempts = 0
    user.locked_until = None
    session.add(user)
    session.flush()
    return user


def is_locked(user: User, *, now: datetime) -> bool:
    locked_until = user.locked_until
    if locked_until is None:
        return False
    if locked_until.tzinfo is None:
        locked_until = locked_until.replace(tzinfo=UTC)
    return locked_until > now


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
    user.is_demo = False
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> Sequence[User]:
    return session.exec(select(User).order_by(col(User.username))).all()


def accounts_with_demo_password(session: Session, *, hasher: PasswordHasher = DEFAULT_HASHER) -> list[str]:
    """Usernames of active accounts that still sign in with the published demo password (demo accounts only:
    the demo loader flags them, and a password reset clears the flag)."""
    flagged = session.exec(select(User).where(User.is_demo == True, User.active == True)).all()  # noqa: E712
    return sorted(u.username for u in flagged
                  if u.password_hash and password_matches(hasher, u.password_hash, DEMO_PASSWORD))


def demo_sign_ins(session: Session) -> list[tuple[str, str]]:
    """(username, roles) of the demo accounts, for the sign-in page's demo notice."""
    users = session.exec(select(User).where(User.is_demo == True, User.active == True)).all()  # noqa: E712
    return [(u.username, u.roles) for u in sorted(users, key=lambda u: u.username)]
