"""Fixtures for the PDF tests: our forms directory, the third-party fixtures, generous limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from desk.pdf.inspect import PdfLimits
from desk.settings import PROJECT_ROOT


@pytest.fixture(scope="session")
def forms_dir() -> Path:
    """The project's forms/ directory (templates and field maps)."""
    return PROJECT_ROOT / "forms"


@pytest.fixture(scope="session")
def fixtures_pdf(shared_dir: Path) -> Path:
    """Third-party fillable PDFs, read in place from shared/fixtures/pdf."""
    return shared_dir / "fixtures" / "pdf"


@pytest.fixture
def limits() -> PdfLimits:
    """The default upload limits."""
    return PdfLimits()
