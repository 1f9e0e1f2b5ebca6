"""Uploads made inert: every action type in every place is removed, the page still looks the same."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pikepdf
import pytest
from PIL import Image, ImageChops

from desk.pdf.inspect import PdfLimits
from desk.pdf.packet import PacketPart, build_packet
from desk.pdf.sanitize import document_title, sanitize_pdf
from tests.desk.pdf.activekit import VISIBLE, active_content, corpus, everything
from tests.desk.pdf.pdfkit import pdftotext, plain_pdf

CORPUS = list(corpus())


def _render(data: bytes, folder: Path, name: str, *options: str) -> Image.Image:
    source = folder / f"{name}.pdf"
    source.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "30", "-png", "-singlefile", *options, str(source), str(folder / name)],
                   check=True)
    return Image.open(folder / f"{name}.png").convert("L")


def test_the_corpus_is_hostile() -> None:
    """Guards the test itself: every corpus file carries what the sanitiser must remove."""
    for label, data in CORPUS:
        assert active_content(data), label
    assert len(CORPUS) == 7 * 8 + 2


@pytest.mark.parametrize(("label", "data"), CORPUS, ids=[label for label, _ in CORPUS])
def test_every_action_in_every_place_is_removed_and_the_page_looks_the_same(
    label: str, data: bytes, tmp_path: Path
) -> None:
    clean = sanitize_pdf(data)
    assert active_content(clean) == [], label
    assert VISIBLE in pdftotext(clean)
    # The page content is untouched: the same pixels as the original's pages drawn without its
    # annotations (a removed file-attachment pin or media frame is the only difference allowed).
    before = _render(data, tmp_path, "before", "-hide-annotations")
    after = _render(clean, tmp_path, "after")
    assert before.size == after.size
    assert ImageChops.difference(before, after).getbbox() is None
    assert after.getextrema()[0] < 128  # and the text is drawn (dark pixels)


def test_a_file_holding_everything_at_once(tmp_path: Path) -> None:
    data = everything()
    assert len(set(active_content(data))) >= 15
    clean = sanitize_pdf(data)
    assert active_content(clean) == []
    with pikepdf.open(io.BytesIO(clean)) as pdf:
        assert len(pdf.pages) == 1 and pdf.Root.Names.get("/JavaScript") is None
    assert VISIBLE in pdftotext(clean)


def test_packet_assembly_removes_active_content_even_from_parts_not_cleaned_before(tmp_path: Path) -> None:
    packet = build_packet([PacketPart("Letter", plain_pdf(text="Letter body")),
                           PacketPart("Old upload", everything(), uploaded=True)], limits=PdfLimits())
    assert active_content(packet) == []
    text = pdftotext(packet)
    assert "Letter body" in text and VISIBLE in text and "Page 2 of 2" in text


def test_sanitising_keeps_internal_jumps_and_form_fields(fixtures_pdf: Path) -> None:
    data = (fixtures_pdf / "docfly.pdf").read_bytes()
    clean = sanitize_pdf(data)
    with pikepdf.open(io.BytesIO(data)) as before, pikepdf.open(io.BytesIO(clean)) as after:
        names = sorted(str(f.fully_qualified_name) for f in before.acroform.fields)
        assert sorted(str(f.fully_qualified_name) for f in after.acroform.fields) == names
    assert active_content(clean) == []


@pytest.mark.parametrize(("raw", "expected"), [
    ("C:\\fakepath\\Doe_Jane chart.PDF", "Doe_Jane chart"),
    ("/home/u/notes.pdf", "notes"),
    ("Chart\u202egpj.exe", "Chart gpj.exe"),
    ("zero\u200bwidth\x00and\tcontrol\n", "zero width and control"),
    ("", "Document 3"),
    ("\u202e\u200b", "Document 3"),
    ("x" * 300, "x" * 99 + "…"),
])
def test_document_titles_are_clean(raw: str, expected: str) -> None:
    assert document_title(raw, fallback="Document 3") == expected


def test_packet_bookmarks_use_the_clean_title() -> None:
    packet = build_packet([PacketPart("C:\\fakepath\\Doe\u202eJane.pdf", plain_pdf(), uploaded=True),
                           PacketPart("\u200b", plain_pdf())], limits=PdfLimits())
    with pikepdf.open(io.BytesIO(packet)) as pdf, pdf.open_outline() as outline:
        assert [item.title for item in outline.root] == ["Doe Jane", "Document 2"]
