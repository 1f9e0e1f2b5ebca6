"""A random document id written into a generated PDF, so that every copy handed out is distinct."""

from __future__ import annotations

import io

import pikepdf

from desk.pdf.source import open_bytes

INFO_KEY = "/DeskDocumentId"


def with_document_id(data: bytes, *, document_id: str) -> bytes:
    """The PDF with `document_id` (hex) as the permanent half of the trailer /ID and in the info dictionary."""
    raw = bytes.fromhex(document_id)
    with open_bytes(data) as pdf:
        pdf.docinfo[pikepdf.Name(INFO_KEY)] = pikepdf.String(document_id)
        pdf.trailer.ID = pikepdf.Array([pikepdf.String(raw), pikepdf.String(raw)])
        out = io.BytesIO()
        # qpdf keeps the first (permanent) /ID element and renews the second one (ISO 32000-1, 14.4).
        pdf.save(out)
        return out.getvalue()


def document_id_of(data: bytes) -> str:
    """The document id written by with_document_id ('' when there is none)."""
    with open_bytes(data) as pdf:
        return str(pdf.docinfo.get(pikepdf.Name(INFO_KEY), ""))
