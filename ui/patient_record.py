"""The patient record screen's tabs. Each tab is a function of a RecordContext, so a new tab is one function."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import streamlit as st
from sqlmodel import Session

from desk.auth import CurrentUser
from desk.models import (
    BENEFITS,
    CONCURRENT_THERAPIES,
    PLAN_TYPES,
    PRIORITIES,
    SEXES,
    SUBSTANCE_USE,
    Prescriber,
    Site,
)
from desk.models.patients import (
    DIAGNOSIS_METHODS,
    DSM_EDITIONS,
    EPISODE_TYPES,
    PSYCHOTHERAPY_MODALITIES,
    STAY_REASONS,
    TRIAL_OUTCOMES,
    TRIAL_ROLES,
)
from desk.patients import (
    CoverageDetails,
    DiagnosisDetails,
    MedicationDetails,
    PatientDetails,
    PatientRecord,
    PsychotherapyDetails,
    ScoreDetails,
    ScreeningDetails,
    StayDetails,
    TrialDetails,
    add_coverage,
    add_diagnosis,
    add_medication,
    add_psychotherapy,
    add_score,
    add_stay,
    add_trial,
    details_of,
    diagnosis_details,
    remove_coverage,
    remove_diagnosis,
    remove_medication,
    remove_psychotherapy,
    remove_score,
    remove_stay,
    remove_trial,
    update_coverage,
    update_diagnosis,
    update_medication,
    update_patient,
    update_psychotherapy,
    update_score,
    update_screening,
    update_stay,
    update_trial,
)
from desk.reference import category_labels, reference
from desk.validation import SCALE_RANGES
from ui.editing import opened_version
from ui.ehr_history import render_ehr_history
from ui.spec_form import Field, save, spec_form
from ui.text import esc

NOT_RECORDED = "not recorded"


def _yes_no(value: bool | None) -> str:
    return NOT_RECORDED if value is None else ("yes" if value else "no")

COVERAGE_EDITORS = ("admin", "billing")
PLAN_LABELS = {
    "commercial": "Commercial", "medicare_part_b": "Original Medicare (Part B)",
    "medicare_advantage": "Medicare Advantage", "medicare_part_d": "Medicare Part D",
    "medicaid_ffs": "Medicaid fee-for-service", "medicaid_managed": "Medicaid managed care", "tricare": "TRICARE",
    "va": "VA", "other_government": "Other government",
}
SEX_LABELS = {"F": "Female", "M": "Male", "X": "X (non-binary)", "U": "Unknown"}
SUBSTANCE_LABELS = {None: "Not recorded", "none": "None", "in_remission": "In remission", "current": "Current"}


def _words(values: Sequence[str]) -> dict[str, str]:
    return {v: v.replace("_", " ").capitalize() if v.islower() else v.replace("_", " ") for v in values}


@dataclass(frozen=True)
class RecordContext:
    """What every tab gets: who is looking, the record, choice lists and today's date."""

    user: CurrentUser
    record: PatientRecord
    sites: Sequence[Site]
    prescribers: Sequence[Prescriber]
    known_payers: Sequence[str]
    today: date

    @property
    def patient_id(self) -> int:
        assert self.record.patient.id is not None
        return self.record.patient.id

    @property
    def can_edit_coverage(self) -> bool:
        return self.user.has_any(*COVERAGE_EDITORS)


Change = Callable[[Session, Any], object]


def _section(
    ctx: RecordContext,
    *,
    kind: str,
    title: str,
    rows: Sequence[Any],
    table: Callable[[Any], Mapping[str, Any]],
    fields: Sequence[Sequence[Field]],
    build: Callable[[dict[str, Any]], Any],
    blank: Mapping[str, Any],
    current_of: Callable[[Any], Mapping[str, Any]],
    add: Change,
    update: Callable[[Session, int, int, Any], object],
    remove: Callable[[Session, int, int], object],
    label_of: Callable[[Any], str],
    editable: bool = True,
) -> None:
    """A table of rows, an add form and an edit/remove form for the chosen row."""
    if rows:
        st.dataframe([table(row) for row in rows], hide_index=True, width="stretch")
    else:
        st.caption(f"No {esc(title)} recorded.")
    if not editable:
        st.caption("Your role may view but not change this section.")
        return
    actor = ctx.user.username
    with st.expander(f"Add {esc(kind)}", expanded=not rows):
        form = f"add_{kind.replace(' ', '_')}_{ctx.patient_id}"
        submitted = spec_form(form, fields, blank, submit_label=f"Add {kind}", today=ctx.today)
        if submitted:
            details = build(submitted[1])
            save(form, actor=actor, kind=kind, record_id=None, message=f"{kind.capitalize()} added.",
                 change=lambda s: add(s, details))
    if not rows:
        return
    by_id = {row.id: row for row in rows}
    with st.expander(f"Edit or remove {esc(kind)}"):
        chosen = st.selectbox(f"Which {esc(kind)}", list(by_id), format_func=lambda i: label_of(by_id[i]),
                              key=f"pick_{kind}_{ctx.patient_id}")
        row = by_id[chosen]
        version = opened_version(kind, row.id, row.version)
        form = f"edit_{kind.replace(' ', '_')}_{row.id}"
        submitted = spec_form(form, fields, current_of(row), submit_label="Save", today=ctx.today, removable=True)
        if submitted:
            action, values = submitted
            if action == "remove":
                save(form, actor=actor, kind=kind, record_id=row.id, message=f"{kind.capitalize()} removed.",
                     change=lambda s: remove(s, row.id, version))
            else:
                details = build(values)
                save(form, actor=actor, kind=kind, record_id=row.id, message=f"{kind.capitalize()} saved.",
                     change=lambda s: update(s, row.id, version, details))


def _date_text(value: date | None) -> str:
    return value.strftime("%m/%d/%Y") if value else ""


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


# --- Demographics ----------------------------------------------------------------------------------------


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


# --- Coverage --------------------------------------------------------------------------------------------


def coverage_tab(ctx: RecordContext) -> None:
    payers = list(ctx.known_payers)
    fields = [
        [Field("payer_id", "Payer", "select", payers,
               help="Payer policy file in payers/, or medicare / medicaid"),
         Field("plan_type", "Plan type", "select", PLAN_TYPES, PLAN_LABELS),
         Field("priority", "Priority", "select", PRIORITIES, _words(PRIORITIES))],
        [Field("benefit", "Benefit", "select", BENEFITS, _words(BENEFITS)), Field("member_id", "Member id"),
         Field("group_number", "Group number")],
        [Field("rx_bin", "Rx BIN"), Field("rx_pcn", "Rx PCN"), Field("rx_group", "Rx group")],
        [Field("start_date", "Start", "date"), Field("end_date", "End", "date")],
    ]

    def build(values: dict[str, Any]) -> CoverageDetails:
        return CoverageDetails(**{k: ("" if v is None and k in ("payer_id", "plan_type") else v)
                                  for k, v in values.items()})

    _section(
        ctx, kind="coverage", title="coverages", rows=ctx.record.coverages,
        table=lambda c: {"priority": c.priority, "payer": c.payer_id, "plan type": PLAN_LABELS.get(c.plan_type),
                         "benefit": c.benefit, "member id": c.member_id, "group": c.group_number,
                         "BIN/PCN/group": " / ".join(x for x in (c.rx_bin, c.rx_pcn, c.rx_group) if x),
                         "start": _date_text(c.start_date), "end": _date_text(c.end_date)},
        fields=fields, build=build,
        blank={"priority": "primary", "benefit": "medical", "plan_type": "commercial"},
        current_of=lambda c: asdict(details_of(c, CoverageDetails)),
        add=lambda s, d: add_coverage(s, patient_id=ctx.patient_id, details=d, known_payers=payers, today=ctx.today),
        update=lambda s, i, v, d: update_coverage(s, coverage_id=i, expected_version=v, details=d,
                                                  known_payers=payers, today=ctx.today),
        remove=lambda s, i, v: remove_coverage(s, coverage_id=i, expected_version=v),
        label_of=lambda c: f"{c.priority}: {c.payer_id} ({c.member_id})",
        editable=ctx.can_edit_coverage,
    )


# --- Diagnoses -------------------------------------------------------------------------------------------


def diagnoses_tab(ctx: RecordContext) -> None:
    fields = [
        [Field("icd10", "ICD-10-CM code", help="e.g. F33.2"), Field("description", "Description")],
        [Field("episode_start", "Current episode began", "past_date"),
         Field("episode_type", "Episode", "select", EPISODE_TYPES, _words(EPISODE_TYPES)),
         Field("diagnosed_on", "Diagnosed on", "past_date")],
        [Field("diagnosis_method", "How diagnosed", "select", DIAGNOSIS_METHODS, _words(DIAGNOSIS_METHODS),
               help="Structured interview: SCID, MINI or similar"),
         Field("dsm_edition", "DSM edition", "select", DSM_EDITIONS)],
        [Field("psychotic_features", "Psychotic features", "tri"),
         Field("acute_suicidal_ideation", "Acute suicidal ideation or behavior", "bool"),
         Field("is_current", "Current diagnosis", "bool")],
    ]
    _section(
        ctx, kind="diagnosis", title="diagnoses", rows=ctx.record.diagnoses,
        table=lambda d: {"ICD-10": d.icd10, "description": d.description,
                         "episode": d.episode_type or NOT_RECORDED, "episode began": _date_text(d.episode_start),
                         "method": (d.diagnosis_method or NOT_RECORDED).replace("_", " "),
                         "DSM": d.dsm_edition or NOT_RECORDED,
                         "psychotic features": _yes_no(d.psychotic_features),
                         "suicidal ideation": d.acute_suicidal_ideation, "current": d.is_current},
        fields=fields, build=lambda v: DiagnosisDetails(**{**v, "icd10": v["icd10"] or ""}),
        blank=asdict(DiagnosisDetails(icd10="")),
        current_of=lambda d: asdict(diagnosis_details(d)),
        add=lambda s, d: add_diagnosis(s, patient_id=ctx.patient_id, details=d, today=ctx.today),
        update=lambda s, i, v, d: update_diagnosis(s, diagnosis_id=i, expected_version=v, details=d, today=ctx.today),
        remove=lambda s, i, v: remove_diagnosis(s, diagnosis_id=i, expected_version=v),
        label_of=lambda d: f"{d.icd10} {d.description}".strip(),
    )


# --- Trials ----------------------------------------------------------------------------------------------


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


# --- Scales ----------------------------------------------------------------------------------------------


def scales_tab(ctx: RecordContext) -> None:
    ranges = {name: f"{name} ({low}-{high})" for name, (low, high) in SCALE_RANGES.items()}
    fields = [[Field("instrument", "Instrument", "select", list(SCALE_RANGES), ranges),
               Field("score", "Score", "int"), Field("measured_on", "Date", "past_date")]]

    def build(values: dict[str, Any]) -> ScoreDetails:
        score = values["score"]
        return ScoreDetails(instrument=values["instrument"] or "",
                            score=int(score) if score is not None and float(score).is_integer() else score,
                            measured_on=values["measured_on"])

    _section(
        ctx, kind="rating score", title="rating scores", rows=ctx.record.scores,
        table=lambda r: {"instrument": r.instrument, "score": r.score, "date": _date_text(r.measured_on)},
        fields=fields, build=build, blank={"instrument": "PHQ-9", "measured_on": ctx.today},
        current_of=lambda r: asdict(details_of(r, ScoreDetails)),
        add=lambda s, d: add_score(s, patient_id=ctx.patient_id, details=d, today=ctx.today),
        update=lambda s, i, v, d: update_score(s, score_id=i, expected_version=v, details=d, today=ctx.today),
        remove=lambda s, i, v: remove_score(s, score_id=i, expected_version=v),
        label_of=lambda r: f"{r.instrument} {r.score} on {_date_text(r.measured_on)}",
    )


# --- Medications & screening -----------------------------------------------------------------------------


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


# --- Stays -----------------------------------------------------------------------------------------------


def stays_tab(ctx: RecordContext) -> None:
    fields = [[Field("admitted_on", "Admitted", "past_date"), Field("discharged_on", "Discharged", "past_date"),
               Field("reason", "Reason", "select", STAY_REASONS, _words(STAY_REASONS)),
               Field("esketamine_started", "Esketamine started in hospital", "bool")]]
    _section(
        ctx, kind="inpatient stay", title="inpatient stays", rows=ctx.record.stays,
        table=lambda s: {"admitted": _date_text(s.admitted_on), "discharged": _date_text(s.discharged_on),
                         "reason": s.reason, "esketamine started": s.esketamine_started},
        fields=fields, build=lambda v: StayDetails(**{**v, "reason": v["reason"] or ""}),
        blank={"reason": "suicidality"},
        current_of=lambda s: asdict(details_of(s, StayDetails)),
        add=lambda s, d: add_stay(s, patient_id=ctx.patient_id, details=d, today=ctx.today),
        update=lambda s, i, v, d: update_stay(s, stay_id=i, expected_version=v, details=d, today=ctx.today),
        remove=lambda s, i, v: remove_stay(s, stay_id=i, expected_version=v),
        label_of=lambda s: f"admitted {_date_text(s.admitted_on)}",
    )


# The record page shows these tabs in this order; add a tab by appending (title, function of RecordContext).
RECORD_TABS: list[tuple[str, Callable[[RecordContext], None]]] = [
    ("Demographics", demographics_tab),
    ("Coverage", coverage_tab),
    ("Diagnoses", diagnoses_tab),
    ("Trials", trials_tab),
    ("Scales", scales_tab),
    ("Medications & screening", medications_tab),
    ("Stays", stays_tab),
]


def add_record_tab(title: str, render: Callable[[RecordContext], None], *, position: int | None = None) -> None:
    """Register another tab on the patient record (e.g. payer criteria); `render` draws it from the context."""
    if any(existing == title for existing, _ in RECORD_TABS):
        return
    RECORD_TABS.insert(len(RECORD_TABS) if position is None else position, (title, render))

