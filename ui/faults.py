"""Errors nobody planned for, on screen: the person sees a reference; the log gets it without any values."""

from __future__ import annotations

import logging

import streamlit as st

from desk.faults import report_unexpected, unexpected_message
from ui.text import esc


def show_unexpected(exc: Exception) -> bool:
    """Log `exc` through the desk's one fault handler and show its reference; True: nothing more to show."""
    st.error(esc(unexpected_message(report_unexpected(exc))), icon=":material/error:")
    return True


class _DropUncaughtTracebacks(logging.Filter):
    """Streamlit logs an uncaught exception with its text (a database error quotes the row) before calling the
    app's handler; the handler logs the same error by reference, so Streamlit's record is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "Uncaught app execution"


def keep_values_out_of_the_log() -> None:
    """Install the filter on Streamlit's error logger (once per process)."""
    logger = logging.getLogger("streamlit.error_util")
    if not any(isinstance(f, _DropUncaughtTracebacks) for f in logger.filters):
        logger.addFilter(_DropUncaughtTracebacks())
