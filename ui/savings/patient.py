"""The savings screen's Patient tab: the chosen patient's eligibility, enrollment, benefits and claims."""

from __future__ import annotations

from datetime import date

import streamlit as st

from desk.auth import CurrentUser
from desk.savings.overview import first_patient_with_savings, patient_choices, patient_savings
from ui.context import work
from ui.savings.benefits import render_benefits
from ui.savings.claims import render_claims
from ui.savings.enrollment import render_enrollment


def render_patient_tab(*, user: CurrentUser, today: date) -> None:
    """The Patient tab."""
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

        render_enrollment(user=user, today=today, patient_id=patient_id, year=year, picture=picture)
        render_benefits(user=user, today=today, patient_id=patient_id, year=year, picture=picture)
        render_claims(user=user, today=today, patient_id=patient_id, year=year, picture=picture)
