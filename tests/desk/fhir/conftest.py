"""FHIR fixtures: a payer policy folder with billing codes and groups, cases ready to export, PAS responses."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from desk.fhir import codes as c
from desk.fhir.pas import claim_identifier, full_url
from desk.models.prior_auth import PriorAuthCase
from desk.prior_auth.cases import open_case
from tests.factories import make_coverage, make_diagnosis, make_patient, make_prescriber, make_site

POLICY = """\
id: fhir-payer
payer: Fhir Health
plan_types: [commercial]
benefit: medical
title: Fhir Health SPRAVATO policy
policy_number: FH-1
source_url: https://example.org/policy
reviewed_on: 2026-11-01
completeness: {status: complete}
decision_clocks:
  commercial:
    standard: {amount: 72, unit: hours}
    expedited: {amount: 24, unit: hours}
    source: "p: turnaround"
billing_codes:
  - {code: S0013, accepted_until: 2025-12-31}
  - {code: J0013, accepted_from: 2026-01-01}
  - {code: G2083}
sources:
  p: {title: Test policy, url: "https://example.org/policy", kind: primary}
variants:
  - indication: trd
    phase: initial
    approval: {length: {value: 6, unit: months}}
    criteria:
      id: trd-all
      kind: all
      text: All of these
      rules:
        - {id: trd-age, kind: age, text: Age 18 or older, source: "p: 1", min_years: 18}
        - {id: trd-rems, kind: attestation, text: The setting is REMS certified, source: "p: 2"}
        - id: trd-path
          kind: any
          text: One of these paths
          rules:
            - {id: trd-psychosis, kind: no_psychosis_history, text: No history of psychosis, source: "p: 3"}
            - {id: trd-benefit, kind: attestation, text: Prescriber attests benefit outweighs risk, source: "p: 3"}
        - id: trd-two
          kind: at_least
          n: 1
          text: At least one of these
          rules:
            - {id: trd-pdmp, kind: pdmp_checked, text: PDMP checked, source: "p: 4"}
            - {id: trd-specialist, kind: prescriber, text: Psychiatrist prescribes, source: "p: 4",
               specialties: [psychiatrist]}
  - indication: mdsi
    phase: initial
    position: not_covered
"""
NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
TODAY = date(2026, 11, 26)


@pytest.fixture(autouse=True)
def payer_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A payers/ folder with one policy that lists billing codes; the settings point at it."""
    folder = tmp_path / "payers"
    folder.mkdir()
    (folder / "fhir-payer.yaml").write_text(POLICY, encoding="utf-8")
    monkeypatch.setenv("DESK_PAYERS_DIR", str(folder))
    monkeypatch.setenv("DESK_TIMEZONE", "America/New_York")
    return folder


def export_ready_case(session: Session, *, dose_mg: int = 84, sessions: int | None = 8,
                      start_on: date | None = date(2026, 12, 1), urgency: str = "standard",
                      **coverage: Any) -> PriorAuthCase:
    """A draft case of a patient with a site, a psychiatrist, two current diagnoses and a Fhir Health coverage."""
    site = make_site(session)
    prescriber = make_prescriber(session, site_id=site.id)
    patient = make_patient(session, site=site, prescriber_id=prescriber.id, pdmp_checked_on=date(2026, 11, 1))
    make_diagnosis(session, patient=patient)
    make_diagnosis(session, patient=patient, icd10="F41.1", description="Generalized anxiety disorder")
    values: dict[str, Any] = {"payer_id": "fhir-payer", "group_number": "GRP-77"}
    values.update(coverage)
    cover = make_coverage(session, patient=patient, **values)
    case = open_case(session, patient_id=patient.id, coverage_id=cover.id, indication="TRD", phase="initial",
                     actor="tester", urgency=urgency, now=NOW).case
    case.dose_mg, case.sessions_requested, case.start_on = dose_mg, sessions, start_on
    session.add(case)
    session.flush()
    return case


def claim_response(case: PriorAuthCase, *, action: str = "A1", member_id: str | None = None,
                   pre_auth_ref: str | None = "AUTH-777", period: dict[str, str] | None = None,
                   quantity: dict[str, Any] | None = None, reasons: tuple[str, ...] = (),
                   created: str = "2026-11-25T10:00:00-05:00", **top: Any) -> dict[str, Any]:
    """A PAS ClaimResponse answering the case's request with one review action on the drug item."""
    assert case.id is not None
    review: list[dict[str, Any]] = [{"url": "code", "valueCodeableConcept": {
        "coding": [{"system": c.X12_REVIEW_ACTION, "code": action}]}}]
    review += [{"url": "reasonCode", "valueCodeableConcept": {"coding": [{"system": c.X12_DECISION_REASON,
                                                                          "code": "0U", "display": r}]}}
               for r in reasons]
    item: dict[str, Any] = {"itemSequence": 1, "adjudication": [{
        "category": {"coding": [{"system": c.ADJUDICATION, "code": "submitted"}]},
        "extension": [{"url": c.EXT_REVIEW_ACTION, "extension": review}]}]}
    if quantity is not None:
        item["extension"] = [{"url": c.EXT_ITEM_AUTHORIZED_DETAIL, "extension": [
            {"url": "productOrServiceCode", "valueCodeableConcept": {"coding": [{"system": c.HCPCS, "code": "J0013"}]}},
            {"url": "quantity", "valueQuantity": quantity}]}]
    patient: dict[str, Any] = {"reference": full_url(case.id, "patient")}
    if member_id is not None:
        patient = {"identifier": {"system": "urn:payer:member", "value": member_id}}
    data: dict[str, Any] = {
        "resourceType": "ClaimResponse", "status": "active",
        "type": {"coding": [{"system": c.CLAIM_TYPE, "code": "professional"}]}, "use": "preauthorization",
        "patient": patient, "created": created, "insurer": {"display": "Fhir Health"},
        "request": {"identifier": {"value": claim_identifier(case.id)}}, "outcome": "complete", "item": [item],
    }
    if pre_auth_ref is not None:
        data["preAuthRef"] = pre_auth_ref
    if period is not None:
        data["preAuthPeriod"] = period
    data.update(top)
    return data


def as_json(data: dict[str, Any]) -> str:
    return json.dumps(data)
