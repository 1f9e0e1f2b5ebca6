"""Fixtures for the policy engine: the real drug reference and the shipped payer files."""

from __future__ import annotations

from pathlib import Path

import pytest

from desk.policies.drugs import ReferenceDrugs, default_drugs
from desk.policies.loader import PolicyCatalog, load_catalog

ROOT = Path(__file__).resolve().parents[3]
PAYERS = ROOT / "payers"


@pytest.fixture(scope="session")
def drugs() -> ReferenceDrugs:
    """The shipped drug reference data."""
    return default_drugs()


@pytest.fixture(scope="session")
def catalog(drugs: ReferenceDrugs) -> PolicyCatalog:
    """Every policy file shipped in payers/."""
    return load_catalog([PAYERS], drugs=drugs)
