"""Mapping suggestions for a payer's PDF from its field names and tooltips."""

from __future__ import annotations

from pathlib import Path

import yaml

from desk.pdf.fieldmap import check_against_data, check_against_pdf, parse_field_map
from desk.pdf.inspect import FormField, fields_of
from desk.pdf.sample_data import sample_pa_case
from desk.pdf.suggest import suggest_field_map, suggested_map_text


def test_common_payer_labels_find_their_paths() -> None:
    fields = [
        FormField(name="Text1", type="text", tooltip="Member ID"),
        FormField(name="DOB", type="text"),
        FormField(name="PrescriberNPI", type="text"),
        FormField(name="Patient Name", type="text"),
        FormField(name="Text7", type="text", tooltip="Office fax"),
        FormField(name="Signature1", type="signature"),
    ]
    field_map = suggest_field_map(fields)
    assert field_map is not None
    rules = field_map.fields
    assert rules["Text1"].path == "coverage.member_id"
    assert rules["DOB"].path == "patient.dob"
    assert rules["PrescriberNPI"].path == "prescriber.npi"
    assert rules["Patient Name"].join == ["patient.first_name", "patient.last_name"]
    assert rules["Text7"].path == "site.fax"
    assert "Signature1" not in rules


def test_suggestion_for_our_request_form_is_valid(forms_dir: Path) -> None:
    fields = fields_of((forms_dir / "pa_request.pdf").read_bytes())
    field_map = parse_field_map(suggested_map_text(fields))
    assert len(field_map.fields) >= 25
    assert check_against_pdf(field_map, fields) == []
    assert check_against_data(field_map, sample_pa_case()) == []


def test_unmatched_fields_are_listed_as_comments(fixtures_pdf: Path) -> None:
    fields = fields_of((fixtures_pdf / "sample_template_with_dropdown.pdf").read_bytes())
    text = suggested_map_text(fields)
    assert "#   radio_1" not in text and "# radio_1: {path: }   # radio options: Choice1, Choice2, Choice3" in text
    assert yaml.safe_load(text)["data"] == "pa_case"
