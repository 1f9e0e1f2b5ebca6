"""Fidelity check of the form filler on any fillable PDF: is every value drawn where a reader shows it?

For a PDF, every text field gets a multi-script value (Latin with accents, Vietnamese, Greek, Cyrillic,
and CJK when a CJK font is available), every checkbox, radio group and choice one of its options.
The filled, flattened copy is then checked as a person would look at it:
- text: the words poppler extracts (`pdftotext -bbox`) inside each widget's box are the field's value;
- buttons: rendered with `pdftoppm`, each widget's region differs from the same form filled with the
  button off exactly when the widget is the chosen one;
- no form field and no widget is left after flattening.
Needs poppler-utils (pdftotext, pdftoppm); used by the tests and `bench/run.py --only forms_fidelity`.
"""

from __future__ import annotations

import html
import io
import math
import re
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Name

from desk.errors import ValidationFailed
from desk.pdf.fieldmap import FieldMap
from desk.pdf.fill import fill_form_with_notes, flatten_form
from desk.pdf.fonts import fallback_chain
from desk.pdf.inspect import FormField, fields_of, open_pdf

SAMPLES = ("José Núñez-Zoë", "Nguyễn Thị Hương", "Zoë Brontë", "Ελένη Παπαδοπούλου", "Жанна Иванова", "Łukasz Żółć")
CJK_SAMPLE = "王芳 Wang Fang"
SHORT = ("Zoë", "Hương", "Ωμέγα", "Жан", "Łódź")
_WORD = re.compile(r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">(.*?)</word>')
_HIDDEN = 2
_NO_ROTATE = 16


@dataclass
class FieldResult:
    name: str
    type: str
    ok: bool
    detail: str = ""


@dataclass
class FormResult:
    source: str
    fields: list[FieldResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def drawn_right(self) -> int:
        return sum(1 for f in self.fields if f.ok)

    @property
    def ok(self) -> bool:
        return not self.problems and all(f.ok for f in self.fields)


@dataclass(frozen=True)
class _Widget:
    field: str
    page: int
    rect: tuple[float, float, float, float]
    states: frozenset[str]
    angle: int = 0  # direction of the text on screen, degrees counter-clockwise


def sample_values(fields: list[FormField], *, cjk: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """Field map rules and data for the check: one value per fillable field."""
    samples = (*SAMPLES, CJK_SAMPLE) if cjk else SAMPLES
    rules: dict[str, Any] = {}
    data: dict[str, Any] = {}
    for index, f in enumerate(fields):
        key = f"v{index}"
        if f.type == "text":
            limit = f.max_length
            text = samples[index % len(samples)]
            if limit is not None and len(text) > limit:
                text = SHORT[index % len(SHORT)][:limit]
            data[key] = text
            rules[f.name] = {"path": key, "overflow": "truncate"}
        elif f.type == "checkbox" and not f.radio_states:
            data[key] = True
            rules[f.name] = {"path": key}
        elif f.type in ("radio", "checkbox", "choice") and f.options:
            usable = [o for o in f.options if o.strip()]
            if not usable:
                continue
            data[key] = usable[-1]
            rules[f.name] = {"path": key}
    return rules, data


def check_form(template: bytes, *, source: str) -> FormResult:
    """Fill `template` with multi-script values and check what a reader would see."""
    result = FormResult(source)
    fields = fields_of(template)
    cjk = any(f.covers("王") for f in fallback_chain(()))
    rules, data = sample_values(fields, cjk=cjk)
    if not rules:
        result.problems.append("no fillable fields")
        return result
    field_map = FieldMap.model_validate({"fields": rules, "min_font_size": 4})
    try:
        editable = fill_form_with_notes(template=template, field_map=field_map, data=data).pdf
        flat = fill_form_with_notes(template=template, field_map=field_map, data=data, flatten=True).pdf
        # The reference fill: single checkboxes off, groups on another option (or none when there is one).
        buttons = {f.name: f for f in fields if f.name in rules and f.type in ("checkbox", "radio")}
        off_rules = {n: rules[n] for n in buttons}
        off_data: dict[str, Any] = {}
        for n, f in buttons.items():
            key = rules[n]["path"]
            others = [o for o in f.options if o.strip() and o != data[key]]
            off_data[key] = False if data[key] is True else (others[0] if others else None)
        editable_off = (fill_form_with_notes(template=template, data=off_data,
                                             field_map=FieldMap.model_validate({"fields": off_rules})).pdf
                        if off_rules else editable)
    except ValidationFailed as exc:
        result.problems.append(f"fill refused: {exc}")
        return result
    widgets, values = _widgets_and_values(editable)
    _, values_off = _widgets_and_values(editable_off)
    left = fields_of(flat)
    if left:
        result.problems.append(f"{len(left)} field(s) left after flattening")
    with open_pdf(flat) as flattened:
        if any(a.get(Name.Subtype) == Name.Widget for page in flattened.pages
               for a in page.obj.get(Name.Annots, pikepdf.Array()) if isinstance(a, pikepdf.Dictionary)):
            result.problems.append("widgets left after flattening")
    with tempfile.TemporaryDirectory() as tmp:
        # Only what the widgets draw: the page's own text (underscores, dots, labels) would merge into words.
        drawn = _widgets_only(editable)
        words = _words(drawn, Path(tmp))
        images = _render(drawn, Path(tmp), "on")
        images_off = _render(_widgets_only(editable_off), Path(tmp), "off")
    by_type = {f.name: f for f in fields}
    for name in rules:
        f = by_type[name]
        mine = [w for w in widgets if w.field == name]
        if f.type in ("text", "choice"):
            result.fields.append(_check_text(name, f.type, mine, values.get(name, ""), words))
        else:
            chosen = (values.get(name, "Off"), values_off.get(name, "Off"))
            result.fields.append(_check_buttons(name, f.type, mine, chosen, images, images_off))
    return result


def _widgets_only(pdf_bytes: bytes) -> bytes:
    """The filled form flattened over blank pages."""
    with open_pdf(pdf_bytes) as pdf:
        for page in pdf.pages:
            page.obj.Contents = pdf.make_stream(b"")
        flatten_form(pdf)
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


def _widgets_and_values(pdf_bytes: bytes) -> tuple[list[_Widget], dict[str, str]]:
    widgets: list[_Widget] = []
    values: dict[str, str] = {}
    with open_pdf(pdf_bytes) as pdf:
        pages: dict[tuple[int, int], int] = {}
        for number, page in enumerate(pdf.pages):
            for annot in page.obj.get(Name.Annots, pikepdf.Array()):
                if isinstance(annot, pikepdf.Dictionary) and annot.is_indirect:
                    pages.setdefault(annot.objgen, number)
        for f in pdf.acroform.fields:
            name = str(f.fully_qualified_name)
            holder = f.obj if Name.T in f.obj or f.parent.is_null else f.parent.obj
            value = holder.get(Name.V)
            if value is not None:
                values[name] = str(value)[1:] if isinstance(value, Name) else str(value)
            for widget in pdf.acroform.get_annotations_for_field(f):
                obj = widget.obj
                if not obj.is_indirect or obj.objgen not in pages or int(obj.get(Name.F, 0)) & _HIDDEN:
                    continue
                x1, y1, x2, y2 = (float(v) for v in obj.Rect)
                if abs(x2 - x1) < 1 or abs(y2 - y1) < 1:
                    continue
                ap = obj.get(Name.AP)
                normal = ap.get(Name.N) if isinstance(ap, pikepdf.Dictionary) else None
                states = frozenset(str(k)[1:] for k in normal) if isinstance(normal, pikepdf.Dictionary) \
                    else frozenset()
                rect = (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
                page = pdf.pages[pages[obj.objgen]]
                turn = int(page.obj.get(Name.Rotate, 0)) % 360
                mk = obj.get(Name.MK)
                own = int(mk.get(Name.R, 0)) % 360 if isinstance(mk, pikepdf.Dictionary) else 0
                matrix = normal.get(Name.Matrix) if isinstance(normal, pikepdf.Stream) else None
                if not own and isinstance(matrix, pikepdf.Array):
                    # Some producers (LibreOffice) turn vertical text with the appearance's /Matrix instead.
                    a, b = (float(v) for v in list(matrix)[:2])
                    own = round(math.degrees(math.atan2(b, a))) % 360
                if int(obj.get(Name.F, 0)) & _NO_ROTATE and turn:
                    # NoRotate (§12.5.3): the widget stays upright, pinned at its upper-left corner.
                    left, top, _, _ = _to_display(page, (rect[0], rect[3], rect[0], rect[3]))
                    display = (left, top, left + rect[2] - rect[0], top + rect[3] - rect[1])
                    turn = 0
                else:
                    display = _to_display(page, rect)
                widgets.append(_Widget(name, pages[obj.objgen], display, states, (own - turn) % 360))
    return widgets, values


def _to_display(page: pikepdf.Page, rect: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """A rectangle in page space -> (left, top, right, bottom) in the displayed page, top-left origin, points."""
    box = page.obj.get(Name.CropBox) or page.obj.MediaBox
    cx1, cy1, cx2, cy2 = (float(v) for v in box)
    width, height = cx2 - cx1, cy2 - cy1
    rotate = int(page.obj.get(Name.Rotate, 0)) % 360
    x1, y1, x2, y2 = rect[0] - cx1, rect[1] - cy1, rect[2] - cx1, rect[3] - cy1
    if rotate == 90:
        return (y1, x1, y2, x2)
    if rotate == 180:
        return (width - x2, y1, width - x1, y2)
    if rotate == 270:
        return (height - y2, width - x2, height - y1, width - x1)
    return (x1, height - y2, x2, height - y1)


def _words(pdf_bytes: bytes, tmp: Path) -> dict[int, list[tuple[float, float, float, float, str]]]:
    path = tmp / "flat.pdf"
    path.write_bytes(pdf_bytes)
    out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, check=True).stdout.decode()
    pages: dict[int, list[tuple[float, float, float, float, str]]] = {}
    for number, chunk in enumerate(out.split("<page ")[1:]):
        pages[number] = [(float(a), float(b), float(c), float(d), html.unescape(t)) for a, b, c, d, t in
                         _WORD.findall(chunk)]
    return pages


def _squash(text: str) -> str:
    return "".join(unicodedata.normalize("NFC", text).split())


def _check_text(name: str, kind: str, widgets: list[_Widget], value: str,
                words: dict[int, list[tuple[float, float, float, float, str]]]) -> FieldResult:
    if not widgets:
        return FieldResult(name, kind, True, "no visible widget")
    for w in widgets:
        left, top, right, bottom = w.rect
        inside = [(x1, y1, x2, y2, t) for x1, y1, x2, y2, t in words.get(w.page, [])
                  if left - 1 <= (x1 + x2) / 2 <= right + 1 and top - 1 <= (y1 + y2) / 2 <= bottom + 1]
        drawn = _squash("".join(_reading_order(inside, w.angle)))
        if drawn != _squash(value):
            return FieldResult(name, kind, False, f"page {w.page + 1}: drew {drawn!r}, value {value!r}")
        along_x = w.angle in (0, 180)
        spill = [t for x1, y1, x2, y2, t in words.get(w.page, [])
                 if top - 1 <= (y1 + y2) / 2 <= bottom + 1 and left - 1 <= (x1 + x2) / 2 <= right + 1
                 and ((x1 < left - 2 or x2 > right + 2) if along_x else (y1 < top - 2 or y2 > bottom + 2))]
        if spill:
            return FieldResult(name, kind, False, f"page {w.page + 1}: text runs out of the box: {spill!r}")
    return FieldResult(name, kind, True)


def _reading_order(words: list[tuple[float, float, float, float, str]], angle: int) -> list[str]:
    """Words as a person reads them on screen: line after line, along each line in the direction the text
    runs (turned 90 degrees counter-clockwise, text reads upwards and lines follow left to right)."""
    def across(x1: float, y1: float, x2: float, y2: float) -> float:
        return {0: (y1 + y2) / 2, 90: (x1 + x2) / 2, 180: -(y1 + y2) / 2, 270: -(x1 + x2) / 2}.get(angle, y1)

    def along(x1: float, y1: float, x2: float, y2: float) -> float:
        return {0: x1, 90: -y2, 180: -x2, 270: y1}.get(angle, x1)

    def thickness(x1: float, y1: float, x2: float, y2: float) -> float:
        return (y2 - y1) if angle in (0, 180) else (x2 - x1)

    lines: list[list[tuple[float, float, float, float, str]]] = []
    for word in sorted(words, key=lambda w: across(*w[:4])):
        if lines and abs(across(*word[:4]) - across(*lines[-1][-1][:4])) < 0.5 * thickness(*word[:4]):
            lines[-1].append(word)
        else:
            lines.append([word])
    return [w[4] for line in lines for w in sorted(line, key=lambda w: along(*w[:4]))]


def _render(pdf_bytes: bytes, tmp: Path, tag: str) -> dict[int, tuple[int, int, bytes]]:
    path = tmp / f"{tag}.pdf"
    path.write_bytes(pdf_bytes)
    subprocess.run(["pdftoppm", "-r", "72", "-gray", str(path), str(tmp / tag)], check=True, capture_output=True)
    images = {}
    for file in sorted(tmp.glob(f"{tag}-*.pgm")):
        number = int(file.stem.rsplit("-", 1)[1]) - 1
        images[number] = _read_pgm(file.read_bytes())
    return images


def _read_pgm(data: bytes) -> tuple[int, int, bytes]:
    parts = data.split(maxsplit=4)
    width, height = int(parts[1]), int(parts[2])
    return width, height, parts[4][-width * height:]


def _ink(image: tuple[int, int, bytes], rect: tuple[float, float, float, float]) -> list[int]:
    width, height, pixels = image
    left, top = max(int(rect[0]), 0), max(int(rect[1]), 0)
    right, bottom = min(int(rect[2]) + 1, width), min(int(rect[3]) + 1, height)
    return [pixels[y * width + x] for y in range(top, bottom) for x in range(left, right)]


def _check_buttons(name: str, kind: str, widgets: list[_Widget], chosen: tuple[str, str],
                   on: dict[int, tuple[int, int, bytes]], off: dict[int, tuple[int, int, bytes]]) -> FieldResult:
    """A widget's region differs between the two fills exactly when it is on in one and off in the other."""
    if not widgets:
        return FieldResult(name, kind, True, "no visible widget")
    first, second = chosen
    for index, w in enumerate(widgets):
        if w.page not in on or w.page not in off:
            return FieldResult(name, kind, False, f"page {w.page + 1} not rendered")
        changed = _ink(on[w.page], w.rect) != _ink(off[w.page], w.rect)
        should = (first in w.states and first != "Off") != (second in w.states and second != "Off")
        if changed != should:
            state = "changed" if changed else "did not change"
            return FieldResult(name, kind, False,
                               f"widget {index + 1} ({sorted(w.states)}) {state} between {first!r} and {second!r}")
    return FieldResult(name, kind, True)
