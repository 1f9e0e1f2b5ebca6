"""Payers' own fillable PDFs uploaded by an admin, each with its field map."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from desk.models.base import utcnow, version_column

_payer_form_version = version_column()


class PayerForm(SQLModel, table=True):
    """One revision of a payer's request form; the newest active revision is the one PAs use."""

    __tablename__ = "payer_form"
    __table_args__ = (UniqueConstraint("payer_id", "revision", name="uq_payer_form_revision"),)

    id: int | None = Field(default=None, primary_key=True)
    payer_id: str = Field(index=True)
    name: str
    revision: int = 1
    pdf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sha256: str = Field(index=True)
    field_map_yaml: str = Field(sa_column=Column(Text, nullable=False))
    active: bool = True
    uploaded_by: str
    uploaded_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1, sa_column=_payer_form_version)
    __mapper_args__ = {"version_id_col": _payer_form_version}
