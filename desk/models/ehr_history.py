"""Clinical history the record keeps only as brought from an EHR (or a spreadsheet): past ECT and TMS courses,
allergies and intolerances, and the clinicians the EHR names as the patient's prescribers."""

from __future__ import annotations

from datetime import date

from sqlmodel import Field, SQLModel

NEUROMODULATION_THERAPIES = ("ECT", "TMS")
ALLERGY_CRITICALITIES = ("low", "high", "unable-to-assess")
ALLERGY_STATUSES = ("active", "inactive", "resolved")


class NeuromodulationCourse(SQLModel, table=True):
    """A course of ECT or TMS: its first and last session (no end while it goes on) and how many sessions."""

    __tablename__ = "neuromodulation_course"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    therapy: str
    start_date: date
    end_date: date | None = None
    sessions: int | None = None


class Allergy(SQLModel, table=True):
    """An allergy or intolerance: the substance as named and coded by the source, with its status."""

    __tablename__ = "allergy"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    substance: str
    code: str = ""
    criticality: str = ""
    reaction: str = ""
    status: str = "active"
    onset: date | None = None


class EhrPrescriber(SQLModel, table=True):
    """A clinician the EHR names as a prescriber of this patient (the desk's own prescribers, who sign requests,
    are kept under Sites & prescribers; the NPI links the two)."""

    __tablename__ = "ehr_prescriber"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    name: str
    npi: str = ""
    role: str = ""
