"""Render a PDF page to PNG with poppler's pdftoppm (previews of filled forms)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path


def render_page_png(pdf: bytes, *, page: int = 1, dpi: int = 60) -> bytes | None:
    """PNG bytes of one page, or None when pdftoppm is not installed or cannot render the file."""
    binary = shutil.which("pdftoppm")
    if binary is None:
        return None
    with tempfile.TemporaryDirectory(prefix="desk-render-") as tmp:
        source = Path(tmp) / "in.pdf"
        source.write_bytes(pdf)
        target = Path(tmp) / "page"
        result = subprocess.run(
            [binary, "-r", str(dpi), "-png", "-f", str(page), "-l", str(page), "-singlefile", str(source), str(target)],
            capture_output=True,
            timeout=30,
            check=False,
        )
        png = target.with_suffix(".png")
        if result.returncode != 0 or not png.exists():
            return None
        return png.read_bytes()
