"""Clinic sites and prescribers: validated create/update, lists, and REMS certification warnings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date

from sqlmodel import Session, col, func, select

from desk.errors import FieldError, NotFound, ValidationFailed
from desk.models import SPECIALTIES, Prescriber, Site
from desk.records import apply_details, check_version, details_of, flush_edit, stripped
from desk.validation import (
    normalize_phone,
    npi_problem,
    past_date_problem,
    phone_problem,
    state_problem,
    tin_problem,
    zip_problem,
)


@dataclass(frozen=True)
class SiteDetails:
    """Everything a user edits about a clinic site."""

    name: str
    address_line: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""
    phone: str = ""
    fax: str = ""
    npi: str = ""
    tin: str = ""
    rems_setting_id: str = ""
    rems_certified_on: date | None = None
    authorized_representative: str = ""
    rems_certified_until: date | None = None
    address_line2: str = ""

    @classmethod
    def of(cls, site: Site) -> SiteDetails:
        return details_of(site, cls)


@dataclass(frozen=True)
class PrescriberDetails:
    """Everything a user edits about a prescriber."""

    first_name: str
    last_name: str
    npi: str
    credentials: str = ""
    specialty: str = "psychiatrist"
    phone: str = ""
    fax: str = ""
    email: str = ""
    site_id: int | None = None
    active: bool = True

    @classmethod
    def of(cls, prescriber: Prescriber) -> PrescriberDetails:
        return details_of(prescriber, cls)


@dataclass(frozen=True)
class CertificationWarning:
    """A site that cannot be shown as REMS-certified yet (no patient data, safe to display anywhere)."""

    site_id: int
    site_name: str
    missing: tuple[str, ...]

    @property
    def message(self) -> str:
        return (
            f"{self.site_name}: REMS outpatient-setting certification {' and '.join(self.missing)} not recorded. "
            "Treatment sessions need a certified setting."
        )


_SITE_NAME_TAKEN = FieldError("name", "another site already has this name")
_NPI_TAKEN = FieldError("npi", "another prescriber already has this NPI")

# --- sites -------------------------------------------------------------------------------------------


def _clean_site(details: SiteDetails) -> SiteDetails:
    details = stripped(details)
    return replace(
        details,
        state=details.state.upper(),
        phone=normalize_phone(details.phone) or details.phone,
        fax=normalize_phone(details.fax) or details.fax,
    )


def _site_errors(session: Session, details: SiteDetails, *, site_id: int | None, today: date) -> list[FieldError]:
    errors: list[FieldError] = []
    if not details.name:
        errors.append(FieldError("name", "required"))
    else:
        clash = session.exec(
            select(Site.id).where(func.lower(Site.name) == details.name.lower(), Site.id != site_id)
        ).first()
        if clash is not None:
            errors.append(_SITE_NAME_TAKEN)
    checks: list[tuple[str, str | None]] = [
        ("state", state_problem(details.state)),
        ("zip_code", zip_problem(details.zip_code)),
        ("phone", phone_problem(details.phone, label="phone")),
        ("fax", phone_problem(details.fax, label="fax")),
        ("npi", npi_problem(details.npi) if details.npi else None),
        ("tin", tin_problem(details.tin)),
        (
            "rems_certified_on",
            past_date_problem(details.rems_certified_on, today=today, label="certification date"),
        ),
    ]
    errors += [FieldError(field, message) for field, message in checks if message]
    if details.rems_certified_until and (details.rems_certified_on is None
                                         or details.rems_certified_until < details.rems_certified_on):
        errors.append(FieldError("rems_certified_until", "the certification cannot end before it began"))
    if details.rems_certified_on and not details.rems_setting_id:
        errors.append(FieldError("rems_setting_id", "enter the certification id that goes with the date"))
    return errors


def create_site(session: Session, *, details: SiteDetails, today: date | None = None) -> Site:
    """Add a clinic site; raises ValidationFailed naming each bad field (nothing is written then)."""
    details = _clean_site(details)
    errors = _site_errors(session, details, site_id=None, today=today or date.today())
    if errors:
        raise ValidationFailed(errors)
    site = Site(**asdict(details))
    session.add(site)
    flush_edit(session, entity="site", unique=_SITE_NAME_TAKEN)
    return site


def update_site(
    session: Session, *, site_id: int, expected_version: int, details: SiteDetails, today: date | None = None
) -> Site:
    """Save edits to a site opened at `expected_version`; StaleEdit when someone saved it meanwhile."""
    site = check_version(get_site(session, site_id=site_id), expected_version=expected_version, entity="site")
    details = _clean_site(details)
    errors = _site_errors(session, details, site_id=site_id, today=today or date.today())
    if errors:
        raise ValidationFailed(errors)
    return apply_details(session, site, details, entity="site", unique=_SITE_NAME_TAKEN)


def get_site(session: Session, *, site_id: int) -> Site:
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound("No such site.")
    return site


def list_sites(session: Session) -> Sequence[Site]:
    return session.exec(select(Site).order_by(col(Site.name))).all()


def rems_certification_warnings(session: Session) -> list[CertificationWarning]:
    """Sites without a REMS outpatient-setting certification id or date (REMS certifies each setting)."""
    warnings = []
    for site in list_sites(session):
        missing = tuple(
            label
            for label, value in (("id", site.rems_setting_id), ("date", site.rems_certified_on))
            if not value
        )
        if missing:
            assert site.id is not None
            warnings.append(CertificationWarning(site.id, site.name, missing))
    return warnings


# --- prescribers -------------------------------------------------------------------------------------


def _clean_prescriber(details: PrescriberDetails) -> PrescriberDetails:
    details = stripped(details)
    return replace(
        details,
        email=details.email.lower(),
        phone=normalize_phone(details.phone) or details.phone,
        fax=normalize_phone(details.fax) or details.fax,
    )


def _prescriber_errors(session: Session, details: PrescriberDetails, *, prescriber_id: int | None) -> list[FieldError]:
    errors: list[FieldError] = []
    for name in ("first_name", "last_name"):
        if not getattr(details, name):
            errors.append(FieldError(name, "required"))
    npi_message = npi_problem(details.npi)
    if npi_message:
        errors.append(FieldError("npi", npi_message))
    else:
        clash = session.exec(
            select(Prescriber.id).where(Prescriber.npi == details.npi, Prescriber.id != prescriber_id)
        ).first()
        if clash is not None:
            errors.append(_NPI_TAKEN)
    if details.specialty not in SPECIALTIES:
        errors.append(FieldError("specialty", f"expected one of {', '.join(SPECIALTIES)}"))
    for name in ("phone", "fax"):
        message = phone_problem(getattr(details, name), label=name)
        if message:
            errors.append(FieldError(name, message))
    if details.email and "@" not in details.email:
        errors.append(FieldError("email", "not an e-mail address"))
    if details.site_id is not None and session.get(Site, details.site_id) is None:
        errors.append(FieldError("site_id", "no such site"))
    return errors


def create_prescriber(session: Session, *, details: PrescriberDetails) -> Prescriber:
    """Add a prescriber; raises ValidationFailed naming each bad field (nothing is written then)."""
    details = _clean_prescriber(details)
    errors = _prescriber_errors(session, details, prescriber_id=None)
    if errors:
        raise ValidationFailed(errors)
    prescriber = Prescriber(**asdict(details))
    session.add(prescriber)
    flush_edit(session, entity="prescriber", unique=_NPI_TAKEN)
    return prescriber


def update_prescriber(
    session: Session, *, prescriber_id: int, expected_version: int, details: PrescriberDetails
) -> Prescriber:
    """Save edits to a prescriber opened at `expected_version`; StaleEdit when someone saved it meanwhile."""
    prescriber = check_version(
        get_prescriber(session, prescriber_id=prescriber_id), expected_version=expected_version, entity="prescriber"
    )
    details = _clean_prescriber(details)
    errors = _prescriber_errors(session, details, prescriber_id=prescriber_id)
    if errors:
        raise ValidationFailed(errors)
    return apply_details(session, prescriber, details, entity="prescriber", unique=_NPI_TAKEN)


def get_prescriber(session: Session, *, prescriber_id: int) -> Prescriber:
    prescriber = session.get(Prescriber, prescriber_id)
    if prescriber is None:
        raise NotFound("No such prescriber.")
    return prescriber


def list_prescribers(
    session: Session, *, site_id: int | None = None, include_inactive: bool = True
) -> Sequence[Prescriber]:
    query = select(Prescriber)
    if site_id is not None:
        query = query.where(Prescriber.site_id == site_id)
    if not include_inactive:
        query = query.where(Prescriber.active == True)  # noqa: E712
    return session.exec(query.order_by(col(Prescriber.last_name), col(Prescriber.first_name))).all()

