"""The savings patient tab's yearly benefits: what is used and left, and the devices a date allows."""

from __future__ import annotations

from datetime import date

import streamlit as st

from desk.auth import CurrentUser
from desk.savings.money import format_cents
from desk.savings.overview import PatientSavings, devices_allowed
from ui.context import work
from ui.text import esc


def render_benefits(*, user: CurrentUser, today: date, patient_id: int, year: int, picture: PatientSavings) -> None:
    """Benefits used in the program year."""
    enrollment = picture.enrollment
    st.subheader(f"Benefits used in {year:d}")
    totals = picture.totals
    terms = totals.terms
    m1, m2, m3 = st.columns(3)
    m1.metric("Drug benefit remaining", format_cents(totals.drug.remaining_cents))
    m1.caption(f"Used {esc(format_cents(totals.drug.used_cents))} of {esc(format_cents(totals.drug.maximum_cents))}"
               + (" · maximum unconfirmed" if terms.is_unconfirmed("drug_benefit_max_cents") else ""))
    if totals.observation.maximum_cents is None:
        m2.metric("Observation rebate used", format_cents(totals.observation.used_cents))
        m2.caption("Yearly maximum not set (unconfirmed): enter it under Program terms.")
    else:
        m2.metric("Observation rebate remaining", format_cents(totals.observation.remaining_cents))
        m2.caption(f"Used {esc(format_cents(totals.observation.used_cents))} of "
                   f"{esc(format_cents(totals.observation.maximum_cents))}"
                   + (" · maximum unconfirmed" if terms.is_unconfirmed("observation_rebate_max_cents") else ""))
    m3.metric("Devices claimed", totals.devices_used)
    m3.caption(f"Limits: {terms.max_devices_per_day:d} a day, {terms.initial_window_devices:d} in the first "
               f"{terms.initial_window_days:d} days, {terms.later_window_devices:d} per "
               f"{terms.later_window_days:d} "
               "days after" + (" (unconfirmed)" if terms.is_unconfirmed("later_window_devices") else ""))
    if enrollment is not None:
        next_day = st.date_input("Check a treatment date", value=today, key="savings_next_day",
                                 format="MM/DD/YYYY")
        with work(user.username) as session:
            allowed = devices_allowed(session, patient_id=patient_id, on=next_day)
        if allowed == 0:
            st.error(f"No devices can be claimed on {next_day:%m/%d/%Y} without exceeding a device limit.")
        elif allowed < terms.max_devices_per_day:
            st.warning(f"Only {allowed:d} device(s) can be claimed on {next_day:%m/%d/%Y} within the limits.")
        else:
            st.caption(f"Up to {allowed:d} devices can be claimed on {next_day:%m/%d/%Y} within the limits.")
