"""The one fill function: (template, field map, case data) -> PDF bytes, editable or flattened.

Every value written gets an appearance stream (desk.pdf.widgets; a value stored only as /V with
/NeedAppearances is invisible in many viewers and in fax software), and flattening uses qpdf because
pypdf 7.1's flatten draws every option of a radio group as selected (shared ENGINEERING-NOTES.md, "PDF").
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Name

from desk.errors import FieldError, ValidationFailed
from desk.pdf.fieldmap import (
    MISSING,
    FieldMap,
    FieldRule,
    _key,
    as_date,
    check_against_data,
    check_against_pdf,
    lookup,
)
from desk.pdf.fonts import FontUnavailable, fallback_chain
from desk.pdf.inspect import FormField, open_pdf
from desk.pdf.widgets import Value, form_plan, write_values
from desk.settings import load_settings


@dataclass(frozen=True)
class FilledForm:
    """A filled PDF and what a person should know about it (values cut under `overflow: truncate`,
    encryption removed)."""

    pdf: bytes
    notes: tuple[str, ...] = ()


def fill_form(*, template: bytes, field_map: FieldMap, data: Mapping[str, Any], flatten: bool = False) -> bytes:
    """Fill `template` from `data` as `field_map` says; flattened copies keep no form fields.

    Raises ValidationFailed naming each PDF field or data path that does not fit; nothing is
    returned half-filled.
    """
    return fill_form_with_notes(template=template, field_map=field_map, data=data, flatten=flatten).pdf


def fill_form_with_notes(
    *, template: bytes, field_map: FieldMap, data: Mapping[str, Any], flatten: bool = False,
    fallback_fonts: tuple[Path, ...] | None = None,
) -> FilledForm:
    """fill_form, also returning the notes (every value cut, encryption removed) to show the person.
    `fallback_fonts` defaults to the DESK_FALLBACK_FONTS setting."""
    pdf = open_pdf(template)
    with pdf:
        plan = form_plan(pdf, template)
        fields = plan.fields
        problems = check_against_pdf(field_map, fields) + check_against_data(field_map, data)
        if problems:
            raise ValidationFailed(problems)
        by_name = {f.name: f for f in fields}
        notes: list[str] = []
        values = resolve_values(field_map=field_map, fields=by_name, data=data, notes=notes)
        configured = load_settings().fallback_fonts if fallback_fonts is None else fallback_fonts
        try:
            chain = fallback_chain(configured)
        except FontUnavailable as exc:
            raise ValidationFailed([FieldError("DESK_FALLBACK_FONTS", str(exc))]) from None
        notes += write_values(pdf, plan, values=values, field_map=field_map, chain=chain)
        if pdf.is_encrypted:
            # The filled copy is merged into packets and faxed; its form is flattened or filled by us, so the
            # owner password protects nothing left to protect and would stop the packet step from editing it.
            notes.append("the form was protected by an owner password that allows form filling; "
                         "the filled copy is saved without encryption")
        if flatten:
            flatten_form(pdf)
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)
        return FilledForm(out.getvalue(), tuple(notes))


def resolve_values(
    *, field_map: FieldMap, fields: Mapping[str, FormField], data: Mapping[str, Any], notes: list[str] | None = None
) -> dict[str, Value]:
    """The value each mapped field receives: text for text/choice, True/False for checkboxes,
    the appearance state for radio and checkbox groups (None leaves a group unselected)."""
    values: dict[str, Value] = {}
    problems: list[FieldError] = []
    for name, rule in field_map.fields.items():
        pdf_field = fields[name]
        raw = _raw(rule, data)
        try:
            if pdf_field.type == "checkbox" and pdf_field.radio_states:
                values[name] = _radio_state(rule, raw, pdf_field)
            elif pdf_field.type == "checkbox":
                values[name] = _checked(rule, raw)
            elif pdf_field.type == "radio":
                values[name] = _radio_state(rule, raw, pdf_field)
            elif pdf_field.type == "choice":
                values[name] = _choice(rule, raw, pdf_field)
            else:
                text, full_length = _text(rule, raw, pdf_field, field_map.date_format)
                values[name] = text
                if notes is not None and full_length > len(text):
                    notes.append(f"{name}: cut from {full_length} to {len(text)} characters (field length)")
        except ValueError as exc:
            problems.append(FieldError(name, str(exc)))
    if problems:
        raise ValidationFailed(problems)
    return values


def _raw(rule: FieldRule, data: Mapping[str, Any]) -> Any:
    if rule.value is not None:
        return rule.value
    if rule.path is not None:
        value = lookup(data, rule.path)
        return None if value is MISSING else value
    return [None if (v := lookup(data, p)) is MISSING else v for p in rule.paths]


def _truthy(raw: Any) -> bool:
    if isinstance(raw, str):
        return raw.strip().lower() not in ("", "0", "false", "no", "n", "off")
    return bool(raw)


def _checked(rule: FieldRule, raw: Any) -> bool:
    if rule.checked_when is None:
        return _truthy(raw)
    if raw is None:
        return False
    wanted = rule.checked_when if isinstance(rule.checked_when, list) else [rule.checked_when]
    return _key(raw) in {_key(w) for w in wanted}


def _option_label(rule: FieldRule, raw: Any, pdf_field: FormField) -> str | None:
    if raw is None or raw == "":
        return None
    key = _key(raw)
    if rule.options is not None:
        if key in rule.options:
            return rule.options[key]
        label = rule.other_option
        if label is None:
            raise ValueError("the value has no entry under options and the map gives no other_option")
        return label
    label = str(raw)
    if label not in pdf_field.options:
        raise ValueError(f"the value is not one of the field's options ({', '.join(pdf_field.options)})")
    return label


def _radio_state(rule: FieldRule, raw: Any, pdf_field: FormField) -> str | None:
    label = _option_label(rule, raw, pdf_field)
    return None if label is None else pdf_field.radio_states[label]


def _choice(rule: FieldRule, raw: Any, pdf_field: FormField) -> str | None:
    return _option_label(rule, raw, pdf_field)


def _scalar_text(rule: FieldRule, raw: Any, default_date_format: str) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return rule.true_text if raw else rule.false_text
    as_day = as_date(raw) if isinstance(raw, date | str) else None
    if as_day is not None:
        return as_day.strftime(rule.date_format or default_date_format)
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, list | tuple):
        return ", ".join(t for t in (_scalar_text(rule, item, default_date_format) for item in raw) if t)
    return str(raw)


def _text(rule: FieldRule, raw: Any, pdf_field: FormField, default_date_format: str) -> tuple[str, int]:
    """The text for a field and its length before any cut (`overflow: truncate` at the field's length)."""
    if rule.join is not None:
        parts = [_scalar_text(rule, item, default_date_format) for item in raw]
        text = rule.separator.join(p for p in parts if p.strip())
    else:
        text = _scalar_text(rule, raw, default_date_format)
    if rule.keep == "digits":
        text = "".join(c for c in text if c.isdigit())
    elif rule.keep == "alnum":
        text = "".join(c for c in text if c.isalnum())
    if rule.upper:
        text = text.upper()
    if not pdf_field.multiline:
        text = " ".join(text.splitlines())
    limit = rule.max_length or pdf_field.max_length
    full_length = len(text)
    if limit is not None and len(text) > limit:
        if rule.overflow == "error":
            raise ValueError(f"the value is {len(text)} characters; the field holds {limit}")
        text = text[:limit]
    return text, full_length


def flatten_form(pdf: pikepdf.Pdf) -> None:
    """Burn every widget's current appearance into its page and drop the form (qpdf)."""
    pdf.flatten_annotations(mode="all")
    if Name.AcroForm in pdf.Root:
        del pdf.Root[Name.AcroForm]
    # Widgets qpdf leaves behind have no appearance (empty fields); without the form they are orphans.
    for page in pdf.pages:
        annots = page.obj.get(Name.Annots)
        if isinstance(annots, pikepdf.Array):
            kept = [a for a in annots if not (isinstance(a, pikepdf.Dictionary) and a.get(Name.Subtype) == Name.Widget)]
            if len(kept) != len(annots):
                page.obj.Annots = pikepdf.Array(kept)
