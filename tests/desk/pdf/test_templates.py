"""Our templates are generated deterministically and the committed files are up to date."""

from __future__ import annotations

from pathlib import Path

import pytest

from desk.pdf.inspect import fields_of
from desk.pdf.templates import TEMPLATES, build_template, generate_templates
from tests.desk.pdf.pdfkit import pdftotext


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_committed_template_matches_generator(name: str, forms_dir: Path) -> None:
    assert build_template(name) == (forms_dir / f"{name}.pdf").read_bytes(), "run: python -m desk forms generate"


def test_generate_is_repeatable(tmp_path: Path) -> None:
    first = {p.name: p.read_bytes() for p in generate_templates(tmp_path / "a")}
    second = {p.name: p.read_bytes() for p in generate_templates(tmp_path / "b")}
    assert first == second and set(first) == {"rems_pmf.pdf", "pa_request.pdf", "fax_cover.pdf"}


def test_rems_worksheet_has_every_monitoring_form_item(forms_dir: Path) -> None:
    data = (forms_dir / "rems_pmf.pdf").read_bytes()
    text = " ".join(pdftotext(data).split())
    assert "clinic's worksheet of the official form, not the official form" in text
    for phrase in ("first treatment", "enrolled in the REMS", "Opioids", "Benzodiazepines", "MAOIs",
                   "Psychostimulants", "Non-benzodiazepine sedative hypnotics", "Lot number",
                   "Respiratory depression", "Pulse oximetry", "Serious adverse event", "~40 min",
                   "ready to leave", "at least 120", "1-877-778-0091"):
        assert phrase.lower() in text.lower(), phrase
    kinds = {f.name: f.type for f in fields_of(data)}
    assert kinds["dose"] == "radio" and kinds["concomitant_opioids"] == "checkbox"
