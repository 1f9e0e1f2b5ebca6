"""The submission packet and the appeal letter of a case, written from the case's facts and kept as generated.

Facts first (desk/prior_auth/compose.py), then words (desk/prior_auth/wording.py, desk/pdf/letters.py); the
fillable forms get the "PA case data" shape of forms/README.md from the same facts. Every generated file is
stored with its SHA-256, author and time; every download is audited.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from desk.audit import record_event
from desk.errors import FieldError, NotFound, ValidationFailed
from desk.models import utcnow
from desk.models.prior_auth import PaAttachment, PaGeneratedFile, PriorAuthCase
from desk.pdf.fieldmap import parse_field_map
from desk.pdf.inspect import limits_from_settings
from desk.pdf.letters import appeal_letter
from desk.pdf.packet import Document, prior_auth_packet
from desk.pdf.payer_forms import payer_form_for
from desk.prior_auth.checklist import CaseChecklist, case_checklist
from desk.prior_auth.clocks import local_today
from desk.prior_auth.compose import APPEALABLE, compose_case_facts
from desk.prior_auth.facts import CaseFacts
from desk.prior_auth.wording import form_data
from desk.settings import load_settings


@dataclass(frozen=True)
class GeneratedRef:
    """A generated file as listed on the case (no content)."""

    id: int
    kind: str
    file_name: str
    sha256: str
    size_bytes: int
    created_by: str
    created_at: datetime


def case_facts(session: Session, *, case: PriorAuthCase, checklist: CaseChecklist | None = None,
               today: date | None = None) -> CaseFacts:
    """The facts every outgoing document of this case is written from, as of today."""
    today = today or local_today(load_settings().timezone)
    checklist = checklist or case_checklist(session, case=case, as_of=today)
    return compose_case_facts(session, case=case, checklist=checklist, today=today)


def case_data(session: Session, *, case: PriorAuthCase, checklist: CaseChecklist, today: date | None = None,
              ) -> dict[str, Any]:
    """The PA case data (forms/README.md) for this case: the fillable forms' view of its facts."""
    return form_data(case_facts(session, case=case, checklist=checklist, today=today))


def _keep(session: Session, *, case: PriorAuthCase, kind: str, pdf: bytes, actor: str) -> PaGeneratedFile:
    moment = utcnow()
    row = PaGeneratedFile(case_id=case.id or 0, kind=kind,
                          file_name=f"pa-{case.id}-{kind.replace('_', '-')}-{moment:%Y%m%d-%H%M%S}.pdf",
                          sha256=hashlib.sha256(pdf).hexdigest(), size_bytes=len(pdf), content=pdf,
                          created_by=actor, created_at=moment)
    session.add(row)
    session.flush()
    return row


def generate_packet(session: Session, *, case_id: int, actor: str, attachment_ids: Sequence[int] | None = None,
                    today: date | None = None) -> PaGeneratedFile:
    """Cover sheet + request form (the payer's own when mapped, else ours) + letter + chosen attachments.

    For a denied case the appeal letter takes the letter of medical necessity's place.
    """
    case = session.get(PriorAuthCase, case_id)
    if case is None:
        raise NotFound(f"No prior-authorization case #{case_id}.")
    if case.status in ("cancelled", "expired"):
        raise ValidationFailed([FieldError("case", "the case is closed")])
    facts = case_facts(session, case=case, today=today)
    chosen = _attachments(session, case_id=case_id, attachment_ids=attachment_ids)
    settings = load_settings()
    payer_form = payer_form_for(session, payer_id=case.payer_id)
    request_form = None
    if payer_form is not None:
        request_form = (payer_form.pdf, parse_field_map(payer_form.field_map_yaml,
                                                        source=f"payer form {payer_form.id}"))
    pdf = prior_auth_packet(facts=facts, forms_dir=settings.forms_dir,
                            documents=[Document(a.title, a.content) for a in chosen],
                            limits=limits_from_settings(settings), request_form=request_form)
    return _keep(session, case=case, kind="packet", pdf=pdf, actor=actor)


def _attachments(session: Session, *, case_id: int, attachment_ids: Sequence[int] | None) -> list[PaAttachment]:
    rows = session.exec(select(PaAttachment).where(PaAttachment.case_id == case_id,
                                                   PaAttachment.removed == False)  # noqa: E712
                        .order_by(col(PaAttachment.id))).all()
    if attachment_ids is None:
        return [a for a in rows if a.include_in_packet]
    known = {a.id: a for a in rows}
    unknown = [i for i in attachment_ids if i not in known]
    if unknown:
        raise ValidationFailed([FieldError("attachments", f"attachment #{unknown[0]} is not on this case")])
    return [known[i] for i in attachment_ids]


def generate_appeal_letter(session: Session, *, case_id: int, actor: str, today: date | None = None,
                           ) -> PaGeneratedFile:
    """The appeal letter alone, prefilled from the denial reason and the checklist evidence."""
    case = session.get(PriorAuthCase, case_id)
    if case is None:
        raise NotFound(f"No prior-authorization case #{case_id}.")
    if case.status not in APPEALABLE:
        raise ValidationFailed([FieldError("case", "an appeal letter needs a denied case")])
    pdf = appeal_letter(case_facts(session, case=case, today=today))
    return _keep(session, case=case, kind="appeal_letter", pdf=pdf, actor=actor)


def generated_files(session: Session, *, case_id: int) -> list[GeneratedRef]:
    """Files generated for the case, newest first (contents are not loaded)."""
    rows = session.execute(
        sa_select(*(col(c) for c in (PaGeneratedFile.id, PaGeneratedFile.kind, PaGeneratedFile.file_name,
                                     PaGeneratedFile.sha256, PaGeneratedFile.size_bytes, PaGeneratedFile.created_by,
                                     PaGeneratedFile.created_at)))
        .where(col(PaGeneratedFile.case_id) == case_id).order_by(col(PaGeneratedFile.id).desc())
    ).all()
    return [GeneratedRef(int(r[0] or 0), r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]


def download_generated(session: Session, *, case_id: int, file_id: int) -> PaGeneratedFile:
    """A kept file's bytes, with an audited 'download' event."""
    row = session.get(PaGeneratedFile, file_id)
    if row is None or row.case_id != case_id:
        raise NotFound("No such generated file on this case.")
    record_event(session, action="download", entity="pa_generated_file", entity_id=file_id,
                 detail=f"{row.kind} of case {case_id}, sha256 {row.sha256[:12]}")
    return row

