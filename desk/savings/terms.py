"""The program's terms per calendar year: clinic-editable settings with shipped defaults and a change history.

Domain notes §4: the patient pays as little as $10 per treatment and a treatment is up to 3 devices on one
day [24][26]; the observation rebate excludes MA, MI, MN and RI [24]. The $7,150 yearly drug maximum and
the device windows (24 in the first 24 days, then 23 per 24 days) come from the older CarePath terms and
are unconfirmed for the current program; the observation-rebate maximum exists but its amount is
unconfirmed. Unconfirmed values ship marked as such until an administrator confirms them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from desk.auth import CurrentUser, require
from desk.errors import FieldError, StaleEdit, ValidationFailed
from desk.models import SavingsTerms, SavingsTermsChange, utcnow
from desk.savings.eligibility import DEFAULT_REBATE_EXCLUDED_STATES
from desk.savings.money import format_cents
from desk.validation import US_STATES

Kind = Literal["money", "optional_money", "count", "days", "states"]


@dataclass(frozen=True)
class TermField:
    """One editable setting: its label, what kind of value it holds, and where the default comes from."""

    name: str
    label: str
    kind: Kind
    source: str


TERM_FIELDS: tuple[TermField, ...] = (
    TermField("patient_cost_per_treatment_cents", "Patient cost per treatment", "money",
              "spravatohcp.com patient support; janssencarepath.com ('as little as $10')"),
    TermField("drug_benefit_max_cents", "Yearly maximum, drug benefit", "money",
              "older CarePath terms ($7,150 per calendar year); current cap unconfirmed"),
    TermField("observation_rebate_max_cents", "Yearly maximum, observation rebate", "optional_money",
              "a yearly limit exists; amount unconfirmed (enter it from the current program terms)"),
    TermField("max_devices_per_day", "Devices per day", "count",
              "a treatment is up to 3 devices on one day"),
    TermField("initial_window_days", "First window: days", "days", "older CarePath terms; unconfirmed"),
    TermField("initial_window_devices", "First window: devices", "count", "older CarePath terms; unconfirmed"),
    TermField("later_window_days", "Later windows: days", "days", "older CarePath terms; unconfirmed"),
    TermField("later_window_devices", "Later windows: devices", "count", "older CarePath terms; unconfirmed"),
    TermField("rebate_excluded_states", "States excluded from the observation rebate", "states",
              "spravatohcp.com patient support"),
)
FIELD_NAMES = tuple(f.name for f in TERM_FIELDS)
FIELDS_BY_NAME = {f.name: f for f in TERM_FIELDS}

SHIPPED_DEFAULTS: dict[str, int | str | None] = {
    "patient_cost_per_treatment_cents": 1000,
    "drug_benefit_max_cents": 715_000,
    "observation_rebate_max_cents": None,
    "max_devices_per_day": 3,
    "initial_window_days": 24,
    "initial_window_devices": 24,
    "later_window_days": 24,
    "later_window_devices": 23,
    "rebate_excluded_states": ",".join(sorted(DEFAULT_REBATE_EXCLUDED_STATES)),
}
SHIPPED_UNCONFIRMED = frozenset(
    {
        "drug_benefit_max_cents",
        "observation_rebate_max_cents",
        "initial_window_days",
        "initial_window_devices",
        "later_window_days",
        "later_window_devices",
    }
)


@dataclass(frozen=True)
class ProgramTerms:
    """The terms that apply to one calendar year, stored or carried forward from an earlier year."""

    year: int
    patient_cost_per_treatment_cents: int
    drug_benefit_max_cents: int
    observation_rebate_max_cents: int | None
    max_devices_per_day: int
    initial_window_days: int
    initial_window_devices: int
    later_window_days: int
    later_window_devices: int
    rebate_excluded_states: frozenset[str]
    unconfirmed: frozenset[str] = field(default_factory=frozenset)
    stored: bool = False
    carried_from: int | None = None
    version: int | None = None
    notes: str = ""

    def is_unconfirmed(self, name: str) -> bool:
        return name in self.unconfirmed

    def display_value(self, name: str) -> str:
        value = getattr(self, name)
        kind = FIELDS_BY_NAME[name].kind
        if kind in ("money", "optional_money"):
            return "not set" if value is None else format_cents(value)
        if kind == "states":
            return ", ".join(sorted(value)) or "none"
        return str(value)


def _states(raw: str) -> frozenset[str]:
    return frozenset(s.strip().upper() for s in raw.split(",") if s.strip())


def _from_row(row: SavingsTerms, *, year: int, stored: bool) -> ProgramTerms:
    return ProgramTerms(
        year=year,
        patient_cost_per_treatment_cents=row.patient_cost_per_treatment_cents,
        drug_benefit_max_cents=row.drug_benefit_max_cents,
        observation_rebate_max_cents=row.observation_rebate_max_cents,
        max_devices_per_day=row.max_devices_per_day,
        initial_window_days=row.initial_window_days,
        initial_window_devices=row.initial_window_devices,
        later_window_days=row.later_window_days,
        later_window_devices=row.later_window_devices,
        rebate_excluded_states=_states(row.rebate_excluded_states),
        unconfirmed=frozenset(n for n in row.unconfirmed.split(",") if n),
        stored=stored,
        carried_from=None if stored else row.year,
        version=row.version if stored else None,
        notes=row.notes if stored else "",
    )


def shipped_terms(year: int) -> ProgramTerms:
    """The defaults the desk ships with, unconfirmed values marked."""
    row = SavingsTerms(year=year, unconfirmed=",".join(sorted(SHIPPED_UNCONFIRMED)), **SHIPPED_DEFAULTS)  # type: ignore[arg-type]
    return replace(_from_row(row, year=year, stored=False), carried_from=None)


def terms_for_year(session: Session, *, year: int) -> ProgramTerms:
    """The year's stored terms; else the latest earlier year's, carried forward; else the shipped defaults."""
    row = session.exec(select(SavingsTerms).where(SavingsTerms.year == year)).first()
    if row is not None:
        return _from_row(row, year=year, stored=True)
    earlier = session.exec(
        select(SavingsTerms).where(SavingsTerms.year < year).order_by(col(SavingsTerms.year).desc())
    ).first()
    if earlier is not None:
        return _from_row(earlier, year=year, stored=False)
    return shipped_terms(year)


def _check(values: Mapping[str, object]) -> tuple[dict[str, int | str | None], list[FieldError]]:
    clean: dict[str, int | str | None] = {}
    errors: list[FieldError] = []
    for spec in TERM_FIELDS:
        if spec.name not in values:
            errors.append(FieldError(spec.name, "required"))
            continue
        raw = values[spec.name]
        if spec.kind == "states":
            states = _states(str(raw or ""))
            bad = sorted(s for s in states if s not in US_STATES)
            if bad:
                errors.append(FieldError(spec.name, f"{bad[0]!r} is not a two-letter US state or territory code"))
            clean[spec.name] = ",".join(sorted(states))
            continue
        if raw is None:
            if spec.kind == "optional_money":
                clean[spec.name] = None
            else:
                errors.append(FieldError(spec.name, "required"))
            continue
        if isinstance(raw, bool) or not isinstance(raw, int):
            errors.append(FieldError(spec.name, "must be a whole number"))
            continue
        if spec.kind in ("money", "optional_money") and raw < 0:
            errors.append(FieldError(spec.name, "cannot be negative"))
        elif spec.kind == "count" and raw < 1:
            errors.append(FieldError(spec.name, "must be at least 1"))
        elif spec.kind == "days" and not 1 <= raw <= 366:
            errors.append(FieldError(spec.name, "must be between 1 and 366 days"))
        clean[spec.name] = raw
    return clean, errors


def save_terms(
    session: Session,
    *,
    user: CurrentUser,
    year: int,
    values: Mapping[str, object],
    unconfirmed: Iterable[str],
    notes: str = "",
    expected_version: int | None,
) -> SavingsTerms:
    """Create or change one year's terms (administrators only), recording each changed value in the history.

    `expected_version` is the version the editor saw, or None when the year had no stored terms yet.
    """
    require(user, "admin")
    errors: list[FieldError] = []
    if not 2000 <= year <= 2100:
        errors.append(FieldError("year", "must be a calendar year between 2000 and 2100"))
    clean, value_errors = _check(values)
    errors += value_errors
    marked = sorted(set(unconfirmed))
    unknown = [n for n in marked if n not in FIELD_NAMES]
    if unknown:
        errors.append(FieldError("unconfirmed", f"unknown setting {unknown[0]!r}"))
    if errors:
        raise ValidationFailed(errors)

    row = session.exec(select(SavingsTerms).where(SavingsTerms.year == year)).first()
    new_values: dict[str, int | str | None] = {**clean, "unconfirmed": ",".join(marked), "notes": notes.strip()}
    if row is None:
        if expected_version is not None:
            raise StaleEdit("year's program terms")
        row = SavingsTerms(year=year, updated_by=user.username, **new_values)  # type: ignore[arg-type]
        changes = [(name, "", _text(value)) for name, value in new_values.items()]
    else:
        if expected_version is None or row.version != expected_version:
            raise StaleEdit("year's program terms")
        changes = []
        for name, value in new_values.items():
            old = getattr(row, name)
            if old != value:
                changes.append((name, _text(old), _text(value)))
                setattr(row, name, value)
        if not changes:
            return row
        row.updated_at = utcnow()
        row.updated_by = user.username
    session.add(row)
    try:
        session.flush()
    except (IntegrityError, StaleDataError) as exc:
        raise StaleEdit("year's program terms") from exc
    assert row.id is not None
    for name, old_text, new_text in changes:
        session.add(
            SavingsTermsChange(
                terms_id=row.id, changed_by=user.username, field_name=name, old_value=old_text, new_value=new_text
            )
        )
    session.flush()
    return row


def _text(value: object) -> str:
    return "" if value is None else str(value)


def terms_history(session: Session, *, year: int) -> list[SavingsTermsChange]:
    """Every recorded change of the year's terms, newest first."""
    row = session.exec(select(SavingsTerms).where(SavingsTerms.year == year)).first()
    if row is None:
        return []
    return list(
        session.exec(
            select(SavingsTermsChange)
            .where(SavingsTermsChange.terms_id == row.id)
            .order_by(col(SavingsTermsChange.id).desc())
        ).all()
    )
