"""Stored payer forms on SQLite and PostgreSQL: save, revisions, lookup, stale edits, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from desk.errors import StaleEdit, ValidationFailed
from desk.models import AuditEvent, PayerForm
from desk.pdf.inspect import PdfLimits
from desk.pdf.payer_forms import list_payer_forms, payer_form_for, save_payer_form, update_payer_form_map

MAP = """
fields:
  test_1: {path: patient.last_name}
  test_2: {path: coverage.member_id}
  check_1: {path: site.rems_certified}
  radio_1: {path: request.urgency, options: {standard: Choice1, expedited: Choice2}}
"""


@pytest.fixture
def payer_pdf(fixtures_pdf: Path) -> bytes:
    """A real third-party fillable PDF standing in for a payer's form."""
    return (fixtures_pdf / "docfly.pdf").read_bytes()


def test_save_and_find(session: Session, payer_pdf: bytes, limits: PdfLimits) -> None:
    first = save_payer_form(session, payer_id="bcbs-ma", name="Spravato PA form 2025", pdf=payer_pdf,
                            field_map_yaml=MAP, uploaded_by="admin", limits=limits)
    session.commit()
    assert first.revision == 1 and len(first.sha256) == 64
    second = save_payer_form(session, payer_id="bcbs-ma", name="Spravato PA form 2026", pdf=payer_pdf,
                             field_map_yaml=MAP, uploaded_by="admin", limits=limits)
    session.commit()
    found = payer_form_for(session, payer_id="bcbs-ma")
    assert found is not None and found.id == second.id and found.revision == 2
    assert [r.active for r in list_payer_forms(session)] == [True, False]
    assert payer_form_for(session, payer_id="cigna") is None
    audited = session.exec(select(AuditEvent).where(AuditEvent.entity == "payer_form")).all()
    assert {e.action for e in audited} >= {"create", "update"}


def test_refusals_write_nothing(session: Session, payer_pdf: bytes, fixtures_pdf: Path, limits: PdfLimits) -> None:
    cases = [
        ({"payer_id": "BCBS MA"}, "payer_id", "use the payer's file id: lower-case letters, digits and dashes"),
        ({"name": " "}, "name", "give the form a name"),
        ({"pdf": (fixtures_pdf / "libreoffice-writer-password.pdf").read_bytes()}, "pdf",
         "this PDF is password-protected; remove the password and upload it again"),
        ({"field_map_yaml": "fields:\n  nope: {path: patient.last_name}\n"}, "nope",
         "the PDF has no field with this name"),
        ({"field_map_yaml": "fields:\n  test_1: {path: patient.nickname}\n"}, "patient.nickname",
         "this data path does not exist in the case data"),
    ]
    for override, field, message in cases:
        values = {"payer_id": "bcbs-ma", "name": "Form", "pdf": payer_pdf, "field_map_yaml": MAP, **override}
        with pytest.raises(ValidationFailed) as caught:
            save_payer_form(session, uploaded_by="admin", limits=limits, **values)
        assert caught.value.for_field(field) == [message]
        session.rollback()
    assert session.exec(select(PayerForm)).all() == []


def test_update_map_checks_version(session: Session, payer_pdf: bytes, limits: PdfLimits) -> None:
    row = save_payer_form(session, payer_id="cigna", name="Form", pdf=payer_pdf, field_map_yaml=MAP,
                          uploaded_by="admin", limits=limits)
    session.commit()
    new_map = MAP.replace("patient.last_name", "patient.first_name")
    updated = update_payer_form_map(session, form_id=row.id or 0, field_map_yaml=new_map,
                                    expected_version=row.version, limits=limits)
    session.commit()
    assert updated.version == 2
    with pytest.raises(StaleEdit):
        update_payer_form_map(session, form_id=row.id or 0, field_map_yaml=MAP, expected_version=1, limits=limits)
    session.rollback()
    assert session.get(PayerForm, row.id).field_map_yaml == new_map


def test_a_payer_form_is_stored_without_active_content(session: Session, payer_pdf: bytes, limits: PdfLimits) -> None:
    import io

    import pikepdf

    from tests.desk.pdf.activekit import ACTIONS, active_content

    with pikepdf.open(io.BytesIO(payer_pdf)) as pdf:
        pdf.Root.OpenAction = ACTIONS["JavaScript"](pdf)
        for field in pdf.acroform.fields:
            field.obj.AA = pikepdf.Dictionary(K=ACTIONS["SubmitForm"](pdf), F=ACTIONS["Launch"](pdf))
        out = io.BytesIO()
        pdf.save(out)
    hostile = out.getvalue()
    assert active_content(hostile)
    row = save_payer_form(session, payer_id="bcbs-ma", name="Spravato PA form", pdf=hostile, field_map_yaml=MAP,
                          uploaded_by="admin", limits=limits)
    assert active_content(row.pdf) == []
    with pikepdf.open(io.BytesIO(row.pdf)) as stored:
        assert len(list(stored.acroform.fields)) == len(list(pikepdf.open(io.BytesIO(payer_pdf)).acroform.fields))
