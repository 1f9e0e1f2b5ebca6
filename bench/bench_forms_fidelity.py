"""Share of (PDF, field) pairs drawn right when every field of every corpus and shared-fixture PDF is filled
with multi-script values (desk.pdf.fidelity). Goal: 100 %."""

from __future__ import annotations

from collections.abc import Iterable

from bench.common import Result
from desk.pdf.fidelity import check_form
from desk.settings import PROJECT_ROOT


def run(quick: bool) -> Iterable[Result]:
    corpus = sorted((PROJECT_ROOT / "tests" / "desk" / "pdf" / "corpus").glob("*.pdf"))
    shared = sorted(p for p in (PROJECT_ROOT.parent / "shared" / "fixtures" / "pdf").glob("*.pdf")
                    if "password" not in p.name)
    paths = (corpus + shared)[:6] if quick else corpus + shared
    right = total = 0
    for path in paths:
        result = check_form(path.read_bytes(), source=path.name)
        right += result.drawn_right
        total += len(result.fields) or 1  # a PDF the filler refuses counts as one pair drawn wrong
    yield Result("forms_fidelity", f"share of (PDF, field) pairs drawn right, {len(paths)} PDFs, {total} pairs",
                 100.0 * right / max(total, 1), "%")
