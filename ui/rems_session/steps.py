"""The session log's four steps: before dosing, dosing, monitoring and discharge."""

from __future__ import annotations

from typing import Any

import streamlit as st

from desk.models import Site
from desk.rems.entry import MAX_DEVICES, OBSERVATIONS, field_label
from desk.rems.validation import ReadingInput, bp_above_limit
from desk.sites import list_prescribers
from ui.context import work
from ui.rems_session.inputs import LogInputs
from ui.rems_session.state import LogScreen, input_key, seed, value
from ui.text import esc


def _index(options: list[Any], field: str) -> int | None:
    """Which of `options` the choice of `field` starts on (None: none chosen)."""
    start = seed(field)
    return options.index(start) if start in options else None


def render_before(screen: LogScreen, inputs: LogInputs) -> None:
    """Step 1 · Before dosing."""
    settings = screen.settings
    now = screen.now
    _local = screen.local
    _open = screen.open_session
    _start_new = screen.start_new
    _value = value
    locked = inputs.locked
    _error = inputs.error
    _now_button = inputs.now_button
    _time = inputs.time
    _number = inputs.number
    _reading = inputs.reading
    # Two to a row: four in one row cut "No nasal steroid/decongestant within 1 h" at 1280 px.
    checks = [*st.columns(2), *st.columns(2)]
    for col, (key, label_md) in zip(checks, (
        (key, esc(field_label(key))) for key in ("no_food_2h", "no_liquids_30min", "nasal_medication_ok",
                                            "ride_home_confirmed")
    ), strict=True):
        col.toggle(label_md, value=bool(seed(key)), key=input_key(key), disabled=locked)
        with col:
            _error(key)
    _reading("pre")
    pre_systolic, pre_diastolic = _value("pre.systolic"), _value("pre.diastolic")
    if pre_systolic and pre_diastolic and bp_above_limit(
        ReadingInput("pre", now, int(pre_systolic), int(pre_diastolic)), settings
    ):
        st.warning(f"Blood pressure {esc(pre_systolic)}/{esc(pre_diastolic)} is above {settings.bp_systolic_limit:d}/"
                   f"{settings.bp_diastolic_limit:d}: dosing needs a prescriber's acknowledgement (risk vs benefit).",
                   icon=":material/warning:")
        ack_name, ack_time = st.columns([3, 2])
        with ack_name:
            st.text_input("Prescriber who acknowledged", value=seed("high_bp_acknowledged_by"),
                          key=input_key("high_bp_acknowledged_by"), disabled=locked)
            _error("high_bp_acknowledged_by")
        with ack_time:
            _time("Acknowledged at", "high_bp_acknowledged_at")
            _error("high_bp_acknowledged_at")
    else:
        _error("high_bp_acknowledged_by", "high_bp_acknowledged_at")
    _error("readings")
    st.radio("Vital signs acceptable before dosing?", options=[True, False], horizontal=True,
             index=_index([True, False], "vitals_ok_before"), format_func=lambda v: "Yes" if v else "No",
             key=input_key("vitals_ok_before"), disabled=locked)
    _error("vitals_ok_before")


def render_dosing(screen: LogScreen, inputs: LogInputs) -> None:
    """Step 2 · Dosing."""
    settings = screen.settings
    _local = screen.local
    _open = screen.open_session
    _start_new = screen.start_new
    _value = value
    locked = inputs.locked
    _error = inputs.error
    _now_button = inputs.now_button
    _time = inputs.time
    _number = inputs.number
    _reading = inputs.reading
    dose_col, indication_col, lot_col = st.columns(3)
    with dose_col:
        st.radio("Dose", options=[56, 84, 28], horizontal=True, index=_index([56, 84, 28], "dose_mg"),
                 key=input_key("dose_mg"), disabled=locked,
                 format_func=lambda mg: f"{mg:d} mg ({mg // 28:d} device{'s' if mg > 28 else ''})")
        _error("dose_mg")
    with indication_col:
        st.radio("Indication", options=["TRD", "MDSI"], horizontal=True, index=_index(["TRD", "MDSI"], "indication"),
                 key=input_key("indication"), disabled=locked)
        _error("indication")
    with lot_col:
        st.text_input("Lot number", value=seed("lot_number"), key=input_key("lot_number"), disabled=locked)
        _error("lot_number")
    devices_needed = int(_value("dose_mg") or 56) // 28
    st.caption(f"{devices_needed:d} devices, at least {settings.device_spacing_minutes:d} minutes apart; the patient "
               "self-administers under direct supervision.")
    device_cols = st.columns(MAX_DEVICES)
    for n in range(1, MAX_DEVICES + 1):
        with device_cols[n - 1]:
            if n <= devices_needed:
                _time(f"Device {n}", f"device_{n}")
                _now_button(f"device_{n}", f"Device {n} given now")
                _error(f"device_{n}")
    _error("device_times")


def render_monitoring(screen: LogScreen, inputs: LogInputs) -> None:
    """Step 3 · Monitoring."""
    _local = screen.local
    _open = screen.open_session
    _start_new = screen.start_new
    _value = value
    locked = inputs.locked
    _error = inputs.error
    _now_button = inputs.now_button
    _time = inputs.time
    _number = inputs.number
    _reading = inputs.reading
    _reading("post_40")
    _reading("extra_1")
    _reading("extra_2")
    st.markdown("**Observed**")
    obs_cols = st.columns(3)
    for col, name in zip(obs_cols, OBSERVATIONS, strict=True):
        with col:
            st.toggle(esc(name.replace("_", " ").capitalize()), value=bool(seed(name)), key=input_key(name),
                      disabled=locked)
            if _value(name):
                _time("Resolved at", f"{name}_resolved_at")
            _error(f"{name}_resolved_at")
    st.toggle("Serious adverse event", value=bool(seed("serious_adverse_event")),
              key=input_key("serious_adverse_event"), disabled=locked)
    if _value("serious_adverse_event"):
        st.text_area("What happened (no names)", value=seed("sae_details"), key=input_key("sae_details"),
                     disabled=locked)
    _error("sae_details")


def render_discharge(screen: LogScreen, inputs: LogInputs, *, site: Site) -> None:
    """Step 4 · Discharge."""
    user = screen.user
    _local = screen.local
    _open = screen.open_session
    _start_new = screen.start_new
    _value = value
    locked = inputs.locked
    _error = inputs.error
    _now_button = inputs.now_button
    _time = inputs.time
    _number = inputs.number
    _reading = inputs.reading
    _reading("discharge")
    st.radio("Vital signs acceptable before completion of monitoring?", options=[True, False], horizontal=True,
             index=_index([True, False], "vitals_ok_before_completion"), format_func=lambda v: "Yes" if v else "No",
             key=input_key("vitals_ok_before_completion"), disabled=locked)
    _error("vitals_ok_before_completion")
    st.number_input(esc(field_label("ready_to_leave_minutes")), value=seed("ready_to_leave_minutes"),
                    key=input_key("ready_to_leave_minutes"), step=1, min_value=None, disabled=locked,
                    placeholder="minutes",
                    help="Without the 2-hour minimum, after how many minutes from the first device would the patient "
                         "have been ready to leave?")
    _error("ready_to_leave_minutes")
    with work(user.username) as session:
        on_site = {p.id: f"{p.first_name} {p.last_name}"
                   for p in list_prescribers(session, site_id=site.id, include_inactive=False)}
    st.selectbox(esc(field_label("prescriber_on_site_id")), options=list(on_site),
                 index=_index(list(on_site), "prescriber_on_site_id"), format_func=lambda i: on_site.get(i, "—"),
                 key=input_key("prescriber_on_site_id"), disabled=locked,
                 placeholder="Choose the prescriber who was on site")
    _error("prescriber_on_site_id")
    hcp = st.columns(4)
    for col, key in zip(hcp, ("monitoring_hcp_first_name", "monitoring_hcp_last_name", "monitoring_hcp_phone",
                              "monitoring_hcp_email"), strict=True):
        col.text_input(esc(field_label(key)), value=seed(key), key=input_key(key), disabled=locked)
        with col:
            _error(key)
    discharge_time, discharge_now = st.columns([3, 1], vertical_alignment="bottom")
    _time("Discharge time", "discharged_at", discharge_time)
    with discharge_now:
        _now_button("discharged_at", "Discharge now")
    _error("discharged_at")
