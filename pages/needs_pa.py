"""Needs a PA: billing's queue of patients, each with a one-click 'Start case' (pre-filled) or 'Open case'."""

import streamlit as st

from desk.errors import ValidationFailed
from desk.models import utcnow
from desk.prior_auth.cases import open_case
from desk.prior_auth.clocks import local_today
from desk.prior_auth.needs_pa import KIND_TITLES, NeedsPaRow, needs_pa
from ui.context import get_settings, work
from ui.form_errors import sentences_md
from ui.guard import require_role
from ui.jump import go_after_click
from ui.text import esc

user = require_role("pages/needs_pa.py")

CASE_KEY = "pa_case_id"
LIST_PARAM = "list"
LIST_LIMIT = 50
PHASE_WORDS = {"initial": "initial", "continuation": "renewal"}

settings = get_settings()
today = local_today(settings.timezone, now=utcnow())


def open_case_page(case_id: int) -> None:
    st.session_state[CASE_KEY] = case_id
    st.switch_page("pages/prior_auth.py", query_params={"case": str(case_id)})


def start_case(row: NeedsPaRow) -> None:
    assert row.new_case is not None
    new = row.new_case
    try:
        with work(user.username) as session:
            opened = open_case(session, patient_id=new.patient_id, coverage_id=new.coverage_id,
                               indication=new.indication, phase=new.phase, actor=user.username)
            case_id = opened.case.id
            warning = opened.warning
    except ValidationFailed as exc:
        st.error(sentences_md(exc))
        return
    if warning:
        st.session_state["pa_notice"] = warning
    assert case_id is not None
    open_case_page(case_id)


with work(user.username) as session:
    queue = needs_pa(session, today=today, default_lead_days=settings.renewal_lead_days,
                     appeal_window_days=settings.appeal_window_days, appeal_warning_days=settings.appeal_warning_days)
counts = queue.counts()

st.title("Needs a PA")
st.caption(f"Patients waiting on billing as of {today:%m/%d/%Y}. Start a case pre-filled from the patient's "
           "primary coverage, or open the case that needs the next step.")
labels = {kind: f"{esc(title)} ({counts[kind]:d})" for kind, title in KIND_TITLES.items()}
wanted = st.query_params.get(LIST_PARAM)
# Only the chosen list is drawn (up to 50 rows each): the four together were most of this page at 5,000 patients.
tabs = st.tabs([f"{esc(title)} ({counts[kind]:d})" for kind, title in KIND_TITLES.items()],
               default=labels.get(str(wanted)) if wanted else None, key="needs_pa_tab", on_change="rerun")
for tab, kind in zip(tabs, labels, strict=True):
    if not tab.open:
        continue
    with tab:
        rows = queue.of_kind(kind)
        if not rows:
            st.caption("Nobody on this list today.")
            continue
        for row in rows[:LIST_LIMIT]:
            with st.container(border=True):
                text_col, action_col = st.columns([5, 1], vertical_alignment="center")
                text_col.markdown(f":material/person: {esc(row.patient)} · MRN {esc(row.mrn)} · {esc(row.payer)}  \n"
                                  f"{esc(row.reason)}")
                key = f"{kind}_{row.patient_id}_{row.case_id or 0}"
                if row.new_case is not None:
                    phase = PHASE_WORDS.get(row.new_case.phase, row.new_case.phase)
                    if action_col.button("Start case", key=f"start_{key}", type="primary", icon=":material/add:",
                                         help=esc(f"Opens a draft {row.new_case.indication} {phase} request on "
                                                  "the patient's coverage."), width="stretch"):
                        start_case(row)
                if row.case_id is not None:
                    # On click, before this page would run again: the case opens without recomputing the lists.
                    action_col.button("Open case", key=f"open_{key}", icon=":material/open_in_new:", width="stretch",
                                      type="secondary" if row.new_case is not None else "primary",
                                      on_click=go_after_click, args=("pages/prior_auth.py",),
                                      kwargs={"state": {CASE_KEY: row.case_id}, "query": {"case": str(row.case_id)}})
        if len(rows) > LIST_LIMIT:
            st.caption(f"Showing the first {LIST_LIMIT:d} of {len(rows):d}.")
