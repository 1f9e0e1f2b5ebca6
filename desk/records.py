"""Editing a stored row safely: load it at the version the user saw, and flush so a concurrent save is reported.

Editable rows carry a `version` column (desk/models/base.py::version_column). An edit names the version the
user opened; when the stored row has moved on, the edit is refused with StaleEdit rather than overwriting
someone else's save.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from desk.errors import FieldError, NotFound, StaleEdit, ValidationFailed


class Versioned(Protocol):
    """A row with an optimistic-locking version column."""

    version: int


_Versioned = TypeVar("_Versioned", bound=Versioned)


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
