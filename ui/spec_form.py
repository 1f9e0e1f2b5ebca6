"""Forms described as data: a list of rows of fields, rendered in st.form with messages under each field."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import streamlit as st
from sqlmodel import Session

from desk.errors import NotFound, StaleEdit, ValidationFailed
from ui.context import work
from ui.editing import forget_version, notify
from ui.form_errors import FormErrors, clear_errors, keep_errors
from ui.text import esc

EARLIEST = date(1900, 1, 1)
STALE_KEY = "desk_stale_message"
_TRI = (None, True, False)
_TRI_LABELS = {None: "Not recorded", True: "Yes", False: "No"}


@dataclass(frozen=True)
class Field:
    """One input: `kind` is text, textarea, date, past_date, int, float, opt_float, select, new_select,
    bool, tri (yes / no / not recorded) or multi."""

    name: str
    label: str
    kind: str = "text"
    options: Sequence[Any] = ()
    labels: Mapping[Any, str] | None = None
    help: str | None = None
    optional: bool = False

    @property
    def label_md(self) -> str:
        return esc(self.label)

    @property
    def help_md(self) -> str | None:
        return esc(self.help) if self.help else None

    def label_of(self, value: Any) -> str:
        if self.labels and value in self.labels:
            return self.labels[value]
        return "—" if value is None else str(value)


def _input(spec: Field, value: Any, key: str, today: date) -> Any:
    if spec.kind == "textarea":
        return st.text_area(spec.label_md, value=value or "", key=key, help=spec.help_md, height=80)
    if spec.kind in ("date", "past_date"):
        return st.date_input(
            spec.label_md, value=value, key=key, help=spec.help_md, format="MM/DD/YYYY", min_value=EARLIEST,
            max_value=today if spec.kind == "past_date" else date(today.year + 10, 12, 31),
        )
    if spec.kind == "int":
        return st.number_input(spec.label_md, value=value, step=1, key=key, help=spec.help_md)
    if spec.kind in ("float", "opt_float"):
        return st.number_input(spec.label_md, value=None if value is None else float(value), step=1.0, key=key,
                               help=spec.help_md, placeholder="not recorded" if spec.kind == "opt_float" else None)
    if spec.kind in ("select", "new_select"):
        options = list(spec.options)
        if value is not None and value not in options:
            options.append(value)
        return st.selectbox(
            spec.label_md, options, index=options.index(value) if value in options else None, key=key,
            format_func=spec.label_of, help=spec.help_md, accept_new_options=spec.kind == "new_select",
            placeholder="Choose or type a name" if spec.kind == "new_select" else "Choose an option",
        )
    if spec.kind == "bool":
        return st.checkbox(spec.label_md, value=bool(value), key=key, help=spec.help_md)
    if spec.kind == "tri":
        return st.selectbox(spec.label_md, _TRI, index=_TRI.index(value), key=key, help=spec.help_md,
                            format_func=_TRI_LABELS.__getitem__)
    if spec.kind == "multi":
        return st.multiselect(spec.label_md, list(spec.options), default=list(value or ()), key=key, help=spec.help_md,
                              format_func=spec.label_of)
    return st.text_input(spec.label_md, value=value or "", key=key, help=spec.help_md)


def spec_form(
    form: str,
    rows: Sequence[Sequence[Field]],
    current: Mapping[str, Any],
    *,
    submit_label: str,
    today: date,
    removable: bool = False,
    disabled: bool = False,
    other_labels: Mapping[str, str] | None = None,
) -> tuple[str, dict[str, Any]] | None:
    """Render the form, each kept refusal under its field; once submitted return ("save" or "remove", the entered
    values). `other_labels` names fields a save may refuse that have no input here."""
    generation = st.session_state.get(f"{form}_generation", 0)
    key = f"{form}_{generation}"
    values: dict[str, Any] = {}
    errors = FormErrors(form, {**(other_labels or {}), **{spec.name: spec.label for row in rows for spec in row}})
    with st.form(key, border=True):
        for row in rows:
            columns = st.columns(len(row))
            for column, spec in zip(columns, row, strict=True):
                with column:
                    values[spec.name] = _input(spec, current.get(spec.name), f"{key}_{spec.name}", today)
                    errors.under(spec.name)
        errors.rest()
        buttons = st.columns([1, 1, 4]) if removable else [st.container()]
        with buttons[0]:
            saved = st.form_submit_button(esc(submit_label), type="primary", disabled=disabled)
        removed = False
        if removable:
            with buttons[1]:
                removed = st.form_submit_button("Remove", disabled=disabled)
    if removed:
        return "remove", values
    if saved:
        return "save", values
    return None


def save(form: str, *, actor: str, kind: str, record_id: int | None, message: str,
         change: Callable[[Session], object]) -> None:
    """Run one change in its own unit of work; keep field messages or the stale notice for the next run."""
    try:
        with work(actor) as session:
            change(session)
    except ValidationFailed as exc:
        keep_errors(form, exc)
    except (StaleEdit, NotFound) as exc:
        st.session_state[STALE_KEY] = str(exc)
        clear_errors(form)
        if record_id is not None:
            forget_version(kind, record_id)
    else:
        clear_errors(form)
        st.session_state[f"{form}_generation"] = st.session_state.get(f"{form}_generation", 0) + 1
        if record_id is not None:
            forget_version(kind, record_id)
        notify(message)
    st.rerun()


def show_stale() -> None:
    """The stale-edit (or vanished record) notice from the previous run, if any."""
    message = st.session_state.pop(STALE_KEY, None)
    if message:
        st.error(esc(message), icon=":material/sync_problem:")
