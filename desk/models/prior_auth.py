"""Prior-authorization cases: lifecycle, submissions, decisions, appeals, checklist marks and files."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, LargeBinary
from sqlmodel import Field, SQLModel

from desk.models.base import utcnow, version_column

_case_version = version_column()

INDICATIONS = ("TRD", "MDSI")
PHASES = ("initial", "continuation")
URGENCIES = ("standard", "expedited")
PA_STATUSES = (
    "draft",
    "ready",
    "submitted",
    "pended",
    "info_requested",
    "approved",
    "denied",
    "appealed",
    "overturned",
    "upheld",
    "cancelled",
    "expired",
)
STATUS_LABELS = {
    "draft": "Draft",
    "ready": "Ready to submit",
    "submitted": "Submitted",
    "pended": "Pended",
    "info_requested": "More information requested",
    "approved": "Approved",
    "denied": "Denied",
    "appealed": "Under appeal",
    "overturned": "Overturned on appeal",
    "upheld": "Denial upheld",
    "cancelled": "Cancelled",
    "expired": "Expired",
}
SUBMISSION_CHANNELS = ("fax", "portal", "phone", "electronic_pa", "mail")
SIGNOFF_KINDS = ("attestation", "exception")
FILE_KINDS = ("packet", "appeal_letter", "medical_necessity_letter")


class PriorAuthCase(SQLModel, table=True):
    """One request: patient x coverage x indication x phase. Decision fields mirror the latest record."""

    __tablename__ = "pa_case"
    __table_args__ = (
        Index("ix_pa_case_status_updated", "status", "updated_at"),
        Index("ix_pa_case_status_due", "status", "decision_due_at"),
        Index("ix_pa_case_status_end", "status", "auth_end_on"),
        Index("ix_pa_case_open_key", "patient_id", "payer_id", "indication"),
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    coverage_id: int = Field(foreign_key="coverage.id", index=True)
    # Copied from the coverage when the case opens, so the worklist filters without a join.
    payer_id: str = Field(index=True)
    plan_type: str
    indication: str
    phase: str
    urgency: str = "standard"
    # What is requested (the request form and letter): dose per session, sessions, start date.
    dose_mg: int = 84
    sessions_requested: int | None = None
    start_on: date | None = None
    # The requested regimen payer rules check: first session's dose and sessions a week (empty: not recorded).
    first_dose_mg: int | None = None
    sessions_per_week: float | None = None
    # Why the request departs from the label schedule or the payer's limits (stated in the letter).
    schedule_reason: str = ""
    status: str = Field(default="draft", index=True)
    duplicate_of_id: int | None = Field(default=None, foreign_key="pa_case.id")
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = ""
    updated_at: datetime = Field(default_factory=utcnow)
    status_changed_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    decision_due_at: datetime | None = None
    info_due_on: date | None = None
    auth_number: str = ""
    auth_start_on: date | None = None
    auth_end_on: date | None = None
    approved_devices: int | None = None
    approved_sessions: int | None = None
    approved_codes: str = ""
    denial_reason: str = ""
    denied_on: date | None = None
    appeal_level: int = 0
    notes: str = ""
    # Set when a payer file changed the evaluation of this open case: JSON of the criterion-level changes.
    policy_change: str = ""
    policy_changed_at: datetime | None = None
    version: int = Field(default=1, sa_column=_case_version)
    __mapper_args__ = {"version_id_col": _case_version}


class PayerPolicyFile(SQLModel, table=True):
    """The text of each payer file as last seen, so a changed file can be compared with what open cases used."""

    __tablename__ = "payer_policy_file"

    id: int | None = Field(default=None, primary_key=True)
    payer_id: str = Field(unique=True)
    fingerprint: str
    text: str
    seen_at: datetime = Field(default_factory=utcnow)


class PaStatusChange(SQLModel, table=True):
    """One step of a case's history: who moved it, when, from which status to which, and why."""

    __tablename__ = "pa_status_change"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="pa_case.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    actor: str
    from_status: str
    to_status: str
    note: str = ""


class PaSubmission(SQLModel, table=True):
    """A submission (or resubmission) to the payer and the decision clock it started."""

    __tablename__ = "pa_submission"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="pa_case.id", index=True)
    submitted_at: datetime
    channel: str
    reference: str = ""
    urgency: str = "standard"
    decision_due_at: datetime | None = None
    recorded_by: str = ""


class PaInfoRequest(SQLModel, table=True):
    """The payer asked for more information by a due date."""

    __tablename__ = "pa_info_request"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="pa_case.id", index=True)
    requested_on: date
    due_on: date
    description: str = ""
    answered_at: datetime | None = None


class PaAuthorization(SQLModel, table=True):
    """An approved authorization: the window and quantity that sessions are counted against."""

    __tablename__ = "pa_authorization"
    __table_args__ = (Index("ix_pa_authorization_window", "patient_id", "start_on", "end_on"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="pa_case.id", index=True)
    patient_id: int = Field(foreign_key="patient.id")
    auth_number: str
    start_on: date
    end_on: date
    approved_devices: int | None = None
    approved_sessions: int | None = None
    approved_codes: str = ""
    decided_on: date
    via_appeal: bool = False


class PaDenial(SQLModel, table=True):
    """A denial with the payer's stated reason."""

    __tablename__ = "pa_denial"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="pa_case.id", index=True)
    reason: str
    denied_on: date


class PaAppeal(SQLModel, table=True):
    """An appeal of a denial, at a level (1 = first internal), with any peer-to-peer call."""

    __tablename__ = "pa_appeal"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="pa_case.id", index=True)
    level: int
    filed_on: date
    peer_to_peer: bool = False
    peer_to_peer_on: date | None = None
    outcome: str = ""
    outcome_on: date | None = None


class PaAttachment(SQLModel, table=True):
    """A document staff attached to the case, optionally as evidence for one checklist criterion."""

    __tablename__ = "pa_attachment"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="pa_case.id", index=True)
    criterion_id: str = ""
    title: str
    content_type: str
    size_bytes: int
    sha256: str
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    include_in_packet: bool = True
    uploaded_by: str
    uploaded_at: datetime = Field(default_factory=utcnow)
    removed: bool = False


class PaSignoff(SQLModel, table=True):
    """An attestation or an exception recorded against one criterion (who, when, note or reason)."""

    __tablename__ = "pa_signoff"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="pa_case.id", index=True)
    criterion_id: str
    kind: str
    note: str
    by: str
    at: datetime = Field(default_factory=utcnow)
    withdrawn: bool = False


class PaGeneratedFile(SQLModel, table=True):
    """A generated PDF exactly as it was handed out (kept with its hash, author and time)."""

    __tablename__ = "pa_generated_file"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="pa_case.id", index=True)
    kind: str
    file_name: str
    sha256: str
    size_bytes: int
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_by: str
    created_at: datetime = Field(default_factory=utcnow)


class PaDeviceEntry(SQLModel, table=True):
    """Devices used at a session entered on the case directly (sessions not logged in the REMS log)."""

    __tablename__ = "pa_device_entry"
    __table_args__ = (Index("ix_pa_device_entry_patient_date", "patient_id", "session_date"),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    case_id: int | None = Field(default=None, foreign_key="pa_case.id")
    session_date: date
    devices: int
    note: str = ""
    recorded_by: str
    recorded_at: datetime = Field(default_factory=utcnow)
