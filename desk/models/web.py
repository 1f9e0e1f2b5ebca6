"""Server-side sign-in sessions behind the browser's signed cookie."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from desk.models.base import utcnow


class WebSession(SQLModel, table=True):
    """One browser sign-in. Only SHA-256 digests of the cookie token and the one-time ticket are stored."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str | None = Field(default=None, unique=True, index=True)
    ticket_hash: str | None = Field(default=None, unique=True, index=True)
    ticket_expires_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    end_reason: str = ""
