"""The session log's input helpers: times with a 'now' button, numbers, blood-pressure readings, refusals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import streamlit as st

from desk.models import utcnow
from desk.rems.entry import SLOT_LABELS, field_label
from ui.rems_session.state import ERRORS, PREFIX, LogScreen
from ui.text import esc


@dataclass(frozen=True)
class LogInputs:
    """The log's inputs: locked once the form is submitted (or for a reader), with each field's refusal."""

    zone: Any
    session_date: date
    locked: bool
    errors: dict[str, str]

    def error(self, key: str) -> None:
        errors = self.errors
        if key in errors:
            st.markdown(f":red[{esc(errors[key])}]")

    def now_button(self, key: str, label_md: str = ":material/schedule:") -> None:
        zone = self.zone
        locked = self.locked
        def stamp() -> None:
            st.session_state[PREFIX + key] = utcnow().astimezone(zone).time().replace(second=0, microsecond=0)

        st.button(label_md, key=f"now_{key}", on_click=stamp, disabled=locked, width="stretch",
                  help="Set to the current time")

    def time(self, label_md: str, key: str, container: Any = st) -> None:
        locked = self.locked
        # Labels here are written in code; Streamlit also reads a label as the field's accessible name.
        container.time_input(label_md, key=PREFIX + key, step=60, disabled=locked)

    def number(self, label_md: str, key: str, container: Any = st) -> None:
        locked = self.locked
        container.number_input(label_md, key=PREFIX + key, step=1, min_value=None, disabled=locked, placeholder="—")

    def reading(self, slot: str) -> None:
        _time = self.time
        _now_button = self.now_button
        _number = self.number
        _error = self.error
        st.markdown(f"**{SLOT_LABELS[slot]}**")
        cols = st.columns([2.2, 0.9, 1.7, 1.7, 1.7, 1.7], vertical_alignment="bottom")
        _time("Time", f"{slot}.time", cols[0])
        with cols[1]:
            _now_button(f"{slot}.time")
        _number("Systolic", f"{slot}.systolic", cols[2])
        _number("Diastolic", f"{slot}.diastolic", cols[3])
        _number("Heart rate", f"{slot}.heart_rate", cols[4])
        _number("SpO2 %", f"{slot}.spo2", cols[5])
        for value in ("time", "systolic", "diastolic", "heart_rate", "spo2"):
            _error(f"{slot}.{value}")


def open_inputs(screen: LogScreen, *, session_date: date, submitted: bool) -> LogInputs:
    """The refusals of the last save, above the steps, and whether the inputs are locked."""
    may_record = screen.may_record
    errors: dict[str, str] = st.session_state.get(ERRORS, {})
    if errors:
        st.error("Nothing was saved. Please correct:\n\n" + "\n".join(f"- **{esc(field_label(k))}**: {esc(m)}"
                                                                      for k, m in errors.items()))
    locked = not may_record or (submitted and not st.session_state.get("rems_amending"))
    return LogInputs(zone=screen.zone, session_date=session_date, locked=locked, errors=errors)
