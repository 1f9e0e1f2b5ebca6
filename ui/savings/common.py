"""What the savings screen's parts share: the notice after a save, refusals kept for the form, money inputs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from desk.errors import DeskError
from desk.savings.money import to_cents
from ui.form_errors import clear_errors, keep_errors

NOTICE = "savings_notice"
METHOD_LABELS = {"card_secondary": "Card billed as secondary insurance", "rebate_request": "Rebate request"}
DOC_HELP = "PDF or image (PNG, JPEG, TIFF). The file is stored under a name the desk generates."


def done(message: str) -> None:
    """Show `message` once after the rerun that follows a successful save."""
    st.session_state[NOTICE] = message
    st.rerun()


def attempt(form: str, action: Callable[[], Any]) -> bool:
    """Run a save of `form`; a refusal is kept for the form to show under its inputs and the screen reruns. True
    when the save went through (the caller then reruns with its notice)."""
    try:
        action()
    except DeskError as exc:
        keep_errors(form, exc)
        st.rerun()
    clear_errors(form)
    return True


def money_input(label_md: str, *, key: str, value: float = 0.0, help_md: str | None = None) -> int:
    """A dollar amount; the label and help are written in code (Streamlit also reads the label aloud)."""
    amount = st.number_input(label_md, min_value=0.0, value=value, step=1.0, format="%.2f", key=key,
                             help=help_md)
    return to_cents(amount)
