"""The one fill function: (template, field map, case data) -> PDF bytes, editable or flattened.

Filling is done with pikepdf/qpdf: appearance streams are generated for every value written (a
value stored only as /V with /NeedAppearances is invisible in many viewers and in fax software), and
flattening uses qpdf because pypdf 7.1's flatten draws every option of a radio group as selected
(shared ENGINEERING-NOTES.md, "PDF").
"""

from __future__ import annotations

import io
import unicodedata
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
from desk.pdf.fonts import EmbeddedFonts, FallbackFont, FontUnavailable, fallback_chain
from desk.pdf.inspect import FormField, list_fields, open_pdf
from desk.pdf.text_appearance import Box, FieldFont, TextOverflow, UndrawableCharacter, content, layout, parse_da
from desk.settings import load_settings

Value = str | bool | None


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
        fields = list_fields(pdf)
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
        notes += write_values(pdf, values=values, fields=by_name, field_map=field_map, chain=chain)
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
                values[name] = _text(rule, raw, pdf_field, field_map.date_format)
                full = len(_text(rule.model_copy(update={"overflow": "error", "max_length": None}), raw,
                                 pdf_field.__class__(name=name, type="text", multiline=pdf_field.multiline),
                                 field_map.date_format))
                if notes is not None and full > len(str(values[name])):
                    notes.append(f"{name}: cut from {full} to {len(str(values[name]))} characters (field length)")
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


# /Ff bits (PDF 32000-1:2008 §12.7.4.2.1 table 226): button flags NoToggleToOff (15), RadiosInUnison (26).
_FF_NO_TOGGLE_TO_OFF = 1 << 14
_FF_RADIOS_IN_UNISON = 1 << 25


def write_values(
    pdf: pikepdf.Pdf,
    *,
    values: Mapping[str, Value],
    fields: Mapping[str, FormField],
    field_map: FieldMap,
    chain: tuple[FallbackFont, ...],
) -> list[str]:
    """Write resolved values into the PDF's fields (on the field and on every widget) with appearance
    streams; return a note per value cut under `overflow: truncate`. Raises ValidationFailed naming every
    value that does not fit or has a character no font can draw."""
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
    fonts = EmbeddedFonts(pdf, chain)
    faces: dict[str, FieldFont] = {}
    notes: list[str] = []
    problems: list[FieldError] = []
    for name, value in values.items():
        pdf_field = fields[name]
        group = members[name]
        if pdf_field.type == "checkbox" and not pdf_field.radio_states:
            _set_checkbox(pdf, acroform, group, bool(value))
        elif pdf_field.type in ("radio", "checkbox"):
            _set_states(pdf, acroform, group, value if isinstance(value, str) else None,
                        radio=pdf_field.type == "radio")
        else:
            rule = field_map.fields[name]
            try:
                note = _set_text(pdf, acroform, group, "" if value is None else str(value), overflow=rule.overflow,
                                 min_size=field_map.min_font_size, pdf_field=pdf_field, fonts=fonts, faces=faces)
            except (TextOverflow, UndrawableCharacter) as exc:
                problems.append(FieldError(name, str(exc)))
                continue
            if note:
                notes.append(f"{name}: {note}")
    if problems:
        raise ValidationFailed(problems)
    fonts.finish()
    acroform_dict.NeedAppearances = False
    return notes


def _holder(f: pikepdf.AcroFormField) -> Any:
    """The dictionary carrying the field's name and value: the field itself, or for a widget kid
    without /T (radio buttons, checkbox groups) its parent."""
    if Name.T in f.obj or f.parent.is_null:
        return f.obj
    return f.parent.obj


def _states(annot: Any) -> set[str]:
    ap = annot.get(Name.AP)
    normal = ap.get(Name.N) if isinstance(ap, pikepdf.Dictionary) else None
    return {str(k) for k in normal} if isinstance(normal, pikepdf.Dictionary) else set()


def _on_state(annot: Any) -> Name | None:
    for key in sorted(_states(annot)):
        if key != "/Off":
            return Name(key)
    return None


def _button_appearances(pdf: pikepdf.Pdf, annot: Any, radio: bool) -> None:
    """Draw the on and off appearances a button lacks (pdfLaTeX's hyperref leaves them as empty
    dictionaries and relies on /NeedAppearances): the /MK /CA character in ZapfDingbats (§12.7.4.2.3),
    a check by default, a dot for radio buttons, over the /MK background and border."""
    ap = annot.get(Name.AP)
    normal = ap.get(Name.N) if isinstance(ap, pikepdf.Dictionary) else None
    if not isinstance(normal, pikepdf.Dictionary) or all(isinstance(normal[str(k)], pikepdf.Stream) for k in normal):
        return
    x1, y1, x2, y2 = (float(v) for v in annot.Rect)
    width, height = abs(x2 - x1), abs(y2 - y1)
    mk = annot.get(Name.MK)
    frame: list[bytes] = []
    caption = "l" if radio else "4"
    if isinstance(mk, pikepdf.Dictionary):
        background = _colour(mk.get(Name.BG), stroke=False)
        border = _colour(mk.get(Name.BC), stroke=True)
        if background:
            frame.append(background + b" 0 0 %.2f %.2f re f" % (width, height))
        if border:
            frame.append(border + b" 1 w 0.5 0.5 %.2f %.2f re S" % (width - 1, height - 1))
        if isinstance(mk.get(Name.CA), pikepdf.String) and str(mk.CA):
            caption = str(mk.CA)[:1]
    da = parse_da(bytes(annot.get(Name.DA, b"") or b"0 g"))
    size = min(width, height) * 0.8
    glyph = caption.encode("latin-1", errors="replace").replace(b"(", b"\\(").replace(b")", b"\\)")
    mark = b"q BT %s /ZaDb %.2f Tf %.2f %.2f Td (%s) Tj ET Q" % (
        da.colour, size, (width - size * 0.75) / 2, (height - size * 0.7) / 2, glyph)
    zapf = pdf.make_indirect(pikepdf.Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.ZapfDingbats))
    for key in list(normal.keys()):
        if isinstance(normal[key], pikepdf.Stream):
            continue
        body = b"\n".join(frame + ([] if key == "/Off" else [mark]))
        normal[key] = pdf.make_stream(body, Type=Name.XObject, Subtype=Name.Form, BBox=[0, 0, width, height],
                                      Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(ZaDb=zapf)))
    if Name.Off not in normal:
        normal.Off = pdf.make_stream(b"\n".join(frame), Type=Name.XObject, Subtype=Name.Form,
                                     BBox=[0, 0, width, height])
    if Name.D in ap:
        del ap[Name.D]


def _set_checkbox(
    pdf: pikepdf.Pdf, acroform: pikepdf.AcroForm, group: list[pikepdf.AcroFormField], checked: bool
) -> None:
    for f in group:
        annots = acroform.get_annotations_for_field(f)
        # The on-state is whatever the widget's appearance dictionary names (/Yes, /On, /1, ...).
        on = next((s for s in (_on_state(a.obj) for a in annots) if s is not None), Name.Yes)
        _holder(f).V = on if checked else Name.Off
        for annot in annots:
            _button_appearances(pdf, annot.obj, radio=False)
            own = _on_state(annot.obj) or on
            annot.obj.AS = own if checked else Name.Off


def _set_states(pdf: pikepdf.Pdf, acroform: pikepdf.AcroForm, group: list[pikepdf.AcroFormField],
                state: str | None, *, radio: bool) -> None:
    """Radio groups and checkbox groups: the widget(s) whose on-state is `state` turn on, all others off."""
    flags = int(group[0].flags)
    if state is None and flags & _FF_NO_TOGGLE_TO_OFF:
        return  # exactly one button must stay on: keep the form's own default
    wanted = Name("/" + state) if state is not None else Name.Off
    unison = bool(flags & _FF_RADIOS_IN_UNISON)
    turned_on = False
    for f in group:
        _holder(f).V = wanted
        for annot in acroform.get_annotations_for_field(f):
            _button_appearances(pdf, annot.obj, radio=radio)
            # Without RadiosInUnison, widgets sharing an on-state are still separate choices: turn on the first.
            on = state is not None and str(wanted) in _states(annot.obj) and (unison or not turned_on)
            annot.obj.AS = wanted if on else Name.Off
            turned_on = turned_on or on


def _set_text(
    pdf: pikepdf.Pdf,
    acroform: pikepdf.AcroForm,
    group: list[pikepdf.AcroFormField],
    text: str,
    *,
    overflow: str,
    min_size: float,
    pdf_field: FormField,
    fonts: EmbeddedFonts,
    faces: dict[str, FieldFont],
) -> str | None:
    widgets = [(f, annot.obj) for f in group for annot in acroform.get_annotations_for_field(f)]
    plans = [(f, annot, *_box(pdf, f, annot, pdf_field, faces)) for f, annot in widgets]
    final = unicodedata.normalize("NFC", text)
    note = None
    if overflow == "truncate":
        for _f, _annot, box, face, _stream, _matrix in plans:
            try:
                layout(final, box, face, fonts.chain, min_size)
            except TextOverflow as exc:
                final = final[: exc.room]
        if final != unicodedata.normalize("NFC", text):
            note = f"cut from {len(text)} to {len(final)} characters to fit the box"
            text = final
    fitted = [(annot, box, face, stream, matrix, layout(text, box, face, fonts.chain, min_size))
              for _f, annot, box, face, stream, matrix in plans]
    value = pikepdf.String(text)
    for f in group:
        # The value goes on the field and on each widget, so every reader shows the same text.
        _holder(f).V = value
        if f.obj is not _holder(f):
            f.obj.V = value
    for annot, box, face, stream, matrix, laid_out in fitted:
        if annot.get(Name.Subtype) == Name.Widget and Name.Parent in annot and Name.T not in annot:
            annot.V = value
        _write_appearance(pdf, annot, box, face, stream, matrix, laid_out, fonts)
    return note


def _box(pdf: pikepdf.Pdf, f: pikepdf.AcroFormField, annot: Any, pdf_field: FormField,
         faces: dict[str, FieldFont]) -> tuple[Box, FieldFont, pikepdf.Stream | None, list[float] | None]:
    da = parse_da(bytes(f.default_appearance or b"/Helv 0 Tf 0 g"))
    face = faces.get(da.font)
    if face is None:
        face = FieldFont(da.font, _dr_font(pdf, da.font))
        faces[da.font] = face
    x1, y1, x2, y2 = (float(v) for v in annot.Rect)
    width, height = abs(x2 - x1), abs(y2 - y1)
    align = _int(f.get_inheritable_field_value("/Q"), _int(pdf.Root.AcroForm.get(Name.Q), 0))
    ap = annot.get(Name.AP)
    normal = ap.get(Name.N) if isinstance(ap, pikepdf.Dictionary) else None
    stream: pikepdf.Stream | None = None
    matrix: list[float] | None = None
    if isinstance(normal, pikepdf.Stream) and b"/Tx BMC" in normal.read_bytes() and Name.BBox in normal:
        stream = normal
        bx1, by1, bx2, by2 = (float(v) for v in normal.BBox)
        width, height = abs(bx2 - bx1), abs(by2 - by1)
    else:
        mk = annot.get(Name.MK)
        rotation = _int(mk.get(Name.R), 0) % 360 if isinstance(mk, pikepdf.Dictionary) else 0
        # The widget's text turns with /MK /R (§12.5.6.19): draw upright in a turned box, then rotate it in.
        matrix = {90: [0, 1, -1, 0, width, 0], 180: [-1, 0, 0, -1, width, height],
                  270: [0, -1, 1, 0, 0, height]}.get(rotation)
        if rotation in (90, 270):
            width, height = height, width
    comb = pdf_field.max_length if (pdf_field.comb and pdf_field.max_length) else None
    box = Box(width=width, height=height, align=align if align in (0, 1, 2) else 0,
              multiline=pdf_field.multiline, comb_cells=comb, da=da)
    return box, face, stream, matrix


def _int(value: Any, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except (TypeError, ValueError):
        return default


def _dr_font(pdf: pikepdf.Pdf, name: str) -> pikepdf.Dictionary:
    """The /DA font from the form's /DR; Helvetica (WinAnsi) when the form names a font it does not define."""
    form_dr = pdf.Root.AcroForm.get(Name.DR)
    form_fonts = form_dr.get(Name.Font) if isinstance(form_dr, pikepdf.Dictionary) else None
    key = Name("/" + name)
    found = form_fonts.get(key) if isinstance(form_fonts, pikepdf.Dictionary) else None
    if isinstance(found, pikepdf.Dictionary):
        return found
    return pdf.make_indirect(pikepdf.Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica,
                                                Encoding=Name.WinAnsiEncoding))


def _colour(values: Any, stroke: bool) -> bytes | None:
    if not isinstance(values, pikepdf.Array) or len(values) not in (1, 3, 4):
        return None
    op = {1: b"g", 3: b"rg", 4: b"k"}[len(values)]
    return b" ".join(b"%.3f" % float(v) for v in values) + b" " + (op.upper() if stroke else op)


def _write_appearance(pdf: pikepdf.Pdf, annot: Any, box: Box, face: FieldFont, stream: pikepdf.Stream | None,
                      matrix: list[float] | None, fitted: Any, fonts: EmbeddedFonts) -> None:
    used: dict[Any, Any] = {}
    block = content(fitted, box, face, fonts, used)
    resources = pikepdf.Dictionary()
    if stream is not None:
        # Keep what the form's own appearance draws around the text (borders, background, comb lines).
        raw = stream.read_bytes()
        start, end = raw.find(b"/Tx BMC"), raw.rfind(b"EMC")
        data = raw[:start] + block + raw[end + 3:] if end > start else raw[:start] + block
        old = stream.get(Name.Resources)
        if isinstance(old, pikepdf.Dictionary):
            for key in old.keys():  # noqa: SIM118 (pikepdf dictionaries)
                resources[key] = old[key]
        new = pdf.make_stream(data, Type=Name.XObject, Subtype=Name.Form, BBox=stream.BBox)
        if Name.Matrix in stream:
            new.Matrix = stream.Matrix
    else:
        mk = annot.get(Name.MK)
        frame: list[bytes] = []
        if isinstance(mk, pikepdf.Dictionary):
            background = _colour(mk.get(Name.BG), stroke=False)
            border = _colour(mk.get(Name.BC), stroke=True)
            if background:
                frame.append(background + b" 0 0 %.2f %.2f re f" % (box.width, box.height))
            if border:
                frame.append(border + b" 1 w 0.5 0.5 %.2f %.2f re S" % (box.width - 1, box.height - 1))
        data = b"\n".join([*frame, block])
        new = pdf.make_stream(data, Type=Name.XObject, Subtype=Name.Form, BBox=[0, 0, box.width, box.height])
        if matrix is not None:
            new.Matrix = matrix
    font_dict = pikepdf.Dictionary()
    old_fonts = resources.get(Name.Font)
    if isinstance(old_fonts, pikepdf.Dictionary):
        for key in old_fonts.keys():  # noqa: SIM118
            font_dict[key] = old_fonts[key]
    for used_name, obj in used.items():
        font_dict[used_name] = obj
    resources.Font = font_dict
    new.Resources = resources
    ap = annot.get(Name.AP)
    if not isinstance(ap, pikepdf.Dictionary):
        ap = pikepdf.Dictionary()
        annot.AP = ap
    ap.N = new


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
