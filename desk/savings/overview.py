"""One patient's savings picture for a year, gathered in one call for the savings screen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from desk.errors import NotFound
from desk.models import Patient, SavingsClaim, SavingsDocument, SavingsEnrollment
from desk.savings.claims import YearTotals, claims_for, device_limits, device_usage, missing_documents, yearly_totals
from desk.savings.eligibility import Eligibility, patient_eligibility
from desk.savings.enrollment import enrollments_for, open_enrollment
from desk.savings.limits import devices_allowed_on


@dataclass(frozen=True)
class PatientChoice:
    """A patient as the picker shows them."""

    id: int
    label: str


@dataclass(frozen=True)
class ClaimLine:
    """A claim with what it still needs."""

    claim: SavingsClaim
    documents: tuple[SavingsDocument, ...]
    missing: tuple[str, ...]


@dataclass(frozen=True)
class PatientSavings:
    """Eligibility, enrollment, totals and claims of one patient for one program year."""

    patient_id: int
    mrn: str
    eligibility: Eligibility
    enrollment: SavingsEnrollment | None
    history: tuple[SavingsEnrollment, ...]
    totals: YearTotals
    claims: tuple[ClaimLine, ...]


def patient_choices(session: Session) -> list[PatientChoice]:
    """Every patient, by last name, labelled 'MRN — Last, First'."""
    patients = session.exec(select(Patient).order_by(col(Patient.last_name), col(Patient.first_name))).all()
    return [PatientChoice(p.id, f"{p.mrn} — {p.display_name}") for p in patients if p.id is not None]


def first_patient_with_savings(session: Session) -> int | None:
    """The patient the savings screen opens on: the first in picker order with a claim, else the first with an
    enrollment (None when nobody has either)."""
    for owners in (select(SavingsClaim.patient_id), select(SavingsEnrollment.patient_id)):
        found = session.exec(
            select(Patient.id).where(col(Patient.id).in_(owners))
            .order_by(col(Patient.last_name), col(Patient.first_name))
        ).first()
        if found is not None:
            return found
    return None


def patient_savings(session: Session, *, patient_id: int, year: int, today: date) -> PatientSavings:
    """Everything the savings screen shows for one patient and year."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("No such patient.")
    on = today if today.year == year else date(year, 12, 31)
    lines = []
    for claim in claims_for(session, patient_id=patient_id, year=year):
        documents = session.exec(
            select(SavingsDocument).where(SavingsDocument.claim_id == claim.id).order_by(col(SavingsDocument.id))
        ).all()
        lines.append(ClaimLine(claim, tuple(documents), tuple(missing_documents(session, claim=claim))))
    return PatientSavings(
        patient_id=patient_id,
        mrn=patient.mrn,
        eligibility=patient_eligibility(session, patient_id=patient_id, on=on),
        enrollment=open_enrollment(session, patient_id=patient_id),
        history=tuple(enrollments_for(session, patient_id=patient_id)),
        totals=yearly_totals(session, patient_id=patient_id, year=year),
        claims=tuple(lines),
    )


def devices_allowed(session: Session, *, patient_id: int, on: date) -> int:
    """How many devices a treatment on `on` can claim without breaking a device limit."""
    totals = yearly_totals(session, patient_id=patient_id, year=on.year)
    counting = [c for c in claims_for(session, patient_id=patient_id, year=on.year)
                if c.status in ("draft", "submitted", "paid")]
    return devices_allowed_on(usage=device_usage(counting), service_date=on, limits=device_limits(totals.terms))
