"""A record section: a table of rows, an add form and an edit/remove form for the chosen row."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

import streamlit as st
from sqlmodel import Session

from ui.editing import opened_version
from ui.patient_record.context import Change, RecordContext
from ui.spec_form import Field, save, spec_form
from ui.text import esc


def _section(
    ctx: RecordContext,
    *,
    kind: str,
    title: str,
    rows: Sequence[Any],
    table: Callable[[Any], Mapping[str, Any]],
    fields: Sequence[Sequence[Field]],
    build: Callable[[dict[str, Any]], Any],
    blank: Mapping[str, Any],
    current_of: Callable[[Any], Mapping[str, Any]],
    add: Change,
    update: Callable[[Session, int, int, Any], object],
    remove: Callable[[Session, int, int], object],
    label_of: Callable[[Any], str],
    editable: bool = True,
) -> None:
    """A table of rows, an add form and an edit/remove form for the chosen row."""
    if rows:
        # Column headers read as words with a capital, whatever case the tab wrote them in ("mg/day" -> "Mg/day").
        st.dataframe([{k[:1].upper() + k[1:]: v for k, v in table(row).items()} for row in rows], hide_index=True,
                     width="stretch")
    else:
        st.caption(f"No {esc(title)} recorded.")
    if not editable:
        st.caption("Your role may view but not change this section.")
        return
    actor = ctx.user.username
    name = kind.replace(" ", "_")
    form = f"add_{name}_{ctx.patient_id}"
    # Opens by itself while the section is empty, and stays as the user left it after a save (an `expanded=`
    # default would change the expander's identity when the first row arrives, and close it).
    st.session_state.setdefault(f"open_{form}", not rows)
    add_form = st.expander(f"Add {esc(kind)}", key=f"open_{form}", on_change="rerun")
    # A closed form is not drawn: the record's forms are most of what a record page sends to the browser.
    if add_form.open:
        with add_form:
            submitted = spec_form(form, fields, blank, submit_label=f"Add {kind}", today=ctx.today)
            if submitted:
                details = build(submitted[1])
                save(form, actor=actor, kind=kind, record_id=None, message=f"{kind.capitalize()} added.",
                     change=lambda s: add(s, details))
    if not rows:
        return
    edit_form = st.expander(f"Edit or remove {esc(kind)}", key=f"open_edit_{name}_{ctx.patient_id}",
                            on_change="rerun")
    if not edit_form.open:
        return
    by_id = {row.id: row for row in rows}
    with edit_form:
        chosen = st.selectbox(f"Which {esc(kind)}", list(by_id), format_func=lambda i: label_of(by_id[i]),
                              key=f"pick_{kind}_{ctx.patient_id}")
        row = by_id[chosen]
        version = opened_version(kind, row.id, row.version)
        form = f"edit_{kind.replace(' ', '_')}_{row.id}"
        submitted = spec_form(form, fields, current_of(row), submit_label="Save", today=ctx.today, removable=True)
        if submitted:
            action, values = submitted
            if action == "remove":
                save(form, actor=actor, kind=kind, record_id=row.id, message=f"{kind.capitalize()} removed.",
                     change=lambda s: remove(s, row.id, version))
            else:
                details = build(values)
                save(form, actor=actor, kind=kind, record_id=row.id, message=f"{kind.capitalize()} saved.",
                     change=lambda s: update(s, row.id, version, details))


def _date_text(value: date | None) -> str:
    return value.strftime("%m/%d/%Y") if value else ""


def _number(value: Any) -> float | None:
    return None if value is None else float(value)
