"""The session log's input helpers: times with a 'now' button, numbers, blood-pressure readings, refusals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import streamlit as st

from desk.models import utcnow
from desk.rems.entry import SLOT_LABELS, field_label
from ui.form_errors import FormErrors, kept_errors
from ui.rems_session.state import AMENDING, LOG_FORM, LogScreen, input_key, put_on_screen, seed


class _Labels(dict[str, str]):
    """Every form key's label, as the log's inputs read (desk.rems.entry.field_label)."""

    def __missing__(self, key: str) -> str:
        return field_label(key) if key != LOG_FORM else ""

    def get(self, key: str, default: str | None = None) -> str:  # type: ignore[override]
        return self[key] if key else (default or "")


@dataclass(frozen=True)
class LogInputs:
    """The log's inputs: locked once the form is submitted (or for a reader), with each field's refusals."""

    zone: Any
    session_date: date
    locked: bool
    errors: FormErrors

    def error(self, key: str, *also: str) -> None:
        """Directly under the input of `key`: its refusals of the last save, named by the input's label."""
        self.errors.under(key, *also)

    def now_button(self, key: str, label_md: str = ":material/schedule:") -> None:
        zone = self.zone
        locked = self.locked
        def stamp() -> None:
            # A new round: a run the browser asks for before drawing the time cannot put the old one back.
            put_on_screen({key: utcnow().astimezone(zone).time().replace(second=0, microsecond=0)})

        st.button(label_md, key=f"now_{key}", on_click=stamp, disabled=locked, width="stretch",
                  help="Set to the current time")

    def time(self, label_md: str, key: str, container: Any = st) -> None:
        locked = self.locked
        # Labels here are written in code; Streamlit also reads a label as the field's accessible name.
        container.time_input(label_md, value=seed(key), key=input_key(key), step=60, disabled=locked)

    def number(self, label_md: str, key: str, container: Any = st) -> None:
        locked = self.locked
        container.number_input(label_md, value=seed(key), key=input_key(key), step=1, min_value=None,
                               disabled=locked, placeholder="—")

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
    """Above the steps, that the last save was refused (each message is shown next to its field); and whether the
    inputs are locked."""
    may_record = screen.may_record
    kept = kept_errors(LOG_FORM)
    if kept:
        st.error(f"Nothing was saved: {len(kept):d} problem{'' if len(kept) == 1 else 's'} to correct, each shown "
                 "next to its field below.", icon=":material/error:")
    locked = not may_record or (submitted and not st.session_state.get(AMENDING))
    return LogInputs(zone=screen.zone, session_date=session_date, locked=locked,
                     errors=FormErrors(LOG_FORM, _Labels()))
