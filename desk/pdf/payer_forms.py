"""Stored payer forms: save an uploaded fillable PDF with its field map, find the one a payer uses."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from sqlmodel import Session, col, func, select

from desk.errors import FieldError, ValidationFailed
from desk.models import PayerForm, utcnow
from desk.pdf.fieldmap import FieldMap, check_against_data, check_against_pdf, parse_field_map
from desk.pdf.inspect import PdfLimits, PdfRejected, check_pdf
from desk.pdf.sample_data import sample_pa_case
from desk.pdf.sanitize import sanitize_pdf
from desk.records import load_for_edit

_PAYER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def validate_payer_form(*, pdf: bytes, field_map_yaml: str, limits: PdfLimits) -> FieldMap:
    """Every check a payer form passes before it is stored: safe PDF, map schema, map fits the PDF
    and uses only paths the PA case data has."""
    try:
        summary = check_pdf(pdf, limits=limits)
    except PdfRejected as exc:
        raise ValidationFailed([FieldError("pdf", str(exc))]) from None
    if not summary.has_form:
        raise ValidationFailed([FieldError("pdf", "this PDF has no fillable fields")])
    field_map = parse_field_map(field_map_yaml, source="field_map")
    problems = check_against_pdf(field_map, summary.fields) + check_against_data(field_map, sample_pa_case())
    if problems:
        raise ValidationFailed(problems)
    return field_map


def save_payer_form(
    session: Session,
    *,
    payer_id: str,
    name: str,
    pdf: bytes,
    field_map_yaml: str,
    uploaded_by: str,
    limits: PdfLimits,
) -> PayerForm:
    """Store a new revision of a payer's form; earlier revisions stay for the record but are retired."""
    problems = []
    if not _PAYER_ID.match(payer_id or ""):
        problems.append(FieldError("payer_id", "use the payer's file id: lower-case letters, digits and dashes"))
    if not name.strip():
        problems.append(FieldError("name", "give the form a name"))
    if problems:
        raise ValidationFailed(problems)
    validate_payer_form(pdf=pdf, field_map_yaml=field_map_yaml, limits=limits)
    try:
        pdf = sanitize_pdf(pdf)  # stored without scripts (format/calculate actions too), links or attachments
    except PdfRejected as exc:
        raise ValidationFailed([FieldError("pdf", str(exc))]) from None
    validate_payer_form(pdf=pdf, field_map_yaml=field_map_yaml, limits=limits)
    latest = session.exec(
        select(func.max(PayerForm.revision)).where(PayerForm.payer_id == payer_id)
    ).one()
    for old in session.exec(select(PayerForm).where(PayerForm.payer_id == payer_id, col(PayerForm.active))):
        old.active = False
        session.add(old)
    row = PayerForm(
        payer_id=payer_id,
        name=name.strip(),
        revision=(latest or 0) + 1,
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        field_map_yaml=field_map_yaml,
        uploaded_by=uploaded_by,
        uploaded_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def update_payer_form_map(
    session: Session, *, form_id: int, field_map_yaml: str, expected_version: int, limits: PdfLimits
) -> PayerForm:
    """Replace the field map of a stored form (the PDF stays); stale edits are refused."""
    row = load_for_edit(
        session, PayerForm, form_id, expected_version=expected_version, entity="payer form",
        missing="no such payer form",
    )
    validate_payer_form(pdf=row.pdf, field_map_yaml=field_map_yaml, limits=limits)
    row.field_map_yaml = field_map_yaml
    session.add(row)
    session.flush()
    return row


def payer_form_for(session: Session, *, payer_id: str) -> PayerForm | None:
    """The active form of a payer (newest revision), or None when the payer has none: use ours."""
    return session.exec(
        select(PayerForm)
        .where(PayerForm.payer_id == payer_id, col(PayerForm.active))
        .order_by(col(PayerForm.revision).desc())
    ).first()


def list_payer_forms(session: Session) -> Sequence[PayerForm]:
    """Every stored revision, newest first within each payer."""
    return session.exec(
        select(PayerForm).order_by(col(PayerForm.payer_id), col(PayerForm.revision).desc())
    ).all()
