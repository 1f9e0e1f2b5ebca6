"""The case's History tab: status changes and the generated files."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from desk.models.prior_auth import STATUS_LABELS
from ui.prior_auth.case import CaseScreen


def render_history(view: CaseScreen) -> None:
    """The History tab."""
    history = view.history
    files = view.files
    local_time = view.local_time
    st.dataframe(pd.DataFrame([{"when": local_time(h.at), "who": h.actor,
                                "from": STATUS_LABELS.get(h.from_status, "—"),
                                "to": STATUS_LABELS[h.to_status], "note": h.note} for h in history]),
                 hide_index=True)
    if files:
        st.markdown("**Generated files**")
        st.dataframe(pd.DataFrame([{"kind": f.kind, "file": f.file_name, "by": f.created_by,
                                    "when": local_time(f.created_at), "bytes": f.size_bytes, "sha256": f.sha256}
                                   for f in files]), hide_index=True)
