"""Which sign-in session may fetch which generated document, and until when (kept in process memory).

The web server (desk.web) refuses a registered document to any other session, after the grant expires,
and after sign-out. Grants live only as long as the process, like the files Streamlit serves.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from desk.models import utcnow

KEEP_EXPIRED = timedelta(days=1)


@dataclass(frozen=True)
class Grant:
    """One generated document handed to one session. `kind` and `record_id` are audited; never PHI."""

    web_session_id: int
    kind: str
    record_id: str
    expires_at: datetime


class Decision(Enum):
    NOT_REGISTERED = "not registered"
    ALLOWED = "allowed"
    REFUSED = "refused"


class DownloadGrants:
    """Thread-safe map from a served file's id to its grant."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._grants: dict[str, Grant] = {}

    def grant(
        self,
        *,
        file_id: str,
        web_session_id: int,
        kind: str,
        record_id: str,
        minutes: int,
        now: datetime | None = None,
    ) -> Grant:
        """Give `file_id` to one session for `minutes` (a later grant of the same file replaces it)."""
        now = now or utcnow()
        grant = Grant(web_session_id, kind, record_id, now + timedelta(minutes=minutes))
        with self._lock:
            # Expired grants are kept (and refused) for a day, well past the life of the served file.
            self._grants = {k: g for k, g in self._grants.items() if g.expires_at > now - KEEP_EXPIRED}
            self._grants[file_id] = grant
        return grant

    def decide(
        self, *, file_id: str, web_session_id: int, now: datetime | None = None
    ) -> tuple[Decision, Grant | None]:
        now = now or utcnow()
        with self._lock:
            grant = self._grants.get(file_id)
        if grant is None:
            return Decision.NOT_REGISTERED, None
        if grant.web_session_id != web_session_id or grant.expires_at <= now:
            return Decision.REFUSED, grant
        return Decision.ALLOWED, grant

    def revoke_session(self, *, web_session_id: int) -> None:
        """Drop every grant of a session (sign-out); its files are then refused to everyone."""
        with self._lock:
            for file_id, grant in list(self._grants.items()):
                if grant.web_session_id == web_session_id:
                    self._grants[file_id] = Grant(grant.web_session_id, grant.kind, grant.record_id, utcnow())


GRANTS = DownloadGrants()
