"""Structural validation of FHIR JSON with the R4B models of `fhir.resources`.

PAS and DTR are R4 (4.0.1) guides; `fhir.resources` 8 ships R5 as its default package and R4B (4.3.0) under
`fhir.resources.R4B`. R4B left Bundle, Claim, ClaimResponse, Coverage, Patient, Practitioner(Role),
Organization, Condition, MedicationRequest, DocumentReference, Questionnaire and QuestionnaireResponse
unchanged from R4, so the R4B models check exactly the R4 structure of what the desk writes and reads.
"""

from __future__ import annotations

from typing import Any, get_args

from fhir.resources.R4B import get_fhir_model_class
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.types import FhirBase, FhirElementOrResourceBase
from fhir_core.utils import is_list_type, is_primitive_type
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


def _element_class(annotation: Any) -> type[FHIRAbstractModel] | None:
    """The one FHIR model class a field holds (a data type or backbone element), or None (primitives, and the
    polymorphic Resource/Element fields such as `contained`)."""
    for arg in (annotation, *get_args(annotation), *(a for x in get_args(annotation) for a in get_args(x))):
        if isinstance(arg, type) and issubclass(arg, FhirBase) and not issubclass(arg, FhirElementOrResourceBase):
            klass: type[FHIRAbstractModel] = arg.get_model_klass()
            return klass
    return None


class ResourceValidator:
    """validate_resource for many resources of one import, with the same outcome but less work.

    An export repeats the same complex elements over and over (a drug's coding, a dosage, the patient
    reference). Each top-level complex element is validated once with its own FHIR model and the result reused
    for every resource that holds the same JSON; the resource itself is then validated with those validated
    elements in place, so its own rules (required elements, choice types, unknown elements, primitives) are
    checked every time. When any element fails, the resource is validated again as a whole, so the message is
    exactly the one validate_resource gives. The cache is bounded (cleared when full).
    """

    MAX_CACHED = 20_000

    def __init__(self) -> None:
        self._plans: dict[type[FHIRAbstractModel], dict[str, tuple[type[FHIRAbstractModel], bool]]] = {}
        self._elements: dict[tuple[type[FHIRAbstractModel], bool, str], Any] = {}

    def _plan(self, model: type[FHIRAbstractModel]) -> dict[str, tuple[type[FHIRAbstractModel], bool]]:
        plan = self._plans.get(model)
        if plan is None:
            plan = {}
            for name, info in model.model_fields.items():
                extra = info.json_schema_extra
                if not isinstance(extra, dict) or not extra.get("element_property") or is_primitive_type(info):
                    continue
                klass = _element_class(info.annotation)
                if klass is not None:
                    plan[info.alias or name] = (klass, is_list_type(info))
            self._plans[model] = plan
        return plan

    def _element(self, klass: type[FHIRAbstractModel], many: bool, value: Any) -> Any:
        # repr of decoded JSON tells apart every value JSON can hold (1, 1.0, "1", True), in document order.
        key = (klass, many, repr(value))
        found = self._elements.get(key)
        if found is None:
            if many:
                if not isinstance(value, list):
                    raise TypeError("a list was expected")
                found = [klass.model_validate(item) for item in value]
            else:
                found = klass.model_validate(value)
            if len(self._elements) >= self.MAX_CACHED:
                self._elements.clear()
            self._elements[key] = found
        return found

    def validate(self, data: Any) -> FHIRAbstractModel:
        """Like validate_resource(data); raises FhirInvalid with the same message."""
        if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
            return validate_resource(data)
        try:
            model = get_fhir_model_class(data["resourceType"])
        except ValueError:
            return validate_resource(data)
        plan = self._plan(model)
        prepared = dict(data)
        try:
            for key, value in data.items():
                spec = plan.get(key)
                if spec is not None and value is not None:
                    prepared[key] = self._element(spec[0], spec[1], value)
            return model.model_validate(prepared)
        except (ValidationError, TypeError, ValueError):
            return validate_resource(data)
