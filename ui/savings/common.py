"""What the savings screen's parts share: the notice after a save, refusals shown by the form, money inputs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from desk.errors import DeskError, ValidationFailed
from desk.savings.money import to_cents
from ui.text import esc

NOTICE = "savings_notice"
METHOD_LABELS = {"card_secondary": "Card billed as secondary insurance", "rebate_request": "Rebate request"}
DOC_HELP = "PDF or image (PNG, JPEG, TIFF). The file is stored under a name the desk generates."


def done(message: str) -> None:
    """Show `message` once after the rerun that follows a successful save."""
    st.session_state[NOTICE] = message
    st.rerun()


def show_problem(exc: DeskError) -> None:
    if isinstance(exc, ValidationFailed):
        for error in exc.errors:
            label = error.field.replace("_", " ")
            st.error(esc(error.message) if error.field == "accept_warnings"
                     else f"{esc(label.capitalize())}: {esc(error.message)}")
    else:
        st.error(esc(exc))


def attempt(action: Callable[[], Any]) -> bool:
    """Run a save; show its refusal next to the form and return False when nothing was written."""
    try:
        action()
    except DeskError as exc:
        show_problem(exc)
        return False
    return True


def money_input(label_md: str, *, key: str, value: float = 0.0, help_md: str | None = None) -> int:
    """A dollar amount; the label and help are written in code (Streamlit also reads the label aloud)."""
    amount = st.number_input(label_md, min_value=0.0, value=value, step=1.0, format="%.2f", key=key,
                             help=help_md)
    return to_cents(amount)
