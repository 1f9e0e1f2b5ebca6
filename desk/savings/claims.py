"""Claims and rebates per treatment date: amounts, status, running totals and limit warnings.

A claim counts against the year of its service date (terms reset each calendar year, domain notes §4).
Benefit used = the paid amount of paid claims plus the savings applied of claims still open; denied and
void claims do not count. Drug claims also count their devices against the device limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from desk.errors import FieldError, NotFound, ValidationFailed
from desk.models import CLAIM_KINDS, CLAIM_METHODS, SavingsClaim, SavingsDocument, TreatmentSession
from desk.records import check_version, flush_edit
from desk.savings.eligibility import patient_eligibility
from desk.savings.enrollment import enrollment_for_service
from desk.savings.limits import DeviceLimits, devices_allowed_on, new_violations
from desk.savings.money import format_cents
from desk.savings.terms import ProgramTerms, terms_for_year

COUNTING_STATUSES = ("draft", "submitted", "paid")
EDITABLE_STATUSES = ("draft", "denied")
KIND_LABELS = {"drug": "drug benefit", "observation": "observation rebate"}


class LimitsNotAcknowledged(ValidationFailed):
    """The claim would exceed a yearly maximum or a device limit and the user has not confirmed it."""


@dataclass(frozen=True)
class ClaimAmounts:
    """The money on one claim, in cents, as read from the claim form and the EOB."""

    billed_cents: int
    insurance_paid_cents: int
    patient_responsibility_cents: int
    savings_applied_cents: int | None = None


@dataclass(frozen=True)
class BenefitTotals:
    """One benefit's running total for a year."""

    kind: str
    maximum_cents: int | None
    used_cents: int
    claims: int

    @property
    def remaining_cents(self) -> int | None:
        return None if self.maximum_cents is None else max(self.maximum_cents - self.used_cents, 0)

    @property
    def used_pct(self) -> float | None:
        if not self.maximum_cents:
            return None
        return 100.0 * self.used_cents / self.maximum_cents


@dataclass(frozen=True)
class YearTotals:
    """A patient's totals for one program year."""

    year: int
    drug: BenefitTotals
    observation: BenefitTotals
    devices_used: int
    terms: ProgramTerms

    def for_kind(self, kind: str) -> BenefitTotals:
        return self.drug if kind == "drug" else self.observation


@dataclass(frozen=True)
class ClaimPreview:
    """What recording a claim would do: warnings to confirm, the savings it applies, what remains."""

    warnings: tuple[str, ...]
    savings_applied_cents: int
    remaining_before_cents: int | None
    remaining_after_cents: int | None
    devices_allowed: int


def device_limits(terms: ProgramTerms) -> DeviceLimits:
    return DeviceLimits(
        per_day=terms.max_devices_per_day,
        initial_days=terms.initial_window_days,
        initial_devices=terms.initial_window_devices,
        later_days=terms.later_window_days,
        later_devices=terms.later_window_devices,
    )


def counted_value(claim: SavingsClaim) -> int:
    """What a claim takes from the yearly maximum."""
    if claim.status == "paid" and claim.paid_cents is not None:
        return claim.paid_cents
    return claim.savings_applied_cents


def claims_for(session: Session, *, patient_id: int, year: int | None = None) -> list[SavingsClaim]:
    """The patient's claims (of one year when given), newest service date first."""
    query = select(SavingsClaim).where(SavingsClaim.patient_id == patient_id)
    if year is not None:
        query = query.where(
            SavingsClaim.service_date >= date(year, 1, 1), SavingsClaim.service_date <= date(year, 12, 31)
        )
    return list(session.exec(query.order_by(col(SavingsClaim.service_date).desc(), col(SavingsClaim.id).desc())).all())


def _counting(claims: list[SavingsClaim], exclude_claim_id: int | None) -> list[SavingsClaim]:
    return [c for c in claims if c.status in COUNTING_STATUSES and c.id != exclude_claim_id]


def device_usage(claims: list[SavingsClaim]) -> dict[date, int]:
    usage: dict[date, int] = {}
    for claim in claims:
        if claim.kind == "drug" and claim.devices > 0:
            usage[claim.service_date] = usage.get(claim.service_date, 0) + claim.devices
    return usage


def yearly_totals(
    session: Session, *, patient_id: int, year: int, exclude_claim_id: int | None = None
) -> YearTotals:
    """Running totals of the year against its maximums (optionally leaving one claim out, for edits)."""
    terms = terms_for_year(session, year=year)
    counting = _counting(claims_for(session, patient_id=patient_id, year=year), exclude_claim_id)
    drug = [c for c in counting if c.kind == "drug"]
    observation = [c for c in counting if c.kind == "observation"]
    return YearTotals(
        year=year,
        drug=BenefitTotals("drug", terms.drug_benefit_max_cents, sum(counted_value(c) for c in drug), len(drug)),
        observation=BenefitTotals(
            "observation",
            terms.observation_rebate_max_cents,
            sum(counted_value(c) for c in observation),
            len(observation),
        ),
        devices_used=sum(c.devices for c in drug),
        terms=terms,
    )


def expected_savings(*, kind: str, patient_responsibility_cents: int, terms: ProgramTerms,
                     remaining_cents: int | None) -> int:
    """The savings the program should apply: what the patient owes above the program's patient cost, capped."""
    patient_pays = terms.patient_cost_per_treatment_cents if kind == "drug" else 0
    amount = max(patient_responsibility_cents - patient_pays, 0)
    return amount if remaining_cents is None else min(amount, remaining_cents)


def preview_claim(
    session: Session,
    *,
    patient_id: int,
    service_date: date,
    kind: str,
    devices: int,
    patient_responsibility_cents: int,
    savings_applied_cents: int | None = None,
    exclude_claim_id: int | None = None,
) -> ClaimPreview:
    """The warnings a claim would raise before it is recorded: yearly maximum and device limits."""
    year = service_date.year
    totals = yearly_totals(session, patient_id=patient_id, year=year, exclude_claim_id=exclude_claim_id)
    benefit = totals.for_kind(kind)
    remaining = benefit.remaining_cents
    savings = (
        savings_applied_cents
        if savings_applied_cents is not None
        else expected_savings(kind=kind, patient_responsibility_cents=patient_responsibility_cents,
                              terms=totals.terms, remaining_cents=remaining)
    )
    warnings: list[str] = []
    unconfirmed = " (unconfirmed program figure)"
    if remaining is not None and savings > remaining:
        field_name = "drug_benefit_max_cents" if kind == "drug" else "observation_rebate_max_cents"
        mark = unconfirmed if totals.terms.is_unconfirmed(field_name) else ""
        warnings.append(
            f"Savings of {format_cents(savings)} exceed the remaining {KIND_LABELS[kind]} of "
            f"{format_cents(remaining)} for {year} (yearly maximum {format_cents(benefit.maximum_cents)}{mark})."
        )
    limits = device_limits(totals.terms)
    counting = _counting(claims_for(session, patient_id=patient_id, year=year), exclude_claim_id)
    usage = device_usage(counting)
    if kind == "drug":
        window_fields = ("initial_window_days", "initial_window_devices", "later_window_days", "later_window_devices")
        mark = unconfirmed if any(totals.terms.is_unconfirmed(f) for f in window_fields) else ""
        for violation in new_violations(usage=usage, service_date=service_date, devices=devices, limits=limits):
            warnings.append(violation.message(limits) + (mark if violation.rule != "day" else ""))
    after = None if remaining is None else remaining - savings
    return ClaimPreview(
        warnings=tuple(warnings),
        savings_applied_cents=savings,
        remaining_before_cents=remaining,
        remaining_after_cents=after,
        devices_allowed=devices_allowed_on(usage=usage, service_date=service_date, limits=limits),
    )


def _amount_errors(amounts: ClaimAmounts) -> list[FieldError]:
    errors: list[FieldError] = []
    named = {
        "billed": amounts.billed_cents,
        "insurance_paid": amounts.insurance_paid_cents,
        "patient_responsibility": amounts.patient_responsibility_cents,
        "savings_applied": amounts.savings_applied_cents,
    }
    for name, value in named.items():
        if value is not None and value < 0:
            errors.append(FieldError(name, "cannot be negative"))
    if errors:
        return errors
    if amounts.insurance_paid_cents > amounts.billed_cents:
        errors.append(FieldError(
            "insurance_paid",
            f"insurance paid ({format_cents(amounts.insurance_paid_cents)}) cannot exceed the billed amount "
            f"({format_cents(amounts.billed_cents)})",
        ))
    elif amounts.patient_responsibility_cents > amounts.billed_cents - amounts.insurance_paid_cents:
        errors.append(FieldError(
            "patient_responsibility",
            "cannot exceed the billed amount less what insurance paid "
            f"({format_cents(amounts.billed_cents - amounts.insurance_paid_cents)})",
        ))
    if (amounts.savings_applied_cents is not None
            and amounts.savings_applied_cents > amounts.patient_responsibility_cents):
        errors.append(FieldError(
            "savings_applied",
            f"cannot exceed the patient responsibility ({format_cents(amounts.patient_responsibility_cents)})",
        ))
    return errors


def _session_errors(session: Session, *, session_id: int | None, patient_id: int, service_date: date,
                    kind: str, devices: int) -> list[FieldError]:
    if session_id is None:
        return []
    treatment = session.get(TreatmentSession, session_id)
    if treatment is None or treatment.patient_id != patient_id:
        return [FieldError("session_id", "no treatment session of this patient has that number")]
    errors: list[FieldError] = []
    if treatment.session_date != service_date:
        errors.append(FieldError("service_date", f"the linked session was on {treatment.session_date:%m/%d/%Y}"))
    if kind == "drug" and treatment.devices != devices:
        errors.append(FieldError("devices", f"the linked session recorded {treatment.devices} devices"))
    return errors


def _duplicate(session: Session, *, patient_id: int, service_date: date, kind: str,
               exclude_claim_id: int | None) -> SavingsClaim | None:
    for claim in session.exec(
        select(SavingsClaim).where(
            SavingsClaim.patient_id == patient_id,
            SavingsClaim.service_date == service_date,
            SavingsClaim.kind == kind,
            SavingsClaim.status != "void",
        )
    ).all():
        if claim.id != exclude_claim_id:
            return claim
    return None


def record_claim(
    session: Session,
    *,
    patient_id: int,
    service_date: date,
    kind: str,
    devices: int,
    method: str,
    amounts: ClaimAmounts,
    today: date,
    session_id: int | None = None,
    notes: str = "",
    accept_warnings: bool = False,
) -> SavingsClaim:
    """Record a claim for one treatment date; raises LimitsNotAcknowledged unless warnings were confirmed."""
    errors: list[FieldError] = []
    if kind not in CLAIM_KINDS:
        errors.append(FieldError("kind", f"use one of {', '.join(CLAIM_KINDS)}"))
    if method not in CLAIM_METHODS:
        errors.append(FieldError("method", f"use one of {', '.join(CLAIM_METHODS)}"))
    if service_date > today:
        errors.append(FieldError("service_date", "cannot be in the future"))
    if kind == "drug" and devices < 1:
        errors.append(FieldError("devices", "a drug claim needs the number of devices used (1 or more)"))
    elif kind == "observation" and devices != 0:
        errors.append(FieldError("devices", "an observation rebate carries no devices (enter 0)"))
    errors += _amount_errors(amounts)
    if any(e.field in ("kind", "method") for e in errors):
        raise ValidationFailed(errors)
    # The rest is checked too, so one save names every problem at once.
    errors += _session_errors(session, session_id=session_id, patient_id=patient_id, service_date=service_date,
                              kind=kind, devices=devices)
    enrollment = enrollment_for_service(session, patient_id=patient_id, service_date=service_date)
    if enrollment is None:
        errors.append(FieldError(
            "service_date",
            "no active enrollment with an unexpired card covers this date; enroll the patient or update the card",
        ))
    eligibility = patient_eligibility(session, patient_id=patient_id, on=service_date)
    if kind == "drug" and not eligibility.drug_eligible:
        errors.append(FieldError("kind", eligibility.drug_reason))
    if kind == "observation" and not eligibility.rebate_eligible:
        errors.append(FieldError("kind", eligibility.rebate_reason))
    duplicate = _duplicate(session, patient_id=patient_id, service_date=service_date, kind=kind, exclude_claim_id=None)
    if duplicate is not None:
        errors.append(FieldError(
            "service_date", f"claim #{duplicate.id} already covers the {KIND_LABELS[kind]} on this date"
        ))
    if errors:
        raise ValidationFailed(errors)
    assert enrollment is not None and enrollment.id is not None
    preview = preview_claim(
        session, patient_id=patient_id, service_date=service_date, kind=kind, devices=devices,
        patient_responsibility_cents=amounts.patient_responsibility_cents,
        savings_applied_cents=amounts.savings_applied_cents,
    )
    if preview.warnings and not accept_warnings:
        raise LimitsNotAcknowledged([FieldError("accept_warnings", w) for w in preview.warnings])
    claim = SavingsClaim(
        enrollment_id=enrollment.id,
        patient_id=patient_id,
        service_date=service_date,
        session_id=session_id,
        kind=kind,
        devices=devices,
        method=method,
        billed_cents=amounts.billed_cents,
        insurance_paid_cents=amounts.insurance_paid_cents,
        patient_responsibility_cents=amounts.patient_responsibility_cents,
        savings_applied_cents=preview.savings_applied_cents,
        notes=notes.strip(),
    )
    session.add(claim)
    session.flush()
    return claim


def get_claim(session: Session, *, claim_id: int) -> SavingsClaim:
    claim = session.get(SavingsClaim, claim_id)
    if claim is None:
        raise NotFound("No such claim.")
    return claim


def _load(session: Session, claim_id: int, expected_version: int) -> SavingsClaim:
    return check_version(get_claim(session, claim_id=claim_id), expected_version=expected_version, entity="claim")


def _save(session: Session, claim: SavingsClaim) -> SavingsClaim:
    session.add(claim)
    flush_edit(session, entity="claim")
    return claim


def update_claim_amounts(
    session: Session,
    *,
    claim_id: int,
    expected_version: int,
    amounts: ClaimAmounts,
    notes: str | None = None,
    accept_warnings: bool = False,
) -> SavingsClaim:
    """Correct the amounts of a draft or denied claim (e.g. once the EOB arrives)."""
    claim = _load(session, claim_id, expected_version)
    errors: list[FieldError] = []
    if claim.status not in EDITABLE_STATUSES:
        errors.append(FieldError("status", f"a {claim.status} claim cannot be changed"))
    errors += _amount_errors(amounts)
    if errors:
        raise ValidationFailed(errors)
    preview = preview_claim(
        session, patient_id=claim.patient_id, service_date=claim.service_date, kind=claim.kind,
        devices=claim.devices, patient_responsibility_cents=amounts.patient_responsibility_cents,
        savings_applied_cents=amounts.savings_applied_cents, exclude_claim_id=claim.id,
    )
    if preview.warnings and not accept_warnings:
        raise LimitsNotAcknowledged([FieldError("accept_warnings", w) for w in preview.warnings])
    claim.billed_cents = amounts.billed_cents
    claim.insurance_paid_cents = amounts.insurance_paid_cents
    claim.patient_responsibility_cents = amounts.patient_responsibility_cents
    claim.savings_applied_cents = preview.savings_applied_cents
    if notes is not None:
        claim.notes = notes.strip()
    return _save(session, claim)


def documents_of(session: Session, *, claim_id: int) -> list[SavingsDocument]:
    """A claim's documents (content included), oldest first."""
    return list(
        session.exec(
            select(SavingsDocument).where(SavingsDocument.claim_id == claim_id).order_by(col(SavingsDocument.id))
        ).all()
    )


def missing_documents(session: Session, *, claim: SavingsClaim) -> list[str]:
    """Documents a rebate request still needs: proof of payment, and the EOB when insurance paid (§4 [26])."""
    if claim.method != "rebate_request":
        return []
    assert claim.id is not None
    kinds = {d.kind for d in session.exec(
        select(SavingsDocument).where(SavingsDocument.claim_id == claim.id)
    ).all()}
    missing = []
    if claim.insurance_paid_cents > 0 and "eob" not in kinds:
        missing.append("eob")
    if "proof_of_payment" not in kinds:
        missing.append("proof_of_payment")
    return missing


def submit_claim(
    session: Session, *, claim_id: int, expected_version: int, submitted_on: date, today: date
) -> SavingsClaim:
    """Mark a draft (or a denied claim being resubmitted) as sent to the program."""
    claim = _load(session, claim_id, expected_version)
    errors: list[FieldError] = []
    if claim.status not in EDITABLE_STATUSES:
        errors.append(FieldError("status", f"a {claim.status} claim cannot be submitted"))
    if submitted_on > today:
        errors.append(FieldError("submitted_on", "cannot be in the future"))
    elif submitted_on < claim.service_date:
        errors.append(FieldError("submitted_on", "cannot be before the service date"))
    labels = {"eob": "the EOB", "proof_of_payment": "proof of payment"}
    missing = missing_documents(session, claim=claim)
    if missing:
        errors.append(FieldError("documents", "attach " + " and ".join(labels[m] for m in missing) + " first"))
    if errors:
        raise ValidationFailed(errors)
    claim.status = "submitted"
    claim.submitted_on = submitted_on
    claim.denial_reason = ""
    return _save(session, claim)


def mark_paid(
    session: Session, *, claim_id: int, expected_version: int, paid_cents: int, paid_on: date, today: date
) -> SavingsClaim:
    """Record the program's payment of a submitted claim."""
    claim = _load(session, claim_id, expected_version)
    errors: list[FieldError] = []
    if claim.status != "submitted":
        errors.append(FieldError("status", f"only a submitted claim can be paid (this one is {claim.status})"))
    if paid_cents < 0:
        errors.append(FieldError("paid", "cannot be negative"))
    elif paid_cents > claim.patient_responsibility_cents:
        errors.append(FieldError(
            "paid", f"cannot exceed the patient responsibility ({format_cents(claim.patient_responsibility_cents)})"
        ))
    if paid_on > today:
        errors.append(FieldError("paid_on", "cannot be in the future"))
    elif claim.submitted_on is not None and paid_on < claim.submitted_on:
        errors.append(FieldError("paid_on", "cannot be before the claim was submitted"))
    if errors:
        raise ValidationFailed(errors)
    claim.status = "paid"
    claim.paid_cents = paid_cents
    claim.paid_on = paid_on
    return _save(session, claim)


def mark_denied(session: Session, *, claim_id: int, expected_version: int, reason: str) -> SavingsClaim:
    """Record the program's denial of a submitted claim (it stops counting against the maximum)."""
    claim = _load(session, claim_id, expected_version)
    errors: list[FieldError] = []
    if claim.status != "submitted":
        errors.append(FieldError("status", f"only a submitted claim can be denied (this one is {claim.status})"))
    if not reason.strip():
        errors.append(FieldError("reason", "give the denial reason from the program"))
    if errors:
        raise ValidationFailed(errors)
    claim.status = "denied"
    claim.denial_reason = reason.strip()
    return _save(session, claim)


def void_claim(session: Session, *, claim_id: int, expected_version: int, reason: str) -> SavingsClaim:
    """Withdraw a claim recorded in error; it stays on file but no longer counts."""
    claim = _load(session, claim_id, expected_version)
    errors: list[FieldError] = []
    if claim.status in ("paid", "void"):
        errors.append(FieldError("status", f"a {claim.status} claim cannot be voided"))
    if not reason.strip():
        errors.append(FieldError("reason", "say why the claim is voided"))
    if errors:
        raise ValidationFailed(errors)
    claim.status = "void"
    claim.notes = (claim.notes + "\n" if claim.notes else "") + f"Voided: {reason.strip()}"
    return _save(session, claim)
