"""Loading a row for an edit at the version the user saw, and flushing so concurrent saves are reported."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from desk.database import unit_of_work
from desk.errors import FieldError, NotFound, StaleEdit, ValidationFailed
from desk.models import Site
from desk.records import apply_details, check_version, details_of, flush_edit, load_for_edit, stripped
from desk.sites import SiteDetails
from tests.factories import make_site


def _site_count(engine: Engine) -> int:
    with Session(engine) as check:
        return check.exec(select(func.count()).select_from(Site)).one()


def test_load_for_edit_returns_the_row_at_the_version_opened(session: Session) -> None:
    site = make_site(session)
    assert site.id is not None
    loaded = load_for_edit(session, Site, site.id, expected_version=site.version, entity="site", missing="-")
    assert loaded is site


def test_load_for_edit_refuses_an_older_version(session: Session) -> None:
    site = make_site(session)
    assert site.id is not None
    with pytest.raises(StaleEdit, match="This site was changed by someone else"):
        load_for_edit(session, Site, site.id, expected_version=site.version + 1, entity="site", missing="No such site.")


def test_load_for_edit_names_a_missing_row_with_the_given_message(session: Session) -> None:
    with pytest.raises(NotFound) as caught:
        load_for_edit(session, Site, 987654, expected_version=1, entity="site", missing="No such site.")
    assert str(caught.value) == "No such site."


def test_no_expected_version_skips_the_check(session: Session) -> None:
    site = make_site(session)
    assert site.id is not None
    assert load_for_edit(session, Site, site.id, expected_version=None, entity="site", missing="-") is site
    assert check_version(site, expected_version=None, entity="site") is site
    with pytest.raises(StaleEdit, match="This clinic site was changed"):
        check_version(site, expected_version=site.version + 1, entity="clinic site")


def test_concurrent_save_is_a_stale_edit_and_nothing_is_written(engine: Engine) -> None:
    with unit_of_work(engine, actor="a") as setup:
        site_id = make_site(setup, city="Before").id
    assert site_id is not None
    with unit_of_work(engine, actor="a") as first, unit_of_work(engine, actor="b") as second:
        mine = first.get(Site, site_id)
        theirs = second.get(Site, site_id)
        assert mine is not None and theirs is not None
        mine.city = "First"
        first.add(mine)
        first.commit()
        theirs.city = "Second"
        second.add(theirs)
        with pytest.raises(StaleEdit, match="This site was changed by someone else"):
            flush_edit(second, entity="site")
        # Rolled back: the session can be used again and sees the other save.
        reread = second.get(Site, site_id)
        assert reread is not None and reread.city == "First"
    with Session(engine) as check:
        stored = check.get(Site, site_id)
        assert stored is not None and stored.city == "First"


def test_unique_clash_becomes_the_field_message_and_nothing_is_written(engine: Engine) -> None:
    with unit_of_work(engine, actor="a") as setup:
        make_site(setup, name="Lakeside")
    before = _site_count(engine)
    with unit_of_work(engine, actor="b") as session:
        session.add(Site(name="Lakeside"))
        with pytest.raises(ValidationFailed) as caught:
            flush_edit(session, entity="site", unique=FieldError("name", "another site already has this name"))
    assert caught.value.for_field("name") == ["another site already has this name"]
    assert _site_count(engine) == before


def test_integrity_error_without_a_unique_field_propagates(engine: Engine) -> None:
    with unit_of_work(engine, actor="a") as setup:
        make_site(setup, name="Hillside")
    before = _site_count(engine)
    with pytest.raises(IntegrityError), unit_of_work(engine, actor="b") as session:
        session.add(Site(name="Hillside"))
        flush_edit(session, entity="site")
    assert _site_count(engine) == before


def test_details_round_trip_through_a_row(session: Session) -> None:
    site = make_site(session, name="Riverside", city="Dayton")
    details = details_of(site, SiteDetails)
    assert details.name == "Riverside" and details.city == "Dayton"
    assert stripped(SiteDetails(name="  Riverside ", city=" Kettering", state="OH")) == SiteDetails(
        name="Riverside", city="Kettering", state="OH"
    )
    version = site.version
    saved = apply_details(session, site, SiteDetails(name="Riverside", city="Kettering"), entity="site")
    assert saved is site
    assert (site.city, site.state, site.version) == ("Kettering", "", version + 1)
