"""The role guard every page calls first (st.navigation alone is not access control)."""

from __future__ import annotations

import streamlit as st

from desk.auth import CurrentUser, idle_expired
from desk.models import utcnow
from desk.navigation import roles_for
from desk.settings import load_settings

USER_KEY = "desk_user"
LAST_SEEN_KEY = "desk_last_seen"


def signed_in_user() -> CurrentUser | None:
    """The signed-in user, or None (also after the idle timeout, which signs the user out)."""
    user = st.session_state.get(USER_KEY)
    if not isinstance(user, CurrentUser):
        return None
    now = utcnow()
    last_seen = st.session_state.get(LAST_SEEN_KEY, now)
    if idle_expired(last_seen=last_seen, now=now, idle_minutes=load_settings().idle_minutes):
        sign_out()
        st.session_state["desk_idle_signed_out"] = True
        return None
    st.session_state[LAST_SEEN_KEY] = now
    return user


def sign_in(user: CurrentUser) -> None:
    st.session_state[USER_KEY] = user
    st.session_state[LAST_SEEN_KEY] = utcnow()


def sign_out() -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def require_role(page_path: str) -> CurrentUser:
    """Stop the page unless a signed-in user holds one of the roles registered for `page_path`."""
    user = signed_in_user()
    if user is None:
        st.info("Please sign in to continue. [Go to sign-in](/)")
        st.stop()
        raise AssertionError("unreachable")
    allowed = roles_for(page_path)
    if not user.has_any(*allowed):
        st.error("Your role does not allow this page.")
        st.stop()
        raise AssertionError("unreachable")
    return user
