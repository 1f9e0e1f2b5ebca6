"""Clinic sites, prescribers and staff accounts."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from desk.models.base import utcnow, version_column

_site_version = version_column()
_prescriber_version = version_column()
_user_version = version_column()

ROLES = ("admin", "billing", "nurse")
ROLE_LABELS = {"admin": "Administrator", "billing": "Billing", "nurse": "Nurse"}
SPECIALTIES = ("psychiatrist", "psychiatric_np", "other")


class Site(SQLModel, table=True):
    """A clinic location; REMS certifies each outpatient setting separately."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    address_line: str = ""
    # Suite, floor or building: the REMS Patient Monitoring Form asks for the setting's full address.
    address_line2: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""
    phone: str = ""
    fax: str = ""
    npi: str = ""
    tin: str = ""
    rems_setting_id: str = ""
    rems_certified_on: date | None = None
    # The day the certification ends (lapsed or withdrawn); empty while it is in force.
    rems_certified_until: date | None = None
    authorized_representative: str = ""
    version: int = Field(default=1, sa_column=_site_version)
    __mapper_args__ = {"version_id_col": _site_version}


class Prescriber(SQLModel, table=True):
    """A clinician who prescribes SPRAVATO at one of the sites."""

    id: int | None = Field(default=None, primary_key=True)
    first_name: str
    last_name: str
    credentials: str = ""
    npi: str = Field(index=True, unique=True)
    specialty: str = "psychiatrist"
    phone: str = ""
    fax: str = ""
    email: str = ""
    site_id: int | None = Field(default=None, foreign_key="site.id")
    active: bool = True
    version: int = Field(default=1, sa_column=_prescriber_version)
    __mapper_args__ = {"version_id_col": _prescriber_version}

    @property
    def display_name(self) -> str:
        suffix = f", {self.credentials}" if self.credentials else ""
        return f"{self.first_name} {self.last_name}{suffix}"


class User(SQLModel, table=True):
    """A staff account; `roles` is a comma-separated subset of ROLES."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True)
    display_name: str
    email: str = Field(default="", index=True)
    roles: str
    password_hash: str = ""
    active: bool = True
    is_demo: bool = False
    failed_attempts: int = 0
    locked_until: datetime | None = None
    last_sign_in_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1, sa_column=_user_version)
    __mapper_args__ = {"version_id_col": _user_version}

    @property
    def role_list(self) -> list[str]:
        return [r for r in self.roles.split(",") if r]
