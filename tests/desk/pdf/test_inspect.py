"""Upload checks: hostile and broken PDFs are refused with a reason; real forms list their fields."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import pikepdf
import pytest

from desk.pdf.inspect import PdfLimits, PdfRejected, check_pdf, fields_of, limits_from_settings
from desk.settings import load_settings
from tests.desk.pdf.pdfkit import encrypted, one_page, plain_pdf


def _refused(data: bytes, limits: PdfLimits) -> str:
    with pytest.raises(PdfRejected) as caught:
        check_pdf(data, limits=limits)
    return str(caught.value)


def test_plain_pdf_is_accepted(limits: PdfLimits) -> None:
    summary = check_pdf(plain_pdf(pages=3), limits=limits)
    assert summary.pages == 3 and not summary.has_form and not summary.fields


def test_empty_and_not_pdf(limits: PdfLimits) -> None:
    assert _refused(b"", limits) == "the file is empty"
    assert "not a PDF" in _refused(b"PK\x03\x04 this is a zip", limits)


def test_corrupt_pdf(limits: PdfLimits) -> None:
    assert "damaged or truncated" in _refused(b"%PDF-1.7\n" + bytes(range(256)) * 40, limits)


def test_truncated_pdf(limits: PdfLimits, fixtures_pdf: Path) -> None:
    data = (fixtures_pdf / "libreoffice-form.pdf").read_bytes()
    for cut in (len(data) // 2, len(data) - 300):
        assert "damaged or truncated" in _refused(data[:cut], limits)


def test_password_protected_fixture(limits: PdfLimits, fixtures_pdf: Path) -> None:
    data = (fixtures_pdf / "libreoffice-writer-password.pdf").read_bytes()
    assert "password-protected" in _refused(data, limits)


def test_encrypted_with_user_password(limits: PdfLimits) -> None:
    assert "password-protected" in _refused(encrypted(plain_pdf(), user_password="secret"), limits)


def test_owner_password_only_forbidding_form_filling_is_refused(limits: PdfLimits) -> None:
    assert "does not allow filling" in _refused(encrypted(plain_pdf(), user_password="", allow_forms=False), limits)


def test_owner_password_only_allowing_form_filling_is_accepted(limits: PdfLimits) -> None:
    summary = check_pdf(encrypted(plain_pdf(), user_password="", allow_forms=True), limits=limits)
    assert summary.pages == 1


def test_xfa_only_form(limits: PdfLimits) -> None:
    xfa = b"/AcroForm << /Fields [] /XFA [(template) 4 0 R] >>"
    data = one_page(xfa, b"<< /Length 20 >>\nstream\n<xdp:xdp></xdp:xdp>\nendstream")
    assert "XFA-only" in _refused(data, limits)


def test_hybrid_xfa_form_is_accepted(limits: PdfLimits, fixtures_pdf: Path) -> None:
    with pikepdf.open(fixtures_pdf / "pdf_escape.pdf") as pdf:
        pdf.Root.AcroForm.XFA = pdf.make_stream(b"<xdp:xdp></xdp:xdp>")
        out = io.BytesIO()
        pdf.save(out)
    summary = check_pdf(out.getvalue(), limits=limits)
    assert summary.has_xfa and summary.fields


def test_oversized_file(fixtures_pdf: Path) -> None:
    data = (fixtures_pdf / "libreoffice-form.pdf").read_bytes()
    assert _refused(data, PdfLimits(max_bytes=10_240)) == "the file is 33 KB; the limit is 10 KB"
    assert _refused(b"%PDF-" + b"0" * 3_200_000, PdfLimits(max_bytes=3 * 1048576)) == (
        "the file is 3.1 MB; the limit is 3.0 MB"
    )


def test_size_limit_follows_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESK_UPLOAD_MAX_MB", "3")
    assert limits_from_settings(load_settings()).max_bytes == 3 * 1024 * 1024


def test_too_many_pages() -> None:
    assert "has 5 pages; the limit is 4" in _refused(plain_pdf(pages=5), PdfLimits(max_pages=4))


def test_decompression_bomb(limits: PdfLimits) -> None:
    payload = zlib.compress(b"\0" * (64 * 1024 * 1024), 9)
    data = one_page(contents=b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(payload) + payload
                    + b"\nendstream")
    assert len(data) < 200_000
    assert "zip bomb" in _refused(data, limits)


def test_decoded_total_budget() -> None:
    payload = zlib.compress(b"q Q\n" * 250_000, 9)
    data = one_page(contents=b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(payload) + payload
                    + b"\nendstream")
    assert "zip bomb" in _refused(data, PdfLimits(max_decoded_bytes=100_000))


def test_deep_nesting(limits: PdfLimits) -> None:
    deep = b"[" * 200 + b"]" * 200
    assert "nests its data structures too deeply" in _refused(one_page(b"/Deep " + deep), limits)


def test_fixture_fields_are_listed(fixtures_pdf: Path) -> None:
    by_name = {f.name: f for f in fields_of((fixtures_pdf / "libreoffice-form.pdf").read_bytes())}
    assert by_name["First Name"].type == "text" and by_name["First Name"].page == 1
    assert by_name["female"].type == "radio" and by_name["female"].options == ("1", "2")
    assert by_name["gdpr"].type == "checkbox" and by_name["gdpr"].on_state == "Yes"
    assert by_name["Nationality"].type == "choice" and "German" in by_name["Nationality"].options
    docfly = {f.name: f for f in fields_of((fixtures_pdf / "docfly.pdf").read_bytes())}
    # /Opt export values name the states /0 /1 /2 (PDF 1.5 radio groups).
    assert docfly["radio_1"].radio_states == {"Choice1": "0", "Choice2": "1", "Choice3": "2"}
    latex = {f.name: f for f in fields_of((fixtures_pdf / "pdflatex-forms.pdf").read_bytes())}
    assert latex["Submit"].type == "button"


def test_names_that_are_not_utf8_are_read_not_crashed_on(limits: PdfLimits) -> None:
    # Names in Latin-1 bytes (#F1, #C9) as a damaged or hostile file has them: compared in their written form.
    odd_filter = one_page(contents=b"<< /Length 2 /Filter /Fl#F1te >>\nstream\nab\nendstream")
    assert check_pdf(odd_filter, limits=limits).pages == 1
    assert check_pdf(one_page(b"/K#C9y /V#E9l"), limits=limits).pages == 1

