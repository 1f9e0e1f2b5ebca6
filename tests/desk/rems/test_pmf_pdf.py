"""The monitoring form PDF: every logged value appears in the flattened form; batch downloads; audit."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from datetime import date

import pikepdf
import pytest
from pypdf import PdfReader
from sqlmodel import Session, select

from desk.errors import ValidationFailed
from desk.models import AuditEvent, CurrentMedication, Patient, Site, TreatmentSession
from desk.rems.config import RemsSettings
from desk.rems.pmf import mark_submitted
from desk.rems.pmf_pdf import monitoring_form_for, pmf_pdf, ready_forms_bundle
from desk.rems.sessions import record_session
from tests.desk.rems.conftest import BILLING, DAY, NOW, NURSE, at, full_session

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")


def pdf_text(content: bytes) -> str:
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True)
    return result.stdout.decode()


def _record(session: Session, enrolled: tuple[int, int, int], settings: RemsSettings,
            **overrides: object) -> TreatmentSession:
    ts = record_session(session, user=NURSE, data=full_session(*enrolled, **overrides), now=NOW,  # type: ignore[arg-type]
                        settings=settings)
    session.commit()
    return ts


def test_every_logged_value_appears_in_the_flattened_form(session: Session, enrolled: tuple[int, int, int],
                                                           settings: RemsSettings) -> None:
    patient_id, _site, _prescriber = enrolled
    session.add(CurrentMedication(patient_id=patient_id, drug="oxycodone 5 mg"))
    session.commit()
    ts = _record(session, enrolled, settings, dose_mg=84, device_times=(at(10, 0), at(10, 5), at(10, 11)),
                 serious_adverse_event=True, sae_details="Transient hypertension 182/104 at 10:30, resolved",
                 sedation=True, sedation_resolved_at=at(11, 20), lot_number="lot7731k")
    assert ts.id is not None
    data = pdf_text(pmf_pdf(session, session_id=ts.id))
    patient = session.get(Patient, patient_id)
    site = session.get(Site, ts.site_id)
    assert patient is not None and site is not None
    expected = [
        patient.first_name, patient.last_name, "05/17/1980",
        "Rita", "Nurseworth", "217-555-0142", "rita@example.org",
        site.name, site.address_line, site.city, site.state, site.rems_setting_id,
        "03/10/2026", "LOT7731K", "125", "95",
        "128", "82", "136", "86", "124", "79", "96",
        "Transient hypertension 182/104 at 10:30, resolved",
    ]
    missing = [value for value in expected if value not in data]
    assert missing == []
    # The ZIP box is a comb field: one digit per cell, so the text comes back spaced out.
    assert site.zip_code in "".join(data.split())
    with pikepdf.Pdf.open(io.BytesIO(pmf_pdf(session, session_id=ts.id))) as flat:
        assert not flat.Root.get("/AcroForm") or not list(flat.Root.AcroForm.get("/Fields", []))


def test_editable_copy_carries_the_answers(session: Session, enrolled: tuple[int, int, int],
                                           settings: RemsSettings) -> None:
    patient_id, _site, _prescriber = enrolled
    session.add(CurrentMedication(patient_id=patient_id, drug="oxycodone 5 mg"))
    session.commit()
    ts = _record(session, enrolled, settings, dose_mg=84, device_times=(at(10, 0), at(10, 5), at(10, 11)))
    assert ts.id is not None
    fields = PdfReader(io.BytesIO(pmf_pdf(session, session_id=ts.id, flatten=False))).get_fields() or {}

    def checked(name: str) -> bool:
        return str(fields[name].get("/V", "/Off")) not in ("/Off", "")

    assert checked("concomitant_opioids") and not checked("concomitant_benzodiazepines")
    assert not checked("concomitant_none")
    assert checked("first_treatment_yes") and not checked("first_treatment_no")
    assert checked("rems_enrolled_yes") and checked("dissociation_yes") and checked("sedation_no")
    assert checked("pulse_oximetry_yes") and checked("serious_adverse_event_no")
    assert checked("vitals_ok_before_yes") and checked("vitals_ok_before_completion_yes")
    assert str(fields["devices"]["/V"]) == "3"
    assert "84" in str(fields["dose"]["/V"])


def test_ready_forms_merged_and_zipped(session: Session, enrolled: tuple[int, int, int],
                                       settings: RemsSettings) -> None:
    first = _record(session, enrolled, settings)
    draft = _record(session, enrolled, settings, discharged_at=None, ready_to_leave_minutes=None)
    assert first.id is not None and draft.id is not None
    merged = ready_forms_bundle(session, user=BILLING, start=DAY, end=DAY)
    session.commit()
    assert merged.session_ids == (first.id,) and merged.mime == "application/pdf"
    assert len(PdfReader(io.BytesIO(merged.content)).pages) == 1
    zipped = ready_forms_bundle(session, user=NURSE, start=date(2026, 3, 1), end=date(2026, 3, 31), as_zip=True)
    names = zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
    assert names == [f"rems-pmf-session-{first.id}-2026-03-10.pdf"]
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert events and events[0].detail == "1 REMS monitoring forms 2026-03-10..2026-03-10 (merged PDF)"
    mark_submitted(session, user=NURSE, session_id=first.id, expected_version=first.version, submitted_on=DAY,
                   channel="fax", confirmation_number="", today=DAY)
    with pytest.raises(ValidationFailed) as caught:
        ready_forms_bundle(session, user=NURSE, start=DAY, end=DAY)
    assert caught.value.for_field("start") == ["no monitoring form is ready in this date range"]


def test_a_form_for_a_download_button_writes_no_audit_row(session: Session, enrolled: tuple[int, int, int],
                                                         settings: RemsSettings) -> None:
    ts = _record(session, enrolled, settings)
    assert ts.id is not None
    before = len(session.exec(select(AuditEvent)).all())
    pdf = monitoring_form_for(session, user=BILLING, session_id=ts.id)
    session.commit()
    assert pdf.startswith(b"%PDF-") and len(session.exec(select(AuditEvent)).all()) == before


@pytest.mark.parametrize(("sex", "marked"), [("F", "/Female"), ("M", "/Male"), ("X", "/Other"), ("U", None)])
def test_the_form_carries_address_line_2_and_marks_sex_only_when_known(
        session: Session, enrolled: tuple[int, int, int], settings: RemsSettings, sex: str,
        marked: str | None) -> None:
    patient_id, site_id, _prescriber = enrolled
    site, patient = session.get(Site, site_id), session.get(Patient, patient_id)
    assert site is not None and patient is not None
    site.address_line2 = "Suite 410, Building B"
    patient.sex = sex
    session.commit()
    ts = _record(session, enrolled, settings)
    assert ts.id is not None
    fields = PdfReader(io.BytesIO(pmf_pdf(session, session_id=ts.id, flatten=False))).get_fields() or {}
    assert str(fields["site_address_2"]["/V"]) == "Suite 410, Building B"
    value = fields["patient_sex"].get("/V")
    if marked is None:
        assert value in (None, "/Off", ""), "an unknown sex is left unmarked, never written as Other"
    else:
        assert str(value) == marked
    assert "Suite 410, Building B" in pdf_text(pmf_pdf(session, session_id=ts.id))
