"""Who may read and who may record REMS sessions (checked by the pages and again by the services)."""

from __future__ import annotations

from desk.auth import CurrentUser, require

READ_ROLES = ("nurse", "admin", "billing")
RECORD_ROLES = ("nurse", "admin")


def can_record(user: CurrentUser | None) -> bool:
    return user is not None and user.has_any(*RECORD_ROLES)


def require_record(user: CurrentUser | None) -> CurrentUser:
    """Raise PermissionDenied unless `user` may record or change REMS sessions and enrollments."""
    return require(user, *RECORD_ROLES)
