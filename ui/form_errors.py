"""A refused save's messages: each next to the input it is about, named by that input's label, all at once.

A save that raises ValidationFailed keeps every FieldError of the form (`keep_errors`) and reruns; on that run the
form draws each message directly under its input through a `FormErrors` built with the form's labels
(`FormErrors.under`), and whatever no input showed (a refusal of the whole record, a stale edit) once after the
form (`FormErrors.rest`). Messages may quote what was typed: they are drawn through `esc`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import streamlit as st

from desk.errors import DeskError, FieldError, ValidationFailed
from ui.text import esc

_KEY = "desk_form_errors"
# A message that reads on from its field's name: "Start date" + "cannot be in the future".
_READS_ON = ("cannot ", "can ", "must ", "is ", "are ", "has ", "have ", "needs ", "should ", "was ", "does ",
             "may ")
_IS = ("required", "not ")


def sentence(label: str, message: str) -> str:
    """One refusal in words: 'Authorization number is required', 'End date cannot be before the start date',
    'Member ID: 4-30 letters, digits or dashes'; without a label, the message as a sentence."""
    text = message.strip()
    if not label:
        return text[:1].upper() + text[1:]
    lowered = text.lower()
    if lowered == "required" or lowered.startswith(("required ", "required:", "required;", "required (")):
        return f"{label} is {text}"
    if lowered.startswith(_IS[1]):
        return f"{label} is {text}"
    if lowered.startswith(_READS_ON):
        return f"{label} {text}"
    return f"{label}: {text}"


def sentences_md(refusal: ValidationFailed, labels: Mapping[str, str] | None = None) -> str:
    """A refusal of no form (a button, an import) as escaped markdown: each message a sentence, named by
    `labels` where a field has one and never by its internal name."""
    names = labels or {}
    return "  \n".join(esc(sentence(names.get(e.field, ""), e.message)) for e in refusal.errors)


def keep_errors(form: str, refusal: ValidationFailed | DeskError | Iterable[FieldError]) -> None:
    """Remember every message of a refused save of `form` for the next run (a refusal of no field keeps field '')."""
    if isinstance(refusal, ValidationFailed):
        found = [(e.field, e.message) for e in refusal.errors]
    elif isinstance(refusal, DeskError):
        found = [("", str(refusal))]
    else:
        found = [(e.field, e.message) for e in refusal]
    st.session_state.setdefault(_KEY, {})[form] = found


def clear_errors(form: str) -> None:
    st.session_state.setdefault(_KEY, {}).pop(form, None)


def clear_all_errors(prefix: str) -> None:
    """Forget the kept messages of every form whose name starts with `prefix`."""
    kept: dict[str, list[tuple[str, str]]] = st.session_state.setdefault(_KEY, {})
    for form in [f for f in kept if f.startswith(prefix)]:
        del kept[form]


def kept_errors(form: str) -> list[tuple[str, str]]:
    """The (field, message) pairs kept for `form`, in the order the save gave them."""
    return list(st.session_state.get(_KEY, {}).get(form, []))


def form_has_errors(form: str) -> bool:
    return bool(kept_errors(form))


class FormErrors:
    """One run's view of a form's kept messages: `under` draws a field's messages under its input, `rest` the
    messages no input drew. `labels` maps each field a save can name to the label its input shows."""

    def __init__(self, form: str, labels: Mapping[str, str]) -> None:
        self.form = form
        self.labels = labels
        self._drawn: set[str] = set()

    def label(self, field: str) -> str:
        return self.labels.get(field, "")

    def under(self, field: str, *also: str, container: object = None) -> None:
        """Directly under the input of `field`: every message of it (and of `also`, fields the same input sets)."""
        names = (field, *also)
        self._drawn.update(names)
        where = container if container is not None else st
        for name, message in kept_errors(self.form):
            if name in names:
                where.markdown(f":red[{esc(sentence(self.label(name) or self.label(field), message))}]")  # type: ignore[attr-defined]

    def shown_elsewhere(self, *fields: str) -> None:
        """The messages of `fields` are drawn by the form itself (e.g. as warnings): `rest` leaves them out."""
        self._drawn.update(fields)

    def rest(self, container: object = None) -> None:
        """After the form: the messages of fields without an input here, and refusals of the whole save."""
        left = [(name, message) for name, message in kept_errors(self.form) if name not in self._drawn]
        if left:
            where = container if container is not None else st
            where.error("  \n".join(esc(sentence(self.label(name), message)) for name, message in left))  # type: ignore[attr-defined]
