"""The case's Checklist tab: the payer's criteria as met, attested or excepted, and the forms that record them."""

from __future__ import annotations

import streamlit as st

from desk.policies.schema import source_words
from desk.prior_auth.checklist import attach_document, attest, record_exception, resolve_policy, withdraw_signoff
from desk.prior_auth.wording import us_dates
from ui.prior_auth.case import CaseScreen, form_errors
from ui.text import esc, link_md

STATUS_ICONS = {"met": ":green[:material/check_circle:]", "attested": ":green[:material/draw:]",
                "excepted": ":orange[:material/flag:]", "not_met": ":red[:material/cancel:]",
                "unknown": ":orange[:material/help:]", "attest": ":blue[:material/draw:]"}
EFFECTIVE_WORDS = {"met": "met", "attested": "attested", "excepted": "exception", "not_met": "not met",
                   "unknown": "not on record", "attest": "needs attestation"}


def render_checklist(view: CaseScreen) -> None:
    """The Checklist tab."""
    user = view.user
    case_id = view.case_id
    case = view.case
    checklist = view.checklist
    opened = view.opened
    run_action = view.run_action
    local_time = view.local_time
    policy = resolve_policy(case.payer_id, view.today)[0]
    for note in checklist.notes:
        st.info(esc(us_dates(note)))
    if checklist.ready and case.status in ("draft", "ready"):
        st.success("Every required item is met, attested or excepted: the case can be marked ready to submit.")
    elif checklist.missing and case.status in ("draft", "ready"):
        st.error("Missing before the case can be submitted:\n"
                 + "\n".join(f"- {esc(us_dates(m))}" for m in checklist.missing))
    for item in checklist.items:
        # Em spaces indent without markup: HTML and markdown collapse or reinterpret ASCII spaces.
        indent_md = "\u2003\u2003" * item.depth
        icon_md = STATUS_ICONS.get(item.effective, "•")
        label = EFFECTIVE_WORDS.get(item.effective, item.effective)
        head_md = f"{indent_md}{icon_md} **{esc(item.text)}** — _{esc(label)}_"
        if item.source:
            head_md += f" · {link_md(us_dates(source_words(policy, item.source)), item.source_url)}"
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
            st.caption(indent_md + " · ".join(esc(us_dates(detail)) for detail in details))

    leaves = [i for i in checklist.items if not i.is_group]
    if leaves and case.status in ("draft", "ready"):
        st.divider()
        st.markdown("**Record against a criterion**")
        names = {i.id: i.text for i in leaves}
        text_label = "Note (attestation) or reason (exception) or document title"
        errors = form_errors("mark", {"criterion_id": "Criterion", "note": text_label, "reason": text_label,
                                      "title": text_label, "file": "Document (PDF)"})
        with st.form("mark_form", clear_on_submit=True):
            criterion = st.selectbox("Criterion", list(names), format_func=names.__getitem__, key="mark_criterion")
            errors.under("criterion_id")
            kind = st.radio("What", ["Attestation", "Exception", "Attach a document"], horizontal=True,
                            key="mark_kind")
            text = st.text_area(esc(text_label), key="mark_text")
            errors.under("note", "reason", "title")
            upload = st.file_uploader("Document (PDF)", type=["pdf"], key="mark_file")
            errors.under("file")
            errors.rest()
            marked = st.form_submit_button("Save", type="primary")
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
            withdraw_errors = form_errors("withdraw")
            with st.form("withdraw_form"):
                chosen = st.selectbox("Withdraw an attestation or exception", list(labels),
                                      format_func=labels.__getitem__)
                withdraw_errors.rest()
                withdraw = st.form_submit_button("Withdraw")
            if withdraw:
                expected = opened
                run_action(lambda s: withdraw_signoff(s, case_id=case_id, expected_version=expected,
                                                      signoff_id=int(chosen or 0), actor=user.username),
                           "Withdrawn (kept in the record).", "withdraw")
                st.rerun()
