"""The session log's running clock: minutes since the first device and the monitoring reminders."""

from __future__ import annotations

from datetime import date, datetime, time

import streamlit as st

from desk.models import utcnow
from desk.rems.sessions import session_clock
from desk.rems.validation import ReadingInput
from ui.rems_session.state import CLOCK_SECONDS, LogScreen, value
from ui.text import esc


def render_clock(screen: LogScreen, *, session_date: date) -> None:
    """The running clock; it refreshes on its own while the screen is open."""
    settings = screen.settings
    zone = screen.zone
    _local = screen.local
    _value = value

    def _at(clock: time | None) -> datetime | None:
        return datetime.combine(session_date, clock, tzinfo=zone) if clock else None

    @st.fragment(run_every=CLOCK_SECONDS)
    def running_clock() -> None:
        """Minutes since the first device and the reminders; refreshes on its own while the screen is open."""
        first = _at(_value("device_1"))
        readings = [ReadingInput("post_40", _at(_value("post_40.time")) or utcnow(), _value("post_40.systolic"),
                                 _value("post_40.diastolic"))] if _value("post_40.systolic") else []
        clock = session_clock(first_device_at=first, readings=readings, discharged_at=_at(_value("discharged_at")),
                              now=utcnow(), settings=settings)
        box = st.container(border=True)
        elapsed, reading, discharge = box.columns(3)
        elapsed.metric("Since first device", "—" if clock.minutes_since_first_device is None
                       else f"{clock.minutes_since_first_device} min")
        reading.metric(f"~{settings.post_dose_reading_minutes:d}-min BP", "taken" if clock.post_dose_reading_done
                       else _local(clock.post_dose_reading_due_at))
        discharge.metric("Earliest discharge", _local(clock.discharge_allowed_at))
        for reminder in clock.reminders:
            if "due now" in reminder or "was reached" in reminder:
                box.warning(esc(reminder), icon=":material/alarm:")
            else:
                box.info(esc(reminder), icon=":material/schedule:")

    running_clock()
