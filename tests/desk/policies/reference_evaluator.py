"""The evaluator as it was before criteria were prepared once per policy file and case indexes built once per
evaluation (desk/policies/evaluator.py): the oracle test_prepared_evaluator.py compares it with.

Kept unchanged apart from this docstring; change it only together with a deliberate change of results.

Evaluate case facts against one payer policy: a pure function, criterion by criterion, with evidence.

Each criterion is met, not_met, unknown (the record lacks something; `missing` says what) or attest (a
person must confirm it). Groups combine their rules on the order not_met < unknown < attest < met: "all"
takes the lowest, "any" the highest, "at least N" the N-th highest; "not" swaps met and not_met and keeps
unknown and attest. Every threshold compares inclusively (at the bound counts) unless the rule says
`inclusive: false`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from desk.policies.case import CaseFacts, RequestedRegimen, TrialFact
from desk.policies.clocks import NO_CLOCK
from desk.policies.drugs import DrugInfo, DrugLookup
from desk.policies.schema import (
    GROUP_KINDS,
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
    NotOf,
    NotOnFileRule,
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
    RequestedRegimenRule,
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
_INVERT: dict[str, Status] = {"met": "not_met", "not_met": "met"}
_NOT_WORDS = {
    "met": "The rule below is met, so this criterion is not.",
    "not_met": "The rule below is not met, as required.",
    "unknown": "Whether the rule below is met is not known yet.",
    "attest": "The rule below needs a person's confirmation.",
}
_DEVICE_MG = 28


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
        return self.kind in GROUP_KINDS


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
    policy_version: str = ""
    benefit: str | None = None
    request_problems: list[str] = field(default_factory=list)

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
    benefit = case.coverage.benefit if case.coverage else None
    variant = policy.variant(indication, phase, benefit)
    label = f"{INDICATION_NAMES.get(indication, indication)}, {phase}"
    gaps = policy_gaps(policy, variant)
    if gaps:
        notes.append("This policy file is incomplete for this request; not on file: " + "; ".join(gaps) + ".")
    if policy.effective_date is not None and as_of < policy.effective_date:
        notes.append(f"This version of {policy.payer}'s policy takes effect on {_d(policy.effective_date)}, after "
                     f"{_d(as_of)}; no earlier version is on file.")
    notes.extend(_billing_notes(policy, as_of))
    result = Evaluation(
        payer=policy.id, payer_name=policy.payer, policy_number=policy.policy_number, indication=indication,
        phase=phase, as_of=as_of, decision="needs_info", criteria=[], missing=missing, notes=notes, approval=None,
        policy_incomplete=bool(gaps), source_url=policy.source_url, reviewed_on=policy.reviewed_on,
        form_template=policy.form_template,
        submission=[_describe_channel(c.channel, c.number, c.url, c.note) for c in policy.submission],
        policy_version=describe_version(policy),
    )
    plan_type = case.coverage.plan_type if case.coverage else None
    clock = policy.clock_for(plan_type)
    result.decision_clock = f"{clock.describe()} ({clock.source})" if clock is not None else NO_CLOCK
    if policy.position.status != "covered_with_pa":
        result.decision = "not_covered"
        words = policy.position.status.replace("_", " ")
        notes.insert(0, f"{policy.payer} considers SPRAVATO {words}. {policy.position.note}".strip())
        return result
    if variant is None or (variant.benefit is None and benefit is None and policy.benefit_variants(indication, phase)):
        options = policy.benefit_variants(indication, phase)
        if options and benefit is None:
            words = " or ".join(sorted({v.benefit or "" for v in options}))
            missing.append(f"the coverage's benefit ({words}), which decides {policy.payer}'s criteria")
            notes.insert(0, f"{policy.payer} has separate criteria for the {words} benefit; record the coverage's "
                         "benefit.")
            if variant is None:
                return result
        else:
            missing.append(f"{policy.payer}'s criteria for {label}")
            notes.insert(0, f"No criteria for {label} are on file for {policy.payer}; ask the payer before "
                         "submitting.")
            return result
    result.benefit = variant.benefit
    if variant.benefit:
        notes.append(f"Criteria for the {variant.benefit} benefit (the coverage's benefit).")
    result.approval = _approval(variant)
    notes.extend(variant.notes)
    if variant.position == "not_covered" or variant.criteria is None:
        result.decision = "not_covered"
        notes.insert(0, f"{policy.payer} does not cover SPRAVATO for {label}.")
        return result
    notes.extend(_label_notes(variant, indication))
    result.request_problems = request_problems(variant, case)
    if result.request_problems:
        notes.insert(0, "The requested regimen exceeds what an approval allows: " + " ".join(result.request_problems))
    ctx = _Ctx(case, policy, as_of, drugs, frozenset(case.attestations), result.criteria)
    status = _evaluate_rule(variant.criteria, ctx, 0, None)
    result.decision = _DECISION[status]
    seen: set[str] = set(missing)
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


def policy_gaps(policy: Policy, variant: Variant | None) -> list[str]:
    """What the file says is not on file, for this variant: policy-wide gaps and this variant's own."""
    gaps = [item.text for item in policy.completeness.items() if variant is None or item.applies_to(variant.key)]
    if variant is not None and variant.incomplete:
        gaps.append(variant.incomplete)
    return gaps


def describe_version(policy: Policy) -> str:
    """The version an evaluation used, as staff read it."""
    parts = [f"version {policy.version}" if policy.version else ""]
    if policy.effective_date is not None:
        parts.append(f"in force from {_d(policy.effective_date)}")
    return ", ".join(p for p in parts if p) or "undated version"


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
        source_url=_source_url(ctx.policy, source),
        needs="none" if isinstance(rule, AllOf | AnyOf | AtLeast | NotOf) else rule.needs, missing=[],
        depth=depth, parent=parent,
    )
    ctx.out.append(entry)
    if isinstance(rule, NotOf):
        inner = _evaluate_rule(rule.rule, ctx, depth + 1, rule.id)
        entry.status = _INVERT.get(inner, inner)
        entry.evidence = [_NOT_WORDS[inner]]
        return entry.status
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
        confirmed = "Attested by the prescriber." if rule.needs == "attestation" else (
            "Marked as documented on the checklist; the document goes with the request.")
        status, evidence = "met", [*evidence, confirmed]
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


def at_least(value: float, bound: float, inclusive: bool) -> bool:
    """value >= bound (inclusive) or value > bound (strict)."""
    return value >= bound if inclusive else value > bound


def at_most(value: float, bound: float, inclusive: bool) -> bool:
    """value <= bound (inclusive) or value < bound (strict)."""
    return value <= bound if inclusive else value < bound


def _ge_word(inclusive: bool) -> str:
    return "at least" if inclusive else "more than"


def _le_word(inclusive: bool) -> str:
    return "at most" if inclusive else "under"


def _age(case: CaseFacts, as_of: date) -> int | None:
    if case.birth_date is not None:
        born = case.birth_date
        return as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
    return case.age_years


def birthday(born: date, years: int) -> date:
    """The day a person born on `born` turns `years` (29 February birthdays fall on 1 March in other years)."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return date(born.year + years, 3, 1)


def _verdict(no: list[str], maybe: list[str]) -> str:
    return "no" if no else ("maybe" if maybe else "yes")


# ---------------------------------------------------------------- leaves


def _age_rule(rule: AgeRule, ctx: _Ctx) -> _Outcome:
    age = _age(ctx.case, ctx.as_of)
    if age is None:
        return "unknown", ["No birth date or age recorded."], ["birth date"]
    born = ctx.case.birth_date
    problems = []
    unsure = []
    if rule.min_years is not None:
        wanted = f"{'at least' if rule.min_inclusive else 'older than'} {rule.min_years}"
        if born is not None:
            turned = birthday(born, rule.min_years)
            if not (ctx.as_of >= turned if rule.min_inclusive else ctx.as_of > turned):
                problems.append(wanted)
        elif age < rule.min_years:
            problems.append(wanted)
        elif age == rule.min_years and not rule.min_inclusive:
            unsure.append(wanted)
    if rule.max_years is not None:
        wanted = f"{'at most' if rule.max_inclusive else 'younger than'} {rule.max_years}"
        limit = rule.max_years + 1 if rule.max_inclusive else rule.max_years
        if born is not None:
            if ctx.as_of >= birthday(born, limit):
                problems.append(wanted)
        elif age >= limit:
            problems.append(wanted)
    if problems:
        return "not_met", [f"Age {age} on {_d(ctx.as_of)}; the policy requires {' and '.join(problems)}."], []
    if unsure:
        return "unknown", [f"Age {age} on {_d(ctx.as_of)} (no birth date); the policy requires {unsure[0]}."], [
            "the birth date (the age in years alone cannot tell)"]
    return "met", [f"Age {age} on {_d(ctx.as_of)}."], []


def _code_matches(code: str, rule: DiagnosisRule, day: date) -> bool:
    return rule.code_accepted(code, day)


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
        if not _code_matches(dx.icd10, rule, ctx.as_of):
            no.append(f"its code is not one the policy accepts on {_d(ctx.as_of)}")
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
                if not at_least(months, rule.min_episode_months, rule.inclusive):
                    no.append(f"episode has lasted {months:.1f} months; {_ge_word(rule.inclusive)} "
                              f"{rule.min_episode_months} required")
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


def _latest_scores(ctx: _Ctx, instrument: str, within_days: int | None,
                   inclusive: bool = True) -> list[tuple[date, float]]:
    return sorted(
        (s.measured_on, s.score) for s in ctx.case.scores
        if s.instrument == instrument and s.measured_on <= ctx.as_of
        and (within_days is None or at_most((ctx.as_of - s.measured_on).days, within_days, inclusive))
    )


def _rating_score_rule(rule: RatingScoreRule, ctx: _Ctx) -> _Outcome:
    window = f" in the {rule.within_days} days before {_d(ctx.as_of)}" if rule.within_days else ""
    evidence: list[str] = []
    any_found = False
    met = False
    for threshold in rule.scores:
        scores = _latest_scores(ctx, threshold.instrument, rule.within_days, rule.inclusive)
        if not scores:
            older = _latest_scores(ctx, threshold.instrument, None)
            if older:
                day, value = older[-1]
                evidence.append(f"No {threshold.instrument} score{window}; the latest, {_fmt(value)} on {_d(day)}, "
                                "is older.")
            else:
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
    wanted: list[str] = []
    met = False
    computed = False
    for bound in rule.bounds():
        instrument = bound.instrument
        wanted.append(bound.describe())
        scores = _latest_scores(ctx, instrument, None)
        if len(scores) < 2:
            continue
        if started is not None:
            earliest = started - timedelta(days=rule.baseline_within_days) if rule.baseline_within_days is not None \
                else date.min
            before = [s for s in scores if earliest <= s[0] <= started]
            if not before:
                evidence.append(f"No {instrument} baseline" + (
                    f" in the {rule.baseline_within_days} days before esketamine started on {_d(started)}"
                    if rule.baseline_within_days is not None else f" on or before {_d(started)}") + ".")
                continue
            base_day, base = before[-1]
        else:
            base_day, base = scores[0]
        last_day, last = scores[-1]
        if last_day <= base_day or base <= 0:
            continue
        if rule.followup_within_days is not None and not at_most(
                (ctx.as_of - last_day).days, rule.followup_within_days, rule.inclusive):
            evidence.append(f"The latest {instrument}, {_fmt(last)} on {_d(last_day)}, is older than the "
                            f"{rule.followup_within_days} days the follow-up must fall in.")
            continue
        computed = True
        pct = (base - last) / base * 100
        ok = pct >= bound.at_least_pct if bound.at_least_pct is not None else pct > (bound.above_pct or 0)
        met = met or ok
        evidence.append(
            f"{instrument} {_fmt(base)} on {_d(base_day)} → {_fmt(last)} on {_d(last_day)}: "
            f"{pct:.0f}% improvement; {bound.describe()} is {'met' if ok else 'not met'}."
        )
    if met:
        return "met", evidence, []
    if not computed:
        names = " or ".join(dict.fromkeys(b.instrument for b in rule.bounds()))
        return "unknown", evidence or ["No baseline and follow-up score on the same instrument."], [
            f"a baseline and a follow-up {names} score ({' or '.join(wanted)})"
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
        elif not at_least(trial.adherence_pct, d.min_adherence_pct, d.inclusive):
            word = "is under" if d.inclusive else "is not above"
            no.append(f"adherence {_fmt(trial.adherence_pct)}% {word} {_fmt(d.min_adherence_pct)}%")
    if d.max_improvement_pct is not None and trial.outcome in ("non_response", "partial_response"):
        if trial.improvement_pct is None:
            maybe.append("the symptom improvement on a scale")
        elif not at_most(trial.improvement_pct, d.max_improvement_pct, d.inclusive):
            word = "more than" if d.inclusive else "at or above"
            no.append(
                f"improved {_fmt(trial.improvement_pct)}%, {word} the {_fmt(d.max_improvement_pct)}% "
                "that counts as non-response"
            )
    return no, maybe


def _check_trial(trial: TrialFact, rule: TrialsRule, ctx: _Ctx) -> _TrialCheck:
    info = ctx.drugs.info(trial.drug)
    no: list[str] = []
    maybe: list[str] = []
    role = trial.role if rule.role == "either" else rule.role
    if info is None:
        maybe.append(f"{trial.drug} is not in the drug reference data, so its class and doses cannot be checked")
    elif rule.allowed_classes:
        if info.drug_class not in rule.allowed_classes:
            no.append(f"class {info.drug_class} is not one of {', '.join(rule.allowed_classes)}")
    elif role == "antidepressant" and not info.is_antidepressant:
        no.append(f"{info.name} is not counted as an antidepressant")
    elif role == "augmentation" and not info.is_augmentation:
        no.append(f"{info.name} is not an augmentation agent")
    if trial.start_date is not None and trial.start_date > ctx.as_of:
        no.append(f"starts after {_d(ctx.as_of)}")
    if rule.lookback_years is not None:
        end = trial.end_date or ctx.as_of
        cutoff = _years_ago(ctx.as_of, rule.lookback_years)
        if trial.end_date is None and trial.start_date is None:
            maybe.append("the trial's dates (for the look-back)")
        elif not (end >= cutoff if rule.inclusive else end > cutoff):
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
    checks = [_check_trial(t, rule, ctx) for t in ctx.case.trials if rule.role in ("either", t.role)]
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
        roles = all(sum(1 for c in pool if c.trial.role == role) >= k for role, k in rule.min_by_role.items())
        return len(pool) >= rule.count and len(classes) >= rule.distinct_classes and current >= need_current \
            and roles

    sure = [c for c in by_agent.values() if c.verdict == "yes"]
    possible = [c for c in by_agent.values() if c.verdict != "no"]
    evidence = [_trial_line(c, rule) for c in checks]
    noun = {"augmentation": "augmentation trial", "antidepressant": "antidepressant trial"}.get(rule.role, "trial")
    sure_classes = len({c.info.drug_class for c in sure if c.info})
    summary = f"{len(sure)} qualifying {noun}{'s' if len(sure) != 1 else ''} of {rule.count} required"
    if rule.distinct_classes > 1:
        summary += f"; {sure_classes} distinct class{'es' if sure_classes != 1 else ''} of {rule.distinct_classes}"
    if need_current:
        in_episode = sum(1 for c in sure if c.trial.current_episode)
        summary += f"; {in_episode} in the current episode of {need_current}"
    for role, k in rule.min_by_role.items():
        have = sum(1 for c in sure if c.trial.role == role)
        summary += f"; {have} {role} of at least {k}"
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
            cutoff = _years_ago(ctx.as_of, rule.lookback_years)
            if not (end >= cutoff if rule.inclusive else end > cutoff):
                problems.append(f"ended {_d(end)}, outside the {_fmt(rule.lookback_years)}-year look-back")
        if rule.min_weeks is not None and course.start_date is not None:
            weeks = _weeks(course.start_date, min(course.end_date or ctx.as_of, ctx.as_of))
            if not at_least(weeks, rule.min_weeks, rule.inclusive):
                problems.append(f"lasted {weeks:.1f} weeks; {_ge_word(rule.inclusive)} {_fmt(rule.min_weeks)} "
                                "required")
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


_SCOPE_ROLES = {"antidepressants": ("antidepressant",), "augmentation": ("augmentation",),
                "both": ("antidepressant", "augmentation")}


def _failed_agents(ctx: _Ctx, scope: str) -> set[str]:
    names = set()
    roles = _SCOPE_ROLES[scope]
    for trial in ctx.case.trials:
        if trial.role in roles and trial.outcome in _FAILED_OUTCOMES:
            info = ctx.drugs.info(trial.drug)
            names.add(info.name if info else trial.drug.strip().lower())
    return names


def _current_antidepressant_rule(rule: CurrentAntidepressantRule, ctx: _Ctx) -> _Outcome:
    failed = _failed_agents(ctx, rule.failed_agents) if rule.not_failed_agent else set()
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
            elif not at_least((ctx.as_of - med.started_on).days, rule.min_stable_days, rule.inclusive):
                no.append(f"taken since {_d(med.started_on)}; {_ge_word(rule.inclusive)} {rule.min_stable_days} "
                          "days required")
        if rule.new_within_days is not None:
            if med.started_on is None:
                maybe.append("its start date")
            elif not at_most((ctx.as_of - med.started_on).days, rule.new_within_days, rule.inclusive):
                no.append(f"started {_d(med.started_on)}, not within {rule.new_within_days} days (newly started "
                          "with SPRAVATO)")
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
    if at_least(pct, rule.min_improvement_pct, rule.inclusive):
        return "met", [f"Esketamine used before with {_fmt(pct)}% improvement."], []
    wanted = _fmt(rule.min_improvement_pct)
    return "not_met", [f"Esketamine used before with {_fmt(pct)}% improvement; {_ge_word(rule.inclusive)} "
                       f"{wanted}% required."], []


def _inpatient_stay_rule(rule: InpatientStayRule, ctx: _Ctx) -> _Outcome:
    window = rule.discharged_within_days
    evidence: list[str] = []
    best = "no"
    for stay in ctx.case.inpatient_stays:
        no: list[str] = []
        maybe: list[str] = []
        if stay.reason not in rule.reasons:
            no.append(f"reason {stay.reason}")
        if stay.admitted_on > ctx.as_of:
            no.append(f"admitted after {_d(ctx.as_of)}")
        if stay.discharged_on is not None and window is not None and not at_most(
                (ctx.as_of - stay.discharged_on).days, window, rule.inclusive):
            no.append(f"discharged {_d(stay.discharged_on)}, not within {window} days")
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
        if at_least(days, rule.remission_min_days, rule.inclusive):
            return "met", [f"In remission since {_d(s.substance_remission_since)} ({days} days)."], []
        return "not_met", [
            f"In remission since {_d(s.substance_remission_since)} ({days} days); {_ge_word(rule.inclusive)} "
            f"{rule.remission_min_days} required."
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
    if minimum is not None and not at_least(minimum, wanted, rule.inclusive):
        no.append(f"The session log allows discharge {minimum} min after the first device, under the {wanted} min "
                  "the policy requires (clinic setting DESK_REMS_MIN_MONITORING_MINUTES).")
    sessions = rems.monitored_sessions
    shortest = rems.shortest_monitoring_minutes
    if sessions and shortest is not None and not at_least(shortest, wanted, rule.inclusive):
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
    if rule.within_days is not None and not at_most((ctx.as_of - checked).days, rule.within_days, rule.inclusive):
        return "not_met", [f"PDMP checked {_d(checked)}, not within {rule.within_days} days."], []
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


def _not_on_file_rule(rule: NotOnFileRule, _ctx: _Ctx) -> _Outcome:
    return "unknown", ["Our copy of the policy is cut off here; this criterion is not on file."], [
        f"the payer's wording of: {rule.text} (not on file; ask the payer)"
    ]


def _requested_regimen_rule(rule: RequestedRegimenRule, ctx: _Ctx) -> _Outcome:
    req = ctx.case.requested
    if req is None:
        return "unknown", ["No requested regimen on the case."], [_REGIMEN_MISSING]
    no: list[str] = []
    maybe: list[str] = []
    first = req.first_dose_mg or req.dose_mg
    if rule.first_dose_mg is not None:
        if req.first_dose_mg is None:
            maybe.append("the first session's dose")
        elif req.first_dose_mg != rule.first_dose_mg:
            no.append(f"first session {req.first_dose_mg} mg; the policy requires {rule.first_dose_mg} mg")
    highest = max(first or 0, req.dose_mg or 0) or None
    if rule.max_mg_per_session is not None:
        if highest is None:
            maybe.append("the dose per session")
        elif not at_most(highest, rule.max_mg_per_session, rule.inclusive):
            no.append(f"{highest} mg per session; {_le_word(rule.inclusive)} {rule.max_mg_per_session} mg allowed")
    if rule.max_sessions_per_week is not None:
        if req.sessions_per_week is None:
            maybe.append("sessions per week")
        elif not at_most(req.sessions_per_week, rule.max_sessions_per_week, rule.inclusive):
            no.append(f"{_fmt(req.sessions_per_week)} sessions a week; {_le_word(rule.inclusive)} "
                      f"{_fmt(rule.max_sessions_per_week)} allowed")
    if rule.max_mg_per_week is not None:
        if highest is None or req.sessions_per_week is None:
            maybe.append("the dose and sessions per week")
        else:
            weekly = highest * req.sessions_per_week
            if not at_most(weekly, rule.max_mg_per_week, rule.inclusive):
                no.append(f"{_fmt(weekly)} mg a week; {_le_word(rule.inclusive)} {rule.max_mg_per_week} mg allowed")
    if rule.max_devices is not None:
        devices, span = _devices_requested(req, rule.per_days)
        if devices is None:
            maybe.append("the dose, sessions per week and weeks requested")
        elif not at_most(devices, rule.max_devices, rule.inclusive):
            no.append(f"{devices} devices {span}; {_le_word(rule.inclusive)} {rule.max_devices} allowed")
    evidence = [f"Requested: {describe_regimen(req)}."]
    if no:
        return "not_met", [*evidence, *(n[0].upper() + n[1:] + "." for n in no)], []
    if maybe:
        return "unknown", evidence, [f"the requested regimen: {m}" for m in maybe]
    return "met", evidence, []


_REGIMEN_MISSING = "the requested regimen (first dose, dose, sessions per week, weeks)"


def _devices_requested(req: RequestedRegimen, per_days: int | None) -> tuple[int | None, str]:
    """Devices over the approval (per_days None) or the most in any `per_days` days of the request."""
    if per_days is None:
        return req.devices_total(), "over the request"
    sessions = req.sessions
    if sessions is None or req.dose_mg is None or req.sessions_per_week is None:
        return None, ""
    in_span = math.ceil(req.sessions_per_week * per_days / 7 - 1e-9)
    if sessions <= in_span:
        return req.devices_total(), f"in {per_days} days"
    # A window that leaves out the first session holds the most when later sessions are the larger dose.
    most = max(req.first_dose_mg or req.dose_mg, req.dose_mg) // _DEVICE_MG
    return in_span * most, f"in {per_days} days"


def describe_regimen(req: RequestedRegimen) -> str:
    """The requested regimen in words ("56 mg first, then 84 mg, 2 sessions a week for 4 weeks")."""
    parts = []
    if req.first_dose_mg and req.dose_mg and req.first_dose_mg != req.dose_mg:
        parts.append(f"{req.first_dose_mg} mg first, then {req.dose_mg} mg")
    elif req.dose_mg or req.first_dose_mg:
        parts.append(f"{req.dose_mg or req.first_dose_mg} mg per session")
    if req.sessions_per_week is not None:
        parts.append(f"{_fmt(req.sessions_per_week)} session{'s' if req.sessions_per_week != 1 else ''} a week")
    if req.weeks is not None:
        parts.append(f"for {req.weeks} week{'s' if req.weeks != 1 else ''}")
    return ", ".join(parts) or "nothing recorded"


def request_problems(variant: Variant, case: CaseFacts) -> list[str]:
    """Where the requested regimen exceeds the variant's dose caps or quantity caps (empty when it fits or no
    regimen is recorded). A request fits the dose caps when it fits any one of them."""
    req = case.requested
    if req is None:
        return []
    problems: list[str] = []
    caps = variant.approval.dose_caps
    highest = max(req.first_dose_mg or 0, req.dose_mg or 0)
    if caps and highest:
        reasons: list[str] = []
        for cap in caps:
            why = []
            if highest > cap.max_mg_per_session:
                why.append(f"{highest} mg per session over {cap.max_mg_per_session} mg")
            per_week = req.sessions_per_week
            if cap.max_sessions_per_week and per_week and per_week > cap.max_sessions_per_week:
                why.append(f"{_fmt(per_week)} sessions a week over {cap.max_sessions_per_week}")
            if cap.weeks and req.weeks and req.weeks > cap.weeks:
                why.append(f"{req.weeks} weeks over {cap.weeks}")
            if not why:
                reasons = []
                break
            reasons.append(", ".join(why))
        if reasons:
            problems.append("Dose cap: " + "; or ".join(reasons) + ".")
    for quantity in variant.approval.quantity_caps:
        devices, span = _devices_requested(req, quantity.per_days)
        if devices is not None and devices > quantity.devices:
            problems.append(f"Quantity cap: {devices} devices {span}, over {quantity.devices} per "
                            f"{quantity.per_days} days.")
    return problems


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
    RequestedRegimenRule: _requested_regimen_rule,
    NotOnFileRule: _not_on_file_rule,
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
