"""The savings patient tab's enrollment: enroll form, card details and status, ending an enrollment."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from desk.auth import CurrentUser
from desk.models import SavingsEnrollment
from desk.prior_auth.clocks import local_text
from desk.savings.enrollment import CardDetails, end_enrollment, enroll_patient, update_enrollment
from desk.savings.overview import PatientSavings
from ui.context import get_settings, work
from ui.form_errors import FormErrors, form_has_errors
from ui.savings.common import attempt, done
from ui.text import esc

# Each field an enrollment save can refuse, as its input's label reads.
CARD_LABELS = {"enrolled_on": "Enrolled on", "status": "Status", "card_expires_on": "Card expires on",
               "member_id": "Program member ID", "rx_bin": "BIN", "rx_pcn": "PCN", "rx_group": "Group"}


def render_enrollment(*, user: CurrentUser, today: date, patient_id: int, year: int, picture: PatientSavings) -> None:
    """Enrollment of the chosen patient."""
    eligibility = picture.eligibility
    st.subheader("Enrollment")
    enrollment: SavingsEnrollment | None = picture.enrollment
    if enrollment is None and not eligibility.drug_eligible:
        st.info("Enrollment is not offered: the patient is not eligible for the drug savings (see above).",
                icon=":material/block:")
    elif enrollment is None:
        if picture.history:
            last = picture.history[0]
            st.caption(f"Last enrollment ended on {last.ended_on:%m/%d/%Y}: {esc(last.end_reason)}")
        errors = FormErrors("enroll", CARD_LABELS)
        with st.form("enroll", clear_on_submit=False):
            st.markdown("**Enroll this patient**")
            c1, c2, c3 = st.columns(3)
            with c1:
                enrolled_on = st.date_input("Enrolled on", value=today, max_value=today, key="enroll_on",
                                            format="MM/DD/YYYY")
                errors.under("enrolled_on")
            with c2:
                status = st.selectbox("Status", ["active", "pending"], key="enroll_status", format_func=str.capitalize,
                                      help="Pending until the program sends the member ID.")
                errors.under("status")
            with c3:
                expires = st.date_input("Card expires on", value=None, key="enroll_expires", format="MM/DD/YYYY",
                                        help="The date printed on the program card (required once active).")
                errors.under("card_expires_on")
            member_id, rx_bin, rx_pcn, rx_group = _card_inputs(errors, CardDetails("", "", "", "", None), "enroll")
            errors.rest()
            if st.form_submit_button("Enroll", type="primary"):
                card = CardDetails(member_id, rx_bin, rx_pcn, rx_group, expires)
                with work(user.username) as session:
                    attempt("enroll", lambda: enroll_patient(session, patient_id=patient_id, enrolled_on=enrolled_on,
                                                             card=card, status=status, today=today))
                done("Patient enrolled in the savings program.")
    else:
        e = enrollment
        assert e.id is not None
        expiry = local_text(e.card_expires_on, get_settings().timezone) or "not recorded"
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
        edit_errors = FormErrors("edit_enrollment", CARD_LABELS)
        with st.expander("Change card details or status", expanded=form_has_errors("edit_enrollment")), \
                st.form("edit_enrollment"):
            c1, c2 = st.columns(2)
            with c1:
                new_status = st.selectbox("Status", ["active", "pending"], index=0 if e.status == "active" else 1,
                                          format_func=str.capitalize)
                edit_errors.under("status")
            with c2:
                new_expires = st.date_input("Card expires on", value=e.card_expires_on, format="MM/DD/YYYY")
                edit_errors.under("card_expires_on")
            new_member, new_bin, new_pcn, new_group = _card_inputs(
                edit_errors, CardDetails(e.member_id, e.rx_bin, e.rx_pcn, e.rx_group, None), "edit")
            edit_errors.rest()
            if st.form_submit_button("Save enrollment"):
                card = CardDetails(new_member, new_bin, new_pcn, new_group, new_expires)
                with work(user.username) as session:
                    attempt("edit_enrollment", lambda: update_enrollment(
                        session, enrollment_id=e.id or 0, expected_version=opened, card=card, status=new_status))
                st.session_state.pop(opened_key, None)
                done("Enrollment saved.")
        end_errors = FormErrors("end_enrollment", {"ended_on": "Ended on", "reason": "Reason"})
        with st.expander("End enrollment", expanded=form_has_errors("end_enrollment")), st.form("end_enrollment"):
            ended_on = st.date_input("Ended on", value=today, format="MM/DD/YYYY")
            end_errors.under("ended_on")
            reason = st.text_input("Reason", help="For example: coverage changed to Medicare.")
            end_errors.under("reason")
            end_errors.rest()
            if st.form_submit_button("End enrollment"):
                with work(user.username) as session:
                    attempt("end_enrollment", lambda: end_enrollment(
                        session, enrollment_id=e.id or 0, expected_version=opened, ended_on=ended_on, reason=reason))
                st.session_state.pop(opened_key, None)
                done("Enrollment ended.")


def _card_inputs(errors: FormErrors, current: CardDetails, key: str) -> tuple[str, str, str, str]:
    """The program card's member ID, BIN, PCN and group, each with its refusals under it."""
    entered = []
    for column, (field, label, value) in zip(st.columns(4), (
            ("member", "Program member ID", current.member_id), ("bin", "BIN", current.rx_bin),
            ("pcn", "PCN", current.rx_pcn), ("group", "Group", current.rx_group)), strict=True):
        with column:
            entered.append(st.text_input(esc(label), value=value, key=f"{key}_{field}"))
            field = "member_id" if field == "member" else f"rx_{field}"
            errors.under(field)
    return entered[0], entered[1], entered[2], entered[3]
