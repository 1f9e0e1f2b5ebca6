"""Letters written from the PA case data: the letter of medical necessity and the appeal letter.

Both are reportlab documents (not fillable forms). The argument is the payer checklist's evidence:
each criterion with its status and the sentences that support it, so the letter says exactly what
the checklist found and nothing more.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from desk.pdf.fieldmap import as_date

_BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=10, leading=13.5, spaceAfter=7)
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=8.5, leading=11, spaceAfter=0)
_HEAD = ParagraphStyle("head", parent=_BODY, fontName="Helvetica-Bold", fontSize=14, leading=17, spaceAfter=2,
                       textColor=colors.HexColor("#0f4c5c"))
_SUB = ParagraphStyle("sub", parent=_SMALL, textColor=colors.HexColor("#52606d"))
_H2 = ParagraphStyle("h2", parent=_BODY, fontName="Helvetica-Bold", fontSize=10.5, spaceBefore=6, spaceAfter=4)
_CELL = ParagraphStyle("cell", parent=_SMALL, fontSize=8.5, leading=10.5)
_STATUS = {"met": "Met", "not_met": "Not met", "unknown": "Not documented", "attested": "Attested"}


def _t(value: Any) -> str:
    """Escape a value for a reportlab paragraph; dates print as MM/DD/YYYY."""
    as_day = as_date(value) if isinstance(value, date | str) else None
    if as_day is not None:
        return as_day.strftime("%m/%d/%Y")
    return escape("" if value is None else str(value))


def _patient_name(case: Mapping[str, Any]) -> str:
    p = case["patient"]
    middle = f" {p['middle_initial']}." if p.get("middle_initial") else ""
    return f"{p['first_name']}{middle} {p['last_name']}"


def _prescriber_name(case: Mapping[str, Any]) -> str:
    p = case["prescriber"]
    credentials = f", {p['credentials']}" if p.get("credentials") else ""
    return f"{p['first_name']} {p['last_name']}{credentials}"


def _letterhead(case: Mapping[str, Any]) -> list[Any]:
    site = case["site"]
    return [
        Paragraph(_t(site["name"]), _HEAD),
        Paragraph(
            f"{_t(site['address_line'])} · {_t(site['city'])}, {_t(site['state'])} {_t(site['zip_code'])} · "
            f"Phone {_t(site['phone'])} · Fax {_t(site['fax'])}",
            _SUB,
        ),
        Spacer(1, 14),
    ]


def _regarding(case: Mapping[str, Any], extra: Sequence[tuple[str, str]] = ()) -> Table:
    p, cov, req = case["patient"], case["coverage"], case["request"]
    rows = [
        ("Patient", _t(_patient_name(case))),
        ("Date of birth", _t(p["dob"])),
        ("Member ID / group", f"{_t(cov['member_id'])} / {_t(cov.get('group_number', ''))}"),
        ("Medication", f"{_t(req['drug'])}, {_t(req['dose_mg'])} mg ({_t(req['devices_per_session'])} devices) "
                       f"per session, {_t(req['frequency'])}, {_t(req['duration'])}"),
        ("Codes", f"NDC {_t(req['ndc'])} · HCPCS {_t(req['hcpcs'])} · ICD-10 "
                  + ", ".join(_t(d["code"]) for d in case.get("diagnoses", []))),
        *extra,
    ]
    table = Table([[Paragraph(f"<b>{k}</b>", _CELL), Paragraph(v, _CELL)] for k, v in rows],
                  colWidths=[1.35 * inch, 5.55 * inch])
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f4f7fa")),
        ("BOX", (0, 0), (-1, -1), 0.5, colors.HexColor("#9aa5b1")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return table


def _addressee(case: Mapping[str, Any], when: Any) -> list[Any]:
    cov = case["coverage"]
    return [
        Paragraph(_t(when), _BODY),
        Paragraph(f"{_t(cov['payer_name'])}<br/>{_t(cov.get('payer_department', 'Prior Authorization'))}<br/>"
                  f"Fax {_t(cov.get('payer_fax', ''))}", _BODY),
    ]


def _criteria_table(criteria: Sequence[Mapping[str, Any]]) -> Table:
    rows: list[list[Any]] = [[Paragraph("<b>Criterion</b>", _CELL), Paragraph("<b>Status</b>", _CELL),
                              Paragraph("<b>Evidence in the record</b>", _CELL)]]
    for item in criteria:
        evidence = "<br/>".join(f"• {_t(sentence)}" for sentence in item.get("evidence", [])) or "—"
        rows.append([Paragraph(_t(item["criterion"]), _CELL),
                     Paragraph(_STATUS.get(str(item.get("status")), _t(item.get("status"))), _CELL),
                     Paragraph(evidence, _CELL)])
    table = Table(rows, colWidths=[2.3 * inch, 0.85 * inch, 3.75 * inch], repeatRows=1)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3ecef")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa5b1")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return table


def _trials_table(trials: Sequence[Mapping[str, Any]]) -> Table:
    rows: list[list[Any]] = [[Paragraph(f"<b>{h}</b>", _CELL) for h in
                              ("Drug", "Daily dose", "Start", "End", "Weeks", "Adherence", "Outcome")]]
    for t in trials:
        rows.append([Paragraph(_t(t["drug"]), _CELL), Paragraph(f"{_t(t['daily_dose_mg'])} mg", _CELL),
                     Paragraph(_t(t["start_date"]), _CELL), Paragraph(_t(t.get("end_date")), _CELL),
                     Paragraph(_t(t.get("weeks")), _CELL), Paragraph(f"{_t(t.get('adherence_pct'))}%", _CELL),
                     Paragraph(_t(t.get("outcome")), _CELL)])
    table = Table(rows, colWidths=[1.45 * inch, 0.7 * inch, 0.8 * inch, 0.8 * inch, 0.55 * inch, 0.8 * inch,
                                   1.8 * inch], repeatRows=1)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3ecef")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa5b1")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return table


def _signature(case: Mapping[str, Any]) -> KeepTogether:
    pr = case["prescriber"]
    return KeepTogether([
        Paragraph("Sincerely,", _BODY),
        Spacer(1, 28),
        Paragraph(f"{_t(_prescriber_name(case))}<br/>{_t(pr['specialty'])} · NPI {_t(pr['npi'])}<br/>"
                  f"Phone {_t(pr['phone'])} · Fax {_t(pr['fax'])}", _BODY),
    ])


def _clinical_summary(case: Mapping[str, Any]) -> list[Any]:
    flow: list[Any] = []
    diagnoses = "; ".join(f"{_t(d['code'])} {_t(d['description'])}" for d in case.get("diagnoses", []))
    flow.append(Paragraph("Diagnosis and history", _H2))
    flow.append(Paragraph(f"Diagnoses: {diagnoses}.", _BODY))
    if case.get("trials"):
        flow.append(Paragraph("Antidepressant and augmentation trials in the current episode:", _BODY))
        flow.append(_trials_table(case["trials"]))
        flow.append(Spacer(1, 8))
    if case.get("scales"):
        scores = "; ".join(f"{_t(s['instrument'])} {_t(s['score'])} on {_t(s['date'])}" for s in case["scales"])
        flow.append(Paragraph(f"Rating-scale results: {scores}.", _BODY))
    if case.get("other_criteria"):
        flow.append(Paragraph(_t(case["other_criteria"]), _BODY))
    return flow


def _build(flow: list[Any], title: str, case: Mapping[str, Any]) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=letter, leftMargin=0.8 * inch, rightMargin=0.8 * inch,
                            topMargin=0.7 * inch, bottomMargin=0.8 * inch, title=title,
                            author=str(case["site"]["name"]), creator="SPRAVATO Paperwork Desk", invariant=1)

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(colors.HexColor("#52606d"))
        canvas.drawString(0.8 * inch, 0.5 * inch, f"{title} · {case.get('case_id', '')}")
        canvas.drawRightString(letter[0] - 0.8 * inch, 0.5 * inch, f"Letter page {document.page}")
        canvas.restoreState()

    doc.build(flow, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def medical_necessity_letter(case: Mapping[str, Any]) -> bytes:
    """Letter of medical necessity for the requested SPRAVATO course."""
    req, checklist = case["request"], case["checklist"]
    urgent = req.get("urgency") == "expedited"
    flow = _letterhead(case) + _addressee(case, case.get("prepared_on"))
    flow.append(Paragraph("<b>Re: Letter of medical necessity" + (" — expedited review requested" if urgent else "")
                          + "</b>", _BODY))
    flow.append(_regarding(case))
    flow.append(Spacer(1, 10))
    indication = ("treatment-resistant depression" if req.get("indication") == "TRD"
                  else "major depressive disorder with acute suicidal ideation or behavior")
    flow.append(Paragraph(
        f"I am writing on behalf of my patient, {_t(_patient_name(case))}, to request coverage of "
        f"{_t(req['drug'])} for {indication}. The request is for {_t(req['dose_mg'])} mg "
        f"({_t(req['devices_per_session'])} devices) per session, {_t(req['frequency']).lower()}, for "
        f"{_t(req['duration'])} ({_t(req['sessions_requested'])} sessions) starting {_t(req['start_date'])}, "
        f"administered and monitored in a setting certified in the SPRAVATO REMS.", _BODY))
    flow += _clinical_summary(case)
    flow.append(Paragraph(f"How the request meets {_t(checklist.get('policy', 'the plan policy'))}", _H2))
    flow.append(_criteria_table(checklist.get("criteria", [])))
    flow.append(Spacer(1, 10))
    flow.append(Paragraph(
        "In my clinical judgment this treatment is medically necessary. Please contact my office with any question "
        "or to arrange a peer-to-peer discussion.", _BODY))
    flow.append(_signature(case))
    return _build(flow, "Letter of medical necessity", case)


def appeal_letter(case: Mapping[str, Any]) -> bytes:
    """Appeal of a denial: quotes the denial reason and answers it with the checklist evidence."""
    denial, checklist = case["denial"], case["checklist"]
    req = case["request"]
    urgent = req.get("urgency") == "expedited"
    flow = _letterhead(case) + _addressee(case, case.get("prepared_on"))
    flow.append(Paragraph("<b>Re: Request for reconsideration (appeal) of a prior-authorization denial"
                          + (" — expedited appeal requested" if urgent else "") + "</b>", _BODY))
    flow.append(_regarding(case, extra=[("Denial", f"{_t(denial['reference'])}, dated {_t(denial['date'])}")]))
    flow.append(Spacer(1, 10))
    flow.append(Paragraph(
        f"I am appealing the denial of coverage of {_t(req['drug'])} for my patient, {_t(_patient_name(case))}. "
        "The denial gave this reason:", _BODY))
    quote = ParagraphStyle("quote", parent=_BODY, leftIndent=18, rightIndent=18, fontName="Helvetica-Oblique")
    flow.append(Paragraph(f"“{_t(denial['reason'])}”", quote))
    flow.append(Paragraph(
        "The record answers this reason. Each criterion of the plan's policy is listed below with the evidence "
        "documented in the enclosed records:", _BODY))
    flow.append(Paragraph(f"Criteria of {_t(checklist.get('policy', 'the plan policy'))}", _H2))
    flow.append(_criteria_table(checklist.get("criteria", [])))
    flow.append(Spacer(1, 8))
    flow += _clinical_summary(case)
    flow.append(Paragraph(
        "Because the documented facts meet the plan's criteria, I ask that the denial be overturned and the request "
        "approved as submitted. I am available for a peer-to-peer review with a board-certified psychiatrist.",
        _BODY))
    flow.append(_signature(case))
    return _build(flow, "Appeal of prior-authorization denial", case)
