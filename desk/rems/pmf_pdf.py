"""The Patient Monitoring Form as a PDF: one form, or every ready form of a date range in one download."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import pikepdf
from sqlmodel import Session

from desk.audit import record_event
from desk.auth import CurrentUser, require
from desk.errors import FieldError, ValidationFailed
from desk.pdf.fieldmap import FieldMap, load_field_map
from desk.pdf.fill import fill_form
from desk.rems.permissions import READ_ROLES
from desk.rems.pmf import pmf_data, ready_sessions
from desk.settings import load_settings

TEMPLATE_NAME = "rems_pmf"
MAX_RANGE_DAYS = 366


@lru_cache(maxsize=4)
def _template(forms_dir: Path, mtime_pdf: float, mtime_map: float) -> tuple[bytes, FieldMap]:
    return (forms_dir / f"{TEMPLATE_NAME}.pdf").read_bytes(), load_field_map(forms_dir / f"{TEMPLATE_NAME}.yaml")


def pmf_template(forms_dir: Path | None = None) -> tuple[bytes, FieldMap]:
    """The PMF template and its field map (re-read when either file changes)."""
    forms_dir = forms_dir or load_settings().forms_dir
    pdf_path, map_path = forms_dir / f"{TEMPLATE_NAME}.pdf", forms_dir / f"{TEMPLATE_NAME}.yaml"
    return _template(forms_dir, pdf_path.stat().st_mtime, map_path.stat().st_mtime)


def pmf_pdf(session: Session, *, session_id: int, flatten: bool = True, forms_dir: Path | None = None) -> bytes:
    """The filled monitoring form of one session (flattened for fax or upload unless asked otherwise)."""
    template, field_map = pmf_template(forms_dir)
    return fill_form(template=template, field_map=field_map, data=pmf_data(session, session_id=session_id),
                     flatten=flatten)


def pmf_file_name(session_id: int, session_date: date) -> str:
    """A file name that carries no patient identifier."""
    return f"rems-pmf-session-{session_id}-{session_date.isoformat()}.pdf"


def monitoring_form_for(session: Session, *, user: CurrentUser, session_id: int, flatten: bool = True) -> bytes:
    """One session's form for a download button, for roles that may read it. Drawing the button is not a
    download, so nothing is audited here: the button audits the click (ui/downloads.py)."""
    require(user, *READ_ROLES)
    return pmf_pdf(session, session_id=session_id, flatten=flatten)


@dataclass(frozen=True)
class FormBundle:
    """Several filled forms in one file."""

    content: bytes
    file_name: str
    mime: str
    session_ids: tuple[int, ...]


def ready_forms_bundle(
    session: Session, *, user: CurrentUser, start: date, end: date, as_zip: bool = False,
    forms_dir: Path | None = None, on_progress: Callable[[int, int], None] | None = None,
) -> FormBundle:
    """Every form ready to submit for sessions dated start..end: one merged PDF, or a zip of PDFs.

    `on_progress(done, total)` is called after each form is filled (counts only, never patient data).
    """
    require(user, *READ_ROLES)
    errors = []
    if end < start:
        errors.append(FieldError("end", "the end date is before the start date"))
    elif (end - start).days > MAX_RANGE_DAYS:
        errors.append(FieldError("end", f"choose at most {MAX_RANGE_DAYS} days"))
    if errors:
        raise ValidationFailed(errors)
    rows = ready_sessions(session, start=start, end=end)
    if not rows:
        raise ValidationFailed([FieldError("start", "no monitoring form is ready in this date range")])
    template, field_map = pmf_template(forms_dir)
    ids = tuple(int(ts.id) for ts in rows if ts.id is not None)
    pdfs = []
    for done, ts in enumerate(rows, start=1):
        pdfs.append((pmf_file_name(int(ts.id or 0), ts.session_date),
                     fill_form(template=template, field_map=field_map,
                               data=pmf_data(session, session_id=int(ts.id or 0)), flatten=True)))
        if on_progress is not None:
            on_progress(done, len(rows))
    label = f"rems-pmf-{start.isoformat()}-to-{end.isoformat()}"
    if as_zip:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, content in pdfs:
                archive.writestr(name, content)
        bundle = FormBundle(buffer.getvalue(), f"{label}.zip", "application/zip", ids)
    else:
        bundle = FormBundle(merge_pdfs([content for _name, content in pdfs]), f"{label}.pdf", "application/pdf", ids)
    record_event(session, action="export", entity="treatment_session", entity_id=",".join(str(i) for i in ids),
                 detail=f"{len(ids)} REMS monitoring forms {start.isoformat()}..{end.isoformat()} "
                        f"({'zip' if as_zip else 'merged PDF'})")
    return bundle


def merge_pdfs(documents: list[bytes]) -> bytes:
    """One PDF with the pages of every document in order."""
    merged = pikepdf.Pdf.new()
    opened = [pikepdf.Pdf.open(io.BytesIO(document)) for document in documents]
    try:
        for pdf in opened:
            merged.pages.extend(pdf.pages)
        out = io.BytesIO()
        merged.save(out, deterministic_id=True)
        return out.getvalue()
    finally:
        for pdf in opened:
            pdf.close()
        merged.close()
