"""The case's Status & decisions tab: the next lifecycle step's form, the submission and decision notes, FHIR."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from typing import Any

import streamlit as st

from desk.errors import FieldError, ValidationFailed
from desk.models.prior_auth import STATUS_LABELS, SUBMISSION_CHANNELS, URGENCIES
from desk.policies.clocks import NO_CLOCK
from desk.prior_auth import lifecycle as lc
from desk.prior_auth.clocks import local_text
from ui.fhir import render_fhir_panel
from ui.prior_auth.case import STEP_FIELDS, CaseScreen, form_errors
from ui.text import esc

CHANNEL_WORDS = {"fax": "Fax", "portal": "Payer portal", "phone": "Phone", "electronic_pa": "Electronic PA",
                 "mail": "Mail"}


def render_lifecycle(view: CaseScreen) -> None:
    """The Status & decisions tab."""
    user = view.user
    zone = view.zone
    now = view.now
    today = view.today
    case_id = view.case_id
    case = view.case
    clock = view.clock
    opened = view.opened
    run_action = view.run_action
    local_time = view.local_time
    # Expiry is not a manual step: the case expires by itself once the authorization's end date passes.
    nexts = [s for s in lc.allowed_next(case.status) if s != "expired"]
    if case.status in ("approved", "overturned"):
        st.info(f"Authorization {esc(case.auth_number)} runs to {esc(local_text(case.auth_end_on, zone))}; the case "
                "expires by itself "
                "after "
                "that date. Start a continuation case from the worklist to renew.")
    elif not nexts:
        st.info(f"The case is {esc(STATUS_LABELS[case.status].lower())}; nothing more can happen to it.")
    else:
        forward = lc.next_forward_step(case.status)
        # Keyed by status: after a step the picker starts again on the step that usually follows.
        step = st.selectbox("Next step", nexts, format_func=STATUS_LABELS.__getitem__, key=f"next_step_{case.status}",
                            index=nexts.index(forward) if forward in nexts else 0)
        # Defaults are set once, when the form first shows: a rerun a minute later keeps what was typed.
        local_now = now.astimezone(zone)
        for key, default in (("st_start_on", case.start_on or today), ("st_decided_on", today),
                             ("st_sub_day", today), ("st_sub_time", time(local_now.hour, local_now.minute)),
                             ("st_requested_on", today), ("st_denied_on", today), ("st_filed_on", today),
                             ("st_upheld_on", today)):
            st.session_state.setdefault(key, default)
        expected = opened
        common: dict[str, Any] = {"case_id": case_id, "expected_version": expected, "actor": user.username}
        labels = {**STEP_FIELDS, "reason": "Reason for cancelling"} if step == "cancelled" else STEP_FIELDS
        errors = form_errors("step", labels)
        with st.form(f"step_{step}"):
            call: Callable[[Any], Any] | None = None
            if step in ("approved", "overturned"):
                c1, c2, c3 = st.columns(3)
                with c1:
                    auth_number = st.text_input("Authorization number", key="st_auth_number")
                    errors.under("auth_number")
                with c2:
                    start_on = st.date_input("Start date", key="st_start_on", format="MM/DD/YYYY")
                    errors.under("start_on")
                with c3:
                    end_on = st.date_input("End date", value=None, key="st_end_on", format="MM/DD/YYYY")
                    errors.under("end_on")
                c4, c5, c6 = st.columns(3)
                with c4:
                    devices_text = st.text_input("Approved devices", key="st_devices")
                    errors.under("approved_devices")
                with c5:
                    sessions_text = st.text_input("Approved sessions", key="st_sessions")
                    errors.under("approved_sessions")
                codes = c6.text_input("Approved codes (e.g. J0013, G2083)", key="st_codes")
                decided_on = st.date_input("Decision date", key="st_decided_on", format="MM/DD/YYYY")
                errors.under("decided_on")
            elif step == "submitted":
                c1, c2, c3 = st.columns(3)
                with c1:
                    sub_day = st.date_input("Submitted on", key="st_sub_day", format="MM/DD/YYYY")
                    errors.under("submitted_at")
                sub_time = c2.time_input("At (clinic time)", key="st_sub_time", step=60)
                with c3:
                    channel = st.selectbox("Channel", SUBMISSION_CHANNELS, format_func=CHANNEL_WORDS.__getitem__,
                                           key="st_channel")
                    errors.under("channel")
                c4, c5 = st.columns(2)
                with c4:
                    reference = st.text_input("Reference / confirmation number", key="st_reference")
                    errors.under("reference")
                with c5:
                    urgency_pick = st.selectbox("Review", URGENCIES, index=URGENCIES.index(case.urgency),
                                                format_func=str.capitalize, key="st_urgency")
                    errors.under("urgency")
            elif step == "info_requested":
                c1, c2 = st.columns(2)
                with c1:
                    requested_on = st.date_input("Requested on", key="st_requested_on", format="MM/DD/YYYY")
                    errors.under("requested_on")
                with c2:
                    due_on = st.date_input("Due on", value=None, key="st_due_on", format="MM/DD/YYYY")
                    errors.under("due_on")
                description = st.text_area("What the payer asked for", key="st_description")
                errors.under("description")
            elif step == "denied":
                reason = st.text_area("Payer's stated reason", key="st_reason")
                errors.under("reason")
                denied_on = st.date_input("Denial date", key="st_denied_on", format="MM/DD/YYYY")
                errors.under("denied_on")
            elif step == "appealed":
                c1, c2, c3 = st.columns(3)
                with c1:
                    filed_on = st.date_input("Filed on", key="st_filed_on", format="MM/DD/YYYY")
                    errors.under("filed_on")
                with c2:
                    level = st.number_input("Level", min_value=case.appeal_level + 1, value=case.appeal_level + 1,
                                            key="st_level")
                    errors.under("level")
                p2p = c3.checkbox("Peer-to-peer call", key="st_p2p")
                p2p_on = st.date_input("Peer-to-peer date", value=None, key="st_p2p_on", format="MM/DD/YYYY")
                errors.under("peer_to_peer_on")
            elif step == "upheld":
                upheld_on = st.date_input("Decision date", key="st_upheld_on", format="MM/DD/YYYY")
                errors.under("decided_on")
            note = st.text_input("Note" if step != "cancelled" else "Reason for cancelling", key="st_note")
            if step == "cancelled":
                errors.under("reason")
            errors.rest()
            go = st.form_submit_button(f"Record: {STATUS_LABELS[step]}", type="primary")
        if go:
            unreadable: list[FieldError] = []

            def whole(text: str, field: str) -> int | None:
                text = text.strip()
                if not text:
                    return None
                if not text.isdigit():
                    unreadable.append(FieldError(field, "must be a positive whole number"))
                    return None
                return int(text)

            if step == "ready":
                call = lambda s: lc.mark_ready(s, note=note, **common)  # noqa: E731
            elif step == "draft":
                call = lambda s: lc.reopen_draft(s, note=note, **common)  # noqa: E731
            elif step == "submitted":
                moment = datetime.combine(sub_day, sub_time, tzinfo=zone)
                call = lambda s: lc.record_submission(  # noqa: E731
                    s, submitted_at=moment, channel=str(channel), reference=reference, urgency=str(urgency_pick),
                    note=note, **common)
            elif step == "pended":
                call = lambda s: lc.record_pended(s, note=note, **common)  # noqa: E731
            elif step == "info_requested":
                call = lambda s: lc.record_info_request(  # noqa: E731
                    s, requested_on=requested_on, due_on=due_on, description=description, **common)
            elif step in ("approved", "overturned"):
                def call(s: Any) -> Any:
                    terms = lc.ApprovalTerms(
                        auth_number=auth_number, start_on=start_on, end_on=end_on,
                        approved_devices=whole(devices_text, "approved_devices"),
                        approved_sessions=whole(sessions_text, "approved_sessions"), approved_codes=codes,
                        decided_on=decided_on)
                    service = lc.record_approval if step == "approved" else lc.record_overturned
                    # Every refusal at once: the numbers that could not be read and what the rest lacks.
                    try:
                        done = service(s, terms=terms, note=note, **common)
                    except ValidationFailed as exc:
                        unread = {e.field for e in unreadable}
                        raise ValidationFailed([*unreadable, *(e for e in exc.errors if e.field not in unread)
                                                ]) from exc
                    if unreadable:
                        raise ValidationFailed(unreadable)
                    return done
            elif step == "denied":
                call = lambda s: lc.record_denial(s, reason=reason, denied_on=denied_on, note=note,  # noqa: E731
                                                  **common)
            elif step == "appealed":
                call = lambda s: lc.record_appeal(  # noqa: E731
                    s, filed_on=filed_on, level=int(level), peer_to_peer=p2p, peer_to_peer_on=p2p_on, note=note,
                    **common)
            elif step == "upheld":
                call = lambda s: lc.record_upheld(s, decided_on=upheld_on, note=note, **common)  # noqa: E731
            elif step == "cancelled":
                call = lambda s: lc.cancel(s, reason=note, **common)  # noqa: E731
            if call is not None:
                run_action(call, f"Recorded: {STATUS_LABELS[step]}.", "step")
                st.rerun()
    if case.submitted_at:
        st.caption(f"Submitted {esc(local_time(case.submitted_at))}; payer clock "
                   f"{esc(clock.describe() if clock else NO_CLOCK)}; decision due "
                   f"{esc(local_time(case.decision_due_at))}.")
    if case.info_due_on:
        st.caption(f"Information requested, due {case.info_due_on:%m/%d/%Y}.")
    if case.denial_reason:
        st.caption(f"Denied {esc(local_text(case.denied_on, zone))}: {esc(case.denial_reason)}")
    render_fhir_panel(case_id, user)
