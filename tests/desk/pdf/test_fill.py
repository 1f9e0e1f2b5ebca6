"""The one fill function: golden tests of our templates and fills of third-party PDFs."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pikepdf
import pypdf
import pytest
from reportlab.pdfgen.canvas import Canvas

from desk.errors import ValidationFailed
from desk.pdf.fieldmap import FieldMap, load_field_map
from desk.pdf.fill import fill_form, fill_form_with_notes, resolve_values
from desk.pdf.inspect import PdfRejected, fields_of
from desk.pdf.sample_data import sample_pa_case, sample_rems_session
from tests.desk.pdf.pdfkit import ink, pdftotext, squash, stored_values

TEMPLATES: dict[str, Callable[[], dict[str, Any]]] = {
    "rems_pmf": sample_rems_session,
    "pa_request": sample_pa_case,
    "fax_cover": sample_pa_case,
}


def _widgets(data: bytes) -> dict[str, list[tuple[int, Any, str | None]]]:
    """Field name -> [(page number, rect, /AS state)] for every widget of an editable PDF."""
    result: dict[str, list[tuple[int, Any, str | None]]] = {}
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            for annot in page.obj.get("/Annots", []):
                if annot.get("/Subtype") != "/Widget":
                    continue
                holder = annot if "/T" in annot else annot.get("/Parent")
                name = str(holder.T)
                state = str(annot.AS)[1:] if "/AS" in annot else None
                result.setdefault(name, []).append((number, [float(v) for v in annot.Rect], state))
    return result


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_template_golden(name: str, forms_dir: Path) -> None:
    template = (forms_dir / f"{name}.pdf").read_bytes()
    field_map = load_field_map(forms_dir / f"{name}.yaml")
    data = TEMPLATES[name]()
    expected = resolve_values(field_map=field_map, fields={f.name: f for f in fields_of(template)}, data=data)
    texts = {k: v for k, v in expected.items() if isinstance(v, str) and v and fields_of_type(template, k) == "text"}
    assert texts, "the demo case fills text fields"

    editable = fill_form(template=template, field_map=field_map, data=data, flatten=False)
    read_back = pypdf.PdfReader(io.BytesIO(editable)).get_fields() or {}
    by_name = {f.name: f for f in fields_of(editable)}
    for field_name, value in expected.items():
        stored = read_back[field_name].get("/V")
        kind = by_name[field_name].type
        if kind == "checkbox":
            assert stored == ("/" + by_name[field_name].on_state if value else "/Off"), field_name
        elif kind == "radio":
            assert stored == ("/" + value if value else "/Off"), field_name
        else:
            assert (stored or "") == value, field_name

    flat = fill_form(template=template, field_map=field_map, data=data, flatten=True)
    reader = pypdf.PdfReader(io.BytesIO(flat))
    assert not reader.get_fields()
    assert all(a.get_object().get("/Subtype") != "/Widget" for p in reader.pages for a in p.get("/Annots", []))
    text = squash(pdftotext(flat))
    for field_name, value in texts.items():
        assert squash(value) in text, f"{field_name} not visible after flattening"

    # Checkbox and radio states: the editable copy's /AS, and the ink drawn on the flattened page.
    widgets = _widgets(editable)
    for field_name, value in expected.items():
        kind = by_name[field_name].type
        if kind not in ("checkbox", "radio"):
            continue
        for page, rect, state in widgets[field_name]:
            on = state not in (None, "Off")
            if kind == "checkbox":
                assert on == bool(value), field_name
            else:
                assert on == (state == value), field_name
            darkness = ink(flat, page=page, rect=rect)
            assert (darkness > 0.08) == on, f"{field_name} ({state}) ink {darkness:.3f} after flattening"


def fields_of_type(template: bytes, name: str) -> str:
    return next(f.type for f in fields_of(template) if f.name == name)


def test_radio_group_shows_only_the_chosen_option_after_flattening(forms_dir: Path) -> None:
    """pypdf 7.1 draws every option of a radio group as selected when flattening; qpdf does not."""
    template = (forms_dir / "rems_pmf.pdf").read_bytes()
    field_map = load_field_map(forms_dir / "rems_pmf.yaml")
    for dose, chosen in ((56, "56mg"), (84, "84mg"), (70, "other")):
        data = sample_rems_session()
        data["session"]["dose_mg"] = dose
        editable = fill_form(template=template, field_map=field_map, data=data)
        flat = fill_form(template=template, field_map=field_map, data=data, flatten=True)
        options = _widgets(editable)["dose"]
        assert len(options) == 3
        inked = {state: ink(flat, page=page, rect=rect) > 0.08 for page, rect, state in options}
        assert [state for state, dark in inked.items() if dark] == [chosen]


def test_dates_join_and_comb(forms_dir: Path) -> None:
    template = (forms_dir / "pa_request.pdf").read_bytes()
    fields = {f.name: f for f in fields_of(template)}
    values = resolve_values(field_map=load_field_map(forms_dir / "pa_request.yaml"), fields=fields,
                            data=sample_pa_case())
    assert values["patient_dob"] == "02/29/1984"
    assert values["patient_name"] == "Sample, Jordan, Q"
    assert values["prescriber_npi"] == "1234567893"
    assert fields["prescriber_npi"].comb and fields["prescriber_npi"].max_length == 10
    assert values["trial_4_drug"] == ""  # optional rows without a trial stay blank


def test_truncates_to_max_length_or_refuses(forms_dir: Path) -> None:
    template = (forms_dir / "rems_pmf.pdf").read_bytes()
    data = sample_rems_session()
    data["patient"]["middle_initial"] = "QX"
    truncating = FieldMap.model_validate(
        {"fields": {"patient_middle_initial": {"path": "patient.middle_initial", "overflow": "truncate"}}}
    )
    filled = fill_form_with_notes(template=template, field_map=truncating, data=data)
    assert pypdf.PdfReader(io.BytesIO(filled.pdf)).get_fields()["patient_middle_initial"]["/V"] == "Q"
    assert filled.notes == ("patient_middle_initial: cut from 2 to 1 characters (field length)",)
    by_default = FieldMap.model_validate({"fields": {"patient_middle_initial": {"path": "patient.middle_initial"}}})
    with pytest.raises(ValidationFailed) as caught:
        fill_form(template=template, field_map=by_default, data=data)
    assert caught.value.for_field("patient_middle_initial") == ["the value is 2 characters; the field holds 1"]


def test_unknown_field_and_missing_path_are_named(forms_dir: Path) -> None:
    template = (forms_dir / "rems_pmf.pdf").read_bytes()
    field_map = FieldMap.model_validate(
        {"fields": {"no_such_field": {"path": "patient.first_name"}, "lot_number": {"path": "session.lot_nr"}}}
    )
    with pytest.raises(ValidationFailed) as caught:
        fill_form(template=template, field_map=field_map, data=sample_rems_session())
    assert caught.value.for_field("no_such_field") == ["the PDF has no field with this name"]
    assert caught.value.for_field("session.lot_nr") == ["this data path does not exist in the case data"]


def test_radio_value_without_option_is_refused(forms_dir: Path) -> None:
    template = (forms_dir / "rems_pmf.pdf").read_bytes()
    field_map = FieldMap.model_validate({"fields": {"dose": {"path": "session.dose_mg", "options": {"56": "56mg"}}}})
    with pytest.raises(ValidationFailed) as caught:
        fill_form(template=template, field_map=field_map, data=sample_rems_session())
    assert "no entry under options" in caught.value.for_field("dose")[0]


def _checkbox_pdf(on_state: str) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(612, 792), invariant=1)
    canvas.acroForm.checkbox(name="consent", x=100, y=700, size=14, buttonStyle="cross")
    canvas.showPage()
    canvas.save()
    with pikepdf.open(io.BytesIO(buffer.getvalue())) as pdf:
        for annot in pdf.pages[0].obj.Annots:
            for key in ("/N", "/D"):
                appearances = annot.AP.get(key)
                if appearances is not None and "/Yes" in appearances:
                    appearances[pikepdf.Name("/" + on_state)] = appearances.Yes
                    del appearances["/Yes"]
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


@pytest.mark.parametrize("on_state", ["On", "1", "Ja"])
def test_checkbox_on_state_is_read_from_the_pdf(on_state: str) -> None:
    template = _checkbox_pdf(on_state)
    assert fields_of(template)[0].on_state == on_state
    field_map = FieldMap.model_validate({"fields": {"consent": {"path": "agreed"}}})
    editable = fill_form(template=template, field_map=field_map, data={"agreed": True})
    annot = pypdf.PdfReader(io.BytesIO(editable)).pages[0]["/Annots"][0].get_object()
    assert annot["/V"] == f"/{on_state}" and annot["/AS"] == f"/{on_state}"
    flat = fill_form(template=template, field_map=field_map, data={"agreed": True}, flatten=True)
    unchecked = fill_form(template=template, field_map=field_map, data={"agreed": False}, flatten=True)
    box = (100, 700, 114, 714)
    assert ink(flat, page=1, rect=box) > ink(unchecked, page=1, rect=box) + 0.1


THIRD_PARTY = [
    "docfly.pdf",
    "illinois-real-estate-power-of-attorney-form.pdf",
    "libreoffice-form.pdf",
    "pdf_escape.pdf",
    "pdflatex-forms.pdf",
    "sample_template.pdf",
    "sample_template_with_dropdown.pdf",
]


def test_every_fixture_is_covered(fixtures_pdf: Path) -> None:
    present = sorted(p.name for p in fixtures_pdf.glob("*.pdf"))
    assert present == sorted([*THIRD_PARTY, "libreoffice-writer-password.pdf"])


@pytest.mark.parametrize("filename", THIRD_PARTY)
def test_fill_third_party_pdf(filename: str, fixtures_pdf: Path) -> None:
    template = (fixtures_pdf / filename).read_bytes()
    fields = fields_of(template)
    rules: dict[str, dict[str, Any]] = {}
    data: dict[str, Any] = {}
    for index, f in enumerate(fields):
        key = f"v{index}"
        if f.type == "text":
            data[key] = f"Value{index}x"
        elif f.type == "checkbox":
            data[key] = True
        elif f.type in ("radio", "choice") and f.options:
            data[key] = f.options[-1] if f.options[-1].strip() else f.options[0]
        else:
            continue
        rules[f.name] = {"path": key}
    assert rules, "every fixture has fillable fields"
    field_map = FieldMap.model_validate({"fields": rules})

    editable = fill_form(template=template, field_map=field_map, data=data)
    read_back = {f.name: f for f in fields_of(editable)}
    stored = stored_values(editable)
    values = {name: data[rule["path"]] for name, rule in rules.items()}
    for name, value in values.items():
        field = read_back[name]
        if field.type in ("text", "choice"):
            assert stored[name] == value, name
        elif field.type == "checkbox":
            assert stored[name] == field.on_state, name
        elif field.type == "radio":
            assert stored[name] == field.radio_states[value], name

    flat = fill_form(template=template, field_map=field_map, data=data, flatten=True)
    assert not pypdf.PdfReader(io.BytesIO(flat)).get_fields()
    text = squash(pdftotext(flat))
    for name, value in values.items():
        if read_back[name].type == "text":
            assert squash(value) in text, f"{filename}: {name} not visible after flattening"


def test_password_protected_fixture_is_refused(fixtures_pdf: Path) -> None:
    template = (fixtures_pdf / "libreoffice-writer-password.pdf").read_bytes()
    field_map = FieldMap.model_validate({"fields": {"x": {"value": "1"}}})
    with pytest.raises(PdfRejected, match="password-protected"):
        fill_form(template=template, field_map=field_map, data={})
