"""Field-level checks shared by every service (each returns a message, or None when the value is fine)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import inspect as sa_inspect

from desk.errors import FieldError, ValidationFailed

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


def phone_problem(phone: str, *, label: str = "phone") -> str | None:
    """US phone or fax: 10 digits (an optional leading 1 and any punctuation are accepted)."""
    if phone and normalize_phone(phone) is None:
        return f"{label} needs 10 digits, like 217-555-0100"
    return None


def normalize_phone(phone: str) -> str | None:
    """NNN-NNN-NNNN for a 10-digit US number (or 11 digits starting with 1); None when malformed."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10 or re.sub(r"[\d\s().+-]", "", phone):
        return None
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"


def tin_problem(tin: str) -> str | None:
    """Federal tax id (EIN) written NN-NNNNNNN."""
    if tin and not re.fullmatch(r"\d{2}-\d{7}", tin):
        return "a tax id (TIN) looks like 12-3456789"
    return None


def zip_problem(zip_code: str) -> str | None:
    if zip_code and not re.fullmatch(r"\d{5}(-\d{4})?", zip_code):
        return "a ZIP code is 5 digits, or 5+4 like 62701-1234"
    return None


class DateTextError(ValueError):
    """A typed date that is malformed or does not exist; the message is safe to show next to the field."""


def parse_date_text(text: str) -> date:
    """A date typed as YYYY-MM-DD or MM/DD/YYYY (the two forms staff use); DateTextError otherwise."""
    raw = (text or "").strip()
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", raw)
    us = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", raw)
    if iso:
        year, month, day = (int(part) for part in iso.groups())
    elif us:
        month, day, year = (int(part) for part in us.groups())
    else:
        raise DateTextError("use YYYY-MM-DD or MM/DD/YYYY")
    try:
        return date(year, month, day)
    except ValueError:
        raise DateTextError("this date does not exist on the calendar") from None


def birth_date_problem(dob: date | None, *, today: date) -> str | None:
    """A birth date must be in the past and no more than 120 years ago."""
    if dob is None:
        return "required"
    if dob > today:
        return "date of birth cannot be in the future"
    if dob < date(today.year - 120, 1, 1):
        return "date of birth is more than 120 years ago; check the year"
    return None


def email_problem(email: str) -> str | None:
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        return "not an e-mail address"
    return None


# C0 controls other than tab/line breaks, DEL and C1 controls: NUL cannot be stored in PostgreSQL text and
# the others are invisible on screen and in print (pasted in from other programs, or planted).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile(r"[\t\n\r\u2028\u2029]")
# Free-text columns typed in a multi-line box; every other text column holds one line.
MULTILINE_COLUMNS = frozenset({
    "notes", "note", "reason", "description", "details", "sae_details", "denial_reason", "end_reason",
    "field_map_yaml", "changes_json", "old_value", "new_value", "schedule_reason", "policy_change",
    "text",  # payer_policy_file.text: the YAML file as it was last seen
})


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Free text from a person or a file: no control characters; tab and line breaks only where the
    field is a multi-line note."""
    control = _CONTROL.search(value)
    if control:
        return (f"contains an invisible control character (U+{ord(control.group()):04X}) that cannot be stored; "
                "retype the text or remove that character")
    if not multiline and _LINE_BREAK.search(value):
        return "must be a single line: remove the tab or line break"
    return None


def unstorable_text(objects: Iterable[Any]) -> list[FieldError]:
    """Problems of the text attributes of records about to be written (new, or changed attributes only)."""
    errors: list[FieldError] = []
    for obj in objects:
        state = sa_inspect(obj, raiseerr=False)
        if state is None or getattr(obj, "__tablename__", "") == "audit_event":
            continue
        for attr in state.mapper.column_attrs:
            current = state.attrs[attr.key]
            if state.persistent and not current.history.has_changes():
                continue  # unchanged (and possibly not loaded): nothing new is written
            value = current.value
            if not isinstance(value, str):
                continue
            problem = text_problem(value, multiline=attr.key in MULTILINE_COLUMNS)
            if problem:
                errors.append(FieldError(attr.key, problem))
    return errors


def refuse_unstorable_text(session: Any, _context: Any, _instances: Any) -> None:
    """before_flush: nothing with a control character (or a line break in a one-line field) is written."""
    errors = unstorable_text([*session.new, *session.dirty])
    if errors:
        raise ValidationFailed(errors)


def refuse_nul_parameters(_conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any,
                          _executemany: bool) -> None:
    """before_cursor_execute: a NUL in any query value (a search box, a sign-in name) is refused the same
    way on both databases, instead of PostgreSQL's driver error (SQLite would store or match it)."""
    batches = parameters if isinstance(parameters, list | tuple) and parameters and \
        isinstance(parameters[0], dict | list | tuple) else [parameters]
    for batch in batches:
        values = batch.values() if isinstance(batch, dict) else batch or ()
        if any(isinstance(v, str) and "\x00" in v for v in values):
            raise ValidationFailed([FieldError("text", "contains a NUL character, which cannot be stored or "
                                               "searched for; retype the text")])
