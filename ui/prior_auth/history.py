"""The case's History tab: status changes and the generated files."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from desk.models.prior_auth import STATUS_LABELS
from ui.prior_auth.case import CaseScreen
from ui.prior_auth.packet import FILE_KINDS


def render_history(view: CaseScreen) -> None:
    """The History tab."""
    history = view.history
    files = view.files
    local_time = view.local_time
    st.dataframe(pd.DataFrame([{"When": local_time(h.at), "Who": h.actor,
                                "From": STATUS_LABELS.get(h.from_status, "—"),
                                "To": STATUS_LABELS[h.to_status], "Note": h.note} for h in history]),
                 hide_index=True)
    if files:
        st.markdown("**Generated files**")
        st.dataframe(pd.DataFrame([{"Kind": FILE_KINDS.get(f.kind, f.kind), "File": f.file_name,
                                    "By": f.created_by, "When": local_time(f.created_at),
                                    "Size": f"{f.size_bytes // 1024 + 1:d} KB"} for f in files]), hide_index=True)
        if view.user.has_any("admin"):
            with st.expander("Technical details"):
                st.dataframe(pd.DataFrame([{"File": f.file_name, "Bytes": f.size_bytes, "SHA-256": f.sha256}
                                           for f in files]), hide_index=True)
