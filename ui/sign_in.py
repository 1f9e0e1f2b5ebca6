"""The sign-in screen: local accounts, optional organisation sign-in (OIDC), and the demo notice."""

from __future__ import annotations

import json
from urllib.parse import urlencode, urlsplit

import streamlit as st
from sqlmodel import Session

from desk.auth import CurrentUser, sign_in_with_email, sign_in_with_password
from desk.errors import SignInFailed
from desk.navigation import pages_for
from desk.users import demo_sign_ins
from desk.web import END_PATH, ESTABLISH_PATH, safe_next
from ui.context import get_engine, get_settings
from ui.guard import (
    PENDING_TICKET_KEY,
    SIGNED_OUT_REASON_KEY,
    USER_KEY,
    oidc_signed_in,
    session_cookie,
    sign_in,
)
from ui.text import esc

DEMO_PASSWORD_HINT = "spravato-demo"
NEXT_KEY = "desk_next"
REASON_PARAM = "signed_out"
REASONS = ("idle", "inactive", "ended")


def in_browser() -> bool:
    """True when a browser is connected (it reports its address); there is nowhere to set a cookie otherwise."""
    url = st.context.url
    return isinstance(url, str) and bool(url)


def _requested_address() -> str:
    """The path and query the browser asked for (Streamlit shows the sign-in page at any address)."""
    path = urlsplit(st.context.url or "/").path or "/"
    query = {k: v for k, v in st.query_params.to_dict().items() if k != REASON_PARAM}
    return safe_next(path + (f"?{urlencode(query)}" if query else ""))


def go_to(address: str) -> None:
    """Send the browser to a same-origin address of the desk's web server (a full page load)."""
    # JSON is a valid JS string literal; escaping "<" keeps "</script>" from closing the tag.
    target = json.dumps(address).replace("<", "\\u003c")
    st.html(f"<script>window.location.replace({target})</script>", unsafe_allow_javascript=True)


def collect_cookie_view() -> None:
    """After a sign-in: the browser trades the one-time ticket for its cookie and opens the asked-for page."""
    ticket = str(st.session_state.pop(PENDING_TICKET_KEY, ""))
    back = str(st.session_state.pop(NEXT_KEY, "/"))
    user = st.session_state.get(USER_KEY)
    allowed = {f"/{spec.url_path}" for spec in pages_for(user.roles if isinstance(user, CurrentUser) else ())}
    if urlsplit(back).path not in allowed:
        back = "/"  # the role does not open that page: start on the landing page
    address = f"{ESTABLISH_PATH}?{urlencode({'ticket': ticket, 'next': back})}"
    st.caption("Signing in…")
    go_to(address)
    st.link_button("Continue", address)


def _continue_signed_in() -> None:
    """Straight on to the cookie exchange in this run (a rerun first would cost the browser a whole extra page
    run before its redirect); without a browser, the app's next run shows the signed-in desk."""
    if PENDING_TICKET_KEY in st.session_state and in_browser():
        collect_cookie_view()
        st.stop()
    st.rerun()


def oidc_configured() -> bool:
    """True when `.streamlit/secrets.toml` has an [auth] block (organisation sign-in through st.login)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all
        return False


def sign_in_view() -> None:
    settings = get_settings()
    st.title("SPRAVATO® Paperwork Desk")
    st.caption("Prior authorizations · REMS monitoring · savings program")
    st.session_state.setdefault(NEXT_KEY, _requested_address())
    reason = st.session_state.pop(SIGNED_OUT_REASON_KEY, None) or st.query_params.get(REASON_PARAM)
    if REASON_PARAM in st.query_params:
        del st.query_params[REASON_PARAM]
    if session_cookie() and in_browser():
        # A cookie of an ended or forged session: let the server clear it, keeping the asked-for page.
        back = st.session_state[NEXT_KEY]
        if reason in REASONS:
            back += ("&" if "?" in back else "?") + urlencode({REASON_PARAM: reason})
        go_to(f"{END_PATH}?{urlencode({'next': back})}")
        st.stop()
    if reason == "idle":
        st.warning(f"You were signed out after {settings.idle_minutes:d} minutes without activity.")
    elif reason == "inactive":
        st.warning("Your account is no longer active. Ask an administrator.")
    elif reason == "ended":
        st.warning("Your sign-in has ended: you signed out in another tab, or it timed out.")

    if oidc_configured():
        _organisation_sign_in()

    with st.form("sign_in", enter_to_submit=True):
        username = st.text_input("Username", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            user = sign_in_with_password(
                get_engine(),
                username=username,
                password=password,
                max_attempts=settings.lockout_attempts,
                lockout_minutes=settings.lockout_minutes,
                demo=settings.demo,
            )
        except SignInFailed as exc:
            st.error(esc(exc))
        else:
            sign_in(user)
            _continue_signed_in()

    if settings.demo:
        _demo_notice()


def _organisation_sign_in() -> None:
    if oidc_signed_in():
        try:
            user = sign_in_with_email(get_engine(), email=str(st.user.get("email") or ""))
        except SignInFailed as exc:
            st.error(esc(exc))
            st.button("Sign out of the organisation account", on_click=st.logout)
        else:
            sign_in(user)
            _continue_signed_in()
    else:
        st.button("Sign in with your organisation account", on_click=st.login, type="primary")
    st.divider()
    st.caption("Or sign in with a desk account:")


def _demo_notice() -> None:
    with Session(get_engine()) as session:
        accounts = demo_sign_ins(session)
    if not accounts:
        return
    with st.container(border=True):
        st.subheader("Demo sign-ins", anchor=False)
        st.caption(
            "Synthetic demo data only — no real patients. "
            "Disable with `DESK_DEMO=0` before real use and remove the demo accounts."
        )
        st.table(
            [
                {"username": name, "password": DEMO_PASSWORD_HINT, "roles": roles.replace(",", ", ")}
                for name, roles in accounts
            ]
        )
