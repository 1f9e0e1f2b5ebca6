"""The billing view: enrollments expiring, benefits nearly used up, claims waiting for an EOB, denied rebates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from desk.models import SavingsClaim, SavingsDocument, SavingsEnrollment
from desk.patients import patients_by_id
from desk.savings.claims import KIND_LABELS, yearly_totals
from desk.savings.enrollment import enrollment_reminders
from desk.savings.money import format_cents

CATEGORIES = {
    "expiring": "Enrollment expiring",
    "nearly_used": "Benefit nearly used",
    "waiting_for_eob": "Waiting for an EOB",
    "denied": "Denied",
}


@dataclass(frozen=True)
class WorkItem:
    """One line of the billing worklist."""

    category: str
    patient_id: int
    mrn: str
    patient: str
    due_on: date | None
    detail: str
    amount_cents: int | None = None
    claim_id: int | None = None
    enrollment_id: int | None = None


def expiring_enrollments(session: Session, *, today: date, within_days: int = 30) -> list[WorkItem]:
    """Active enrollments whose card expires, or whose benefit year ends, within `within_days`."""
    reminders = enrollment_reminders(session, today=today, days_ahead=within_days)
    people = patients_by_id(session, ids={r.patient_id for r in reminders})
    return [
        WorkItem("expiring", r.patient_id, people[r.patient_id].mrn, people[r.patient_id].display_name,
                 r.due_on, r.message, enrollment_id=r.enrollment_id)
        for r in reminders
    ]


def benefits_nearly_used(session: Session, *, year: int, threshold_pct: float = 80.0) -> list[WorkItem]:
    """Patients with an active enrollment who have used at least `threshold_pct` of a yearly maximum."""
    enrolled = session.exec(
        select(SavingsEnrollment.patient_id).where(SavingsEnrollment.status == "active").distinct()
    ).all()
    people = patients_by_id(session, ids=set(enrolled))
    items: list[WorkItem] = []
    for patient_id in sorted(people):
        totals = yearly_totals(session, patient_id=patient_id, year=year)
        for benefit in (totals.drug, totals.observation):
            pct = benefit.used_pct
            if pct is None or pct < threshold_pct:
                continue
            patient = people[patient_id]
            items.append(WorkItem(
                "nearly_used", patient_id, patient.mrn, patient.display_name, date(year, 12, 31),
                f"{pct:.0f}% of the {year} {KIND_LABELS[benefit.kind]} used "
                f"({format_cents(benefit.used_cents)} of {format_cents(benefit.maximum_cents)})",
                amount_cents=benefit.remaining_cents,
            ))
    return items


def claims_waiting_for_eob(session: Session) -> list[WorkItem]:
    """Open rebate requests where insurance paid but no EOB is attached yet."""
    with_eob = select(SavingsDocument.claim_id).where(SavingsDocument.kind == "eob")
    claims = session.exec(
        select(SavingsClaim)
        .where(
            col(SavingsClaim.status).in_(("draft", "submitted")),
            SavingsClaim.method == "rebate_request",
            SavingsClaim.insurance_paid_cents > 0,
            col(SavingsClaim.id).not_in(with_eob),
        )
        .order_by(col(SavingsClaim.service_date))
    ).all()
    people = patients_by_id(session, ids={c.patient_id for c in claims})
    return [
        WorkItem("waiting_for_eob", c.patient_id, people[c.patient_id].mrn, people[c.patient_id].display_name,
                 c.service_date, f"Claim #{c.id} ({KIND_LABELS[c.kind]}) of {c.service_date:%m/%d/%Y} has no EOB",
                 amount_cents=c.savings_applied_cents, claim_id=c.id)
        for c in claims
    ]


def denied_claims(session: Session, *, year: int | None = None) -> list[WorkItem]:
    """Denied claims and rebates (of one service year when given)."""
    query = select(SavingsClaim).where(SavingsClaim.status == "denied")
    if year is not None:
        query = query.where(
            SavingsClaim.service_date >= date(year, 1, 1), SavingsClaim.service_date <= date(year, 12, 31)
        )
    claims = session.exec(query.order_by(col(SavingsClaim.service_date))).all()
    people = patients_by_id(session, ids={c.patient_id for c in claims})
    return [
        WorkItem("denied", c.patient_id, people[c.patient_id].mrn, people[c.patient_id].display_name,
                 c.service_date, f"Claim #{c.id} ({KIND_LABELS[c.kind]}) denied: {c.denial_reason}",
                 amount_cents=c.savings_applied_cents, claim_id=c.id)
        for c in claims
    ]


def billing_worklist(
    session: Session, *, today: date, within_days: int = 30, threshold_pct: float = 80.0
) -> list[WorkItem]:
    """All four lists, in the order billing staff work them."""
    return [
        *expiring_enrollments(session, today=today, within_days=within_days),
        *benefits_nearly_used(session, year=today.year, threshold_pct=threshold_pct),
        *claims_waiting_for_eob(session),
        *denied_claims(session),
    ]
