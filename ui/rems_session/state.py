"""The session log's state: which session is on screen, the REMS settings and the clinic's clock."""

from __future__ import annotations

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

PREFIX = "rems_f_"
OPEN = "rems_open"  # {"id": session id or None, "patient_id", "site_id", "date", "version"}
LOG_FORM = "rems_log"  # the form name its refusals are kept under (ui/form_errors.py)
CLOCK_SECONDS = 30


def value(key: str) -> Any:
    """What the log's input `key` holds now."""
    return st.session_state.get(PREFIX + key)


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
                     values: dict[str, Any]) -> None:
        """Put a session (or a new one) on the screen: remember which, and load its values into the widgets."""
        today = self.today
        st.session_state[OPEN] = {
            "id": ts.id if ts else None, "patient_id": patient_id, "site_id": site_id,
            "date": ts.session_date if ts else today, "version": ts.version if ts else None,
        }
        for key, value in values.items():
            st.session_state[PREFIX + key] = value
        clear_errors(LOG_FORM)

    def start_new(self, patient_id: int, site_id: int) -> None:
        """Put a blank log for `patient_id` on the screen and empty the picker, which would otherwise reopen the
        session chosen (or preselected) there over the new one."""
        first, _, last = self.user.display_name.partition(" ")
        with work(self.user.username) as session:
            on_site = default_prescriber_on_site(session, patient_id=patient_id, site_id=site_id)
        self.open_session(None, patient_id=patient_id, site_id=site_id,
                          values=blank_form(hcp_first_name=first, hcp_last_name=last, prescriber_on_site_id=on_site))
        st.session_state["rems_pick"] = None


def open_log_screen(user: CurrentUser) -> LogScreen:
    """The settings and the time this run of the log works with."""
    return LogScreen(user=user, settings=load_rems_settings(), may_record=can_record(user), now=utcnow())
