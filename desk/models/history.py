"""Where imported clinical facts came from: one row per record row and source resource."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from desk.models.base import utcnow

# The record tables an import writes, by the review's section names. resource_ids separates ids with ", ".
IMPORT_SECTIONS = ("coverages", "diagnoses", "trials", "psychotherapy", "scores", "stays", "neuromodulation",
                   "allergies", "prescribers")


class ImportedFact(SQLModel, table=True):
    """Provenance of one imported fact: the row it became, the file and the resources in it that it was read from
    (several when a trial was assembled from a prescription and its dispenses), and when."""

    __tablename__ = "imported_fact"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    section: str
    row_id: int
    source_file: str
    resource_ids: str
    imported_on: date
    imported_at: datetime = Field(default_factory=utcnow)
