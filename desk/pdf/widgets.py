"""Writing resolved values into a form's fields and widgets, with appearance streams.

What does not depend on the values (which widgets belong to which field, each widget's box, font, /Q,
rotation and the form's own drawing around the text) is read once per template and kept as a plan:
a template's object numbers are the same every time the same bytes are opened, so later fills of the
same form go straight to the objects they change.
"""

from __future__ import annotations

import copy
import hashlib
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pikepdf
from pikepdf import Name

from desk.errors import FieldError, ValidationFailed
from desk.pdf.fieldmap import FieldMap
from desk.pdf.fonts import EmbeddedFonts, FallbackFont
from desk.pdf.inspect import FormField, list_fields
from desk.pdf.text_appearance import Box, FieldFont, TextOverflow, UndrawableCharacter, content, layout, parse_da

Value = str | bool | None
Ref = Any  # (object number, generation) of an indirect object, or the object itself when it is direct

# /Ff bits (PDF 32000-1:2008 §12.7.4.2.1 table 226): button flags NoToggleToOff (15), RadiosInUnison (26).
_FF_NO_TOGGLE_TO_OFF = 1 << 14
_FF_RADIOS_IN_UNISON = 1 << 25
_PLAN_CACHE_SIZE = 16


@dataclass(frozen=True)
class _Widget:
    annot: Ref
    states: frozenset[str] = frozenset()  # buttons: appearance state names, "/Off" included
    undrawn: bool = False                 # buttons: some state has no appearance stream
    box: Box | None = None                # text and choice
    font: str = ""
    prefix: bytes | None = None           # the form's own appearance before and after its /Tx BMC … EMC
    suffix: bytes = b""
    bbox: tuple[float, ...] = ()
    matrix: tuple[float, ...] | None = None
    frame: bytes = b""                    # /MK background and border when the form drew no appearance


@dataclass(frozen=True)
class _Field:
    holders: tuple[Ref, ...]  # the dictionaries that carry the field's name and value
    members: tuple[Ref, ...]  # widget kids that are field dictionaries without a name of their own
    widgets: tuple[_Widget, ...]
    flags: int


@dataclass
class _Plan:
    fields: list[FormField]
    by_name: dict[str, _Field]
    faces: dict[str, FieldFont] = field(default_factory=dict)
    cacheable: bool = True


_PLANS: OrderedDict[str, _Plan] = OrderedDict()
_PLANS_LOCK = threading.Lock()  # Streamlit serves each browser session on its own thread


def form_plan(pdf: pikepdf.Pdf, template: bytes) -> _Plan:
    """The plan of an opened template (from the cache when these bytes were planned before)."""
    digest = hashlib.blake2b(template, digest_size=20).hexdigest()
    with _PLANS_LOCK:
        plan = _PLANS.get(digest)
        if plan is not None:
            _PLANS.move_to_end(digest)
            return plan
    plan = _make_plan(pdf)
    if plan.cacheable:
        with _PLANS_LOCK:
            _PLANS[digest] = plan
            while len(_PLANS) > _PLAN_CACHE_SIZE:
                _PLANS.popitem(last=False)
    return plan


def _ref(obj: Any, plan_flags: list[bool]) -> Ref:
    if obj.is_indirect:
        return obj.objgen
    plan_flags[0] = False
    return obj


def _get(pdf: pikepdf.Pdf, ref: Ref) -> Any:
    return pdf.get_object(ref) if isinstance(ref, tuple) else ref


def _prepare(pdf: pikepdf.Pdf) -> None:
    """Changes every fill makes before the plan is read (and that the plan therefore assumes)."""
    acroform = pdf.Root.AcroForm
    if Name.XFA in acroform:
        # Hybrid forms: viewers that understand XFA would show the stale XFA data instead of ours.
        del acroform[Name.XFA]
    if acroform.get(Name.NeedAppearances):
        # Fields left empty also need appearance streams before /NeedAppearances can be cleared.
        pdf.generate_appearance_streams()
        acroform.NeedAppearances = False


def _make_plan(pdf: pikepdf.Pdf) -> _Plan:
    _prepare(pdf)
    fields = list_fields(pdf)
    types = {f.name: f for f in fields}
    acroform = pdf.acroform
    cacheable = [True]
    grouped: dict[str, list[pikepdf.AcroFormField]] = {}
    for f in acroform.fields:
        grouped.setdefault(str(f.fully_qualified_name), []).append(f)
    plan = _Plan(fields=fields, by_name={})
    for name, group in grouped.items():
        pdf_field = types.get(name)
        if pdf_field is None:
            continue
        holders: dict[Any, None] = {}
        members: dict[Any, None] = {}
        widgets: list[_Widget] = []
        for f in group:
            holder = f.obj if Name.T in f.obj or f.parent.is_null else f.parent.obj
            holder_ref = _ref(holder, cacheable)
            holders.setdefault(holder_ref, None)
            member_ref = _ref(f.obj, cacheable)
            if isinstance(member_ref, tuple) and member_ref != holder_ref:
                members.setdefault(member_ref, None)
            for annot in acroform.get_annotations_for_field(f):
                widgets.append(_widget(pdf, plan, f, annot.obj, pdf_field, cacheable))
        members_only = tuple(m for m in members if m not in holders)
        plan.by_name[name] = _Field(tuple(holders), members_only, tuple(widgets), int(group[0].flags))
    plan.cacheable = cacheable[0]
    return plan


def _widget(pdf: pikepdf.Pdf, plan: _Plan, f: pikepdf.AcroFormField, annot: Any, pdf_field: FormField,
            cacheable: list[bool]) -> _Widget:
    ref = _ref(annot, cacheable)
    ap = annot.get(Name.AP)
    normal = ap.get(Name.N) if isinstance(ap, pikepdf.Dictionary) else None
    if pdf_field.type in ("checkbox", "radio"):
        states = frozenset(str(k) for k in normal) if isinstance(normal, pikepdf.Dictionary) else frozenset()
        undrawn = isinstance(normal, pikepdf.Dictionary) and (
            Name.Off not in normal or not all(isinstance(normal[k], pikepdf.Stream) for k in states))
        return _Widget(ref, states=states, undrawn=undrawn)
    if pdf_field.type not in ("text", "choice"):
        return _Widget(ref)
    da = parse_da(bytes(f.default_appearance or b"/Helv 0 Tf 0 g"))
    if da.font not in plan.faces:
        plan.faces[da.font] = FieldFont(da.font, _dr_font(pdf, da.font))
    x1, y1, x2, y2 = (float(v) for v in annot.Rect)
    width, height = abs(x2 - x1), abs(y2 - y1)
    align = _int(f.get_inheritable_field_value("/Q"), _int(pdf.Root.AcroForm.get(Name.Q), 0))
    comb = pdf_field.max_length if (pdf_field.comb and pdf_field.max_length) else None
    raw = normal.read_bytes() if isinstance(normal, pikepdf.Stream) and Name.BBox in normal else b""
    start, end = raw.find(b"/Tx BMC"), raw.rfind(b"EMC")
    if start >= 0 and isinstance(normal, pikepdf.Stream):
        # Keep what the form's own appearance draws around the text (borders, background, comb lines).
        bbox = tuple(float(v) for v in normal.BBox)
        matrix = tuple(float(v) for v in normal.Matrix) if Name.Matrix in normal else None
        box = Box(width=abs(bbox[2] - bbox[0]), height=abs(bbox[3] - bbox[1]), align=align if align in (0, 1, 2)
                  else 0, multiline=pdf_field.multiline, comb_cells=comb, da=da)
        suffix = raw[end + 3:] if end > start else b""
        return _Widget(ref, box=box, font=da.font, prefix=raw[:start], suffix=suffix, bbox=bbox, matrix=matrix)
    mk = annot.get(Name.MK)
    rotation = _int(mk.get(Name.R), 0) % 360 if isinstance(mk, pikepdf.Dictionary) else 0
    # The widget's text turns with /MK /R (§12.5.6.19): draw upright in a turned box, then rotate it in.
    turned = {90: (0.0, 1.0, -1.0, 0.0, width, 0.0), 180: (-1.0, 0.0, 0.0, -1.0, width, height),
              270: (0.0, -1.0, 1.0, 0.0, 0.0, height)}.get(rotation)
    if rotation in (90, 270):
        width, height = height, width
    frame: list[bytes] = []
    if isinstance(mk, pikepdf.Dictionary):
        background = _colour(mk.get(Name.BG), stroke=False)
        border = _colour(mk.get(Name.BC), stroke=True)
        if background:
            frame.append(background + b" 0 0 %.2f %.2f re f" % (width, height))
        if border:
            frame.append(border + b" 1 w 0.5 0.5 %.2f %.2f re S" % (width - 1, height - 1))
    box = Box(width=width, height=height, align=align if align in (0, 1, 2) else 0,
              multiline=pdf_field.multiline, comb_cells=comb, da=da)
    return _Widget(ref, box=box, font=da.font, bbox=(0.0, 0.0, width, height), matrix=turned,
                   frame=b"\n".join(frame))


def write_values(
    pdf: pikepdf.Pdf,
    plan: _Plan,
    *,
    values: Mapping[str, Value],
    field_map: FieldMap,
    chain: tuple[FallbackFont, ...],
) -> list[str]:
    """Write resolved values into the PDF's fields (on the field and on every widget) with appearance
    streams; return a note per value cut under `overflow: truncate`. Raises ValidationFailed naming every
    value that does not fit or has a character no font can draw."""
    _prepare(pdf)
    fonts = EmbeddedFonts(pdf, chain)
    faces = {name: _bound(pdf, face) for name, face in plan.faces.items()}
    types = {f.name: f for f in plan.fields}
    notes: list[str] = []
    problems: list[FieldError] = []
    for name, value in values.items():
        pdf_field = types[name]
        planned = plan.by_name[name]
        if pdf_field.type == "checkbox" and not pdf_field.radio_states:
            _set_checkbox(pdf, planned, bool(value))
        elif pdf_field.type in ("radio", "checkbox"):
            _set_states(pdf, planned, value if isinstance(value, str) else None, radio=pdf_field.type == "radio")
        else:
            rule = field_map.fields[name]
            try:
                note = _set_text(pdf, planned, "" if value is None else str(value), overflow=rule.overflow,
                                 min_size=field_map.min_font_size, fonts=fonts, faces=faces)
            except (TextOverflow, UndrawableCharacter) as exc:
                problems.append(FieldError(name, str(exc)))
                continue
            if note:
                notes.append(f"{name}: {note}")
    if problems:
        raise ValidationFailed(problems)
    fonts.finish()
    pdf.Root.AcroForm.NeedAppearances = False
    return notes


def _bound(pdf: pikepdf.Pdf, face: FieldFont) -> FieldFont:
    """The planned font's metrics with this PDF's font object."""
    bound = copy.copy(face)
    bound.obj = _dr_font(pdf, face.name)
    return bound


def _set_checkbox(pdf: pikepdf.Pdf, planned: _Field, checked: bool) -> None:
    # The on-state is whatever the widget's appearance dictionary names (/Yes, /On, /1, ...).
    first_on = next((s for w in planned.widgets for s in sorted(w.states) if s != "/Off"), "/Yes")
    for ref in planned.holders:
        _get(pdf, ref).V = Name(first_on) if checked else Name.Off
    for widget in planned.widgets:
        annot = _get(pdf, widget.annot)
        if widget.undrawn:
            _button_appearances(pdf, annot, radio=False)
        own = next((s for s in sorted(widget.states) if s != "/Off"), first_on)
        annot.AS = Name(own) if checked else Name.Off


def _set_states(pdf: pikepdf.Pdf, planned: _Field, state: str | None, *, radio: bool) -> None:
    """Radio groups and checkbox groups: the widget(s) whose on-state is `state` turn on, all others off."""
    if state is None and planned.flags & _FF_NO_TOGGLE_TO_OFF:
        return  # exactly one button must stay on: keep the form's own default
    wanted = Name("/" + state) if state is not None else Name.Off
    unison = bool(planned.flags & _FF_RADIOS_IN_UNISON)
    for ref in planned.holders:
        _get(pdf, ref).V = wanted
    turned_on = False
    for widget in planned.widgets:
        annot = _get(pdf, widget.annot)
        if widget.undrawn:
            _button_appearances(pdf, annot, radio=radio)
        # Without RadiosInUnison, widgets sharing an on-state are still separate choices: turn on the first.
        on = state is not None and str(wanted) in widget.states and (unison or not turned_on)
        annot.AS = wanted if on else Name.Off
        turned_on = turned_on or on


def _set_text(pdf: pikepdf.Pdf, planned: _Field, text: str, *, overflow: str, min_size: float,
              fonts: EmbeddedFonts, faces: dict[str, FieldFont]) -> str | None:
    final = unicodedata.normalize("NFC", text)
    note = None
    if overflow == "truncate":
        for widget in planned.widgets:
            if widget.box is not None:
                try:
                    layout(final, widget.box, faces[widget.font], fonts.chain, min_size)
                except TextOverflow as exc:
                    final = final[: exc.room]
        if final != unicodedata.normalize("NFC", text):
            note = f"cut from {len(text)} to {len(final)} characters to fit the box"
            text = final
    fitted = [(w, layout(text, w.box, faces[w.font], fonts.chain, min_size)) for w in planned.widgets
              if w.box is not None]
    value = pikepdf.String(text)
    # The value goes on the field and on each widget, so every reader shows the same text.
    for ref in (*planned.holders, *planned.members):
        _get(pdf, ref).V = value
    for widget, laid_out in fitted:
        annot = _get(pdf, widget.annot)
        if widget.annot not in planned.holders:
            annot.V = value
        _write_appearance(pdf, annot, widget, faces[widget.font], laid_out, fonts)
    return note


def _write_appearance(pdf: pikepdf.Pdf, annot: Any, widget: _Widget, face: FieldFont, fitted: Any,
                      fonts: EmbeddedFonts) -> None:
    assert widget.box is not None
    used: dict[Any, Any] = {}
    block = content(fitted, widget.box, face, fonts, used)
    resources = pikepdf.Dictionary()
    font_dict = pikepdf.Dictionary()
    ap = annot.get(Name.AP)
    if widget.prefix is not None:
        data = widget.prefix + block + widget.suffix
        old = ap.N.get(Name.Resources) if isinstance(ap, pikepdf.Dictionary) else None
        if isinstance(old, pikepdf.Dictionary):
            for key in old.keys():  # noqa: SIM118 (pikepdf dictionaries)
                resources[key] = old[key]
            old_fonts = old.get(Name.Font)
            if isinstance(old_fonts, pikepdf.Dictionary):
                for key in old_fonts.keys():  # noqa: SIM118
                    font_dict[key] = old_fonts[key]
    else:
        data = widget.frame + b"\n" + block if widget.frame else block
    # Keys set one by one: make_stream(**keys) converts them several times slower (measured: 90 vs 16 µs).
    new = pdf.make_stream(data)
    new.Type = Name.XObject
    new.Subtype = Name.Form
    new.BBox = list(widget.bbox)
    if widget.matrix is not None:
        new.Matrix = list(widget.matrix)
    for used_name, obj in used.items():
        font_dict[used_name] = obj
    resources.Font = font_dict
    new.Resources = resources
    if not isinstance(ap, pikepdf.Dictionary):
        ap = pikepdf.Dictionary()
        annot.AP = ap
    ap.N = new


def _button_appearances(pdf: pikepdf.Pdf, annot: Any, radio: bool) -> None:
    """Draw the on and off appearances a button lacks (pdfLaTeX's hyperref leaves them as empty
    dictionaries and relies on /NeedAppearances): the /MK /CA character in ZapfDingbats (§12.7.4.2.3),
    a check by default, a dot for radio buttons, over the /MK background and border."""
    ap = annot.get(Name.AP)
    normal = ap.get(Name.N) if isinstance(ap, pikepdf.Dictionary) else None
    if not isinstance(normal, pikepdf.Dictionary):
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
