"""`forms` commands: list a PDF's fields, fill a template from JSON data, regenerate our templates."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from desk.cli import CommandFailed, print_json
from desk.errors import ValidationFailed
from desk.pdf.fieldmap import load_field_map
from desk.pdf.fill import fill_form
from desk.pdf.inspect import PdfRejected, check_pdf, limits_from_settings
from desk.settings import load_settings


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    forms = commands.add_parser("forms", help="PDF form templates: list fields, fill, regenerate")
    sub = forms.add_subparsers(dest="forms_command", required=True)

    fields = sub.add_parser("fields", help="list the fillable fields of a PDF as JSON")
    fields.add_argument("file", type=Path)
    fields.set_defaults(handler=_fields)

    fill = sub.add_parser("fill", help="fill a template from JSON data through a field map")
    fill.add_argument("--template", required=True, type=Path)
    fill.add_argument("--map", required=True, type=Path, dest="map_path")
    fill.add_argument("--data", required=True, type=Path)
    fill.add_argument("--out", required=True, type=Path)
    fill.add_argument("--flatten", action="store_true", help="burn the values in and remove the form fields")
    fill.set_defaults(handler=_fill)

    generate = sub.add_parser("generate", help="rebuild the desk's own templates (forms/*.pdf)")
    generate.add_argument("--out-dir", type=Path, default=None, help="default: the forms directory")
    generate.set_defaults(handler=_generate)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        raise CommandFailed(f"cannot read the {what} {path}") from None


def _fields(args: argparse.Namespace) -> int:
    data = _read(args.file, "PDF")
    try:
        summary = check_pdf(data, limits=limits_from_settings(load_settings()))
    except PdfRejected as exc:
        raise CommandFailed(f"{args.file.name}: {exc}") from None
    print_json([f.as_json() for f in summary.fields])
    return 0


def _fill(args: argparse.Namespace) -> int:
    template = _read(args.template, "template")
    try:
        check_pdf(template, limits=limits_from_settings(load_settings()))
        field_map = load_field_map(args.map_path)
    except PdfRejected as exc:
        raise CommandFailed(f"{args.template.name}: {exc}") from None
    except ValidationFailed as exc:
        raise CommandFailed(f"field map {exc}") from None
    try:
        data: Any = json.loads(_read(args.data, "data file"))
    except json.JSONDecodeError as exc:
        raise CommandFailed(f"{args.data.name} is not valid JSON (line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise CommandFailed(f"{args.data.name} must hold a JSON object")
    try:
        pdf = fill_form(template=template, field_map=field_map, data=data, flatten=args.flatten)
    except ValidationFailed as exc:
        raise CommandFailed("; ".join(_describe(e.field, e.message) for e in exc.errors)) from None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(pdf)
    print_json({"out": str(args.out), "fields": len(field_map.fields), "flattened": args.flatten})
    return 0


def _describe(field: str, message: str) -> str:
    if "data path" in message:
        return f"data path {field!r}: {message}"
    return f"field {field!r}: {message}"


def _generate(args: argparse.Namespace) -> int:
    from desk.pdf.templates import generate_templates

    out_dir = args.out_dir or load_settings().forms_dir
    print_json([str(p) for p in generate_templates(out_dir)])
    return 0
