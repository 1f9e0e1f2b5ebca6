"""The patient record's Diagnoses tab."""

from __future__ import annotations

from dataclasses import asdict

from desk.models.patients import DIAGNOSIS_METHODS, DSM_EDITIONS, EPISODE_TYPES
from desk.patients import DiagnosisDetails, add_diagnosis, diagnosis_details, remove_diagnosis, update_diagnosis
from ui.patient_record.context import NOT_RECORDED, RecordContext, _words, _yes_no
from ui.patient_record.section import _date_text, _section
from ui.spec_form import Field


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
