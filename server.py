"""The web server: Streamlit runs app.py; the desk adds its sign-in cookie routes and guards /media/.

Start with `streamlit run server.py` (scripts/run.sh does).
"""

from __future__ import annotations

import streamlit as st
from starlette.middleware import Middleware

from desk.settings import load_settings, require_secret_key
from desk.web import MediaGuard, routes
from ui.faults import keep_values_out_of_the_log, show_unexpected

# Refuse to start without a signing key outside demo mode (clear message, nothing served).
require_secret_key(load_settings())

keep_values_out_of_the_log()
# Errors outside a page run (fragments) reach the same handler as those app.py catches around each page.
app = st.App("app.py", routes=routes(), middleware=[Middleware(MediaGuard)], on_script_error=show_unexpected)
