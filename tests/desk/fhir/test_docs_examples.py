"""The example files in docs/examples stay valid FHIR of the documented kinds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desk.fhir.validate import validate_resource

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"
KINDS = {"pas-request-bundle.json": "Bundle", "questionnaire-uhc-trd-initial.json": "Questionnaire",
         "claim-response-approved.json": "ClaimResponse", "claim-response-denied.json": "ClaimResponse"}


@pytest.mark.parametrize(("name", "kind"), sorted(KINDS.items()))
def test_example_is_valid(name: str, kind: str) -> None:
    validate_resource(json.loads((EXAMPLES / name).read_text(encoding="utf-8")), expected=kind)


def test_the_example_bundle_starts_with_a_preauthorization_claim() -> None:
    bundle = json.loads((EXAMPLES / "pas-request-bundle.json").read_text(encoding="utf-8"))
    claim = bundle["entry"][0]["resource"]
    assert (bundle["type"], claim["resourceType"], claim["use"]) == ("collection", "Claim", "preauthorization")
