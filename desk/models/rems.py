"""REMS records: patient enrollment, treatment course, treatment sessions and their monitoring form.

Site certification lives on `Site` (rems_setting_id, rems_certified_on, authorized_representative).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from desk.models.base import utcnow, version_column

_enrollment_version = version_column()
_course_version = version_column()
_session_version = version_column()

INDICATIONS = ("TRD", "MDSI")
READING_KINDS = ("pre", "post_40", "discharge", "extra")
PMF_STATUSES = ("draft", "ready", "submitted")
PMF_CHANNELS = ("online", "fax")


class RemsEnrollment(SQLModel, table=True):
    """A patient's REMS Patient Enrollment Form (signed by patient and prescriber, then submitted)."""

    __tablename__ = "rems_enrollment"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True, unique=True)
    prescriber_id: int | None = Field(default=None, foreign_key="prescriber.id")
    patient_signed_on: date | None = None
    prescriber_signed_on: date | None = None
    submitted_on: date | None = None
    confirmation_number: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1, sa_column=_enrollment_version)
    __mapper_args__ = {"version_id_col": _enrollment_version}


class TreatmentCourse(SQLModel, table=True):
    """A patient's current course (indication and start date) from which the label schedule is planned."""

    __tablename__ = "treatment_course"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True, unique=True)
    indication: str
    start_date: date
    maintenance_interval_days: int = 7
    created_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1, sa_column=_course_version)
    __mapper_args__ = {"version_id_col": _course_version}


class TreatmentSession(SQLModel, table=True):
    """One outpatient SPRAVATO session: dosing, monitoring and its Patient Monitoring Form status."""

    __tablename__ = "treatment_session"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    session_date: date = Field(index=True)
    indication: str = "TRD"
    dose_mg: int
    devices: int
    lot_number: str = ""
    # Pre-checks (label: no food 2 h, no liquids 30 min, nasal steroid/decongestant >= 1 h before; a ride home).
    no_food_2h: bool = False
    no_liquids_30min: bool = False
    nasal_medication_ok: bool = False
    ride_home_confirmed: bool = False
    high_bp_acknowledged_by: str = ""
    high_bp_acknowledged_at: datetime | None = None
    vitals_ok_before: bool | None = None
    vitals_ok_before_completion: bool | None = None
    sedation: bool = False
    sedation_resolved_at: datetime | None = None
    dissociation: bool = False
    dissociation_resolved_at: datetime | None = None
    respiratory_depression: bool = False
    respiratory_depression_resolved_at: datetime | None = None
    serious_adverse_event: bool = False
    sae_details: str = ""
    ready_to_leave_minutes: int | None = None
    first_device_at: datetime | None = Field(default=None, index=True)
    discharged_at: datetime | None = None
    monitoring_hcp_user_id: int | None = Field(default=None, foreign_key="user.id")
    monitoring_hcp_first_name: str = ""
    monitoring_hcp_last_name: str = ""
    monitoring_hcp_phone: str = ""
    monitoring_hcp_email: str = ""
    # The REMS requires a prescriber on site during treatment (spravato.md §1 [1][2]).
    prescriber_on_site_id: int | None = Field(default=None, foreign_key="prescriber.id")
    # Classes from the patient's current medications, captured when the session is saved.
    concomitant_classes: str = ""
    pmf_status: str = Field(default="draft", index=True)
    pmf_submitted_on: date | None = None
    pmf_channel: str = ""
    pmf_confirmation: str = ""
    recorded_by: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1, sa_column=_session_version)
    __mapper_args__ = {"version_id_col": _session_version}


class SessionDevice(SQLModel, table=True):
    """One nasal spray device administered in a session (28 mg each)."""

    __tablename__ = "session_device"

    id: int | None = Field(default=None, primary_key=True)
    treatment_session_id: int = Field(foreign_key="treatment_session.id", index=True)
    sequence: int
    administered_at: datetime


class SessionReading(SQLModel, table=True):
    """A vital-sign reading: blood pressure (before, ~40 min, discharge, extra), heart rate, SpO2."""

    __tablename__ = "session_reading"

    id: int | None = Field(default=None, primary_key=True)
    treatment_session_id: int = Field(foreign_key="treatment_session.id", index=True)
    kind: str
    measured_at: datetime
    systolic: int | None = None
    diastolic: int | None = None
    heart_rate: int | None = None
    spo2: int | None = None


class SessionAmendment(SQLModel, table=True):
    """A correction to a session whose monitoring form was already submitted (who, when, why, what)."""

    __tablename__ = "session_amendment"

    id: int | None = Field(default=None, primary_key=True)
    treatment_session_id: int = Field(foreign_key="treatment_session.id", index=True)
    amended_at: datetime = Field(default_factory=utcnow)
    amended_by: str
    reason: str
    changes_json: str
