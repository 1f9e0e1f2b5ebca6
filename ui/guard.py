"""The role guard every page calls first (st.navigation alone is not access control)."""

from __future__ import annotations

import streamlit as st
from sqlmodel import Session

from desk.auth import CurrentUser, current_account, idle_expired, sign_out_event
from desk.models import utcnow
from desk.navigation import roles_for
from desk.settings import load_settings
from ui.context import get_engine

USER_KEY = "desk_user"
LAST_SEEN_KEY = "desk_last_seen"
SIGNED_OUT_REASON_KEY = "desk_signed_out_reason"
SIGN_IN_PROMPT = "Please sign in to continue."
REFUSAL = "Your role does not allow this page."


def signed_in_user() -> CurrentUser | None:
    """The signed-in user as the database knows them now, or None.

    Signs the user out after the idle timeout, and when the account was deactivated or removed since
    sign-in; role changes apply on the next page run.
    """
    user = st.session_state.get(USER_KEY)
    if not isinstance(user, CurrentUser):
        return None
    now = utcnow()
    if idle_is_over():
        sign_out(reason="idle")
        st.session_state[SIGNED_OUT_REASON_KEY] = "idle"
        return None
    with Session(get_engine()) as session:
        fresh = current_account(session, user_id=user.id)
    if fresh is None:
        sign_out(reason="account deactivated")
        st.session_state[SIGNED_OUT_REASON_KEY] = "inactive"
        return None
    st.session_state[USER_KEY] = fresh
    st.session_state[LAST_SEEN_KEY] = now
    return fresh


def idle_is_over() -> bool:
    """True when a signed-in user has not interacted for longer than DESK_IDLE_MINUTES (no side effects)."""
    if not isinstance(st.session_state.get(USER_KEY), CurrentUser):
        return False
    now = utcnow()
    last_seen = st.session_state.get(LAST_SEEN_KEY, now)
    return idle_expired(last_seen=last_seen, now=now, idle_minutes=load_settings().idle_minutes)


def sign_in(user: CurrentUser) -> None:
    st.session_state[USER_KEY] = user
    st.session_state[LAST_SEEN_KEY] = utcnow()


def oidc_signed_in() -> bool:
    try:
        return bool(st.user.is_logged_in)
    except Exception:  # no [auth] configuration at all
        return False


def sign_out(*, reason: str = "user") -> None:
    """Forget the session's user and every UI value; end the organisation (OIDC) sign-in too."""
    user = st.session_state.get(USER_KEY)
    if isinstance(user, CurrentUser):
        sign_out_event(get_engine(), user=user, reason=reason)
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    if oidc_signed_in():
        # Otherwise the identity cookie would sign the same person straight back in.
        st.logout()


def require_role(page_path: str) -> CurrentUser:
    """Stop the page unless a signed-in user holds one of the roles registered for `page_path`."""
    user = signed_in_user()
    if user is None:
        st.info(f"{SIGN_IN_PROMPT} [Go to sign-in](/)")
        st.stop()
        raise AssertionError("unreachable")
    allowed = roles_for(page_path)
    if not user.has_any(*allowed):
        st.error(REFUSAL)
        st.stop()
        raise AssertionError("unreachable")
    return user
