"""The sign-in screen: local accounts, optional OIDC, and the demo notice."""

from __future__ import annotations

import streamlit as st
from sqlmodel import Session

from desk.auth import sign_in_with_password, user_for_email
from desk.errors import SignInFailed
from desk.users import demo_sign_ins
from ui.context import get_engine, get_settings
from ui.guard import sign_in

DEMO_PASSWORD_HINT = "spravato-demo"


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all
        return False


def sign_in_view() -> None:
    settings = get_settings()
    st.title("SPRAVATO® Paperwork Desk")
    st.caption("Prior authorizations · REMS monitoring · savings program")
    if st.session_state.pop("desk_idle_signed_out", False):
        st.warning(f"You were signed out after {settings.idle_minutes} minutes without activity.")

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
            )
        except SignInFailed as exc:
            st.error(str(exc))
        else:
            sign_in(user)
            st.rerun()

    if _oidc_configured():
        st.divider()
        if st.user.is_logged_in:
            with Session(get_engine()) as session:
                mapped = user_for_email(session, email=str(st.user.get("email", "")))
            if mapped:
                sign_in(mapped)
                st.rerun()
            st.error("Your organisation account is not registered on this desk. Ask an administrator.")
            st.button("Sign out of the organisation account", on_click=st.logout)
        else:
            st.button("Sign in with your organisation account", on_click=st.login)

    if settings.demo:
        with Session(get_engine()) as session:
            accounts = demo_sign_ins(session)
        if accounts:
            st.divider()
            st.markdown("#### Demo sign-ins")
            st.caption(
                "Synthetic demo data only — no real patients. "
                "Disable with `DESK_DEMO=0` before real use and remove the demo accounts."
            )
            st.table(
                [{"username": name, "password": DEMO_PASSWORD_HINT, "roles": roles} for name, roles in accounts]
            )
