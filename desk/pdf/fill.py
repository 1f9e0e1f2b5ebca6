"""The one fill function: (template, field map, case data) -> PDF bytes, editable or flattened.

Filling is done with pikepdf/qpdf: appearance streams are generated for every value written (a
value stored only as /V with /NeedAppearances is invisible in many viewers and in fax software), and
flattening uses qpdf because pypdf 7.1's flatten draws every option of a radio group as selected
(shared ENGINEERING-NOTES.md, "PDF").
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

import pikepdf
from pikepdf import Name
from reportlab.pdfbase.pdfmetrics import stringWidth

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
from desk.pdf.inspect import FormField, list_fields, open_pdf

Value = str | bool | None


def fill_form(*, template: bytes, field_map: FieldMap, data: Mapping[str, Any], flatten: bool = False) -> bytes:
    """Fill `template` from `data` as `field_map` says; flattened copies keep no form fields.

    Raises ValidationFailed naming each PDF field or data path that does not fit; nothing is
    returned half-filled.
    """
    pdf = open_pdf(template)
    with pdf:
        fields = list_fields(pdf)
        problems = check_against_pdf(field_map, fields) + check_against_data(field_map, data)
        if problems:
            raise ValidationFailed(problems)
        by_name = {f.name: f for f in fields}
        values = resolve_values(field_map=field_map, fields=by_name, data=data)
        write_values(pdf, values=values, fields=by_name)
        if flatten:
            flatten_form(pdf)
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)
        return out.getvalue()


def resolve_values(
    *, field_map: FieldMap, fields: Mapping[str, FormField], data: Mapping[str, Any]
) -> dict[str, Value]:
    """The value each mapped field receives: text for text/choice, True/False for checkboxes,
    the appearance state for radio groups (None leaves a radio group unselected)."""
    values: dict[str, Value] = {}
    problems: list[FieldError] = []
    for name, rule in field_map.fields.items():
        pdf_field = fields[name]
        raw = _raw(rule, data)
        try:
            if pdf_field.type == "checkbox":
                values[name] = _checked(rule, raw)
            elif pdf_field.type == "radio":
                values[name] = _radio_state(rule, raw, pdf_field)
            elif pdf_field.type == "choice":
                values[name] = _choice(rule, raw, pdf_field)
            else:
                values[name] = _text(rule, raw, pdf_field, field_map.date_format)
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
        label = rule.options.get(key, rule.other_option)
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


def _text(rule: FieldRule, raw: Any, pdf_field: FormField, default_date_format: str) -> str:
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
    if limit is not None and len(text) > limit:
        if rule.overflow == "error":
            raise ValueError(f"the value is {len(text)} characters; the field holds {limit}")
        text = text[:limit]
    return text


def write_values(pdf: pikepdf.Pdf, *, values: Mapping[str, Value], fields: Mapping[str, FormField]) -> None:
    """Write resolved values into the PDF's fields with appearance streams."""
    acroform = pdf.acroform
    acroform_dict = pdf.Root.AcroForm
    if Name.XFA in acroform_dict:
        # Hybrid forms: viewers that understand XFA would show the stale XFA data instead of ours.
        del acroform_dict[Name.XFA]
    if acroform.needs_appearances:
        # Fields left empty also need appearance streams before /NeedAppearances can be cleared.
        pdf.generate_appearance_streams()
    members: dict[str, list[pikepdf.AcroFormField]] = {}
    for f in acroform.fields:
        members.setdefault(str(f.fully_qualified_name), []).append(f)
    for name, value in values.items():
        pdf_field = fields[name]
        group = members[name]
        if pdf_field.type == "checkbox":
            _set_checkbox(acroform, group, bool(value))
        elif pdf_field.type == "radio":
            _set_radio(group, value if isinstance(value, str) else None)
        else:
            _set_text(pdf, acroform, group, "" if value is None else str(value), pdf_field)
    acroform_dict.NeedAppearances = False


def _on_state(annot: Any) -> Name | None:
    ap = annot.get(Name.AP)
    normal = ap.get(Name.N) if isinstance(ap, pikepdf.Dictionary) else None
    if isinstance(normal, pikepdf.Dictionary):
        for key in normal:
            if key != "/Off":
                return Name(str(key))
    return None


def _set_checkbox(acroform: pikepdf.AcroForm, group: list[pikepdf.AcroFormField], checked: bool) -> None:
    for f in group:
        annots = acroform.get_annotations_for_field(f)
        # The on-state is whatever the widget's appearance dictionary names (/Yes, /On, /1, ...).
        on = next((s for s in (_on_state(a.obj) for a in annots) if s is not None), Name.Yes)
        f.obj.V = on if checked else Name.Off
        for annot in annots:
            own = _on_state(annot.obj) or on
            annot.obj.AS = own if checked else Name.Off


def _set_radio(group: list[pikepdf.AcroFormField], state: str | None) -> None:
    wanted = Name("/" + state) if state is not None else Name.Off
    first = group[0]
    holder = first.parent.obj if not first.parent.is_null else first.obj
    holder.V = wanted
    kids = holder.get(Name.Kids)
    widgets = list(kids) if isinstance(kids, pikepdf.Array) else [holder]
    for kid in widgets:
        ap = kid.get(Name.AP)
        normal = ap.get(Name.N) if isinstance(ap, pikepdf.Dictionary) else None
        states = set(normal.keys()) if isinstance(normal, pikepdf.Dictionary) else set()
        kid.AS = wanted if str(wanted) in states else Name.Off


def _set_text(
    pdf: pikepdf.Pdf,
    acroform: pikepdf.AcroForm,
    group: list[pikepdf.AcroFormField],
    text: str,
    pdf_field: FormField,
) -> None:
    for f in group:
        f.set_value(text, False)
        for annot in acroform.get_annotations_for_field(f):
            if pdf_field.multiline or (pdf_field.comb and pdf_field.max_length) or _too_low(annot.obj, f):
                # qpdf draws every text field as one line at the /DA size; multi-line and comb fields, and
                # boxes lower than their font (LibreOffice exports some), get our own layout.
                _layout_appearance(pdf, annot.obj, f, text, pdf_field)
            else:
                f.generate_appearance(annot)
            _ensure_font_resource(pdf, annot.obj, f)


def _too_low(annot: Any, f: pikepdf.AcroFormField) -> bool:
    match = _TF.search(bytes(f.default_appearance or b""))
    size = float(match.group(0).split()[-2]) if match else 0.0
    rect = [float(v) for v in annot.Rect]
    return size > 0 and abs(rect[3] - rect[1]) < size + 1


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _wrap(text: str, font_size: float, width: float) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}".strip()
            if current and stringWidth(candidate, "Helvetica", font_size) > width:
                lines.append(current)
                current = word
            else:
                current = candidate
        lines.append(current)
    return lines


def _layout_appearance(
    pdf: pikepdf.Pdf, annot: Any, f: pikepdf.AcroFormField, text: str, pdf_field: FormField
) -> None:
    """Appearance stream for multi-line (word-wrapped, clipped) and comb (one character per cell) fields.
    Widths use Helvetica metrics, the font of the /DA of our templates and the usual default elsewhere."""
    x1, y1, x2, y2 = (float(v) for v in annot.Rect)
    width, height = abs(x2 - x1), abs(y2 - y1)
    da = bytes(f.default_appearance or b"/Helv 9 Tf 0 g")
    match = _TF.search(da)
    size = float(match.group(0).split()[-2]) if match else 9.0
    if not match:
        da = b"/Helv 9 Tf 0 g " + da
    # Auto-sized (0 Tf) text, or a box too low for one line at the /DA size: fit the size to the box.
    fitted = min(size if size > 0 else 9.0, max((height - 2) / 1.3, 4.0))
    if fitted != size:
        size = fitted
        da = _TF.sub(lambda m: m.group(0).rsplit(b" ", 2)[0] + f" {size:.2f} Tf".encode(), da)
    ops = [b"/Tx BMC", b"q", f"1 1 {width - 2:.2f} {height - 2:.2f} re W n".encode(), b"BT", da]
    if not (pdf_field.comb and pdf_field.max_length):
        leading = size * 1.18
        y = max(height - 1 - size * 0.95, 1.0) if pdf_field.multiline else max((height - size * 0.72) / 2, 0.5)
        lines = _wrap(text, size, width - 4) if pdf_field.multiline else [" ".join(text.split())]
        for number, line in enumerate(lines):
            if number and y < 0:
                break
            ops.append(f"1 0 0 1 2 {y:.2f} Tm".encode() + b" " + _pdf_string(line) + b" Tj")
            y -= leading
    else:
        cells = pdf_field.max_length or 1
        step = width / cells
        baseline = (height - size * 0.7) / 2
        for index, char in enumerate(text[:cells]):
            x = index * step + (step - stringWidth(char, "Helvetica", size)) / 2
            ops.append(f"1 0 0 1 {x:.2f} {baseline:.2f} Tm".encode() + b" " + _pdf_string(char) + b" Tj")
    ops += [b"ET", b"Q", b"EMC"]
    stream = pdf.make_stream(
        b"\n".join(ops), Type=Name.XObject, Subtype=Name.Form, BBox=[0, 0, width, height],
        Resources=pikepdf.Dictionary(),
    )
    ap = annot.get(Name.AP)
    if not isinstance(ap, pikepdf.Dictionary):
        ap = pikepdf.Dictionary()
        annot.AP = ap
    ap.N = stream


_TF = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s+[-+0-9.]+\s+Tf")


def _ensure_font_resource(pdf: pikepdf.Pdf, annot: Any, f: pikepdf.AcroFormField) -> None:
    """qpdf leaves /Resources out of a generated appearance when the font lives only in the form's /DR
    (PDFescape and DocFly forms); viewers then draw nothing. Copy the /DA font in, or fall back to Helvetica."""
    ap = annot.get(Name.AP)
    stream = ap.get(Name.N) if isinstance(ap, pikepdf.Dictionary) else None
    if not isinstance(stream, pikepdf.Stream):
        return
    match = _TF.search(bytes(f.default_appearance or b""))
    if match is None:
        return
    font_name = Name("/" + match.group(1).decode("latin-1"))
    resources = stream.get(Name.Resources)
    if not isinstance(resources, pikepdf.Dictionary):
        resources = pikepdf.Dictionary()
        stream.Resources = resources
    fonts = resources.get(Name.Font)
    if not isinstance(fonts, pikepdf.Dictionary):
        fonts = pikepdf.Dictionary()
        resources.Font = fonts
    if font_name in fonts:
        return
    form_dr = pdf.Root.AcroForm.get(Name.DR)
    form_fonts = form_dr.get(Name.Font) if isinstance(form_dr, pikepdf.Dictionary) else None
    if isinstance(form_fonts, pikepdf.Dictionary) and font_name in form_fonts:
        fonts[font_name] = form_fonts[font_name]
    else:
        fonts[font_name] = pdf.make_indirect(
            pikepdf.Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica,
                               Encoding=Name.WinAnsiEncoding)
        )


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
