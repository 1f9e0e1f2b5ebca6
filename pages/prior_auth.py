"""One prior-authorization case: checklist, request and packet, lifecycle, decision clock, devices, history."""

import streamlit as st

from ui.guard import require_role
from ui.prior_auth.case import open_case_screen
from ui.prior_auth.checklist import render_checklist
from ui.prior_auth.devices import render_devices
from ui.prior_auth.header import render_header
from ui.prior_auth.history import render_history
from ui.prior_auth.lifecycle import render_lifecycle
from ui.prior_auth.packet import render_packet

user = require_role("pages/prior_auth.py")

view = open_case_screen(user)
render_header(view)

# Keyed: after an action the case stays on the tab the user was working in.
tab_checklist, tab_packet, tab_status, tab_devices, tab_history = st.tabs(
    ["Checklist", "Request & packet", "Status & decisions", "Devices", "History"], key="case_tab", on_change="rerun")
with tab_checklist:
    render_checklist(view)
with tab_packet:
    render_packet(view)
with tab_status:
    render_lifecycle(view)
with tab_devices:
    render_devices(view)
with tab_history:
    render_history(view)
