"""Form helpers shared by edit screens: field messages next to inputs, opened versions, one-shot notices."""

from __future__ import annotations

import streamlit as st

from desk.errors import ValidationFailed
from ui.text import esc

_ERRORS = "desk_form_errors"
_OPENED = "desk_opened_versions"
_NOTICE = "desk_notice"


def keep_errors(form: str, exc: ValidationFailed) -> None:
    """Remember a rejected submission's messages so the next run shows each under its field."""
    st.session_state.setdefault(_ERRORS, {})[form] = {e.field: e.message for e in exc.errors}


def clear_errors(form: str) -> None:
    st.session_state.setdefault(_ERRORS, {}).pop(form, None)


def field_error(form: str, field: str) -> None:
    """Show the remembered message for `field` of `form`, if any (call right after the input)."""
    message = st.session_state.get(_ERRORS, {}).get(form, {}).get(field)
    if message:
        st.markdown(f":red[{esc(message)}]")


def form_has_errors(form: str) -> bool:
    return bool(st.session_state.get(_ERRORS, {}).get(form))


def opened_version(kind: str, record_id: int, current: int) -> int:
    """The version of a record when this user opened it (kept until they save or reload)."""
    opened: dict[tuple[str, int], int] = st.session_state.setdefault(_OPENED, {})
    return opened.setdefault((kind, record_id), current)


def forget_version(kind: str, record_id: int) -> None:
    st.session_state.setdefault(_OPENED, {}).pop((kind, record_id), None)


def notify(message: str) -> None:
    """A success notice shown once on the next run (after st.rerun)."""
    st.session_state[_NOTICE] = message


def show_notice() -> None:
    message = st.session_state.pop(_NOTICE, None)
    if message:
        st.success(esc(message))
