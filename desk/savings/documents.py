"""EOBs and proofs of payment attached to claims: checked by content, stored with a SHA-256, named by the desk.

The uploaded file name is discarded: people name scans after the patient, and file names travel into
downloads, logs and e-mail. The stored name is built from the claim number and document kind only.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.errors import PyPdfError
from sqlmodel import Session, select

from desk.audit import record_event
from desk.errors import FieldError, NotFound, ValidationFailed
from desk.models import DOCUMENT_KINDS, SavingsClaim, SavingsDocument
from desk.pdf.inspect import PdfLimits, PdfRejected, check_pdf
from desk.pdf.sanitize import sanitize_pdf

DOCUMENT_LABELS = {"eob": "EOB", "proof_of_payment": "Proof of payment"}
_EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg", "image/tiff": "tif"}


def sniff_content_type(content: bytes) -> str | None:
    """The file's type from its first bytes (PDF, PNG, JPEG, TIFF), or None."""
    head = content[:1024]
    if b"%PDF-" in head:
        return "application/pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    return None


def _readable(content: bytes, content_type: str) -> bool:
    if content_type == "application/pdf":
        try:
            reader = PdfReader(io.BytesIO(content))
            if reader.is_encrypted:
                return True  # readable by the program with its password; pages cannot be counted here
            return len(reader.pages) > 0
        except (PyPdfError, ValueError, KeyError, TypeError, OSError):
            return False
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
        return True
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return False


def attach_document(
    session: Session, *, claim_id: int, kind: str, content: bytes, max_bytes: int
) -> SavingsDocument:
    """Store an EOB or proof of payment for a claim; only a readable PDF or image is accepted."""
    claim = session.get(SavingsClaim, claim_id)
    if claim is None:
        raise NotFound("No such claim.")
    label = DOCUMENT_LABELS.get(kind, "document")
    errors: list[FieldError] = []
    if kind not in DOCUMENT_KINDS:
        errors.append(FieldError("kind", f"use one of {', '.join(DOCUMENT_KINDS)}"))
    if claim.status == "void":
        errors.append(FieldError("claim", "this claim is void; documents cannot be added"))
    content_type = sniff_content_type(content) if content else None
    if not content:
        errors.append(FieldError("file", "the file is empty"))
    elif len(content) > max_bytes:
        errors.append(FieldError("file", f"the file is larger than {max_bytes // (1024 * 1024)} MB"))
    elif content_type is None:
        errors.append(FieldError("file", f"the {label} must be a PDF or an image (PNG, JPEG or TIFF)"))
    elif not _readable(content, content_type):
        kind_name = _EXTENSIONS[content_type].upper()
        errors.append(FieldError("file", f"the {label} looks like a {kind_name} but cannot be read"))
    if not errors and content_type == "application/pdf":
        try:
            check_pdf(content, limits=PdfLimits(max_bytes=max_bytes))
            content = sanitize_pdf(content)  # stored without scripts, links, launches or embedded files
        except PdfRejected as exc:
            errors.append(FieldError("file", f"the {label}: {exc}"))
    digest = hashlib.sha256(content).hexdigest()
    if not errors:
        same = session.exec(
            select(SavingsDocument.id).where(SavingsDocument.claim_id == claim_id, SavingsDocument.sha256 == digest)
        ).first()
        if same is not None:
            errors.append(FieldError("file", "this exact file is already attached to the claim"))
    if errors:
        raise ValidationFailed(errors)
    assert content_type is not None
    count = len(session.exec(
        select(SavingsDocument.id).where(SavingsDocument.claim_id == claim_id, SavingsDocument.kind == kind)
    ).all())
    document = SavingsDocument(
        claim_id=claim_id,
        kind=kind,
        filename=f"claim-{claim_id}-{kind.replace('_', '-')}-{count + 1}.{_EXTENSIONS[content_type]}",
        content_type=content_type,
        size_bytes=len(content),
        sha256=digest,
        content=content,
        uploaded_by=str(session.info.get("actor", "")),
    )
    session.add(document)
    session.flush()
    return document


@dataclass(frozen=True)
class DocumentFile:
    """A stored document ready to hand to the browser."""

    filename: str
    content_type: str
    content: bytes


def download_document(session: Session, *, document_id: int) -> DocumentFile:
    """The document's bytes, after checking them against the stored SHA-256; the download is audited."""
    document = session.get(SavingsDocument, document_id)
    if document is None:
        raise NotFound("No such document.")
    if hashlib.sha256(document.content).hexdigest() != document.sha256:
        raise ValidationFailed([FieldError("file", "the stored file does not match its checksum; do not use it")])
    record_event(session, action="download", entity="savings_document", entity_id=document_id, detail=document.kind)
    return DocumentFile(document.filename, document.content_type, document.content)
