"""Forms as they come from payers: every script, every checkbox style, every box size."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pikepdf
import pypdf
import pytest

from desk.cli import main
from desk.errors import ValidationFailed
from desk.pdf.fidelity import check_form
from desk.pdf.fieldmap import FieldMap, load_field_map
from desk.pdf.fill import fill_form, fill_form_with_notes
from desk.pdf.inspect import PdfRejected, fields_of
from desk.pdf.sample_data import sample_pa_case
from tests.desk.pdf.pdfkit import encrypted, pdftotext
from tests.desk.pdf.synthetic import feature_form

CORPUS = Path(__file__).parent / "corpus"


def _report(path_name: str, data: bytes) -> None:
    result = check_form(data, source=path_name)
    wrong = [f"{f.name}: {f.detail}" for f in result.fields if not f.ok]
    assert result.fields, path_name
    assert not result.problems and not wrong, (result.problems, wrong)


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.pdf")))
def test_checker_passes_on_corpus(name: str) -> None:
    _report(name, (CORPUS / name).read_bytes())


def test_corpus_has_twenty_sourced_pdfs() -> None:
    names = sorted(p.name for p in CORPUS.glob("*.pdf"))
    sources = (CORPUS / "SOURCES.md").read_text()
    assert len(names) >= 20
    assert all(f"| {n} |" in sources for n in names)


def test_checker_passes_on_shared_fixtures(fixtures_pdf: Path) -> None:
    for path in sorted(fixtures_pdf.glob("*.pdf")):
        if "password" not in path.name:
            _report(path.name, path.read_bytes())


def test_checker_passes_on_synthetic_features() -> None:
    _report("features", feature_form())


def _pa(first: str, last: str) -> bytes:
    forms = Path(__file__).resolve().parents[3] / "forms"
    case = sample_pa_case()
    case["patient"].update(first_name=first, last_name=last, middle_initial="")
    return fill_form(template=(forms / "pa_request.pdf").read_bytes(),
                     field_map=load_field_map(forms / "pa_request.yaml"), data=case)


@pytest.mark.parametrize(("first", "last"), [("Hương", "Nguyễn Thị"), ("Zoë", "José Núñez-")])
def test_unicode_names_are_drawn_and_stored_exactly(first: str, last: str) -> None:
    editable = _pa(first, last)
    expected = f"{last}, {first}"
    assert pypdf.PdfReader(io.BytesIO(editable)).get_fields()["patient_name"]["/V"] == expected
    with pikepdf.open(io.BytesIO(editable)) as pdf:
        assert next(str(f.value) for f in pdf.acroform.fields if f.fully_qualified_name == "patient_name") == expected
    forms = Path(__file__).resolve().parents[3] / "forms"
    flat = fill_form(template=(forms / "pa_request.pdf").read_bytes(),
                     field_map=load_field_map(forms / "pa_request.yaml"),
                     data={**sample_pa_case(), "patient": {**sample_pa_case()["patient"], "first_name": first,
                                                          "last_name": last, "middle_initial": ""}}, flatten=True)
    text = pdftotext(flat)
    assert expected in text
    assert "?" not in text.split("Patient name")[1].splitlines()[1]


def test_character_no_font_has_is_refused_naming_field_and_character() -> None:
    field_map = FieldMap.model_validate({"fields": {"auto_size": {"path": "name"}}})
    with pytest.raises(ValidationFailed) as caught:
        fill_form(template=feature_form(), field_map=field_map, data={"name": "Ana \ue000"})
    (message,) = caught.value.for_field("auto_size")
    assert "U+E000" in message and "DESK_FALLBACK_FONTS" in message


def test_checkbox_groups_list_their_options_and_a_map_picks_one(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    template = feature_form()
    (tmp_path / "f.pdf").write_bytes(template)
    assert main(["forms", "fields", str(tmp_path / "f.pdf")]) == 0

    listed = {f["name"]: f for f in json.loads(capsys.readouterr().out)}
    assert listed["sex_boxes"]["options"] == ["M", "F", "X"]
    assert listed["consent"]["options"] == ["Yes", "No"]
    assert listed["dose"]["options"] == ["56 mg", "84 mg", "other"]
    field_map = FieldMap.model_validate({"fields": {
        "sex_boxes": {"path": "sex", "options": {"female": "F", "male": "M"}},
        "consent": {"path": "consent", "options": {"true": "Yes", "false": "No"}},
        "dose": {"path": "dose"},
    }})
    out = fill_form(template=template, field_map=field_map, data={"sex": "female", "consent": False, "dose": "84 mg"})
    with pikepdf.open(io.BytesIO(out)) as pdf:
        states = {}
        for field in pdf.Root.AcroForm.Fields:
            if "/Kids" in field and field.get("/FT") == "/Btn":
                states[str(field.T)] = (str(field.V), [str(k.AS) for k in field.Kids])
    assert states["sex_boxes"] == ("/F", ["/Off", "/F", "/Off"])
    assert states["consent"] == ("/No", ["/Off", "/No"])
    assert states["dose"] == ("/1", ["/Off", "/1", "/Off"])


def test_radio_flags_no_toggle_to_off_and_unison() -> None:
    field_map = FieldMap.model_validate({"fields": {"dose": {"path": "dose", "optional": True},
                                                    "unison": {"path": "pick"}}})
    out = fill_form(template=feature_form(), field_map=field_map, data={"dose": None, "pick": "a"})
    with pikepdf.open(io.BytesIO(out)) as pdf:
        by_name = {str(f.T): f for f in pdf.Root.AcroForm.Fields}
        assert [str(k.AS) for k in by_name["unison"].Kids] == ["/a", "/Off", "/a"]
        assert str(by_name["dose"].V) == "/Off"  # NoToggleToOff: the form's own state is kept, nothing invented


def test_overflow_is_refused_by_default_and_truncation_is_reported() -> None:
    long = "A" * 200
    strict = FieldMap.model_validate({"fields": {"right": {"path": "v"}}})
    with pytest.raises(ValidationFailed) as caught:
        fill_form(template=feature_form(), field_map=strict, data={"v": long})
    (message,) = caught.value.for_field("right")
    assert message.startswith("the value is 200 characters; the box holds ")
    cutting = FieldMap.model_validate({"fields": {"right": {"path": "v", "overflow": "truncate"}}})
    filled = fill_form_with_notes(template=feature_form(), field_map=cutting, data={"v": long})
    (note,) = filled.notes
    assert note.startswith("right: cut from 200 to ")
    kept = int(note.split(" to ")[1].split()[0])
    assert pypdf.PdfReader(io.BytesIO(filled.pdf)).get_fields()["right"]["/V"] == "A" * kept


def test_long_value_shrinks_and_multiline_wraps() -> None:
    field_map = FieldMap.model_validate({"fields": {"auto_size": {"path": "a"}, "notes": {"path": "b"}}})
    address = "1234 North Lincoln Avenue Apartment 56B, Springfield"  # 52 characters
    notes = "Patient tolerated the session well; " * 4
    flat = fill_form(template=feature_form(), field_map=field_map, data={"a": address, "b": notes}, flatten=True)
    squashed = "".join(pdftotext(flat).split())
    assert "".join(address.split()) in squashed
    assert "".join(notes.split()) in squashed


def test_owner_password_form_is_filled_and_saved_without_encryption() -> None:
    template = encrypted(feature_form(), user_password="")
    field_map = FieldMap.model_validate({"fields": {"centred": {"path": "v"}}})
    filled = fill_form_with_notes(template=template, field_map=field_map, data={"v": "Zoë"})
    assert any("saved without encryption" in n for n in filled.notes)
    with pikepdf.open(io.BytesIO(filled.pdf)) as pdf:
        assert not pdf.is_encrypted
    assert fields_of(filled.pdf)
    with pytest.raises(PdfRejected, match="password-protected"):
        fill_form(template=encrypted(feature_form(), user_password="u"), field_map=field_map, data={"v": "x"})
    with pytest.raises(PdfRejected, match="does not allow filling"):
        fill_form(template=encrypted(feature_form(), user_password="", allow_forms=False),
                  field_map=field_map, data={"v": "x"})


def test_value_goes_on_the_parent_and_on_every_widget() -> None:
    field_map = FieldMap.model_validate({"fields": {"repeated": {"path": "v"}}})
    editable = fill_form(template=feature_form(), field_map=field_map, data={"v": "Nguyễn Thị Hương"})
    assert pypdf.PdfReader(io.BytesIO(editable)).get_fields()["repeated"]["/V"] == "Nguyễn Thị Hương"
    with pikepdf.open(io.BytesIO(editable)) as pdf:
        parent = next(f for f in pdf.Root.AcroForm.Fields if str(f.get("/T", "")) == "repeated")
        assert str(parent.V) == "Nguyễn Thị Hương"
        assert [str(kid.V) for kid in parent.Kids] == ["Nguyễn Thị Hương"] * 2
    # poppler draws each widget's appearance of the unflattened copy: the name twice.
    assert pdftotext(editable).count("Nguyễn Thị Hương") == 2


def test_a_configured_font_that_does_not_exist_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "NoSuchFont.ttf"
    field_map = FieldMap.model_validate({"fields": {"centred": {"path": "v"}}})
    with pytest.raises(ValidationFailed) as caught:
        fill_form_with_notes(template=feature_form(), field_map=field_map, data={"v": "x"}, fallback_fonts=(missing,))
    expected = f"DESK_FALLBACK_FONTS names {missing}, which does not exist"
    assert caught.value.for_field("DESK_FALLBACK_FONTS") == [expected]


def test_a_configured_font_draws_what_the_shipped_one_cannot(tmp_path: Path) -> None:
    noto = Path("/usr/share/fonts/truetype/noto/NotoSansEthiopic-Regular.ttf")
    if not noto.is_file():
        pytest.skip("needs Debian's fonts-noto-core")
    field_map = FieldMap.model_validate({"fields": {"centred": {"path": "v"}}})
    with pytest.raises(ValidationFailed, match="U\\+1230"):
        fill_form(template=feature_form(), field_map=field_map, data={"v": "ሰላም"})
    filled = fill_form_with_notes(template=feature_form(), field_map=field_map, data={"v": "ሰላም"},
                                  fallback_fonts=(noto,), flatten=True)
    assert "ሰላም" in pdftotext(filled.pdf)
