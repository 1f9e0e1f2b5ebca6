"""The role guard every page calls first (st.navigation alone is not access control)."""

from __future__ import annotations

import streamlit as st
from sqlmodel import Session

from desk.auth import CurrentUser, current_account, idle_expired, sign_out_event
from desk.downloads import GRANTS
from desk.models import utcnow
from desk.navigation import roles_for
from desk.settings import load_settings
from desk.web_sessions import COOKIE_NAME, check_session, end_session, resume, signing_key, start_session, verify_cookie
from ui.context import get_engine
from ui.jump import follow_pending_page

USER_KEY = "desk_user"
LAST_SEEN_KEY = "desk_last_seen"
SIGNED_OUT_REASON_KEY = "desk_signed_out_reason"
WEB_SESSION_KEY = "desk_web_session"
PENDING_TICKET_KEY = "desk_pending_ticket"
CLEAR_COOKIE_KEY = "desk_clear_cookie"
SIGN_IN_PROMPT = "Please sign in to continue."
REFUSAL = "Your role does not allow this page."


def signed_in_user() -> CurrentUser | None:
    """The signed-in user as the database knows them now, or None.

    Signs the user out after the idle timeout, and when the account was deactivated or removed since
    sign-in; role changes apply on the next page run.
    """
    user = st.session_state.get(USER_KEY)
    if not isinstance(user, CurrentUser):
        return _resume_from_cookie()
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
    web_session_id = st.session_state.get(WEB_SESSION_KEY)
    if isinstance(web_session_id, int):
        live = check_session(get_engine(), session_id=web_session_id, settings=load_settings(), now=now)
        if live is None:
            # Ended on the server: signed out in another tab, or the idle or absolute timeout passed.
            sign_out(reason="session ended")
            st.session_state[SIGNED_OUT_REASON_KEY] = "ended"
            return None
        if not live.ticket_pending:
            st.session_state.pop(PENDING_TICKET_KEY, None)  # traded for the cookie (or expired): stop offering it
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


def session_cookie() -> str:
    """The desk's sign-in cookie as the browser sent it when this tab connected ('' when none)."""
    value = dict(st.context.cookies).get(COOKIE_NAME)
    return value if isinstance(value, str) else ""


def _resume_from_cookie() -> CurrentUser | None:
    """Sign in again from the browser's signed cookie (a reload, a bookmark, a typed address)."""
    raw = session_cookie()
    if not raw:
        return None
    settings = load_settings()
    token = verify_cookie(raw, key=signing_key(settings))
    if token is None:
        return None
    live = resume(get_engine(), token=token, settings=settings, announce=True)
    if live is None:
        return None
    st.session_state[USER_KEY] = live.user
    st.session_state[LAST_SEEN_KEY] = utcnow()
    st.session_state[WEB_SESSION_KEY] = live.id
    return live.user


def sign_in(user: CurrentUser) -> None:
    """Remember the user in this tab and start the server session; the browser collects its cookie next."""
    started = start_session(get_engine(), user=user)
    st.session_state[USER_KEY] = user
    st.session_state[LAST_SEEN_KEY] = utcnow()
    st.session_state[WEB_SESSION_KEY] = started.id
    st.session_state[PENDING_TICKET_KEY] = started.ticket


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
    web_session_id = st.session_state.get(WEB_SESSION_KEY)
    if isinstance(web_session_id, int):
        end_session(get_engine(), session_id=web_session_id, reason=reason)
        GRANTS.revoke_session(web_session_id=web_session_id)
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state[CLEAR_COOKIE_KEY] = True  # the sign-in form has the browser drop its cookie
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
    follow_pending_page()  # a click on the previous run chose another page: go there before this one draws
    return user
