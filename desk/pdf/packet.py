"""The submission packet: cover sheet, request form, letter and chosen documents in one PDF.

Each part is flattened (a fax or portal upload must show exactly what was filled), the parts are
merged with one bookmark each, and every page is stamped "Page X of Y" at the bottom.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Name
from reportlab.lib import colors
from reportlab.pdfgen.canvas import Canvas

from desk.errors import FieldError, ValidationFailed
from desk.pdf.fieldmap import load_field_map
from desk.pdf.fill import fill_form, flatten_form
from desk.pdf.inspect import PdfLimits, PdfRejected, check_pdf, open_pdf
from desk.pdf.letters import appeal_letter, medical_necessity_letter
from desk.pdf.sanitize import document_title, strip_active_content
from desk.pdf.source import open_bytes
from desk.prior_auth.facts import CaseFacts
from desk.prior_auth.wording import form_data


@dataclass(frozen=True)
class PacketPart:
    """One section of the packet: its bookmark title and PDF bytes; uploads are checked first."""

    title: str
    pdf: bytes
    uploaded: bool = False


def build_packet(parts: Sequence[PacketPart], *, limits: PdfLimits, stamp: str = "") -> bytes:
    """Merge `parts` in order with bookmarks and 'Page X of Y' stamps.

    Uploaded parts go through every safety check; a refused upload raises ValidationFailed naming
    the document by its title and saying why, and no packet is produced.
    """
    if not parts:
        raise ValidationFailed([FieldError("packet", "choose at least one document")])
    problems = []
    for part in parts:
        if part.uploaded:
            try:
                check_pdf(part.pdf, limits=limits)
            except PdfRejected as exc:
                problems.append(FieldError(part.title, str(exc)))
    if problems:
        raise ValidationFailed(problems)
    merged = pikepdf.new()
    starts: list[tuple[str, int]] = []
    sources: list[pikepdf.Pdf] = []
    try:
        for number, part in enumerate(parts, start=1):
            source = open_pdf(part.pdf)
            sources.append(source)
            if Name.AcroForm in source.Root or any(Name.Annots in page.obj for page in source.pages):
                flatten_form(source)
            starts.append((document_title(part.title, fallback=f"Document {number}"), len(merged.pages)))
            merged.pages.extend(source.pages)
        # Whatever a part carried (a document stored before uploads were made inert, a payer form's
        # scripts), the packet that leaves the desk has no active content.
        strip_active_content(merged)
        total = len(merged.pages)
        _stamp_pages(merged, total=total, label=stamp)
        with merged.open_outline() as outline:
            outline.root.extend(pikepdf.OutlineItem(title, index) for title, index in starts)
        out = io.BytesIO()
        merged.save(out, deterministic_id=True)
        return out.getvalue()
    finally:
        for source in sources:
            source.close()
        merged.close()


def _stamp_pages(pdf: pikepdf.Pdf, *, total: int, label: str) -> None:
    """One reportlab page per target page (same size), laid over it as a form XObject."""
    sizes = []
    for page in pdf.pages:
        box = [float(v) for v in page.mediabox]
        sizes.append((box[2] - box[0], box[3] - box[1]))
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=1)
    for number, (width, height) in enumerate(sizes, start=1):
        canvas.setPageSize((width, height))
        text = f"Page {number} of {total}"
        canvas.setFont("Helvetica", 8)
        text_width = canvas.stringWidth(text, "Helvetica", 8)
        canvas.setFillColor(colors.white)
        canvas.rect(width - 36 - text_width - 4, 7, text_width + 8, 12, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        canvas.drawRightString(width - 36, 10, text)
        if label:
            canvas.drawString(36, 10, label)
        canvas.showPage()
    canvas.save()
    stamps = open_bytes(buffer.getvalue())
    for page, stamp_page in zip(pdf.pages, stamps.pages, strict=True):
        page.add_overlay(stamp_page, None)


@dataclass(frozen=True)
class Document:
    """A document chosen for the packet (chart notes, scale results), uploaded by staff."""

    title: str
    pdf: bytes


def prior_auth_packet(
    *,
    facts: CaseFacts,
    forms_dir: Path,
    documents: Sequence[Document],
    limits: PdfLimits,
    request_form: tuple[bytes, Any] | None = None,
) -> bytes:
    """Fax cover + request form (the payer's own when given as (template, field map), else ours) +
    letter of medical necessity (or, for a denied case, the appeal letter) + documents, as one stamped,
    bookmarked PDF. Forms are filled from the facts' form data; letters are written from the facts."""
    case = form_data(facts)
    appeal = facts.appeal
    if request_form is None:
        request_form = ((forms_dir / "pa_request.pdf").read_bytes(), load_field_map(forms_dir / "pa_request.yaml"))
    template, field_map = request_form
    request_pdf = fill_form(template=template, field_map=field_map, data=case, flatten=True)
    letter_pdf = appeal_letter(facts) if appeal else medical_necessity_letter(facts)
    body = [
        PacketPart("Prior authorization request", request_pdf),
        PacketPart("Appeal letter" if appeal else "Letter of medical necessity", letter_pdf),
        *(PacketPart(d.title, d.pdf, uploaded=True) for d in documents),
    ]
    body_pages = sum(_page_count(part) for part in body)
    cover_case = dict(case)
    cover_case["fax"] = {**dict(case["fax"]), "pages": body_pages + 1}
    cover = fill_form(
        template=(forms_dir / "fax_cover.pdf").read_bytes(),
        field_map=load_field_map(forms_dir / "fax_cover.yaml"),
        data=cover_case,
        flatten=True,
    )
    return build_packet([PacketPart("Fax cover sheet", cover), *body], limits=limits,
                        stamp=facts.reference)


def _page_count(part: PacketPart) -> int:
    try:
        with open_pdf(part.pdf) as pdf:
            return len(pdf.pages)
    except PdfRejected:
        return 0
