"""The case screen's header: title, links, notices and warnings, the four figures and the clock note."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from desk.models import PLAN_TYPE_NAMES
from desk.models.prior_auth import STATUS_LABELS
from desk.policies.clocks import NO_CLOCK
from desk.policies.loader import GENERIC_POLICY_ID
from desk.prior_auth.clocks import is_overdue, local_text
from desk.prior_auth.payer_rules import payer_name
from desk.prior_auth.policy_changes import acknowledge_policy_change, policy_change_of
from ui.editing import forget_version
from ui.prior_auth.case import NOTICE, CaseScreen, forget_errors, form_errors
from ui.text import esc

OPEN_WITHOUT_DECISION = ("draft", "ready", "submitted", "pended", "info_requested")


def render_header(view: CaseScreen) -> None:
    """Everything above the case's tabs."""
    now = view.now
    today = view.today
    case_id = view.case_id
    overview = view.overview
    case = view.case
    checklist = view.checklist
    account = view.account
    clock = view.clock
    opened = view.opened
    run_action = view.run_action
    local_time = view.local_time
    st.session_state["patient_id"] = case.patient_id  # the sidebar's Patient record opens this case's patient
    st.title(f"PA #{case.id:d} · {esc(overview.patient_name)}")
    st.caption(
        f"MRN {esc(overview.mrn)} · {esc(payer_name(case.payer_id))} "
        f"({esc(PLAN_TYPE_NAMES.get(case.plan_type, case.plan_type))}, "
        f"{esc(overview.coverage_priority)}) · member {esc(overview.member_id)} · {esc(case.indication)} "
        f"{esc(case.phase)} · {esc(case.urgency)} review · opened {esc(local_time(case.created_at))} by "
        f"{esc(case.created_by)}"
    )
    back_col, record_col, _ = st.columns([2, 2, 3])
    if back_col.button("Back to the worklist", icon=":material/arrow_back:", type="tertiary"):
        st.switch_page("pages/worklist.py")
    record_col.page_link("pages/patient_record.py", label="Open the patient record", icon=":material/person:",
                         query_params={"patient": str(case.patient_id)})
    # Notices and warnings have fixed slots: were they added only when there is one, the tabs would move a place up or
    # down on the rerun after an action and the browser would show the old and the new tabs until that run ends.
    alerts = st.container()
    if opened != case.version:
        alerts.error("This case was changed by someone else since you opened it. Your changes were not saved; "
                     "reload to see the latest version and apply them again.", icon=":material/sync_problem:")
        if alerts.button("Reload the latest version", icon=":material/refresh:"):
            forget_version("pa_case", case_id)
            forget_errors()
            st.rerun()
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        (alerts.warning if notice.startswith("Probable duplicate") else alerts.success)(notice)
    if overview.open_duplicates:
        alerts.warning("Probable duplicate: this patient has other open cases for the same payer and indication: "
                       + ", ".join(f"#{i:d}" for i in overview.open_duplicates) + ".")
    policy_change = policy_change_of(case)
    if policy_change is not None:
        with alerts.container(border=True, key="policy_change_box"):
            st.warning(f"Policy changed on {esc(local_time(case.policy_changed_at))}: the payer's policy file "
                       "changed and this case's criteria were evaluated again. What changed, criterion by criterion:",
                       icon=":material/published_with_changes:")
            words = {"met": "met", "not_met": "not met", "unknown": "not on record", "attest": "needs attestation",
                     None: "not in that version"}
            rows = [{"criterion": "Decision", "before": policy_change.old_decision.replace("_", " "),
                     "now": policy_change.new_decision.replace("_", " ")}]
            rows += [{"criterion": c.text, "before": words[c.old], "now": words[c.new]} for c in policy_change.changes]
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="policy_change_table")
            st.caption(f"Policy version {esc(policy_change.old_version or 'undated')} → "
                       f"{esc(policy_change.new_version or 'undated')}")
            if st.button("Acknowledge the change", key="ack_policy_change", icon=":material/done:"):
                # The re-check itself moved the case's version; acknowledging what is on screen is not a lost edit.
                ack_version = case.version
                run_action(lambda s: acknowledge_policy_change(s, case_id=case_id, expected_version=ack_version),
                           "Policy change acknowledged.", "policy")
                st.rerun()
            form_errors("policy").rest()

    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Status", STATUS_LABELS[case.status])
    if case.decision_due_at is not None and case.status in ("submitted", "pended", "info_requested"):
        late = is_overdue(decision_due_at=case.decision_due_at, now=now)
        # The day as the figure and the clock time under it: the whole moment does not fit a quarter row at 1280 px.
        due = case.decision_due_at.astimezone(view.zone)
        m2.metric("Decision due", f"{due:%m/%d/%Y}", f"{due:%H:%M %Z}" + (" · overdue" if late else ""),
                  delta_color="red" if late else "off", delta_arrow="off", help=esc(local_time(case.decision_due_at)))
    elif case.auth_end_on is not None:
        m2.metric("Authorization ends", local_text(case.auth_end_on, view.zone),
                  f"{(case.auth_end_on - today).days} days left" if case.auth_end_on >= today else "ended",
                  delta_color="off")
    else:
        m2.metric("Decision clock", clock.describe() if clock else "none known",
                  help="From submission, by the payer file's clock or the documented default for the plan type.")
    if account is not None:
        authorized = account.authorized_devices if account.authorized_devices is not None else "—"
        m3.metric("Devices authorized / used", f"{authorized} / {account.used_devices}")
        remaining = account.remaining_devices
        m4.metric("Devices remaining", "—" if remaining is None else remaining,
                  None if account.remaining_sessions is None else f"{account.remaining_sessions} sessions left")
    else:
        m3.metric("Checklist", "complete" if checklist.ready else f"{len(checklist.missing)} missing")
        policy = ("none" if not checklist.policy_id else
                  "generic" if checklist.policy_id == GENERIC_POLICY_ID else "payer's own")
        m4.metric("Criteria", policy, help=esc(checklist.policy_title) if checklist.policy_title else None)

    clock_note = st.container()
    if clock is None and case.status in OPEN_WITHOUT_DECISION:
        plan = PLAN_TYPE_NAMES.get(case.plan_type, case.plan_type)
        clock_note.warning(f"Decision clock: {esc(NO_CLOCK)} ({esc(plan)} plans of {esc(payer_name(case.payer_id))}). "
                           "No decision due time is computed until then.", icon=":material/timer_off:")
        if view.user.has_any("admin"):
            with clock_note.expander("Technical details"):
                st.caption(f"Payer file {esc(case.payer_id)}.yaml · decision\\_clocks → {esc(case.plan_type)}")
