"""Sign-in with argon2id, lockout after repeated failures, idle timeout, role checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from desk.audit import record_event
from desk.database import unit_of_work
from desk.errors import PermissionDenied, SignInFailed
from desk.models import User, utcnow

DEFAULT_HASHER = PasswordHasher()  # argon2id with the library's current defaults
# Hashed once so that an unknown username costs the same time as a wrong password.
_DUMMY_HASH = DEFAULT_HASHER.hash("not-a-real-password")
# The demo accounts' shared password, printed on the sign-in page in demo mode; refused whenever demo mode is off.
DEMO_PASSWORD = "spravato-demo"
_CHECKED = "password_checks"
_SIGN_IN_TRIES = 100
GENERIC_FAILURE = "Username or password is not correct, or the account is locked or inactive."


@dataclass(frozen=True)
class CurrentUser:
    """Who is signed in; what the UI keeps in its session (no password material)."""

    id: int
    username: str
    display_name: str
    roles: tuple[str, ...]

    def has_any(self, *roles: str) -> bool:
        return bool(set(roles) & set(self.roles))


def as_current_user(user: User) -> CurrentUser:
    assert user.id is not None
    return CurrentUser(user.id, user.username, user.display_name, tuple(user.role_list))


def hash_password(password: str, *, hasher: PasswordHasher = DEFAULT_HASHER) -> str:
    return hasher.hash(password)


def _aware(moment: datetime) -> datetime:
    # Every stored time is UTC; tolerate a naive value from an older row.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def authenticate(
    session: Session,
    *,
    username: str,
    password: str,
    max_attempts: int = 5,
    lockout_minutes: int = 15,
    now: datetime | None = None,
    hasher: PasswordHasher = DEFAULT_HASHER,
    demo: bool = True,
) -> CurrentUser:
    """Check a local sign-in; count failures and lock the account after `max_attempts`.

    Outside demo mode (`demo=False`) the published demo password is refused for every account.
    """
    now = now or utcnow()
    # Usernames are stored lowercase (desk.users.create_user).
    user = session.exec(select(User).where(User.username == username.strip().lower())).first()
    if user is None:
        password_matches(hasher, _DUMMY_HASH, password)
        session.info["actor"] = "anonymous"
        record_event(session, action="sign_in_failed", entity="user", detail="unknown username")
        raise SignInFailed(GENERIC_FAILURE)
    session.info["actor"] = user.username
    if user.locked_until and _aware(user.locked_until) > now:
        # Same hashing cost as any other attempt, so timing does not reveal the lock.
        password_matches(hasher, _DUMMY_HASH, password)
        record_event(session, action="sign_in_failed", entity="user", entity_id=user.id or "", detail="locked")
        raise SignInFailed(GENERIC_FAILURE)
    demo_password_refused = not demo and password == DEMO_PASSWORD
    if (demo_password_refused or not user.active or not user.password_hash
            or not password_matches(hasher, user.password_hash, password, session)):
        user.failed_attempts += 1
        detail = "inactive" if not user.active else "demo password" if demo_password_refused else "wrong password"
        if user.failed_attempts >= max_attempts:
            user.locked_until = now + timedelta(minutes=lockout_minutes)
            user.failed_attempts = 0
            detail += f"; locked for {lockout_minutes} minutes"
        record_event(session, action="sign_in_failed", entity="user", entity_id=user.id or "", detail=detail)
        raise SignInFailed(GENERIC_FAILURE)
    user.failed_attempts = 0
    user.locked_until = None
    user.last_sign_in_at = now
    record_event(session, action="sign_in", entity="user", entity_id=user.id or "")
    return as_current_user(user)


def password_matches(hasher: PasswordHasher, stored: str, password: str, session: Session | None = None) -> bool:
    checked: dict[tuple[str, str], bool] = session.info.get(_CHECKED, {}) if session is not None else {}
    if (stored, password) in checked:
        return checked[(stored, password)]
    try:
        result: bool = hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        result = False
    checked[(stored, password)] = result
    return result


def user_for_email(session: Session, *, email: str) -> CurrentUser | None:
    """The active account whose e-mail matches an OIDC identity (roles always come from our table)."""
    if not email.strip():
        return None
    user = session.exec(select(User).where(User.email == email.strip().lower(), User.active == True)).first()  # noqa: E712
    return as_current_user(user) if user else None


def sign_in_with_email(engine: Engine, *, email: str) -> CurrentUser:
    """Map an identity confirmed by the organisation's OIDC provider to our account, audited either way."""
    with unit_of_work(engine, actor="anonymous") as session:
        user = user_for_email(session, email=email)
        if user is None:
            # The e-mail itself is not recorded: it may belong to someone outside the clinic.
            record_event(session, action="sign_in_failed", entity="user", detail="oidc: no active account")
        else:
            session.info["actor"] = user.username
            account = session.get(User, user.id)
            assert account is not None
            account.last_sign_in_at = utcnow()
            record_event(session, action="sign_in", entity="user", entity_id=user.id, detail="oidc")
    if user is None:
        raise SignInFailed("Your organisation account is not registered on this desk. Ask an administrator.")
    return user


def current_account(session: Session, *, user_id: int) -> CurrentUser | None:
    """The account behind a signed-in session as it is now: None once deactivated or removed.

    Read on every page run so that a deactivation or a role change takes effect at once.
    """
    user = session.get(User, user_id)
    if user is None or not user.active:
        return None
    return as_current_user(user)


def sign_out_event(engine: Engine, *, user: CurrentUser, reason: str) -> None:
    """Audit a sign-out (by the user, or after the idle timeout)."""
    with unit_of_work(engine, actor=user.username) as session:
        record_event(session, action="sign_out", entity="user", entity_id=user.id, detail=reason)


def idle_expired(*, last_seen: datetime, now: datetime, idle_minutes: int) -> bool:
    """True when the user has been idle longer than the configured limit."""
    return now - last_seen > timedelta(minutes=idle_minutes)


def require(user: CurrentUser | None, *roles: str) -> CurrentUser:
    """Raise PermissionDenied unless `user` holds one of `roles` (service-level check)."""
    if user is None or not user.has_any(*roles):
        raise PermissionDenied("Your role does not allow this action.")
    return user


def sign_in_with_password(
    engine: Engine,
    *,
    username: str,
    password: str,
    max_attempts: int = 5,
    lockout_minutes: int = 15,
    hasher: PasswordHasher = DEFAULT_HASHER,
    demo: bool = True,
) -> CurrentUser:
    """authenticate() in its own unit of work that is committed on failure too, so failures count.

    Simultaneous sign-ins to one account collide on its version; the loser starts again from the
    winner's committed counts (its password check is remembered, not hashed again), so every attempt
    is counted and audited once.
    """
    checked: dict[tuple[str, str], bool] = {}
    for _ in range(_SIGN_IN_TRIES):
        failure: SignInFailed | None = None
        try:
            with unit_of_work(engine, actor="anonymous") as session:
                session.info[_CHECKED] = checked
                try:
                    return authenticate(
                        session,
                        username=username,
                        password=password,
                        max_attempts=max_attempts,
                        lockout_minutes=lockout_minutes,
                        hasher=hasher,
                        demo=demo,
                    )
                except SignInFailed as exc:
                    failure = exc
        except StaleDataError:
            continue
        except OperationalError as exc:
            if not _busy(exc):
                raise
            continue
        assert failure is not None
        raise failure
    raise SignInFailed("Too many sign-ins to this account at the same moment; try again.")


def _busy(exc: OperationalError) -> bool:
    """SQLite refuses a write from a transaction whose snapshot another writer has just moved past."""
    return "database is locked" in str(exc.orig) or "database is busy" in str(exc.orig)
