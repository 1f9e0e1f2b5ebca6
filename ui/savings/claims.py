"""The savings patient tab's claims: the year's table, the claim form and work on one claim."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import streamlit as st

from desk.auth import CurrentUser
from desk.errors import DeskError
from desk.models import CLAIM_KINDS, CLAIM_METHODS, SavingsClaim
from desk.savings.claims import (
    KIND_LABELS,
    ClaimAmounts,
    LimitsNotAcknowledged,
    mark_denied,
    mark_paid,
    record_claim,
    submit_claim,
    void_claim,
)
from desk.savings.documents import DOCUMENT_LABELS, attach_document, download_document
from desk.savings.money import format_cents
from desk.savings.overview import PatientSavings
from ui.context import get_settings, work
from ui.downloads import document_download
from ui.savings.common import DOC_HELP, METHOD_LABELS, attempt, done, money_input, show_problem
from ui.text import esc


def render_claims(*, user: CurrentUser, today: date, patient_id: int, year: int, picture: PatientSavings) -> None:
    """Claims and rebates of the chosen patient and year."""
    enrollment = picture.enrollment
    max_upload = get_settings().upload_max_mb * 1024 * 1024
    st.subheader("Claims and rebates")
    if picture.claims:
        st.dataframe(
            [
                {
                    "Claim": line.claim.id,
                    "Service date": line.claim.service_date,
                    "Benefit": KIND_LABELS[line.claim.kind],
                    "Devices": line.claim.devices,
                    "Method": METHOD_LABELS[line.claim.method],
                    "Status": line.claim.status,
                    "Billed": format_cents(line.claim.billed_cents),
                    "Insurance paid": format_cents(line.claim.insurance_paid_cents),
                    "Patient responsibility": format_cents(line.claim.patient_responsibility_cents),
                    "Savings applied": format_cents(line.claim.savings_applied_cents),
                    "Paid": format_cents(line.claim.paid_cents),
                    "Documents": ", ".join(DOCUMENT_LABELS[d.kind] for d in line.documents) or "none",
                    "Still needs": ", ".join(DOCUMENT_LABELS[m] for m in line.missing) or "—",
                }
                for line in picture.claims
            ],
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption(f"No claims for {year:d}.")

    if enrollment is not None or picture.history:
        form_round = st.session_state.setdefault("claim_form", 0)

        def ck(name: str) -> str:
            return f"claim_{name}_{form_round}"

        with st.expander("Record a claim", expanded=not picture.claims), st.form("record_claim"):
            c1, c2, c3, c4 = st.columns(4)
            service_date = c1.date_input("Service date", value=today, max_value=today, key=ck("date"))
            kind = c2.selectbox("Benefit", CLAIM_KINDS, format_func=KIND_LABELS.__getitem__, key=ck("kind"))
            devices = c3.number_input("Devices", min_value=0, max_value=10, value=3, step=1, key=ck("devices"),
                                      help="Devices used that day (56 mg = 2, 84 mg = 3). 0 for a rebate.")
            method = c4.selectbox("Method", CLAIM_METHODS, index=1, format_func=METHOD_LABELS.__getitem__,
                                  key=ck("method"))
            c5, c6, c7, c8 = st.columns(4)
            with c5:
                billed = money_input("Billed ($)", key=ck("billed"))
            with c6:
                insurance_paid = money_input("Insurance paid ($)", key=ck("insurance"))
            with c7:
                responsibility = money_input("Patient responsibility ($)", key=ck("responsibility"))
            with c8:
                savings = money_input("Savings applied ($)", key=ck("savings"),
                                      help_md="Leave at 0 to let the desk calculate it from the program terms.")
            d1, d2 = st.columns(2)
            eob = d1.file_uploader("EOB", type=["pdf", "png", "jpg", "jpeg", "tif", "tiff"], key=ck("eob"),
                                   help=DOC_HELP)
            proof = d2.file_uploader("Proof of payment", type=["pdf", "png", "jpg", "jpeg", "tif", "tiff"],
                                     key=ck("proof"), help=DOC_HELP)
            notes = st.text_input("Notes (no patient names)", key=ck("notes"))
            accept = st.checkbox("Record even if it exceeds a yearly maximum or device limit", key=ck("accept"))
            if st.form_submit_button("Record claim", type="primary"):
                amounts = ClaimAmounts(billed, insurance_paid, responsibility, savings or None)

                def record() -> None:
                    with work(user.username) as session:
                        claim = record_claim(
                            session, patient_id=patient_id, service_date=service_date, kind=kind,
                            devices=int(devices) if kind == "drug" else 0, method=method, amounts=amounts,
                            today=today, notes=notes, accept_warnings=accept,
                        )
                        for upload, doc_kind in ((eob, "eob"), (proof, "proof_of_payment")):
                            if upload is not None:
                                attach_document(session, claim_id=claim.id or 0, kind=doc_kind,
                                                content=upload.getvalue(), max_bytes=max_upload)

                try:
                    record()
                except LimitsNotAcknowledged as exc:
                    for error in exc.errors:
                        st.warning(esc(error.message))
                    st.error("Nothing was recorded. Tick the box above to record the claim anyway.")
                except DeskError as exc:
                    show_problem(exc)
                else:
                    # New widget keys give the next claim an empty form (no stale EOB left in it).
                    st.session_state["claim_form"] = form_round + 1
                    done("Claim recorded.")

    if picture.claims:
        by_id = {line.claim.id: line for line in picture.claims}
        st.markdown("**Work on a claim**")
        chosen = st.selectbox(
            "Claim", list(by_id),
            format_func=lambda i: f"#{i} · {by_id[i].claim.service_date} · {KIND_LABELS[by_id[i].claim.kind]} · "
            f"{by_id[i].claim.status}",
            key="savings_claim",
        )
        line = by_id[chosen]
        claim: SavingsClaim = line.claim
        assert claim.id is not None
        claim_version_key = f"claim_version_{claim.id}"
        claim_opened = st.session_state.setdefault(claim_version_key, claim.version)
        if line.missing:
            st.warning("Still needs: " + ", ".join(DOCUMENT_LABELS[m] for m in line.missing))
        if claim.denial_reason:
            st.error(f"Denied: {esc(claim.denial_reason)}")
        for document in line.documents:
            def fetch(document_id: int = document.id or 0) -> bytes:
                with work(user.username) as session:
                    return download_document(session, document_id=document_id).content

            document_download(
                f"Download {DOCUMENT_LABELS[document.kind]} ({document.filename}, "
                f"{document.size_bytes // 1024 + 1:d} KB)",
                data=fetch, file_name=document.filename, mime=document.content_type,
                kind="savings_document", record_id=document.id or "",
                key=f"doc_{document.id}", on_click="ignore",
            )
        if claim.status != "void":
            with st.form(f"attach_{claim.id}", clear_on_submit=True):
                c1, c2 = st.columns([1, 3])
                doc_kind = c1.selectbox("Document", list(DOCUMENT_LABELS), format_func=DOCUMENT_LABELS.__getitem__)
                upload = c2.file_uploader("File", type=["pdf", "png", "jpg", "jpeg", "tif", "tiff"], help=DOC_HELP)
                if st.form_submit_button("Attach"):
                    if upload is None:
                        st.error("File: choose a file to attach.")
                    else:
                        with work(user.username) as session:
                            ok = attempt(lambda: attach_document(session, claim_id=claim.id or 0, kind=doc_kind,
                                                                 content=upload.getvalue(), max_bytes=max_upload))
                        if ok:
                            done(f"{DOCUMENT_LABELS[doc_kind]} attached to claim #{claim.id}.")

        def save_status(action: Callable[[Any], object], message: str) -> None:
            with work(user.username) as session:
                ok = attempt(lambda: action(session))
            if ok:
                st.session_state.pop(claim_version_key, None)
                done(message)

        if claim.status in ("draft", "denied"):
            with st.form(f"submit_{claim.id}"):
                submitted_on = st.date_input("Submitted on", value=today, max_value=today)
                if st.form_submit_button("Mark as submitted"):
                    save_status(lambda s: submit_claim(s, claim_id=claim.id or 0, expected_version=claim_opened,
                                                       submitted_on=submitted_on, today=today),
                                f"Claim #{claim.id} submitted.")
        if claim.status == "submitted":
            c1, c2 = st.columns(2)
            with c1, st.form(f"paid_{claim.id}"):
                paid = money_input("Paid by the program ($)", key=f"paid_amount_{claim.id}",
                                   value=claim.savings_applied_cents / 100)
                paid_on = st.date_input("Paid on", value=today, max_value=today)
                if st.form_submit_button("Mark as paid"):
                    save_status(lambda s: mark_paid(s, claim_id=claim.id or 0, expected_version=claim_opened,
                                                    paid_cents=paid, paid_on=paid_on, today=today),
                                f"Claim #{claim.id} paid.")
            with c2, st.form(f"denied_{claim.id}"):
                denial = st.text_input("Denial reason")
                if st.form_submit_button("Mark as denied"):
                    save_status(lambda s: mark_denied(s, claim_id=claim.id or 0, expected_version=claim_opened,
                                                      reason=denial),
                                f"Claim #{claim.id} marked denied.")
        if claim.status not in ("paid", "void"):
            with st.expander("Void this claim"), st.form(f"void_{claim.id}"):
                void_reason = st.text_input("Why is it void?")
                if st.form_submit_button("Void claim"):
                    save_status(lambda s: void_claim(s, claim_id=claim.id or 0, expected_version=claim_opened,
                                                     reason=void_reason),
                                f"Claim #{claim.id} voided.")
