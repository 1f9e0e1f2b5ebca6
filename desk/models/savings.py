"""Manufacturer savings program (SPRAVATO withMe): yearly terms, enrollments, claims and their documents.

Money is stored in whole cents (integers) so totals are exact on every database.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from desk.models.base import utcnow, version_column

_terms_version = version_column()
_enrollment_version = version_column()
_claim_version = version_column()

ENROLLMENT_STATUSES = ("pending", "active", "ended")
CLAIM_KINDS = ("drug", "observation")
CLAIM_METHODS = ("card_secondary", "rebate_request")
CLAIM_STATUSES = ("draft", "submitted", "paid", "denied", "void")
DOCUMENT_KINDS = ("eob", "proof_of_payment")


class SavingsTerms(SQLModel, table=True):
    """The program's terms for one calendar year; `unconfirmed` lists the fields not yet checked with the program."""

    __tablename__ = "savings_terms"

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True, unique=True)
    patient_cost_per_treatment_cents: int
    drug_benefit_max_cents: int
    observation_rebate_max_cents: int | None = None
    max_devices_per_day: int
    initial_window_days: int
    initial_window_devices: int
    later_window_days: int
    later_window_devices: int
    rebate_excluded_states: str
    unconfirmed: str = ""
    notes: str = ""
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: str = ""
    version: int = Field(default=1, sa_column=_terms_version)
    __mapper_args__ = {"version_id_col": _terms_version}


class SavingsTermsChange(SQLModel, table=True):
    """One changed setting of a year's terms, with the old and new value (terms hold no PHI)."""

    __tablename__ = "savings_terms_change"

    id: int | None = Field(default=None, primary_key=True)
    terms_id: int = Field(foreign_key="savings_terms.id", index=True)
    changed_at: datetime = Field(default_factory=utcnow)
    changed_by: str
    field_name: str
    old_value: str = ""
    new_value: str = ""


class SavingsEnrollment(SQLModel, table=True):
    """A patient's enrollment in the program: card identifiers, dates and status."""

    __tablename__ = "savings_enrollment"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    status: str = "pending"
    enrolled_on: date
    member_id: str = ""
    rx_bin: str = ""
    rx_pcn: str = ""
    rx_group: str = ""
    card_expires_on: date | None = None
    ended_on: date | None = None
    end_reason: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1, sa_column=_enrollment_version)
    __mapper_args__ = {"version_id_col": _enrollment_version}


class SavingsClaim(SQLModel, table=True):
    """A drug-cost claim or observation rebate for one treatment date of an enrolled patient."""

    __tablename__ = "savings_claim"

    id: int | None = Field(default=None, primary_key=True)
    enrollment_id: int = Field(foreign_key="savings_enrollment.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    service_date: date = Field(index=True)
    session_id: int | None = Field(default=None, foreign_key="treatment_session.id", index=True)
    kind: str = "drug"
    devices: int = 0
    method: str = "rebate_request"
    billed_cents: int
    insurance_paid_cents: int
    patient_responsibility_cents: int
    savings_applied_cents: int
    status: str = Field(default="draft", index=True)
    submitted_on: date | None = None
    paid_cents: int | None = None
    paid_on: date | None = None
    denial_reason: str = ""
    notes: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1, sa_column=_claim_version)
    __mapper_args__ = {"version_id_col": _claim_version}


class SavingsDocument(SQLModel, table=True):
    """An EOB or proof of payment for a claim; the file name is generated, never the uploaded one."""

    __tablename__ = "savings_document"
    __table_args__ = (UniqueConstraint("claim_id", "sha256", name="uq_savings_document_claim_sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="savings_claim.id", index=True)
    kind: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str = Field(index=True)
    content: bytes = Field(sa_column=Column("content", LargeBinary, nullable=False))
    uploaded_at: datetime = Field(default_factory=utcnow)
    uploaded_by: str = ""
