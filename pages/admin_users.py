"""Admin: staff accounts (create, roles, deactivate, unlock, reset password)."""

from collections.abc import Callable

import streamlit as st
from sqlmodel import Session

from desk.errors import StaleEdit, ValidationFailed
from desk.models import ROLE_LABELS, ROLES, utcnow
from desk.prior_auth.clocks import local_text
from desk.users import (
    create_user,
    is_locked,
    list_users,
    reset_password,
    set_active,
    unlock,
    update_account,
)
from ui.context import get_settings, work
from ui.editing import forget_version, notify, opened_version, show_notice
from ui.form_errors import FormErrors, clear_errors, keep_errors
from ui.guard import require_role
from ui.text import esc

user = require_role("pages/admin_users.py")

# Each field an account save can refuse, as its input's label reads.
ACCOUNT_LABELS = {"username": "Username", "display_name": "Full name", "email": "E-mail", "roles": "Roles",
                  "password": "First password", "active": "Status"}

st.title("Users")
show_notice()

with work(user.username) as session:
    accounts = list(list_users(session))
now = utcnow()
timezone = get_settings().timezone

st.dataframe(
    [
        {
            "Username": a.username,
            "Name": a.display_name,
            "E-mail": a.email,
            "Roles": ", ".join(ROLE_LABELS.get(r, r) for r in a.role_list),
            "Active": a.active,
            "Locked": is_locked(a, now=now),
            "Last sign-in": local_text(a.last_sign_in_at, timezone),
            "Demo": a.is_demo,
        }
        for a in accounts
    ],
    hide_index=True,
    width="stretch",
)

create_tab, manage_tab = st.tabs(["New account", "Change an account"])

with create_tab:
    form = "create_user"
    generation = st.session_state.get("create_user_generation", 0)
    errors = FormErrors(form, ACCOUNT_LABELS)
    with st.form(f"{form}_{generation}"):
        username = st.text_input("Username", help="2-40 lowercase letters, digits, dot, dash or underscore")
        errors.under("username")
        display_name = st.text_input("Full name")
        errors.under("display_name")
        email = st.text_input("E-mail", help="Needed for organisation sign-in; links the identity to this account")
        errors.under("email")
        roles = st.multiselect("Roles", ROLES, format_func=lambda r: ROLE_LABELS.get(r, r),
                               help="Small clinics share hats: choose every role this person holds")
        errors.under("roles")
        password = st.text_input("First password", type="password", help="At least 12 characters")
        errors.under("password")
        errors.rest()
        submitted = st.form_submit_button("Create account", type="primary")
    if submitted:
        try:
            with work(user.username) as session:
                created = create_user(
                    session, username=username, display_name=display_name, roles=roles, password=password, email=email
                )
                created_name = created.username
        except ValidationFailed as exc:
            keep_errors(form, exc)
        else:
            clear_errors(form)
            st.session_state["create_user_generation"] = generation + 1
            notify(f"Account {created_name} created.")
        st.rerun()

with manage_tab:
    if not accounts:
        st.info("No accounts yet.")
    else:
        # Options are ids, not rows: a widget keeps its value between runs, a row must be read fresh.
        by_id = {a.id: a for a in accounts}
        chosen_id = st.selectbox(
            "Account",
            list(by_id),
            format_func=lambda i: f"{by_id[i].username} — {by_id[i].display_name}"
            + ("" if by_id[i].active else " (inactive)"),
        )
        chosen = by_id[chosen_id]
        assert chosen.id is not None
        version = opened_version("user", chosen.id, chosen.version)
        if version != chosen.version:
            st.warning("Someone else changed this account since you opened it.")
            if st.button("Reload the latest version"):
                forget_version("user", chosen.id)
                st.rerun()

        def _apply(action: str, change: Callable[[Session], object]) -> None:
            """Run one account change; show a field message, a stale-edit notice or a success notice."""
            assert chosen.id is not None
            try:
                with work(user.username) as session:
                    change(session)
            except ValidationFailed as exc:
                keep_errors(f"manage_{chosen.id}", exc)
            except StaleEdit as exc:
                clear_errors(f"manage_{chosen.id}")
                st.session_state["desk_stale_message"] = str(exc)
            else:
                clear_errors(f"manage_{chosen.id}")
                forget_version("user", chosen.id)
                notify(f"{action} for {chosen.username}.")
            st.rerun()

        stale = st.session_state.pop("desk_stale_message", None)
        if stale:
            st.error(esc(stale))
        form = f"manage_{chosen.id}"
        errors = FormErrors(form, {**ACCOUNT_LABELS, "password": "New password"})
        locked = is_locked(chosen, now=now)
        status = "active" if chosen.active else "inactive"
        st.caption(f"Status: {esc(status)}" + (" · locked after failed sign-ins" if locked else ""))
        errors.under("active")

        with st.form(f"details_{chosen.id}"):
            new_name = st.text_input("Full name", value=chosen.display_name)
            errors.under("display_name")
            new_email = st.text_input("E-mail", value=chosen.email)
            errors.under("email")
            new_roles = st.multiselect("Roles", ROLES, default=chosen.role_list,
                                       format_func=lambda r: ROLE_LABELS.get(r, r))
            errors.under("roles")
            save = st.form_submit_button("Save details and roles", type="primary")
        if save:
            _apply(
                "Details and roles saved",
                lambda s: update_account(s, user_id=chosen.id, display_name=new_name, email=new_email,
                                         roles=new_roles, expected_version=version),
            )

        left, middle, _ = st.columns([1, 1, 2])
        if chosen.active:
            if left.button("Deactivate", icon=":material/block:", disabled=chosen.id == user.id,
                           help="You cannot deactivate your own account" if chosen.id == user.id else None):
                _apply("Deactivated", lambda s: set_active(s, user_id=chosen.id, active=False,
                                                           expected_version=version))
        elif left.button("Reactivate", icon=":material/check_circle:"):
            _apply("Reactivated", lambda s: set_active(s, user_id=chosen.id, active=True, expected_version=version))
        if locked and middle.button("Unlock", icon=":material/lock_open:"):
            _apply("Unlocked", lambda s: unlock(s, user_id=chosen.id, expected_version=version))

        with st.form(f"password_{chosen.id}", clear_on_submit=True):
            st.markdown("**Reset password**")
            new_password = st.text_input("New password", type="password", help="At least 12 characters")
            errors.under("password")
            reset = st.form_submit_button("Set new password")
        errors.rest()
        if reset:
            _apply("Password reset", lambda s: reset_password(s, user_id=chosen.id, password=new_password,
                                                              expected_version=version))
