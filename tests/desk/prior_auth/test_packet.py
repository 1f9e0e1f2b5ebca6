"""The packet and appeal letter: real PDFs parsed back, kept with hash/author/time, audited downloads."""

from __future__ import annotations

import hashlib
import io
import os
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlmodel import Session, select

from desk.errors import ValidationFailed
from desk.models import AuditEvent, Patient, Prescriber
from desk.pdf.inspect import PdfLimits
from desk.pdf.payer_forms import save_payer_form
from desk.prior_auth import lifecycle as lc
from desk.prior_auth.cases import save_request
from desk.prior_auth.checklist import attach_document, attest, case_checklist
from desk.prior_auth.packet import (
    case_data,
    download_generated,
    generate_appeal_letter,
    generate_packet,
    generated_files,
)
from desk.settings import PROJECT_ROOT
from tests.desk.prior_auth.conftest import NOW, TODAY, draft_case
from tests.desk.prior_auth.test_checklist import one_page_pdf
from tests.factories import make_prescriber, make_score, make_trial


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def _ready_case(session: Session):  # type: ignore[no-untyped-def]
    case = draft_case(session)
    patient = session.get(Patient, case.patient_id)
    prescriber: Prescriber = make_prescriber(session)
    patient.prescriber_id = prescriber.id  # type: ignore[union-attr]
    session.add(patient)
    make_trial(session, patient=patient)
    make_trial(session, patient=patient, drug="venlafaxine", daily_dose_mg=225, start_date=date(2025, 6, 1),
               end_date=date(2025, 8, 10))
    make_score(session, patient=patient, instrument="MADRS", score=34, measured_on=date(2026, 11, 2))
    attest(session, case_id=case.id, expected_version=case.version, criterion_id="trd-rems",
           note="REMS certificate on file", actor="tester")
    return case


def test_packet_has_cover_form_letter_and_attachments_with_page_numbers(session: Session) -> None:
    case = _ready_case(session)
    attach_document(session, case_id=case.id, expected_version=case.version, title="Chart note",
                    content_type="application/pdf", content=one_page_pdf("CHART NOTE BODY"), actor="tester",
                    criterion_id="trd-age")
    kept = generate_packet(session, case_id=case.id, actor="tester", today=TODAY)
    if os.environ.get("DESK_KEEP_PDF"):
        Path(os.environ["DESK_KEEP_PDF"]).write_bytes(kept.content)
    reader = PdfReader(io.BytesIO(kept.content))
    pages = len(reader.pages)
    text = _text(kept.content)
    assert [o.title for o in reader.outline] == [  # type: ignore[union-attr]
        "Fax cover sheet", "Prior authorization request", "Letter of medical necessity", "Chart note"]
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    assert "CHART NOTE BODY" in text and "Letter of medical necessity" in text
    assert "The setting is REMS certified" in text and "REMS certificate on file" in text
    assert "50458-028-03" in text  # 84 mg kit NDC
    assert kept.sha256 == hashlib.sha256(kept.content).hexdigest() and kept.size_bytes == len(kept.content)
    assert kept.created_by == "tester" and kept.file_name.startswith(f"pa-{case.id}-packet-")
    assert not reader.get_fields()  # flattened for fax/portal upload


def test_generated_file_is_listed_and_its_download_is_audited(session: Session) -> None:
    case = _ready_case(session)
    kept = generate_packet(session, case_id=case.id, actor="tester", today=TODAY)
    listed = generated_files(session, case_id=case.id)
    assert [(f.id, f.kind, f.sha256) for f in listed] == [(kept.id, "packet", kept.sha256)]
    assert download_generated(session, case_id=case.id, file_id=kept.id).content == kept.content
    session.flush()
    events = session.exec(select(AuditEvent).where(AuditEvent.entity == "pa_generated_file")).all()
    assert {e.action for e in events} == {"create", "download"}
    download = next(e for e in events if e.action == "download")
    assert download.entity_id == str(kept.id) and "Sample" not in download.detail


def test_payer_form_mapped_by_an_admin_replaces_the_generic_form(session: Session) -> None:
    case = _ready_case(session)
    forms = PROJECT_ROOT / "forms"
    generic = generate_packet(session, case_id=case.id, actor="tester", today=TODAY)
    # An admin maps the payer's own form (here the fax cover template stands in for it).
    save_payer_form(session, payer_id="test-payer", name="Test Health PA form",
                    pdf=(forms / "fax_cover.pdf").read_bytes(),
                    field_map_yaml=(forms / "fax_cover.yaml").read_text(encoding="utf-8"),
                    uploaded_by="admin", limits=PdfLimits())
    own = generate_packet(session, case_id=case.id, actor="tester", today=TODAY)
    assert _text(generic.content).count("FAX") < _text(own.content).count("FAX")


def test_appeal_letter_quotes_the_denial_and_the_checklist_evidence(session: Session) -> None:
    case = _ready_case(session)
    with pytest.raises(ValidationFailed, match="needs a denied case"):
        generate_appeal_letter(session, case_id=case.id, actor="tester", today=TODAY)
    lc.mark_ready(session, case_id=case.id, expected_version=case.version, actor="t")
    lc.record_submission(session, case_id=case.id, expected_version=case.version, actor="t", submitted_at=NOW,
                         channel="fax", now=NOW)
    lc.record_denial(session, case_id=case.id, expected_version=case.version, actor="t",
                     reason="Trials of adequate duration are not documented", denied_on=TODAY, now=NOW)
    letter = generate_appeal_letter(session, case_id=case.id, actor="tester", today=TODAY)
    text = " ".join(_text(letter.content).split())
    assert "Trials of adequate duration are not documented" in text
    assert "REMS certificate on file" in text
    packet = generate_packet(session, case_id=case.id, actor="tester", today=TODAY)
    assert "Appeal letter" in [o.title for o in PdfReader(io.BytesIO(packet.content)).outline]  # type: ignore[union-attr]


def test_unknown_attachment_is_refused(session: Session) -> None:
    case = _ready_case(session)
    with pytest.raises(ValidationFailed) as caught:
        generate_packet(session, case_id=case.id, actor="tester", attachment_ids=[99999], today=TODAY)
    assert caught.value.for_field("attachments") == ["attachment #99999 is not on this case"]


def test_request_follows_the_label_schedule_for_the_sessions_asked(session: Session) -> None:
    case = _ready_case(session)
    save_request(session, case_id=case.id, expected_version=case.version, dose_mg=56, sessions_requested=12,
                 start_on=date(2026, 11, 30), urgency="expedited")
    data = case_data(session, case=case, checklist=case_checklist(session, case=case, as_of=TODAY), today=TODAY)
    request = data["request"]
    assert (request["dose_mg"], request["devices_per_session"], request["ndc"]) == (56, 2, "50458-028-02")
    assert (request["frequency"], request["duration"], request["sessions_requested"]) == (
        "Twice weekly weeks 1-4, then weekly weeks 5-8", "8 weeks", 12)
    assert request["urgency"] == "expedited" and request["hcpcs"] == "J0013"


def test_request_cannot_change_after_submission(session: Session) -> None:
    case = _ready_case(session)
    with pytest.raises(ValidationFailed) as caught:
        save_request(session, case_id=case.id, expected_version=case.version, dose_mg=70, sessions_requested=0,
                     start_on=None, urgency="standard")
    assert caught.value.for_field("dose_mg") == ["56 mg (2 devices) or 84 mg (3 devices)"]
    assert caught.value.for_field("sessions_requested") == ["between 1 and 104"]
    case.status = "submitted"
    session.add(case)
    session.flush()
    with pytest.raises(ValidationFailed) as caught:
        save_request(session, case_id=case.id, expected_version=case.version, dose_mg=84, sessions_requested=8,
                     start_on=None, urgency="standard")
    assert caught.value.for_field("case") == ["the request can change only before submission"]


def test_uploaded_active_content_is_neither_stored_nor_sent(session: Session) -> None:
    from tests.desk.pdf.activekit import VISIBLE, active_content, everything

    case = _ready_case(session)
    hostile = everything()
    assert active_content(hostile)
    item = attach_document(session, case_id=case.id, expected_version=case.version,
                           title="C:\\fakepath\\Chart\u202enote.pdf", content_type="application/pdf",
                           content=hostile, actor="tester")
    assert active_content(item.content) == []
    assert item.sha256 == hashlib.sha256(item.content).hexdigest() and item.size_bytes == len(item.content)
    assert item.title == "Chart note"
    kept = generate_packet(session, case_id=case.id, actor="tester", today=TODAY)
    assert active_content(kept.content) == []
    assert VISIBLE in _text(kept.content)
    assert [o.title for o in PdfReader(io.BytesIO(kept.content)).outline][-1] == "Chart note"  # type: ignore[union-attr]
