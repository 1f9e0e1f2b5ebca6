"""The sign-in screen: local accounts, optional organisation sign-in (OIDC), and the demo notice."""

from __future__ import annotations

import json
from urllib.parse import urlencode, urlsplit

import streamlit as st
from sqlmodel import Session

from desk.auth import CurrentUser, sign_in_with_email, sign_in_with_password
from desk.errors import SignInFailed
from desk.navigation import PAGES, pages_for
from desk.users import demo_sign_ins
from desk.web import END_PATH, ESTABLISH_PATH, safe_next
from ui.context import get_engine, get_settings
from ui.guard import (
    CLEAR_COOKIE_KEY,
    PENDING_TICKET_KEY,
    SIGNED_OUT_REASON_KEY,
    oidc_signed_in,
    session_cookie,
    sign_in,
)
from ui.text import esc

DEMO_PASSWORD_HINT = "spravato-demo"
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


def _js_string(value: str) -> str:
    """`value` as a JavaScript string literal inside a <script> tag."""
    # JSON is a valid JS string literal; escaping "<" keeps "</script>" from closing the tag.
    return json.dumps(value).replace("<", "\\u003c")


def go_to(address: str) -> None:
    """Send the browser to a same-origin address of the desk's web server (a full page load)."""
    st.html(f"<script>window.location.replace({_js_string(address)})</script>", unsafe_allow_javascript=True)


def run_in_background(address: str, *, then_open: str | None = None) -> None:
    """Have the browser request a same-origin address of the desk's web server without leaving the page (the
    response sets or clears the sign-in cookie), then, if asked, open `then_open` (a full page load)."""
    after = f".finally(() => window.location.replace({_js_string(then_open)}))" if then_open else ""
    options = "{credentials: 'same-origin', redirect: 'manual', cache: 'no-store'}"
    st.html(f"<script>fetch({_js_string(address)}, {options}){after}</script>", unsafe_allow_javascript=True)


def _establish_address() -> str | None:
    ticket = st.session_state.get(PENDING_TICKET_KEY)
    return f"{ESTABLISH_PATH}?{urlencode({'ticket': ticket})}" if isinstance(ticket, str) and ticket else None


def collect_cookie() -> None:
    """While the sign-in's one-time ticket is not traded yet (ui.guard drops it once the server has), the browser
    trades it for the cookie that lets a reload, a bookmark or another tab resume this sign-in."""
    address = _establish_address()
    if address and in_browser():
        run_in_background(address)


def _continue_signed_in(user: CurrentUser) -> None:
    """On to the page the browser asked for, in this tab (no page load): its address is still in the browser's
    bar. A page the role does not open gives way to the landing page, once the cookie is collected."""
    allowed = {spec.url_path for spec in pages_for(user.roles)}
    asked = urlsplit(st.context.url or "/").path.strip("/")
    address = _establish_address()
    if asked and asked not in allowed and address and in_browser():
        st.caption("Signing in…")
        run_in_background(address, then_open="/")
        st.stop()
    st.rerun()


def sign_in_pages() -> list[st.Page]:
    """The sign-in form, also at every page address so a bookmark keeps its page (and query) for after sign-in."""
    return [st.Page(sign_in_view, title="Sign in", icon=":material/login:", default=True)] + [
        st.Page(sign_in_view, title="Sign in", url_path=spec.url_path, visibility="hidden") for spec in PAGES]


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
    reason = st.session_state.pop(SIGNED_OUT_REASON_KEY, None) or st.query_params.get(REASON_PARAM)
    if REASON_PARAM in st.query_params:
        del st.query_params[REASON_PARAM]
    if session_cookie() and in_browser():
        # A cookie of an ended or forged session: let the server clear it, keeping the asked-for page.
        back = _requested_address()
        if reason in REASONS:
            back += ("&" if "?" in back else "?") + urlencode({REASON_PARAM: reason})
        go_to(f"{END_PATH}?{urlencode({'next': back})}")
        st.stop()
    if st.session_state.pop(CLEAR_COOKIE_KEY, False) and in_browser():
        run_in_background(END_PATH)  # signed out in this tab: the browser drops the ended session's cookie
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
            _continue_signed_in(user)

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
            _continue_signed_in(user)
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
