"""The facts of a case that outgoing documents may state, each typed and carrying where in the record it comes from.

These are plain values (no database access): desk/prior_auth/compose.py collects them from the record,
desk/prior_auth/wording.py turns them into sentences. A document never reads the record itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from desk.prior_auth.billing import BillingDecision

CriterionStatus = Literal["met", "attested", "excepted", "not_met", "unknown", "attest"]
Conclusion = Literal["met", "met_by_attestation", "met_by_exception", "open"]
Episode = Literal["current", "earlier", "unknown"]


@dataclass(frozen=True)
class PatientFacts:
    first_name: str
    middle_initial: str
    last_name: str
    dob: date
    sex: str
    phone: str
    address_line: str
    city: str
    state: str
    zip_code: str
    mrn: str
    source: str = "patient record: demographics"

    @property
    def name(self) -> str:
        middle = f" {self.middle_initial}." if self.middle_initial else ""
        return f"{self.first_name}{middle} {self.last_name}"


@dataclass(frozen=True)
class PrescriberFacts:
    """The prescriber signs and attests everything the desk sends."""

    first_name: str
    last_name: str
    credentials: str
    npi: str
    specialty: str
    phone: str
    fax: str
    email: str
    source: str = "patient record: prescriber"

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}" + (f", {self.credentials}" if self.credentials else "")


@dataclass(frozen=True)
class SiteFacts:
    name: str
    address_line: str
    city: str
    state: str
    zip_code: str
    phone: str
    fax: str
    npi: str
    tin: str
    address_line2: str = ""
    source: str = "site record"


@dataclass(frozen=True)
class RemsFacts:
    """The setting's certification on the service date and the patient's REMS enrollment."""

    service_date: date
    setting_id: str
    certified_on: date | None
    certified_until: date | None
    patient_enrolled_on: date | None
    enrollment_confirmation: str
    enrollment_missing: tuple[str, ...]
    source: str = "site record: REMS certification; REMS patient enrollment"

    @property
    def setting_certified(self) -> bool:
        return bool(self.setting_id) and self.certified_on is not None and self.certified_on <= self.service_date \
            and (self.certified_until is None or self.service_date <= self.certified_until)

    @property
    def patient_enrolled(self) -> bool:
        return self.patient_enrolled_on is not None and not self.enrollment_missing


@dataclass(frozen=True)
class CoverageFacts:
    payer_id: str
    payer_name: str
    plan_type: str
    plan_label: str
    benefit: str
    member_id: str
    group_number: str
    payer_fax: str
    payer_phone: str
    source: str = "patient record: coverage; payer file"


@dataclass(frozen=True)
class DiagnosisFacts:
    code: str
    description: str
    episode_start: date | None
    source: str = "patient record: diagnoses"


@dataclass(frozen=True)
class TrialFacts:
    drug: str
    role: str
    daily_dose_mg: float
    start_date: date
    end_date: date | None
    adherence_pct: float | None
    outcome: str
    improvement_pct: float | None
    episode: Episode
    source: str = "patient record: medication trials"

    @property
    def weeks(self) -> int | None:
        return round((self.end_date - self.start_date).days / 7) if self.end_date else None


@dataclass(frozen=True)
class ScoreFacts:
    instrument: str
    score: float
    measured_on: date
    source: str = "patient record: rating scales"


@dataclass(frozen=True)
class MedicationFacts:
    drug: str
    daily_dose_mg: float | None
    source: str = "patient record: current medications"


@dataclass(frozen=True)
class SignoffFacts:
    """An attestation (by the prescriber) or an exception request, with its note and date."""

    note: str
    on: date
    source: str = "case: attestations and exceptions"


@dataclass(frozen=True)
class CriterionFacts:
    text: str
    status: CriterionStatus
    evidence: tuple[str, ...]
    attestation: SignoffFacts | None = None
    exception: SignoffFacts | None = None
    source: str = "payer file criteria evaluated on the record"


@dataclass(frozen=True)
class RequestFacts:
    indication: str
    phase: str
    urgency: str
    dose_mg: int
    devices_per_session: int
    ndc: str
    sessions: int
    start_on: date
    frequency: str
    duration: str
    billing: BillingDecision
    first_session_mg: int | None = None
    deviation_reason: str = ""
    deviations: tuple[str, ...] = ()
    source: str = "case: request"


@dataclass(frozen=True)
class DenialFacts:
    denied_on: date | None
    reference: str
    reason: str
    source: str = "case: denial"


@dataclass(frozen=True)
class CaseFacts:
    """Everything an outgoing document of one case may say."""

    reference: str
    prepared_on: date
    patient: PatientFacts
    coverage: CoverageFacts
    prescriber: PrescriberFacts | None
    site: SiteFacts | None
    rems: RemsFacts
    request: RequestFacts
    diagnoses: tuple[DiagnosisFacts, ...]
    episode_start: date | None
    trials: tuple[TrialFacts, ...]
    scores: tuple[ScoreFacts, ...]
    current_antidepressants: tuple[MedicationFacts, ...]
    policy_title: str
    criteria: tuple[CriterionFacts, ...]
    conclusion: Conclusion
    denial: DenialFacts | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def appeal(self) -> bool:
        return self.denial is not None
