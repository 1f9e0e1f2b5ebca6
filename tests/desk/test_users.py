"""Staff accounts: creation rules, roles, deactivation, unlock, password reset, last-admin protection."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlmodel import Session, select

from desk.errors import NotFound, StaleEdit, ValidationFailed
from desk.models import AuditEvent, User, utcnow
from desk.users import (
    create_user,
    demo_sign_ins,
    is_locked,
    list_users,
    reset_password,
    set_active,
    set_roles,
    unlock,
    update_account,
    update_details,
)
from tests.factories import make_user

PASSWORD = "a long enough password"


def _create(session: Session, hasher: PasswordHasher, **overrides: object) -> User:
    values: dict[str, object] = {
        "username": "Jordan.Lee",
        "display_name": "Jordan Lee",
        "roles": ["nurse", "billing"],
        "password": PASSWORD,
        "email": "Jordan@Clinic.org",
        "hasher": hasher,
    }
    values.update(overrides)
    return create_user(session, **values)  # type: ignore[arg-type]


def test_create_user_with_several_roles(session: Session, fast_hasher: PasswordHasher) -> None:
    user = _create(session, fast_hasher)
    assert (user.username, user.email, user.role_list) == ("jordan.lee", "jordan@clinic.org", ["billing", "nurse"])
    assert user.password_hash.startswith("$argon2id$")
    assert fast_hasher.verify(user.password_hash, PASSWORD)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"username": "x"}, "username", "2-40 lowercase letters"),
        ({"username": "bad name"}, "username", "2-40 lowercase letters"),
        ({"display_name": " "}, "display_name", "required"),
        ({"email": "no-at-sign"}, "email", "not an e-mail address"),
        ({"roles": []}, "roles", "choose at least one role"),
        ({"roles": ["doctor"]}, "roles", "unknown role 'doctor'"),
        ({"password": "short"}, "password", "at least 12 characters"),
    ],
)
def test_bad_account_input_names_the_field_and_writes_nothing(
    session: Session, fast_hasher: PasswordHasher, change: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _create(session, fast_hasher, **change)
    assert any(message in text for text in caught.value.for_field(field)), caught.value.errors
    assert list_users(session) == []
    assert session.exec(select(AuditEvent)).all() == []


def test_username_and_email_are_unique(session: Session, fast_hasher: PasswordHasher) -> None:
    _create(session, fast_hasher)
    with pytest.raises(ValidationFailed) as caught:
        _create(session, fast_hasher, username="jordan.lee", email="JORDAN@clinic.org")
    assert caught.value.for_field("username") == ["this username is taken"]
    assert caught.value.for_field("email") == ["another account already uses this e-mail"]
    assert len(list_users(session)) == 1


def test_set_roles_checks_version(session: Session, fast_hasher: PasswordHasher) -> None:
    make_user(session, hasher=fast_hasher, roles="admin")
    user = make_user(session, hasher=fast_hasher, roles="billing")
    session.commit()
    assert user.id is not None
    set_roles(session, user_id=user.id, roles=["nurse", "admin"], expected_version=1)
    assert user.roles == "admin,nurse"
    with pytest.raises(StaleEdit):
        set_roles(session, user_id=user.id, roles=["nurse"], expected_version=1)
    with pytest.raises(ValidationFailed, match="roles: choose at least one role"):
        set_roles(session, user_id=user.id, roles=[])


def test_last_active_admin_cannot_lose_admin_or_be_deactivated(session: Session, fast_hasher: PasswordHasher) -> None:
    admin = make_user(session, hasher=fast_hasher, roles="admin")
    assert admin.id is not None
    with pytest.raises(ValidationFailed, match="last active administrator"):
        set_roles(session, user_id=admin.id, roles=["billing"])
    with pytest.raises(ValidationFailed, match="last active administrator"):
        set_active(session, user_id=admin.id, active=False)
    second = make_user(session, hasher=fast_hasher, roles="admin,nurse")
    set_active(session, user_id=admin.id, active=False)
    assert not admin.active
    assert second.id is not None
    with pytest.raises(ValidationFailed, match="last active administrator"):
        set_roles(session, user_id=second.id, roles=["nurse"])


def test_reactivate_clears_lock(session: Session, fast_hasher: PasswordHasher) -> None:
    user = make_user(session, hasher=fast_hasher, active=False, failed_attempts=3,
                     locked_until=utcnow() + timedelta(minutes=5))
    assert user.id is not None
    set_active(session, user_id=user.id, active=True)
    assert (user.active, user.failed_attempts, user.locked_until) == (True, 0, None)


def test_unlock_and_is_locked(session: Session, fast_hasher: PasswordHasher) -> None:
    now = utcnow()
    user = make_user(session, hasher=fast_hasher, failed_attempts=2, locked_until=now + timedelta(minutes=10))
    assert is_locked(user, now=now)
    assert not is_locked(user, now=now + timedelta(minutes=11))
    assert user.id is not None
    unlock(session, user_id=user.id)
    assert not is_locked(user, now=now)
    assert user.failed_attempts == 0


def test_reset_password(session: Session, fast_hasher: PasswordHasher) -> None:
    user = make_user(session, hasher=fast_hasher, failed_attempts=4)
    assert user.id is not None
    with pytest.raises(ValidationFailed, match="password: use at least 12 characters"):
        reset_password(session, user_id=user.id, password="short", hasher=fast_hasher)
    reset_password(session, user_id=user.id, password="a brand new passphrase", hasher=fast_hasher)
    assert fast_hasher.verify(user.password_hash, "a brand new passphrase")
    assert user.failed_attempts == 0


def test_update_details(session: Session, fast_hasher: PasswordHasher) -> None:
    other = make_user(session, hasher=fast_hasher, email="taken@clinic.org")
    user = make_user(session, hasher=fast_hasher)
    assert user.id is not None and other.id is not None
    update_details(session, user_id=user.id, display_name=" Sam Ortiz ", email="Sam@Clinic.org")
    assert (user.display_name, user.email) == ("Sam Ortiz", "sam@clinic.org")
    with pytest.raises(ValidationFailed) as caught:
        update_details(session, user_id=user.id, display_name="", email="taken@clinic.org")
    assert caught.value.for_field("display_name") == ["required"]
    assert caught.value.for_field("email") == ["another account already uses this e-mail"]
    update_details(session, user_id=other.id, display_name="Other", email="taken@clinic.org")


def test_update_account_names_every_refused_field_at_once(session: Session, fast_hasher: PasswordHasher) -> None:
    user = make_user(session, hasher=fast_hasher, roles="nurse")
    assert user.id is not None
    with pytest.raises(ValidationFailed) as caught:
        update_account(session, user_id=user.id, display_name="", email="nope", roles=[])
    assert {e.field for e in caught.value.errors} == {"display_name", "email", "roles"}
    assert (user.display_name, user.role_list) != ("", [])
    update_account(session, user_id=user.id, display_name="Sam Ortiz", email="", roles=["billing", "nurse"])
    assert (user.display_name, user.role_list) == ("Sam Ortiz", ["billing", "nurse"])


def test_unknown_user(session: Session) -> None:
    with pytest.raises(NotFound):
        unlock(session, user_id=12345)


def test_demo_sign_ins_lists_active_demo_accounts_only(session: Session, fast_hasher: PasswordHasher) -> None:
    make_user(session, hasher=fast_hasher, username="nurse", roles="nurse", is_demo=True)
    make_user(session, hasher=fast_hasher, username="admin", roles="admin", is_demo=True)
    make_user(session, hasher=fast_hasher, username="gone", roles="admin", is_demo=True, active=False)
    make_user(session, hasher=fast_hasher, username="real", roles="admin")
    assert demo_sign_ins(session) == [("admin", "admin"), ("nurse", "nurse")]
