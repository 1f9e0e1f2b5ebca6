"""The patient record's Trials tab: medication trials and psychotherapy."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import streamlit as st

from desk.models.patients import PSYCHOTHERAPY_MODALITIES, TRIAL_OUTCOMES, TRIAL_ROLES
from desk.patients import (
    PsychotherapyDetails,
    TrialDetails,
    add_psychotherapy,
    add_trial,
    details_of,
    remove_psychotherapy,
    remove_trial,
    update_psychotherapy,
    update_trial,
)
from desk.reference import reference
from ui.patient_record.context import RecordContext, _words
from ui.patient_record.section import _date_text, _section
from ui.spec_form import Field


def trials_tab(ctx: RecordContext) -> None:
    drugs = sorted(d.generic for d in reference().drugs)
    flagged = [view for view in ctx.record.trials if view.flags]
    if flagged:
        st.warning(f"{len(flagged)} trial(s) need a look: see the flags column.", icon=":material/flag:")
    fields = [
        [Field("drug", "Drug", "new_select", drugs, help="Pick from the reference list or type another name "
               "(drugs not on the list are allowed but flagged)"),
         Field("role", "Role", "select", TRIAL_ROLES, _words(TRIAL_ROLES)),
         Field("daily_dose_mg", "Daily dose (mg)", "float")],
        [Field("start_date", "Start", "past_date"), Field("end_date", "End (empty while ongoing)", "past_date"),
         Field("adherence_pct", "Adherence %", "opt_float")],
        [Field("outcome", "Outcome", "select", TRIAL_OUTCOMES, _words(TRIAL_OUTCOMES)),
         Field("improvement_pct", "Improvement % on a scale", "opt_float"),
         Field("current_episode", "In the current episode", "bool"),
         Field("at_max_tolerated_dose", "At maximum tolerated dose", "bool")],
        [Field("notes", "Notes", "textarea")],
    ]
    views = {view.trial.id: view for view in ctx.record.trials}

    def table(trial: Any) -> dict[str, Any]:
        view = views[trial.id]
        return {"drug": trial.drug, "class": view.drug.class_label if view.drug else "unknown",
                "role": trial.role, "mg/day": trial.daily_dose_mg, "start": _date_text(trial.start_date),
                "end": _date_text(trial.end_date), "weeks": view.weeks, "adherence %": trial.adherence_pct,
                "outcome": trial.outcome.replace("_", " "), "improvement %": trial.improvement_pct,
                "current episode": trial.current_episode, "flags": "; ".join(view.flags)}

    def build(values: dict[str, Any]) -> TrialDetails:
        return TrialDetails(**{**values, "drug": values["drug"] or "", "notes": values["notes"] or ""})

    st.markdown("##### Medication trials")
    _section(
        ctx, kind="medication trial", title="medication trials", rows=[v.trial for v in ctx.record.trials],
        table=table, fields=fields, build=build,
        blank={"role": "antidepressant", "outcome": "non_response", "current_episode": True},
        current_of=lambda t: asdict(details_of(t, TrialDetails)),
        add=lambda s, d: add_trial(s, patient_id=ctx.patient_id, details=d, today=ctx.today),
        update=lambda s, i, v, d: update_trial(s, trial_id=i, expected_version=v, details=d, today=ctx.today),
        remove=lambda s, i, v: remove_trial(s, trial_id=i, expected_version=v),
        label_of=lambda t: f"{t.drug} {t.daily_dose_mg:g} mg from {_date_text(t.start_date)}",
    )
    st.markdown("##### Psychotherapy")
    therapy_fields = [
        [Field("modality", "Modality", "select", PSYCHOTHERAPY_MODALITIES, _words(PSYCHOTHERAPY_MODALITIES)),
         Field("start_date", "Start", "past_date"), Field("end_date", "End", "past_date"),
         Field("current_episode", "In the current episode", "bool")],
    ]
    _section(
        ctx, kind="psychotherapy trial", title="psychotherapy trials", rows=ctx.record.psychotherapy,
        table=lambda p: {"modality": p.modality.replace("_", " "), "start": _date_text(p.start_date),
                         "end": _date_text(p.end_date), "current episode": p.current_episode},
        fields=therapy_fields, build=lambda v: PsychotherapyDetails(**{**v, "modality": v["modality"] or ""}),
        blank={"current_episode": True},
        current_of=lambda p: asdict(details_of(p, PsychotherapyDetails)),
        add=lambda s, d: add_psychotherapy(s, patient_id=ctx.patient_id, details=d, today=ctx.today),
        update=lambda s, i, v, d: update_psychotherapy(s, psychotherapy_id=i, expected_version=v, details=d,
                                                       today=ctx.today),
        remove=lambda s, i, v: remove_psychotherapy(s, psychotherapy_id=i, expected_version=v),
        label_of=lambda p: f"{p.modality} from {_date_text(p.start_date)}",
    )
