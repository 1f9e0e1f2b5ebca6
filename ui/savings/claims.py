"""The savings patient tab's claims: the year's table, the claim form and work on one claim."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import streamlit as st

from desk.auth import CurrentUser
from desk.errors import FieldError
from desk.models import CLAIM_KINDS, CLAIM_METHODS, SavingsClaim
from desk.prior_auth.clocks import local_text
from desk.savings.claims import (
    KIND_LABELS,
    ClaimAmounts,
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
from ui.form_errors import FormErrors, form_has_errors, keep_errors, kept_errors
from ui.savings.common import DOC_HELP, METHOD_LABELS, attempt, done, money_input
from ui.text import esc

# Each field a claim save can refuse, as its input's label reads.
CLAIM_LABELS = {"service_date": "Service date", "session_id": "Service date", "kind": "Benefit", "devices": "Devices",
                "method": "Method", "billed": "Billed ($)", "insurance_paid": "Insurance paid ($)",
                "patient_responsibility": "Patient responsibility ($)", "savings_applied": "Savings applied ($)",
                "file": "EOB or proof of payment", "notes": "Notes (no patient names)", "accept_warnings": ""}


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
                    "Service date": local_text(line.claim.service_date, get_settings().timezone),
                    "Benefit": KIND_LABELS[line.claim.kind],
                    "Devices": line.claim.devices,
                    "Method": METHOD_LABELS[line.claim.method],
                    "Status": line.claim.status.capitalize(),
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

        errors = FormErrors("record_claim", CLAIM_LABELS)
        with st.expander("Record a claim", expanded=not picture.claims or form_has_errors("record_claim")), \
                st.form("record_claim"):
            c1, c2, c3, c4 = st.columns(4)
            with c1:
                service_date = st.date_input("Service date", value=today, max_value=today, key=ck("date"),
                                             format="MM/DD/YYYY")
                errors.under("service_date", "session_id")
            with c2:
                kind = st.selectbox("Benefit", CLAIM_KINDS, format_func=KIND_LABELS.__getitem__, key=ck("kind"))
                errors.under("kind")
            with c3:
                devices = st.number_input("Devices", min_value=0, max_value=10, value=3, step=1, key=ck("devices"),
                                          help="Devices used that day (56 mg = 2, 84 mg = 3). 0 for a rebate.")
                errors.under("devices")
            with c4:
                method = st.selectbox("Method", CLAIM_METHODS, index=1, format_func=METHOD_LABELS.__getitem__,
                                      key=ck("method"))
                errors.under("method")
            c5, c6, c7, c8 = st.columns(4)
            with c5:
                billed = money_input("Billed ($)", key=ck("billed"))
                errors.under("billed")
            with c6:
                insurance_paid = money_input("Insurance paid ($)", key=ck("insurance"))
                errors.under("insurance_paid")
            with c7:
                responsibility = money_input("Patient responsibility ($)", key=ck("responsibility"))
                errors.under("patient_responsibility")
            with c8:
                savings = money_input("Savings applied ($)", key=ck("savings"),
                                      help_md="Leave at 0 to let the desk calculate it from the program terms.")
                errors.under("savings_applied")
            d1, d2 = st.columns(2)
            with d1:
                eob = st.file_uploader("EOB", type=["pdf", "png", "jpg", "jpeg", "tif", "tiff"], key=ck("eob"),
                                       help=DOC_HELP)
            with d2:
                proof = st.file_uploader("Proof of payment", type=["pdf", "png", "jpg", "jpeg", "tif", "tiff"],
                                         key=ck("proof"), help=DOC_HELP)
            errors.under("file")
            notes = st.text_input("Notes (no patient names)", key=ck("notes"))
            errors.under("notes")
            accept = st.checkbox("Record even if it exceeds a yearly maximum or device limit", key=ck("accept"))
            # Limits the claim would exceed are warnings under the box that accepts them, not field errors.
            limits = [message for field, message in kept_errors("record_claim") if field == "accept_warnings"]
            for message in limits:
                st.warning(esc(message))
            if limits:
                st.error("Nothing was recorded. Tick the box above to record the claim anyway.")
            errors.shown_elsewhere("accept_warnings")
            errors.rest()
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

                attempt("record_claim", record)
                # New widget keys give the next claim an empty form (no stale EOB left in it).
                st.session_state["claim_form"] = form_round + 1
                done("Claim recorded.")

    if picture.claims:
        by_id = {line.claim.id: line for line in picture.claims}
        st.markdown("**Work on a claim**")
        chosen = st.selectbox(
            "Claim", list(by_id),
            format_func=lambda i: f"#{i} · {by_id[i].claim.service_date:%m/%d/%Y} · "
            f"{KIND_LABELS[by_id[i].claim.kind]} · {by_id[i].claim.status}",
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
            attach_form = f"attach_{claim.id}"
            attach_errors = FormErrors(attach_form, {"kind": "Document", "file": "File"})
            with st.form(attach_form, clear_on_submit=True):
                c1, c2 = st.columns([1, 3])
                with c1:
                    doc_kind = st.selectbox("Document", list(DOCUMENT_LABELS),
                                            format_func=DOCUMENT_LABELS.__getitem__)
                    attach_errors.under("kind")
                with c2:
                    upload = st.file_uploader("File", type=["pdf", "png", "jpg", "jpeg", "tif", "tiff"],
                                              help=DOC_HELP)
                    attach_errors.under("file")
                attach_errors.rest()
                if st.form_submit_button("Attach"):
                    if upload is None:
                        keep_errors(attach_form, [FieldError("file", "choose a file to attach")])
                        st.rerun()
                    with work(user.username) as session:
                        attempt(attach_form, lambda: attach_document(session, claim_id=claim.id or 0, kind=doc_kind,
                                                                     content=upload.getvalue(), max_bytes=max_upload))
                    done(f"{DOCUMENT_LABELS[doc_kind]} attached to claim #{claim.id}.")

        def save_status(form: str, action: Callable[[Any], object], message: str) -> None:
            with work(user.username) as session:
                attempt(form, lambda: action(session))
            st.session_state.pop(claim_version_key, None)
            done(message)

        if claim.status in ("draft", "denied"):
            submit_form = f"submit_{claim.id}"
            submit_errors = FormErrors(submit_form, {"submitted_on": "Submitted on"})
            with st.form(submit_form):
                submitted_on = st.date_input("Submitted on", value=today, max_value=today, format="MM/DD/YYYY")
                submit_errors.under("submitted_on")
                submit_errors.rest()
                if st.form_submit_button("Mark as submitted"):
                    save_status(submit_form, lambda s: submit_claim(s, claim_id=claim.id or 0,
                                                                    expected_version=claim_opened,
                                                                    submitted_on=submitted_on, today=today),
                                f"Claim #{claim.id} submitted.")
        if claim.status == "submitted":
            c1, c2 = st.columns(2)
            paid_form, denied_form = f"paid_{claim.id}", f"denied_{claim.id}"
            paid_errors = FormErrors(paid_form, {"paid": "Paid by the program ($)", "paid_on": "Paid on"})
            with c1, st.form(paid_form):
                paid = money_input("Paid by the program ($)", key=f"paid_amount_{claim.id}",
                                   value=claim.savings_applied_cents / 100)
                paid_errors.under("paid")
                paid_on = st.date_input("Paid on", value=today, max_value=today, format="MM/DD/YYYY")
                paid_errors.under("paid_on")
                paid_errors.rest()
                if st.form_submit_button("Mark as paid"):
                    save_status(paid_form, lambda s: mark_paid(s, claim_id=claim.id or 0,
                                                               expected_version=claim_opened, paid_cents=paid,
                                                               paid_on=paid_on, today=today),
                                f"Claim #{claim.id} paid.")
            denied_errors = FormErrors(denied_form, {"reason": "Denial reason"})
            with c2, st.form(denied_form):
                denial = st.text_input("Denial reason")
                denied_errors.under("reason")
                denied_errors.rest()
                if st.form_submit_button("Mark as denied"):
                    save_status(denied_form, lambda s: mark_denied(s, claim_id=claim.id or 0,
                                                                   expected_version=claim_opened, reason=denial),
                                f"Claim #{claim.id} marked denied.")
        if claim.status not in ("paid", "void"):
            void_form = f"void_{claim.id}"
            void_errors = FormErrors(void_form, {"reason": "Why is it void?"})
            with st.expander("Void this claim", expanded=form_has_errors(void_form)), st.form(void_form):
                void_reason = st.text_input("Why is it void?")
                void_errors.under("reason")
                void_errors.rest()
                if st.form_submit_button("Void claim"):
                    save_status(void_form, lambda s: void_claim(s, claim_id=claim.id or 0,
                                                                expected_version=claim_opened, reason=void_reason),
                                f"Claim #{claim.id} voided.")
