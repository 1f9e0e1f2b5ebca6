"""Editing a stored row safely: load it at the version the user saw, and flush so a concurrent save is reported.

Editable rows carry a `version` column (desk/models/base.py::version_column). An edit names the version the
user opened; when the stored row has moved on, the edit is refused with StaleEdit rather than overwriting
someone else's save. Edit forms carry a frozen dataclass of the editable fields ("details"): `details_of`
reads one from a row, `stripped` trims its text, `apply_details` writes it back.
"""

from __future__ import annotations

from dataclasses import asdict, fields, replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, SQLModel

from desk.errors import FieldError, NotFound, StaleEdit, ValidationFailed

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


class Versioned(Protocol):
    """A row with an optimistic-locking version column."""

    version: int


_Versioned = TypeVar("_Versioned", bound=Versioned)
_Row = TypeVar("_Row", bound=SQLModel)
_Details = TypeVar("_Details", bound="DataclassInstance")


def check_version(row: _Versioned, *, expected_version: int | None, entity: str) -> _Versioned:
    """`row` itself, or StaleEdit when it is no longer at `expected_version` (None: the caller does not check)."""
    if expected_version is not None and row.version != expected_version:
        raise StaleEdit(entity)
    return row


def load_for_edit(
    session: Session,
    model: type[_Versioned],
    row_id: int,
    *,
    expected_version: int | None,
    entity: str,
    missing: str,
) -> _Versioned:
    """The row `row_id` of `model`: NotFound(`missing`) when there is none, StaleEdit when it changed since opened."""
    row = session.get(model, row_id)
    if row is None:
        raise NotFound(missing)
    return check_version(row, expected_version=expected_version, entity=entity)


def flush_edit(session: Session, *, entity: str, unique: FieldError | None = None) -> None:
    """Flush now so a concurrent save surfaces here as StaleEdit, not as a crash at commit.

    With `unique`, a unique-constraint clash (another user saved the same value between the check and this
    write) becomes that field's message; without it the IntegrityError propagates unchanged. The session is
    rolled back before a StaleEdit or ValidationFailed is raised: nothing of the unit of work is written.
    """
    try:
        session.flush()
    except StaleDataError as exc:
        session.rollback()
        raise StaleEdit(entity) from exc
    except IntegrityError as exc:
        if unique is None:
            raise
        session.rollback()
        raise ValidationFailed([unique]) from exc


def stripped(details: _Details) -> _Details:
    """`details` with the surrounding spaces removed from every text field."""
    values: dict[str, Any] = {k: v.strip() for k, v in asdict(details).items() if isinstance(v, str)}
    return replace(details, **values)


def details_of(row: SQLModel, kind: type[_Details]) -> _Details:
    """The editable details of a stored row (for pre-filling an edit form)."""
    return kind(**{f.name: getattr(row, f.name) for f in fields(kind)})


def apply_details(
    session: Session, row: _Row, details: DataclassInstance, *, entity: str, unique: FieldError | None = None
) -> _Row:
    """Copy every field of validated `details` onto `row` and flush it (see flush_edit)."""
    for name, value in asdict(details).items():
        setattr(row, name, value)
    session.add(row)
    flush_edit(session, entity=entity, unique=unique)
    return row
