"""The append-only audit trail (who did what to which record; never PHI values)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from desk.models.base import utcnow


class AuditEvent(SQLModel, table=True):
    """One audited action. Database triggers refuse UPDATE and DELETE on this table."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(index=True)
    action: str = Field(index=True)
    entity: str = Field(index=True)
    entity_id: str = ""
    fields: str = ""
    detail: str = ""
