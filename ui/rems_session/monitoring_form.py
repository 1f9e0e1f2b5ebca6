"""The session log's Monitoring form tab: due date, the PDF, its submission and amendments."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from desk.errors import StaleEdit, ValidationFailed
from desk.models import PMF_CHANNELS, TreatmentSession
from desk.rems.amendments import amendments_of
from desk.rems.entry import field_label
from desk.rems.pmf import mark_submitted, pmf_due_date
from desk.rems.pmf_pdf import monitoring_form_for, pmf_file_name
from desk.rems.sessions import get_session
from desk.today import due_in_words
from ui.context import work
from ui.downloads import document_download
from ui.editing import notify
from ui.form_errors import FormErrors, clear_errors, keep_errors
from ui.rems_session.state import LogScreen
from ui.text import esc

SUBMIT_FORM = "rems_submit"
CHANNEL_WORDS = {"online": "Online", "fax": "Fax"}


def render_monitoring_form(screen: LogScreen, *, opened: dict[str, Any], stored: TreatmentSession | None) -> None:
    """The Monitoring form tab."""
    user = screen.user
    settings = screen.settings
    zone = screen.zone
    may_record = screen.may_record
    today = screen.today
    if stored is None or stored.id is None:
        st.caption("Save the session to prepare its monitoring form.")
    else:
        due = pmf_due_date(stored.session_date, settings=settings)
        days_left = (due - today).days
        status_md = f"Status **{esc(stored.pmf_status)}** · due {due:%m/%d/%Y}"
        if stored.pmf_status == "submitted":
            st.success(f"Submitted {stored.pmf_submitted_on:%m/%d/%Y} by "
                       f"{esc(CHANNEL_WORDS.get(stored.pmf_channel, stored.pmf_channel))}"
                       + (f" · confirmation {esc(stored.pmf_confirmation)}" if stored.pmf_confirmation else ""))
        elif days_left < 0:
            st.error(f"{status_md} · **{esc(due_in_words(days_left))}**")
        else:
            st.info(f"{status_md} · {esc(due_in_words(days_left))}")
        if stored.pmf_status in ("ready", "submitted"):
            with work(user.username) as session:
                pdf = monitoring_form_for(session, user=user, session_id=stored.id)
            document_download("Download monitoring form (PDF)", data=pdf, mime="application/pdf",
                              file_name=pmf_file_name(stored.id, stored.session_date),
                              kind="rems_monitoring_form", record_id=stored.id or "",
                              icon=":material/download:", key="rems_pmf_download")
        if stored.pmf_status == "ready" and may_record:
            errors = FormErrors(SUBMIT_FORM, {"submitted_on": "Submitted on", "channel": "Channel",
                                              "confirmation_number": "Confirmation number"})
            with st.form("rems_submit"):
                cols = st.columns(3)
                with cols[0]:
                    submitted_on = st.date_input("Submitted on", value=today, format="MM/DD/YYYY")
                    errors.under("submitted_on")
                with cols[1]:
                    channel = st.radio("Channel", options=list(PMF_CHANNELS), horizontal=True,
                                       format_func=CHANNEL_WORDS.__getitem__)
                    errors.under("channel")
                with cols[2]:
                    confirmation = st.text_input("Confirmation number")
                    errors.under("confirmation_number")
                errors.rest()
                if st.form_submit_button("Record submission"):
                    try:
                        with work(user.username) as session:
                            mark_submitted(session, user=user, session_id=stored.id,
                                           expected_version=opened["version"], submitted_on=submitted_on,
                                           channel=channel, confirmation_number=confirmation, today=today)
                    except (ValidationFailed, StaleEdit) as exc:
                        keep_errors(SUBMIT_FORM, exc)
                    else:
                        clear_errors(SUBMIT_FORM)
                        opened["version"] = None
                        with work(user.username) as session:
                            opened["version"] = get_session(session, session_id=stored.id).version
                        notify("Submission recorded.")
                    st.rerun()
        with work(user.username) as session:
            history = list(amendments_of(session, session_id=stored.id))
        if history:
            st.markdown("**Amendments**")
            st.dataframe([{"When": f"{a.amended_at.astimezone(zone):%m/%d/%Y %H:%M}", "By": a.amended_by,
                           "Reason": a.reason,
                           "Changed": ", ".join(sorted(field_label(k) for k in json.loads(a.changes_json)))}
                          for a in history], hide_index=True, width="stretch")
