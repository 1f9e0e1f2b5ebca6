"""Generate the desk's own fillable templates (forms/*.pdf) with reportlab AcroForm fields.

`invariant=1` fixes reportlab's creation date and document id, so running the generator again
gives byte-identical files (tests compare them with the committed copies).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Name
from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen.canvas import Canvas

from desk.pdf.source import open_bytes

PAGE_W, PAGE_H = letter
MARGIN = 36.0
CONTENT_W = PAGE_W - 2 * MARGIN
INK = colors.HexColor("#1f2a37")
ACCENT = colors.HexColor("#0f4c5c")
RULE = colors.HexColor("#9aa5b1")
FIELD_FILL = colors.HexColor("#f4f7fa")
MUTED = colors.HexColor("#52606d")
LABEL_SIZE = 7.2
FIELD_H = 15.0
ROW_H = 27.0


@dataclass(frozen=True)
class Text:
    """A labelled text field taking `width` points of the row."""

    name: str
    label: str
    width: float
    tooltip: str = ""
    maxlen: int | None = None
    comb: bool = False
    lines: int = 1


@dataclass(frozen=True)
class YesNo:
    """A question answered by two checkboxes, `<name>_yes` and `<name>_no`."""

    name: str
    label: str
    width: float


@dataclass(frozen=True)
class Checks:
    """Independent checkboxes in one row: (field name, label)."""

    label: str
    boxes: Sequence[tuple[str, str]]
    width: float


@dataclass(frozen=True)
class Radio:
    """A radio group: (export value, label) per option."""

    name: str
    label: str
    options: Sequence[tuple[str, str]]
    width: float
    tooltip: str = ""


Cell = Text | YesNo | Checks | Radio


# The look shared by check boxes and radio buttons.
_BUTTON_STYLE: dict[str, Any] = {
    "size": 10, "borderWidth": 0.6, "borderColor": INK, "fillColor": colors.white, "textColor": colors.black,
    "forceBorder": True,
}


class Sheet:
    """A form page under construction; rows flow top-down and new pages start when needed."""

    def __init__(self, canvas: Canvas, *, title: str, subtitle: str, code: str, notice: str = "") -> None:
        self.c = canvas
        self.title = title
        self.subtitle = subtitle
        self.code = code
        self.notice = notice
        self.page = 0
        self.y = 0.0
        self._start_page()

    def _start_page(self) -> None:
        c = self.c
        self.page += 1
        c.setFillColor(ACCENT)
        c.rect(0, PAGE_H - 64, PAGE_W, 64, stroke=0, fill=1)
        c.setFillColor(colors.white)
        c.setFont("Helvetica-Bold", 15)
        c.drawString(MARGIN, PAGE_H - 30, self.title)
        c.setFont("Helvetica", 8.5)
        c.drawString(MARGIN, PAGE_H - 46, self.subtitle)
        c.setFont("Helvetica", 7.5)
        c.drawRightString(PAGE_W - MARGIN, PAGE_H - 14, self.code)
        self.y = PAGE_H - 78
        if self.notice and self.page == 1:
            c.setFillColor(MUTED)
            c.setFont("Helvetica-Oblique", 7.5)
            for line in self.notice.split("\n"):
                c.drawString(MARGIN, self.y, line)
                self.y -= 10
            self.y -= 2

    def _footer(self) -> None:
        c = self.c
        c.setStrokeColor(RULE)
        c.setLineWidth(0.5)
        c.line(MARGIN, 30, PAGE_W - MARGIN, 30)
        c.setFillColor(MUTED)
        c.setFont("Helvetica", 7)
        c.drawString(MARGIN, 20, f"{self.code} · {self.title}")
        c.drawRightString(PAGE_W - MARGIN, 20, f"Form page {self.page}")

    def new_page(self) -> None:
        self._footer()
        self.c.showPage()
        self._start_page()

    def need(self, height: float) -> None:
        if self.y - height < 44:
            self.new_page()

    def section(self, title: str) -> None:
        self.need(ROW_H + 22)
        c = self.c
        self.y -= 6
        c.setFillColor(colors.HexColor("#e3ecef"))
        c.rect(MARGIN, self.y - 13, CONTENT_W, 15, stroke=0, fill=1)
        c.setFillColor(ACCENT)
        c.rect(MARGIN, self.y - 13, 3, 15, stroke=0, fill=1)
        c.setFont("Helvetica-Bold", 9)
        c.drawString(MARGIN + 8, self.y - 9, title.upper())
        self.y -= 19

    def note(self, text: str) -> None:
        self.need(12)
        self.c.setFillColor(MUTED)
        self.c.setFont("Helvetica", 7.2)
        self.c.drawString(MARGIN, self.y - 8, text)
        self.y -= 12

    def row(self, cells: Sequence[Cell], *, gap: float = 8.0) -> None:
        """Lay cells left to right; widths are scaled so every row spans the full content width."""
        lines = max((cell.lines for cell in cells if isinstance(cell, Text)), default=1)
        labelled = any(cell.label for cell in cells)
        top = 10.0 if labelled else 2.0
        height = top + FIELD_H + 2 + (lines - 1) * 11 + (2 if labelled else 3)
        self.need(height)
        scale = (CONTENT_W - gap * (len(cells) - 1)) / sum(cell.width for cell in cells)
        x = MARGIN
        for cell in cells:
            width = cell.width * scale
            if cell.label:
                self._label(cell.label, x, self.y - 7)
            if isinstance(cell, Text):
                self._text(cell, x, self.y - top - FIELD_H - (lines - 1) * 11, lines, width)
            elif isinstance(cell, YesNo):
                self._checks([(f"{cell.name}_yes", "Yes"), (f"{cell.name}_no", "No")], x, self.y - 22, cell.label)
            elif isinstance(cell, Checks):
                self._checks(cell.boxes, x, self.y - 22, cell.label)
            else:
                self._radio(cell, x, self.y - 22)
            x += width + gap
        self.y -= height

    def _label(self, text: str, x: float, y: float) -> None:
        self.c.setFillColor(INK)
        self.c.setFont("Helvetica", LABEL_SIZE)
        self.c.drawString(x, y, text)

    def _text(self, cell: Text, x: float, y: float, lines: int, width: float) -> None:
        height = FIELD_H + (lines - 1) * 11
        flags = "multiline" if cell.lines > 1 else ("comb" if cell.comb else "")
        # reportlab defaults /MaxLen to 100 characters; 0 leaves it out (no limit) unless the cell sets one.
        kwargs: dict[str, object] = {"maxlen": cell.maxlen or 0}
        self.c.acroForm.textfield(
            name=cell.name,
            tooltip=cell.tooltip or cell.label,
            x=x,
            y=y,
            width=width,
            height=height,
            fontName="Helvetica",
            fontSize=9,
            borderWidth=0.6,
            borderColor=RULE,
            fillColor=FIELD_FILL,
            textColor=colors.black,
            borderStyle="solid",
            forceBorder=True,
            fieldFlags=flags,
            **kwargs,
        )
        if cell.comb and cell.maxlen:
            step = width / cell.maxlen
            self.c.setStrokeColor(RULE)
            self.c.setLineWidth(0.4)
            for i in range(1, cell.maxlen):
                self.c.line(x + i * step, y, x + i * step, y + 4)

    def _checks(self, boxes: Sequence[tuple[str, str]], x: float, y: float, question: str) -> None:
        cursor = x
        for name, label in boxes:
            self.c.acroForm.checkbox(
                name=name, tooltip=f"{question}: {label}", x=cursor, y=y, buttonStyle="check", **_BUTTON_STYLE
            )
            cursor = self._option_label(label, cursor, y)

    def _radio(self, cell: Radio, x: float, y: float) -> None:
        cursor = x
        for value, label in cell.options:
            self.c.acroForm.radio(
                name=cell.name, tooltip=cell.tooltip or cell.label, value=value, selected=False, x=cursor, y=y,
                buttonStyle="circle", **_BUTTON_STYLE,
            )
            cursor = self._option_label(label, cursor, y)

    def _option_label(self, label: str, cursor: float, y: float) -> float:
        """Draw the label right of the button at `cursor`; returns where the next button goes."""
        self.c.setFillColor(INK)
        self.c.setFont("Helvetica", 8.5)
        self.c.drawString(cursor + 13, y + 2, label)
        return cursor + 13 + float(self.c.stringWidth(label, "Helvetica", 8.5)) + 12

    def signature_line(self, label: str, date_field: str) -> None:
        self.need(40)
        c = self.c
        self.y -= 24
        c.setStrokeColor(INK)
        c.setLineWidth(0.6)
        c.line(MARGIN, self.y, MARGIN + 300, self.y)
        self._label(label, MARGIN, self.y - 9)
        self._label("Date", MARGIN + 330, self.y + 20)
        self.c.acroForm.textfield(
            name=date_field, tooltip="Date signed", x=MARGIN + 330, y=self.y, width=110, height=FIELD_H,
            fontName="Helvetica", fontSize=9, borderWidth=0.6, borderColor=RULE, fillColor=FIELD_FILL,
            borderStyle="solid", forceBorder=True,
        )
        self.y -= 16

    def finish(self) -> None:
        self._footer()
        self.c.showPage()


def _circle(cx: float, cy: float, r: float) -> str:
    k = 0.5523 * r
    return (
        f"{cx + r:.3f} {cy:.3f} m {cx + r:.3f} {cy + k:.3f} {cx + k:.3f} {cy + r:.3f} {cx:.3f} {cy + r:.3f} c "
        f"{cx - k:.3f} {cy + r:.3f} {cx - r:.3f} {cy + k:.3f} {cx - r:.3f} {cy:.3f} c "
        f"{cx - r:.3f} {cy - k:.3f} {cx - k:.3f} {cy - r:.3f} {cx:.3f} {cy - r:.3f} c "
        f"{cx + k:.3f} {cy - r:.3f} {cx + r:.3f} {cy - k:.3f} {cx + r:.3f} {cy:.3f} c"
    )


def _redraw_radios(data: bytes) -> bytes:
    """Replace reportlab's radio appearances: reportlab 5.1 `circleArcStream` scales its circles by
    size/20, so any radio smaller than 20 pt draws as a clipped quarter-size ring."""
    pdf = open_bytes(data)
    for f in pdf.acroform.fields:
        if not f.is_radio_button:
            continue
        widget = f.obj
        x1, y1, x2, y2 = (float(v) for v in widget.Rect)
        size = min(x2 - x1, y2 - y1)
        c = size / 2
        ring = f"q 1 g {_circle(c, c, c - 0.6)} f Q q 0.12 0.165 0.216 RG 0.8 w {_circle(c, c, c - 0.6)} S Q"
        dot = f"q 0.05 0.05 0.05 rg {_circle(c, c, c * 0.45)} f Q"
        states = [k for k in widget.AP.N if k != "/Off"]
        normal: Any = pikepdf.Dictionary()
        for state in states:
            normal[state] = pdf.make_stream(f"{ring} {dot}".encode(), Type=Name.XObject, Subtype=Name.Form,
                                            BBox=[0, 0, size, size], Resources=pikepdf.Dictionary())
        normal[Name.Off] = pdf.make_stream(ring.encode(), Type=Name.XObject, Subtype=Name.Form,
                                           BBox=[0, 0, size, size], Resources=pikepdf.Dictionary())
        widget.AP = pikepdf.Dictionary(N=normal)
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True, compress_streams=True)
    return out.getvalue()


def _canvas(buffer: io.BytesIO, title: str) -> Canvas:
    canvas = Canvas(buffer, pagesize=letter, invariant=1, pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor("SPRAVATO Paperwork Desk")
    canvas.setCreator("SPRAVATO Paperwork Desk form generator")
    canvas.setSubject(title)
    return canvas


def rems_pmf() -> bytes:
    """The clinic's worksheet of the SPRAVATO REMS Patient Monitoring Form (spravato.md §1)."""
    buffer = io.BytesIO()
    c = _canvas(buffer, "REMS Patient Monitoring Form worksheet")
    w = CONTENT_W
    s = Sheet(
        c,
        title="SPRAVATO\u00ae REMS Patient Monitoring Form \u2014 clinic worksheet",
        subtitle="Worksheet of the official REMS Patient Monitoring Form, completed after every treatment session.",
        code="Worksheet RPMF-W1",
        notice=(
            "This is the clinic's worksheet of the official form, not the official form. Submit the Patient Monitoring"
            " Form online at SPRAVATOrems.com\nor by fax to 1-877-778-0091 within 7 days of the treatment session."
            " REMS phone 1-855-382-6022."
        ),
    )
    s.section("1  Patient")
    s.row([
        Text("patient_first_name", "First name", 200),
        Text("patient_middle_initial", "MI", 28, maxlen=1, tooltip="Middle initial"),
        Text("patient_last_name", "Last name", 196),
        Text("patient_dob", "Date of birth (MM/DD/YYYY)", 92, tooltip="Patient date of birth"),
    ])
    s.row([
        Radio("patient_sex", "Sex", [("Female", "Female"), ("Male", "Male"), ("Other", "Other")], 215),
        YesNo("first_treatment", "Is this the patient's first treatment?", 150),
        YesNo("rems_enrolled", "If yes, is the patient enrolled in the REMS?", 159),
    ])
    s.section("2  Concomitant medications")
    s.note("Medications that may cause sedation, dissociation, respiratory depression or blood-pressure changes"
           " (check all that apply):")
    s.row([
        Checks("Concomitant medication classes", [
            ("concomitant_benzodiazepines", "Benzodiazepines"),
            ("concomitant_non_benzo_hypnotics", "Non-benzodiazepine sedative hypnotics"),
            ("concomitant_psychostimulants", "Psychostimulants"),
            ("concomitant_maois", "MAOIs"),
            ("concomitant_opioids", "Opioids"),
            ("concomitant_none", "None of these"),
        ], w),
    ])
    s.section("3  Healthcare provider who monitored the patient")
    s.row([
        Text("hcp_first_name", "First name", 130),
        Text("hcp_last_name", "Last name", 150),
        Text("hcp_phone", "Phone", 100, tooltip="Monitoring HCP phone"),
        Text("hcp_email", "Email", 136, tooltip="Monitoring HCP email"),
    ])
    s.section("4  Outpatient healthcare setting")
    s.row([
        Text("site_name", "Setting name", 330, tooltip="Certified outpatient healthcare setting name"),
        Text("site_rems_id", "REMS setting ID", 202, tooltip="REMS certification / setting identifier"),
    ])
    s.row([
        Text("site_address", "Address", 180),
        Text("site_address_2", "Suite / floor", 110, tooltip="Setting address line 2"),
        Text("site_city", "City", 120),
        Text("site_state", "State", 34, maxlen=2),
        Text("site_zip", "ZIP", 76, maxlen=5, comb=True, tooltip="Setting ZIP code"),
    ])
    s.section("5  Treatment session")
    s.row([
        Text("session_date", "Treatment date (MM/DD/YYYY)", 110),
        Radio("dose", "Dose administered", [("56mg", "56 mg"), ("84mg", "84 mg"), ("other", "Other")], 180,
              tooltip="SPRAVATO dose administered"),
        Text("dose_other_mg", "Other dose (mg)", 60),
        Text("lot_number", "Lot number", 100),
        Text("devices", "Devices used", 50, maxlen=2),
    ])
    s.row([
        Text("total_monitoring_minutes", "Total monitoring time (minutes, first device to end; at least 120)", 260),
        Text("ready_to_leave_minutes",
             "If there were no 2-hour minimum, minutes from start until ready to leave", 272),
    ])
    s.section("6  Vital signs")
    s.row([
        YesNo("vitals_ok_before", "Vital signs acceptable before administration?", 262),
        YesNo("vitals_ok_before_completion", "Vital signs acceptable before completion of monitoring?", 262),
    ])
    s.row([
        Text("bp_pre_systolic", "BP before administration: systolic", 120),
        Text("bp_pre_diastolic", "diastolic (mmHg)", 52),
        Text("bp_40_systolic", "BP ~40 min after: systolic", 120),
        Text("bp_40_diastolic", "diastolic (mmHg)", 52),
        Text("bp_discharge_systolic", "BP before completion: systolic", 108),
        Text("bp_discharge_diastolic", "diastolic", 36),
    ], gap=6)
    s.section("7  Observations during monitoring")
    s.row([
        YesNo("sedation", "Sedation observed?", 170),
        YesNo("dissociation", "Dissociation observed?", 170),
        YesNo("respiratory_depression", "Respiratory depression observed?", 180),
    ])
    s.row([
        YesNo("pulse_oximetry", "Pulse oximetry performed?", 170),
        Text("spo2_lowest", "Lowest SpO2 (%)", 70, maxlen=3),
        YesNo("serious_adverse_event", "Serious adverse event during the session?", 280),
    ])
    s.row([Text("sae_details", "If yes, describe the serious adverse event", w, lines=3,
                tooltip="Serious adverse event details")])
    s.signature_line("Monitoring healthcare provider signature", "signature_date")
    s.finish()
    c.save()
    return buffer.getvalue()


def pa_request() -> bytes:
    """A prescription-drug prior-authorization request for SPRAVATO, two pages."""
    buffer = io.BytesIO()
    c = _canvas(buffer, "Prior authorization request: SPRAVATO")
    w = CONTENT_W
    s = Sheet(
        c,
        title="Prescription Drug Prior Authorization Request",
        subtitle="SPRAVATO\u00ae (esketamine) nasal spray \u2014 "
        "submit with chart notes and the letter of medical necessity.",
        code="PA-ESK-1",
    )
    s.section("Request")
    s.row([
        Radio("urgency", "Review type", [("standard", "Standard"), ("expedited", "Expedited / urgent")], 210),
        Radio("request_type", "Request", [("initial", "Initial"), ("continuation", "Continuation")], 160),
        Radio("indication", "Indication", [("TRD", "TRD"), ("MDSI", "MDD with suicidality")], 162),
    ])
    s.section("Patient and coverage")
    s.row([
        Text("patient_name", "Patient name (last, first MI)", 260),
        Text("patient_dob", "Date of birth", 90),
        Text("patient_sex", "Sex", 30, maxlen=1),
        Text("patient_phone", "Phone", 136),
    ])
    s.row([
        Text("patient_address", "Address", 284),
        Text("patient_city", "City", 130),
        Text("patient_state", "State", 36, maxlen=2),
        Text("patient_zip", "ZIP", 66, maxlen=10),
    ])
    s.row([
        Text("payer_name", "Health plan", 190),
        Text("member_id", "Member ID", 130, tooltip="Member ID / subscriber number"),
        Text("group_number", "Group number", 100),
        Text("plan_type", "Plan type / benefit", 100),
    ])
    s.section("Prescriber")
    s.row([
        Text("prescriber_name", "Prescriber name and credentials", 200),
        Text("prescriber_npi", "NPI", 130, maxlen=10, comb=True, tooltip="Prescriber NPI"),
        Text("prescriber_specialty", "Specialty", 194),
    ])
    s.row([
        Text("prescriber_phone", "Phone", 130),
        Text("prescriber_fax", "Fax", 130),
        Text("prescriber_email", "Email", 264),
    ])
    s.section("Treatment setting (REMS)")
    s.row([
        Text("site_name", "Setting name", 230),
        Text("site_npi", "Setting NPI", 90, maxlen=10),
        Text("site_tin", "Tax ID (TIN)", 90),
        Text("site_rems_id", "REMS setting ID", 106),
    ])
    s.row([
        Text("site_address", "Address (street, city, state, ZIP)", 300),
        Text("site_phone", "Phone", 110),
        Text("site_fax", "Fax", 106),
    ])
    s.row([
        Checks("REMS certification", [("site_rems_certified", "Setting is certified in the SPRAVATO REMS")], 300),
        Text("site_rems_certified_on", "Certified on", 110),
        Text("place_of_service", "Place of service", 106),
    ])
    s.section("Medication requested")
    s.row([
        Text("drug", "Drug, strength and form", 250),
        Text("ndc", "NDC", 120),
        Text("hcpcs", "HCPCS code", 70, tooltip="HCPCS code billed for the drug"),
        Text("dose_mg", "Dose (mg)", 76),
    ])
    s.row([
        Text("devices_per_session", "Devices per session", 90),
        Text("frequency", "Frequency", 160),
        Text("duration", "Duration", 110),
        Text("sessions_requested", "Sessions requested", 80),
        Text("start_date", "Start date", 76),
    ])
    s.row([
        Checks("Concurrent oral antidepressant", [("concurrent_oral_ad", "Given with an oral antidepressant")], 220),
        Text("concurrent_oral_ad_name", "Oral antidepressant and daily dose", 304),
    ])
    s.new_page()
    s.section("Diagnosis")
    s.row([Text("dx_1_code", "ICD-10 (primary)", 80), Text("dx_1_description", "Description", 444)])
    s.row([Text("dx_2_code", "ICD-10 (other)", 80), Text("dx_2_description", "Description", 444)])
    s.section("Antidepressant and augmentation trials in the current episode")
    widths = (150, 70, 70, 70, 44, 56, 88)
    heads = ("Drug", "Daily dose (mg)", "Start", "End", "Weeks", "Adherence %", "Outcome")
    for number in range(1, 6):
        s.row([
            Text(f"trial_{number}_{key}", head if number == 1 else "", width)
            for key, head, width in zip(("drug", "dose", "start", "end", "weeks", "adherence", "outcome"),
                                        heads, widths, strict=True)
        ], gap=4)
    s.section("Rating-scale results")
    for number in range(1, 4):
        s.row([
            Text(f"scale_{number}_instrument", "Instrument" if number == 1 else "", 170),
            Text(f"scale_{number}_score", "Score" if number == 1 else "", 70),
            Text(f"scale_{number}_date", "Date" if number == 1 else "", 100),
        ])
    s.section("Other criteria and clinical information")
    s.row([Text("other_criteria", "Other criteria met (contraindications screened, psychotherapy, REMS, PDMP ...)",
                w, lines=6)])
    s.section("Prescriber attestation")
    s.note("I attest that the information on this form is accurate and supported by the enclosed medical records.")
    s.signature_line("Prescriber signature", "signature_date")
    s.finish()
    c.save()
    return buffer.getvalue()


def fax_cover() -> bytes:
    """A fax cover sheet for a prior-authorization packet."""
    buffer = io.BytesIO()
    c = _canvas(buffer, "Fax cover sheet")
    w = CONTENT_W
    s = Sheet(c, title="Fax cover sheet", subtitle="Prior authorization submission", code="FAX-1")
    s.section("To")
    s.row([Text("to_name", "Recipient / department", 300), Text("to_fax", "Fax", 110), Text("to_phone", "Phone", 114)])
    s.section("From")
    s.row([Text("from_name", "Sender", 190), Text("from_site", "Clinic", 334)])
    s.row([Text("from_fax", "Fax", 120), Text("from_phone", "Phone", 120), Text("from_email", "Email", 284)])
    s.section("Transmission")
    s.row([
        Text("date", "Date", 100),
        Text("pages", "Pages including this cover", 120),
        Text("reference", "Reference", 304, tooltip="Member ID or case reference"),
    ])
    s.row([Text("subject", "Re", w)])
    s.row([
        Checks("Action", [("urgent", "Urgent / expedited review"), ("for_review", "For review"),
                          ("reply_requested", "Please reply"), ("additional_info", "Additional information")], w),
    ])
    s.section("Message")
    s.row([Text("message", "", w, lines=8, tooltip="Message")])
    s.section("Confidentiality notice")
    notice = (
        "This facsimile contains protected health information that is privileged and confidential under federal and "
        "state law (HIPAA, 45 CFR Parts 160 and 164). It is intended only for the recipient named above. If you "
        "received it in error, notify the sender by phone immediately and destroy all copies; any review, "
        "disclosure, copying or distribution is prohibited."
    )
    text = c.beginText(MARGIN, s.y - 10)
    text.setFont("Helvetica", 8)
    text.setFillColor(INK)
    for line in _wrap(c, notice, "Helvetica", 8, CONTENT_W):
        text.textLine(line)
    c.drawText(text)
    s.finish()
    c.save()
    return buffer.getvalue()


def _wrap(c: Canvas, text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if c.stringWidth(candidate, font, size) > width and current:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


TEMPLATES: dict[str, Callable[[], bytes]] = {
    "rems_pmf": rems_pmf,
    "pa_request": pa_request,
    "fax_cover": fax_cover,
}


def build_template(name: str) -> bytes:
    """The bytes of one template (deterministic)."""
    return _redraw_radios(TEMPLATES[name]())


def generate_templates(out_dir: Path) -> list[Path]:
    """Write every template PDF into `out_dir`; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in TEMPLATES:
        path = out_dir / f"{name}.pdf"
        path.write_bytes(build_template(name))
        written.append(path)
    return written
