"""Many processes updating the same rows through the real service functions (used by the test and the benchmark).

Each worker process repeats: read the row and its version in one unit of work, then save a change based on
what it read in another, passing `expected_version`. A save whose read went stale in between is refused, either
by the service (`StaleEdit`) or by the ORM's version column at flush time (`StaleDataError`); the worker then
re-reads and tries again. Every successful save adds exactly one visible mark, so after the run the marks
must equal the successful saves: a difference is a lost update.

- PA cases (desk.prior_auth.cases.save_notes): each save appends a unique token to the case notes.
- REMS treatment sessions (desk.rems.sessions.record_session): each save re-records the whole session log with
  the lot number's counter one higher than it read (LOT-0, LOT-1, ...).
"""

from __future__ import annotations

import multiprocessing
import sys
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from desk.database import make_engine, unit_of_work
from desk.errors import StaleEdit
from desk.models import PriorAuthCase, TreatmentSession
from desk.prior_auth.cases import save_notes
from desk.rems.config import RemsSettings
from desk.rems.sessions import record_session
from tests.desk.rems.conftest import NURSE, full_session
from tests.factories import make_coverage, make_enrollment, make_patient, make_prescriber, make_site

KINDS = ("pa_case", "treatment_session")
REMS_SETTINGS = RemsSettings(timezone="America/New_York")
# After the session day of tests.desk.rems.conftest.full_session, so the log is complete and valid.
RECORDED_AT = datetime(2026, 3, 10, 22, 0, tzinfo=UTC)


@dataclass
class Counts:
    """What one worker (or all of them) did."""

    attempts: int = 0
    saved: int = 0
    stale_edit: int = 0
    stale_data: int = 0

    @property
    def conflicts(self) -> int:
        return self.stale_edit + self.stale_data

    @property
    def retries(self) -> int:
        return self.attempts - self.saved

    def add(self, other: Counts) -> None:
        self.attempts += other.attempts
        self.saved += other.saved
        self.stale_edit += other.stale_edit
        self.stale_data += other.stale_data


@dataclass(frozen=True)
class Outcome:
    """The totals of one run and what the database shows afterwards."""

    kind: str
    workers: int
    updates_per_worker: int
    counts: Counts
    marks: int
    duplicate_marks: int
    seconds: float

    @property
    def lost_updates(self) -> int:
        return self.counts.saved - self.marks


def prepare(url: str, *, rows: int) -> dict[str, list[int]]:
    """`rows` PA cases and `rows` recorded treatment sessions (one patient each), committed; their ids by kind."""
    engine = make_engine(url)
    ids: dict[str, list[int]] = {kind: [] for kind in KINDS}
    try:
        with unit_of_work(engine, actor="tester") as session:
            site = make_site(session)
            on_site = make_prescriber(session, site_id=site.id)
            for _ in range(rows):
                patient = make_patient(session, site=site)
                coverage = make_coverage(session, patient=patient)
                make_enrollment(session, patient=patient)
                case = PriorAuthCase(patient_id=patient.id, coverage_id=coverage.id, payer_id=coverage.payer_id,
                                     plan_type="commercial", indication="TRD", phase="initial")
                session.add(case)
                session.flush()
                assert patient.id is not None and site.id is not None and case.id is not None
                logged = record_session(session, user=NURSE, data=full_session(patient.id, site.id, on_site.id,
                                                                                 lot_number="LOT-0"),
                                        now=RECORDED_AT, settings=REMS_SETTINGS)
                ids["pa_case"].append(case.id)
                ids["treatment_session"].append(int(logged.id or 0))
    finally:
        engine.dispose()
    return ids


def _read(engine: Any, kind: str, row_id: int) -> tuple[int, Any]:
    with Session(engine) as session:
        if kind == "pa_case":
            case = session.get(PriorAuthCase, row_id)
            assert case is not None
            return case.version, case.notes
        ts = session.get(TreatmentSession, row_id)
        assert ts is not None
        return ts.version, int(ts.lot_number.removeprefix("LOT-"))


def _save(engine: Any, kind: str, row_id: int, version: int, read: Any, token: str) -> None:
    with unit_of_work(engine, actor=f"worker-{token.split('-')[0]}") as session:
        if kind == "pa_case":
            save_notes(session, case_id=row_id, expected_version=version, notes=f"{read} {token}")
        else:
            ts = session.get(TreatmentSession, row_id)
            assert ts is not None
            data = replace(full_session(ts.patient_id, ts.site_id, ts.prescriber_on_site_id),
                           lot_number=f"LOT-{int(read) + 1}")
            record_session(session, user=NURSE, data=data, session_id=row_id, expected_version=version,
                           now=RECORDED_AT, settings=REMS_SETTINGS)


def worker(url: str, kind: str, row_ids: list[int], updates: int, number: int, start: Any, results: Any) -> None:
    """Make `updates` successful saves spread over `row_ids`, retrying every refused one; report Counts."""
    engine = make_engine(url)
    counts = Counts()
    start.wait()
    try:
        for step in range(updates):
            row_id = row_ids[(step + number) % len(row_ids)]
            token = f"w{number}-{step}"
            while True:
                counts.attempts += 1
                version, read = _read(engine, kind, row_id)
                try:
                    _save(engine, kind, row_id, version, read, token)
                except StaleEdit:
                    counts.stale_edit += 1
                    continue
                except StaleDataError:
                    counts.stale_data += 1
                    continue
                counts.saved += 1
                break
        results.put((number, asdict(counts), None))
    except BaseException as exc:  # reported to the parent, which fails the run
        results.put((number, asdict(counts), f"{type(exc).__name__}: {exc}"))
    finally:
        engine.dispose()


def _marks(url: str, kind: str, row_ids: list[int], initial: dict[int, Any]) -> tuple[int, int]:
    """(marks visible now, marks seen more than once)."""
    engine = make_engine(url)
    try:
        if kind == "pa_case":
            tokens = [token for row_id in row_ids for token in str(_read(engine, kind, row_id)[1]).split()]
            return len(set(tokens)), len(tokens) - len(set(tokens))
        return sum(int(_read(engine, kind, row_id)[1]) - int(initial[row_id]) for row_id in row_ids), 0
    finally:
        engine.dispose()


@contextmanager
def _neutral_main() -> Iterator[None]:
    """Spawned workers re-import the parent's __main__; after AppTest that can be a page script."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def run(url: str, *, kind: str, row_ids: list[int], workers: int, updates: int, timeout_s: float = 1800) -> Outcome:
    """`workers` processes x `updates` saves on the same rows; the counts and the marks left behind."""
    context = multiprocessing.get_context("spawn")
    initial_engine = make_engine(url)
    initial = {row_id: _read(initial_engine, kind, row_id)[1] for row_id in row_ids}
    initial_engine.dispose()
    start = context.Barrier(workers + 1)
    results = context.Queue()
    processes = [context.Process(target=worker, args=(url, kind, row_ids, updates, n, start, results))
                 for n in range(workers)]
    with _neutral_main():
        for process in processes:
            process.start()
    start.wait(timeout=120)
    began = time.perf_counter()
    total = Counts()
    errors = []
    for _ in processes:
        number, counts, error = results.get(timeout=timeout_s)
        total.add(Counts(**counts))
        if error:
            errors.append(f"worker {number}: {error}")
    seconds = time.perf_counter() - began
    for process in processes:
        process.join(timeout=60)
    if errors:
        raise RuntimeError("; ".join(errors))
    marks, duplicates = _marks(url, kind, row_ids, initial)
    return Outcome(kind, workers, updates, total, marks, duplicates, seconds)
