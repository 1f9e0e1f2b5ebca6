"""Structural validation of FHIR JSON with the R4B models of `fhir.resources`.

PAS and DTR are R4 (4.0.1) guides; `fhir.resources` 8 ships R5 as its default package and R4B (4.3.0) under
`fhir.resources.R4B`. R4B left Bundle, Claim, ClaimResponse, Coverage, Patient, Practitioner(Role),
Organization, Condition, MedicationRequest, DocumentReference, Questionnaire and QuestionnaireResponse
unchanged from R4, so the R4B models check exactly the R4 structure of what the desk writes and reads.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from pydantic import ValidationError

from desk.errors import DeskError

MAX_REPORTED = 3


class FhirInvalid(DeskError):
    """FHIR content that is not structurally valid; the message names the elements at fault."""


def _where(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path or "(resource)"


def describe_errors(error: ValidationError, *, resource_type: str) -> str:
    """A short, PHI-free description of the first few validation errors (element path and problem)."""
    parts = []
    for item in error.errors()[:MAX_REPORTED]:
        message = str(item.get("msg", "invalid")).replace("Value error, ", "").split("\n")[0].strip()
        if item.get("type") == "missing":
            message = "required"
        parts.append(f"{resource_type}.{_where(tuple(item.get('loc', ())))}: {message}")
    more = error.error_count() - MAX_REPORTED
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def validate_resource(data: Any, *, expected: str | None = None) -> FHIRAbstractModel:
    """Parse `data` (a JSON object) into its FHIR model; raise FhirInvalid with the elements at fault."""
    if not isinstance(data, dict):
        raise FhirInvalid("expected a JSON object holding a FHIR resource")
    resource_type = data.get("resourceType")
    if not isinstance(resource_type, str) or not resource_type:
        raise FhirInvalid("resourceType is missing: this is not a FHIR resource")
    if expected is not None and resource_type != expected:
        raise FhirInvalid(f"resourceType is {resource_type!r}; expected {expected!r}")
    try:
        model = get_fhir_model_class(resource_type)
    except ValueError:
        raise FhirInvalid(f"resourceType {resource_type!r} is not a FHIR R4 resource") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise FhirInvalid(describe_errors(exc, resource_type=resource_type)) from None


def validate_resource_json(raw: bytes | str, *, resource_type: str) -> FHIRAbstractModel:
    """Like validate_resource, for the JSON text of a resource whose type is already known (pydantic parses
    the text itself, which is faster than validating the decoded object)."""
    try:
        model = get_fhir_model_class(resource_type)
    except ValueError:
        raise FhirInvalid(f"resourceType {resource_type!r} is not a FHIR R4 resource") from None
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise FhirInvalid(describe_errors(exc, resource_type=resource_type)) from None
