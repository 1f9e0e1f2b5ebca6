"""Field maps: which value of the case data goes into which PDF field, and how it is transformed.

A field map is a YAML file next to its template (see forms/README.md for the format). It is
validated when loaded (schema), against the PDF (every field exists, options match its states) and
against the data (every path exists) before anything is filled.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from desk.errors import FieldError, ValidationFailed
from desk.pdf.inspect import FormField

_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.([A-Za-z_][A-Za-z0-9_]*|[0-9]+))*$")
Scalar = str | int | float | bool
MISSING = object()


class FieldRule(BaseModel):
    """How one PDF field gets its value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str | None = None
    join: list[str] | None = None
    value: str | None = None
    separator: str = " "
    date_format: str | None = None
    checked_when: Scalar | list[Scalar] | None = None
    # A key mapped to null leaves the field empty: a value the form has no honest option for.
    options: dict[str, str | None] | None = None
    other_option: str | None = None
    max_length: int | None = Field(default=None, gt=0)
    overflow: Literal["truncate", "error"] = "error"
    keep: Literal["digits", "alnum"] | None = None
    upper: bool = False
    true_text: str = "Yes"
    false_text: str = "No"
    optional: bool = False
    note: str = ""

    @field_validator("path")
    @classmethod
    def _path_shape(cls, v: str | None) -> str | None:
        if v is not None and not _PATH.match(v):
            raise ValueError("a data path is dotted names such as patient.first_name or trials.0.drug")
        return v

    @field_validator("join")
    @classmethod
    def _join_shape(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            if len(v) < 2:
                raise ValueError("join needs at least two data paths")
            for item in v:
                if not _PATH.match(item):
                    raise ValueError(f"{item!r} is not a data path such as patient.first_name")
        return v

    @field_validator("options", mode="before")
    @classmethod
    def _option_keys(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {_key(k): None if o is None else str(o) for k, o in v.items()}
        return v

    @model_validator(mode="after")
    def _one_source(self) -> FieldRule:
        sources = [name for name in ("path", "join", "value") if getattr(self, name) is not None]
        if len(sources) != 1:
            raise ValueError("give exactly one of path, join or value")
        return self

    @property
    def paths(self) -> list[str]:
        if self.path is not None:
            return [self.path]
        return list(self.join or [])


def _key(value: Any) -> str:
    """Option keys compare as text; YAML true/false and Python booleans become 'true'/'false'."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class FieldMap(BaseModel):
    """A template's field map: PDF field name -> rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = ""
    template: str | None = None
    data: str = ""
    date_format: str = "%m/%d/%Y"
    # Smallest font size a value may shrink to before it counts as not fitting its box.
    min_font_size: float = Field(default=6.0, ge=2.0, le=12.0)
    fields: dict[str, FieldRule]

    @field_validator("fields")
    @classmethod
    def _not_empty(cls, v: dict[str, FieldRule]) -> dict[str, FieldRule]:
        if not v:
            raise ValueError("a field map maps at least one field")
        return v

    def data_paths(self) -> list[str]:
        seen: dict[str, None] = {}
        for rule in self.fields.values():
            for path in rule.paths:
                seen.setdefault(path, None)
        return list(seen)


def parse_field_map(text: str, *, source: str = "field map") -> FieldMap:
    """Parse and schema-check YAML text; errors name the source, the field and what was expected."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ValidationFailed([FieldError(source, f"not valid YAML{where}")]) from None
    if not isinstance(raw, dict):
        raise ValidationFailed([FieldError(source, "expected a mapping with a 'fields' key")])
    try:
        return FieldMap.model_validate(raw)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"] if p not in ("function-after[_one_source(), FieldRule]",))
            message = str(err["msg"]).removeprefix("Value error, ")
            errors.append(FieldError(f"{source}: {loc}" if loc else source, message))
        raise ValidationFailed(errors) from None


def load_field_map(path: Path) -> FieldMap:
    """Read and schema-check a field-map file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise ValidationFailed([FieldError(path.name, "cannot read the file")]) from None
    return parse_field_map(text, source=path.name)


def dump_field_map(field_map: FieldMap) -> str:
    """YAML text of a field map (defaults left out, so the file stays short)."""
    raw = field_map.model_dump(exclude_defaults=True)
    raw["fields"] = {name: rule.model_dump(exclude_defaults=True) for name, rule in field_map.fields.items()}
    return yaml.safe_dump(raw, sort_keys=False, allow_unicode=True, width=110)


def check_against_pdf(field_map: FieldMap, fields: Sequence[FormField]) -> list[FieldError]:
    """Problems between the map and the PDF's fields (empty when the map fits)."""
    by_name = {f.name: f for f in fields}
    problems: list[FieldError] = []
    for name, rule in field_map.fields.items():
        pdf_field = by_name.get(name)
        if pdf_field is None:
            problems.append(FieldError(name, "the PDF has no field with this name"))
            continue
        if pdf_field.type in ("signature", "button"):
            problems.append(FieldError(name, f"a {pdf_field.type} field cannot be filled"))
            continue
        group = pdf_field.type == "checkbox" and len(pdf_field.options) > 1
        if rule.checked_when is not None and (pdf_field.type != "checkbox" or group):
            what = "a checkbox group (pick a box with options)" if group else pdf_field.type
            problems.append(FieldError(name, f"checked_when applies to checkboxes; this field is {what}"))
        if pdf_field.type in ("radio", "choice") or group:
            allowed = set(pdf_field.options)
            targets = [o for o in (rule.options or {}).values() if o is not None]
            if rule.other_option is not None:
                targets.append(rule.other_option)
            if rule.value is not None and rule.options is None:
                targets.append(rule.value)
            for target in targets:
                if target not in allowed:
                    problems.append(
                        FieldError(name, f"option {target!r} is not one of the PDF's: {', '.join(pdf_field.options)}")
                    )
    return problems


def lookup(data: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path, or MISSING when any step does not exist."""
    current: Any = data
    for part in path.split("."):
        if isinstance(current, Mapping):
            if part not in current:
                return MISSING
            current = current[part]
        elif isinstance(current, Sequence) and not isinstance(current, str | bytes) and part.isdigit():
            index = int(part)
            if index >= len(current):
                return MISSING
            current = current[index]
        else:
            return MISSING
    return current


def check_against_data(field_map: FieldMap, data: Mapping[str, Any]) -> list[FieldError]:
    """One error per data path the map uses that the case data lacks."""
    return [
        FieldError(path, "this data path does not exist in the case data")
        for path in _required_paths(field_map)
        if lookup(data, path) is MISSING
    ]


def _required_paths(field_map: FieldMap) -> list[str]:
    seen: dict[str, None] = {}
    for rule in field_map.fields.values():
        if not rule.optional:
            for path in rule.paths:
                seen.setdefault(path, None)
    return list(seen)


def known_paths(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Every leaf path of a data dict (lists contribute their first item as `.0.`)."""
    paths: list[str] = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            paths.extend(known_paths(value, f"{path}."))
        elif isinstance(value, list):
            for index, item in enumerate(value[:6]):
                if isinstance(item, Mapping):
                    paths.extend(known_paths(item, f"{path}.{index}."))
                else:
                    paths.append(f"{path}.{index}")
        else:
            paths.append(path)
    return paths


def as_date(value: Any) -> date | None:
    """A date from a date, a datetime or an ISO 'YYYY-MM-DD' string (JSON case data)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None
