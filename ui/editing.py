"""Form helpers shared by edit screens: opened versions and one-shot notices (refusals: ui/form_errors.py)."""

from __future__ import annotations

import streamlit as st

from ui.text import esc

_OPENED = "desk_opened_versions"
_NOTICE = "desk_notice"


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
