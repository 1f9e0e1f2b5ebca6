"""Rendering of policy criteria trees and evaluation results (shared by the Payers page and the patient record)."""

from __future__ import annotations

import streamlit as st

from desk.models import PLAN_TYPE_NAMES
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
    source_words,
)
from desk.policies.shortfalls import Shortfall, Shortfalls, shortfalls
from desk.prior_auth.clocks import local_text
from desk.prior_auth.wording import us_dates
from desk.settings import load_settings
from ui.text import esc, link_md

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


def _source_link_md(policy: Policy | None, source: str, url: str = "") -> str:
    """The cited document by its title (and where in it), linked to it; never the file's source key."""
    ref = policy.sources.get(source.partition(":")[0].strip()) if policy is not None and ":" in source else None
    return link_md(us_dates(source_words(policy, source)), ref.url if ref is not None else url)


def criteria_md(policy: Policy, rule: Rule, depth: int = 0) -> str:
    """The criteria tree as a nested markdown list."""
    indent_md = "    " * depth
    if isinstance(rule, AllOf | AnyOf | AtLeast | NotOf):
        words = _GROUP_WORDS[rule.kind].format(n=getattr(rule, "n", ""))
        text = rule.text if rule.text != "All of the following" else ""
        below_md = "\n".join(criteria_md(policy, child, depth + 1) for child in children(rule))
        return f"{indent_md}- **{esc(words)}:** {esc(text)}\n{below_md}"
    needs = {"documentation": "documentation", "attestation": "prescriber attestation", "none": ""}[rule.needs]
    badge_md = f" :gray-badge[{esc(needs)}]" if needs else ""
    line_md = f"{indent_md}- {esc(rule.text)}{badge_md}  \n{indent_md}  :small[{_source_link_md(policy, rule.source)}]"
    if isinstance(rule, TrialsRule):
        line_md += "".join(f"\n{indent_md}    - :small[{_definition_md(d)}]" for d in rule.definitions)
    return line_md


def _definition_md(d: TrialDefinition) -> str:
    return esc(_definition_words(d))


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


def clock_lines_md(policy: Policy) -> list[str]:
    """One line per plan type: the decision clock that applies and where it comes from, or that none is known."""
    lines_md = []
    for plan_type, clock in policy.clocks_by_plan_type():
        label_md = f"**Decision clock, {esc(PLAN_TYPE_NAMES.get(plan_type, plan_type))}:**"
        if clock is None:
            lines_md.append(f"{label_md} :orange[{esc(NO_CLOCK)}]")
            continue
        origin = "payer file" if plan_type in policy.decision_clocks else "documented default"
        lines_md.append(f"{label_md} {esc(clock.describe())} :small[({esc(origin)}: "
                        f"{esc(source_words(policy, clock.source))})]")
    return lines_md


def renewal_line_md(policy: Policy, *, default_lead_days: int) -> str:
    """The renewal lead time that applies to this payer and where it comes from."""
    if policy.renewal_lead_days is not None:
        return f"**Renewal reminder:** {policy.renewal_lead_days:d} days before an authorization ends (payer file)"
    return (f"**Renewal reminder:** {default_lead_days:d} days before an authorization ends "
            "(clinic setting)")


def _rule_rows(policy: Policy, rule: Rule) -> list[dict[str, str]]:
    row = {"Rule id": rule.id, "Kind": rule.kind, "Criterion": rule.text,
           "Source key": getattr(rule, "source", "") or ""}
    return [row, *(r for child in children(rule) for r in _rule_rows(policy, child))]


def render_variant(policy: Policy, variant: Variant, *, admin: bool = False) -> None:
    approval = variant.approval
    facts_md = []
    if approval.length:
        facts_md.append(f"**Approval:** {esc(approval.length.describe())}")
    if approval.length_note:
        facts_md.append(esc(approval.length_note) if approval.length else f"**Approval:** {esc(approval.length_note)}")
    for cap in approval.quantity_caps:
        note = f" ({cap.note})" if cap.note else ""
        facts_md.append(f"**Quantity:** {esc(f'{cap.devices} devices per {cap.per_days} days{note}')}")
    for dose in approval.dose_caps:
        text = f"up to {dose.max_mg_per_session} mg per session"
        if dose.max_sessions_per_week:
            text += f", {dose.max_sessions_per_week} sessions a week"
        if dose.weeks:
            text += f" for {dose.weeks} weeks"
        facts_md.append(f"**Dose:** {esc(text + (f' ({dose.note})' if dose.note else ''))}")
    if facts_md:
        st.markdown("  \n".join(facts_md))
    if variant.incomplete:
        st.warning(f"Incomplete: {esc(variant.incomplete)}", icon=":material/content_cut:")
    if variant.position != "covered_with_pa":
        st.error(f"Not covered for {esc(INDICATION_NAMES[variant.indication])} ({esc(variant.phase)}).")
    for note in variant.notes:
        st.info(esc(note), icon=":material/info:")
    if variant.required_documents:
        st.markdown("**Required documents**\n" + "\n".join(f"- {esc(d)}" for d in variant.required_documents))
    if variant.criteria is not None:
        st.markdown("**Criteria**")
        st.markdown(criteria_md(policy, variant.criteria))
        if admin:
            with st.expander("Technical details"):
                st.dataframe(_rule_rows(policy, variant.criteria), hide_index=True, width="stretch")


def evidence_md(criteria: list[CriterionResult], policy: Policy | None = None) -> str:
    """The evaluated criteria as a nested list: status badge, requirement, evidence sentences beneath."""
    lines_md = []
    for c in criteria:
        indent_md = "    " * c.depth
        if c.is_group:
            words = {"all": "All of", "any": "Any of", "at_least": "At least", "not": "Not"}[c.kind]
            text = "" if c.text.startswith("All of the following") else f" — {c.text}"
            lines_md.append(f"{indent_md}- {STATUS_BADGE[c.status]} **{esc(words)}**{esc(text)} "
                            f":small[({esc(us_dates(c.evidence[0]))})]")
            continue
        lines_md.append(f"{indent_md}- {STATUS_BADGE[c.status]} {esc(c.text)}")
        for sentence in c.evidence:
            lines_md.append(f"{indent_md}    - :small[{esc(us_dates(sentence))}]")
        if c.source:
            source_md = _source_link_md(policy, c.source, c.source_url)
            lines_md.append(f"{indent_md}    - :small[:gray[Source: {source_md}]]")
    return "\n".join(lines_md)


_SHORTFALL_GROUPS = (
    ("not_met", ":red[:material/close:] **Not met**"),
    ("unknown", ":orange[:material/help:] **Unknown: not on record**"),
    ("attest", ":blue[:material/edit_note:] **Attestations needed**"),
)


def _shortfall_line_md(item: Shortfall) -> str:
    route_md = f" :small[:gray[(one way to meet: {esc(item.route_of)})]]" if item.route_of else ""
    if item.status == "unknown":
        return f"- {esc(item.text)}{route_md} — :small[needs {esc(us_dates('; '.join(item.reasons)))}]"
    if len(item.reasons) <= 1:
        why_md = f" — :small[{esc(us_dates(item.reasons[0]))}]" if item.reasons else ""
        return f"- {esc(item.text)}{route_md}{why_md}"
    return f"- {esc(item.text)}{route_md}" + "".join(f"\n    - :small[{esc(us_dates(reason))}]"
                                                     for reason in item.reasons)


def shortfalls_md(summary: Shortfalls) -> str:
    """What is still missing: criteria not met (why), unknown (what data), attestations, in that order."""
    blocks_md = [f"**Still needed** ({len(summary)})"]
    for status, heading in _SHORTFALL_GROUPS:
        items: tuple[Shortfall, ...] = getattr(summary, status)
        if items:
            blocks_md.append(heading + "\n" + "\n".join(_shortfall_line_md(item) for item in items))
    return "\n\n".join(blocks_md)


def render_evaluation(evaluation: Evaluation, *, key: str, policy: Policy | None = None) -> None:
    """Decision, missing items, notes and the per-criterion evidence of one evaluation."""
    st.markdown(DECISION_BADGE[evaluation.decision])
    if evaluation.policy_incomplete:
        st.caption(":material/content_cut: This payer's policy file is incomplete; see the notes.")
    summary = shortfalls(evaluation)
    if summary:
        st.markdown(shortfalls_md(summary))
    elif evaluation.missing:
        st.markdown("**Still needed**\n" + "\n".join(f"- {esc(us_dates(m))}" for m in evaluation.missing))
    for note in evaluation.notes:
        st.caption(f":material/info: {esc(us_dates(note))}")
    if evaluation.criteria:
        st.markdown(evidence_md(evaluation.criteria, policy))
    if evaluation.approval is not None:
        terms = evaluation.approval
        parts = [f"Approval: {terms.length}" if terms.length else terms.length_note]
        parts += terms.quantity_caps + terms.dose_caps
        st.caption(esc(" · ".join(p for p in parts if p)))


def render_policy(policy: Policy, file_name: str, *, default_lead_days: int,
                  versions: list[Policy] | None = None, admin: bool = False) -> None:
    """One policy: identification, submission, clocks, codes, gaps, sources and a tab per variant (an
    administrator also gets the file, ids and rule ids under Technical details)."""
    zone = load_settings().timezone
    if versions and len(versions) > 1:
        st.caption("Versions in this file: " + " · ".join(
            f"{esc(v.version or 'undated')} (from {esc(local_text(v.effective_date, zone) or 'not stated')})"
            for v in versions) + ". Shown: the newest.")
    left, right = st.columns([3, 2])
    with left:
        lines_md = [
            f"**Policy:** {esc(policy.policy_number or '—')} · **version:** {esc(policy.version or '—')} · "
            f"**effective:** {esc(local_text(policy.effective_date, zone) or 'not stated')}",
            f"**Plan types:** {esc(', '.join(PLAN_TYPE_NAMES.get(p, p) for p in policy.plan_types))} · "
            f"**benefit:** {esc(policy.benefit)}",
            f"**Reviewed:** {esc(local_text(policy.reviewed_on, zone))}",
            "**Source:** " + (link_md(policy.source_url, policy.source_url) if policy.source_url
                              else esc("no public address on file")),
        ]
        if policy.benefit_note:
            lines_md.append(f":small[{esc(policy.benefit_note)}]")
        st.markdown("  \n".join(lines_md))
    with right:
        submission = "; ".join(
            f"{c.channel} {c.number or c.url}".strip() + (f" ({c.note})" if c.note else "") for c in policy.submission
        )
        codes = ", ".join(
            c.code + (f" from {local_text(c.accepted_from, zone)}" if c.accepted_from else "")
            + (f" until {local_text(c.accepted_until, zone)}" if c.accepted_until else "")
            for c in policy.billing_codes
        )
        st.markdown("  \n".join([
            f"**Position:** {esc(f'{_POSITION_WORDS[policy.position.status]} {policy.position.note}'.strip())}",
            f"**Submit by:** {esc(submission or 'not on file')}",
            *clock_lines_md(policy),
            renewal_line_md(policy, default_lead_days=default_lead_days),
            f"**Billing codes:** {esc(codes or 'not on file')}",
        ]))
    if admin:
        with st.expander("Technical details"):
            st.markdown(f"**File:** {esc(file_name)} · **id:** {esc(policy.id)} · **form template:** "
                        f"{esc(policy.form_template)}")
    if policy.incomplete:
        st.warning("Incomplete — not on file:\n" + "\n".join(
            f"- {esc(g.text)}" + (f" ({esc(', '.join(g.variants))})" if g.variants else "")
            for g in policy.completeness.items()),
                   icon=":material/content_cut:")
    st.markdown("**Sources:** " + " · ".join(
        link_md(ref.title, ref.url) + f" ({esc(ref.kind)})" for ref in policy.sources.values()
    ))
    if not policy.variants:
        st.info("No criteria: see the position above.")
        return
    tabs = st.tabs([f"{esc(v.indication.upper())} · {esc(v.phase)}"
                    + (f" · {esc(v.benefit)} benefit" if v.benefit else "") for v in policy.variants])
    for tab, variant in zip(tabs, policy.variants, strict=True):
        with tab:
            shared = f" · criteria shared with {variant.criteria_from}" if variant.criteria_from else ""
            st.caption(esc(INDICATION_NAMES[variant.indication] + shared))
            render_variant(policy, variant, admin=admin)
