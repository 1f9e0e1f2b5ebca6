"""Field maps: schema checks at load time, checks against the PDF and the data."""

from __future__ import annotations

from pathlib import Path

import pytest

from desk.errors import ValidationFailed
from desk.pdf.fieldmap import (
    FieldMap,
    check_against_data,
    check_against_pdf,
    dump_field_map,
    load_field_map,
    lookup,
    parse_field_map,
)
from desk.pdf.inspect import fields_of
from desk.pdf.sample_data import sample_pa_case, sample_rems_session

DATA = {"rems_session": sample_rems_session, "pa_case": sample_pa_case}


@pytest.mark.parametrize("name", ["rems_pmf", "pa_request", "fax_cover"])
def test_bundled_maps_fit_their_pdf_and_data(name: str, forms_dir: Path) -> None:
    field_map = load_field_map(forms_dir / f"{name}.yaml")
    assert field_map.template == f"{name}.pdf"
    fields = fields_of((forms_dir / f"{name}.pdf").read_bytes())
    assert check_against_pdf(field_map, fields) == []
    assert check_against_data(field_map, DATA[field_map.data]()) == []
    unmapped = {f.name for f in fields} - set(field_map.fields)
    assert unmapped <= {"signature_date"}, "every field but the hand-signed date is filled"


def test_rems_map_covers_every_data_path_of_the_contract(forms_dir: Path) -> None:
    used = set(load_field_map(forms_dir / "rems_pmf.yaml").data_paths())
    from desk.pdf.fieldmap import known_paths

    assert set(known_paths(sample_rems_session())) <= used


def _errors(text: str) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_field_map(text, source="payer.yaml")
    return {e.field: e.message for e in caught.value.errors}


def test_schema_errors_name_file_field_and_expectation() -> None:
    assert _errors("fields: {a: {path: x, value: y}}") == {
        "payer.yaml: fields.a": "give exactly one of path, join or value"
    }
    assert _errors("fields: {a: {path: 'patient..name'}}")["payer.yaml: fields.a.path"].startswith("a data path")
    assert "Extra inputs" in _errors("fields: {a: {path: x, colour: red}}")["payer.yaml: fields.a.colour"]
    assert _errors("fields: {a: {join: [x]}}")["payer.yaml: fields.a.join"] == "join needs at least two data paths"
    assert _errors("fields: {}")["payer.yaml: fields"] == "a field map maps at least one field"
    assert _errors("fields: [unclosed") == {"payer.yaml": "not valid YAML at line 1"}
    assert _errors("- a list") == {"payer.yaml": "expected a mapping with a 'fields' key"}


def test_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as caught:
        load_field_map(tmp_path / "missing.yaml")
    assert caught.value.for_field("missing.yaml") == ["cannot read the file"]


def test_options_must_exist_in_the_pdf(forms_dir: Path) -> None:
    fields = fields_of((forms_dir / "rems_pmf.pdf").read_bytes())
    field_map = FieldMap.model_validate({"fields": {
        "dose": {"path": "session.dose_mg", "options": {"56": "56 mg"}},
        "patient_first_name": {"path": "patient.first_name", "checked_when": True},
        "signature": {"path": "x"},
    }})
    problems = {e.field: e.message for e in check_against_pdf(field_map, fields)}
    assert problems["dose"].startswith("option '56 mg' is not one of the PDF's: 56mg, 84mg, other")
    assert problems["patient_first_name"] == "checked_when applies to checkboxes; this field is text"
    assert problems["signature"] == "the PDF has no field with this name"


def test_lookup_and_optional_paths() -> None:
    data = {"trials": [{"drug": "a"}], "x": {"y": None}}
    assert lookup(data, "trials.0.drug") == "a"
    assert lookup(data, "x.y") is None
    field_map = FieldMap.model_validate({"fields": {
        "a": {"path": "trials.1.drug", "optional": True}, "b": {"path": "trials.2.drug"}}})
    assert [e.field for e in check_against_data(field_map, data)] == ["trials.2.drug"]


def test_dump_round_trips(forms_dir: Path) -> None:
    field_map = load_field_map(forms_dir / "rems_pmf.yaml")
    assert parse_field_map(dump_field_map(field_map)) == field_map
