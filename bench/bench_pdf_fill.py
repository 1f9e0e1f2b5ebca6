"""Fill + flatten the REMS worksheet: the desk's fill_form against pikepdf alone, in the same run.

The baseline fills the same values with `pikepdf.form.Form` (qpdf appearances) and flattens with
qpdf: what the desk adds on top is the field-map resolution, checks and the on-state handling.
Targets: median <= 30 ms and <= 1.2x the baseline.
"""

from __future__ import annotations

import copy
import io
import statistics
import time
from collections.abc import Callable, Iterable
from typing import Any

import pikepdf
from pikepdf.form import DefaultAppearanceStreamGenerator, Form

from bench.common import Result
from desk.pdf.fieldmap import load_field_map
from desk.pdf.fill import fill_form, resolve_values
from desk.pdf.inspect import fields_of
from desk.pdf.sample_data import sample_rems_session
from desk.pdf.source import open_bytes
from desk.settings import PROJECT_ROOT


def _baseline(template: bytes, values: dict[str, Any], *, same_input: bool = False) -> bytes:
    with (open_bytes(template) if same_input else pikepdf.open(io.BytesIO(template))) as pdf:
        form = Form(pdf, DefaultAppearanceStreamGenerator)
        for name, value in values.items():
            field = form[name]
            if isinstance(value, bool):
                field.checked = value
            elif name == "dose" or name == "patient_sex":
                if value is not None:
                    field.value = pikepdf.Name("/" + value)
            else:
                field.value = value
        pdf.flatten_annotations(mode="all")
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


def run(quick: bool) -> Iterable[Result]:
    forms = PROJECT_ROOT / "forms"
    template = (forms / "rems_pmf.pdf").read_bytes()
    field_map = load_field_map(forms / "rems_pmf.yaml")
    data = sample_rems_session()
    values = resolve_values(field_map=field_map, fields={f.name: f for f in fields_of(template)}, data=data)
    repeat = 15 if quick else 60
    unicode_data = copy.deepcopy(data)
    unicode_data["patient"].update(first_name="Hương", last_name="Nguyễn Thị")
    baseline, same_input, ours, unicode_ms = interleaved_medians_ms(
        [
            lambda: _baseline(template, values),
            lambda: _baseline(template, values, same_input=True),
            lambda: fill_form(template=template, field_map=field_map, data=data, flatten=True),
            # Names only the embedded fallback font can draw (its subset is cached after the first fill).
            lambda: fill_form(template=template, field_map=field_map, data=unicode_data, flatten=True),
        ],
        repeat=repeat,
    )
    yield Result("pdf_fill", "rems_pmf fill+flatten median (pikepdf alone as baseline)", ours, "ms", baseline)
    yield Result("pdf_fill", "rems_pmf fill+flatten median, Vietnamese name (fallback font)", unicode_ms, "ms",
                 baseline)
    # The desk opens bytes through an in-memory file (desk.pdf.source); the same route for pikepdf alone
    # shows what the desk's own checks, plan and text layout add.
    yield Result("pdf_fill", "rems_pmf fill+flatten median against pikepdf alone on the same in-memory input",
                 ours, "ms", same_input)


def interleaved_medians_ms(actions: list[Callable[[], object]], *, repeat: int) -> list[float]:
    """Median wall time of each action, run in turn within every round, so that load from other processes
    on the shared machine falls on all of them alike."""
    for action in actions:
        action()
    samples: list[list[float]] = [[] for _ in actions]
    for _ in range(repeat):
        for index, action in enumerate(actions):
            start = time.perf_counter()
            action()
            samples[index].append((time.perf_counter() - start) * 1000)
    return [statistics.median(s) for s in samples]
