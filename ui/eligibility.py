"""The patient record's eligibility panel: the patient against each coverage's payer, or every payer side by side."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from desk.auth import CurrentUser
from desk.history.provenance import imported_facts
from desk.models import PLAN_TYPE_NAMES
from desk.policies.drugs import default_drugs
from desk.policies.eligibility import coverage_eligibility, every_payer
from desk.policies.schema import INDICATION_NAMES, INDICATIONS, PHASES
from desk.prior_auth.clocks import local_text
from desk.prior_auth.payer_rules import payer_name
from ui.context import get_settings, work
from ui.patient_record import RecordContext
from ui.policies import policy_catalog
from ui.policy_view import DECISION_BADGE, render_evaluation
from ui.text import esc

_DECISION_TEXT = {
    "meets": "meets", "does_not_meet": "does not meet", "needs_info": "needs information",
    "needs_attestation": "needs attestation", "not_covered": "not covered",
}


def render_eligibility(patient_id: int, user: CurrentUser) -> None:
    """Evaluate the patient against the payer of each coverage, with per-criterion evidence."""
    key = f"elig-{patient_id}"
    zone = get_settings().timezone
    catalog = policy_catalog()
    drugs = default_drugs()
    c1, c2, c3 = st.columns([2, 2, 2])
    indication = c1.segmented_control(
        "Indication", INDICATIONS, default="trd", format_func=lambda i: esc(i.upper()), key=f"{key}-ind"
    ) or "trd"
    phase = c2.segmented_control(
        "Phase", PHASES, default="initial", format_func=str.capitalize, key=f"{key}-phase"
    ) or "initial"
    as_of = c3.date_input("As of", value=date.today(), max_value=date.today(), key=f"{key}-asof",
                          format="MM/DD/YYYY")
    st.caption(INDICATION_NAMES[indication])
    if catalog.problems:
        st.caption(f":material/error: {len(catalog.broken_files)} policy file(s) are broken and left out; "
                   "see Payer policies.")

    with work(user.username) as session:
        results = coverage_eligibility(session, patient_id=patient_id, catalog=catalog, drugs=drugs,
                                       indication=indication, phase=phase, as_of=as_of)
        compare = st.toggle("Compare every payer side by side", key=f"{key}-all")
        side_by_side = (
            every_payer(session, patient_id=patient_id, catalog=catalog, drugs=drugs, indication=indication,
                        phase=phase, as_of=as_of)
            if compare else []
        )

    if not results:
        st.info("This patient has no coverage on file. Add a coverage, or compare every payer below.")
    for item in results:
        with st.container(border=True):
            st.markdown(f"#### {esc(item.priority.capitalize())} coverage · {esc(payer_name(item.payer_id))} · "
                        f"{esc(PLAN_TYPE_NAMES.get(item.plan_type, item.plan_type))}")
            if item.evaluation is not None:
                number = f" — policy {item.evaluation.policy_number}" if item.evaluation.policy_number else ""
                st.markdown(f"**{esc(item.evaluation.payer_name)}**{esc(number)} "
                            f"(file reviewed {esc(local_text(item.evaluation.reviewed_on, zone))})")
                render_evaluation(item.evaluation, key=f"{key}-{item.coverage_id}",
                                  policy=catalog.policies.get(item.evaluation.payer))
            else:
                st.warning(esc(item.no_policy_message), icon=":material/policy:")
                if item.reference is not None:
                    with st.expander("Generic commercial checklist (reference only)"):
                        render_evaluation(item.reference, key=f"{key}-{item.coverage_id}-ref",
                                          policy=catalog.policies.get(item.reference.payer))

    if side_by_side:
        table = pd.DataFrame([
            {
                "Payer": e.payer_name,
                "Decision": _DECISION_TEXT[e.decision],
                "Met": sum(1 for c in e.criteria if not c.is_group and c.status == "met"),
                "Not met": sum(1 for c in e.criteria if not c.is_group and c.status == "not_met"),
                "Unknown": sum(1 for c in e.criteria if not c.is_group and c.status == "unknown"),
                "Attest": sum(1 for c in e.criteria if not c.is_group and c.status == "attest"),
                "Incomplete policy": "yes" if e.policy_incomplete else "",
            }
            for e in side_by_side
        ])
        st.dataframe(table, hide_index=True, width="stretch", key=f"{key}-compare")
        for evaluation in side_by_side:
            with st.expander(f"{esc(evaluation.payer_name)} — {DECISION_BADGE[evaluation.decision]}"):
                render_evaluation(evaluation, key=f"{key}-cmp-{evaluation.payer}",
                                  policy=catalog.policies.get(evaluation.payer))


def eligibility_tab(context: RecordContext) -> None:
    """The patient record's "Payer criteria" tab."""
    patient_id = context.record.patient.id
    assert patient_id is not None
    render_eligibility(patient_id, context.user)
    render_imported_evidence(patient_id, context.user)


def render_imported_evidence(patient_id: int, user: CurrentUser) -> None:
    """The facts above that came from an import, each with the file and resource it was read from."""
    with work(user.username) as session:
        views = imported_facts(session, patient_id=patient_id)
    if not views:
        return
    with st.container(key=f"imported-evidence-{patient_id}"):
        st.markdown("#### Imported history behind these criteria")
        st.caption("Facts brought in from an EHR export or spreadsheet; the criteria above read them like any "
                   "other entry. Outcomes marked not recorded are for staff to set on the Trials tab.")
        st.table(pd.DataFrame([{"Section": v.section, "Fact": v.fact, "Source file": v.source_file,
                                "Resources": v.resource_ids,
                                "Imported on": local_text(v.imported_on, get_settings().timezone)}
                               for v in views]))
