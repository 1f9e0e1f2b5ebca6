"""The patient record's Stays tab."""

from __future__ import annotations

from dataclasses import asdict

from desk.models.patients import STAY_REASONS
from desk.patients import StayDetails, add_stay, details_of, remove_stay, update_stay
from ui.patient_record.context import RecordContext, _words
from ui.patient_record.section import _date_text, _section
from ui.spec_form import Field


def stays_tab(ctx: RecordContext) -> None:
    # The checkbox has a row of its own: fourth in a row its label was cut at 1280 px.
    fields = [[Field("admitted_on", "Admitted", "past_date"), Field("discharged_on", "Discharged", "past_date"),
               Field("reason", "Reason", "select", STAY_REASONS, _words(STAY_REASONS))],
              [Field("esketamine_started", "Esketamine started in hospital", "bool")]]
    _section(
        ctx, kind="inpatient stay", title="inpatient stays", rows=ctx.record.stays,
        table=lambda s: {"admitted": _date_text(s.admitted_on), "discharged": _date_text(s.discharged_on),
                         "reason": _words(STAY_REASONS).get(s.reason, s.reason),
                         "esketamine started": s.esketamine_started},
        fields=fields, build=lambda v: StayDetails(**{**v, "reason": v["reason"] or ""}),
        blank={"reason": "suicidality"},
        current_of=lambda s: asdict(details_of(s, StayDetails)),
        add=lambda s, d: add_stay(s, patient_id=ctx.patient_id, details=d, today=ctx.today),
        update=lambda s, i, v, d: update_stay(s, stay_id=i, expected_version=v, details=d, today=ctx.today),
        remove=lambda s, i, v: remove_stay(s, stay_id=i, expected_version=v),
        label_of=lambda s: f"admitted {_date_text(s.admitted_on)}",
    )
