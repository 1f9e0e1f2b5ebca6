"""The sign-in screen: local accounts, optional organisation sign-in (OIDC), and the demo notice."""

from __future__ import annotations

import streamlit as st
from sqlmodel import Session

from desk.auth import sign_in_with_email, sign_in_with_password
from desk.errors import SignInFailed
from desk.users import demo_sign_ins
from ui.context import get_engine, get_settings
from ui.guard import SIGNED_OUT_REASON_KEY, oidc_signed_in, sign_in
from ui.text import esc

DEMO_PASSWORD_HINT = "spravato-demo"


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
    reason = st.session_state.pop(SIGNED_OUT_REASON_KEY, None)
    if reason == "idle":
        st.warning(f"You were signed out after {settings.idle_minutes:d} minutes without activity.")
    elif reason == "inactive":
        st.warning("Your account is no longer active. Ask an administrator.")

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
            st.rerun()

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
            st.rerun()
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
