"""Inspect a PDF: safety checks for anything uploaded, and the list of its form fields.

Uploaded PDFs come from outside the clinic (payers' forms, scanned chart notes), so each one is
checked before any other code touches it: size, parseable without repair, not encrypted, not an
XFA-only form, page count, nesting depth and the decompressed size of its streams (a zip bomb
inflates a few kilobytes into gigabytes).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pikepdf
from pikepdf import Name

from desk.errors import DeskError
from desk.pdf.source import name_text, open_bytes
from desk.settings import Settings

FIELD_TYPES = ("text", "checkbox", "radio", "choice", "signature", "button")

# /Ff bits (PDF 32000-1:2008 §12.7.4): text multiline (13), comb (25); button radio (16), pushbutton (17).
_FF_MULTILINE = 1 << 12
_FF_COMB = 1 << 24


class PdfRejected(DeskError):
    """The PDF cannot be used; the message says why in words a user understands."""


@dataclass(frozen=True)
class PdfLimits:
    """How much an uploaded PDF may hold before it is refused."""

    max_bytes: int = 20 * 1024 * 1024
    max_pages: int = 300
    max_depth: int = 64
    max_objects: int = 200_000
    # Total decoded size of all Flate streams, and the largest expansion a single stream may show
    # once it decodes to more than `ratio_floor_bytes` (compression of real content stays far below).
    max_decoded_bytes: int = 512 * 1024 * 1024
    max_ratio: int = 1000
    ratio_floor_bytes: int = 8 * 1024 * 1024


def limits_from_settings(settings: Settings) -> PdfLimits:
    """The clinic's upload limits (DESK_UPLOAD_MAX_MB)."""
    return PdfLimits(max_bytes=settings.upload_max_mb * 1024 * 1024)


@dataclass(frozen=True)
class FormField:
    """One fillable field as a person setting up a field map needs to see it."""

    name: str
    type: str
    options: tuple[str, ...] = ()
    page: int | None = None
    max_length: int | None = None
    tooltip: str = ""
    multiline: bool = False
    comb: bool = False
    # checkbox: the on-state read from the widget's appearance dictionary (/Yes, /On, /1, ...)
    on_state: str | None = None
    # radio groups and checkbox groups (several on-states): export value shown to people -> state name
    radio_states: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "options": list(self.options),
            "page": self.page,
            "max_length": self.max_length,
        }


@dataclass(frozen=True)
class PdfSummary:
    """What the checks learned about an accepted PDF."""

    pages: int
    has_form: bool
    has_xfa: bool
    fields: tuple[FormField, ...]


def open_pdf(data: bytes) -> pikepdf.Pdf:
    """Open PDF bytes without repairing them; user-password, fill-forbidding and unparseable files are refused.

    A PDF encrypted with only an owner password opens for everyone; when its permissions allow filling
    in forms it is accepted (payers distribute forms that way)."""
    if not data[:1024].lstrip().startswith(b"%PDF-") and b"%PDF-" not in data[:1024]:
        raise PdfRejected("this file is not a PDF (no %PDF header)")
    try:
        pdf = open_bytes(data, attempt_recovery=False)
    except pikepdf.PasswordError:
        raise PdfRejected("this PDF is password-protected; remove the password and upload it again") from None
    except (pikepdf.PdfError, ValueError, RuntimeError):
        raise PdfRejected("this PDF is damaged or truncated and cannot be read; export it again") from None
    if pdf.is_encrypted and not (pdf.allow.modify_form or pdf.allow.modify_annotation):
        # Owner-password-only files open without a password; their permissions decide (PDF 32000-1 §7.6.3.2).
        pdf.close()
        raise PdfRejected("this PDF's owner password does not allow filling in its form; ask the sender for a copy "
                          "that allows form filling")
    return pdf


def check_pdf(data: bytes, *, limits: PdfLimits) -> PdfSummary:
    """Run every safety check on uploaded bytes; raise PdfRejected with the reason, else summarise."""
    if len(data) == 0:
        raise PdfRejected("the file is empty")
    if len(data) > limits.max_bytes:
        raise PdfRejected(f"the file is {_size(len(data))}; the limit is {_size(limits.max_bytes)}")
    pdf = open_pdf(data)
    with pdf:
        try:
            _check_objects(pdf, limits)
        except UnicodeDecodeError:
            # A dictionary key that is not valid UTF-8 (pikepdf reads keys as text): damage or a hostile file.
            raise PdfRejected("this PDF has damaged object names and cannot be read safely; export it again") from None
        try:
            pages = len(pdf.pages)
        except (pikepdf.PdfError, RuntimeError):
            raise PdfRejected("this PDF's page tree is damaged; export it again") from None
        if pages == 0:
            raise PdfRejected("this PDF has no pages")
        if pages > limits.max_pages:
            raise PdfRejected(f"this PDF has {pages} pages; the limit is {limits.max_pages}")
        has_xfa = _has_xfa(pdf)
        fields = tuple(list_fields(pdf))
        if has_xfa and not fields:
            raise PdfRejected(
                "this is an XFA-only (dynamic LiveCycle) form, which most viewers cannot fill or print; "
                "ask the payer for a static PDF version or print it to PDF"
            )
        return PdfSummary(pages=pages, has_form=bool(fields), has_xfa=has_xfa, fields=fields)


def _size(count: int) -> str:
    return f"{count / 1048576:.1f} MB" if count >= 1048576 else f"{count / 1024:.0f} KB"


def _has_xfa(pdf: pikepdf.Pdf) -> bool:
    acroform = pdf.Root.get(Name.AcroForm)
    return isinstance(acroform, pikepdf.Dictionary) and Name.XFA in acroform


def _check_objects(pdf: pikepdf.Pdf, limits: PdfLimits) -> None:
    decoded_total = 0
    for count, obj in enumerate(pdf.objects, start=1):
        if count > limits.max_objects:
            raise PdfRejected(f"this PDF has more than {limits.max_objects} objects; it looks hostile")
        if _depth(obj, limits.max_depth) > limits.max_depth:
            raise PdfRejected("this PDF nests its data structures too deeply; it looks hostile")
        if isinstance(obj, pikepdf.Stream):
            decoded_total += _flate_size(obj, limits, budget=limits.max_decoded_bytes - decoded_total)


def _depth(root: Any, cap: int) -> int:
    """Nesting depth of direct arrays/dictionaries under `root` (indirect references end a branch)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        obj, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > cap:
            return deepest
        if isinstance(obj, pikepdf.Array):
            children: Iterator[Any] = iter(obj)
        elif isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            children = (obj[key] for key in obj.keys())  # noqa: SIM118 (pikepdf streams do not iterate keys)
        else:
            continue
        for child in children:
            if isinstance(child, pikepdf.Array | pikepdf.Dictionary) and not child.is_indirect:
                stack.append((child, level + 1))
    return deepest


def _flate_size(stream: pikepdf.Stream, limits: PdfLimits, *, budget: int) -> int:
    """Decoded size of a FlateDecode stream, inflated in bounded chunks (never all in memory)."""
    filters = stream.get(Name.Filter)
    if isinstance(filters, pikepdf.Array):
        names = [name_text(f) for f in filters]
    elif filters is None:
        return 0
    else:
        names = [name_text(filters)]
    if not names or names[0] not in ("/FlateDecode", "/Fl"):
        return 0
    try:
        raw = stream.read_raw_bytes()
    except pikepdf.PdfError:
        raise PdfRejected("this PDF has a damaged data stream; export it again") from None
    inflater = zlib.decompressobj()
    total = 0
    chunk = raw
    while chunk:
        try:
            out = inflater.decompress(chunk, 1 << 20)
        except zlib.error:
            # Damaged compressed data: viewers skip it; not a reason to refuse the whole file.
            return total
        total += len(out)
        if total > budget:
            raise PdfRejected("this PDF expands to more data than allowed when opened; it looks like a zip bomb")
        if total > limits.ratio_floor_bytes and total > limits.max_ratio * max(len(raw), 1):
            raise PdfRejected("this PDF holds a stream compressed beyond any real document; it looks like a zip bomb")
        chunk = inflater.unconsumed_tail
        if not out and not chunk:
            break
    return total


def _field_type(f: pikepdf.AcroFormField) -> str:
    if f.is_text:
        return "text"
    if f.is_checkbox:
        return "checkbox"
    if f.is_radio_button:
        return "radio"
    if f.is_choice:
        return "choice"
    if f.is_pushbutton:
        return "button"
    if f.field_type == Name.Sig:
        return "signature"
    return "button"


def _page_index(pdf: pikepdf.Pdf) -> dict[tuple[int, int], int]:
    where: dict[tuple[int, int], int] = {}
    for number, page in enumerate(pdf.pages, start=1):
        for annot in page.obj.get(Name.Annots, pikepdf.Array()):
            if isinstance(annot, pikepdf.Dictionary) and annot.is_indirect:
                where.setdefault(annot.objgen, number)
    return where


def _appearance_states(annot: pikepdf.Dictionary) -> list[str]:
    ap = annot.get(Name.AP)
    if not isinstance(ap, pikepdf.Dictionary):
        return []
    normal = ap.get(Name.N)
    if not isinstance(normal, pikepdf.Dictionary | pikepdf.Stream):
        return []
    return [str(k)[1:] for k in normal if k != "/Off"] if isinstance(normal, pikepdf.Dictionary) else []


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def list_fields(pdf: pikepdf.Pdf) -> list[FormField]:
    """Every terminal field once, in document order; radio buttons are grouped under their group name."""
    acroform = pdf.acroform
    if not acroform.exists:
        return []
    pages = _page_index(pdf)
    grouped: dict[str, list[pikepdf.AcroFormField]] = {}
    for f in acroform.fields:
        grouped.setdefault(str(f.fully_qualified_name), []).append(f)
    result: list[FormField] = []
    for name, members in grouped.items():
        first = members[0]
        kind = _field_type(first)
        annots: list[Any] = []
        for member in members:
            annots.extend(a.obj for a in acroform.get_annotations_for_field(member))
        page = next((pages[a.objgen] for a in annots if a.is_indirect and a.objgen in pages), None)
        tooltip = str(first.obj.get(Name.TU, "")) if Name.TU in first.obj else ""
        if not tooltip and first.is_radio_button and not first.parent.is_null and Name.TU in first.parent.obj:
            tooltip = str(first.parent.obj.TU)
        flags = int(first.flags)
        options: tuple[str, ...] = ()
        on_state: str | None = None
        radio_states: dict[str, str] = {}
        if kind == "checkbox":
            # Checkbox "groups": widgets sharing one name, each with its own on-state (/M, /F; Yes/No pairs).
            radio_states = _radio_states(first, annots)
            on_state = next(iter(radio_states.values()), "Yes")
            options = tuple(radio_states) or (on_state,)
            if len(radio_states) < 2:
                radio_states = {}
        elif kind == "radio":
            radio_states = _radio_states(first, annots)
            options = tuple(radio_states)
        elif kind == "choice":
            options = tuple(str(c) for c in first.choices)
        result.append(
            FormField(
                name=name,
                type=kind,
                options=options,
                page=page,
                max_length=_int_or_none(first.get_inheritable_field_value("/MaxLen")) if kind == "text" else None,
                tooltip=tooltip,
                multiline=bool(flags & _FF_MULTILINE) if kind == "text" else False,
                comb=bool(flags & _FF_COMB) if kind == "text" else False,
                on_state=on_state,
                radio_states=radio_states,
            )
        )
    return result


def _radio_states(first: pikepdf.AcroFormField, annots: list[Any]) -> dict[str, str]:
    """Export value -> state name. With /Opt (PDF 1.5+) the state names are indices into /Opt."""
    states: list[str] = []
    for annot in annots:
        for state in _appearance_states(annot):
            if state not in states:
                states.append(state)
    holder = first.parent.obj if not first.parent.is_null else first.obj
    opt = holder.get(Name.Opt)
    if isinstance(opt, pikepdf.Array):
        labels = [str(o) for o in opt]
        if len(set(labels)) == len(labels) and all(s.isdigit() and int(s) < len(labels) for s in states):
            return {labels[int(s)]: s for s in states}
    return {s: s for s in states}


def fields_of(data: bytes) -> list[FormField]:
    """The fields of PDF bytes that are already trusted (our templates, stored payer forms)."""
    with open_pdf(data) as pdf:
        return list_fields(pdf)
