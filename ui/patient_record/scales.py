"""The patient record's Scales tab."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from desk.patients import ScoreDetails, add_score, details_of, remove_score, update_score
from desk.validation import SCALE_RANGES
from ui.patient_record.context import RecordContext
from ui.patient_record.section import _date_text, _section
from ui.spec_form import Field


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
