"""Domain errors: each carries a message safe to show a user (never PHI values)."""

from __future__ import annotations

from dataclasses import dataclass


class DeskError(Exception):
    """Base of every error the desk raises on purpose."""


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ValidationFailed(DeskError):
    """Input was rejected; nothing was written."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))

    def for_field(self, name: str) -> list[str]:
        return [e.message for e in self.errors if e.field == name]


class NotFound(DeskError):
    """The record asked for does not exist (or is not visible to the caller)."""


class StaleEdit(DeskError):
    """Someone else saved the record since it was opened."""

    def __init__(self, entity: str) -> None:
        super().__init__(
            f"This {entity} was changed by someone else since you opened it. "
            "Your changes were not saved; reload to see the latest version and apply them again."
        )


class PermissionDenied(DeskError):
    """The user's role does not allow the action."""


class StartRefused(DeskError):
    """The desk will not start in this state; the message says what to change."""


class SignInFailed(DeskError):
    """Wrong credentials, locked or inactive account (message never says which user exists)."""
