"""Letters rendered from a case's facts: the letter of medical necessity and the appeal letter.

Both are reportlab documents (not fillable forms). They lay out the sentences of desk/prior_auth/wording.py,
written from desk/prior_auth/facts.CaseFacts: every sentence states a recorded fact or says what it is (an
attestation, an exception request, something not on record). The prescriber signs.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from desk.pdf.fieldmap import as_date
from desk.prior_auth import wording as w
from desk.prior_auth.facts import CaseFacts, TrialFacts

_BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=10, leading=13.5, spaceAfter=7)
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=8.5, leading=11, spaceAfter=0)
_HEAD = ParagraphStyle("head", parent=_BODY, fontName="Helvetica-Bold", fontSize=14, leading=17, spaceAfter=2,
                       textColor=colors.HexColor("#0f4c5c"))
_SUB = ParagraphStyle("sub", parent=_SMALL, textColor=colors.HexColor("#52606d"))
_H2 = ParagraphStyle("h2", parent=_BODY, fontName="Helvetica-Bold", fontSize=10.5, spaceBefore=6, spaceAfter=4)
_H3 = ParagraphStyle("h3", parent=_BODY, fontName="Helvetica-Bold", fontSize=9.5, spaceBefore=4, spaceAfter=3)
_CELL = ParagraphStyle("cell", parent=_SMALL, fontSize=8.5, leading=10.5)


def _t(value: Any) -> str:
    """Escape a value for a reportlab paragraph; dates print as MM/DD/YYYY."""
    as_day = as_date(value) if isinstance(value, date | str) else None
    if as_day is not None:
        return as_day.strftime("%m/%d/%Y")
    return escape("" if value is None else str(value))


def _letterhead(facts: CaseFacts) -> list[Any]:
    site = facts.site
    if site is None:
        return [Spacer(1, 14)]
    street = ", ".join(part for part in (site.address_line, site.address_line2) if part)
    return [
        Paragraph(_t(site.name), _HEAD),
        Paragraph(f"{_t(street)} · {_t(site.city)}, {_t(site.state)} {_t(site.zip_code)} · "
                  f"Phone {_t(site.phone)} · Fax {_t(site.fax)}", _SUB),
        Spacer(1, 14),
    ]


def _box(rows: Sequence[tuple[str, str]], widths: tuple[float, float] = (1.35, 5.55)) -> Table:
    table = Table([[Paragraph(f"<b>{k}</b>", _CELL), Paragraph(v, _CELL)] for k, v in rows],
                  colWidths=[widths[0] * inch, widths[1] * inch])
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f4f7fa")),
        ("BOX", (0, 0), (-1, -1), 0.5, colors.HexColor("#9aa5b1")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return table


def _regarding(facts: CaseFacts, extra: Sequence[tuple[str, str]] = ()) -> Table:
    p, cov, req = facts.patient, facts.coverage, facts.request
    rems = facts.rems
    enrollment = (f"enrolled (submitted {w.day(rems.patient_enrolled_on)})" if rems.patient_enrolled
                  else "not enrolled")
    rows = [
        ("Patient", _t(p.name)),
        ("Date of birth", _t(w.day(p.dob))),
        ("Plan / member ID", f"{_t(cov.payer_name)} ({_t(cov.plan_label)}) · {_t(cov.member_id)}"
                             + (f" / group {_t(cov.group_number)}" if cov.group_number else "")),
        ("Medication", f"SPRAVATO (esketamine) nasal spray, {_t(w.mg(req.dose_mg))} "
                       f"({req.devices_per_session} devices) per session, {_t(req.frequency.lower())}, "
                       f"{_t(req.duration)} ({req.sessions} sessions) from {_t(w.day(req.start_on))}"),
        ("Codes", f"NDC {_t(req.ndc)} · {_t(req.billing.summary())} · ICD-10 "
                  + ", ".join(_t(d.code) for d in facts.diagnoses)),
        ("Episode start", _t(w.day(facts.episode_start))),
        ("REMS", _t(f"setting {'certified' if rems.setting_certified else 'not certified'} as of the start date "
                    f"{w.day(rems.service_date)}; patient {enrollment}")),
        *extra,
    ]
    return _box(rows)


def _addressee(facts: CaseFacts) -> list[Any]:
    cov = facts.coverage
    fax = f"<br/>Fax {_t(cov.payer_fax)}" if cov.payer_fax else ""
    return [Paragraph(_t(w.day(facts.prepared_on)), _BODY),
            Paragraph(f"{_t(cov.payer_name)}<br/>Prior Authorization{fax}", _BODY)]


def _criteria_table(facts: CaseFacts) -> Table:
    rows: list[list[Any]] = [[Paragraph("<b>Criterion</b>", _CELL), Paragraph("<b>Status</b>", _CELL),
                              Paragraph("<b>Evidence in the record</b>", _CELL)]]
    for item in facts.criteria:
        lines = "<br/>".join(f"• {_t(line)}" for line in w.criterion_lines(item))
        rows.append([Paragraph(_t(item.text), _CELL), Paragraph(_t(w.STATUS_WORDS[item.status]), _CELL),
                     Paragraph(lines, _CELL)])
    table = Table(rows, colWidths=[2.2 * inch, 0.95 * inch, 3.75 * inch], repeatRows=1)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3ecef")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa5b1")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return table


def _trials_table(trials: Sequence[TrialFacts]) -> Table:
    rows: list[list[Any]] = [[Paragraph(f"<b>{h}</b>", _CELL) for h in
                              ("Drug", "Daily dose", "Start", "End", "Weeks", "Adherence", "Outcome")]]
    for t in trials:
        drug = t.drug + (" (augmentation)" if t.role == "augmentation" else "")
        rows.append([Paragraph(_t(drug), _CELL), Paragraph(_t(w.mg(t.daily_dose_mg)), _CELL),
                     Paragraph(_t(w.day(t.start_date)), _CELL),
                     Paragraph(_t(w.day(t.end_date)) if t.end_date else "ongoing", _CELL),
                     Paragraph(_t(t.weeks if t.weeks is not None else "—"), _CELL),
                     Paragraph(_t(w.pct(t.adherence_pct)), _CELL), Paragraph(_t(w.trial_outcome(t)), _CELL)])
    table = Table(rows, colWidths=[1.3 * inch, 0.7 * inch, 0.78 * inch, 0.78 * inch, 0.55 * inch, 0.85 * inch,
                                   1.94 * inch], repeatRows=1)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3ecef")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa5b1")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return table


def _closing(facts: CaseFacts, request: str) -> KeepTogether:
    """Conclusion, request and signature kept on one page."""
    pr = facts.prescriber
    if pr is None:
        signer = "Prescriber not on record"
    else:
        signer = (f"{_t(pr.name)}<br/>{_t(pr.specialty)} · NPI {_t(pr.npi)}<br/>"
                  f"Phone {_t(pr.phone)} · Fax {_t(pr.fax)}")
    return KeepTogether([Paragraph(_t(w.conclusion_sentence(facts)), _BODY), Paragraph(_t(request), _BODY),
                         Paragraph("Sincerely,", _BODY), Spacer(1, 28), Paragraph(signer, _BODY)])


def _history(facts: CaseFacts) -> list[Any]:
    flow: list[Any] = [Paragraph("Clinical summary", _H2), Paragraph(_t(w.clinical_summary(facts)), _BODY)]
    for heading, trials in w.trial_groups(facts):
        flow.append(Paragraph(_t(heading), _H3))
        flow.append(_trials_table(trials))
        flow.append(Spacer(1, 6))
    return flow


def _request_paragraphs(facts: CaseFacts) -> list[Any]:
    flow = [Paragraph(_t(w.request_sentence(facts)), _BODY)]
    flow += [Paragraph(_t(s), _BODY) for s in w.schedule_sentences(facts)]
    flow.append(Paragraph(_t(w.billing_sentence(facts)), _BODY))
    flow += [Paragraph(_t(s), _BODY) for s in w.rems_sentences(facts)]
    return flow


def _build(flow: list[Any], title: str, facts: CaseFacts) -> bytes:
    buffer = io.BytesIO()
    author = facts.site.name if facts.site else ""
    doc = SimpleDocTemplate(buffer, pagesize=letter, leftMargin=0.8 * inch, rightMargin=0.8 * inch,
                            topMargin=0.7 * inch, bottomMargin=0.8 * inch, title=title,
                            author=author, creator="SPRAVATO Paperwork Desk", invariant=1)

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(colors.HexColor("#52606d"))
        canvas.drawString(0.8 * inch, 0.5 * inch, f"{title} · {facts.reference}")
        canvas.drawRightString(letter[0] - 0.8 * inch, 0.5 * inch, f"Letter page {document.page}")
        canvas.restoreState()

    doc.build(flow, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def medical_necessity_letter(facts: CaseFacts) -> bytes:
    """Letter of medical necessity for the requested SPRAVATO course."""
    req = facts.request
    urgent = req.urgency == "expedited"
    flow = _letterhead(facts) + _addressee(facts)
    flow.append(Paragraph("<b>Re: Letter of medical necessity" + (" — expedited review requested" if urgent else "")
                          + "</b>", _BODY))
    flow.append(_regarding(facts))
    flow.append(Spacer(1, 10))
    flow.append(Paragraph(
        f"I am writing on behalf of my patient, {_t(facts.patient.name)}, to request coverage of SPRAVATO "
        f"(esketamine) nasal spray for {w.INDICATION_WORDS.get(req.indication, _t(req.indication))}.", _BODY))
    flow += _request_paragraphs(facts)
    flow += _history(facts)
    flow.append(Paragraph(f"How the request meets {_t(facts.policy_title)}", _H2))
    flow.append(_criteria_table(facts))
    flow.append(Spacer(1, 10))
    flow.append(_closing(facts, "Please contact my office with any question or to arrange a peer-to-peer "
                                "discussion."))
    return _build(flow, "Letter of medical necessity", facts)


def appeal_letter(facts: CaseFacts) -> bytes:
    """Appeal of a denial: quotes the denial reason and answers it with the record."""
    req = facts.request
    denial = facts.denial
    urgent = req.urgency == "expedited"
    flow = _letterhead(facts) + _addressee(facts)
    flow.append(Paragraph("<b>Re: Request for reconsideration (appeal) of a prior-authorization denial"
                          + (" — expedited appeal requested" if urgent else "") + "</b>", _BODY))
    extra = [("Denial", f"{_t(denial.reference)}, dated {_t(w.day(denial.denied_on))}")] if denial else []
    flow.append(_regarding(facts, extra=extra))
    flow.append(Spacer(1, 10))
    flow.append(Paragraph(
        f"I am appealing the denial of coverage of SPRAVATO (esketamine) nasal spray for my patient, "
        f"{_t(facts.patient.name)}. The denial gave this reason:", _BODY))
    quote = ParagraphStyle("quote", parent=_BODY, leftIndent=18, rightIndent=18, fontName="Helvetica-Oblique")
    flow.append(Paragraph(f"“{_t(denial.reason if denial else '')}”", quote))
    flow.append(Paragraph(
        "Each criterion of the plan's policy is listed below with what the enclosed records document:", _BODY))
    flow.append(Paragraph(f"Criteria of {_t(facts.policy_title)}", _H2))
    flow.append(_criteria_table(facts))
    flow.append(Spacer(1, 8))
    flow += _request_paragraphs(facts)
    flow += _history(facts)
    flow.append(_closing(facts, "I am available for a peer-to-peer review."))
    return _build(flow, "Appeal of prior-authorization denial", facts)
