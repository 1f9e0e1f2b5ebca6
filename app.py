"""Entry point: settings, cached engine, sign-in gate, role-filtered navigation, sidebar."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import streamlit as st

from desk.audit import AuditUnprotected
from desk.errors import StartRefused
from desk.navigation import pages_for
from desk.rems.config import RemsSettingRefused, load_rems_settings
from ui.context import get_engine
from ui.faults import show_unexpected
from ui.guard import SIGNED_OUT_REASON_KEY, idle_is_over, sign_out, signed_in_user
from ui.sign_in import collect_cookie, sign_in_pages
from ui.text import esc

# A local icon: a material-icon favicon is fetched from an outside font host on every page load.
FAVICON = Path(__file__).parent / "ui" / "static" / "favicon.png"
st.set_page_config(page_title="SPRAVATO Paperwork Desk", page_icon=str(FAVICON), layout="wide")
try:
    load_rems_settings()  # a REMS limit loosened by a setting stops the desk here
    get_engine()
except (AuditUnprotected, RemsSettingRefused, StartRefused) as refusal:
    st.error(f"The desk cannot start: {esc(refusal)}", icon=":material/gpp_bad:")
    st.stop()


@st.fragment(run_every=timedelta(minutes=1))
def _idle_watch() -> None:
    # Clears an unattended screen: without this, PHI would stay visible until the next click.
    if idle_is_over():
        sign_out(reason="idle")
        st.session_state[SIGNED_OUT_REASON_KEY] = "idle"
        st.rerun(scope="app")


user = signed_in_user()
if user is None:
    navigation = st.navigation(sign_in_pages())
else:
    sections: dict[str, list[st.Page]] = {}
    for spec in pages_for(user.roles):
        sections.setdefault(spec.section, []).append(
            st.Page(spec.path, title=spec.title, icon=spec.icon, url_path=spec.url_path)
        )
    navigation = st.navigation(sections, expanded=True)
    with st.sidebar:
        st.markdown(f"**{esc(user.display_name)}**")
        st.caption(esc(" · ".join(user.roles)))
        collect_cookie()
        if st.button("Sign out", icon=":material/logout:", width="stretch"):
            sign_out()
            st.rerun()
        _idle_watch()
try:
    navigation.run()
except Exception as unexpected:  # st.stop and st.rerun are BaseExceptions and pass through
    show_unexpected(unexpected)
