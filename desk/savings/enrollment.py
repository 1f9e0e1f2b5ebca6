"""Enrolling patients in the program, keeping the card details current, and reminders before they lapse."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from desk.errors import FieldError, NotFound, ValidationFailed
from desk.models import Patient, SavingsEnrollment
from desk.records import flush_edit, load_for_edit
from desk.savings.eligibility import patient_eligibility

OPEN_STATUSES = ("pending", "active")
_MEMBER_ID = re.compile(r"^[A-Za-z0-9-]{4,30}$")
_BIN = re.compile(r"^\d{6}$")
_PCN = re.compile(r"^[A-Za-z0-9]{1,10}$")
_GROUP = re.compile(r"^[A-Za-z0-9-]{1,15}$")


@dataclass(frozen=True)
class CardDetails:
    """What the program's card carries."""

    member_id: str = ""
    rx_bin: str = ""
    rx_pcn: str = ""
    rx_group: str = ""
    card_expires_on: date | None = None

    def cleaned(self) -> CardDetails:
        return CardDetails(
            member_id=self.member_id.strip().upper(),
            rx_bin=self.rx_bin.strip(),
            rx_pcn=self.rx_pcn.strip().upper(),
            rx_group=self.rx_group.strip().upper(),
            card_expires_on=self.card_expires_on,
        )


def _card_errors(card: CardDetails, *, status: str, enrolled_on: date) -> list[FieldError]:
    errors: list[FieldError] = []
    if status == "active" and not card.member_id:
        errors.append(FieldError("member_id", "required for an active enrollment (it is on the program card)"))
    elif card.member_id and not _MEMBER_ID.match(card.member_id):
        errors.append(FieldError("member_id", "4-30 letters, digits or dashes"))
    if card.rx_bin and not _BIN.match(card.rx_bin):
        errors.append(FieldError("rx_bin", "a BIN has exactly 6 digits"))
    if card.rx_pcn and not _PCN.match(card.rx_pcn):
        errors.append(FieldError("rx_pcn", "a PCN has 1-10 letters or digits"))
    if card.rx_group and not _GROUP.match(card.rx_group):
        errors.append(FieldError("rx_group", "a group number has 1-15 letters, digits or dashes"))
    if status == "active" and card.card_expires_on is None:
        errors.append(FieldError("card_expires_on", "required for an active enrollment (the date on the program "
                                                    "card)"))
    if card.card_expires_on is not None and card.card_expires_on < enrolled_on:
        errors.append(FieldError("card_expires_on", "the card cannot expire before the enrollment date"))
    return errors


def open_enrollment(session: Session, *, patient_id: int) -> SavingsEnrollment | None:
    """The patient's pending or active enrollment, if any."""
    return session.exec(
        select(SavingsEnrollment)
        .where(SavingsEnrollment.patient_id == patient_id, col(SavingsEnrollment.status).in_(OPEN_STATUSES))
        .order_by(col(SavingsEnrollment.id).desc())
    ).first()


def enrollments_for(session: Session, *, patient_id: int) -> list[SavingsEnrollment]:
    """All of the patient's enrollments, newest first."""
    return list(
        session.exec(
            select(SavingsEnrollment)
            .where(SavingsEnrollment.patient_id == patient_id)
            .order_by(col(SavingsEnrollment.enrolled_on).desc(), col(SavingsEnrollment.id).desc())
        ).all()
    )


def enroll_patient(
    session: Session,
    *,
    patient_id: int,
    enrolled_on: date,
    card: CardDetails,
    status: str = "active",
    today: date,
) -> SavingsEnrollment:
    """Enroll an eligible patient; refuses (naming the field and the reason) and writes nothing otherwise."""
    if session.get(Patient, patient_id) is None:
        raise NotFound("No such patient.")
    card = card.cleaned()
    errors: list[FieldError] = []
    if status not in OPEN_STATUSES:
        errors.append(FieldError("status", f"a new enrollment is {' or '.join(OPEN_STATUSES)}"))
    if enrolled_on > today:
        errors.append(FieldError("enrolled_on", "cannot be in the future"))
    errors += _card_errors(card, status=status, enrolled_on=enrolled_on)
    existing = open_enrollment(session, patient_id=patient_id)
    if existing is not None:
        errors.append(FieldError("patient", f"already has a {existing.status} enrollment; update that one instead"))
    eligibility = patient_eligibility(session, patient_id=patient_id, on=enrolled_on)
    if not eligibility.drug_eligible:
        errors.append(FieldError("patient", eligibility.drug_reason))
    if errors:
        raise ValidationFailed(errors)
    enrollment = SavingsEnrollment(
        patient_id=patient_id,
        status=status,
        enrolled_on=enrolled_on,
        member_id=card.member_id,
        rx_bin=card.rx_bin,
        rx_pcn=card.rx_pcn,
        rx_group=card.rx_group,
        card_expires_on=card.card_expires_on,
    )
    session.add(enrollment)
    session.flush()
    return enrollment


def _load(session: Session, enrollment_id: int, expected_version: int) -> SavingsEnrollment:
    return load_for_edit(
        session, SavingsEnrollment, enrollment_id, expected_version=expected_version, entity="enrollment",
        missing="No such enrollment.",
    )


def update_enrollment(
    session: Session,
    *,
    enrollment_id: int,
    expected_version: int,
    card: CardDetails,
    status: str,
) -> SavingsEnrollment:
    """Change the card details or move a pending enrollment to active."""
    enrollment = _load(session, enrollment_id, expected_version)
    card = card.cleaned()
    errors: list[FieldError] = []
    if enrollment.status == "ended":
        errors.append(FieldError("status", "this enrollment has ended; enroll the patient again instead"))
    elif status not in OPEN_STATUSES:
        errors.append(FieldError("status", f"use {' or '.join(OPEN_STATUSES)} (end an enrollment with 'End')"))
    errors += _card_errors(card, status=status, enrolled_on=enrollment.enrolled_on)
    if errors:
        raise ValidationFailed(errors)
    enrollment.status = status
    enrollment.member_id = card.member_id
    enrollment.rx_bin = card.rx_bin
    enrollment.rx_pcn = card.rx_pcn
    enrollment.rx_group = card.rx_group
    enrollment.card_expires_on = card.card_expires_on
    session.add(enrollment)
    flush_edit(session, entity="enrollment")
    return enrollment


def end_enrollment(
    session: Session, *, enrollment_id: int, expected_version: int, ended_on: date, reason: str
) -> SavingsEnrollment:
    """Close an enrollment (coverage changed, patient left, program ended); its claims stay."""
    enrollment = _load(session, enrollment_id, expected_version)
    errors: list[FieldError] = []
    if enrollment.status == "ended":
        errors.append(FieldError("status", "this enrollment has already ended"))
    if ended_on < enrollment.enrolled_on:
        errors.append(FieldError("ended_on", "cannot be before the enrollment date"))
    if not reason.strip():
        errors.append(FieldError("reason", "say why the enrollment ends"))
    if errors:
        raise ValidationFailed(errors)
    enrollment.status = "ended"
    enrollment.ended_on = ended_on
    enrollment.end_reason = reason.strip()
    session.add(enrollment)
    flush_edit(session, entity="enrollment")
    return enrollment


def enrollment_for_service(session: Session, *, patient_id: int, service_date: date) -> SavingsEnrollment | None:
    """The enrollment that covers a treatment date: active (or ended after that date) and card not expired."""
    for enrollment in enrollments_for(session, patient_id=patient_id):
        if enrollment.status == "pending" or enrollment.enrolled_on > service_date:
            continue
        if enrollment.ended_on is not None and enrollment.ended_on < service_date:
            continue
        if enrollment.card_expires_on is not None and enrollment.card_expires_on < service_date:
            continue
        return enrollment
    return None


@dataclass(frozen=True)
class SavingsFlags:
    """Yes/no flags safe for every role (no amounts): what nurses may see."""

    eligible: bool
    enrolled: bool


def savings_flags(session: Session, *, patient_id: int, on: date) -> SavingsFlags:
    """Whether the patient is eligible and enrolled on `on`, without any amounts."""
    eligibility = patient_eligibility(session, patient_id=patient_id, on=on)
    enrolled = enrollment_for_service(session, patient_id=patient_id, service_date=on) is not None
    return SavingsFlags(eligible=eligibility.drug_eligible, enrolled=enrolled)


@dataclass(frozen=True)
class Reminder:
    """Something to do about an enrollment before a date."""

    kind: str
    enrollment_id: int
    patient_id: int
    due_on: date
    message: str


def enrollment_reminders(session: Session, *, today: date, days_ahead: int = 30) -> list[Reminder]:
    """Cards expiring (or expired) within `days_ahead`, and the year-end reset when it is that close."""
    horizon = today + timedelta(days=days_ahead)
    year_end = date(today.year, 12, 31)
    reminders: list[Reminder] = []
    active = session.exec(
        select(SavingsEnrollment).where(SavingsEnrollment.status == "active").order_by(col(SavingsEnrollment.id))
    ).all()
    for enrollment in active:
        assert enrollment.id is not None
        expires = enrollment.card_expires_on
        if expires is not None and expires <= horizon:
            verb = "expired" if expires < today else "expires"
            reminders.append(
                Reminder("card_expiry", enrollment.id, enrollment.patient_id, expires,
                         f"Program card {verb} on {expires:%m/%d/%Y}: renew it with the program.")
            )
        if year_end <= horizon:
            reminders.append(
                Reminder("year_end", enrollment.id, enrollment.patient_id, year_end,
                         f"Benefits reset on {date(today.year + 1, 1, 1):%m/%d/%Y}: re-verify coverage and "
                         "the enrollment for the new year.")
            )
    reminders.sort(key=lambda r: (r.due_on, r.enrollment_id, r.kind))
    return reminders
