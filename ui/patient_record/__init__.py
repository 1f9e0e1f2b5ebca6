"""The patient record screen"s tabs. Each tab is a function of a RecordContext, so a new tab is one function."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from ui.patient_record.context import RecordContext
from ui.patient_record.coverage import coverage_tab
from ui.patient_record.demographics import demographics_tab
from ui.patient_record.diagnoses import diagnoses_tab
from ui.patient_record.medications import medications_tab
from ui.patient_record.scales import scales_tab
from ui.patient_record.stays import stays_tab
from ui.patient_record.trials import trials_tab

__all__ = ["RECORD_TABS", "RecordContext", "add_record_tab", "shown_record_tabs"]

SHOWN_TABS_KEY = "record_shown_tabs"

# The record page shows these tabs in this order; add a tab by appending (title, function of RecordContext).
RECORD_TABS: list[tuple[str, Callable[[RecordContext], None]]] = [
    ("Demographics", demographics_tab),
    ("Coverage", coverage_tab),
    ("Diagnoses", diagnoses_tab),
    ("Trials", trials_tab),
    ("Scales", scales_tab),
    ("Medications & screening", medications_tab),
    ("Stays", stays_tab),
]


def add_record_tab(title: str, render: Callable[[RecordContext], None], *, position: int | None = None) -> None:
    """Register another tab on the patient record (e.g. payer criteria); `render` draws it from the context."""
    if any(existing == title for existing, _ in RECORD_TABS):
        return
    RECORD_TABS.insert(len(RECORD_TABS) if position is None else position, (title, render))


def shown_record_tabs(patient_id: int) -> set[str]:
    """The titles of the tabs shown since `patient_id`'s record was opened (forgotten when another one opens)."""
    shown = st.session_state.get(SHOWN_TABS_KEY)
    if not isinstance(shown, tuple) or shown[0] != patient_id:
        shown = (patient_id, set())
        st.session_state[SHOWN_TABS_KEY] = shown
    return shown[1]
