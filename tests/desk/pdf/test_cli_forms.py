"""`python -m desk forms ...`: JSON out, exit codes, messages naming the missing field or path."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pypdf
import pytest

from desk.cli import main
from desk.pdf.sample_data import sample_rems_session
from tests.desk.pdf.pdfkit import pdftotext


def _data_file(tmp_path: Path, data: dict[str, object]) -> Path:
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data, default=str))
    return path


def test_fields_lists_json(forms_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["forms", "fields", str(forms_dir / "rems_pmf.pdf")]) == 0
    fields = json.loads(capsys.readouterr().out)
    dose = next(f for f in fields if f["name"] == "dose")
    assert dose == {"name": "dose", "type": "radio", "options": ["56mg", "84mg", "other"], "page": 1,
                    "max_length": None}
    assert {f["type"] for f in fields} == {"text", "checkbox", "radio"}
    assert set(fields[0]) == {"name", "type", "options", "page", "max_length"}


def test_fields_of_third_party_choice(fixtures_pdf: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["forms", "fields", str(fixtures_pdf / "sample_template_with_dropdown.pdf")]) == 0
    fields = {f["name"]: f for f in json.loads(capsys.readouterr().out)}
    assert fields["dropdown_1"]["type"] == "choice" and fields["dropdown_1"]["options"][:2] == ["foo", "bar"]


def test_fields_refuses_encrypted(fixtures_pdf: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["forms", "fields", str(fixtures_pdf / "libreoffice-writer-password.pdf")]) == 1
    assert "password-protected" in capsys.readouterr().err


def test_fill_flatten(forms_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pmf.pdf"
    code = main(["forms", "fill", "--template", str(forms_dir / "rems_pmf.pdf"), "--map",
                 str(forms_dir / "rems_pmf.yaml"), "--data", str(_data_file(tmp_path, sample_rems_session())),
                 "--out", str(out), "--flatten"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["flattened"] is True
    data = out.read_bytes()
    assert not pypdf.PdfReader(io.BytesIO(data)).get_fields()
    text = pdftotext(data)
    assert "LOT24B113" in text and "02/29/1984" in text and "03/04/2026" in text


def test_fill_names_a_field_the_pdf_lacks(forms_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    field_map = tmp_path / "map.yaml"
    field_map.write_text("fields:\n  patient_nickname: {path: patient.first_name}\n")
    out = tmp_path / "out.pdf"
    code = main(["forms", "fill", "--template", str(forms_dir / "rems_pmf.pdf"), "--map", str(field_map),
                 "--data", str(_data_file(tmp_path, sample_rems_session())), "--out", str(out)])
    assert code == 1
    assert "field 'patient_nickname': the PDF has no field with this name" in capsys.readouterr().err
    assert not out.exists()


def test_fill_names_a_missing_data_path(forms_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = sample_rems_session()
    del data["session"]["lot_number"]
    out = tmp_path / "out.pdf"
    code = main(["forms", "fill", "--template", str(forms_dir / "rems_pmf.pdf"), "--map",
                 str(forms_dir / "rems_pmf.yaml"), "--data", str(_data_file(tmp_path, data)), "--out", str(out)])
    assert code == 1
    assert "data path 'session.lot_number': this data path does not exist" in capsys.readouterr().err
    assert not out.exists()


def test_fill_bad_map_and_bad_json(forms_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad_map = tmp_path / "bad.yaml"
    bad_map.write_text("fields: {a: {path: x, value: y}}\n")
    args = ["forms", "fill", "--template", str(forms_dir / "rems_pmf.pdf"), "--out", str(tmp_path / "o.pdf")]
    assert main([*args, "--map", str(bad_map), "--data", str(_data_file(tmp_path, {}))]) == 1
    assert "bad.yaml: fields.a: give exactly one of path, join or value" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    assert main([*args, "--map", str(forms_dir / "rems_pmf.yaml"), "--data", str(broken)]) == 1
    assert "broken.json is not valid JSON" in capsys.readouterr().err


def test_generate_writes_the_templates(tmp_path: Path, forms_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["forms", "generate", "--out-dir", str(tmp_path)]) == 0
    assert (tmp_path / "rems_pmf.pdf").read_bytes() == (forms_dir / "rems_pmf.pdf").read_bytes()
