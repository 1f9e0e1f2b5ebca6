"""Prior-authorization fixtures: a small payer policy folder and helpers that build cases."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from desk.models import Coverage, Patient
from desk.models.prior_auth import PaAuthorization, PriorAuthCase
from desk.prior_auth.cases import open_case
from tests.factories import make_coverage, make_diagnosis, make_patient

TEST_POLICY = """\
id: test-payer
payer: Test Health
plan_types: [commercial]
benefit: medical
title: Test Health SPRAVATO policy
source_url: https://example.org/policy
reviewed_on: 2026-11-01
completeness: {status: complete}
decision_clocks:
  commercial:
    standard: {amount: 72, unit: hours}
    expedited: {amount: 24, unit: hours}
    source: "p: turnaround"
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
  - indication: mdsi
    phase: initial
    position: not_covered
"""
NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
TODAY = date(2026, 11, 26)


@pytest.fixture(autouse=True)
def payer_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A payers/ folder holding one small policy file; the settings point at it."""
    folder = tmp_path / "payers"
    folder.mkdir()
    (folder / "test-payer.yaml").write_text(TEST_POLICY, encoding="utf-8")
    monkeypatch.setenv("DESK_PAYERS_DIR", str(folder))
    monkeypatch.setenv("DESK_TIMEZONE", "America/New_York")
    return folder


def write_policy(folder: Path, text: str, *, payer_id: str = "test-payer") -> Path:
    """(Re)write one payer file, moving its modification time on so the policy cache reloads it."""
    path = folder / f"{payer_id}.yaml"
    before = path.stat().st_mtime if path.exists() else 0.0
    path.write_text(text, encoding="utf-8")
    stamp = max(path.stat().st_mtime, before + 1)
    os.utime(path, (stamp, stamp))
    return path


def patient_with_coverage(session: Session, **coverage: Any) -> tuple[Patient, Coverage]:
    """An adult patient with a current MDD diagnosis and a Test Health coverage."""
    patient = make_patient(session)
    make_diagnosis(session, patient=patient)
    values: dict[str, Any] = {"payer_id": "test-payer"}
    values.update(coverage)
    return patient, make_coverage(session, patient=patient, **values)


def draft_case(session: Session, *, indication: str = "TRD", **coverage: Any) -> PriorAuthCase:
    """A new draft case for a new patient."""
    patient, cover = patient_with_coverage(session, **coverage)
    assert patient.id is not None and cover.id is not None
    return open_case(session, patient_id=patient.id, coverage_id=cover.id, indication=indication,
                     phase="initial", actor="tester", now=NOW).case


def approved_case(session: Session, *, patient: Patient | None = None, start: date = date(2026, 11, 1),
                  end: date = date(2027, 4, 30), devices: int | None = 24, sessions: int | None = None,
                  status: str = "approved") -> tuple[PriorAuthCase, PaAuthorization]:
    """An approved case with its authorization row (set up directly, as a data fixture)."""
    if patient is None:
        patient, cover = patient_with_coverage(session)
    else:
        cover = make_coverage(session, patient=patient, payer_id="test-payer")
    case = PriorAuthCase(patient_id=patient.id, coverage_id=cover.id, payer_id="test-payer", plan_type="commercial",
                         indication="TRD", phase="initial", status=status, auth_number=f"A-{patient.id}",
                         auth_start_on=start, auth_end_on=end, approved_devices=devices, approved_sessions=sessions)
    session.add(case)
    session.flush()
    auth = PaAuthorization(case_id=case.id, patient_id=patient.id, auth_number=case.auth_number, start_on=start,
                           end_on=end, approved_devices=devices, approved_sessions=sessions, decided_on=start)
    session.add(auth)
    session.flush()
    return case, auth
