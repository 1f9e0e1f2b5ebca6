"""Prior-authorization worklist: counts, today's actions, aging, filtered case table, exports, new case."""

from functools import partial
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from desk.errors import NotFound, ValidationFailed
from desk.models import PLAN_TYPE_NAMES, utcnow
from desk.models.prior_auth import INDICATIONS, PHASES, STATUS_LABELS, URGENCIES
from desk.patients import get_patient, search_patients
from desk.prior_auth.cases import coverage_choices, open_case
from desk.prior_auth.clocks import local_today
from desk.prior_auth.lifecycle import expire_lapsed
from desk.prior_auth.payer_rules import payer_name
from desk.prior_auth.worklist import (
    AGING_BUCKETS,
    CASE_COLUMNS,
    EXPORT_MIME,
    WorklistFilter,
    aging,
    all_case_rows,
    case_page,
    export_table,
    payer_ids_in_use,
    rows_in_words,
    status_counts,
    todays_actions,
)
from ui.context import get_settings, work
from ui.downloads import document_download
from ui.form_errors import FormErrors, clear_errors, keep_errors
from ui.guard import require_role
from ui.jump import go_after_click
from ui.text import esc

user = require_role("pages/worklist.py")

CASE_KEY = "pa_case_id"
NEW_CASE_OPEN = "pa_new_case_open"
NEW_CASE_FORM = "new_pa"
PAGE_SIZE = 50
METRICS_PER_ROW = 4
OPEN_METRICS = ("draft", "ready", "submitted", "pended", "info_requested", "denied", "appealed", "approved")
ACTION_COLUMNS = ("case", "patient", "mrn", "payer", "status", "due", "detail")
SORT_LABELS = {"updated": "Last updated", "created": "Opened", "decision_due": "Decision due",
               "auth_end": "Authorization ends", "case": "Case number"}


def open_case_page(case_id: int) -> None:
    st.session_state[CASE_KEY] = case_id
    st.switch_page("pages/prior_auth.py", query_params={"case": str(case_id)})


def open_picked_case(key: str, case_ids: list[int]) -> None:
    """A row click opens its case before this page would run again (not after recomputing the worklist)."""
    picked = st.session_state[key]["selection"]["rows"]
    if picked:
        case_id = case_ids[picked[0]]
        go_after_click("pages/prior_auth.py", state={CASE_KEY: case_id}, query={"case": str(case_id)})


def close_new_case() -> None:
    st.session_state.pop(NEW_CASE_OPEN, None)
    clear_errors(NEW_CASE_FORM)


@st.dialog("New prior authorization", width="large", on_dismiss=close_new_case)
def new_case_dialog() -> None:
    preset = st.session_state.get("patient_id")
    text = st.text_input("Find the patient (name, MRN or date of birth)", key="new_pa_search")
    with work(user.username) as session:
        found = search_patients(session, text=text, limit=20) if text.strip() else None
        rows = [(r.id, f"{r.display_name} · MRN {r.mrn}") for r in found.rows] if found else []
        if not rows and isinstance(preset, int):
            try:
                opened = get_patient(session, patient_id=preset)
                rows = [(opened.id, f"{opened.last_name}, {opened.first_name} · MRN {opened.mrn}")]
            except NotFound:
                rows = []
    if not rows:
        st.caption("Type part of a name or MRN to find the patient.")
        return
    labels = dict(rows)
    patient_id = st.selectbox("Patient", options=list(labels), format_func=labels.__getitem__, key="new_pa_patient")
    with work(user.username) as session:
        coverages = list(coverage_choices(session, patient_id=int(patient_id)))
    if not coverages:
        st.warning("This patient has no insurance coverage on record. Add one on the patient record first.")
        return
    cover_labels = {c.id: f"{payer_name(c.payer_id)} · {PLAN_TYPE_NAMES.get(c.plan_type, c.plan_type)} · "
                          f"{c.priority} · member {c.member_id}" for c in coverages}
    errors = FormErrors(NEW_CASE_FORM, {"patient_id": "Patient", "coverage_id": "Coverage", "indication": "Indication",
                                        "phase": "Phase", "urgency": "Review"})
    errors.under("patient_id")
    with st.form("new_pa"):
        coverage_id = st.selectbox("Coverage", options=list(cover_labels), format_func=cover_labels.__getitem__)
        errors.under("coverage_id")
        left, middle, right = st.columns(3)
        with left:
            indication = st.selectbox("Indication", INDICATIONS,
                                      format_func={"TRD": "TRD (treatment-resistant depression)",
                                                   "MDSI": "MDSI (MDD with suicidal ideation)"}.__getitem__)
            errors.under("indication")
        with middle:
            phase = st.selectbox("Phase", PHASES, format_func=str.capitalize)
            errors.under("phase")
        with right:
            urgency = st.selectbox("Review", URGENCIES, format_func=str.capitalize)
            errors.under("urgency")
        errors.rest()
        submitted = st.form_submit_button("Create case", type="primary")
    if submitted:
        try:
            with work(user.username) as session:
                opened = open_case(session, patient_id=int(patient_id), coverage_id=int(coverage_id or 0),
                                   indication=str(indication), phase=str(phase), urgency=str(urgency),
                                   actor=user.username)
                case_id = opened.case.id
                warning = opened.warning
        except ValidationFailed as exc:
            keep_errors(NEW_CASE_FORM, exc)
            st.rerun()
        clear_errors(NEW_CASE_FORM)
        if warning:
            st.session_state["pa_notice"] = warning
        assert case_id is not None
        close_new_case()
        open_case_page(case_id)


def export_buttons(name: str, rows: list[dict[str, Any]] | None, columns: tuple[str, ...], key: str,
                   loader: Any = None) -> None:
    """'Prepare' writes the audited export; the download button then hands over those bytes."""
    prepared = st.session_state.get(f"export_{key}")
    left, right, _ = st.columns([1, 1, 2])
    for fmt, column in (("csv", left), ("xlsx", right)):
        if column.button(f"Export {'CSV' if fmt == 'csv' else 'Excel'}", key=f"prep_{key}_{fmt}"):
            with work(user.username) as session:
                data_rows = rows if rows is not None else loader(session)
                data = export_table(session, name=name, rows=data_rows, columns=columns, fmt=fmt,  # type: ignore[arg-type]
                                    timezone=settings.timezone)
            st.session_state[f"export_{key}"] = (fmt, data)
            prepared = (fmt, data)
    if prepared:
        fmt, data = prepared
        document_download(f"Download {name}.{fmt}", data=data, file_name=f"{name}.{fmt}",
                          mime=EXPORT_MIME[fmt], kind="worklist_export", record_id=key,
                          on_click="ignore", key=f"dl_{key}", type="primary")


settings = get_settings()
now = utcnow()
today = local_today(settings.timezone, now=now)

title_col, action_col = st.columns([4, 1])
title_col.title("Prior authorization worklist")
if action_col.button("New PA", icon=":material/add:", type="primary", width="stretch"):
    st.session_state[NEW_CASE_OPEN] = True
if st.session_state.get(NEW_CASE_OPEN):
    new_case_dialog()
notice = st.session_state.pop("pa_notice", None)
if notice:
    st.warning(esc(notice))

with work("system") as session:
    expire_lapsed(session, today=today)

with work(user.username) as session:
    counts = status_counts(session)
    actions = todays_actions(session, now=now, today=today, timezone=settings.timezone,
                             default_lead_days=settings.renewal_lead_days, draft_idle_days=settings.draft_idle_days)
    payers = payer_ids_in_use(session)

# Four to a row: eight in one row cut labels such as "More information requested" at 1280 px.
metric_columns = [column for _ in range(-(-len(OPEN_METRICS) // METRICS_PER_ROW))
                  for column in st.columns(METRICS_PER_ROW)]
for column, status in zip(metric_columns, OPEN_METRICS, strict=False):
    column.metric(STATUS_LABELS[status], counts[status])

st.subheader("Today's actions")
action_labels = {key: f"{esc(a.title)} ({a.total:d})" for key, a in actions.items()}
wanted_action = st.query_params.get("action")
# Only the chosen list is drawn: each is a table the browser builds, shown or not.
action_tabs = st.tabs([f"{esc(a.title)} ({a.total:d})" for a in actions.values()], key="wl_action_tab",
                      default=action_labels.get(str(wanted_action)) if wanted_action else None, on_change="rerun")
for tab, (key, action) in zip(action_tabs, actions.items(), strict=True):
    if not tab.open:
        continue
    with tab:
        if not action.items:
            st.caption("Nothing to do here today.")
            continue
        rows = [item.as_row() for item in action.items]
        st.dataframe(pd.DataFrame(rows_in_words(rows, columns=ACTION_COLUMNS, timezone=settings.timezone)),
                     hide_index=True, selection_mode="single-row", key=f"action_{key}", width="stretch",
                     on_select=partial(open_picked_case, f"action_{key}", [int(row["case"]) for row in rows]),
                     column_config={"Case": st.column_config.NumberColumn(format="#%d")})
        if action.total > len(rows):
            st.caption(f"Showing the first {len(rows)} of {action.total:d}.")
        export_buttons(f"pa-{key}", rows, ACTION_COLUMNS, key)

st.subheader("Cases")
with st.container(border=True):
    f1, f2, f3, f4, f5 = st.columns([2, 2, 1, 1, 2])
    statuses = f1.multiselect("Status", list(STATUS_LABELS), format_func=STATUS_LABELS.__getitem__, key="wl_status",
                              placeholder="All")
    payer_filter = f2.multiselect("Payer", payers, key="wl_payer", format_func=payer_name, placeholder="All")
    indications = f3.multiselect("Indication", INDICATIONS, key="wl_indication", placeholder="All")
    phases = f4.multiselect("Phase", PHASES, key="wl_phase", format_func=str.capitalize, placeholder="All")
    search = f5.text_input("Search (case #, MRN, last name, auth #)", key="wl_search")
filters = WorklistFilter(statuses=tuple(statuses), payer_ids=tuple(payer_filter), indications=tuple(indications),
                         phases=tuple(phases), search=search)

with work(user.username) as session:
    page_number = int(st.session_state.get("wl_page", 1))
    sort = st.session_state.get("wl_sort", "updated")
    page = case_page(session, filters=filters, page=page_number, page_size=PAGE_SIZE, sort=sort)

# Drawn while open: a chart is one of the slowest things for the browser to draw.
aging_view = st.expander("Aging of open cases (days since opened)", icon=":material/bar_chart:", key="wl_aging",
                         on_change="rerun")
if aging_view.open:
    with aging_view:
        with work(user.username) as session:
            buckets = aging(session, now=now, filters=filters)
        if buckets:
            chart = (
                alt.Chart(pd.DataFrame(buckets))
                .mark_bar()
                .encode(
                    x=alt.X("bucket:N", sort=[label for label, _low, _high in AGING_BUCKETS], title=None,
                            axis=alt.Axis(labelAngle=0)),
                    y=alt.Y("sum(cases):Q", title="open cases", axis=alt.Axis(tickMinStep=1, format="d")),
                    # labelLimit 0: whole status names ("More information requested"), not cut at 160 px.
                    color=alt.Color("status:N", legend=alt.Legend(orient="right", title=None, labelLimit=0)),
                    tooltip=["bucket", "status", "cases"],
                )
                .properties(height=260)
            )
            st.altair_chart(chart, width="stretch")
        else:
            st.caption("No open cases.")
top_left, top_right = st.columns([2, 1])
top_left.markdown(f"**{page.total:d} cases** · page {page.page:d} of {page.pages:d}")
top_right.selectbox("Sort by", list(SORT_LABELS), key="wl_sort", format_func=SORT_LABELS.__getitem__,
                    label_visibility="collapsed")
if page.rows:
    frame = pd.DataFrame(rows_in_words(page.rows, columns=CASE_COLUMNS, timezone=settings.timezone))
    st.dataframe(frame, hide_index=True, selection_mode="single-row", key="case_table", width="stretch",
                 on_select=partial(open_picked_case, "case_table", [int(row["case"]) for row in page.rows]),
                 column_config={"Case": st.column_config.NumberColumn(format="#%d")})
else:
    st.caption("No case matches the filters.")
st.session_state["wl_page"] = page.page
st.number_input("Page", min_value=1, max_value=page.pages, step=1, key="wl_page")
export_buttons("pa-cases", None, CASE_COLUMNS, "cases", loader=lambda s: all_case_rows(s, filters=filters))
