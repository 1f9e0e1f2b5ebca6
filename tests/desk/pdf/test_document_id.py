"""Every generated PDF handed out carries its own random document id (trailer /ID and info dictionary)."""

from __future__ import annotations

import io
import secrets

import pikepdf
from pypdf import PdfReader
from reportlab.pdfgen import canvas

from desk.pdf.document_id import document_id_of, with_document_id


def _pdf() -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Letter of medical necessity")
    page.save()
    return buffer.getvalue()


def test_each_copy_gets_its_own_id_and_keeps_its_content() -> None:
    original = _pdf()
    first_id, second_id = secrets.token_hex(16), secrets.token_hex(16)
    first = with_document_id(original, document_id=first_id)
    second = with_document_id(original, document_id=second_id)
    assert first != second
    assert document_id_of(first) == first_id and document_id_of(second) == second_id
    assert document_id_of(original) == ""
    with pikepdf.open(io.BytesIO(first)) as pdf:
        assert bytes(pdf.trailer.ID[0]).hex() == first_id
    assert "Letter of medical necessity" in PdfReader(io.BytesIO(first)).pages[0].extract_text()
