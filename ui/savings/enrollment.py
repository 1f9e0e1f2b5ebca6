"""The savings patient tab's enrollment: enroll form, card details and status, ending an enrollment."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from desk.auth import CurrentUser
from desk.models import SavingsEnrollment
from desk.savings.enrollment import CardDetails, end_enrollment, enroll_patient, update_enrollment
from desk.savings.overview import PatientSavings
from ui.context import work
from ui.savings.common import attempt, done
from ui.text import esc


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
