"""Sign-in through the app: local accounts, lockout message, idle sign-out, deactivation, organisation sign-in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from desk.auth import GENERIC_FAILURE, hash_password
from desk.database import unit_of_work
from desk.models import AuditEvent, User, utcnow
from desk.navigation import pages_for
from tests.ui.conftest import AppFactory
from tests.ui.screen import shown
from ui.guard import LAST_SEEN_KEY, REFUSAL, USER_KEY

PASSWORD = "correct horse battery"
OIDC_SECRETS = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "test-cookie-secret",
    "client_id": "desk",
    "client_secret": "secret",
    "server_metadata_url": "https://idp.example.org/.well-known/openid-configuration",
}


@pytest.fixture
def accounts(app_db: Engine, fast_hasher) -> Engine:  # type: ignore[no-untyped-def]
    """A nurse with a password and e-mail, and an admin."""
    with unit_of_work(app_db, actor="setup") as session:
        session.add(User(username="nia", display_name="Nia Nurse", roles="nurse", email="nia@clinic.org",
                         password_hash=hash_password(PASSWORD, hasher=fast_hasher)))
        session.add(User(username="ada", display_name="Ada Admin", roles="admin,billing",
                         password_hash=hash_password(PASSWORD, hasher=fast_hasher)))
    return app_db


def _sign_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click()
    return at.run()


def test_sign_in_shows_user_roles_and_only_their_pages(page_app: AppFactory, accounts: Engine) -> None:
    at = _sign_in(page_app("app.py").run(), "NIA", PASSWORD)
    assert not at.exception
    assert shown(at.title[0].value) == "Today"
    sidebar_text = " ".join(m.value for m in at.sidebar.markdown)
    assert "Nia Nurse" in sidebar_text
    assert [b.label for b in at.sidebar.button] == ["Sign out"]
    assert at.session_state[USER_KEY].roles == ("nurse",)
    for spec in pages_for(["nurse"]):
        assert not at.switch_page(spec.path).run().exception
    # AppTest may still run an unlisted page file directly (as a legacy page); its guard refuses.
    try:
        at.switch_page("pages/admin_users.py").run()
    except ValueError:
        pass
    else:
        assert [shown(e.value) for e in at.error] == [REFUSAL]
        assert not at.title


def test_wrong_password_shows_the_generic_message(page_app: AppFactory, accounts: Engine) -> None:
    at = _sign_in(page_app("app.py").run(), "nia", "wrong password")
    assert [shown(e.value) for e in at.error] == [GENERIC_FAILURE]
    assert USER_KEY not in at.session_state


def test_five_failures_lock_even_the_right_password_out(page_app: AppFactory, accounts: Engine) -> None:
    at = page_app("app.py").run()
    for _ in range(5):
        at = _sign_in(at, "nia", "wrong password")
    at = _sign_in(at, "nia", PASSWORD)
    assert [shown(e.value) for e in at.error] == [GENERIC_FAILURE]
    with Session(accounts) as session:
        nia = session.exec(select(User).where(User.username == "nia")).one()
    assert nia.locked_until is not None


def test_signed_in_sidebar_offers_sign_out(page_app: AppFactory, accounts: Engine) -> None:
    # Clicking it is covered in the browser (tests/e2e/test_sign_in.py): after its first run AppTest executes
    # a file page directly, without the entry point that draws the sidebar.
    at = page_app("app.py", roles=("billing",)).run()
    assert [b.label for b in at.sidebar.button] == ["Sign out"]
    assert "billing" in " ".join(c.value for c in at.sidebar.caption)


def test_idle_user_is_signed_out(page_app: AppFactory, accounts: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESK_IDLE_MINUTES", "10")
    at = page_app("app.py", roles=("nurse",))
    at.session_state[LAST_SEEN_KEY] = utcnow() - timedelta(minutes=11)
    at.run()
    assert not at.exception
    assert shown(at.warning[0].value) == "You were signed out after 10 minutes without activity."
    assert [b.label for b in at.button] == ["Sign in"]


def test_recent_activity_keeps_the_user_signed_in(page_app: AppFactory, accounts: Engine) -> None:
    at = page_app("app.py", roles=("nurse",))
    at.session_state[LAST_SEEN_KEY] = utcnow() - timedelta(minutes=29)
    at.run()
    assert shown(at.title[0].value) == "Today"


def test_deactivated_account_is_signed_out_at_once(page_app: AppFactory, accounts: Engine) -> None:
    at = _sign_in(page_app("app.py").run(), "nia", PASSWORD)
    with unit_of_work(accounts, actor="ada") as session:
        session.exec(select(User).where(User.username == "nia")).one().active = False
    at.run()
    assert USER_KEY not in at.session_state
    assert not at.title or shown(at.title[0].value) != "Today"
    with Session(accounts) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "sign_out")).one()
    assert (event.actor, event.detail) == ("nia", "account deactivated")


def test_role_change_applies_on_the_next_run(page_app: AppFactory, accounts: Engine) -> None:
    at = _sign_in(page_app("app.py").run(), "nia", PASSWORD)
    with unit_of_work(accounts, actor="ada") as session:
        session.exec(select(User).where(User.username == "nia")).one().roles = "nurse,admin"
    at.run()
    assert at.session_state[USER_KEY].roles == ("nurse", "admin")
    at.switch_page("pages/admin_users.py").run()
    assert shown(at.title[0].value) == "Users"


def test_organisation_sign_in_takes_roles_from_our_table(page_app: AppFactory, accounts: Engine) -> None:
    at = page_app("app.py")
    at.secrets["auth"] = OIDC_SECRETS
    at.user = {"is_logged_in": True, "email": "Nia@Clinic.org"}
    at.run()
    assert not at.exception
    assert shown(at.title[0].value) == "Today"
    assert at.session_state[USER_KEY].roles == ("nurse",)


def test_organisation_identity_without_an_account_is_refused(page_app: AppFactory, accounts: Engine) -> None:
    at = page_app("app.py")
    at.secrets["auth"] = OIDC_SECRETS
    at.user = {"is_logged_in": True, "email": "stranger@elsewhere.org"}
    at.run()
    assert shown(at.error[0].value).startswith("Your organisation account is not registered")
    assert USER_KEY not in at.session_state
    assert "Sign out of the organisation account" in [b.label for b in at.button]


def test_organisation_sign_in_button_only_when_configured(page_app: AppFactory, accounts: Engine) -> None:
    at = page_app("app.py").run()
    assert "Sign in with your organisation account" not in [b.label for b in at.button]
    at = page_app("app.py")
    at.secrets["auth"] = OIDC_SECRETS
    at.run()
    assert "Sign in with your organisation account" in [b.label for b in at.button]
