"""On the patient record: ECT and TMS courses, allergies and the EHR's prescribers, as imported, with sources."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from desk.history.provenance import EhrHistoryRow, ehr_history
from ui.context import work
from ui.text import esc


def _table(title: str, rows: list[EhrHistoryRow], *, empty: str) -> None:
    st.markdown(f"**{esc(title)}**")
    if not rows:
        st.caption(esc(empty))
        return
    st.table(pd.DataFrame([{"Fact": r.fact, "Source": r.source} for r in rows]))


def render_ehr_history(patient_id: int, actor: str) -> None:
    """Read-only: these facts come from Import clinical history (an EHR export or a spreadsheet)."""
    with work(actor) as session:
        history = ehr_history(session, patient_id=patient_id)
    with st.container(key=f"ehr-history-{patient_id}"):
        st.markdown("##### From the EHR: ECT and TMS, allergies, prescribers")
        st.caption("Brought in with Import clinical history. Payer criteria read an ECT or TMS course without an end "
                   "as a concurrent therapy, and an active esketamine or ketamine allergy as hypersensitivity while "
                   "the screening answer above is not recorded.")
        _table("ECT and TMS courses", history.neuromodulation, empty="None imported.")
        _table("Allergies and intolerances", history.allergies, empty="None imported.")
        _table("Prescribers named in the EHR", history.prescribers, empty="None imported.")
