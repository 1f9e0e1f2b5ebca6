"""The patient record's Coverage tab."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from desk.models import BENEFITS, PLAN_TYPES, PRIORITIES
from desk.patients import CoverageDetails, add_coverage, details_of, remove_coverage, update_coverage
from desk.prior_auth.payer_rules import payer_name
from ui.patient_record.context import PLAN_LABELS, RecordContext, _words
from ui.patient_record.section import _date_text, _section
from ui.spec_form import Field


def coverage_tab(ctx: RecordContext) -> None:
    payers = list(ctx.known_payers)
    fields = [
        [Field("payer_id", "Payer", "select", payers, {p: payer_name(p) for p in payers},
               help="A payer with a policy file, or Medicare / Medicaid"),
         Field("plan_type", "Plan type", "select", PLAN_TYPES, PLAN_LABELS),
         Field("priority", "Priority", "select", PRIORITIES, _words(PRIORITIES))],
        [Field("benefit", "Benefit", "select", BENEFITS, _words(BENEFITS)), Field("member_id", "Member ID"),
         Field("group_number", "Group number")],
        [Field("rx_bin", "Rx BIN"), Field("rx_pcn", "Rx PCN"), Field("rx_group", "Rx group")],
        [Field("start_date", "Start", "date"), Field("end_date", "End", "date")],
    ]

    def build(values: dict[str, Any]) -> CoverageDetails:
        return CoverageDetails(**{k: ("" if v is None and k in ("payer_id", "plan_type") else v)
                                  for k, v in values.items()})

    _section(
        ctx, kind="coverage", title="coverages", rows=ctx.record.coverages,
        table=lambda c: {"Priority": c.priority.capitalize(), "Payer": payer_name(c.payer_id),
                         "Plan type": PLAN_LABELS.get(c.plan_type, c.plan_type), "Benefit": c.benefit.capitalize(),
                         "Member ID": c.member_id, "Group": c.group_number,
                         "BIN/PCN/group": " / ".join(x for x in (c.rx_bin, c.rx_pcn, c.rx_group) if x),
                         "Start": _date_text(c.start_date), "End": _date_text(c.end_date)},
        fields=fields, build=build,
        blank={"priority": "primary", "benefit": "medical", "plan_type": "commercial"},
        current_of=lambda c: asdict(details_of(c, CoverageDetails)),
        add=lambda s, d: add_coverage(s, patient_id=ctx.patient_id, details=d, known_payers=payers, today=ctx.today),
        update=lambda s, i, v, d: update_coverage(s, coverage_id=i, expected_version=v, details=d,
                                                  known_payers=payers, today=ctx.today),
        remove=lambda s, i, v: remove_coverage(s, coverage_id=i, expected_version=v),
        label_of=lambda c: f"{c.priority.capitalize()}: {payer_name(c.payer_id)} ({c.member_id})",
        editable=ctx.can_edit_coverage,
    )
