"""The session log's state: which session is on screen, the REMS settings and the clinic's clock.

What the server puts on screen (a session opened, a new log, a time set by a 'now' button) is drawn as the
inputs' starting values under keys of a new *round*. Writing to an input's key instead is applied once, and a run
the browser asks for before drawing it carries the values it still shows, which would replace the new ones; under
the round's new keys those answers find no input and are dropped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import streamlit as st

from desk.auth import CurrentUser
from desk.models import TreatmentSession, utcnow
from desk.rems.config import RemsSettings, load_rems_settings
from desk.rems.entry import blank_form
from desk.rems.permissions import can_record
from desk.rems.sessions import default_prescriber_on_site
from ui.context import work
from ui.form_errors import clear_errors

OPEN = "rems_open"  # {"id": session id or None, "patient_id", "site_id", "date", "version"}
ROUND = "rems_round"  # the round the inputs are keyed by
SEEDS = "rems_seeds"  # each input's starting value in this round, by form key (and PICK)
PICK = "pick"  # the "Today's sessions" picker: the session it shows, or None
AMENDING = "rems_amending"  # set while a submitted session is being corrected
LOG_FORM = "rems_log"  # the form name its refusals are kept under (ui/form_errors.py)
CLOCK_SECONDS = 30
_NOT_ENTERED = object()


def field_key(round_: int, field: str) -> str:
    """The widget key of the input of `field` in round `round_`."""
    return f"rems_f{round_:d}_{field}"


def current_round() -> int:
    """The round the inputs are keyed by; a first one starts at the clock in milliseconds, so rounds only grow
    even after a sign-out has emptied the state while the browser still holds inputs of earlier rounds."""
    if ROUND not in st.session_state:
        st.session_state[ROUND] = time.time_ns() // 1_000_000
    return int(st.session_state[ROUND])


def input_key(field: str) -> str:
    """The widget key of the input of `field` (a form key, or PICK) in the current round."""
    return field_key(current_round(), field)


def seed(field: str) -> Any:
    """The value the input of `field` starts from in the current round."""
    return st.session_state.get(SEEDS, {}).get(field)


def value(field: str) -> Any:
    """What the input of `field` holds now: what was entered in this round, else its starting value."""
    entered = st.session_state.get(input_key(field), _NOT_ENTERED)
    return seed(field) if entered is _NOT_ENTERED else entered


def on_screen() -> dict[str, Any]:
    """Every seeded input's current value."""
    return {field: value(field) for field in st.session_state.get(SEEDS, {})}


def put_on_screen(values: dict[str, Any]) -> None:
    """Start a new round of the inputs, drawn from `values` (the inputs not named keep their current value)."""
    seeds = {**on_screen(), **values}
    last = st.session_state.get(ROUND)
    now_ms = time.time_ns() // 1_000_000
    st.session_state[ROUND] = now_ms if last is None else max(int(last) + 1, now_ms)
    st.session_state[SEEDS] = seeds


@dataclass(frozen=True)
class LogScreen:
    """Who records, the REMS settings and the clinic's clock for one run of the session log."""

    user: CurrentUser
    settings: RemsSettings
    may_record: bool
    now: datetime

    @property
    def zone(self) -> Any:
        return self.settings.zone

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()

    def local(self, moment: datetime | None) -> str:
        return f"{moment.astimezone(self.zone):%H:%M}" if moment else "—"

    def open_session(self, ts: TreatmentSession | None, *, patient_id: int, site_id: int,
                     values: dict[str, Any], picked: int | None) -> None:
        """Put a session (or a new one) on the screen: remember which, and draw its values in the inputs, with
        the picker showing `picked`."""
        today = self.today
        st.session_state[OPEN] = {
            "id": ts.id if ts else None, "patient_id": patient_id, "site_id": site_id,
            "date": ts.session_date if ts else today, "version": ts.version if ts else None,
        }
        put_on_screen({**values, PICK: picked})
        st.session_state.pop(AMENDING, None)  # an amendment started on the session before does not carry over
        clear_errors(LOG_FORM)

    def start_new(self, patient_id: int, site_id: int) -> None:
        """Put a blank log for `patient_id` on the screen and empty the picker, which would otherwise reopen the
        session chosen (or preselected) there over the new one."""
        first, _, last = self.user.display_name.partition(" ")
        with work(self.user.username) as session:
            on_site = default_prescriber_on_site(session, patient_id=patient_id, site_id=site_id)
        self.open_session(None, patient_id=patient_id, site_id=site_id,
                          values=blank_form(hcp_first_name=first, hcp_last_name=last, prescriber_on_site_id=on_site),
                          picked=None)


def open_log_screen(user: CurrentUser) -> LogScreen:
    """The settings and the time this run of the log works with."""
    return LogScreen(user=user, settings=load_rems_settings(), may_record=can_record(user), now=utcnow())
