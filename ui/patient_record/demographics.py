"""The patient record's Demographics tab."""

from __future__ import annotations

from dataclasses import asdict

from desk.models import SEXES
from desk.patients import PatientDetails, update_patient
from ui.editing import opened_version
from ui.patient_record.context import SEX_LABELS, RecordContext
from ui.spec_form import Field, save, spec_form


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
    version = opened_version("patient", ctx.patient_id, patient.version)
    form = f"demographics_{ctx.patient_id}"
    submitted = spec_form(form, fields, asdict(PatientDetails.of(patient)), submit_label="Save demographics",
                          today=ctx.today)
    if submitted:
        values = submitted[1]
        details = PatientDetails(**values)
        save(form, actor=ctx.user.username, kind="patient", record_id=ctx.patient_id, message="Demographics saved.",
             change=lambda s: update_patient(s, patient_id=ctx.patient_id, expected_version=version, details=details))
