"""fhir_import: a bulk FHIR export of 5,000 patients x 20 medication resources (NDJSON) read, reviewed and
accepted into a fresh SQLite file. Goal: <= 60 s in all on this machine, memory bounded (files streamed).

Figures: read seconds (parse, validate with fhir.resources, assemble trials), review-and-accept seconds (match
by MRN, compare, write through the record services with provenance and audit), total, resources per second,
the process's CPU time for both (wall time on a shared machine includes waiting for a core), and the growth of
the process's peak resident memory while reading.
"""

from __future__ import annotations

import resource
import tempfile
import time
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from bench.common import Result
from desk.database import make_engine, migrate, unit_of_work
from desk.demo_ehr import bulk_export_rows, write_ndjson
from desk.fhir.ehr_import import SourceFile, read_fhir_export
from desk.history.accept import accept_reviews
from desk.history.review import match_patient, review_patients
from desk.models import Patient, Site

TODAY = date(2026, 12, 2)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(quick: bool) -> Iterable[Result]:
    patients = 500 if quick else 5_000
    per_patient = 20
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        files = write_ndjson(bulk_export_rows(patients=patients, medications_per_patient=per_patient, today=TODAY),
                             root / "export")
        size_mb = sum(f.stat().st_size for f in files) / (1024 * 1024)
        url = f"sqlite:///{root / 'desk.sqlite3'}"
        migrate(url)
        engine = make_engine(url)
        with unit_of_work(engine, actor="bench") as session:
            site = Site(name="Bench", npi="1234567893", address_line="1 Main St", city="Springfield", state="IL",
                        zip_code="62701", phone="2175550100")
            session.add(site)
            session.flush()
            session.add_all([Patient(site_id=site.id or 0, mrn=f"BULK-{i:06d}", first_name="Example",
                                     last_name="Bulk", dob=date(1980, 1, 1), sex="F") for i in range(patients)])
        before = _peak_mb()
        cpu = time.process_time()
        start = time.perf_counter()
        pending = read_fhir_export([SourceFile(f.name, path=f) for f in files], today=TODAY, known_payers=[],
                                   max_mb=1024)
        read_s = time.perf_counter() - start
        read_cpu = time.process_time() - cpu
        growth = _peak_mb() - before
        start = time.perf_counter()
        with unit_of_work(engine, actor="bench") as session:
            items = [(history, match_patient(session, history.identity)) for history in pending.patients]
            reviews = review_patients(session, items=items, known_payers=[], today=TODAY)
            results = accept_reviews(session, reviews=reviews, known_payers=[], imported_on=TODAY, kind="fhir",
                                     today=TODAY)
            written = sum(result.written for result in results)
        accept_s = time.perf_counter() - start
        cpu_s = time.process_time() - cpu
        engine.dispose()
    resources = pending.resources_read
    yield Result("fhir_import", f"read {patients} patients x {per_patient} medication resources", read_s, "s")
    yield Result("fhir_import", "review and accept (match, compare, write)", accept_s, "s")
    yield Result("fhir_import", "total", read_s + accept_s, "s", baseline=60.0)
    # Wall time depends on what else the machine runs; CPU time of this process does much less.
    yield Result("fhir_import", "CPU time of this process (read, review, accept)", cpu_s, "s", baseline=60.0)
    yield Result("fhir_import", "CPU time of this process: read", read_cpu, "s")
    yield Result("fhir_import", "CPU time of this process: review and accept", cpu_s - read_cpu, "s")
    yield Result("fhir_import", "resources read per second", resources / read_s, "1/s")
    yield Result("fhir_import", "trials written", written, "rows")
    yield Result("fhir_import", "export size", size_mb, "MB")
    yield Result("fhir_import", "peak memory growth while reading", growth, "MB")
