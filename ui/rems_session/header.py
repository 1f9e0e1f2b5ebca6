"""The session log's header: whose session, where and when, concomitant medications and dose warnings."""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from desk.models import Patient, Site, TreatmentSession
from desk.rems.concomitant import concomitant_medications
from desk.rems.enrollment import site_certification_problem
from desk.rems.sessions import first_dose_warning, get_session
from ui.context import work
from ui.rems_session.state import LogScreen, value
from ui.text import esc


def render_header(screen: LogScreen, *, opened: dict[str, Any], patients: dict[int, Patient],
                  sites: dict[int, Site]) -> tuple[Patient, Site, date, bool, TreatmentSession | None]:
    """The patient, site and date of the session on screen, with the warnings that concern dosing."""
    user = screen.user
    patient = patients.get(opened["patient_id"])
    site = sites.get(opened["site_id"])
    if patient is None or site is None:
        st.error("This session's patient or site no longer exists.")
        st.stop()
    session_date: date = opened["date"]
    submitted = False
    stored: TreatmentSession | None = None
    if opened["id"] is not None:
        with work(user.username) as session:
            stored = get_session(session, session_id=opened["id"])
        submitted = stored.pmf_status == "submitted"

    with work(user.username) as session:
        concomitant = concomitant_medications(session, patient_id=opened["patient_id"])

    header = st.container(border=True)
    name_col, info_col = header.columns([3, 2])
    name_col.subheader(f"{esc(patient.display_name)}  ·  MRN {esc(patient.mrn)}")
    name_col.caption(f"{esc(site.name)} · session of {session_date:%m/%d/%Y}"
                     + (f" · monitoring form **{esc(stored.pmf_status)}**" if stored else " · not saved yet"))
    if concomitant:
        info_col.warning("Concomitant medications: " + "; ".join(f"{esc(category.replace('_', ' '))}: "
                                                                  f"{esc(', '.join(names))}"
                                                                  for category, names in concomitant.items()),
                         icon=":material/medication:")
    else:
        info_col.caption("No benzodiazepine, hypnotic, psychostimulant, MAOI or opioid on the medication list.")
    certification = site_certification_problem(site)
    if certification:
        st.warning(esc(certification), icon=":material/verified_user:")
    with work(user.username) as session:
        dose_warning = first_dose_warning(session, patient_id=opened["patient_id"],
                                          indication=str(value("indication") or "TRD"),
                                          dose_mg=int(value("dose_mg") or 56),
                                          session_date=session_date, session_id=opened["id"])
    if dose_warning:
        st.warning(esc(dose_warning), icon=":material/medication:")
    return patient, site, session_date, submitted, stored
