"""Savings program (SPRAVATO withMe): eligibility, enrollment, claims with EOBs, billing worklist, program terms."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import streamlit as st

from desk.errors import DeskError, ValidationFailed
from desk.models import CLAIM_KINDS, CLAIM_METHODS, SavingsClaim, SavingsEnrollment
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
from desk.savings.enrollment import CardDetails, end_enrollment, enroll_patient, update_enrollment
from desk.savings.export import export_report
from desk.savings.money import format_cents, to_cents
from desk.savings.overview import (
    devices_allowed,
    first_patient_with_savings,
    patient_choices,
    patient_savings,
)
from desk.savings.terms import TERM_FIELDS, save_terms, terms_for_year, terms_history
from desk.savings.worklist import (
    benefits_nearly_used,
    claims_waiting_for_eob,
    denied_claims,
    expiring_enrollments,
)
from ui.context import get_settings, work
from ui.downloads import document_download
from ui.guard import require_role
from ui.text import esc

user = require_role("pages/savings.py")

# Term labels are written in code (desk/savings/terms.py): shown as written, and read aloud as written.
TERM_LABELS = {f.name: f.label for f in TERM_FIELDS}

NOTICE = "savings_notice"
METHOD_LABELS = {"card_secondary": "Card billed as secondary insurance", "rebate_request": "Rebate request"}
DOC_HELP = "PDF or image (PNG, JPEG, TIFF). The file is stored under a name the desk generates."
today = date.today()
max_upload = get_settings().upload_max_mb * 1024 * 1024


def done(message: str) -> None:
    """Show `message` once after the rerun that follows a successful save."""
    st.session_state[NOTICE] = message
    st.rerun()


def show_problem(exc: DeskError) -> None:
    if isinstance(exc, ValidationFailed):
        for error in exc.errors:
            label = error.field.replace("_", " ")
            st.error(esc(error.message) if error.field == "accept_warnings"
                     else f"{esc(label.capitalize())}: {esc(error.message)}")
    else:
        st.error(esc(exc))


def attempt(action: Callable[[], Any]) -> bool:
    """Run a save; show its refusal next to the form and return False when nothing was written."""
    try:
        action()
    except DeskError as exc:
        show_problem(exc)
        return False
    return True


def money_input(label_md: str, *, key: str, value: float = 0.0, help_md: str | None = None) -> int:
    """A dollar amount; the label and help are written in code (Streamlit also reads the label aloud)."""
    amount = st.number_input(label_md, min_value=0.0, value=value, step=1.0, format="%.2f", key=key,
                             help=help_md)
    return to_cents(amount)


st.title("Savings program")
st.caption(
    "SPRAVATO withMe (formerly Janssen CarePath): commercial insurance only, no government program in any "
    "position. Program phone 1-844-479-4846 · enrollment fax 1-844-577-7282."
)
# The notice has a fixed slot: were it added only when there is one, the tabs would move down a place on the
# rerun after a save and the browser would show the old and the new tabs (two of every figure) until it ends.
notice_slot = st.container()
notice = st.session_state.pop(NOTICE, None)
if notice:
    notice_slot.success(esc(notice))

patient_tab, billing_tab, terms_tab = st.tabs(["Patient", "Billing worklist", "Program terms"], key="savings_tab",
                                              on_change="rerun")

# ---------------------------------------------------------------- patient
with patient_tab:
    with work(user.username) as session:
        choices = patient_choices(session)
        first_active = first_patient_with_savings(session)
    if not choices:
        st.info("No patients yet. Add patients on the Patients screen first.")
    else:
        labels = {c.id: c.label for c in choices}
        if first_active is None:
            st.info("No patient is enrolled in the savings program and no claim is recorded yet. Choose a patient "
                    "to check eligibility and enroll them.", icon=":material/savings:")
        left, right = st.columns([3, 1])
        patient_id = left.selectbox("Patient", list(labels), format_func=labels.__getitem__, key="savings_patient",
                                    index=list(labels).index(first_active) if first_active in labels else 0)
        year = right.selectbox("Program year", [today.year + 1, today.year, today.year - 1, today.year - 2],
                               index=1, key="savings_year")
        with work(user.username) as session:
            picture = patient_savings(session, patient_id=patient_id, year=year, today=today)
        eligibility = picture.eligibility
        st.subheader("Eligibility")
        (st.success if eligibility.drug_eligible else st.error)(eligibility.drug_reason)
        (st.info if eligibility.rebate_eligible else st.warning)(eligibility.rebate_reason)

        st.subheader("Enrollment")
        enrollment: SavingsEnrollment | None = picture.enrollment
        if enrollment is None and not eligibility.drug_eligible:
            st.info("Enrollment is not offered: the patient is not eligible for the drug savings (see above).",
                    icon=":material/block:")
        elif enrollment is None:
            if picture.history:
                last = picture.history[0]
                st.caption(f"Last enrollment ended on {last.ended_on:%m/%d/%Y}: {esc(last.end_reason)}")
            with st.form("enroll", clear_on_submit=False):
                st.markdown("**Enroll this patient**")
                c1, c2, c3 = st.columns(3)
                enrolled_on = c1.date_input("Enrolled on", value=today, max_value=today, key="enroll_on")
                status = c2.selectbox("Status", ["active", "pending"], key="enroll_status",
                                      help="Pending until the program sends the member ID.")
                expires = c3.date_input("Card expires on", value=None, key="enroll_expires", format="MM/DD/YYYY",
                                        help="The date printed on the program card (required once active).")
                c4, c5, c6, c7 = st.columns(4)
                member_id = c4.text_input("Program member ID", key="enroll_member")
                rx_bin = c5.text_input("BIN", key="enroll_bin")
                rx_pcn = c6.text_input("PCN", key="enroll_pcn")
                rx_group = c7.text_input("Group", key="enroll_group")
                if st.form_submit_button("Enroll", type="primary"):
                    card = CardDetails(member_id, rx_bin, rx_pcn, rx_group, expires)
                    with work(user.username) as session:
                        ok = attempt(lambda: enroll_patient(session, patient_id=patient_id, enrolled_on=enrolled_on,
                                                            card=card, status=status, today=today))
                    if ok:
                        done("Patient enrolled in the savings program.")
        else:
            e = enrollment
            assert e.id is not None
            expiry = e.card_expires_on.isoformat() if e.card_expires_on else "not recorded"
            st.markdown(
                f"**{esc(e.status.capitalize())}** since {e.enrolled_on:%m/%d/%Y} · member ID "
                f"{esc(e.member_id or '—')} · BIN {esc(e.rx_bin or '—')} · PCN {esc(e.rx_pcn or '—')} · "
                f"group {esc(e.rx_group or '—')} · card expires {esc(expiry)}"
            )
            if e.card_expires_on and e.card_expires_on < today:
                st.error(f"The program card expired on {esc(expiry)}: renew it before the next claim.")
            elif e.card_expires_on and e.card_expires_on <= today + timedelta(days=30):
                st.warning(f"The program card expires on {esc(expiry)}.")
            opened_key = f"enrollment_version_{e.id}"
            opened = st.session_state.setdefault(opened_key, e.version)
            with st.expander("Change card details or status"), st.form("edit_enrollment"):
                c1, c2 = st.columns(2)
                new_status = c1.selectbox("Status", ["active", "pending"], index=0 if e.status == "active" else 1)
                new_expires = c2.date_input("Card expires on", value=e.card_expires_on)
                c3, c4, c5, c6 = st.columns(4)
                new_member = c3.text_input("Program member ID", value=e.member_id)
                new_bin = c4.text_input("BIN", value=e.rx_bin)
                new_pcn = c5.text_input("PCN", value=e.rx_pcn)
                new_group = c6.text_input("Group", value=e.rx_group)
                if st.form_submit_button("Save enrollment"):
                    card = CardDetails(new_member, new_bin, new_pcn, new_group, new_expires)
                    with work(user.username) as session:
                        ok = attempt(lambda: update_enrollment(session, enrollment_id=e.id or 0,
                                                               expected_version=opened, card=card, status=new_status))
                    if ok:
                        st.session_state.pop(opened_key, None)
                        done("Enrollment saved.")
            with st.expander("End enrollment"), st.form("end_enrollment"):
                ended_on = st.date_input("Ended on", value=today)
                reason = st.text_input("Reason", help="For example: coverage changed to Medicare.")
                if st.form_submit_button("End enrollment"):
                    with work(user.username) as session:
                        ok = attempt(lambda: end_enrollment(session, enrollment_id=e.id or 0, expected_version=opened,
                                                            ended_on=ended_on, reason=reason))
                    if ok:
                        st.session_state.pop(opened_key, None)
                        done("Enrollment ended.")

        st.subheader(f"Benefits used in {year:d}")
        totals = picture.totals
        terms = totals.terms
        m1, m2, m3 = st.columns(3)
        m1.metric("Drug benefit remaining", format_cents(totals.drug.remaining_cents))
        m1.caption(f"Used {esc(format_cents(totals.drug.used_cents))} of {esc(format_cents(totals.drug.maximum_cents))}"
                   + (" · maximum unconfirmed" if terms.is_unconfirmed("drug_benefit_max_cents") else ""))
        if totals.observation.maximum_cents is None:
            m2.metric("Observation rebate used", format_cents(totals.observation.used_cents))
            m2.caption("Yearly maximum not set (unconfirmed): enter it under Program terms.")
        else:
            m2.metric("Observation rebate remaining", format_cents(totals.observation.remaining_cents))
            m2.caption(f"Used {esc(format_cents(totals.observation.used_cents))} of "
                       f"{esc(format_cents(totals.observation.maximum_cents))}"
                       + (" · maximum unconfirmed" if terms.is_unconfirmed("observation_rebate_max_cents") else ""))
        m3.metric("Devices claimed", totals.devices_used)
        m3.caption(f"Limits: {terms.max_devices_per_day:d} a day, {terms.initial_window_devices:d} in the first "
                   f"{terms.initial_window_days:d} days, {terms.later_window_devices:d} per "
                   f"{terms.later_window_days:d} "
                   "days after" + (" (unconfirmed)" if terms.is_unconfirmed("later_window_devices") else ""))
        if enrollment is not None:
            next_day = st.date_input("Check a treatment date", value=today, key="savings_next_day")
            with work(user.username) as session:
                allowed = devices_allowed(session, patient_id=patient_id, on=next_day)
            if allowed == 0:
                st.error(f"No devices can be claimed on {next_day:%m/%d/%Y} without exceeding a device limit.")
            elif allowed < terms.max_devices_per_day:
                st.warning(f"Only {allowed:d} device(s) can be claimed on {next_day:%m/%d/%Y} within the limits.")
            else:
                st.caption(f"Up to {allowed:d} devices can be claimed on {next_day:%m/%d/%Y} within the limits.")

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

# ---------------------------------------------------------------- billing
with billing_tab:
    c1, c2 = st.columns(2)
    within = c1.number_input("Cards and years ending within (days)", min_value=1, max_value=365, value=30,
                             key="billing_within")
    threshold = c2.number_input("Benefit nearly used at (%)", min_value=1, max_value=100, value=80,
                                key="billing_threshold")
    with work(user.username) as session:
        sections = {
            "Enrollments expiring": expiring_enrollments(session, today=today, within_days=int(within)),
            "Benefits nearly used up": benefits_nearly_used(session, year=today.year, threshold_pct=float(threshold)),
            "Claims waiting for an EOB": claims_waiting_for_eob(session),
            "Denied claims and rebates": denied_claims(session),
        }
    for title, items in sections.items():
        st.markdown(f"**{esc(title)}** ({len(items)})")
        if items:
            st.dataframe(
                [
                    {"MRN": i.mrn, "Patient": i.patient, "Due": i.due_on, "Detail": i.detail,
                     "Amount": format_cents(i.amount_cents) if i.amount_cents is not None else ""}
                    for i in items
                ],
                hide_index=True, width="stretch",
            )
        else:
            st.caption("Nothing here.")

    st.markdown("**Export**")
    export_year = st.selectbox("Claims of year", [today.year, today.year - 1, today.year - 2], key="export_year")
    columns = st.columns(4)
    exports = [
        ("worklist", "csv", "Worklist (CSV)"),
        ("worklist", "xlsx", "Worklist (Excel)"),
        ("claims", "csv", f"Claims {export_year} (CSV)"),
        ("claims", "xlsx", f"Claims {export_year} (Excel)"),
    ]
    for column, (report, fmt, label) in zip(columns, exports, strict=True):
        # The file is built, and the export audited, only when the button is clicked.
        def build(report: Any = report, fmt: Any = fmt) -> bytes:
            with work(user.username) as session:
                return export_report(session, report=report, fmt=fmt, today=today, year=export_year,
                                     within_days=int(within), threshold_pct=float(threshold)).content

        stem = f"savings-worklist-{today.isoformat()}" if report == "worklist" else f"savings-claims-{export_year}"
        document_download(
            label, data=build, file_name=f"{stem}.{fmt}",
            mime="text/csv" if fmt == "csv" else
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            kind="savings_export", record_id=f"{report}.{fmt}", where=column,
            key=f"export_{report}_{fmt}", on_click="ignore", icon=":material/download:",
        )

# ---------------------------------------------------------------- terms
with terms_tab:
    terms_year = st.selectbox("Year", [today.year + 1, today.year, today.year - 1], index=1, key="terms_year")
    with work(user.username) as session:
        terms = terms_for_year(session, year=terms_year)
        history = terms_history(session, year=terms_year)
    if not terms.stored:
        source = f"carried forward from {terms.carried_from}" if terms.carried_from else "the shipped defaults"
        st.info(f"No terms saved for {terms_year:d}: showing {esc(source)}. An administrator can save them for "
                "this year.")
    if terms.unconfirmed:
        st.warning("Figures marked unconfirmed could not be checked against the current program terms. "
                   "Confirm them with the program (1-844-479-4846) and update them here.")
    st.dataframe(
        [
            {"Setting": f.label, "Value": terms.display_value(f.name),
             "Status": "unconfirmed" if terms.is_unconfirmed(f.name) else "confirmed", "Source": f.source}
            for f in TERM_FIELDS
        ],
        hide_index=True, width="stretch",
        column_config={"Value": st.column_config.TextColumn(width="medium")},
    )
    if user.has_any("admin"):
        terms_key = f"terms_version_{terms_year}"
        terms_opened = st.session_state.setdefault(terms_key, terms.version)
        with st.expander("Edit program terms"), st.form(f"terms_{terms_year}"):
            entered: dict[str, object] = {}
            still_unconfirmed: list[str] = []
            for f in TERM_FIELDS:
                c1, c2 = st.columns([3, 1])
                current = getattr(terms, f.name)
                if f.kind in ("money", "optional_money"):
                    dollars = c1.number_input(f"{TERM_LABELS[f.name]} ($)", min_value=0.0, step=1.0, format="%.2f",
                                              value=None if current is None else current / 100,
                                              key=f"term_{f.name}")
                    entered[f.name] = None if dollars is None else to_cents(dollars)
                elif f.kind == "states":
                    entered[f.name] = c1.text_input(TERM_LABELS[f.name], value=", ".join(sorted(current)),
                                                    key=f"term_{f.name}")
                else:
                    entered[f.name] = int(c1.number_input(TERM_LABELS[f.name], min_value=1, max_value=366,
                                                          value=int(current), step=1, key=f"term_{f.name}"))
                if c2.checkbox("Unconfirmed", value=terms.is_unconfirmed(f.name), key=f"unconfirmed_{f.name}"):
                    still_unconfirmed.append(f.name)
            terms_notes = st.text_input("Notes (where the figures come from)", value=terms.notes)
            if st.form_submit_button("Save terms", type="primary"):
                with work(user.username) as session:
                    ok = attempt(lambda: save_terms(session, user=user, year=terms_year, values=entered,
                                                    unconfirmed=still_unconfirmed, notes=terms_notes,
                                                    expected_version=terms_opened))
                if ok:
                    st.session_state.pop(terms_key, None)
                    done(f"Program terms for {terms_year} saved.")
    else:
        st.caption("Only administrators can change the program terms.")
    st.markdown("**History**")
    if history:
        st.dataframe(
            [{"When": c.changed_at, "By": c.changed_by, "Setting": c.field_name, "From": c.old_value,
              "To": c.new_value} for c in history],
            hide_index=True, width="stretch",
        )
    else:
        st.caption("No changes recorded for this year.")

