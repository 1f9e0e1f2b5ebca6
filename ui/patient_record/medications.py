"""The patient record's Medications & screening tab."""

from __future__ import annotations

from dataclasses import asdict

import streamlit as st

from desk.models import CONCURRENT_THERAPIES, SUBSTANCE_USE
from desk.patients import (
    MedicationDetails,
    ScreeningDetails,
    add_medication,
    details_of,
    remove_medication,
    update_medication,
    update_screening,
)
from desk.reference import category_labels
from ui.editing import opened_version
from ui.ehr_history import render_ehr_history
from ui.patient_record.context import SUBSTANCE_LABELS, RecordContext
from ui.patient_record.section import _date_text, _section
from ui.spec_form import Field, save, spec_form
from ui.text import esc


def medications_tab(ctx: RecordContext) -> None:
    labels = category_labels()
    if ctx.record.concomitant:
        st.warning(
            "REMS monitoring form: " + "; ".join(
                f"{esc(labels.get(cat, cat))} ({esc(', '.join(names))})"
                for cat, names in ctx.record.concomitant.items()
            ),
            icon=":material/medication:",
        )
    views = {view.medication.id: view for view in ctx.record.medications}
    st.markdown("##### Current medications")
    _section(
        ctx, kind="medication", title="current medications", rows=[v.medication for v in ctx.record.medications],
        table=lambda m: {"drug": m.drug, "mg/day": m.daily_dose_mg, "since": _date_text(m.started_on),
                         "class": views[m.id].drug.class_label if views[m.id].drug else "",
                         "REMS category": ", ".join(labels.get(c, c) for c in views[m.id].categories)},
        fields=[[Field("drug", "Drug"), Field("daily_dose_mg", "Daily dose (mg)", "opt_float"),
                 Field("started_on", "Taking since", "past_date")]],
        build=lambda v: MedicationDetails(**{**v, "drug": v["drug"] or ""}), blank={},
        current_of=lambda m: asdict(details_of(m, MedicationDetails)),
        add=lambda s, d: add_medication(s, patient_id=ctx.patient_id, details=d, today=ctx.today),
        update=lambda s, i, v, d: update_medication(s, medication_id=i, expected_version=v, details=d,
                                                    today=ctx.today),
        remove=lambda s, i, v: remove_medication(s, medication_id=i, expected_version=v),
        label_of=lambda m: m.drug,
    )
    st.markdown("##### Contraindication screening and history")
    patient = ctx.record.patient
    fields = [
        [Field("aneurysmal_vascular_disease", "Aneurysmal vascular disease or AVM", "tri"),
         Field("intracerebral_hemorrhage_history", "History of intracerebral hemorrhage", "tri"),
         Field("esketamine_hypersensitivity", "Hypersensitivity to esketamine or ketamine", "tri")],
        [Field("psychosis_history", "History of psychosis", "tri"),
         Field("substance_use", "Substance use disorder", "select", [None, *SUBSTANCE_USE], SUBSTANCE_LABELS),
         Field("substance_remission_since", "In remission since", "past_date"),
         Field("substance_treated", "Current disorder being treated", "tri",
               help="Only for a current disorder; some policies accept one that is being treated")],
        [Field("concurrent_therapies", "Concurrent therapies", "multi", CONCURRENT_THERAPIES,
               help="ECT, TMS, VNS, DBS or ketamine the patient receives now"),
         Field("concurrent_therapies_screened_on", "Screened for them on", "past_date",
               help="Without this date an empty list means 'not asked', not 'none'"),
         Field("pdmp_checked_on", "State PDMP checked on", "past_date")],
        [Field("prior_esketamine", "Had esketamine before", "tri"),
         Field("prior_esketamine_improvement_pct", "Improvement with it %", "opt_float"),
         Field("esketamine_started_on", "Current esketamine treatment began", "past_date",
               help="Baseline for improvement on continuation requests; if empty, the REMS course start or "
                    "first logged session is used")],
        [Field("psychiatric_consult_on", "Psychiatric consultation on", "past_date",
               help="When the prescriber is not a psychiatrist and consulted one"),
         Field("psychiatric_consultant", "Psychiatrist consulted")],
    ]
    version = opened_version("patient", ctx.patient_id, patient.version)
    form = f"screening_{ctx.patient_id}"
    submitted = spec_form(form, fields, asdict(ScreeningDetails.of(patient)), submit_label="Save screening",
                          today=ctx.today)
    if submitted:
        values = submitted[1]
        details = ScreeningDetails(**{**values, "concurrent_therapies": tuple(values["concurrent_therapies"]),
                                      "psychiatric_consultant": values["psychiatric_consultant"] or ""})
        save(form, actor=ctx.user.username, kind="patient", record_id=ctx.patient_id, message="Screening saved.",
             change=lambda s: update_screening(s, patient_id=ctx.patient_id, expected_version=version,
                                               details=details))
    render_ehr_history(ctx.patient_id, ctx.user.username)
