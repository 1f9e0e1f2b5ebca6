"""The case's Request & packet tab: the request, the schedule reason, attachments and the generated packet."""

from __future__ import annotations

import streamlit as st

from desk.models.prior_auth import URGENCIES, PaGeneratedFile
from desk.prior_auth.cases import DOSES_MG, FIRST_DOSES_MG, save_request
from desk.prior_auth.checklist import attach_document, attachments, remove_attachment
from desk.prior_auth.packet import download_generated, generate_appeal_letter, generate_packet
from desk.prior_auth.request_schedule import MAX_REASON_LENGTH, case_schedule_check, save_schedule_reason
from ui.context import work
from ui.downloads import document_download
from ui.prior_auth.case import CaseScreen, form_errors
from ui.text import esc

FILE_KINDS = {"packet": "Packet", "appeal_letter": "Appeal letter"}


def render_packet(view: CaseScreen) -> None:
    """The Request & packet tab."""
    user = view.user
    today = view.today
    case_id = view.case_id
    case = view.case
    files = view.files
    opened = view.opened
    run_action = view.run_action
    local_time = view.local_time
    st.markdown("**Request**")
    errors = form_errors("request", {
        "dose_mg": "Dose per session", "sessions_requested": "Sessions requested", "start_on": "Start date",
        "urgency": "Review", "first_dose_mg": "First session's dose", "sessions_per_week": "Sessions a week"})
    with st.form("request_form"):
        r1, r2, r3, r4 = st.columns(4)
        with r1:
            dose = st.selectbox("Dose per session", DOSES_MG, index=DOSES_MG.index(case.dose_mg)
                                if case.dose_mg in DOSES_MG else 1,
                                format_func=lambda d: f"{d} mg ({d // 28} devices)")
            errors.under("dose_mg")
        with r2:
            sessions = st.number_input("Sessions requested", min_value=1, max_value=104,
                                       value=case.sessions_requested or (8 if case.phase == "initial" else 12))
            errors.under("sessions_requested")
        with r3:
            start = st.date_input("Start date", value=case.start_on or today, format="MM/DD/YYYY")
            errors.under("start_on")
        with r4:
            urgency = st.selectbox("Review", URGENCIES, index=URGENCIES.index(case.urgency),
                                   format_func=str.capitalize)
            errors.under("urgency")
        q1, q2, _q3 = st.columns([1, 1, 2])
        first_choices: list[int | None] = [None, *FIRST_DOSES_MG]
        with q1:
            first_dose = st.selectbox("First session's dose", first_choices,
                                      index=first_choices.index(case.first_dose_mg)
                                      if case.first_dose_mg in first_choices else 0,
                                      format_func=lambda d: "not recorded" if d is None else f"{d} mg")
            errors.under("first_dose_mg")
        with q2:
            per_week = st.number_input("Sessions a week", min_value=0.0, max_value=7.0, step=0.5,
                                       value=float(case.sessions_per_week or 0.0),
                                       help="0 = not recorded; 0.5 = every other week. Payer rules on mg per week "
                                            "and devices per period read this.")
            errors.under("sessions_per_week")
        errors.rest()
        saved = st.form_submit_button("Save request", disabled=case.status not in ("draft", "ready"))
    if saved:
        expected = opened
        run_action(lambda s: save_request(s, case_id=case_id, expected_version=expected, dose_mg=int(dose),
                                          sessions_requested=int(sessions), start_on=start,
                                          urgency=str(urgency), first_dose_mg=first_dose,
                                          sessions_per_week=float(per_week) or None), "Request saved.", "request")
        st.rerun()
    schedule = case_schedule_check(case, today=today, benefit=view.overview.benefit)
    if not schedule.fits:
        st.warning("The request departs from the label or the payer's limits; it can be marked ready once it "
                   "fits, or with the prescriber's reason (the letter states it).")
        st.text("Departs from: " + "; ".join(schedule.deviations)
                + (f"\nThe schedule that fits: {schedule.proposal.describe()}" if schedule.proposal else ""))
        reason_errors = form_errors("schedule_reason", {"schedule_reason": "Prescriber's reason for this schedule"})
        with st.form("schedule_reason_form"):
            reason = st.text_area("Prescriber's reason for this schedule", value=case.schedule_reason,
                                  max_chars=MAX_REASON_LENGTH)
            reason_errors.under("schedule_reason")
            reason_errors.rest()
            reason_saved = st.form_submit_button("Save reason", disabled=case.status not in ("draft", "ready"))
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
    attach_errors = form_errors("attach", {"title": "Title", "file": "PDF"})
    with st.form("attach_form", clear_on_submit=True):
        a1, a2 = st.columns([2, 3])
        with a1:
            title = st.text_input("Title", key="attach_title")
            attach_errors.under("title")
        with a2:
            upload = st.file_uploader("PDF", type=["pdf"], key="attach_file")
            attach_errors.under("file")
        attach_errors.rest()
        attach = st.form_submit_button("Attach")
    if attach:
        expected = opened
        run_action(lambda s: attach_document(
            s, case_id=case_id, expected_version=expected, title=title or (upload.name if upload else ""),
            content_type=upload.type if upload else "application/pdf",
            content=upload.getvalue() if upload else b"", actor=user.username), "Document attached.", "attach")
        st.rerun()
    if doc_labels:
        remove_errors = form_errors("remove_doc")
        with st.form("remove_doc"):
            gone = st.selectbox("Remove an attachment", list(doc_labels), format_func=doc_labels.__getitem__)
            remove_errors.rest()
            remove = st.form_submit_button("Remove")
        if remove:
            expected = opened
            run_action(lambda s: remove_attachment(s, case_id=case_id, expected_version=expected,
                                                   attachment_id=int(gone or 0), actor=user.username),
                       "Attachment removed (kept in the record).", "remove_doc")
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
    form_errors("packet", {"attachments": "Include in the packet"}).rest()

    def audit_download(file_id: int) -> None:
        with work(user.username) as session:
            download_generated(session, case_id=case_id, file_id=file_id)

    for kept in files[:5]:
        f1, f2 = st.columns([3, 1])
        f1.write(f"**{esc(FILE_KINDS.get(kept.kind, kept.kind))}** · {esc(local_time(kept.created_at))} · "
                 f"{esc(kept.created_by)} · {kept.size_bytes // 1024 + 1:d} KB")
        with work(user.username) as session:
            row = session.get(PaGeneratedFile, kept.id)
            content = row.content if row else b""
        document_download("Download", data=content, file_name=kept.file_name, mime="application/pdf",
                          kind="pa_generated_file", record_id=kept.id, where=f2,
                          key=f"download_{kept.id}", on_click=audit_download, args=(kept.id,))
