"""One prior-authorization case: checklist, request and packet, lifecycle, decision clock, devices, history."""

from collections.abc import Callable
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from desk.errors import DeskError, FieldError, NotFound, StaleEdit, ValidationFailed
from desk.models import utcnow
from desk.models.prior_auth import STATUS_LABELS, SUBMISSION_CHANNELS, URGENCIES, PaGeneratedFile
from desk.policies.clocks import NO_CLOCK
from desk.prior_auth import lifecycle as lc
from desk.prior_auth.cases import (
    DOSES_MG,
    FIRST_DOSES_MG,
    case_overview,
    save_request,
    status_history,
)
from desk.prior_auth.checklist import (
    attach_document,
    attachments,
    attest,
    case_checklist,
    record_exception,
    remove_attachment,
    withdraw_signoff,
)
from desk.prior_auth.clocks import is_overdue, local_today, renewal_reminder
from desk.prior_auth.devices import (
    case_account,
    device_entries,
    patient_accounts,
    record_device_use,
    two_week_need,
)
from desk.prior_auth.packet import (
    download_generated,
    generate_appeal_letter,
    generate_packet,
    generated_files,
)
from desk.prior_auth.payer_rules import decision_clock_for, payer_name, renewal_lead_days_for
from desk.prior_auth.policy_changes import acknowledge_policy_change, policy_change_of
from desk.prior_auth.request_schedule import (
    MAX_REASON_LENGTH,
    case_schedule_check,
    save_schedule_reason,
)
from desk.savings.eligibility import PLAN_TYPE_LABELS
from ui.context import get_settings, work
from ui.downloads import document_download
from ui.editing import forget_version, opened_version
from ui.fhir import render_fhir_panel
from ui.guard import require_role
from ui.text import esc, link_md

user = require_role("pages/prior_auth.py")

CASE_KEY = "pa_case_id"
NOTICE = "pa_notice"
ERRORS = "pa_errors"
STATUS_ICONS = {"met": ":green[:material/check_circle:]", "attested": ":green[:material/draw:]",
                "excepted": ":orange[:material/flag:]", "not_met": ":red[:material/cancel:]",
                "unknown": ":orange[:material/help:]", "attest": ":blue[:material/draw:]"}
OPEN_WITHOUT_DECISION = ("draft", "ready", "submitted", "pended", "info_requested")
EFFECTIVE_WORDS = {"met": "met", "attested": "attested", "excepted": "exception", "not_met": "not met",
                   "unknown": "not on record", "attest": "needs attestation"}
CHANNEL_WORDS = {"fax": "Fax", "portal": "Payer portal", "phone": "Phone", "electronic_pa": "Electronic PA",
                 "mail": "Mail"}

settings = get_settings()
zone = ZoneInfo(settings.timezone)
now = utcnow()
today = local_today(settings.timezone, now=now)

raw = st.query_params.get("case") or st.session_state.get(CASE_KEY)
try:
    case_id = int(str(raw)) if raw is not None else None
except ValueError:
    case_id = None
if case_id is None:
    st.title("Prior authorization case")
    st.info("Open a case from the worklist, or start a new one there.")
    if st.button("Go to the worklist", icon=":material/checklist:"):
        st.switch_page("pages/worklist.py")
    st.stop()
assert case_id is not None
st.session_state[CASE_KEY] = case_id

try:
    with work(user.username) as session:
        overview = case_overview(session, case_id=case_id)
        case = overview.case
        checklist = case_checklist(session, case=case, as_of=today)
        history = list(status_history(session, case_id=case_id))
        files = generated_files(session, case_id=case_id)
        account = case_account(session, case_id=case_id)
        other_accounts = [a for a in patient_accounts(session, patient_id=case.patient_id)
                          if a.authorization.case_id != case_id]
        entries = list(device_entries(session, patient_id=case.patient_id))
        clock = decision_clock_for(payer_id=case.payer_id, plan_type=case.plan_type, urgency=case.urgency)
        lead_days = renewal_lead_days_for(payer_id=case.payer_id)
except NotFound as exc:
    st.session_state.pop(CASE_KEY, None)
    st.title("Prior authorization case")
    st.error(esc(exc))
    st.stop()


def run_action(action: Callable[[Any], Any], success: str, form: str = "") -> bool:
    """Run one write in its own unit of work; show field messages, stale edits and other refusals."""
    st.session_state.pop(ERRORS, None)
    try:
        with work(user.username) as session:
            action(session)
    except ValidationFailed as exc:
        st.session_state[ERRORS] = (form, [(e.field, e.message) for e in exc.errors])
        return False
    except StaleEdit as exc:
        st.session_state[ERRORS] = (form, [("", str(exc))])
        return False
    except DeskError as exc:
        st.session_state[ERRORS] = (form, [("", str(exc))])
        return False
    forget_version("pa_case", case_id)
    if form == "step":
        # Saved: the next step's form starts from its defaults again.
        for key in [k for k in st.session_state if str(k).startswith("st_")]:
            del st.session_state[key]
    st.session_state[NOTICE] = success
    return True


# The lifecycle form's fields as their labels read: a refusal names the field the user sees.
STEP_FIELDS = {
    "auth_number": "Authorization number", "start_on": "Start date", "end_on": "End date",
    "approved_devices": "Approved devices", "approved_sessions": "Approved sessions", "decided_on": "Decision date",
    "submitted_at": "Submitted on", "channel": "Channel", "reference": "Reference / confirmation number",
    "urgency": "Review", "requested_on": "Requested on", "due_on": "Due on",
    "description": "What the payer asked for", "reason": "Payer's stated reason", "denied_on": "Denial date",
    "filed_on": "Filed on", "level": "Level", "peer_to_peer_on": "Peer-to-peer date",
}


def show_errors(form: str) -> None:
    """The refusals not shown next to a field of the form (the lifecycle form shows its fields' own)."""
    stored = st.session_state.get(ERRORS)
    if stored and stored[0] == form:
        for field, message in stored[1]:
            if form == "step" and field in STEP_FIELDS:
                continue
            st.error(f"{esc(field.replace('_', ' '))}: {esc(message)}" if field else esc(message))


def field_error(field: str, *fields: str) -> None:
    """Under an input of the lifecycle form: every refusal of that field, in the words of its label."""
    stored = st.session_state.get(ERRORS)
    if stored and stored[0] == "step":
        for name, message in stored[1]:
            if name in (field, *fields):
                st.markdown(f":red[{esc(STEP_FIELDS[name])}: {esc(message)}]")


def local_time(moment: datetime | None) -> str:
    return moment.astimezone(zone).strftime("%m/%d/%Y %H:%M %Z") if moment else "—"


# Saves carry the version this user opened; a save over someone else's newer change is refused.
opened = opened_version("pa_case", case_id, case.version)

# ---------------------------------------------------------------- header
st.session_state["patient_id"] = case.patient_id  # the sidebar's Patient record opens this case's patient
st.title(f"PA #{case.id:d} · {esc(overview.patient_name)}")
st.caption(
    f"MRN {esc(overview.mrn)} · {esc(payer_name(case.payer_id))} "
    f"({esc(PLAN_TYPE_LABELS.get(case.plan_type, case.plan_type))}, "
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
        st.session_state.pop(ERRORS, None)
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
        st.warning(f"Policy changed on {esc(local_time(case.policy_changed_at))}: the payer's policy file changed and "
                   "this case's criteria were evaluated again. What changed, criterion by criterion:",
                   icon=":material/published_with_changes:")
        words = {"met": "met", "not_met": "not met", "unknown": "not on record", "attest": "needs attestation",
                 None: "not in that version"}
        rows = [{"criterion": "Decision", "before": policy_change.old_decision.replace("_", " "),
                 "now": policy_change.new_decision.replace("_", " ")}]
        rows += [{"criterion": c.text, "before": words[c.old], "now": words[c.new]} for c in policy_change.changes]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="policy_change_table")
        st.text(f"Policy: {policy_change.old_version} → {policy_change.new_version}")
        if st.button("Acknowledge the change", key="ack_policy_change", icon=":material/done:"):
            # The re-check itself moved the case's version; acknowledging what is on screen is not a lost edit.
            ack_version = case.version
            run_action(lambda s: acknowledge_policy_change(s, case_id=case_id, expected_version=ack_version),
                       "Policy change acknowledged.", "policy")
            st.rerun()

m1, m2, m3, m4 = st.columns(4)
m1.metric("Status", STATUS_LABELS[case.status])
if case.decision_due_at is not None and case.status in ("submitted", "pended", "info_requested"):
    late = is_overdue(decision_due_at=case.decision_due_at, now=now)
    m2.metric("Decision due", local_time(case.decision_due_at), "overdue" if late else None,
              delta_color="inverse" if late else "normal")
elif case.auth_end_on is not None:
    m2.metric("Authorization ends", case.auth_end_on.isoformat(),
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
    m4.metric("Policy", checklist.policy_id or "none")

clock_note = st.container()
if clock is None and case.status in OPEN_WITHOUT_DECISION:
    clock_note.warning(f"Decision clock: {esc(NO_CLOCK)} (decision\\_clocks → {esc(case.plan_type)} in "
                       f"{esc(case.payer_id)}.yaml). No decision due time is computed until then.",
                       icon=":material/timer_off:")

# Keyed: after an action the case stays on the tab the user was working in.
tab_checklist, tab_packet, tab_status, tab_devices, tab_history = st.tabs(
    ["Checklist", "Request & packet", "Status & decisions", "Devices", "History"], key="case_tab", on_change="rerun")

# ---------------------------------------------------------------- checklist
with tab_checklist:
    for note in checklist.notes:
        st.info(esc(note))
    if checklist.ready and case.status in ("draft", "ready"):
        st.success("Every required item is met, attested or excepted: the case can be marked ready to submit.")
    elif checklist.missing and case.status in ("draft", "ready"):
        st.error("Missing before the case can be submitted:\n" + "\n".join(f"- {esc(m)}" for m in checklist.missing))
    for item in checklist.items:
        # Em spaces indent without markup: HTML and markdown collapse or reinterpret ASCII spaces.
        indent_md = "\u2003\u2003" * item.depth
        icon_md = STATUS_ICONS.get(item.effective, "•")
        label = EFFECTIVE_WORDS.get(item.effective, item.effective)
        head_md = f"{indent_md}{icon_md} **{esc(item.text)}** — _{esc(label)}_"
        if item.source:
            head_md += f" · {link_md(item.source, item.source_url)}"
        st.markdown(head_md)
        details = [*item.evidence] if not item.is_group and item.effective != "attested" else []
        if item.attestation:
            details.append(f"Attested by {item.attestation.by} on {local_time(item.attestation.at)}: "
                           f"{item.attestation.note}")
        if item.exception:
            details.append(f"Exception by {item.exception.by} on {local_time(item.exception.at)}: "
                           f"{item.exception.note}")
        details += [f"📎 {a.title} ({a.size_bytes // 1024 + 1} KB, {a.uploaded_by})" for a in item.attachments]
        if details:
            st.caption(indent_md + " · ".join(esc(detail) for detail in details))

    leaves = [i for i in checklist.items if not i.is_group]
    if leaves and case.status in ("draft", "ready"):
        st.divider()
        st.markdown("**Record against a criterion**")
        names = {i.id: i.text for i in leaves}
        with st.form("mark_form", clear_on_submit=True):
            criterion = st.selectbox("Criterion", list(names), format_func=names.__getitem__, key="mark_criterion")
            kind = st.radio("What", ["Attestation", "Exception", "Attach a document"], horizontal=True,
                            key="mark_kind")
            text = st.text_area("Note (attestation) or reason (exception) or document title", key="mark_text")
            upload = st.file_uploader("Document (PDF)", type=["pdf"], key="mark_file")
            marked = st.form_submit_button("Save", type="primary")
        show_errors("mark")
        if marked:
            expected = opened
            if kind == "Attestation":
                run_action(lambda s: attest(s, case_id=case_id, expected_version=expected,
                                                   criterion_id=str(criterion), note=text, actor=user.username),
                                  "Attestation recorded.", "mark")
            elif kind == "Exception":
                run_action(lambda s: record_exception(s, case_id=case_id, expected_version=expected,
                                                             criterion_id=str(criterion), reason=text,
                                                             actor=user.username),
                                  "Exception recorded.", "mark")
            else:
                data = upload.getvalue() if upload is not None else b""
                content_type = upload.type if upload is not None else "application/pdf"
                run_action(lambda s: attach_document(
                    s, case_id=case_id, expected_version=expected, title=text or (upload.name if upload else ""),
                    content_type=content_type, content=data, actor=user.username, criterion_id=str(criterion)),
                    "Document attached.", "mark")
            st.rerun()
        marks = [(i, m) for i in leaves for m in (i.attestation, i.exception) if m is not None]
        if marks:
            labels = {m.id: f"{m.kind} · {i.text}" for i, m in marks}
            with st.form("withdraw_form"):
                chosen = st.selectbox("Withdraw an attestation or exception", list(labels),
                                      format_func=labels.__getitem__)
                withdraw = st.form_submit_button("Withdraw")
            if withdraw:
                expected = opened
                run_action(lambda s: withdraw_signoff(s, case_id=case_id, expected_version=expected,
                                                      signoff_id=int(chosen or 0), actor=user.username),
                           "Withdrawn (kept in the record).", "mark")
                st.rerun()

# ---------------------------------------------------------------- request & packet
with tab_packet:
    st.markdown("**Request**")
    with st.form("request_form"):
        r1, r2, r3, r4 = st.columns(4)
        dose = r1.selectbox("Dose per session", DOSES_MG, index=DOSES_MG.index(case.dose_mg)
                            if case.dose_mg in DOSES_MG else 1, format_func=lambda d: f"{d} mg ({d // 28} devices)")
        sessions = r2.number_input("Sessions requested", min_value=1, max_value=104,
                                   value=case.sessions_requested or (8 if case.phase == "initial" else 12))
        start = r3.date_input("Start date", value=case.start_on or today)
        urgency = r4.selectbox("Review", URGENCIES, index=URGENCIES.index(case.urgency))
        q1, q2, _q3 = st.columns([1, 1, 2])
        first_choices: list[int | None] = [None, *FIRST_DOSES_MG]
        first_dose = q1.selectbox("First session's dose", first_choices,
                                  index=first_choices.index(case.first_dose_mg)
                                  if case.first_dose_mg in first_choices else 0,
                                  format_func=lambda d: "not recorded" if d is None else f"{d} mg")
        per_week = q2.number_input("Sessions a week", min_value=0.0, max_value=7.0, step=0.5,
                                   value=float(case.sessions_per_week or 0.0),
                                   help="0 = not recorded; 0.5 = every other week. Payer rules on mg per week and "
                                        "devices per period read this.")
        saved = st.form_submit_button("Save request", disabled=case.status not in ("draft", "ready"))
    show_errors("request")
    if saved:
        expected = opened
        run_action(lambda s: save_request(s, case_id=case_id, expected_version=expected, dose_mg=int(dose),
                                          sessions_requested=int(sessions), start_on=start,
                                          urgency=str(urgency), first_dose_mg=first_dose,
                                          sessions_per_week=float(per_week) or None), "Request saved.", "request")
        st.rerun()
    schedule = case_schedule_check(case, today=today)
    if not schedule.fits:
        st.warning("The request departs from the label or the payer's limits; it can be marked ready once it "
                   "fits, or with the prescriber's reason (the letter states it).")
        st.text("Departs from: " + "; ".join(schedule.deviations)
                + (f"\nThe schedule that fits: {schedule.proposal.describe()}" if schedule.proposal else ""))
        with st.form("schedule_reason_form"):
            reason = st.text_area("Prescriber's reason for this schedule", value=case.schedule_reason,
                                  max_chars=MAX_REASON_LENGTH)
            reason_saved = st.form_submit_button("Save reason", disabled=case.status not in ("draft", "ready"))
        show_errors("schedule_reason")
        if reason_saved:
            expected = opened
            run_action(lambda s: save_schedule_reason(s, case_id=case_id, expected_version=expected,
                                                      reason=str(reason)), "Reason saved.", "schedule_reason")
            st.rerun()

    with work(user.username) as session:
        docs = list(attachments(session, case_id=case_id))
    st.markdown("**Attachments**")
    doc_labels = {d.id: f"{d.title} ({d.size_bytes // 1024 + 1} KB)" for d in docs if d.id is not None}
    chosen_docs = st.multiselect("Include in the packet", list(doc_labels), default=[
        d.id for d in docs if d.include_in_packet], format_func=doc_labels.__getitem__, key="packet_docs")
    with st.form("attach_form", clear_on_submit=True):
        a1, a2 = st.columns([2, 3])
        title = a1.text_input("Title", key="attach_title")
        upload = a2.file_uploader("PDF", type=["pdf"], key="attach_file")
        attach = st.form_submit_button("Attach")
    show_errors("attach")
    if attach:
        expected = opened
        run_action(lambda s: attach_document(
            s, case_id=case_id, expected_version=expected, title=title or (upload.name if upload else ""),
            content_type=upload.type if upload else "application/pdf",
            content=upload.getvalue() if upload else b"", actor=user.username), "Document attached.", "attach")
        st.rerun()
    if doc_labels:
        with st.form("remove_doc"):
            gone = st.selectbox("Remove an attachment", list(doc_labels), format_func=doc_labels.__getitem__)
            remove = st.form_submit_button("Remove")
        if remove:
            expected = opened
            run_action(lambda s: remove_attachment(s, case_id=case_id, expected_version=expected,
                                                   attachment_id=int(gone or 0), actor=user.username),
                       "Attachment removed (kept in the record).", "attach")
            st.rerun()

    st.markdown("**Packet**")
    st.caption("Cover sheet, the payer's own request form when an administrator mapped one (else the generic "
               "form), the letter of medical necessity (the appeal letter once denied) and the chosen attachments.")
    g1, g2 = st.columns(2)
    if g1.button("Generate packet", icon=":material/picture_as_pdf:", type="primary",
                 disabled=case.status in ("cancelled", "expired")):
        ids = [int(i) for i in chosen_docs]
        run_action(lambda s: generate_packet(s, case_id=case_id, actor=user.username, attachment_ids=ids,
                                             today=today), "Packet generated and kept.", "packet")
        st.rerun()
    if case.status in ("denied", "appealed", "upheld") and g2.button("Generate appeal letter",
                                                                      icon=":material/gavel:"):
        run_action(lambda s: generate_appeal_letter(s, case_id=case_id, actor=user.username, today=today),
                   "Appeal letter generated and kept.", "packet")
        st.rerun()
    show_errors("packet")

    def audit_download(file_id: int) -> None:
        with work(user.username) as session:
            download_generated(session, case_id=case_id, file_id=file_id)

    for kept in files[:5]:
        f1, f2 = st.columns([3, 1])
        f1.write(f"**{esc(kept.kind.replace('_', ' '))}** · {esc(local_time(kept.created_at))} · "
                 f"{esc(kept.created_by)} · {kept.size_bytes // 1024 + 1:d} KB · sha256 {esc(kept.sha256[:16])}…")
        with work(user.username) as session:
            row = session.get(PaGeneratedFile, kept.id)
            content = row.content if row else b""
        document_download("Download", data=content, file_name=kept.file_name, mime="application/pdf",
                          kind="pa_generated_file", record_id=kept.id, where=f2,
                          key=f"download_{kept.id}", on_click=audit_download, args=(kept.id,))

# ---------------------------------------------------------------- status & decisions
with tab_status:
    # Expiry is not a manual step: the case expires by itself once the authorization's end date passes.
    nexts = [s for s in lc.allowed_next(case.status) if s != "expired"]
    if case.status in ("approved", "overturned"):
        st.info(f"Authorization {esc(case.auth_number)} runs to {esc(case.auth_end_on)}; the case expires by itself "
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
        with st.form(f"step_{step}"):
            call: Callable[[Any], Any] | None = None
            if step in ("approved", "overturned"):
                c1, c2, c3 = st.columns(3)
                with c1:
                    auth_number = st.text_input("Authorization number", key="st_auth_number")
                    field_error("auth_number")
                with c2:
                    start_on = st.date_input("Start date", key="st_start_on", format="MM/DD/YYYY")
                    field_error("start_on")
                with c3:
                    end_on = st.date_input("End date", value=None, key="st_end_on", format="MM/DD/YYYY")
                    field_error("end_on")
                c4, c5, c6 = st.columns(3)
                with c4:
                    devices_text = st.text_input("Approved devices", key="st_devices")
                    field_error("approved_devices")
                with c5:
                    sessions_text = st.text_input("Approved sessions", key="st_sessions")
                    field_error("approved_sessions")
                codes = c6.text_input("Approved codes (e.g. J0013, G2083)", key="st_codes")
                decided_on = st.date_input("Decision date", key="st_decided_on", format="MM/DD/YYYY")
                field_error("decided_on")
            elif step == "submitted":
                c1, c2, c3 = st.columns(3)
                with c1:
                    sub_day = st.date_input("Submitted on", key="st_sub_day", format="MM/DD/YYYY")
                    field_error("submitted_at")
                sub_time = c2.time_input("At (clinic time)", key="st_sub_time")
                with c3:
                    channel = st.selectbox("Channel", SUBMISSION_CHANNELS, format_func=CHANNEL_WORDS.__getitem__,
                                           key="st_channel")
                    field_error("channel")
                c4, c5 = st.columns(2)
                with c4:
                    reference = st.text_input("Reference / confirmation number", key="st_reference")
                    field_error("reference")
                urgency_pick = c5.selectbox("Review", URGENCIES, index=URGENCIES.index(case.urgency),
                                            key="st_urgency")
            elif step == "info_requested":
                c1, c2 = st.columns(2)
                with c1:
                    requested_on = st.date_input("Requested on", key="st_requested_on", format="MM/DD/YYYY")
                    field_error("requested_on")
                with c2:
                    due_on = st.date_input("Due on", value=None, key="st_due_on", format="MM/DD/YYYY")
                    field_error("due_on")
                description = st.text_area("What the payer asked for", key="st_description")
                field_error("description")
            elif step == "denied":
                reason = st.text_area("Payer's stated reason", key="st_reason")
                field_error("reason")
                denied_on = st.date_input("Denial date", key="st_denied_on", format="MM/DD/YYYY")
                field_error("denied_on")
            elif step == "appealed":
                c1, c2, c3 = st.columns(3)
                with c1:
                    filed_on = st.date_input("Filed on", key="st_filed_on", format="MM/DD/YYYY")
                    field_error("filed_on")
                with c2:
                    level = st.number_input("Level", min_value=case.appeal_level + 1, value=case.appeal_level + 1,
                                            key="st_level")
                    field_error("level")
                p2p = c3.checkbox("Peer-to-peer call", key="st_p2p")
                p2p_on = st.date_input("Peer-to-peer date", value=None, key="st_p2p_on", format="MM/DD/YYYY")
                field_error("peer_to_peer_on")
            elif step == "upheld":
                upheld_on = st.date_input("Decision date", key="st_upheld_on", format="MM/DD/YYYY")
                field_error("decided_on")
            note = st.text_input("Note" if step != "cancelled" else "Reason for cancelling", key="st_note")
            go = st.form_submit_button(f"Record: {STATUS_LABELS[step]}", type="primary")
        show_errors("step")
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
        st.caption(f"Denied {esc(case.denied_on)}: {esc(case.denial_reason)}")
    render_fhir_panel(case_id, user)

# ---------------------------------------------------------------- devices
with tab_devices:
    if account is None:
        st.info("Devices are counted once the payer approves the request.")
    else:
        a = account.authorization
        st.markdown(f"Authorization **{esc(a.auth_number)}** · {esc(a.start_on)} to {esc(a.end_on)} · codes "
                    f"{esc(a.approved_codes or '—')}")
        d1, d2, d3 = st.columns(3)
        d1.metric("Authorized", "—" if account.authorized_devices is None else account.authorized_devices)
        d2.metric("Used", account.used_devices)
        d3.metric("Remaining", "—" if account.remaining_devices is None else account.remaining_devices)
        with work(user.username) as session:
            need = two_week_need(session, patient_id=case.patient_id, indication=case.indication, today=today)
        reminder = renewal_reminder(end_on=a.end_on, lead_days=lead_days, today=today,
                                    remaining_devices=account.remaining_devices, devices_needed_two_weeks=need)
        st.caption(f"Renewal reminder from {reminder.remind_on:%m/%d/%Y} ({esc(reminder.reason)}).")
    st.markdown("**Enter a session given outside the REMS log**")
    st.caption("Sessions logged on the REMS screens count automatically. Each session is checked against the "
               "authorization covering its date before it is recorded.")
    with st.form("device_form", clear_on_submit=True):
        e1, e2 = st.columns(2)
        session_day = e1.date_input("Session date", value=today, max_value=today)
        device_count = e2.selectbox("Devices", (2, 3), index=1, format_func=lambda n: f"{n} ({n * 28} mg)")
        entry_note = st.text_input("Note")
        override = st.text_input("Reason to record anyway (only when the session is flagged)")
        record = st.form_submit_button("Check and record")
    show_errors("devices")
    if record:
        run_action(lambda s: record_device_use(s, patient_id=case.patient_id, case_id=case_id,
                                               session_date=session_day, devices=int(device_count),
                                               actor=user.username, note=entry_note, override_reason=override),
                   "Session recorded.", "devices")
        st.rerun()
    if entries:
        st.dataframe(pd.DataFrame([{"date": e.session_date, "devices": e.devices, "case": e.case_id,
                                    "by": e.recorded_by, "note": e.note} for e in entries]), hide_index=True)
    if other_accounts:
        st.markdown("**The patient's other authorizations**")
        st.dataframe(pd.DataFrame([{"auth": x.authorization.auth_number, "from": x.authorization.start_on,
                                    "to": x.authorization.end_on, "authorized": x.authorized_devices,
                                    "used": x.used_devices, "remaining": x.remaining_devices}
                                   for x in other_accounts]), hide_index=True)

# ---------------------------------------------------------------- history
with tab_history:
    st.dataframe(pd.DataFrame([{"when": local_time(h.at), "who": h.actor,
                                "from": STATUS_LABELS.get(h.from_status, "—"),
                                "to": STATUS_LABELS[h.to_status], "note": h.note} for h in history]),
                 hide_index=True)
    if files:
        st.markdown("**Generated files**")
        st.dataframe(pd.DataFrame([{"kind": f.kind, "file": f.file_name, "by": f.created_by,
                                    "when": local_time(f.created_at), "bytes": f.size_bytes, "sha256": f.sha256}
                                   for f in files]), hide_index=True)
