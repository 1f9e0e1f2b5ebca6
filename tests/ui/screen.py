"""What a reader sees of element text drawn through `ui.text.esc`: escapes and word joiners removed."""

from __future__ import annotations

import re
from typing import TypeVar

from ui.text import WORD_JOINER

T = TypeVar("T")


def shown(markdown: T) -> T:
    """The text as the browser shows it (markdown backslash escapes resolved); other values as they are."""
    if not isinstance(markdown, str):
        return markdown
    return re.sub(r"\\(.)", r"\1", markdown).replace(WORD_JOINER, "")  # type: ignore[return-value]
