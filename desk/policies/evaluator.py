"""Evaluate case facts against one payer policy: a pure function, criterion by criterion, with evidence.

Each criterion is met, not_met, unknown (the record lacks something; `missing` says what) or attest (a
person must confirm it). Groups combine their rules on the order not_met < unknown < attest < met: "all"
takes the lowest, "any" the highest, "at least N" the N-th highest.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from desk.policies.case import CaseFacts, TrialFact
from desk.policies.clocks import NO_CLOCK
from desk.policies.drugs import DrugInfo, DrugLookup
from desk.policies.schema import (
    INDICATION_NAMES,
    AgeRule,
    AllOf,
    AnyOf,
    AtLeast,
    AttestationRule,
    ConcurrentTherapyRule,
    ContraindicationRule,
    CurrentAntidepressantRule,
    DiagnosisRule,
    InpatientStayRule,
    PdmpRule,
    Policy,
    PrescriberRule,
    PreviousApprovalRule,
    PriorEsketamineRule,
    PsychosisRule,
    PsychotherapyRule,
    RatingScoreRule,
    RemsEnrollmentRule,
    RemsMonitoringRule,
    RemsSettingRule,
    Rule,
    ScoreImprovementRule,
    SubstanceUseRule,
    TrialDefinition,
    TrialsRule,
    Variant,
)
from desk.reference.spravato import spravato

Status = Literal["met", "not_met", "unknown", "attest"]
Decision = Literal["meets", "does_not_meet", "needs_info", "needs_attestation", "not_covered"]
_RANK: dict[str, int] = {"not_met": 0, "unknown": 1, "attest": 2, "met": 3}
_BY_RANK: tuple[Status, ...] = ("not_met", "unknown", "attest", "met")
_DECISION: dict[str, Decision] = {
    "met": "meets", "not_met": "does_not_meet", "unknown": "needs_info", "attest": "needs_attestation",
}
# The label allows SPRAVATO monotherapy for TRD since 2025-01-21 (J&J press release 2025-01-21; spravato.md §2).
TRD_MONOTHERAPY_APPROVED = date(2025, 1, 21)
# J0013 replaces S0013 from 2026-01-01 (spravato.md §3, sources [19][20]; desk/reference/spravato.yaml).
J0013_FROM = spravato().code("J0013").valid_from or date.min
_FAILED_OUTCOMES = frozenset({"non_response", "partial_response", "intolerance", "contraindicated"})
_OUTCOME_WORDS = {
    "non_response": "non-response", "partial_response": "partial response", "intolerance": "intolerance",
    "contraindicated": "contraindicated", "response": "response",
}
_DAYS_PER_MONTH = 30.4375


@dataclass(slots=True)
class CriterionResult:
    """One criterion (or group) of the policy, evaluated."""

    id: str
    text: str
    kind: str
    status: Status
    evidence: list[str]
    source: str
    source_url: str
    needs: str
    missing: list[str]
    depth: int
    parent: str | None

    @property
    def is_group(self) -> bool:
        return self.kind in ("all", "any", "at_least")


@dataclass(slots=True)
class ApprovalTerms:
    """What an approval under this variant would allow."""

    length: str | None
    length_days: int | None
    length_note: str
    quantity_caps: list[str]
    dose_caps: list[str]
    required_documents: list[str]


@dataclass(slots=True)
class Evaluation:
    """The outcome for one case, policy, indication and phase on one date."""

    payer: str
    payer_name: str
    policy_number: str
    indication: str
    phase: str
    as_of: date
    decision: Decision
    criteria: list[CriterionResult]
    missing: list[str]
    notes: list[str]
    approval: ApprovalTerms | None
    policy_incomplete: bool
    source_url: str
    reviewed_on: date
    form_template: str = ""
    submission: list[str] = field(default_factory=list)
    decision_clock: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        data["reviewed_on"] = self.reviewed_on.isoformat()
        return data

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def criterion(self, criterion_id: str) -> CriterionResult:
        for result in self.criteria:
            if result.id == criterion_id:
                return result
        raise KeyError(criterion_id)


@dataclass(slots=True)
class _Ctx:
    case: CaseFacts
    policy: Policy
    as_of: date
    drugs: DrugLookup
    attested: frozenset[str]
    out: list[CriterionResult]


_Outcome = tuple[Status, list[str], list[str]]


# ---------------------------------------------------------------- entry point


def evaluate(
    case: CaseFacts,
    policy: Policy,
    *,
    indication: str,
    phase: str,
    as_of: date,
    drugs: DrugLookup,
) -> Evaluation:
    """Check `case` against `policy` for `indication`/`phase` on `as_of`. Never raises on valid inputs."""
    notes: list[str] = []
    missing: list[str] = []
    variant = policy.variant(indication, phase)
    label = f"{INDICATION_NAMES.get(indication, indication)}, {phase}"
    if policy.incomplete:
        notes.append("This policy file is incomplete; not on file: " + "; ".join(policy.completeness.missing) + ".")
    notes.extend(_billing_notes(policy, as_of))
    result = Evaluation(
        payer=policy.id, payer_name=policy.payer, policy_number=policy.policy_number, indication=indication,
        phase=phase, as_of=as_of, decision="needs_info", criteria=[], missing=missing, notes=notes, approval=None,
        policy_incomplete=policy.incomplete, source_url=policy.source_url, reviewed_on=policy.reviewed_on,
        form_template=policy.form_template,
        submission=[_describe_channel(c.channel, c.number, c.url, c.note) for c in policy.submission],
    )
    plan_type = case.coverage.plan_type if case.coverage else None
    clock = policy.clock_for(plan_type)
    result.decision_clock = f"{clock.describe()} ({clock.source})" if clock is not None else NO_CLOCK
    if policy.position.status != "covered_with_pa":
        result.decision = "not_covered"
        words = policy.position.status.replace("_", " ")
        notes.insert(0, f"{policy.payer} considers SPRAVATO {words}. {policy.position.note}".strip())
        return result
    if variant is None:
        missing.append(f"{policy.payer}'s criteria for {label}")
        notes.insert(0, f"No criteria for {label} are on file for {policy.payer}; ask the payer before submitting.")
        return result
    result.approval = _approval(variant)
    notes.extend(variant.notes)
    if variant.incomplete:
        notes.append(f"Criteria for {label} are incomplete: {variant.incomplete}")
    if variant.position == "not_covered" or variant.criteria is None:
        result.decision = "not_covered"
        notes.insert(0, f"{policy.payer} does not cover SPRAVATO for {label}.")
        return result
    notes.extend(_label_notes(variant, indication))
    ctx = _Ctx(case, policy, as_of, drugs, frozenset(case.attestations), result.criteria)
    status = _evaluate_rule(variant.criteria, ctx, 0, None)
    result.decision = _DECISION[status]
    seen: set[str] = set()
    by_id = {c.id: c for c in result.criteria}
    for criterion in result.criteria:
        if criterion.is_group or _settled_above(criterion, by_id):
            continue
        items = criterion.missing if criterion.status == "unknown" else []
        if criterion.status == "attest":
            items = [f"attestation: {criterion.text}"]
        for item in items:
            if item not in seen:
                seen.add(item)
                missing.append(item)
    return result


def _settled_above(criterion: CriterionResult, by_id: dict[str, CriterionResult]) -> bool:
    """True when a group above is already met, so this criterion asks nothing more of anyone."""
    parent = criterion.parent
    while parent is not None:
        group = by_id[parent]
        if group.status == "met":
            return True
        parent = group.parent
    return False


# ---------------------------------------------------------------- tree walk


def _evaluate_rule(rule: Rule, ctx: _Ctx, depth: int, parent: str | None) -> Status:
    source = rule.source or ""
    entry = CriterionResult(
        id=rule.id, text=rule.text, kind=rule.kind, status="unknown", evidence=[], source=source,
        source_url=_source_url(ctx.policy, source), needs=getattr(rule, "needs", "none"), missing=[],
        depth=depth, parent=parent,
    )
    ctx.out.append(entry)
    if isinstance(rule, AllOf | AnyOf | AtLeast):
        statuses = [_evaluate_rule(child, ctx, depth + 1, rule.id) for child in rule.rules]
        ranks = sorted((_RANK[s] for s in statuses), reverse=True)
        if isinstance(rule, AllOf):
            rank = ranks[-1]
        elif isinstance(rule, AnyOf):
            rank = ranks[0]
        else:
            rank = ranks[rule.n - 1]
        met = sum(1 for s in statuses if s == "met")
        entry.status = _BY_RANK[rank]
        entry.evidence = [f"{met} of {len(statuses)} met"]
        return entry.status
    status, evidence, missing = _LEAVES[type(rule)](rule, ctx)
    if status == "attest" and rule.id in ctx.attested:
        status, evidence = "met", [*evidence, "Attested by the prescriber."]
    entry.status, entry.evidence, entry.missing = status, evidence, missing
    return status


def _source_url(policy: Policy, source: str) -> str:
    key = source.split(":", 1)[0].strip()
    ref = policy.sources.get(key)
    return ref.url if ref else policy.source_url


# ---------------------------------------------------------------- helpers


def _fmt(value: float) -> str:
    return f"{value:g}"


def _d(value: date) -> str:
    return value.isoformat()


def _weeks(start: date, end: date) -> float:
    return (end - start).days / 7


def _years_ago(as_of: date, years: float) -> date:
    return as_of - timedelta(days=round(years * 365.25))


def _age(case: CaseFacts, as_of: date) -> int | None:
    if case.birth_date is not None:
        born = case.birth_date
        return as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
    return case.age_years


def _verdict(no: list[str], maybe: list[str]) -> str:
    return "no" if no else ("maybe" if maybe else "yes")


# ---------------------------------------------------------------- leaves


def _age_rule(rule: AgeRule, ctx: _Ctx) -> _Outcome:
    age = _age(ctx.case, ctx.as_of)
    if age is None:
        return "unknown", ["No birth date or age recorded."], ["birth date"]
    problems = []
    if rule.min_years is not None and (age < rule.min_years or (not rule.min_inclusive and age == rule.min_years)):
        problems.append(f"{'at least' if rule.min_inclusive else 'over'} {rule.min_years}")
    if rule.max_years is not None and (age > rule.max_years or (not rule.max_inclusive and age == rule.max_years)):
        problems.append(f"{'at most' if rule.max_inclusive else 'under'} {rule.max_years}")
    if problems:
        return "not_met", [f"Age {age} on {_d(ctx.as_of)}; the policy requires {' and '.join(problems)}."], []
    return "met", [f"Age {age} on {_d(ctx.as_of)}."], []


def _code_matches(code: str, rule: DiagnosisRule) -> bool:
    code = code.strip().upper()
    if code in {c.upper() for c in rule.icd10_codes}:
        return True
    bare = code.replace(".", "")
    return any(bare.startswith(p.upper().replace(".", "")) for p in rule.icd10_prefixes)


def _diagnosis_rule(rule: DiagnosisRule, ctx: _Ctx) -> _Outcome:
    current = [d for d in ctx.case.diagnoses if d.current and (d.diagnosed_on is None or d.diagnosed_on <= ctx.as_of)]
    if not current:
        return "unknown", ["No current depressive-disorder diagnosis is recorded."], ["a current diagnosis"]
    best = "no"
    evidence: list[str] = []
    missing: list[str] = []
    for dx in current:
        no: list[str] = []
        maybe: list[str] = []
        if not _code_matches(dx.icd10, rule):
            no.append("its code is not one the policy lists")
        if rule.methods:
            if dx.method is None:
                maybe.append("how the diagnosis was made")
            elif dx.method not in rule.methods:
                wanted = " or ".join(m.replace("_", " ") for m in rule.methods)
                no.append(f"made by {dx.method.replace('_', ' ')}, not {wanted}")
        if rule.dsm_editions:
            if dx.dsm_edition is None:
                maybe.append("the DSM edition used")
            elif dx.dsm_edition not in rule.dsm_editions:
                no.append(f"per {dx.dsm_edition}, not {' or '.join(rule.dsm_editions)}")
        if rule.episode_types:
            if dx.episode_type is None:
                maybe.append("whether the episode is single or recurrent")
            elif dx.episode_type not in rule.episode_types:
                no.append(f"{dx.episode_type} episode, not {' or '.join(rule.episode_types)}")
        if rule.exclude_psychotic_features:
            if dx.psychotic_features is None:
                maybe.append("whether the episode has psychotic features")
            elif dx.psychotic_features:
                no.append("with psychotic features")
        if rule.min_episode_months is not None:
            if dx.episode_start is None:
                maybe.append("the episode start date")
            else:
                months = (ctx.as_of - dx.episode_start).days / _DAYS_PER_MONTH
                if months < rule.min_episode_months:
                    no.append(f"episode has lasted {months:.0f} months, under {rule.min_episode_months}")
        if rule.suicidal_ideation:
            if dx.suicidal_ideation is None:
                maybe.append("whether acute suicidal ideation or behavior is present")
            elif not dx.suicidal_ideation:
                no.append("no acute suicidal ideation or behavior recorded")
        verdict = _verdict(no, maybe)
        if verdict == "yes":
            evidence.append(f"{dx.icd10} fits.")
        elif verdict == "maybe":
            evidence.append(f"{dx.icd10} may fit; not recorded: {', '.join(maybe)}.")
            missing.extend(f"{m} ({dx.icd10})" for m in maybe)
        else:
            evidence.append(f"{dx.icd10} does not fit: {'; '.join(no)}.")
        if verdict == "yes" or (verdict == "maybe" and best == "no"):
            best = verdict
    status: Status = "met" if best == "yes" else ("unknown" if best == "maybe" else "not_met")
    return status, evidence, missing if status == "unknown" else []


def _latest_scores(ctx: _Ctx, instrument: str, within_days: int | None) -> list[tuple[date, float]]:
    earliest = ctx.as_of - timedelta(days=within_days) if within_days else date.min
    return sorted(
        (s.measured_on, s.score) for s in ctx.case.scores
        if s.instrument == instrument and earliest <= s.measured_on <= ctx.as_of
    )


def _rating_score_rule(rule: RatingScoreRule, ctx: _Ctx) -> _Outcome:
    window = f" in the {rule.within_days} days before {_d(ctx.as_of)}" if rule.within_days else ""
    evidence: list[str] = []
    any_found = False
    met = False
    for threshold in rule.scores:
        scores = _latest_scores(ctx, threshold.instrument, rule.within_days)
        if not scores:
            evidence.append(f"No {threshold.instrument} score{window}.")
            continue
        any_found = True
        when, value = scores[-1]
        ok = (
            (threshold.at_least is None or value >= threshold.at_least)
            and (threshold.above is None or value > threshold.above)
            and (threshold.at_most is None or value <= threshold.at_most)
            and (threshold.below is None or value < threshold.below)
        )
        met = met or ok
        verdict = "meets" if ok else "does not meet"
        evidence.append(f"Latest {threshold.instrument} {_fmt(value)} on {_d(when)} {verdict} {threshold.describe()}.")
    if met:
        return "met", evidence, []
    if not any_found:
        wanted = " or ".join(t.describe() for t in rule.scores)
        return "unknown", evidence, [f"a rating score ({wanted}){window}"]
    return "not_met", evidence, []


def _score_improvement_rule(rule: ScoreImprovementRule, ctx: _Ctx) -> _Outcome:
    started = ctx.case.screening.esketamine_started_on
    evidence: list[str] = []
    met = False
    computed = False
    for instrument in rule.instruments:
        scores = _latest_scores(ctx, instrument, None)
        if len(scores) < 2:
            continue
        before = [s for s in scores if started is not None and s[0] <= started]
        base_day, base = before[-1] if before else scores[0]
        last_day, last = scores[-1]
        if last_day <= base_day or base <= 0:
            continue
        computed = True
        pct = (base - last) / base * 100
        ok = pct >= rule.min_improvement_pct if rule.min_improvement_pct > 0 else pct > 0
        met = met or ok
        evidence.append(
            f"{instrument} {_fmt(base)} on {_d(base_day)} → {_fmt(last)} on {_d(last_day)}: "
            f"{pct:.0f}% improvement ({'enough' if ok else 'not enough'})."
        )
    if met:
        return "met", evidence, []
    if not computed:
        names = " or ".join(rule.instruments)
        return "unknown", ["No baseline and follow-up score on the same instrument."], [
            f"a baseline and a follow-up {names} score"
        ]
    return "not_met", evidence, []


# ---------------------------------------------------------------- trials


@dataclass(slots=True)
class _TrialCheck:
    trial: TrialFact
    info: DrugInfo | None
    verdict: str  # yes, maybe, no
    reasons: list[str]


def _check_definition(
    trial: TrialFact, info: DrugInfo | None, d: TrialDefinition, as_of: date
) -> tuple[list[str], list[str]]:
    no: list[str] = []
    maybe: list[str] = []
    if trial.outcome is None:
        maybe.append("the trial's outcome")
    elif trial.outcome not in d.outcomes:
        no.append(f"outcome {_OUTCOME_WORDS.get(trial.outcome, trial.outcome)} is not accepted here")
    if trial.outcome == "contraindicated":
        return no, maybe  # never taken: duration, dose and adherence do not apply
    if d.min_weeks is not None:
        if trial.start_date is None:
            maybe.append("the trial's start date")
        else:
            weeks = _weeks(trial.start_date, min(trial.end_date or as_of, as_of))
            short = weeks < d.min_weeks if d.weeks_inclusive else weeks <= d.min_weeks
            if short:
                word = "at least" if d.weeks_inclusive else "more than"
                no.append(f"lasted {weeks:.1f} weeks; {word} {_fmt(d.min_weeks)} required")
    if d.dose != "any":
        dose = trial.daily_dose_mg
        if info is None:
            maybe.append(f"dose figures for {trial.drug} (not in the drug reference data)")
        elif d.dose == "min_therapeutic":
            if dose is None:
                maybe.append("the trial's daily dose")
            elif info.min_daily_mg is not None and dose < info.min_daily_mg:
                no.append(
                    f"{_fmt(dose)} mg/day is below the minimum therapeutic dose of {_fmt(info.min_daily_mg)} mg/day"
                )
        else:
            at_max = info.max_daily_mg is not None and dose is not None and dose >= info.max_daily_mg
            if d.dose == "maximum" and not at_max:
                if dose is None:
                    maybe.append("the trial's daily dose")
                else:
                    no.append(f"{_fmt(dose)} mg/day is below the maximum dose of {_fmt(info.max_daily_mg or 0)} mg/day")
            elif d.dose == "max_tolerated" and not at_max and not trial.at_max_tolerated_dose:
                if trial.at_max_tolerated_dose is None:
                    maybe.append("whether the dose was the maximum tolerated")
                else:
                    no.append("not documented at the maximum tolerated dose")
    if d.min_adherence_pct is not None:
        if trial.adherence_pct is None:
            maybe.append("adherence")
        elif trial.adherence_pct < d.min_adherence_pct:
            no.append(f"adherence {_fmt(trial.adherence_pct)}% is under {_fmt(d.min_adherence_pct)}%")
    if d.max_improvement_pct is not None and trial.outcome in ("non_response", "partial_response"):
        if trial.improvement_pct is None:
            maybe.append("the symptom improvement on a scale")
        elif trial.improvement_pct > d.max_improvement_pct:
            no.append(
                f"improved {_fmt(trial.improvement_pct)}%, more than the {_fmt(d.max_improvement_pct)}% "
                "that counts as non-response"
            )
    return no, maybe


def _check_trial(trial: TrialFact, rule: TrialsRule, ctx: _Ctx) -> _TrialCheck:
    info = ctx.drugs.info(trial.drug)
    no: list[str] = []
    maybe: list[str] = []
    if info is None:
        maybe.append(f"{trial.drug} is not in the drug reference data, so its class and doses cannot be checked")
    elif rule.allowed_classes:
        if info.drug_class not in rule.allowed_classes:
            no.append(f"class {info.drug_class} is not one of {', '.join(rule.allowed_classes)}")
    elif rule.role == "antidepressant" and not info.is_antidepressant:
        no.append(f"{info.name} is not counted as an antidepressant")
    elif rule.role == "augmentation" and not info.is_augmentation:
        no.append(f"{info.name} is not an augmentation agent")
    if trial.start_date is not None and trial.start_date > ctx.as_of:
        no.append(f"starts after {_d(ctx.as_of)}")
    if rule.lookback_years is not None:
        end = trial.end_date or ctx.as_of
        cutoff = _years_ago(ctx.as_of, rule.lookback_years)
        if trial.end_date is None and trial.start_date is None:
            maybe.append("the trial's dates (for the look-back)")
        elif end < cutoff:
            no.append(f"ended {_d(end)}, outside the {_fmt(rule.lookback_years)}-year look-back")
    if rule.current_episode == "all":
        if trial.current_episode is None:
            maybe.append("whether the trial was in the current episode")
        elif not trial.current_episode:
            no.append("outside the current episode")
    if no:
        return _TrialCheck(trial, info, "no", no)
    best: tuple[str, list[str]] | None = None
    failures: list[str] = []
    for d in rule.definitions:
        d_no, d_maybe = _check_definition(trial, info, d, ctx.as_of)
        verdict = _verdict(d_no, maybe + d_maybe)
        if verdict == "yes":
            return _TrialCheck(trial, info, "yes", [d.label] if d.label else [])
        if verdict == "maybe" and best is None:
            best = ("maybe", maybe + d_maybe)
        if d_no:
            prefix = f"({d.label}) " if d.label and len(rule.definitions) > 1 else ""
            failures.append(prefix + "; ".join(d_no))
    if best is not None:
        return _TrialCheck(trial, info, "maybe", best[1])
    return _TrialCheck(trial, info, "no", failures)


def _trials_rule(rule: TrialsRule, ctx: _Ctx) -> _Outcome:
    checks = [_check_trial(t, rule, ctx) for t in ctx.case.trials if t.role == rule.role]
    # One agent counts once ("different antidepressants"); its best trial speaks for it.
    order = {"yes": 2, "maybe": 1, "no": 0}
    by_agent: dict[str, _TrialCheck] = {}
    for check in checks:
        key = check.info.name if check.info else check.trial.drug.strip().lower()
        held = by_agent.get(key)
        if held is None or order[check.verdict] > order[held.verdict]:
            by_agent[key] = check
    need_current = rule.current_episode if isinstance(rule.current_episode, int) else 0

    def enough(pool: list[_TrialCheck], optimistic: bool) -> bool:
        classes = {c.info.drug_class if c.info else f"?{i}" for i, c in enumerate(pool)}
        current = sum(1 for c in pool if c.trial.current_episode or (optimistic and c.trial.current_episode is None))
        return len(pool) >= rule.count and len(classes) >= rule.distinct_classes and current >= need_current

    sure = [c for c in by_agent.values() if c.verdict == "yes"]
    possible = [c for c in by_agent.values() if c.verdict != "no"]
    evidence = [_trial_line(c, rule) for c in checks]
    noun = "augmentation trial" if rule.role == "augmentation" else "antidepressant trial"
    sure_classes = len({c.info.drug_class for c in sure if c.info})
    summary = f"{len(sure)} qualifying {noun}{'s' if len(sure) != 1 else ''} of {rule.count} required"
    if rule.distinct_classes > 1:
        summary += f"; {sure_classes} distinct class{'es' if sure_classes != 1 else ''} of {rule.distinct_classes}"
    if need_current:
        in_episode = sum(1 for c in sure if c.trial.current_episode)
        summary += f"; {in_episode} in the current episode of {need_current}"
    evidence.insert(0, summary + ".")
    if not checks:
        evidence = [f"No {noun}s recorded."]
    if enough(sure, False):
        return "met", evidence, []
    if enough(possible, True):
        missing = sorted({reason for c in possible if c.verdict == "maybe" for reason in _maybe_items(c)})
        return "unknown", evidence, missing
    return "not_met", evidence, []


def _maybe_items(check: _TrialCheck) -> list[str]:
    return [f"{check.trial.drug}: {reason}" for reason in check.reasons]


def _trial_line(check: _TrialCheck, rule: TrialsRule) -> str:
    t = check.trial
    parts = [t.drug]
    if check.info is not None:
        parts.append(check.info.drug_class)
    if t.daily_dose_mg is not None:
        parts.append(f"{_fmt(t.daily_dose_mg)} mg/day")
    if t.start_date is not None:
        parts.append(f"from {_d(t.start_date)}" + (f" to {_d(t.end_date)}" if t.end_date else " (ongoing)"))
    if t.outcome is not None:
        parts.append(_OUTCOME_WORDS.get(t.outcome, t.outcome))
    what = ", ".join(parts)
    if check.verdict == "yes":
        why = f" ({check.reasons[0]})" if check.reasons else ""
        episode = "" if t.current_episode is not False else " (outside the current episode)"
        return f"Counted: {what}{why}{episode}."
    if check.verdict == "maybe":
        return f"Cannot tell yet: {what}; not recorded: {'; '.join(check.reasons)}."
    return f"Not counted: {what}; {'; '.join(check.reasons)}."


# ---------------------------------------------------------------- other leaves


def _psychotherapy_rule(rule: PsychotherapyRule, ctx: _Ctx) -> _Outcome:
    wanted = {m.lower() for m in rule.modalities}
    counted: list[str] = []
    evidence: list[str] = []
    maybe: list[str] = []
    for course in ctx.case.psychotherapy:
        name = course.modality
        problems: list[str] = []
        if wanted and name.lower() not in wanted:
            problems.append(f"{name} is not one of {', '.join(rule.modalities)}")
        if course.start_date is not None and course.start_date > ctx.as_of:
            problems.append(f"starts after {_d(ctx.as_of)}")
        if rule.current_episode and course.current_episode is False:
            problems.append("outside the current episode")
        if rule.lookback_years is not None and course.start_date is not None:
            end = course.end_date or ctx.as_of
            if end < _years_ago(ctx.as_of, rule.lookback_years):
                problems.append(f"ended {_d(end)}, outside the {_fmt(rule.lookback_years)}-year look-back")
        if rule.min_weeks is not None and course.start_date is not None:
            weeks = _weeks(course.start_date, min(course.end_date or ctx.as_of, ctx.as_of))
            if weeks < rule.min_weeks:
                problems.append(f"lasted {weeks:.1f} weeks; at least {_fmt(rule.min_weeks)} required")
        unsure = []
        if rule.current_episode and course.current_episode is None:
            unsure.append("whether it was in the current episode")
        if (rule.min_weeks is not None or rule.lookback_years is not None) and course.start_date is None:
            unsure.append("its start date")
        if problems:
            evidence.append(f"Not counted: {name}; {'; '.join(problems)}.")
        elif unsure:
            evidence.append(f"Cannot tell yet: {name}; not recorded: {', '.join(unsure)}.")
            maybe.extend(f"{name}: {u}" for u in unsure)
        else:
            evidence.append(f"Counted: {name}" + (f" from {_d(course.start_date)}" if course.start_date else "") + ".")
            counted.append(name)
    if not ctx.case.psychotherapy:
        evidence.append("No psychotherapy recorded.")
    if len(counted) >= rule.count:
        return "met", evidence, []
    if len(counted) + len(maybe) >= rule.count and maybe:
        return "unknown", evidence, maybe
    return "not_met", evidence, []


def _failed_agents(ctx: _Ctx) -> set[str]:
    names = set()
    for trial in ctx.case.trials:
        if trial.role == "antidepressant" and trial.outcome in _FAILED_OUTCOMES:
            info = ctx.drugs.info(trial.drug)
            names.add(info.name if info else trial.drug.strip().lower())
    return names


def _current_antidepressant_rule(rule: CurrentAntidepressantRule, ctx: _Ctx) -> _Outcome:
    failed = _failed_agents(ctx) if rule.not_failed_agent else set()
    evidence: list[str] = []
    missing: list[str] = []
    best = "no"
    for med in ctx.case.current_medications:
        info = ctx.drugs.info(med.drug)
        if info is not None and not info.is_antidepressant:
            continue
        no: list[str] = []
        maybe: list[str] = []
        if info is None:
            maybe.append(f"{med.drug} is not in the drug reference data, so it cannot be confirmed as one")
        name = info.name if info else med.drug.strip().lower()
        if rule.not_failed_agent and name in failed:
            no.append("it is one of the agents that already failed")
        if med.started_on is not None and med.started_on > ctx.as_of:
            no.append(f"starts after {_d(ctx.as_of)}")
        if rule.min_stable_days is not None:
            if med.started_on is None:
                maybe.append("its start date")
            elif (ctx.as_of - med.started_on).days < rule.min_stable_days:
                no.append(f"taken since {_d(med.started_on)}, under {rule.min_stable_days} days")
        if rule.new_within_days is not None:
            if med.started_on is None:
                maybe.append("its start date")
            elif med.started_on < ctx.as_of - timedelta(days=rule.new_within_days):
                no.append(f"started {_d(med.started_on)}, not newly started with SPRAVATO")
        verdict = _verdict(no, maybe)
        since = f" since {_d(med.started_on)}" if med.started_on else ""
        if verdict == "yes":
            evidence.append(f"{med.drug}{since} fits.")
        elif verdict == "maybe":
            evidence.append(f"{med.drug}{since} may fit; not recorded: {'; '.join(maybe)}.")
            missing.extend(f"{med.drug}: {m}" for m in maybe)
        else:
            evidence.append(f"{med.drug}{since} does not fit: {'; '.join(no)}.")
        if verdict == "yes" or (verdict == "maybe" and best == "no"):
            best = verdict
    if not evidence:
        evidence.append("No oral antidepressant on the current medication list.")
    if best == "yes":
        return "met", evidence, []
    if best == "maybe":
        return "unknown", evidence, missing
    return "not_met", evidence, []


def _prior_esketamine_rule(rule: PriorEsketamineRule, ctx: _Ctx) -> _Outcome:
    used = ctx.case.screening.prior_esketamine
    if used is None:
        return "unknown", ["Prior esketamine use is not recorded."], ["whether esketamine was used before"]
    if not used:
        return "not_met", ["No prior esketamine use."], []
    pct = ctx.case.screening.prior_esketamine_improvement_pct
    if rule.min_improvement_pct is None:
        return "met", ["Esketamine was used before."], []
    if pct is None:
        return "unknown", ["Esketamine was used before; the response is not recorded."], [
            "the improvement (%) on esketamine"
        ]
    if pct >= rule.min_improvement_pct:
        return "met", [f"Esketamine used before with {_fmt(pct)}% improvement."], []
    wanted = _fmt(rule.min_improvement_pct)
    return "not_met", [f"Esketamine used before with {_fmt(pct)}% improvement, under {wanted}%."], []


def _inpatient_stay_rule(rule: InpatientStayRule, ctx: _Ctx) -> _Outcome:
    window = rule.discharged_within_days
    cutoff = ctx.as_of - timedelta(days=window) if window is not None else date.min
    evidence: list[str] = []
    best = "no"
    for stay in ctx.case.inpatient_stays:
        no: list[str] = []
        maybe: list[str] = []
        if stay.reason not in rule.reasons:
            no.append(f"reason {stay.reason}")
        if stay.admitted_on > ctx.as_of:
            no.append(f"admitted after {_d(ctx.as_of)}")
        if stay.discharged_on is not None and stay.discharged_on < cutoff:
            no.append(f"discharged {_d(stay.discharged_on)}, more than {window} days ago")
        if rule.esketamine_started:
            if stay.esketamine_started is None:
                maybe.append("whether esketamine was started in hospital")
            elif not stay.esketamine_started:
                no.append("esketamine was not started in hospital")
        verdict = _verdict(no, maybe)
        state = "ongoing" if stay.discharged_on is None else f"discharged {_d(stay.discharged_on)}"
        line = f"Stay from {_d(stay.admitted_on)} ({state})"
        evidence.append(line + (" fits." if verdict == "yes" else f": {'; '.join(no or maybe)}."))
        if verdict == "yes" or (verdict == "maybe" and best == "no"):
            best = verdict
    if not evidence:
        evidence.append("No psychiatric inpatient stay recorded.")
    if best == "yes":
        return "met", evidence, []
    if best == "maybe":
        return "unknown", evidence, ["whether esketamine was started during the hospital stay"]
    return "not_met", evidence, []


def _substance_use_rule(rule: SubstanceUseRule, ctx: _Ctx) -> _Outcome:
    s = ctx.case.screening
    if s.substance_use is None:
        return "unknown", ["Substance use is not screened."], ["substance use screening"]
    if s.substance_use == "none":
        return "met", ["No substance use disorder recorded."], []
    if s.substance_use == "in_remission":
        if rule.remission_min_days is None:
            return "met", ["Substance use disorder in remission."], []
        if s.substance_remission_since is None:
            return "unknown", ["Substance use disorder in remission; since when is not recorded."], [
                "the date remission began"
            ]
        days = (ctx.as_of - s.substance_remission_since).days
        if days >= rule.remission_min_days:
            return "met", [f"In remission since {_d(s.substance_remission_since)} ({days} days)."], []
        return "not_met", [
            f"In remission since {_d(s.substance_remission_since)} ({days} days); {rule.remission_min_days} required."
        ], []
    if rule.treated_counts:
        if s.substance_treated:
            return "met", ["Current substance use disorder, being treated."], []
        if s.substance_treated is None:
            return "attest", ["Current substance use disorder; the policy accepts it when it is being treated."], []
    return "not_met", ["Current substance use disorder."], []


def _concurrent_therapy_rule(rule: ConcurrentTherapyRule, ctx: _Ctx) -> _Outcome:
    current = ctx.case.screening.concurrent_therapies
    if current is None:
        return "unknown", ["Concurrent therapies are not recorded."], ["concurrent ECT/TMS/VNS/DBS/ketamine"]
    found = [t for t in current if t in rule.excluded]
    if found:
        return "not_met", [f"Receiving {', '.join(found)}."], []
    return "met", [f"None of {', '.join(rule.excluded)} recorded."], []


def _contraindication_rule(rule: ContraindicationRule, ctx: _Ctx) -> _Outcome:
    s = ctx.case.screening
    present = [i for i in rule.items if getattr(s, i) is True]
    unknown = [i for i in rule.items if getattr(s, i) is None]
    words = {i: i.replace("_", " ") for i in rule.items}
    if present:
        return "not_met", [f"Recorded: {', '.join(words[i] for i in present)}."], []
    if unknown:
        return "unknown", [f"Not screened: {', '.join(words[i] for i in unknown)}."], [
            f"screening for {words[i]}" for i in unknown
        ]
    return "met", ["Screened; none present."], []


def _psychosis_rule(_rule: PsychosisRule, ctx: _Ctx) -> _Outcome:
    value = ctx.case.screening.psychosis_history
    if value is None:
        return "unknown", ["History of psychosis is not screened."], ["psychosis history screening"]
    if value:
        return "not_met", ["History of psychosis recorded."], []
    return "met", ["No history of psychosis."], []


def _prescriber_rule(rule: PrescriberRule, ctx: _Ctx) -> _Outcome:
    p = ctx.case.prescriber
    accepted = " or ".join(s.replace("_", " ") for s in rule.specialties)
    if p.specialty is None:
        return "unknown", ["The prescriber's specialty is not recorded."], ["prescriber specialty"]
    if p.specialty in rule.specialties:
        return "met", [f"Prescriber is a {p.specialty.replace('_', ' ')}."], []
    evidence = [f"Prescriber is {p.specialty.replace('_', ' ')}, not {accepted}."]
    if rule.consultation_counts:
        if p.psychiatric_consultation:
            return "met", [*evidence, "A consultation is recorded."], []
        if p.psychiatric_consultation is None:
            return "attest", [*evidence, f"The policy accepts a consultation with a {accepted}; document it."], []
    return "not_met", evidence, []


def _setting_certification(ctx: _Ctx) -> _Outcome:
    setting = ctx.case.setting
    certified = setting.rems_certified_on
    if certified is None:
        return "unknown", ["The setting's REMS certification is not recorded."], ["the setting's REMS certification"]
    ident = f" (REMS setting ID {setting.rems_setting_id})" if setting.rems_setting_id else ""
    if certified > ctx.as_of:
        return "not_met", [f"Setting certified only from {_d(certified)}{ident}."], []
    return "met", [f"Setting REMS certified on {_d(certified)}{ident}."], []


def _rems_rule(_rule: RemsSettingRule, ctx: _Ctx) -> _Outcome:
    return _setting_certification(ctx)


def _rems_enrollment_rule(_rule: RemsEnrollmentRule, ctx: _Ctx) -> _Outcome:
    rems = ctx.case.rems
    if rems.enrolled_on is not None:
        if rems.enrolled_on > ctx.as_of:
            return "not_met", [f"Enrolled in the REMS only from {_d(rems.enrolled_on)}."], []
        confirmation = f" (confirmation {rems.enrollment_confirmation})" if rems.enrollment_confirmation else ""
        return "met", [f"Enrolled in the REMS on {_d(rems.enrolled_on)}{confirmation}."], []
    if rems.enrollment_pending:
        return "not_met", [
            "Not enrolled yet: the REMS Patient Enrollment Form lacks " + ", ".join(rems.enrollment_pending) + "."
        ], []
    return "unknown", ["No REMS Patient Enrollment Form is on file."], [
        "the REMS patient enrollment (signatures, submission date, confirmation)"
    ]


def _rems_monitoring_rule(rule: RemsMonitoringRule, ctx: _Ctx) -> _Outcome:
    rems = ctx.case.rems
    wanted = rule.min_minutes
    setting_status, setting_evidence, setting_missing = _setting_certification(ctx)
    no: list[str] = []
    if setting_status == "not_met":
        no.extend(setting_evidence)
    minimum = rems.monitoring_minimum_minutes
    if minimum is not None and minimum < wanted:
        no.append(f"The session log allows discharge {minimum} min after the first device, under the {wanted} min "
                  "the policy requires (clinic setting DESK_REMS_MIN_MONITORING_MINUTES).")
    sessions = rems.monitored_sessions
    shortest = rems.shortest_monitoring_minutes
    if sessions and shortest is not None and shortest < wanted:
        no.append(f"A logged session was monitored {shortest} min; {wanted} required.")
    if sessions and rems.sessions_at_uncertified_setting:
        count = rems.sessions_at_uncertified_setting
        no.append(f"{count} logged session{'s were' if count != 1 else ' was'} given where no REMS certification was "
                  "in effect on the day.")
    if no:
        return "not_met", no, []
    missing = list(setting_missing)
    if minimum is None:
        missing.append("the monitoring time the session log requires before discharge")
    if sessions is None:
        missing.append("the sessions given so far and how long each was monitored")
    elif sessions and shortest is None:
        missing.append("how long each logged session was monitored")
    if sessions and rems.sessions_at_uncertified_setting is None:
        missing.append("whether each logged session was given in a certified setting")
    if missing:
        return "unknown", [*setting_evidence, "Monitoring before discharge cannot be confirmed yet."], missing
    if not sessions:
        logged = "No session logged yet."
    else:
        plural = "s" if sessions != 1 else ""
        logged = (f"{sessions} session{plural} logged in a certified setting, each monitored at least {wanted} min "
                  f"(shortest {shortest} min).")
    return "met", [
        f"The session log refuses discharge before {minimum} min from the first device.", logged, *setting_evidence,
    ], []


def _pdmp_rule(rule: PdmpRule, ctx: _Ctx) -> _Outcome:
    checked = ctx.case.screening.pdmp_checked_on
    if checked is None or checked > ctx.as_of:
        return "unknown", ["No PDMP check recorded."], ["the date the state PDMP was checked"]
    if rule.within_days is not None and (ctx.as_of - checked).days > rule.within_days:
        return "not_met", [f"PDMP checked {_d(checked)}, more than {rule.within_days} days ago."], []
    return "met", [f"PDMP checked {_d(checked)}."], []


def _previous_approval_rule(_rule: PreviousApprovalRule, ctx: _Ctx) -> _Outcome:
    approvals = ctx.case.previous_approvals
    if approvals is None:
        return "unknown", ["Earlier approvals are not recorded."], [f"a previous {ctx.policy.payer} approval"]
    if ctx.policy.id in approvals:
        return "met", [f"Approved before by {ctx.policy.payer}."], []
    return "not_met", [f"No earlier approval by {ctx.policy.payer}."], []


def _attestation_rule(_rule: AttestationRule, _ctx: _Ctx) -> _Outcome:
    return "attest", ["Needs confirmation by the prescriber or clinic."], []


_LEAVES: dict[type, Callable[[Any, _Ctx], _Outcome]] = {
    AgeRule: _age_rule,
    DiagnosisRule: _diagnosis_rule,
    RatingScoreRule: _rating_score_rule,
    ScoreImprovementRule: _score_improvement_rule,
    TrialsRule: _trials_rule,
    PsychotherapyRule: _psychotherapy_rule,
    CurrentAntidepressantRule: _current_antidepressant_rule,
    PriorEsketamineRule: _prior_esketamine_rule,
    InpatientStayRule: _inpatient_stay_rule,
    SubstanceUseRule: _substance_use_rule,
    ConcurrentTherapyRule: _concurrent_therapy_rule,
    ContraindicationRule: _contraindication_rule,
    PsychosisRule: _psychosis_rule,
    PrescriberRule: _prescriber_rule,
    RemsSettingRule: _rems_rule,
    RemsEnrollmentRule: _rems_enrollment_rule,
    RemsMonitoringRule: _rems_monitoring_rule,
    PdmpRule: _pdmp_rule,
    PreviousApprovalRule: _previous_approval_rule,
    AttestationRule: _attestation_rule,
}


# ---------------------------------------------------------------- notes and terms


def _mandatory(rule: Rule) -> Iterable[Rule]:
    """Rules every path through the tree must meet (reached through 'all' groups only)."""
    yield rule
    if isinstance(rule, AllOf):
        for child in rule.rules:
            yield from _mandatory(child)


def _label_notes(variant: Variant, indication: str) -> list[str]:
    if indication != "trd" or variant.criteria is None:
        return []
    if any(isinstance(r, CurrentAntidepressantRule) for r in _mandatory(variant.criteria)):
        return [
            "Label mismatch: this policy requires a concurrent oral antidepressant for TRD, but the FDA label has "
            f"allowed SPRAVATO monotherapy for TRD since {_d(TRD_MONOTHERAPY_APPROVED)}. If the patient is on "
            "monotherapy, ask for an exception citing the current label."
        ]
    return []


def _billing_notes(policy: Policy, as_of: date) -> list[str]:
    codes = {c.code: c for c in policy.billing_codes}
    if as_of >= J0013_FROM and "S0013" in codes and "J0013" not in codes:
        until = codes["S0013"].accepted_until
        if until is None or until >= as_of:
            return [
                f"Billing: this file lists S0013 but not J0013; HCPCS J0013 replaced S0013 on {_d(J0013_FROM)}. "
                "Confirm which code the payer accepts."
            ]
    return []


def _approval(variant: Variant) -> ApprovalTerms:
    a = variant.approval
    length_days = None
    if a.length is not None:
        length_days = a.length.value if a.length.unit == "days" else round(a.length.value * _DAYS_PER_MONTH)
    quantity = [f"{q.devices} devices per {q.per_days} days" + (f" ({q.note})" if q.note else "")
                for q in a.quantity_caps]
    dose = []
    for cap in a.dose_caps:
        text = f"up to {cap.max_mg_per_session} mg per session"
        if cap.max_sessions_per_week:
            text += f", {cap.max_sessions_per_week} sessions a week"
        if cap.weeks:
            text += f" for {cap.weeks} weeks"
        dose.append(text + (f" ({cap.note})" if cap.note else ""))
    return ApprovalTerms(
        length=a.length.describe() if a.length else None, length_days=length_days,
        length_note=a.length_note or ("" if a.length else "The policy does not state an approval length."),
        quantity_caps=quantity, dose_caps=dose, required_documents=list(variant.required_documents),
    )


def _describe_channel(channel: str, number: str, url: str, note: str) -> str:
    text = channel.upper() if channel in ("epa",) else channel
    detail = " ".join(x for x in (number, url) if x)
    return f"{text}: {detail}".strip(": ") + (f" ({note})" if note else "")
