"""Shared column helpers for the table models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Integer


def utcnow() -> datetime:
    """Timezone-aware UTC now: every stored timestamp is UTC."""
    return datetime.now(UTC)


def version_column() -> Column[int]:
    """A fresh optimistic-locking column; use it as the field's sa_column and the mapper's version_id_col."""
    return Column("version", Integer, nullable=False, default=1)
