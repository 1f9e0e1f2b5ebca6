"""Lead dashboard: approvals and turnaround by payer, denials, appeals, expiring authorizations, devices, REMS
forms on time and savings claims, each chart with the CSV of its data."""

import textwrap
from collections.abc import Callable
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from desk import lead_dashboard as figures
from desk.models import utcnow
from desk.prior_auth.clocks import local_today
from desk.rems.config import load_rems_settings
from ui.context import get_settings, work
from ui.downloads import document_download
from ui.guard import require_role
from ui.text import esc

user = require_role("pages/lead_dashboard.py")

CHART_HEIGHT = 280
GREEN, RED, ORANGE, BLUE, GREY = "#2e7d32", "#c62828", "#ef6c00", "#1565c0", "#9e9e9e"
APPEAL_COLOURS = {"Won": GREEN, "Lost": RED, "Waiting for a decision": BLUE}
FORM_COLOURS = {"On time": GREEN, "Late": ORANGE, "Overdue": RED, "Not yet due": GREY}
CLAIM_COLOURS = {"Paid": GREEN, "Pending with the program": BLUE, "Not yet submitted": GREY, "Denied": RED}
LABEL_WIDTH = 70  # characters per line of a long axis label (criteria), so none is cut off

settings = get_settings()
today = local_today(settings.timezone, now=utcnow())
rems_settings = load_rems_settings()

with work(user.username) as session:
    decisions = figures.decisions_by_payer_month(session, timezone=settings.timezone)
    reasons = figures.denials_by_reason(session)
    criteria = figures.denials_by_criterion(session)
    appeals = figures.appeal_outcomes(session)
    expiring = figures.expiring_authorizations(session, today=today)
    devices = figures.devices_authorized_vs_used(session, today=today)
    forms = figures.rems_forms_on_time(session, today=today, settings=rems_settings)
    claims = figures.savings_claims_paid_vs_pending(session)


def panel(title: str, name: str, rows: list[dict[str, Any]], chart: Callable[[pd.DataFrame], alt.Chart],
          empty: str) -> None:
    with st.container(border=True):
        st.markdown(f"**{esc(title)}**")
        if not rows:
            st.caption(esc(empty))
            return
        st.altair_chart(chart(pd.DataFrame(rows)).properties(height=CHART_HEIGHT), width="stretch")
        document_download("Download the data (CSV)", data=figures.figure_csv(rows=rows), file_name=f"{name}.csv",
                          mime="text/csv", kind="dashboard figure", record_id=name, key=f"csv_{name}",
                          icon=":material/download:")


def approval_chart(frame: pd.DataFrame) -> alt.Chart:
    base = alt.Chart(frame).encode(
        x=alt.X("Month:N", sort=list(dict.fromkeys(frame["Month"])), axis=alt.Axis(labelAngle=0)),
        color=alt.Color("Payer:N", legend=alt.Legend(orient="right", labelLimit=320, title=None)),
        tooltip=list(frame.columns),
    )
    return base.mark_line(point=True).encode(y=alt.Y("Approval rate (%):Q", scale=alt.Scale(domain=[0, 100])))


def turnaround_chart(frame: pd.DataFrame) -> alt.Chart:
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("Month:N", sort=list(dict.fromkeys(frame["Month"])), axis=alt.Axis(labelAngle=0)),
        xOffset="Payer:N", y=alt.Y("Median days to decision:Q"),
        color=alt.Color("Payer:N", legend=alt.Legend(orient="right", labelLimit=320, title=None)),
        tooltip=list(frame.columns),
    )


def ranked_bars(label: str, value: str) -> Callable[[pd.DataFrame], alt.Chart]:
    def chart(frame: pd.DataFrame) -> alt.Chart:
        shown = frame.assign(Label=[" | ".join(textwrap.wrap(str(t), LABEL_WIDTH)) for t in frame[label]])
        return alt.Chart(shown).mark_bar().encode(
            y=alt.Y("Label:N", sort="-x", axis=alt.Axis(labelLimit=0, title=None,
                                                         labelExpr="split(datum.label, ' | ')")),
            x=alt.X(f"{value}:Q", axis=alt.Axis(tickMinStep=1)), tooltip=[label, value])
    return chart


def stacked(x: str, y: str, colour: str, colours: dict[str, str]) -> Callable[[pd.DataFrame], alt.Chart]:
    scale = alt.Scale(domain=list(colours), range=list(colours.values()))

    def chart(frame: pd.DataFrame) -> alt.Chart:
        return alt.Chart(frame).mark_bar().encode(
            x=alt.X(f"{x}:N", sort=list(dict.fromkeys(frame[x])), axis=alt.Axis(labelAngle=0)),
            y=alt.Y(f"sum({y}):Q", title=y, axis=alt.Axis(tickMinStep=1)),
            color=alt.Color(f"{colour}:N", scale=scale, legend=alt.Legend(orient="bottom", columns=2, title=None,
                                                                          labelLimit=240)),
            tooltip=list(frame.columns))
    return chart


def expiring_chart(frame: pd.DataFrame) -> alt.Chart:
    return alt.Chart(frame).mark_bar().encode(
        y=alt.Y("Patient:N", sort=alt.EncodingSortField("Days left"), axis=alt.Axis(title=None)),
        x=alt.X("Days left:Q", axis=alt.Axis(tickMinStep=1)), color=alt.Color("Payer:N", legend=None),
        tooltip=list(frame.columns))


def devices_chart(frame: pd.DataFrame) -> alt.Chart:
    long = frame.melt(id_vars=["Patient", "Payer", "Ends"], value_vars=["Used", "Left"], var_name="Devices",
                      value_name="Count")
    return alt.Chart(long).mark_bar().encode(
        y=alt.Y("Patient:N", axis=alt.Axis(title=None)), x=alt.X("sum(Count):Q", title="Devices authorized"),
        color=alt.Color("Devices:N", sort=["Used", "Left"], legend=alt.Legend(orient="bottom", title=None)),
        tooltip=["Patient", "Payer", "Ends", "Devices", "Count"])


st.title("Lead dashboard")
st.caption(f"As of {today:%m/%d/%Y}. Months are the month a decision was made, a session held or a claim's "
           "service date.")

st.subheader("Prior authorizations", anchor=False)
panel("Approval rate by payer and month", "approval-rate", decisions, approval_chart, "No decisions recorded yet.")
panel("Median days from submission to decision", "turnaround", decisions, turnaround_chart,
      "No decisions recorded yet.")
panel("Denials by the payer's reason", "denials-by-reason", reasons, ranked_bars("Reason", "Denials"),
      "No denials recorded.")
panel("Denials by criterion not met", "denials-by-criterion", criteria,
      ranked_bars("Criterion not met", "Denied cases"), "No denials recorded.")
left, right = st.columns(2)
with left:
    panel("Appeals won and lost", "appeals", appeals, stacked("Level", "Appeals", "Outcome", APPEAL_COLOURS),
          "No appeals filed.")
with right:
    panel(f"Authorizations ending in the next {figures.EXPIRY_DAYS:d} days", "expiring", expiring,
          expiring_chart, f"No authorization ends in the next {figures.EXPIRY_DAYS:d} days.")
panel("Devices authorized and used (authorizations in force)", "devices", devices, devices_chart,
      "No authorization in force counts devices.")

st.subheader("REMS and savings", anchor=False)
left, right = st.columns(2)
with left:
    panel(f"Monitoring forms submitted on time (within {rems_settings.pmf_due_days:d} days)", "rems-forms", forms,
          stacked("Month", "Sessions", "Forms", FORM_COLOURS), "No sessions logged.")
with right:
    panel("Savings claims paid and pending", "savings-claims", claims,
          stacked("Month", "Claims", "Status", CLAIM_COLOURS), "No savings claims recorded.")
