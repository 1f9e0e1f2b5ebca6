"""Clinic sites and prescribers: validation, uniqueness, optimistic locking, REMS certification warnings."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlmodel import Session, func, select

from desk.errors import StaleEdit, ValidationFailed
from desk.models import AuditEvent, Prescriber, Site
from desk.sites import (
    PrescriberDetails,
    SiteDetails,
    create_prescriber,
    create_site,
    list_prescribers,
    list_sites,
    rems_certification_warnings,
    update_prescriber,
    update_site,
)
from tests.factories import VALID_NPI, make_prescriber, make_site

TODAY = date(2026, 11, 26)
GOOD_SITE = SiteDetails(
    name="Lakeside Behavioral Health",
    address_line="12 Shore Rd",
    city="Madison",
    state="wi",
    zip_code="53703",
    phone="(608) 555-0134",
    fax="608.555.0135",
    npi=VALID_NPI,
    tin="39-1234567",
    rems_setting_id="OHS123456",
    rems_certified_on=date(2025, 2, 3),
    authorized_representative="Dana Rep",
)
GOOD_PRESCRIBER = PrescriberDetails(first_name="Rae", last_name="Okafor", npi="1245319599", credentials="MD")


def _count(session: Session, model: type[Site] | type[Prescriber]) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_create_site_normalizes_and_saves(session: Session) -> None:
    site = create_site(session, details=GOOD_SITE, today=TODAY)
    session.commit()
    assert site.id is not None
    assert (site.state, site.phone, site.fax) == ("WI", "608-555-0134", "608-555-0135")
    assert site.version == 1


def test_address_line_2_is_kept_and_reaches_the_documents(session: Session) -> None:
    from desk.fhir.pas import _address

    site = create_site(session, details=replace(GOOD_SITE, address_line2="Suite 200"), today=TODAY)
    session.commit()
    assert SiteDetails.of(site).address_line2 == "Suite 200"
    assert _address(site.address_line, site.city, site.state, site.zip_code, site.address_line2)[0]["line"] == [
        "12 Shore Rd", "Suite 200"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": "  "}, "name", "required"),
        ({"npi": "1234567890"}, "npi", "fails its check digit"),
        ({"npi": "12345"}, "npi", "exactly 10 digits"),
        ({"phone": "555-0134"}, "phone", "phone needs 10 digits"),
        ({"fax": "608-555-01345x"}, "fax", "fax needs 10 digits"),
        ({"state": "XX"}, "state", "two-letter US state"),
        ({"zip_code": "5370"}, "zip_code", "5 digits"),
        ({"tin": "391234567"}, "tin", "12-3456789"),
        ({"rems_certified_on": date(2026, 11, 27)}, "rems_certified_on", "cannot be in the future"),
        ({"rems_setting_id": ""}, "rems_setting_id", "certification id"),
    ],
)
def test_bad_site_input_names_the_field_and_writes_nothing(
    session: Session, change: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create_site(session, details=replace(GOOD_SITE, **change), today=TODAY)  # type: ignore[arg-type]
    assert any(message in text for text in caught.value.for_field(field)), caught.value.errors
    assert _count(session, Site) == 0
    assert session.exec(select(AuditEvent)).all() == []


def test_site_name_is_unique_case_insensitively(session: Session) -> None:
    create_site(session, details=GOOD_SITE, today=TODAY)
    with pytest.raises(ValidationFailed) as caught:
        create_site(session, details=replace(GOOD_SITE, name="LAKESIDE behavioral health"), today=TODAY)
    assert caught.value.for_field("name") == ["another site already has this name"]
    assert _count(session, Site) == 1


def test_update_site_checks_version(session: Session) -> None:
    site = make_site(session)
    session.commit()
    assert site.id is not None
    updated = update_site(
        session, site_id=site.id, expected_version=1, details=replace(SiteDetails.of(site), city="Peoria"), today=TODAY
    )
    session.commit()
    assert (updated.city, updated.version) == ("Peoria", 2)
    with pytest.raises(StaleEdit, match="changed by someone else"):
        update_site(
            session, site_id=site.id, expected_version=1, details=replace(SiteDetails.of(site), city="Joliet"),
            today=TODAY,
        )
    session.rollback()
    assert session.get(Site, site.id).city == "Peoria"  # type: ignore[union-attr]


def test_update_site_may_keep_its_own_name_but_not_take_another(session: Session) -> None:
    first = make_site(session, name="North")
    second = make_site(session, name="South")
    assert second.id is not None
    update_site(session, site_id=second.id, expected_version=second.version, details=SiteDetails.of(second),
                today=TODAY)
    with pytest.raises(ValidationFailed) as caught:
        update_site(session, site_id=second.id, expected_version=second.version,
                    details=replace(SiteDetails.of(second), name=first.name), today=TODAY)
    assert caught.value.for_field("name") == ["another site already has this name"]


def test_rems_certification_warnings_list_sites_missing_id_or_date(session: Session) -> None:
    make_site(session, name="Certified")
    no_id = make_site(session, name="No id", rems_setting_id="", rems_certified_on=None)
    no_date = make_site(session, name="No date", rems_certified_on=None)
    warnings = rems_certification_warnings(session)
    assert [(w.site_id, w.missing) for w in warnings] == [(no_date.id, ("date",)), (no_id.id, ("id", "date"))]
    assert "No id: REMS outpatient-setting certification id and date not recorded" in warnings[1].message


def test_create_prescriber(session: Session) -> None:
    site = make_site(session)
    prescriber = create_prescriber(
        session, details=replace(GOOD_PRESCRIBER, site_id=site.id, phone="1 608 555 0199", email=" Rae@Clinic.ORG ")
    )
    assert (prescriber.phone, prescriber.email, prescriber.display_name) == (
        "608-555-0199", "rae@clinic.org", "Rae Okafor, MD",
    )


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"first_name": ""}, "first_name", "required"),
        ({"last_name": " "}, "last_name", "required"),
        ({"npi": "1245319598"}, "npi", "fails its check digit"),
        ({"npi": ""}, "npi", "exactly 10 digits"),
        ({"specialty": "surgeon"}, "specialty", "psychiatrist, psychiatric_np, other"),
        ({"phone": "12"}, "phone", "phone needs 10 digits"),
        ({"fax": "abc"}, "fax", "fax needs 10 digits"),
        ({"email": "nobody"}, "email", "not an e-mail address"),
        ({"site_id": 999_999}, "site_id", "no such site"),
    ],
)
def test_bad_prescriber_input_names_the_field_and_writes_nothing(
    session: Session, change: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create_prescriber(session, details=replace(GOOD_PRESCRIBER, **change))  # type: ignore[arg-type]
    assert any(message in text for text in caught.value.for_field(field)), caught.value.errors
    assert _count(session, Prescriber) == 0


def test_prescriber_npi_is_unique(session: Session) -> None:
    create_prescriber(session, details=GOOD_PRESCRIBER)
    with pytest.raises(ValidationFailed) as caught:
        create_prescriber(session, details=replace(GOOD_PRESCRIBER, first_name="Other"))
    assert caught.value.for_field("npi") == ["another prescriber already has this NPI"]
    assert _count(session, Prescriber) == 1


def test_update_prescriber_checks_version_and_can_deactivate(session: Session) -> None:
    prescriber = make_prescriber(session)
    session.commit()
    assert prescriber.id is not None
    details = replace(PrescriberDetails.of(prescriber), active=False)
    update_prescriber(session, prescriber_id=prescriber.id, expected_version=1, details=details)
    session.commit()
    assert list_prescribers(session, include_inactive=False) == []
    with pytest.raises(StaleEdit):
        update_prescriber(session, prescriber_id=prescriber.id, expected_version=1, details=details)


def test_lists_are_sorted(session: Session) -> None:
    make_site(session, name="Beta")
    make_site(session, name="Alpha")
    site = make_site(session, name="Gamma")
    make_prescriber(session, last_name="Zed", site_id=site.id)
    make_prescriber(session, last_name="Abel")
    assert [s.name for s in list_sites(session)] == ["Alpha", "Beta", "Gamma"]
    assert [p.last_name for p in list_prescribers(session)] == ["Abel", "Zed"]
    assert [p.last_name for p in list_prescribers(session, site_id=site.id)] == ["Zed"]
