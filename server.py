"""The web server: Streamlit runs app.py; the desk adds its sign-in cookie routes and guards /media/.

Start with `streamlit run server.py` (scripts/run.sh does).
"""

from __future__ import annotations

import streamlit as st
from starlette.middleware import Middleware

from desk.settings import load_settings, require_secret_key
from desk.web import MediaGuard, routes

# Refuse to start without a signing key outside demo mode (clear message, nothing served).
require_secret_key(load_settings())

app = st.App("app.py", routes=routes(), middleware=[Middleware(MediaGuard)])
