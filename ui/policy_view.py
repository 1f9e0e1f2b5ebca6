"""Rendering of policy criteria trees and evaluation results (shared by the Payers page and the patient record)."""

from __future__ import annotations

import streamlit as st

from desk.policies.clocks import NO_CLOCK
from desk.policies.evaluator import CriterionResult, Evaluation
from desk.policies.schema import (
    INDICATION_NAMES,
    AllOf,
    AnyOf,
    AtLeast,
    NotOf,
    Policy,
    Rule,
    TrialDefinition,
    TrialsRule,
    Variant,
    children,
)
from desk.policies.shortfalls import Shortfall, Shortfalls, shortfalls

STATUS_BADGE = {
    "met": ":green-badge[:material/check: met]",
    "not_met": ":red-badge[:material/close: not met]",
    "unknown": ":orange-badge[:material/help: unknown]",
    "attest": ":blue-badge[:material/edit_note: attest]",
}
DECISION_BADGE = {
    "meets": ":green-badge[:material/check_circle: Meets criteria]",
    "does_not_meet": ":red-badge[:material/cancel: Does not meet]",
    "needs_info": ":orange-badge[:material/help: Needs information]",
    "needs_attestation": ":blue-badge[:material/edit_note: Needs attestation]",
    "not_covered": ":gray-badge[:material/block: Not covered]",
}
_POSITION_WORDS = {
    "covered_with_pa": "covered with prior authorization",
    "not_medically_necessary": "not medically necessary (excluded)",
    "not_covered": "not covered",
}
_GROUP_WORDS = {"all": "All of", "any": "Any of", "at_least": "At least {n} of", "not": "Not"}


def _source_link(policy: Policy, source: str) -> str:
    key = source.split(":", 1)[0].strip()
    ref = policy.sources.get(key)
    if ref is None:
        return source
    label = ref.title + (f" ({ref.kind})" if ref.kind else "")
    where = source.split(":", 1)[1].strip() if ":" in source else ""
    text = f"{label}{' — ' + where if where else ''}"
    return f"[{text}]({ref.url})" if ref.url else text


def criteria_markdown(policy: Policy, rule: Rule, depth: int = 0) -> str:
    """The criteria tree as a nested markdown list."""
    indent = "    " * depth
    if isinstance(rule, AllOf | AnyOf | AtLeast | NotOf):
        words = _GROUP_WORDS[rule.kind].format(n=getattr(rule, "n", ""))
        line = f"{indent}- **{words}:** {rule.text if rule.text != 'All of the following' else ''}".rstrip()
        below = "\n".join(criteria_markdown(policy, child, depth + 1) for child in children(rule))
        return f"{line}\n{below}"
    needs = {"documentation": "documentation", "attestation": "prescriber attestation", "none": ""}[rule.needs]
    badge = f" :gray-badge[{needs}]" if needs else ""
    line = (
        f"{indent}- {rule.text}{badge}  \n{indent}  :small[`{rule.kind}` · `{rule.id}` · "
        f"{_source_link(policy, rule.source)}]"
    )
    if isinstance(rule, TrialsRule):
        line += "".join(f"\n{indent}    - :small[{_definition_words(d)}]" for d in rule.definitions)
    return line


def _definition_words(d: TrialDefinition) -> str:
    outcome = "outcome " + " or ".join(o.replace("_", " ") for o in d.outcomes)
    parts = [f"{d.label}: {outcome}" if d.label else f"Counts with {outcome}"]
    if d.min_weeks is not None:
        parts.append(f"{'≥' if d.weeks_inclusive else '>'} {d.min_weeks:g} weeks")
    if d.dose != "any":
        parts.append({"min_therapeutic": "at least the minimum therapeutic dose", "max_tolerated":
                      "at the maximum tolerated dose", "maximum": "at the maximum dose"}[d.dose])
    if d.min_adherence_pct is not None:
        parts.append(f"adherence ≥ {d.min_adherence_pct:g} %")
    if d.max_improvement_pct is not None:
        parts.append(f"improvement ≤ {d.max_improvement_pct:g} %")
    return parts[0] + ("; " + ", ".join(parts[1:]) if parts[1:] else "")


def clock_lines(policy: Policy) -> list[str]:
    """One line per plan type: the decision clock that applies and where it comes from, or that none is known."""
    lines = []
    for plan_type, clock in policy.clocks_by_plan_type():
        label = f"**Decision clock, {plan_type.replace('_', ' ')}:**"
        if clock is None:
            lines.append(f"{label} :orange[{NO_CLOCK}]")
            continue
        origin = "payer file" if plan_type in policy.decision_clocks else "documented default"
        lines.append(f"{label} {clock.describe()} :small[({origin}: {clock.source})]")
    return lines


def renewal_line(policy: Policy, *, default_lead_days: int) -> str:
    """The renewal lead time that applies to this payer and where it comes from."""
    if policy.renewal_lead_days is not None:
        return f"**Renewal reminder:** {policy.renewal_lead_days} days before an authorization ends (payer file)"
    return (f"**Renewal reminder:** {default_lead_days} days before an authorization ends "
            "(clinic setting DESK_RENEWAL_LEAD_DAYS)")


def render_variant(policy: Policy, variant: Variant) -> None:
    approval = variant.approval
    facts = []
    if approval.length:
        facts.append(f"**Approval:** {approval.length.describe()}")
    if approval.length_note:
        facts.append(approval.length_note if approval.length else f"**Approval:** {approval.length_note}")
    for cap in approval.quantity_caps:
        note = f" ({cap.note})" if cap.note else ""
        facts.append(f"**Quantity:** {cap.devices} devices per {cap.per_days} days{note}")
    for dose in approval.dose_caps:
        text = f"**Dose:** up to {dose.max_mg_per_session} mg per session"
        if dose.max_sessions_per_week:
            text += f", {dose.max_sessions_per_week} sessions a week"
        if dose.weeks:
            text += f" for {dose.weeks} weeks"
        facts.append(text + (f" ({dose.note})" if dose.note else ""))
    if facts:
        st.markdown("  \n".join(facts))
    if variant.incomplete:
        st.warning(f"Incomplete: {variant.incomplete}", icon=":material/content_cut:")
    if variant.position != "covered_with_pa":
        st.error(f"Not covered for {INDICATION_NAMES[variant.indication]} ({variant.phase}).")
    for note in variant.notes:
        st.info(note, icon=":material/info:")
    if variant.required_documents:
        st.markdown("**Required documents**\n" + "\n".join(f"- {d}" for d in variant.required_documents))
    if variant.criteria is not None:
        st.markdown("**Criteria**")
        st.markdown(criteria_markdown(policy, variant.criteria))


def evidence_markdown(criteria: list[CriterionResult]) -> str:
    """The evaluated criteria as a nested list: status badge, requirement, evidence sentences beneath."""
    lines = []
    for c in criteria:
        indent = "    " * c.depth
        if c.is_group:
            words = {"all": "All of", "any": "Any of", "at_least": "At least", "not": "Not"}[c.kind]
            text = "" if c.text.startswith("All of the following") else f" — {c.text}"
            lines.append(f"{indent}- {STATUS_BADGE[c.status]} **{words}**{text} :small[({c.evidence[0]})]")
            continue
        lines.append(f"{indent}- {STATUS_BADGE[c.status]} {c.text}")
        for sentence in c.evidence:
            lines.append(f"{indent}    - :small[{sentence}]")
        if c.source:
            link = f"[{c.source}]({c.source_url})" if c.source_url else c.source
            lines.append(f"{indent}    - :small[:gray[source: {link}]]")
    return "\n".join(lines)


_SHORTFALL_GROUPS = (
    ("not_met", ":red[:material/close:] **Not met**"),
    ("unknown", ":orange[:material/help:] **Unknown: not on record**"),
    ("attest", ":blue[:material/edit_note:] **Attestations needed**"),
)


def _shortfall_line(item: Shortfall) -> str:
    route = f" :small[:gray[(one way to meet: {item.route_of})]]" if item.route_of else ""
    if item.status == "unknown":
        return f"- {item.text}{route} — :small[needs {'; '.join(item.reasons)}]"
    if len(item.reasons) <= 1:
        why = f" — :small[{item.reasons[0]}]" if item.reasons else ""
        return f"- {item.text}{route}{why}"
    return f"- {item.text}{route}" + "".join(f"\n    - :small[{reason}]" for reason in item.reasons)


def shortfalls_markdown(summary: Shortfalls) -> str:
    """What is still missing: criteria not met (why), unknown (what data), attestations, in that order."""
    blocks = [f"**Still needed** ({len(summary)})"]
    for status, heading in _SHORTFALL_GROUPS:
        items: tuple[Shortfall, ...] = getattr(summary, status)
        if items:
            blocks.append(heading + "\n" + "\n".join(_shortfall_line(item) for item in items))
    return "\n\n".join(blocks)


def render_evaluation(evaluation: Evaluation, *, key: str) -> None:
    """Decision, missing items, notes and the per-criterion evidence of one evaluation."""
    st.markdown(DECISION_BADGE[evaluation.decision])
    if evaluation.policy_incomplete:
        st.caption(":material/content_cut: This payer's policy file is incomplete; see the notes.")
    summary = shortfalls(evaluation)
    if summary:
        st.markdown(shortfalls_markdown(summary))
    elif evaluation.missing:
        st.markdown("**Still needed**\n" + "\n".join(f"- {m}" for m in evaluation.missing))
    for note in evaluation.notes:
        st.caption(f":material/info: {note}")
    if evaluation.criteria:
        st.markdown(evidence_markdown(evaluation.criteria))
    if evaluation.approval is not None:
        terms = evaluation.approval
        parts = [f"Approval: {terms.length}" if terms.length else terms.length_note]
        parts += terms.quantity_caps + terms.dose_caps
        st.caption(" · ".join(p for p in parts if p))


def render_policy(policy: Policy, file_name: str, *, default_lead_days: int,
                  versions: list[Policy] | None = None) -> None:
    """One policy: identification, submission, clocks, codes, gaps, sources and a tab per variant."""
    if versions and len(versions) > 1:
        st.caption("Versions in this file: " + " · ".join(
            f"{v.version or 'undated'} (from {v.effective_date})" for v in versions) + ". Shown: the newest.")
    left, right = st.columns([3, 2])
    with left:
        lines = [
            f"**File:** `{file_name}` · **id:** `{policy.id}`",
            f"**Policy:** {policy.policy_number or '—'} · **version:** {policy.version or '—'} · "
            f"**effective:** {policy.effective_date or 'not stated'}",
            f"**Plan types:** {', '.join(policy.plan_types)} · **benefit:** {policy.benefit}",
            f"**Reviewed:** {policy.reviewed_on}",
            f"**Source:** {policy.source_url or 'no public address on file'}",
        ]
        if policy.benefit_note:
            lines.append(f":small[{policy.benefit_note}]")
        st.markdown("  \n".join(lines))
    with right:
        submission = "; ".join(
            f"{c.channel} {c.number or c.url}".strip() + (f" ({c.note})" if c.note else "") for c in policy.submission
        )
        st.markdown("  \n".join([
            f"**Position:** {_POSITION_WORDS[policy.position.status]} {policy.position.note}".strip(),
            f"**Submit by:** {submission or 'not on file'}",
            f"**Form:** `{policy.form_template}`",
            *clock_lines(policy),
            renewal_line(policy, default_lead_days=default_lead_days),
            "**Billing codes:** " + (", ".join(
                c.code + (f" from {c.accepted_from}" if c.accepted_from else "")
                + (f" until {c.accepted_until}" if c.accepted_until else "") for c in policy.billing_codes
            ) or "not on file"),
        ]))
    if policy.incomplete:
        st.warning("Incomplete — not on file:\n" + "\n".join(
            f"- {g.text}" + (f" ({', '.join(g.variants)})" if g.variants else "") for g in policy.completeness.items()),
                   icon=":material/content_cut:")
    st.markdown("**Sources:** " + " · ".join(
        (f"[{ref.title}]({ref.url})" if ref.url else ref.title) + f" ({ref.kind})" for ref in policy.sources.values()
    ))
    if not policy.variants:
        st.info("No criteria: see the position above.")
        return
    tabs = st.tabs([f"{v.indication.upper()} · {v.phase}" + (f" · {v.benefit} benefit" if v.benefit else "")
                    for v in policy.variants])
    for tab, variant in zip(tabs, policy.variants, strict=True):
        with tab:
            shared = f" · criteria shared with {variant.criteria_from}" if variant.criteria_from else ""
            st.caption(INDICATION_NAMES[variant.indication] + shared)
            render_variant(policy, variant)
