"""Build a 30-page submission packet (10 documents of 3 pages, each checked as an upload). Target < 1 s.
Also: making one uploaded document inert before it is stored.
Also: the letter of medical necessity and the whole request packet (cover, form, letter) written from a case's
facts, without the database."""

from __future__ import annotations

import io
from collections.abc import Iterable

from reportlab.pdfgen.canvas import Canvas

from bench.common import Result, median_ms
from desk.pdf.inspect import PdfLimits
from desk.pdf.letters import medical_necessity_letter
from desk.pdf.packet import PacketPart, build_packet, prior_auth_packet
from desk.pdf.sample_data import sample_case_facts
from desk.pdf.sanitize import sanitize_pdf
from desk.settings import PROJECT_ROOT


def _document(number: int) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=1)
    for page in range(1, 4):
        canvas.setFont("Helvetica", 11)
        for line in range(40):
            canvas.drawString(60, 780 - line * 18, f"Chart note {number}, page {page}, line {line}: synthetic text.")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def run(quick: bool) -> Iterable[Result]:
    parts = [PacketPart(f"Document {n}", _document(n), uploaded=True) for n in range(10)]
    limits = PdfLimits()
    ms = median_ms(lambda: build_packet(parts, limits=limits), repeat=3 if quick else 10, warmup=1)
    yield Result("packet", "30-page packet median", ms, "ms")
    upload = _document(0)
    clean_ms = median_ms(lambda: sanitize_pdf(upload), repeat=5 if quick else 30, warmup=1)
    yield Result("packet", "make one 3-page upload inert, median", clean_ms, "ms")
    facts = sample_case_facts()
    repeat = 3 if quick else 10
    yield Result("packet", "letter of medical necessity from facts median",
                 median_ms(lambda: medical_necessity_letter(facts), repeat=repeat, warmup=1), "ms")
    yield Result("packet", "request packet (cover, form, letter) from facts median",
                 median_ms(lambda: prior_auth_packet(facts=facts, forms_dir=PROJECT_ROOT / "forms", documents=[],
                                                     limits=limits), repeat=repeat, warmup=1), "ms")
