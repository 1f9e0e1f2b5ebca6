"""The patient record's Demographics tab."""

from __future__ import annotations

from dataclasses import asdict

import streamlit as st

from desk.models import SEXES
from desk.patients import PatientDetails, update_patient
from ui.editing import opened_version
from ui.patient_record.context import SEX_LABELS, RecordContext
from ui.spec_form import Field, save, spec_form
from ui.text import esc


def demographics_tab(ctx: RecordContext) -> None:
    patient = ctx.record.patient
    site_names = {s.id: s.name for s in ctx.sites}
    prescriber_names = {p.id: f"{p.display_name} ({p.specialty.replace('_', ' ')})" for p in ctx.prescribers}
    fields = [
        [Field("first_name", "First name"), Field("middle_initial", "Middle initial"),
         Field("last_name", "Last name")],
        [Field("mrn", "MRN"), Field("dob", "Date of birth", "past_date"),
         Field("sex", "Sex", "select", SEXES, SEX_LABELS)],
        [Field("address_line", "Street address"), Field("city", "City"), Field("state", "State"),
         Field("zip_code", "ZIP")],
        [Field("phone", "Phone"), Field("email", "E-mail")],
        [Field("site_id", "Site", "select", list(site_names), site_names),
         Field("prescriber_id", "Prescriber", "select", [None, *prescriber_names], {None: "—", **prescriber_names})],
    ]
    details = PatientDetails.of(patient)
    site = site_names.get(details.site_id)
    prescriber = prescriber_names.get(details.prescriber_id) if details.prescriber_id is not None else None
    street = ", ".join(part for part in (details.address_line, details.city,
                                         " ".join(p for p in (details.state, details.zip_code) if p)) if part)
    _summary([
        ("Name", " ".join(p for p in (details.first_name, details.middle_initial, details.last_name) if p)),
        ("MRN", details.mrn), ("Date of birth", f"{details.dob:%m/%d/%Y}"), ("Sex", SEX_LABELS.get(details.sex)),
        ("Address", street), ("Phone", details.phone), ("E-mail", details.email), ("Site", site),
        ("Prescriber", prescriber),
    ])
    form = f"demographics_{ctx.patient_id}"
    # The record opens on a summary; the form (16 inputs) is drawn only while the user edits.
    edit = st.expander("Edit demographics", icon=":material/edit:", key=f"open_{form}", on_change="rerun")
    if not edit.open:
        return
    version = opened_version("patient", ctx.patient_id, patient.version)
    with edit:
        submitted = spec_form(form, fields, asdict(details), submit_label="Save demographics", today=ctx.today)
    if submitted:
        changed = PatientDetails(**submitted[1])
        save(form, actor=ctx.user.username, kind="patient", record_id=ctx.patient_id, message="Demographics saved.",
             change=lambda s: update_patient(s, patient_id=ctx.patient_id, expected_version=version, details=changed))


def _summary(items: list[tuple[str, object]]) -> None:
    """Label and value pairs in two columns."""
    half = -(-len(items) // 2)
    for column, part in zip(st.columns(2), (items[:half], items[half:]), strict=True):
        column.markdown(_facts_md(part))


def _facts_md(items: list[tuple[str, object]]) -> str:
    """One line a pair; what is not recorded shows as —."""
    return "  \n".join(f"**{esc(label)}:** {esc(value if value not in (None, '') else '—')}" for label, value in items)
