"""The case checklist: evaluator statuses, attachments, attestations, exceptions, readiness."""

from __future__ import annotations

import io

import pytest
from reportlab.pdfgen.canvas import Canvas
from sqlmodel import Session, func, select

from desk.errors import NotFound, ValidationFailed
from desk.models import Patient
from desk.models.prior_auth import PaAttachment, PaSignoff
from desk.prior_auth import lifecycle as lc
from desk.prior_auth.checklist import (
    attach_document,
    attest,
    case_checklist,
    record_exception,
    remove_attachment,
    withdraw_signoff,
)
from tests.desk.prior_auth.conftest import draft_case


def one_page_pdf(text: str = "Chart note") -> bytes:
    """A small real PDF with one line of text."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def test_checklist_shows_evaluator_status_evidence_and_source(session: Session) -> None:
    case = draft_case(session)
    checklist = case_checklist(session, case=case)
    assert checklist.policy_id == "test-payer" and not checklist.ready
    age = checklist.item("trd-age")
    assert age.status == "met" and age.effective == "met" and age.evidence
    assert age.source == "p: 1" and age.source_url == "https://example.org/policy"
    assert checklist.item("trd-rems").status == "attest"
    assert checklist.missing == ("attestation: The setting is REMS certified",)


def test_attestation_makes_the_case_ready_and_is_recorded_with_who_and_note(session: Session) -> None:
    case = draft_case(session)
    version = case.version
    mark = attest(session, case_id=case.id, expected_version=version, criterion_id="trd-rems",
                  note="REMS certificate RS000417 on file", actor="billing1")
    assert (mark.by, mark.kind, mark.note) == ("billing1", "attestation", "REMS certificate RS000417 on file")
    assert case.version == version + 1  # an edit to the checklist is an edit to the case
    checklist = case_checklist(session, case=case)
    assert checklist.ready and checklist.missing == ()
    assert checklist.item("trd-rems").effective == "attested"
    assert checklist.item("trd-all").effective == "met"


def test_exception_satisfies_a_failed_criterion_and_alternatives_count(session: Session) -> None:
    case = draft_case(session)
    patient = session.get(Patient, case.patient_id)
    assert patient is not None
    patient.psychosis_history = True  # the first path fails; the attestation path remains
    session.add(patient)
    session.flush()
    attest(session, case_id=case.id, expected_version=case.version, criterion_id="trd-rems", note="on file",
           actor="b")
    checklist = case_checklist(session, case=case)
    assert checklist.item("trd-psychosis").effective == "not_met"
    assert not checklist.ready
    assert checklist.missing == ("One of these paths: 1 more of: No history of psychosis | Prescriber attests "
                                 "benefit outweighs risk",)
    record_exception(session, case_id=case.id, expected_version=case.version, criterion_id="trd-psychosis",
                     reason="Single remote episode 2009; clinical exception requested in the letter", actor="b")
    checklist = case_checklist(session, case=case)
    assert checklist.item("trd-psychosis").effective == "excepted" and checklist.ready


def test_withdrawing_an_attestation_sends_a_ready_case_back_to_draft(session: Session) -> None:
    case = draft_case(session)
    mark = attest(session, case_id=case.id, expected_version=case.version, criterion_id="trd-rems", note="ok",
                  actor="b")
    lc.mark_ready(session, case_id=case.id, expected_version=case.version, actor="b")
    withdraw_signoff(session, case_id=case.id, expected_version=case.version, signoff_id=mark.id, actor="b")
    assert case.status == "draft"
    assert mark.withdrawn and session.get(PaSignoff, mark.id) is not None  # kept, not deleted
    assert not case_checklist(session, case=case).ready


@pytest.mark.parametrize(
    ("call", "field", "message"),
    [
        (lambda s, c: attest(s, case_id=c.id, expected_version=c.version, criterion_id="trd-rems", note=" ",
                             actor="b"), "note", "say who attests and on what basis"),
        (lambda s, c: attest(s, case_id=c.id, expected_version=c.version, criterion_id="trd-age", note="x",
                             actor="b"),
         "criterion_id", "this criterion is not met by attestation, or is already marked"),
        (lambda s, c: attest(s, case_id=c.id, expected_version=c.version, criterion_id="nope", note="x",
                             actor="b"), "criterion_id", "not a criterion of this case's checklist"),
        (lambda s, c: attest(s, case_id=c.id, expected_version=c.version, criterion_id="trd-path", note="x",
                             actor="b"), "criterion_id", "choose a single criterion, not a group"),
        (lambda s, c: record_exception(s, case_id=c.id, expected_version=c.version, criterion_id="trd-rems",
                                       reason="", actor="b"), "reason", "give the reason for the exception"),
        (lambda s, c: record_exception(s, case_id=c.id, expected_version=c.version, criterion_id="trd-age",
                                       reason="x", actor="b"),
         "criterion_id", "this criterion is met or already marked"),
    ],
)
def test_bad_marks_name_the_field_and_write_nothing(session: Session, call: object, field: str, message: str) -> None:
    case = draft_case(session)
    version = case.version
    with pytest.raises(ValidationFailed) as caught:
        call(session, case)  # type: ignore[operator]
    assert caught.value.for_field(field) == [message]
    assert session.exec(select(func.count()).select_from(PaSignoff)).one() == 0
    assert case.version == version


def test_checklist_is_frozen_after_submission(session: Session) -> None:
    case = draft_case(session)
    attest(session, case_id=case.id, expected_version=case.version, criterion_id="trd-rems", note="ok", actor="b")
    case.status = "submitted"
    session.add(case)
    session.flush()
    with pytest.raises(ValidationFailed) as caught:
        record_exception(session, case_id=case.id, expected_version=case.version, criterion_id="trd-psychosis",
                         reason="x", actor="b")
    assert "only before submission" in caught.value.for_field("checklist")[0]


def test_attach_to_a_criterion_and_remove(session: Session) -> None:
    case = draft_case(session)
    pdf = one_page_pdf()
    item = attach_document(session, case_id=case.id, expected_version=case.version, title="Chart note 2026-11-02",
                           content_type="application/pdf", content=pdf, actor="b", criterion_id="trd-age")
    assert item.size_bytes == len(item.content) and len(item.sha256) == 64  # the stored (made inert) copy
    listed = case_checklist(session, case=case).item("trd-age").attachments
    assert [a.title for a in listed] == ["Chart note 2026-11-02"]
    remove_attachment(session, case_id=case.id, expected_version=case.version, attachment_id=item.id, actor="b")
    assert case_checklist(session, case=case).item("trd-age").attachments == ()
    with pytest.raises(NotFound):
        remove_attachment(session, case_id=case.id, expected_version=case.version, attachment_id=item.id, actor="b")


@pytest.mark.parametrize(
    ("title", "content_type", "content", "field", "message"),
    [
        ("", "application/pdf", None, "title", "required"),
        ("Scan", "image/png", b"\x89PNG\r\n\x1a\n0000", "file", "attach a PDF (scan paper records to PDF)"),
        ("Scan", "application/pdf", b"", "file", "the file is empty"),
        ("Scan", "application/pdf", b"not a pdf at all", "file", "not"),
    ],
)
def test_bad_attachment_names_the_field_and_writes_nothing(session: Session, title: str, content_type: str,
                                                           content: bytes | None, field: str, message: str) -> None:
    case = draft_case(session)
    with pytest.raises(ValidationFailed) as caught:
        attach_document(session, case_id=case.id, expected_version=case.version, title=title,
                        content_type=content_type, content=one_page_pdf() if content is None else content, actor="b")
    assert message in caught.value.for_field(field)[0]
    assert session.exec(select(func.count()).select_from(PaAttachment)).one() == 0


def test_policy_that_does_not_cover_the_indication(session: Session) -> None:
    case = draft_case(session, indication="MDSI")
    checklist = case_checklist(session, case=case)
    assert not checklist.ready and checklist.items == ()
    assert "does not cover" in checklist.missing[0]


def test_unknown_payer_without_generic_file_says_so(session: Session) -> None:
    case = draft_case(session, payer_id="unknown-payer")
    checklist = case_checklist(session, case=case)
    assert not checklist.ready
    assert "No valid policy file for Unknown Payer" in checklist.missing[0]
