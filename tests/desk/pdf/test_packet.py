"""The submission packet: bookmarks, page X of Y, checked uploads."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pypdf
import pytest

from desk.errors import ValidationFailed
from desk.pdf.inspect import PdfLimits
from desk.pdf.packet import Document, PacketPart, build_packet, prior_auth_packet
from desk.pdf.sample_data import sample_case_facts
from tests.desk.pdf.pdfkit import encrypted, pdftotext, plain_pdf


def _outline(data: bytes) -> list[tuple[str, int]]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return [(item.title, reader.get_destination_page_number(item)) for item in reader.outline]


def test_prior_auth_packet(forms_dir: Path, fixtures_pdf: Path, limits: PdfLimits) -> None:
    documents = [Document("Chart notes", plain_pdf(pages=3)),
                 Document("Scale results", (fixtures_pdf / "sample_template.pdf").read_bytes())]
    data = prior_auth_packet(facts=sample_case_facts(), forms_dir=forms_dir, documents=documents, limits=limits)
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1 + 2 + 2 + 3 + 3
    assert _outline(data) == [("Fax cover sheet", 0), ("Prior authorization request", 1),
                              ("Letter of medical necessity", 3), ("Chart notes", 5), ("Scale results", 8)]
    assert not reader.get_fields(), "every part is flattened"
    pages = [" ".join(page.split()) for page in pdftotext(data).split("\f")[:11]]
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of 11" in text
    assert re.search(r"03/02/2026\s+11\s+PA-2026-0042", pages[0]), "the cover counts every page"
    assert "Sample, Jordan, Q" in pages[1]


def test_appeal_packet_uses_the_appeal_letter(forms_dir: Path, limits: PdfLimits) -> None:
    data = prior_auth_packet(facts=sample_case_facts(appeal=True), forms_dir=forms_dir, documents=[], limits=limits)
    assert [title for title, _ in _outline(data)][-1] == "Appeal letter"


def test_hostile_upload_is_refused_by_name(forms_dir: Path, fixtures_pdf: Path, limits: PdfLimits) -> None:
    documents = [Document("Chart notes", plain_pdf()),
                 Document("Old referral", (fixtures_pdf / "libreoffice-writer-password.pdf").read_bytes()),
                 Document("Lab results", plain_pdf()[:400])]
    with pytest.raises(ValidationFailed) as caught:
        prior_auth_packet(facts=sample_case_facts(), forms_dir=forms_dir, documents=documents, limits=limits)
    assert caught.value.for_field("Old referral") == [
        "this PDF is password-protected; remove the password and upload it again"]
    assert "damaged or truncated" in caught.value.for_field("Lab results")[0]
    assert caught.value.for_field("Chart notes") == []


def test_upload_over_the_page_limit_is_refused() -> None:
    parts = [PacketPart("Notes", plain_pdf(pages=4), uploaded=True)]
    with pytest.raises(ValidationFailed) as caught:
        build_packet(parts, limits=PdfLimits(max_pages=3))
    assert caught.value.for_field("Notes") == ["this PDF has 4 pages; the limit is 3"]


def test_encrypted_upload_is_refused(limits: PdfLimits) -> None:
    parts = [PacketPart("Notes", encrypted(plain_pdf(), user_password="", allow_forms=False), uploaded=True)]
    with pytest.raises(ValidationFailed, match="owner password"):
        build_packet(parts, limits=limits)


def test_empty_packet_is_refused(limits: PdfLimits) -> None:
    with pytest.raises(ValidationFailed) as caught:
        build_packet([], limits=limits)
    assert caught.value.for_field("packet") == ["choose at least one document"]


def test_thirty_page_packet_numbers_every_page(limits: PdfLimits) -> None:
    parts = [PacketPart(f"Document {n}", plain_pdf(pages=3, text=f"Doc{n}"), uploaded=True) for n in range(10)]
    data = build_packet(parts, limits=limits)
    pages = pdftotext(data).split("\f")
    assert "Page 30 of 30" in pages[29] and "Page 1 of 30" in pages[0]
    assert [t for t, _ in _outline(data)] == [f"Document {n}" for n in range(10)]
