"""Field-level checks shared by every service (each returns a message, or None when the value is fine)."""

from __future__ import annotations

import re
from datetime import date

# Instrument score ranges: PHQ-9 0-27, MADRS 0-60, HAM-D17 0-52, QIDS-SR16 0-27, BDI-II 0-63.
SCALE_RANGES: dict[str, tuple[int, int]] = {
    "PHQ-9": (0, 27),
    "MADRS": (0, 60),
    "HAM-D17": (0, 52),
    "QIDS-SR16": (0, 27),
    "BDI-II": (0, 63),
}

_ICD10 = re.compile(r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?$")
US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
    "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR VI GU AS MP".split()
)


def npi_problem(npi: str) -> str | None:
    """NPI: 10 digits whose last digit is the Luhn check digit over '80840' + the first nine (CMS)."""
    if not re.fullmatch(r"\d{10}", npi or ""):
        return "an NPI has exactly 10 digits"
    digits = [int(d) for d in "80840" + npi]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return None if total % 10 == 0 else "this NPI fails its check digit; check for a typo"


def icd10_problem(code: str) -> str | None:
    """ICD-10-CM shape: letter, two characters, optional dot and up to four more (e.g. F33.2)."""
    if not _ICD10.match((code or "").strip().upper()):
        return "not an ICD-10-CM code (expected a form like F33.2)"
    return None


def score_problem(instrument: str, score: int) -> str | None:
    if instrument not in SCALE_RANGES:
        return f"unknown instrument; expected one of {', '.join(SCALE_RANGES)}"
    low, high = SCALE_RANGES[instrument]
    if not low <= score <= high:
        return f"{instrument} scores run from {low} to {high}"
    return None


def past_date_problem(value: date | None, *, today: date, label: str = "date") -> str | None:
    if value is not None and value > today:
        return f"{label} cannot be in the future"
    return None


def state_problem(state: str) -> str | None:
    if state and state.upper() not in US_STATES:
        return "use the two-letter US state or territory code"
    return None
