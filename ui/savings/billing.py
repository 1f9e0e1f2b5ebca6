"""The savings screen's Billing worklist tab: what needs attention and the exports."""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from desk.auth import CurrentUser
from desk.prior_auth.clocks import local_text
from desk.savings.export import export_report
from desk.savings.money import format_cents
from desk.savings.worklist import benefits_nearly_used, claims_waiting_for_eob, denied_claims, expiring_enrollments
from ui.context import get_settings, work
from ui.downloads import document_download
from ui.text import esc


def render_billing_tab(*, user: CurrentUser, today: date) -> None:
    """The Billing worklist tab."""
    c1, c2 = st.columns(2)
    within = c1.number_input("Cards and years ending within (days)", min_value=1, max_value=365, value=30,
                             key="billing_within")
    threshold = c2.number_input("Benefit nearly used at (%)", min_value=1, max_value=100, value=80,
                                key="billing_threshold")
    with work(user.username) as session:
        sections = {
            "Enrollments expiring": expiring_enrollments(session, today=today, within_days=int(within)),
            "Benefits nearly used up": benefits_nearly_used(session, year=today.year, threshold_pct=float(threshold)),
            "Claims waiting for an EOB": claims_waiting_for_eob(session),
            "Denied claims and rebates": denied_claims(session),
        }
    for title, items in sections.items():
        st.markdown(f"**{esc(title)}** ({len(items)})")
        if items:
            st.dataframe(
                [
                    {"MRN": i.mrn, "Patient": i.patient, "Due": local_text(i.due_on, get_settings().timezone),
                     "Detail": i.detail,
                     "Amount": format_cents(i.amount_cents) if i.amount_cents is not None else ""}
                    for i in items
                ],
                hide_index=True, width="stretch",
            )
        else:
            st.caption("Nothing here.")

    st.markdown("**Export**")
    export_year = st.selectbox("Claims of year", [today.year, today.year - 1, today.year - 2], key="export_year")
    columns = st.columns(4)
    exports = [
        ("worklist", "csv", "Worklist (CSV)"),
        ("worklist", "xlsx", "Worklist (Excel)"),
        ("claims", "csv", f"Claims {export_year} (CSV)"),
        ("claims", "xlsx", f"Claims {export_year} (Excel)"),
    ]
    for column, (report, fmt, label) in zip(columns, exports, strict=True):
        # The file is built, and the export audited, only when the button is clicked.
        def build(report: Any = report, fmt: Any = fmt) -> bytes:
            with work(user.username) as session:
                return export_report(session, report=report, fmt=fmt, today=today, year=export_year,
                                     within_days=int(within), threshold_pct=float(threshold)).content

        stem = f"savings-worklist-{today.isoformat()}" if report == "worklist" else f"savings-claims-{export_year}"
        document_download(
            label, data=build, file_name=f"{stem}.{fmt}",
            mime="text/csv" if fmt == "csv" else
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            kind="savings_export", record_id=f"{report}.{fmt}", where=column,
            key=f"export_{report}_{fmt}", on_click="ignore", icon=":material/download:",
        )
