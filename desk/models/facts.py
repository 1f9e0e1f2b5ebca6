"""A token per patient that changes whenever anything an evaluation reads about the patient is written."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

# The scope of rows shared by many patients (sites, prescribers): a write to one changes every patient's facts.
SHARED_SCOPE = "shared"


class FactsVersion(SQLModel, table=True):
    """The facts version of one scope: `patient:<id>` or `shared`.

    `version` is a fresh random number at every change (desk/facts_version.py), never a counter: a change that is
    rolled back leaves no number behind that a later change could give again. No row means never changed since
    this table was added (version 0)."""

    __tablename__ = "facts_version"

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=40, unique=True, index=True)
    version: int = Field(sa_column=Column(BigInteger, nullable=False))
