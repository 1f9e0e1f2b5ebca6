"""Savings fixtures: an eligible enrolled patient, real PDF and PNG files."""

from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image
from reportlab.pdfgen import canvas
from sqlmodel import Session

from desk.models import Patient, SavingsEnrollment
from desk.savings.enrollment import CardDetails, enroll_patient
from tests.factories import make_coverage, make_patient

TODAY = date(2026, 6, 30)


def pdf_bytes(text: str = "Explanation of benefits") -> bytes:
    """A one-page PDF made with reportlab."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.showPage()
    page.save()
    return buffer.getvalue()


def png_bytes() -> bytes:
    """A small real PNG image."""
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def enroll(session: Session, patient: Patient, **card: object) -> SavingsEnrollment:
    """An active enrollment from 2026-01-02 with a card valid to the end of 2027."""
    details = CardDetails(member_id="WM123456", rx_bin="610020", rx_pcn="PDMI", rx_group="99994455",
                          card_expires_on=date(2027, 12, 31))
    if card:
        details = CardDetails(**{**details.__dict__, **card})  # type: ignore[arg-type]
    return enroll_patient(session, patient_id=patient.id or 0, enrolled_on=date(2026, 1, 2), card=details,
                          today=TODAY)


@pytest.fixture
def patient(session: Session) -> Patient:
    """A commercially insured Illinois resident."""
    person = make_patient(session, state="IL")
    make_coverage(session, patient=person)
    return person


@pytest.fixture
def enrolled(session: Session, patient: Patient) -> Patient:
    """The same patient with an active enrollment."""
    enroll(session, patient)
    return patient
