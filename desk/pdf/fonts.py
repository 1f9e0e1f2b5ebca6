"""Fallback fonts for form values a field's own font cannot draw, embedded as subsets.

The desk ships DejaVu Sans (Latin with Extended-A/B and Vietnamese, Greek, Cyrillic; licence in
desk/pdf/fonts/). Fonts listed in DESK_FALLBACK_FONTS come next, then a Noto Sans CJK installed by the
system (Debian fonts-noto-cjk). A value is drawn with the first font that has every character; a
value no single font covers is drawn in runs, each character with the first font that has it.

Fonts are embedded as Type 0 / Identity-H CID fonts with a ToUnicode map (PDF 32000-1 §9.7, §9.10),
so text extraction and screen readers get the exact characters back. TrueType outlines keep their
glyph ids (FontFile2); CID-keyed CFF fonts such as Noto CJK keep their CIDs (FontFile3 CIDFontType0C).
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import pikepdf
from fontTools import subset
from fontTools.ttLib import TTFont
from pikepdf import Name

SHIPPED_FONT = Path(__file__).resolve().parent / "fonts" / "DejaVuSans.ttf"
# Where Debian (fonts-noto-cjk) and Fedora (google-noto-sans-cjk-fonts) install Noto Sans CJK.
SYSTEM_FALLBACKS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc"),
)


class FontUnavailable(ValueError):
    """A configured font file cannot be read as a TrueType/OpenType font."""


@dataclass(eq=False)
class FallbackFont:
    """One font file (or one face of a collection) with what layout needs: coverage and advance widths."""

    path: Path
    number: int
    font: TTFont
    cmap: dict[int, str]
    units_per_em: int
    cff_cid_keyed: bool
    cff: bool
    ascent: float
    descent: float
    postscript_name: str

    def covers(self, char: str) -> bool:
        return ord(char) in self.cmap

    def code(self, char: str) -> int:
        """The 2-byte code the content stream shows: the glyph id, or the CID of a CID-keyed CFF font."""
        glyph = self.cmap[ord(char)]
        if self.cff_cid_keyed and glyph.startswith("cid"):
            return int(glyph[3:])
        return int(self.font.getGlyphID(glyph))

    def advance(self, char: str) -> float:
        """Advance width in thousandths of the font size."""
        glyph = self.cmap.get(ord(char))
        if glyph is None:
            return 0.0
        return float(self.font["hmtx"][glyph][0]) * 1000.0 / self.units_per_em


@cache
def load_font(path: Path, number: int = 0) -> FallbackFont:
    """Open a font once per process (lazily: only the tables layout touches are parsed)."""
    try:
        font = TTFont(str(path), fontNumber=number, lazy=True)
        cmap = font.getBestCmap() or {}
        cff = "CFF " in font
        cid_keyed = cff and hasattr(font["CFF "].cff.topDictIndex[0], "ROS")
        head = font["head"]
        hhea = font["hhea"]
        # Parse now what layout reads later: lazily loaded tables are not safe to load from two threads at once.
        font["hmtx"]
        font.getGlyphOrder()
        name = font["name"].getDebugName(6) or path.stem
    except (OSError, KeyError, AssertionError, ValueError, TypeError) as exc:
        raise FontUnavailable(f"{path} is not a readable TrueType/OpenType font ({exc.__class__.__name__})") from None
    upm = int(head.unitsPerEm)
    return FallbackFont(
        path=path, number=number, font=font, cmap=dict(cmap), units_per_em=upm, cff_cid_keyed=cid_keyed, cff=cff,
        ascent=float(hhea.ascent) * 1000 / upm, descent=float(hhea.descent) * 1000 / upm,
        postscript_name="".join(c for c in name if c.isalnum() or c in "-_") or "Font",
    )


def fallback_chain(configured: Iterable[Path] = ()) -> tuple[FallbackFont, ...]:
    """The shipped font, then the configured ones (a missing or unreadable one is an error), then system CJK."""
    return _chain(tuple(configured))


@cache
def _chain(configured: tuple[Path, ...]) -> tuple[FallbackFont, ...]:
    fonts = [load_font(SHIPPED_FONT)]
    for entry in configured:
        path_text, _, face = str(entry).partition("#")
        path = Path(path_text)
        if not path.is_file():
            raise FontUnavailable(f"DESK_FALLBACK_FONTS names {path}, which does not exist")
        fonts.append(load_font(path, int(face) if face.isdigit() else 0))
    for path in SYSTEM_FALLBACKS:
        if path.is_file() and all(f.path != path for f in fonts):
            fonts.append(load_font(path))
            break
    return tuple(fonts)


@dataclass
class _Use:
    font: FallbackFont
    obj: pikepdf.Dictionary
    chars: dict[int, str] = field(default_factory=dict)


class EmbeddedFonts:
    """The fallback fonts one fill uses: a placeholder font object per font while appearances are drawn,
    completed with one subset per font by `finish()` (so every field shares one embedded subset)."""

    def __init__(self, pdf: pikepdf.Pdf, chain: tuple[FallbackFont, ...]) -> None:
        self.pdf = pdf
        self.chain = chain
        self._uses: dict[int, _Use] = {}

    def resource(self, font: FallbackFont, text: str) -> tuple[Name, pikepdf.Dictionary, bytes]:
        """Resource name, font object and hex-string operand drawing `text` with `font`."""
        use = self._uses.get(id(font))
        if use is None:
            obj = self.pdf.make_indirect(pikepdf.Dictionary(Type=Name.Font, Subtype=Name.Type0))
            use = _Use(font, obj)
            self._uses[id(font)] = use
        codes = []
        for char in text:
            code = font.code(char)
            use.chars.setdefault(code, char)
            codes.append(code)
        index = list(self._uses).index(id(font))
        return Name(f"/DeskFallback{index}"), use.obj, b"<" + b"".join(b"%04X" % c for c in codes) + b">"

    def finish(self) -> None:
        for use in self._uses.values():
            _complete(self.pdf, use)


def _subset_bytes(font: FallbackFont, glyph_names: frozenset[str]) -> tuple[bytes, int]:
    """The subset font program, Flate-compressed once (saving the PDF then copies it as it is), and its
    uncompressed length."""
    program = _subset_cached(font.path, font.number, glyph_names)
    return _compressed(program), len(program)


@lru_cache(maxsize=64)
def _compressed(program: bytes) -> bytes:
    return zlib.compress(program, 6)


@lru_cache(maxsize=64)
def _subset_cached(path: Path, number: int, glyph_names: frozenset[str]) -> bytes:
    fresh = TTFont(str(path), fontNumber=number)
    options = subset.Options()
    options.retain_gids = not ("CFF " in fresh and hasattr(fresh["CFF "].cff.topDictIndex[0], "ROS"))
    options.notdef_outline = True
    options.hinting = False
    options.layout_features = []
    options.name_IDs = ["*"]
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "FFTM", "BASE", "JSTF", "MATH", "vhea", "vmtx"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(glyphs=sorted(glyph_names))
    subsetter.subset(fresh)
    out = io.BytesIO()
    if "CFF " in fresh and not options.retain_gids:
        # CID-keyed CFF: embed the bare CFF table (FontFile3 /CIDFontType0C); CIDs survive subsetting.
        fresh["CFF "].cff.compile(out, fresh)
    else:
        fresh.save(out)
    return out.getvalue()


def _tag(codes: Iterable[int]) -> str:
    value = abs(hash(tuple(sorted(codes))))
    letters = ""
    for _ in range(6):
        value, digit = divmod(value, 26)
        letters += chr(ord("A") + digit)
    return letters


def _complete(pdf: pikepdf.Pdf, use: _Use) -> None:
    font = use.font
    glyphs = frozenset({font.cmap[ord(ch)] for ch in use.chars.values()} | {".notdef"})
    program, length = _subset_bytes(font, glyphs)
    base = Name("/" + _tag(use.chars) + "+" + font.postscript_name)
    widths: list[Any] = []
    for code in sorted(use.chars):
        widths.extend([code, [round(font.advance(use.chars[code]), 1)]])
    descriptor = pdf.make_indirect(pikepdf.Dictionary(
        Type=Name.FontDescriptor, FontName=base, Flags=32, FontBBox=[-1000, -1000, 2000, 2000], ItalicAngle=0,
        Ascent=round(font.ascent), Descent=round(font.descent), CapHeight=round(font.ascent * 0.9), StemV=80,
    ))
    embedded = pdf.make_stream(b"")
    embedded.write(program, filter=Name.FlateDecode)
    if font.cff and font.cff_cid_keyed:
        embedded.Subtype = Name.CIDFontType0C
        descriptor.FontFile3 = embedded
        subtype = Name.CIDFontType0
    elif font.cff:
        embedded.Subtype = Name.OpenType
        descriptor.FontFile3 = embedded
        subtype = Name.CIDFontType0
    else:
        embedded.Length1 = length
        descriptor.FontFile2 = embedded
        subtype = Name.CIDFontType2
    cid_font = pikepdf.Dictionary(
        Type=Name.Font, Subtype=subtype, BaseFont=base, FontDescriptor=descriptor, W=pikepdf.Array(widths), DW=1000,
        CIDSystemInfo=pikepdf.Dictionary(Registry=pikepdf.String("Adobe"), Ordering=pikepdf.String("Identity"),
                                         Supplement=0),
    )
    if subtype == Name.CIDFontType2:
        cid_font.CIDToGIDMap = Name.Identity
    use.obj.BaseFont = base
    use.obj.Encoding = Name("/Identity-H")
    use.obj.DescendantFonts = pikepdf.Array([pdf.make_indirect(cid_font)])
    use.obj.ToUnicode = pdf.make_stream(_to_unicode(use.chars))


def _to_unicode(chars: dict[int, str]) -> bytes:
    lines = [
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
        b"1 begincodespacerange <0000> <FFFF> endcodespacerange",
    ]
    items = sorted(chars.items())
    for start in range(0, len(items), 100):
        chunk = items[start:start + 100]
        lines.append(b"%d beginbfchar" % len(chunk))
        for code, char in chunk:
            lines.append(b"<%04X> <%s>" % (code, char.encode("utf-16-be").hex().upper().encode()))
        lines.append(b"endbfchar")
    lines.append(b"endcmap CMapName currentdict /CMap defineresource pop end end")
    return b"\n".join(lines)
