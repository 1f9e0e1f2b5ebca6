"""Program terms: shipped defaults marked unconfirmed, admin-only edits, history, stale edits."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from desk.auth import CurrentUser
from desk.errors import PermissionDenied, StaleEdit, ValidationFailed
from desk.models import SavingsTerms, SavingsTermsChange
from desk.savings.terms import SHIPPED_DEFAULTS, SHIPPED_UNCONFIRMED, save_terms, terms_for_year, terms_history

ADMIN = CurrentUser(1, "admin1", "Admin", ("admin",))
BILLER = CurrentUser(2, "biller", "Biller", ("billing",))


def values(**changes: Any) -> dict[str, Any]:
    """The shipped defaults with some values changed."""
    return {**SHIPPED_DEFAULTS, **changes}


def test_shipped_defaults_mark_the_unconfirmed_figures(session: Session) -> None:
    terms = terms_for_year(session, year=2026)
    assert not terms.stored and terms.carried_from is None
    assert terms.drug_benefit_max_cents == 715_000
    assert terms.patient_cost_per_treatment_cents == 1000
    assert terms.max_devices_per_day == 3
    assert (terms.initial_window_days, terms.initial_window_devices) == (24, 24)
    assert (terms.later_window_days, terms.later_window_devices) == (24, 23)
    assert terms.observation_rebate_max_cents is None
    assert terms.rebate_excluded_states == frozenset({"MA", "MI", "MN", "RI"})
    assert terms.is_unconfirmed("drug_benefit_max_cents")
    assert terms.is_unconfirmed("observation_rebate_max_cents")
    assert not terms.is_unconfirmed("rebate_excluded_states")
    assert terms.display_value("observation_rebate_max_cents") == "not set"


def test_admin_saves_terms_and_history_records_each_change(session: Session) -> None:
    row = save_terms(session, user=ADMIN, year=2026, values=values(), unconfirmed=SHIPPED_UNCONFIRMED,
                     expected_version=None)
    assert len(terms_history(session, year=2026)) == len(SHIPPED_DEFAULTS) + 2  # + unconfirmed, notes
    save_terms(session, user=ADMIN, year=2026,
               values=values(drug_benefit_max_cents=800_000, observation_rebate_max_cents=50_000),
               unconfirmed=SHIPPED_UNCONFIRMED - {"drug_benefit_max_cents"}, expected_version=row.version)
    terms = terms_for_year(session, year=2026)
    assert terms.stored and terms.drug_benefit_max_cents == 800_000
    assert not terms.is_unconfirmed("drug_benefit_max_cents")
    latest = {c.field_name: c for c in terms_history(session, year=2026)[:3]}
    assert latest["drug_benefit_max_cents"].old_value == "715000"
    assert latest["drug_benefit_max_cents"].new_value == "800000"
    assert latest["observation_rebate_max_cents"].old_value == ""
    assert "drug_benefit_max_cents" in latest["unconfirmed"].old_value
    assert all(c.changed_by == "admin1" for c in latest.values())


def test_a_year_without_terms_carries_the_latest_earlier_year(session: Session) -> None:
    save_terms(session, user=ADMIN, year=2025, values=values(drug_benefit_max_cents=700_000), unconfirmed=[],
               expected_version=None)
    terms = terms_for_year(session, year=2027)
    assert terms.drug_benefit_max_cents == 700_000 and not terms.stored and terms.carried_from == 2025
    assert terms_for_year(session, year=2024).drug_benefit_max_cents == 715_000


def test_billing_cannot_edit_terms(session: Session) -> None:
    with pytest.raises(PermissionDenied):
        save_terms(session, user=BILLER, year=2026, values=values(), unconfirmed=[], expected_version=None)
    assert session.exec(select(SavingsTerms)).all() == []


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"drug_benefit_max_cents": -1}, "drug_benefit_max_cents", "cannot be negative"),
        ({"max_devices_per_day": 0}, "max_devices_per_day", "must be at least 1"),
        ({"later_window_days": 400}, "later_window_days", "must be between 1 and 366 days"),
        ({"rebate_excluded_states": "MA, XX"}, "rebate_excluded_states", "'XX' is not a two-letter US state"),
        ({"patient_cost_per_treatment_cents": None}, "patient_cost_per_treatment_cents", "required"),
        ({"initial_window_devices": 2.5}, "initial_window_devices", "must be a whole number"),
    ],
)
def test_bad_terms_are_refused_and_nothing_written(
    session: Session, change: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as failure:
        save_terms(session, user=ADMIN, year=2026, values=values(**change), unconfirmed=[], expected_version=None)
    assert any(message in m for m in failure.value.for_field(field))
    assert session.exec(select(SavingsTerms)).all() == []
    assert session.exec(select(SavingsTermsChange)).all() == []


def test_stale_edit_is_refused_and_loses_nothing(session: Session) -> None:
    row = save_terms(session, user=ADMIN, year=2026, values=values(), unconfirmed=[], expected_version=None)
    opened = row.version
    save_terms(session, user=ADMIN, year=2026, values=values(drug_benefit_max_cents=1), unconfirmed=[],
               expected_version=opened)
    with pytest.raises(StaleEdit):
        save_terms(session, user=ADMIN, year=2026, values=values(drug_benefit_max_cents=2), unconfirmed=[],
                   expected_version=opened)
    assert terms_for_year(session, year=2026).drug_benefit_max_cents == 1
    with pytest.raises(StaleEdit):
        save_terms(session, user=ADMIN, year=2026, values=values(), unconfirmed=[], expected_version=None)
