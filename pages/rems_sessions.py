"""REMS session log: one tablet screen per treatment session, with the monitoring clock running."""

import streamlit as st

from ui.editing import show_notice
from ui.guard import require_role
from ui.rems_session.clock import render_clock
from ui.rems_session.header import render_header
from ui.rems_session.inputs import open_inputs
from ui.rems_session.monitoring_form import render_monitoring_form
from ui.rems_session.picker import render_picker
from ui.rems_session.save import render_save
from ui.rems_session.state import open_log_screen
from ui.rems_session.steps import render_before, render_discharge, render_dosing, render_monitoring

user = require_role("pages/rems_sessions.py")

screen = open_log_screen(user)

st.title("Session log")
show_notice()
if not screen.may_record:
    st.info("Your role can read session logs and download monitoring forms, but not record sessions.",
            icon=":material/visibility:")

patients, sites, opened = render_picker(screen)
patient, site, session_date, submitted, stored = render_header(screen, opened=opened, patients=patients, sites=sites)
render_clock(screen, session_date=session_date)
inputs = open_inputs(screen, session_date=session_date, submitted=submitted)

# Keyed: after recording, the log stays on the step the nurse was working in.
before, dosing, monitoring, discharge_tab, form_tab = st.tabs(
    ["1 · Before dosing", "2 · Dosing", "3 · Monitoring", "4 · Discharge", "Monitoring form"], key="session_tab",
    on_change="rerun",
)
with before:
    render_before(screen, inputs)
with dosing:
    render_dosing(screen, inputs)
with monitoring:
    render_monitoring(screen, inputs)
with discharge_tab:
    render_discharge(screen, inputs, site=site)
render_save(screen, inputs, opened=opened, submitted=submitted)
with form_tab:
    render_monitoring_form(screen, opened=opened, stored=stored)
