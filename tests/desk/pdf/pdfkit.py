"""Helpers for PDF tests: hand-built PDFs (hostile ones too), text extraction and ink measurement."""

from __future__ import annotations

import io
import subprocess
from typing import Any

import pikepdf
from reportlab.pdfgen.canvas import Canvas


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF with exactly these objects (1 = catalog) and a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def one_page(catalog_extra: bytes = b"", contents: bytes | None = None) -> bytes:
    """A one-page PDF; `catalog_extra` goes into the catalog, `contents` becomes object 4."""
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]" + (b" /Contents 4 0 R" if contents else b"") + b" >>"
    objects = [b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page]
    if contents is not None:
        objects.append(contents)
    return raw_pdf(objects)


def plain_pdf(pages: int = 1, text: str = "Chart note") -> bytes:
    """A plain reportlab document of `pages` pages."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=1)
    for number in range(1, pages + 1):
        canvas.drawString(72, 720, f"{text} {number}")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def encrypted(data: bytes, *, user_password: str, allow_forms: bool = True) -> bytes:
    """`data` re-saved with AES-256 encryption (empty user password = owner password only); with
    `allow_forms=False` the permissions forbid filling forms and changing annotations."""
    allow = pikepdf.Permissions(modify_form=allow_forms, modify_annotation=allow_forms, modify_other=False)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        out = io.BytesIO()
        pdf.save(out, encryption=pikepdf.Encryption(owner="owner-secret", user=user_password, R=6, allow=allow))
        return out.getvalue()


def pdftotext(data: bytes) -> str:
    """The text poppler extracts, as a person copying from a viewer would get it."""
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return result.stdout.decode()


def pdftotext_raw(data: bytes) -> str:
    """The text in the order it was drawn: a table cell's sentence stays whole (layout mode interleaves columns)."""
    result = subprocess.run(["pdftotext", "-raw", "-", "-"], input=data, capture_output=True, check=True)
    return result.stdout.decode()


def squash(text: str) -> str:
    return "".join(text.split())


def ink(data: bytes, *, page: int, rect: Any, dpi: int = 144) -> float:
    """Mean darkness (0 white .. 1 black) of the central half of `rect` (PDF points, origin bottom-left)
    on a rendered page: the dot of a radio button or the mark of a checkbox, not its border."""
    x1, y1, x2, y2 = (float(v) for v in rect)
    w, h = x2 - x1, y2 - y1
    x1, x2, y1, y2 = x1 + w / 4, x2 - w / 4, y1 + h / 4, y2 - h / 4
    page_height = 792.0
    scale = dpi / 72
    args = ["pdftoppm", "-gray", "-r", str(dpi), "-f", str(page), "-l", str(page),
            "-x", str(int(x1 * scale)), "-y", str(int((page_height - y2) * scale)),
            "-W", str(max(int((x2 - x1) * scale), 1)), "-H", str(max(int((y2 - y1) * scale), 1)), "-"]
    pgm = subprocess.run(args, input=data, capture_output=True, check=True).stdout
    # Binary PGM: "P5\n<w> <h>\n<max>\n" then one byte per pixel.
    parts = pgm.split(b"\n", 3)
    pixels = parts[3]
    return 1 - sum(pixels) / (255 * len(pixels))


def stored_values(data: bytes) -> dict[str, str]:
    """Field name (/T path) -> stored /V as text (names without the slash), read with pikepdf."""
    values: dict[str, str] = {}
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for field in pdf.acroform.fields:
            holder = field.parent if field.is_radio_button and not field.parent.is_null else field
            value = holder.obj.get("/V")
            if value is None:
                continue
            text = str(value)
            values[str(field.fully_qualified_name)] = text[1:] if isinstance(value, pikepdf.Name) else text
    return values
