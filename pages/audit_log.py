"""Admin: the audit trail, filtered, with an audited CSV export."""

from datetime import timedelta

import streamlit as st

from desk.audit import (
    AUDIT_COLUMNS,
    audit_facets,
    export_audit_csv,
    list_audit_events,
    utc_day_bounds,
)
from desk.database import unit_of_work
from desk.prior_auth.clocks import local_text, local_today
from ui.context import get_engine, get_settings, work
from ui.downloads import document_download
from ui.guard import require_role

user = require_role("pages/audit_log.py")

ANY = "(any)"
SHOWN_ROWS = 500
AUDIT_HEADERS = {"id": "Row", "at": "At", "actor": "User", "action": "Action", "entity": "Record type",
                 "entity_id": "Record", "fields": "Fields", "detail": "Detail"}

st.title("Audit log")
st.caption("Every change, sign-in and export, newest first. Rows record field names, never the values. Times are the "
           "clinic's.")

with work(user.username) as session:
    facets = audit_facets(session)

actor_col, action_col, entity_col, dates_col = st.columns([1, 1, 1, 2])
actor = actor_col.selectbox("User", [ANY, *facets["actor"]])
action = action_col.selectbox("Action", [ANY, *facets["action"]])
entity = entity_col.selectbox("Record type", [ANY, *facets["entity"]])
timezone = get_settings().timezone
today = local_today(timezone)
chosen_days = dates_col.date_input(
    "Between", value=(today - timedelta(days=30), today), max_value=today, format="MM/DD/YYYY"
)
days = tuple(chosen_days) if isinstance(chosen_days, tuple | list) else (chosen_days,)
first_day = days[0] if days else None
last_day = days[1] if len(days) > 1 else first_day
since, until = utc_day_bounds(first_day, last_day, timezone)
filters = {
    "actor": None if actor == ANY else actor,
    "action": None if action == ANY else action,
    "entity": None if entity == ANY else entity,
    "since": since,
    "until": until,
}

with work(user.username) as session:
    events = list(list_audit_events(session, limit=SHOWN_ROWS + 1, **filters))  # type: ignore[arg-type]

if len(events) > SHOWN_ROWS:
    st.caption(f"Showing the newest {SHOWN_ROWS} rows; narrow the filters or export to see all.")
    events = events[:SHOWN_ROWS]
st.dataframe(
    [{AUDIT_HEADERS.get(name, name): local_text(e.at, timezone) if name == "at" else getattr(e, name)
      for name in AUDIT_COLUMNS} for e in events],
    hide_index=True,
    width="stretch",
)
if not events:
    st.info("No audit rows match these filters.")

engine = get_engine()
username = user.username


def _export() -> bytes:
    # Runs only when the button is clicked, so the recorded export is a real download.
    with unit_of_work(engine, actor=username) as session:
        return export_audit_csv(session, **filters).encode("utf-8")  # type: ignore[arg-type]


document_download(
    "Export CSV",
    data=_export,
    file_name=f"audit-log-{today.isoformat()}.csv",
    mime="text/csv",
    kind="audit_export",
    icon=":material/download:",
    on_click="ignore",
)
