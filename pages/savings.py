"""Savings program (SPRAVATO withMe): eligibility, enrollment, claims with EOBs, billing worklist, program terms."""

from datetime import date

import streamlit as st

from ui.guard import require_role
from ui.savings.billing import render_billing_tab
from ui.savings.common import NOTICE
from ui.savings.patient import render_patient_tab
from ui.savings.terms import render_terms_tab
from ui.text import esc

user = require_role("pages/savings.py")

today = date.today()

st.title("Savings program")
st.caption(
    "SPRAVATO withMe (formerly Janssen CarePath): commercial insurance only, no government program in any "
    "position. Program phone 1-844-479-4846 · enrollment fax 1-844-577-7282."
)
# The notice has a fixed slot: were it added only when there is one, the tabs would move down a place on the
# rerun after a save and the browser would show the old and the new tabs (two of every figure) until it ends.
notice_slot = st.container()
notice = st.session_state.pop(NOTICE, None)
if notice:
    notice_slot.success(esc(notice))

patient_tab, billing_tab, terms_tab = st.tabs(["Patient", "Billing worklist", "Program terms"], key="savings_tab",
                                              on_change="rerun")
with patient_tab:
    render_patient_tab(user=user, today=today)
with billing_tab:
    render_billing_tab(user=user, today=today)
with terms_tab:
    render_terms_tab(user=user, today=today)
