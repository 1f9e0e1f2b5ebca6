"""Claim documents: PDF or image only, checked by content, generated file names, SHA-256, audited download."""

from __future__ import annotations

import hashlib
import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlmodel import Session, select

from desk.errors import ValidationFailed
from desk.models import AuditEvent, Patient, SavingsDocument
from desk.savings.claims import ClaimAmounts, record_claim
from desk.savings.documents import attach_document, download_document
from tests.desk.savings.conftest import TODAY, pdf_bytes, png_bytes


@pytest.fixture
def claim_id(session: Session, enrolled: Patient) -> int:
    """A draft rebate request."""
    claim = record_claim(session, patient_id=enrolled.id or 0, service_date=date(2026, 2, 2), kind="drug", devices=2,
                         method="rebate_request", amounts=ClaimAmounts(60_000, 40_000, 20_000), today=TODAY)
    return claim.id or 0


def test_pdf_eob_is_stored_with_checksum_and_a_generated_name(session: Session, claim_id: int) -> None:
    content = pdf_bytes("EOB for claim")
    document = attach_document(session, claim_id=claim_id, kind="eob", content=content, max_bytes=1_000_000)
    assert document.filename == f"claim-{claim_id}-eob-1.pdf"
    assert document.sha256 == hashlib.sha256(document.content).hexdigest()
    assert document.content_type == "application/pdf" and document.uploaded_by == "tester"
    second = attach_document(session, claim_id=claim_id, kind="eob", content=pdf_bytes("page two"),
                             max_bytes=1_000_000)
    assert second.filename == f"claim-{claim_id}-eob-2.pdf"
    file = download_document(session, document_id=document.id or 0)
    assert "EOB for claim" in PdfReader(io.BytesIO(file.content)).pages[0].extract_text()
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "download")).one()
    assert (event.entity, event.entity_id, event.detail) == ("savings_document", str(document.id), "eob")


def test_image_proof_of_payment_is_accepted(session: Session, claim_id: int) -> None:
    document = attach_document(session, claim_id=claim_id, kind="proof_of_payment", content=png_bytes(),
                               max_bytes=1_000_000)
    assert document.filename == f"claim-{claim_id}-proof-of-payment-1.png"
    assert document.content_type == "image/png"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"PK\x03\x04 a word document", "the EOB must be a PDF or an image (PNG, JPEG or TIFF)"),
        (b"Patient: Jane Doe, DOB 1980-01-01", "the EOB must be a PDF or an image (PNG, JPEG or TIFF)"),
        (b"%PDF-1.7\n garbage without pages", "the EOB looks like a PDF but cannot be read"),
        (b"\x89PNG\r\n\x1a\n truncated", "the EOB looks like a PNG but cannot be read"),
    ],
)
def test_not_a_pdf_or_image_is_refused(session: Session, claim_id: int, content: bytes, message: str) -> None:
    with pytest.raises(ValidationFailed) as failure:
        attach_document(session, claim_id=claim_id, kind="eob", content=content, max_bytes=1_000_000)
    assert failure.value.for_field("file") == [message]
    assert session.exec(select(SavingsDocument)).all() == []


def test_too_large_and_duplicate_files_are_refused(session: Session, claim_id: int) -> None:
    content = pdf_bytes()
    with pytest.raises(ValidationFailed) as large:
        attach_document(session, claim_id=claim_id, kind="eob", content=content, max_bytes=len(content) - 1)
    assert large.value.for_field("file")[0].startswith("the file is larger than")
    attach_document(session, claim_id=claim_id, kind="eob", content=content, max_bytes=1_000_000)
    with pytest.raises(ValidationFailed) as duplicate:
        attach_document(session, claim_id=claim_id, kind="eob", content=content, max_bytes=1_000_000)
    assert duplicate.value.for_field("file") == ["this exact file is already attached to the claim"]
    assert len(session.exec(select(SavingsDocument)).all()) == 1


def test_unknown_document_kind_is_refused(session: Session, claim_id: int) -> None:
    with pytest.raises(ValidationFailed) as failure:
        attach_document(session, claim_id=claim_id, kind="letter", content=pdf_bytes(), max_bytes=1_000_000)
    assert failure.value.for_field("kind") == ["use one of eob, proof_of_payment"]
    assert session.exec(select(SavingsDocument)).all() == []


def test_active_content_in_a_pdf_is_removed_before_it_is_stored(session: Session, claim_id: int) -> None:
    from tests.desk.pdf.activekit import VISIBLE, active_content, everything

    document = attach_document(session, claim_id=claim_id, kind="eob", content=everything(), max_bytes=1_000_000)
    stored = download_document(session, document_id=document.id or 0).content
    assert active_content(stored) == []
    assert VISIBLE in PdfReader(io.BytesIO(stored)).pages[0].extract_text()
