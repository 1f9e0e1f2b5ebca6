"""Leaving a list for what a click on it chose, before the list is computed again.

A click reruns the page it is on; at 5,000 patients recomputing a list only to leave it cost most of the wait.
A click callback records where to go, and app.py goes there at the start of the next run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

PENDING_KEY = "desk_pending_page"


def go_after_click(page: str, *, state: Mapping[str, Any] | None = None,
                   query: Mapping[str, str] | None = None) -> None:
    """From a click callback: open `page` (with `state` set and `query` in its address) on the next run."""
    st.session_state.update(dict(state or {}))
    st.session_state[PENDING_KEY] = (page, dict(query or {}))


def follow_pending_page() -> None:
    """Open the page a click asked for, if any (app.py calls this once navigation is known)."""
    pending = st.session_state.pop(PENDING_KEY, None)
    if pending is not None:
        page, query = pending
        st.switch_page(page, query_params=query or None)
