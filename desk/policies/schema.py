"""The payer policy file format: a validated model of one YAML file in payers/ (see payers/README.md)."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from desk.models.patients import CONCURRENT_THERAPIES, PLAN_TYPES
from desk.policies.clocks import DecisionClock, resolve_clock
from desk.validation import SCALE_RANGES

Indication = Literal["trd", "mdsi"]
Phase = Literal["initial", "continuation"]
Needs = Literal["documentation", "attestation", "none"]
TrialOutcome = Literal["non_response", "partial_response", "intolerance", "contraindicated"]
INDICATIONS: tuple[Indication, ...] = ("trd", "mdsi")
PHASES: tuple[Phase, ...] = ("initial", "continuation")
INDICATION_NAMES = {"trd": "treatment-resistant depression", "mdsi": "MDD with acute suicidal ideation or behavior"}
CONTRAINDICATIONS = ("aneurysmal_vascular_disease", "intracerebral_hemorrhage_history", "esketamine_hypersensitivity")
SPECIALTY_NAMES = ("psychiatrist", "psychiatric_np", "other")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# ICD-10-CM: a letter, two characters, then up to four more after an optional dot (F32.A, F33.40, F3340).
ICD10_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$")
ICD10_PREFIX_SHAPE = re.compile(r"^[A-Z][0-9]([0-9A-Z](\.?[0-9A-Z]{0,4})?)?$")
FailedScope = Literal["antidepressants", "augmentation", "both"]


def normalise_code(code: str) -> str:
    """An ICD-10 code compared without its dot and case: payers publish both F32.2 and F322."""
    return code.strip().upper().replace(".", "")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- criteria: shared fields


class _Node(_Strict):
    id: str = Field(description="unique within the file; lower-case letters, digits, - and _")
    text: str = Field(min_length=3, description="the requirement in plain language")

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("use lower-case letters, digits, '-' and '_' (e.g. trd-age)")
        return value


class _Leaf(_Node):
    source: str = Field(min_length=1, description="'<key of sources>: where in that source'")
    needs: Needs = "documentation"


# ---------------------------------------------------------------- groups


class AllOf(_Node):
    """Every rule below must be met."""

    kind: Literal["all"]
    source: str | None = None
    rules: list[Rule] = Field(min_length=1)


class AnyOf(_Node):
    """At least one rule below must be met."""

    kind: Literal["any"]
    source: str | None = None
    rules: list[Rule] = Field(min_length=1)


class AtLeast(_Node):
    """At least `n` of the rules below must be met."""

    kind: Literal["at_least"]
    n: int = Field(ge=1)
    source: str | None = None
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _n_fits(self) -> AtLeast:
        if self.n > len(self.rules):
            raise ValueError(f"n is {self.n} but only {len(self.rules)} rules are listed")
        return self


class NotOf(_Node):
    """The rule below must not be met ("no prior esketamine"); unknown and attest stay as they are."""

    kind: Literal["not"]
    source: str | None = None
    rule: Rule


# ---------------------------------------------------------------- leaves


class AgeRule(_Leaf):
    """Age on the evaluation date within bounds, by exact date of birth (inclusive unless *_inclusive is false):
    "over 18" (min_inclusive false) is met from the day after the 18th birthday, "at least 18" on it; "under 65"
    (max_inclusive false) until the day before the 65th birthday, "at most 65" until the day before the 66th."""

    kind: Literal["age"]
    min_years: int | None = Field(default=None, ge=0, le=120)
    min_inclusive: bool = True
    max_years: int | None = Field(default=None, ge=0, le=120)
    max_inclusive: bool = True

    @model_validator(mode="after")
    def _bounds(self) -> AgeRule:
        if self.min_years is None and self.max_years is None:
            raise ValueError("give min_years, max_years or both")
        if self.min_years is not None and self.max_years is not None and self.min_years > self.max_years:
            raise ValueError("min_years is above max_years")
        return self


class CodeItem(_Strict):
    """One code of a payer's list, counted only from/until the dates the payer gives (both inclusive)."""

    code: str = Field(min_length=1)
    accepted_from: date | None = None
    accepted_until: date | None = None

    @model_validator(mode="after")
    def _dates(self) -> CodeItem:
        if self.accepted_from and self.accepted_until and self.accepted_until < self.accepted_from:
            raise ValueError("accepted_until is before accepted_from")
        return self

    def accepted_on(self, day: date) -> bool:
        return (self.accepted_from is None or self.accepted_from <= day) and (
            self.accepted_until is None or day <= self.accepted_until)


def _as_items(value: object) -> object:
    if isinstance(value, list):
        return [{"code": v} if isinstance(v, str) else v for v in value]
    return value


class DiagnosisRule(_Leaf):
    """A current diagnosis matching codes/prefixes, method, DSM edition, episode shape, suicidality.

    Codes match with or without their dot; an item may carry accepted_from / accepted_until."""

    kind: Literal["diagnosis"]
    icd10_codes: list[CodeItem] = Field(default_factory=list)
    icd10_prefixes: list[CodeItem] = Field(default_factory=list)
    methods: list[Literal["clinical_interview", "structured_interview", "other"]] = Field(default_factory=list)
    dsm_editions: list[str] = Field(default_factory=list)
    episode_types: list[Literal["single", "recurrent"]] = Field(default_factory=list)
    exclude_psychotic_features: bool = False
    min_episode_months: int | None = Field(default=None, ge=1)
    inclusive: bool = True
    suicidal_ideation: bool = False

    _plain_codes: frozenset[str] = PrivateAttr(default=frozenset())
    _plain_prefixes: tuple[str, ...] = PrivateAttr(default=())

    @field_validator("icd10_codes", "icd10_prefixes", mode="before")
    @classmethod
    def _items(cls, value: object) -> object:
        return _as_items(value)

    def model_post_init(self, _context: object) -> None:
        # Codes without dates, normalised once: the common case needs no date check per evaluation.
        self._plain_codes = frozenset(normalise_code(c.code) for c in self.icd10_codes
                                      if c.accepted_from is None and c.accepted_until is None)
        self._plain_prefixes = tuple(normalise_code(c.code) for c in self.icd10_prefixes
                                     if c.accepted_from is None and c.accepted_until is None)

    def code_accepted(self, code: str, day: date) -> bool:
        """Whether a recorded code (dot or not) is one this rule accepts on `day`."""
        bare = normalise_code(code)
        if bare in self._plain_codes or bare.startswith(self._plain_prefixes):
            return True
        dated = [c for c in self.icd10_codes if (c.accepted_from or c.accepted_until) and c.accepted_on(day)]
        if any(bare == normalise_code(c.code) for c in dated):
            return True
        return any(bare.startswith(normalise_code(p.code)) for p in self.icd10_prefixes
                   if (p.accepted_from or p.accepted_until) and p.accepted_on(day))

    @model_validator(mode="after")
    def _codes(self) -> DiagnosisRule:
        if not self.icd10_codes and not self.icd10_prefixes:
            raise ValueError("give icd10_codes or icd10_prefixes (e.g. [F32, F33])")
        return self


class ScoreThreshold(_Strict):
    """One instrument and, optionally, a bound (at_least = >=, above = >, at_most = <=, below = <)."""

    instrument: str
    at_least: float | None = None
    above: float | None = None
    at_most: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _in_range(self) -> ScoreThreshold:
        if self.instrument not in SCALE_RANGES:
            raise ValueError(f"unknown instrument {self.instrument!r}; expected one of {', '.join(SCALE_RANGES)}")
        low, high = SCALE_RANGES[self.instrument]
        bounds = [v for v in (self.at_least, self.above, self.at_most, self.below) if v is not None]
        if len(bounds) > 1:
            raise ValueError("give at most one of at_least, above, at_most, below")
        for value in bounds:
            if not low <= value <= high:
                raise ValueError(f"{self.instrument} scores run from {low} to {high}; {value:g} is outside")
        return self

    def describe(self) -> str:
        for word, value in (("≥", self.at_least), (">", self.above), ("≤", self.at_most), ("<", self.below)):
            if value is not None:
                return f"{self.instrument} {word} {value:g}"
        return f"any {self.instrument} score"


class RatingScoreRule(_Leaf):
    """The latest score of any listed instrument meets its bound (optionally within the last N days)."""

    kind: Literal["rating_score"]
    scores: list[ScoreThreshold] = Field(min_length=1)
    within_days: int | None = Field(default=None, ge=1)
    inclusive: bool = Field(default=True, description="a score exactly within_days old counts (false: it does not)")


class ImprovementThreshold(_Strict):
    """One instrument and the improvement it needs: at_least_pct (>=) or above_pct (>); neither = any."""

    instrument: str
    at_least_pct: float | None = Field(default=None, ge=0, le=100)
    above_pct: float | None = Field(default=None, ge=0, le=100)

    @model_validator(mode="after")
    def _one(self) -> ImprovementThreshold:
        if self.instrument not in SCALE_RANGES:
            raise ValueError(f"unknown instrument {self.instrument!r}; expected one of {', '.join(SCALE_RANGES)}")
        if self.at_least_pct is not None and self.above_pct is not None:
            raise ValueError("give at most one of at_least_pct, above_pct")
        return self

    def describe(self) -> str:
        if self.at_least_pct is not None:
            return f"≥ {self.at_least_pct:g}% on the {self.instrument}"
        if self.above_pct is not None:
            return f"> {self.above_pct:g}% on the {self.instrument}"
        return f"any improvement on the {self.instrument}"


class ScoreImprovementRule(_Leaf):
    """Improvement from baseline to the latest score on a listed instrument, in percent.

    `instruments` + `min_improvement_pct` (+ `inclusive`) apply one threshold to every instrument; `thresholds`
    name a bound per instrument. The baseline is the last score on or before esketamine started (no more than
    `baseline_within_days` before it when given); the follow-up the latest score, no older than
    `followup_within_days` on the evaluation date when given."""

    kind: Literal["score_improvement"]
    instruments: list[str] = Field(default_factory=list)
    min_improvement_pct: float = Field(default=0.0, ge=0, le=100)
    inclusive: bool = True
    thresholds: list[ImprovementThreshold] = Field(default_factory=list)
    baseline_within_days: int | None = Field(default=None, ge=0)
    followup_within_days: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _some(self) -> ScoreImprovementRule:
        if not self.instruments and not self.thresholds:
            raise ValueError("give instruments or thresholds")
        if self.instruments and self.thresholds:
            raise ValueError("give instruments or thresholds, not both")
        return self

    _bounds: list[ImprovementThreshold] = PrivateAttr(default_factory=list)

    def model_post_init(self, _context: object) -> None:
        if self.thresholds:
            self._bounds = list(self.thresholds)
            return
        pct = self.min_improvement_pct
        key = "at_least_pct" if self.inclusive and pct > 0 else "above_pct"
        self._bounds = [ImprovementThreshold.model_validate({"instrument": i, key: pct}) for i in self.instruments]

    def bounds(self) -> list[ImprovementThreshold]:
        """One threshold per instrument (min_improvement_pct 0 = any improvement)."""
        return self._bounds

    @field_validator("instruments")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in SCALE_RANGES:
                raise ValueError(f"unknown instrument {name!r}; expected one of {', '.join(SCALE_RANGES)}")
        return value


class TrialDefinition(_Strict):
    """One way a single trial counts as a failure (a trial counts when any definition fits)."""

    label: str = ""
    outcomes: list[TrialOutcome] = Field(min_length=1)
    min_weeks: float | None = Field(default=None, gt=0, le=104)
    weeks_inclusive: bool = True
    dose: Literal["any", "min_therapeutic", "max_tolerated", "maximum"] = "any"
    min_adherence_pct: float | None = Field(default=None, ge=0, le=100)
    max_improvement_pct: float | None = Field(default=None, ge=0, le=100)
    inclusive: bool = Field(default=True, description="adherence and improvement bounds count at the bound")


class TrialsRule(_Leaf):
    """Enough failed trials: distinct agents, distinct classes, current episode, look-back, definitions."""

    kind: Literal["trials"]
    role: Literal["antidepressant", "augmentation", "either"] = "antidepressant"
    count: int = Field(ge=1, le=10)
    min_by_role: dict[Literal["antidepressant", "augmentation"], int] = Field(
        default_factory=dict, description='with role either: "3 agents, at least 1 augmentation" = {augmentation: 1}')
    distinct_classes: int = Field(default=1, ge=1, le=10)
    allowed_classes: list[str] = Field(default_factory=list)
    current_episode: Literal["all", "any"] | int = "any"
    lookback_years: float | None = Field(default=None, gt=0, le=50)
    inclusive: bool = Field(default=True, description="a trial ending exactly on the look-back cut-off counts")
    definitions: list[TrialDefinition] = Field(min_length=1)

    @model_validator(mode="after")
    def _coherent(self) -> TrialsRule:
        if self.min_by_role and self.role != "either":
            raise ValueError("min_by_role needs role: either")
        if sum(self.min_by_role.values()) > self.count or any(v < 1 for v in self.min_by_role.values()):
            raise ValueError("each min_by_role is at least 1 and together they cannot exceed count")
        if self.distinct_classes > self.count:
            raise ValueError("distinct_classes cannot exceed count")
        if isinstance(self.current_episode, int) and not 1 <= self.current_episode <= self.count:
            raise ValueError("current_episode as a number must be between 1 and count")
        return self


class PsychotherapyRule(_Leaf):
    """A psychotherapy course of a listed modality (any modality when the list is empty)."""

    kind: Literal["psychotherapy"]
    modalities: list[str] = Field(default_factory=list)
    count: int = Field(default=1, ge=1)
    current_episode: bool = False
    lookback_years: float | None = Field(default=None, gt=0, le=50)
    min_weeks: float | None = Field(default=None, gt=0)
    inclusive: bool = True


class CurrentAntidepressantRule(_Leaf):
    """An oral antidepressant taken now: stable N days, not a failed agent, or newly started."""

    kind: Literal["current_antidepressant"]
    min_stable_days: int | None = Field(default=None, ge=1)
    not_failed_agent: bool = False
    failed_agents: FailedScope = Field(default="antidepressants",
                                       description="which failed trials not_failed_agent looks at")
    new_within_days: int | None = Field(default=None, ge=0)
    inclusive: bool = True


class PriorEsketamineRule(_Leaf):
    """Esketamine used before, optionally with at least a given improvement."""

    kind: Literal["prior_esketamine"]
    min_improvement_pct: float | None = Field(default=None, ge=0, le=100)
    inclusive: bool = True


class InpatientStayRule(_Leaf):
    """A psychiatric stay now or discharged within N days (no window when N is not given)."""

    kind: Literal["inpatient_stay"]
    reasons: list[str] = Field(default_factory=lambda: ["suicidality"])
    discharged_within_days: int | None = Field(default=None, ge=0)
    inclusive: bool = True
    esketamine_started: bool = False


class SubstanceUseRule(_Leaf):
    """No current substance use disorder; remission of at least N days counts as none."""

    kind: Literal["substance_use"]
    remission_min_days: int | None = Field(default=None, ge=0)
    inclusive: bool = True
    treated_counts: bool = False


class ConcurrentTherapyRule(_Leaf):
    """None of the listed therapies is being received now."""

    kind: Literal["concurrent_therapy"]
    excluded: list[str] = Field(min_length=1)

    @field_validator("excluded")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in CONCURRENT_THERAPIES:
                raise ValueError(f"unknown therapy {name!r}; expected one of {', '.join(CONCURRENT_THERAPIES)}")
        return value


class ContraindicationRule(_Leaf):
    """None of the listed label contraindications (PI §4)."""

    kind: Literal["contraindications"]
    items: list[Literal["aneurysmal_vascular_disease", "intracerebral_hemorrhage_history",
                        "esketamine_hypersensitivity"]] = Field(min_length=1)


class PsychosisRule(_Leaf):
    """No history of psychosis."""

    kind: Literal["no_psychosis_history"]


class PrescriberRule(_Leaf):
    """The prescriber's specialty is accepted, or (when allowed) such a specialist was consulted."""

    kind: Literal["prescriber"]
    specialties: list[Literal["psychiatrist", "psychiatric_np", "other"]] = Field(min_length=1)
    consultation_counts: bool = False


class RemsSettingRule(_Leaf):
    """The treating outpatient setting is REMS certified."""

    kind: Literal["rems_setting"]


class RemsEnrollmentRule(_Leaf):
    """The patient is enrolled in the SPRAVATO REMS (enrollment form signed by both and submitted)."""

    kind: Literal["rems_enrollment"]


class RemsMonitoringRule(_Leaf):
    """Each dose is followed by at least `min_minutes` of monitoring in a REMS-certified setting."""

    kind: Literal["rems_monitoring"]
    min_minutes: int = Field(default=120, ge=1, le=1440, description="monitoring from the first device, in minutes")
    inclusive: bool = True


class PdmpRule(_Leaf):
    """The state prescription drug monitoring program was checked (within N days when given)."""

    kind: Literal["pdmp_checked"]
    within_days: int | None = Field(default=None, ge=1)
    inclusive: bool = True


class PreviousApprovalRule(_Leaf):
    """SPRAVATO was approved before by this payer (continuation requests)."""

    kind: Literal["previous_approval"]


class AttestationRule(_Leaf):
    """A manual item staff confirm (pharmacy certification, supervision, benefit over risk, ...)."""

    kind: Literal["attestation"]
    needs: Needs = "attestation"


class RequestedRegimenRule(_Leaf):
    """What the request asks for (the PA case's requested regimen) fits the payer's limits.

    Devices hold 28 mg each; a regimen of `sessions_per_week` for `weeks` with `first_dose_mg` then `dose_mg`."""

    kind: Literal["requested_regimen"]
    max_mg_per_session: int | None = Field(default=None, ge=28, le=84)
    max_mg_per_week: int | None = Field(default=None, ge=28)
    max_sessions_per_week: float | None = Field(default=None, gt=0, le=7)
    max_devices: int | None = Field(default=None, ge=1)
    per_days: int | None = Field(default=None, ge=1, description="devices per N days; none = per approval")
    first_dose_mg: Literal[28, 56, 84] | None = Field(default=None, description="the first session's dose")
    inclusive: bool = Field(default=True, description="a request exactly at a maximum fits (false: it must be under)")

    @model_validator(mode="after")
    def _something(self) -> RequestedRegimenRule:
        if all(v is None for v in (self.max_mg_per_session, self.max_mg_per_week, self.max_sessions_per_week,
                                   self.max_devices, self.first_dose_mg)):
            raise ValueError("give at least one of max_mg_per_session, max_mg_per_week, max_sessions_per_week, "
                             "max_devices, first_dose_mg")
        if self.per_days is not None and self.max_devices is None:
            raise ValueError("per_days needs max_devices")
        return self


class NotOnFileRule(_Leaf):
    """A criterion the payer has but our copy of the policy does not show (cut off): always unknown."""

    kind: Literal["not_on_file"]
    needs: Needs = "documentation"


Leaf = (
    AgeRule | DiagnosisRule | RatingScoreRule | ScoreImprovementRule | TrialsRule | PsychotherapyRule
    | CurrentAntidepressantRule | PriorEsketamineRule | InpatientStayRule | SubstanceUseRule
    | ConcurrentTherapyRule | ContraindicationRule | PsychosisRule | PrescriberRule | RemsSettingRule
    | RemsEnrollmentRule | RemsMonitoringRule | PdmpRule | PreviousApprovalRule | AttestationRule
    | RequestedRegimenRule | NotOnFileRule
)
Rule = Annotated[AllOf | AnyOf | AtLeast | NotOf | Leaf, Field(discriminator="kind")]
Group = AllOf | AnyOf | AtLeast | NotOf
GROUP_KINDS = ("all", "any", "at_least", "not")
RULE_KINDS: tuple[str, ...] = (
    "all", "any", "at_least", "not", "age", "diagnosis", "rating_score", "score_improvement", "trials", "psychotherapy",
    "current_antidepressant", "prior_esketamine", "inpatient_stay", "substance_use", "concurrent_therapy",
    "contraindications", "no_psychosis_history", "prescriber", "rems_setting", "rems_enrollment", "rems_monitoring",
    "pdmp_checked", "previous_approval", "attestation", "requested_regimen", "not_on_file",
)
for _group in (AllOf, AnyOf, AtLeast, NotOf):
    _group.model_rebuild()


# ---------------------------------------------------------------- policy level


class SourceRef(_Strict):
    """A document a criterion cites."""

    title: str
    url: str = Field(default="", pattern=r"^(https?://\S+)?$")
    kind: Literal["primary", "secondary"]
    accessed: date | None = None
    note: str = ""


class Gap(_Strict):
    """One part of the policy not on file; with `variants` (e.g. [mdsi/initial]) only those requests are affected."""

    text: str = Field(min_length=3)
    variants: list[str] = Field(default_factory=list)

    def applies_to(self, key: str) -> bool:
        return not self.variants or any(key == v or key.startswith(v + "/") for v in self.variants)


class Completeness(_Strict):
    status: Literal["complete", "incomplete"]
    missing: list[str | Gap] = Field(default_factory=list)
    _gaps: list[Gap] = PrivateAttr(default_factory=list)

    def model_post_init(self, _context: object) -> None:
        # Built once: every evaluation asks for the gaps.
        self._gaps = [Gap(text=m) if isinstance(m, str) else m for m in self.missing]

    def items(self) -> list[Gap]:
        return self._gaps

    @model_validator(mode="after")
    def _say_what(self) -> Completeness:
        if self.status == "incomplete" and not self.missing:
            raise ValueError("an incomplete policy must list what is missing")
        if self.status == "complete" and self.missing:
            raise ValueError("a complete policy lists nothing under missing")
        return self


class Position(_Strict):
    status: Literal["covered_with_pa", "not_medically_necessary", "not_covered"] = "covered_with_pa"
    note: str = ""


class Channel(_Strict):
    channel: Literal["fax", "portal", "phone", "epa", "mail"]
    number: str = ""
    url: str = ""
    note: str = ""

    @model_validator(mode="after")
    def _reachable(self) -> Channel:
        if self.channel in ("fax", "phone") and not self.number:
            raise ValueError(f"a {self.channel} channel needs a number")
        return self


class BillingCode(_Strict):
    code: str = Field(pattern=r"^(J0013|S0013|G2082|G2083|99\d{3}|G2212)$")
    accepted_from: date | None = None
    accepted_until: date | None = None
    # The payer wants this code on every request (e.g. "G2082 whatever the dose"); desk/prior_auth/billing.py.
    required: bool = False
    note: str = ""


class Length(_Strict):
    value: int = Field(gt=0)
    unit: Literal["days", "months"]

    def describe(self) -> str:
        return f"{self.value} {self.unit if self.value != 1 else self.unit[:-1]}"


class QuantityCap(_Strict):
    devices: int = Field(gt=0)
    per_days: int = Field(gt=0)
    note: str = ""


class DoseCap(_Strict):
    max_mg_per_session: Literal[28, 56, 84]
    max_sessions_per_week: int | None = Field(default=None, ge=1, le=7)
    weeks: int | None = Field(default=None, ge=1)
    note: str = ""


class Approval(_Strict):
    length: Length | None = None
    length_note: str = ""
    quantity_caps: list[QuantityCap] = Field(default_factory=list)
    dose_caps: list[DoseCap] = Field(default_factory=list)
    source: str = ""


class Variant(_Strict):
    """Criteria for one indication and phase (and, when the payer has both, one benefit)."""

    indication: Indication
    phase: Phase
    benefit: Literal["medical", "pharmacy"] | None = Field(
        default=None, description="only for coverages under this benefit; none = any benefit")
    criteria_from: str | None = Field(
        default=None, pattern=r"^(trd|mdsi)/(initial|continuation)(/(medical|pharmacy))?$",
        description="share another variant's criteria: indication/phase[/benefit]")
    position: Literal["covered_with_pa", "not_covered"] = "covered_with_pa"
    incomplete: str = ""
    approval: Approval = Field(default_factory=Approval)
    required_documents: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    criteria: Rule | None = None

    @model_validator(mode="after")
    def _criteria_when_covered(self) -> Variant:
        if self.criteria_from is not None and self.criteria is not None:
            raise ValueError("give criteria or criteria_from, not both")
        if self.position == "covered_with_pa" and self.criteria is None and self.criteria_from is None:
            raise ValueError("a covered variant needs criteria (or criteria_from)")
        return self

    @property
    def key(self) -> str:
        return f"{self.indication}/{self.phase}" + (f"/{self.benefit}" if self.benefit else "")


class Policy(_Strict):
    """One payer policy file."""

    id: str
    payer: str = Field(min_length=2)
    plan_types: list[str] = Field(min_length=1)
    benefit: Literal["medical", "pharmacy", "unstated"]
    benefit_note: str = ""
    policy_number: str = ""
    title: str
    version: str = ""
    effective_date: date | None = None
    source_url: str = Field(default="", pattern=r"^(https?://\S+)?$")
    reviewed_on: date
    completeness: Completeness
    position: Position = Field(default_factory=Position)
    submission: list[Channel] = Field(default_factory=list)
    form_template: str = "generic-pa-request"
    decision_clocks: dict[str, DecisionClock] = Field(
        default_factory=dict, description="by plan type; a plan type not listed uses its documented default")
    renewal_lead_days: int | None = Field(
        default=None, strict=True, ge=1, le=365,
        description="days before an authorization ends to start the renewal; none = the clinic's setting")
    billing_codes: list[BillingCode] = Field(default_factory=list)
    sources: dict[str, SourceRef] = Field(min_length=1)
    variants: list[Variant] = Field(default_factory=list)
    # The evaluator's prepared criteria per request (desk/policies/evaluator.py), filled on first use.
    _evaluation_cache: dict[tuple[str, str, str | None], Any] = PrivateAttr(default_factory=dict)

    @property
    def evaluation_cache(self) -> dict[tuple[str, str, str | None], Any]:
        """Where the evaluator keeps what it prepares from this file once (the file is immutable once loaded)."""
        private = self.__pydantic_private__  # read directly: attribute access to a private goes through __getattr__
        assert private is not None
        cache: dict[tuple[str, str, str | None], Any] = private["_evaluation_cache"]
        return cache

    _content_hash: tuple[object, str] | None = PrivateAttr(default=None)

    def content_hash(self) -> str:
        """SHA-256 of the validated file's content, worked out once (keys of kept evaluations)."""
        found = self._content_hash
        if found is not None and found[0] is self:  # a model_copy carries the original's: work it out again
            return found[1]
        digest = hashlib.sha256(self.model_dump_json().encode()).hexdigest()
        self._content_hash = (self, digest)
        return digest

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("use lower-case letters, digits, '-' and '_'")
        return value

    @field_validator("plan_types")
    @classmethod
    def _plan_types(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in PLAN_TYPES:
                raise ValueError(f"unknown plan type {name!r}; expected one of {', '.join(PLAN_TYPES)}")
        return value

    @field_validator("decision_clocks")
    @classmethod
    def _clock_plan_types(cls, value: dict[str, DecisionClock]) -> dict[str, DecisionClock]:
        for name in value:
            if name not in PLAN_TYPES:
                raise ValueError(f"unknown plan type {name!r}; expected one of {', '.join(PLAN_TYPES)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        by_key: dict[str, Variant] = {}
        for variant in self.variants:
            if variant.key in by_key:
                raise ValueError(f"two variants for {variant.key}")
            by_key[variant.key] = variant
        if self.position.status == "covered_with_pa" and not self.variants:
            raise ValueError("a policy that covers with prior authorization needs at least one variant")
        resolved = []
        for index, variant in enumerate(self.variants):
            if variant.criteria_from is not None:
                shared = by_key.get(variant.criteria_from)
                if shared is None or shared.criteria is None:
                    raise ValueError(f"variants[{index}].criteria_from: no variant {variant.criteria_from} with its "
                                     f"own criteria in this file (have: {', '.join(by_key)})")
                variant = variant.model_copy(update={"criteria": shared.criteria})
            resolved.append(variant)
        # Shared criteria are copied in once here, so every reader sees a variant with its criteria.
        object.__setattr__(self, "variants", resolved)
        return self

    def variant(self, indication: str, phase: str, benefit: str | None = None) -> Variant | None:
        """The variant for the indication and phase; a benefit-specific one when the coverage's benefit has one."""
        found = [v for v in self.variants if v.indication == indication and v.phase == phase]
        for variant in found:
            if benefit is not None and variant.benefit == benefit:
                return variant
        for variant in found:
            if variant.benefit is None:
                return variant
        return None

    def benefit_variants(self, indication: str, phase: str) -> list[Variant]:
        """The benefit-specific variants for the indication and phase."""
        return [v for v in self.variants if v.indication == indication and v.phase == phase and v.benefit]

    @property
    def incomplete(self) -> bool:
        return self.completeness.status == "incomplete"

    def clock_for(self, plan_type: str | None) -> DecisionClock | None:
        """This file's clock for the plan type (its first plan type when None), else the documented default."""
        return resolve_clock(self.decision_clocks, plan_type or self.plan_types[0])

    def clocks_by_plan_type(self) -> list[tuple[str, DecisionClock | None]]:
        """Each plan type the file lists or sets a clock for, with the clock that applies (None: none known)."""
        names = list(self.plan_types) + [n for n in self.decision_clocks if n not in self.plan_types]
        return [(name, self.clock_for(name)) for name in names]


def walk(rule: Rule) -> list[Rule]:
    """The rule and every rule below it, depth first."""
    found: list[Rule] = [rule]
    for child in children(rule):
        found.extend(walk(child))
    return found


def children(rule: Rule) -> list[Rule]:
    """The rules directly below a group (none below a leaf)."""
    if isinstance(rule, AllOf | AnyOf | AtLeast):
        return list(rule.rules)
    if isinstance(rule, NotOf):
        return [rule.rule]
    return []


def source_words(policy: Policy | None, source: str) -> str:
    """A criterion's source ('<key of sources>: where in it') as a reader names it: the cited document's title, then
    where in it ('pw: TRD initial' -> 'pharmacistwrite coverage summary, Cigna / Spravato — TRD initial')."""
    key, colon, where = source.partition(":")
    ref = policy.sources.get(key.strip()) if policy is not None and colon else None
    if ref is None:
        return source.strip()
    return ref.title + (f" — {where.strip()}" if where.strip() else "")
