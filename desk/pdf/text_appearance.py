"""Appearance streams for text and choice widgets, laid out as a reader's own fill would.

What a reader does and qpdf's generator does not (PDF 32000-1 §12.7.3.3, §12.5.5, §12.7.4.3):
- auto-size (`0 Tf` in /DA) fits the box; a fixed size shrinks when the value is too long;
- multi-line fields wrap at word boundaries; comb fields put one character per cell (/MaxLen cells);
- /Q aligns left, centre or right; /MK /R rotates the text with the widget;
- the /DA colour and size are kept;
- characters the field's font cannot encode are drawn with an embedded fallback font (desk.pdf.fonts)
  instead of `?`.
A value that does not fit at the smallest allowed size raises TextOverflow with the room there is.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any

import pikepdf
from fontTools.agl import toUnicode
from fontTools.encodings.StandardEncoding import StandardEncoding
from pikepdf import Name
from reportlab.pdfbase.pdfmetrics import stringWidth

from desk.pdf.fonts import EmbeddedFonts, FallbackFont
from desk.pdf.source import name_text

PAD = 2.0
LEADING = 1.16
AUTO_MAX = 12.0
_FF_COMB_FLAG = 1 << 24
_TOKEN = re.compile(rb"/[^\s/\[\]()<>{}%]+|\((?:\\.|[^\\)])*\)|[^\s/\[\]()<>{}%]+")


class TextOverflow(ValueError):
    """The value does not fit its box at the smallest allowed size; `room` characters would."""

    def __init__(self, length: int, room: int, min_size: float) -> None:
        super().__init__(
            f"the value is {length} characters; the box holds {room} at the smallest size ({min_size:g} pt)"
        )
        self.length = length
        self.room = room


class UndrawableCharacter(ValueError):
    """No available font has a glyph for this character."""

    def __init__(self, char: str) -> None:
        name = unicodedata.name(char, "unnamed character")
        super().__init__(
            f"no font can draw {char!r} (U+{ord(char):04X} {name}); add a font that has it to DESK_FALLBACK_FONTS"
        )
        self.char = char


@dataclass(frozen=True)
class DefaultAppearance:
    font: str
    size: float
    colour: bytes


def parse_da(da: bytes) -> DefaultAppearance:
    """Font resource name, size (0 = auto) and colour operators of a /DA string."""
    tokens = _TOKEN.findall(da)
    font, size, colour = "Helv", 0.0, b"0 g"
    colour_ops: list[bytes] = []
    operands: list[bytes] = []
    for token in tokens:
        if token in (b"g", b"rg", b"k") and all(_is_number(o) for o in operands):
            colour_ops.append(b" ".join([*operands, token]))
            operands = []
        elif token == b"Tf" and len(operands) >= 2:
            font = operands[-2].decode("latin-1").lstrip("/")
            size = float(operands[-1]) if _is_number(operands[-1]) else 0.0
            operands = []
        elif token[:1].isalpha() and token not in (b"true", b"false"):
            operands = []
        else:
            operands.append(token)
    if colour_ops:
        colour = colour_ops[-1]
    return DefaultAppearance(font=font, size=max(size, 0.0), colour=colour)


def _is_number(token: bytes) -> bool:
    return re.fullmatch(rb"[-+]?(\d+\.?\d*|\.\d+)", token) is not None


@cache
def _base_table(name: str) -> dict[str, int]:
    table: dict[str, int] = {}
    if name == "WinAnsiEncoding":
        for code in range(32, 256):
            try:
                table.setdefault(bytes([code]).decode("cp1252"), code)
            except UnicodeDecodeError:
                continue
        table["\u00a0"] = 0xA0
    elif name == "MacRomanEncoding":
        for code in range(32, 256):
            table.setdefault(bytes([code]).decode("mac_roman"), code)
    else:
        for code, glyph in enumerate(StandardEncoding):
            char = toUnicode(glyph) if glyph != ".notdef" else ""
            if len(char) == 1:
                table.setdefault(char, code)
    return table


_STANDARD_14 = {"Courier": "Courier", "Times": "Times-Roman", "Helvetica": "Helvetica", "Arial": "Helvetica"}


def _reportlab_name(base_font: str) -> str:
    family = next((v for k, v in _STANDARD_14.items() if k.lower() in base_font.lower()), "Helvetica")
    bold = "bold" in base_font.lower()
    if family == "Times-Roman":
        return "Times-Bold" if bold else "Times-Roman"
    return f"{family}-Bold" if bold else family


class FieldFont:
    """The field's own /DA font: which characters its encoding reaches and their widths."""

    def __init__(self, name: str, obj: pikepdf.Dictionary | None) -> None:
        self.name = name
        self.obj = obj
        self.encoding: dict[str, int] = {}
        self.widths: dict[int, float] = {}
        self.metrics = "Helvetica"
        self.ascent, self.descent = 718.0, -207.0
        if obj is None:
            self.encoding = dict(_base_table("WinAnsiEncoding"))
            return
        subtype = obj.get(Name.Subtype)
        base = name_text(obj.get(Name.BaseFont))
        self.metrics = _reportlab_name(base)
        descriptor = obj.get(Name.FontDescriptor)
        flags = int(descriptor.get(Name.Flags, 32)) if isinstance(descriptor, pikepdf.Dictionary) else 32
        encoding = obj.get(Name.Encoding)
        # The symbolic flag matters only when no encoding is given (§9.6.6.4): LibreOffice sets it on text fonts.
        symbolic = bool(flags & 4) and not bool(flags & 32) and encoding is None
        if subtype not in (Name.Type1, Name.TrueType, Name.MMType1) or symbolic or any(
            s in base for s in ("Symbol", "Zapf", "Dingbat", "Wingding")
        ):
            return  # Type 0, Type 3 and symbolic fonts: leave every character to the fallback fonts
        base_name = "WinAnsiEncoding" if subtype == Name.TrueType else "StandardEncoding"
        differences: Any = None
        if isinstance(encoding, Name):
            base_name = str(encoding)[1:]
        elif isinstance(encoding, pikepdf.Dictionary):
            if isinstance(encoding.get(Name.BaseEncoding), Name):
                base_name = str(encoding.BaseEncoding)[1:]
            differences = encoding.get(Name.Differences)
        table = dict(_base_table(base_name))
        if isinstance(differences, pikepdf.Array):
            by_code = {code: char for char, code in table.items()}
            code = 0
            for item in differences:
                if isinstance(item, Name):
                    char = toUnicode(str(item)[1:])
                    if len(char) == 1:
                        by_code[code] = char
                    code += 1
                else:
                    code = int(item)
            table = {}
            for code_value, char in sorted(by_code.items()):
                table.setdefault(char, code_value)
        widths = obj.get(Name.Widths)
        first = int(obj.get(Name.FirstChar, 0))
        if isinstance(widths, pikepdf.Array):
            self.widths = {first + i: float(w) for i, w in enumerate(widths)}
        embedded_subset = isinstance(descriptor, pikepdf.Dictionary) and len(base) > 7 and base[6] == "+"
        if embedded_subset:
            # A subset font has glyphs only for what its author typed; a zero width marks a missing glyph.
            table = {ch: c for ch, c in table.items() if self.widths.get(c, 0.0) > 0}
        self.encoding = table
        if isinstance(descriptor, pikepdf.Dictionary):
            self.ascent = float(descriptor.get(Name.Ascent, 718)) or 718.0
            self.descent = float(descriptor.get(Name.Descent, -207)) or -207.0

    def covers(self, char: str) -> bool:
        return char in self.encoding

    def advance(self, char: str) -> float:
        code = self.encoding.get(char)
        if code is not None and code in self.widths:
            return self.widths[code]
        return _standard_width(self.metrics, char)

    def operand(self, text: str) -> bytes:
        raw = bytes(self.encoding[c] for c in text)
        return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)").replace(
            b"\r", b"\\r").replace(b"\n", b"\\n") + b")"


@cache
def _standard_width(font: str, char: str) -> float:
    return float(stringWidth(char, font, 1000))


Face = FieldFont | FallbackFont


def runs_for(text: str, field_font: FieldFont, chain: tuple[FallbackFont, ...]) -> list[tuple[Face, str]]:
    """The fonts that draw `text`: the field's own where it covers everything, else the first fallback
    that covers everything, else each character with the first fallback that has it."""
    if all(field_font.covers(c) for c in text):
        return [(field_font, text)] if text else []
    whole = next((f for f in chain if all(f.covers(c) for c in text)), None)
    if whole is not None:
        return [(whole, text)]
    runs: list[tuple[Face, str]] = []
    for char in text:
        face = next((f for f in chain if f.covers(char)), None)
        if face is None:
            raise UndrawableCharacter(char)
        if runs and runs[-1][0] is face:
            runs[-1] = (face, runs[-1][1] + char)
        else:
            runs.append((face, char))
    return runs


def check_drawable(text: str, field_font: FieldFont, chain: tuple[FallbackFont, ...]) -> None:
    runs_for(unicodedata.normalize("NFC", text), field_font, chain)


def _width(runs: list[tuple[Face, str]], size: float) -> float:
    return sum(sum(map(face.advance, part)) for face, part in runs) * size / 1000.0


@dataclass(frozen=True)
class Box:
    width: float
    height: float
    align: int
    multiline: bool
    comb_cells: int | None
    da: DefaultAppearance


@dataclass
class Layout:
    size: float
    lines: list[list[tuple[Face, str]]]
    text: str


def layout(text: str, box: Box, field_font: FieldFont, chain: tuple[FallbackFont, ...], min_size: float) -> Layout:
    """Choose the font size and lines for `text`; raise TextOverflow when it cannot fit."""
    text = unicodedata.normalize("NFC", text)
    # Boxes barely taller than a line (LibreOffice exports some) keep most of their height for the text.
    inner_w, inner_h = max(box.width - 2 * PAD, 1.0), max(box.height - 2 * PAD, box.height * 0.8, 1.0)
    start = box.da.size if box.da.size > 0 else AUTO_MAX
    start = min(start, max(inner_h / LEADING, 1.0))
    floor = min(min_size, start)
    if box.comb_cells:
        if len(text) > box.comb_cells:
            raise TextOverflow(len(text), box.comb_cells, floor)
        cell = box.width / box.comb_cells
        # One font for the whole value, as for any other field, then one character per cell.
        cells = [[(face, c)] for face, part in runs_for(text, field_font, chain) for c in part]
        widest = max((_width(runs, 1.0) for runs in cells), default=0.0)
        size = start if widest * start <= cell else max(cell / widest, floor)
        return Layout(size, cells, text)
    if not box.multiline:
        runs = runs_for(text, field_font, chain)
        total = _width(runs, 1.0)
        size = start if total * start <= inner_w else inner_w / total
        if size < floor:
            raise TextOverflow(len(text), _room(text, inner_w, floor, field_font, chain), floor)
        return Layout(size, [runs], text)
    size = start
    while True:
        lines = _wrap(text, inner_w, size, field_font, chain)
        if lines is not None and len(lines) * size * LEADING <= inner_h + 0.01:
            return Layout(size, [runs_for(line, field_font, chain) for line in lines], text)
        if size <= floor:
            raise TextOverflow(len(text), _room_multiline(text, box, inner_w, inner_h, floor, field_font, chain), floor)
        size = max(floor, size - 0.5)


def _wrap(text: str, width: float, size: float, field_font: FieldFont,
          chain: tuple[FallbackFont, ...]) -> list[str] | None:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split(" "):
            candidate = f"{current} {word}" if current else word
            if _width(runs_for(candidate, field_font, chain), size) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = ""
            # A word longer than the line is broken between characters (long e-mail addresses, URLs).
            for char in word:
                if current and _width(runs_for(current + char, field_font, chain), size) > width:
                    lines.append(current)
                    current = ""
                current += char
        lines.append(current)
    return lines


def _room(text: str, width: float, size: float, field_font: FieldFont, chain: tuple[FallbackFont, ...]) -> int:
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if _width(runs_for(text[:middle], field_font, chain), size) <= width:
            low = middle
        else:
            high = middle - 1
    return low


def _room_multiline(text: str, box: Box, width: float, height: float, size: float, field_font: FieldFont,
                    chain: tuple[FallbackFont, ...]) -> int:
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        lines = _wrap(text[:middle], width, size, field_font, chain) or []
        if len(lines) * size * LEADING <= height + 0.01:
            low = middle
        else:
            high = middle - 1
    return low


def content(fitted: Layout, box: Box, field_font: FieldFont, fonts: EmbeddedFonts,
            resources: dict[Name, Any]) -> bytes:
    """The marked-content block `/Tx BMC ... EMC` drawing the laid-out text; fills `resources` with fonts."""
    size = fitted.size
    ops = [b"/Tx BMC", b"q", b"%.2f %.2f %.2f %.2f re W n" % (1, 1, max(box.width - 2, 0), max(box.height - 2, 0)),
           b"BT", box.da.colour]
    ascent = field_font.ascent / 1000.0
    line_height = size * LEADING
    if box.comb_cells:
        cell = box.width / box.comb_cells
        baseline = (box.height - size * 0.7) / 2
        for index, runs in enumerate(fitted.lines):
            x = index * cell + (cell - _width(runs, size)) / 2
            ops.append(b"1 0 0 1 %.2f %.2f Tm" % (x, baseline))
            ops.extend(_show(runs, size, field_font, fonts, resources))
    else:
        y = box.height - PAD - size * min(ascent, 0.9) if box.multiline else (box.height - size * 0.7) / 2
        for runs in fitted.lines:
            line_width = _width(runs, size)
            if box.align == 1:
                x = (box.width - line_width) / 2
            elif box.align == 2:
                x = box.width - PAD - line_width
            else:
                x = PAD
            ops.append(b"1 0 0 1 %.2f %.2f Tm" % (x, y))
            ops.extend(_show(runs, size, field_font, fonts, resources))
            y -= line_height
    ops += [b"ET", b"Q", b"EMC"]
    return b"\n".join(ops)


def _show(runs: list[tuple[Face, str]], size: float, field_font: FieldFont, fonts: EmbeddedFonts,
          resources: dict[Name, Any]) -> list[bytes]:
    ops: list[bytes] = []
    for face, part in runs:
        if isinstance(face, FieldFont):
            name = Name("/" + face.name)
            resources.setdefault(name, face.obj)
            operand = face.operand(part)
        else:
            name, obj, operand = fonts.resource(face, part)
            resources.setdefault(name, obj)
        ops.append(str(name).encode("latin-1") + b" %.2f Tf " % size + operand + b" Tj")
    return ops
