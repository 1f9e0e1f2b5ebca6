"""The one handler for errors nobody planned for: log a reference, the exception types and where they
happened, never the exception's text (a database error quotes the row it was given: names, birth dates)."""

from __future__ import annotations

import logging
import secrets
import traceback
from pathlib import Path

LOG = logging.getLogger("desk.faults")
_FRAMES = 12


def report_unexpected(exc: BaseException) -> str:
    """Log `exc` without its values and return the reference a user can quote."""
    reference = secrets.token_hex(5)
    chain: list[str] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 5:
        chain.append(f"{type(current).__module__}.{type(current).__qualname__}")
        current = current.__cause__ or current.__context__
    frames = traceback.extract_tb(exc.__traceback__)[-_FRAMES:]
    where = " > ".join(f"{Path(frame.filename).name}:{frame.lineno} {frame.name}" for frame in frames)
    LOG.error("unexpected error, reference %s: %s; at %s", reference, " from ".join(chain), where or "(no frames)")
    return reference


def unexpected_message(reference: str) -> str:
    """What a person sees instead of the error."""
    return (f"Something unexpected went wrong and nothing was saved. Quote reference {reference} "
            "to your administrator; the server log has the details.")
