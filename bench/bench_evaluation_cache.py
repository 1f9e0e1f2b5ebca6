"""evaluation_cache: a patient's payer criteria drawn first vs redrawn on a rerun (kept per facts version).

On the demo data (SQLite): the record's "Payer criteria" tab (each coverage's payer and every payer side by side)
and a PA case checklist, for 10 patients / cases; CPU milliseconds per draw, first (empty cache) and rerun.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path

from sqlmodel import select

from bench.common import Result
from desk.database import make_engine, migrate, unit_of_work
from desk.demo import load_demo
from desk.evaluation_cache import clear_evaluation_cache
from desk.models.prior_auth import PriorAuthCase
from desk.policies.drugs import default_drugs
from desk.policies.eligibility import coverage_eligibility, every_payer
from desk.policies.loader import load_catalog
from desk.prior_auth.checklist import case_checklist
from desk.settings import PROJECT_ROOT


def _cpu_ms(action: Callable[[int], object], items: Sequence[int]) -> float:
    start = time.process_time()
    for item in items:
        action(item)
    return (time.process_time() - start) / len(items) * 1000


def run(quick: bool) -> Iterable[Result]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'desk.sqlite3'}"
        migrate(url)
        engine = make_engine(url)
        load_demo(engine)
        drugs = default_drugs()
        catalog = load_catalog([PROJECT_ROOT / "payers"], drugs=drugs)
        today = date.today()
        with unit_of_work(engine, actor="bench") as session:
            cases = session.exec(select(PriorAuthCase).order_by(PriorAuthCase.id)).all()  # type: ignore[arg-type]
        count = 3 if quick else 10
        patients = sorted({c.patient_id for c in cases})[:count]
        case_ids = [c.id or 0 for c in cases][:count]

        def tab(patient_id: int) -> None:
            with unit_of_work(engine, actor="bench") as session:
                coverage_eligibility(session, patient_id=patient_id, catalog=catalog, drugs=drugs, indication="trd",
                                     phase="initial", as_of=today)
                every_payer(session, patient_id=patient_id, catalog=catalog, drugs=drugs, indication="trd",
                            phase="initial", as_of=today)

        def checklist(case_id: int) -> None:
            with unit_of_work(engine, actor="bench") as session:
                case = session.get(PriorAuthCase, case_id)
                assert case is not None
                case_checklist(session, case=case, as_of=today)

        for name, action, items in (("payer_criteria_tab", tab, patients), ("pa_case_checklist", checklist, case_ids)):
            clear_evaluation_cache()
            first = _cpu_ms(action, items)
            rerun = _cpu_ms(action, items)
            yield Result("evaluation_cache", f"{name}_first_draw_cpu", first, "ms")
            yield Result("evaluation_cache", f"{name}_rerun_cpu", rerun, "ms")
            yield Result("evaluation_cache", f"{name}_first_over_rerun", first / rerun, "x")
        engine.dispose()
