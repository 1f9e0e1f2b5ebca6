"""worklist_render: the PA worklist rendered with AppTest on 5,000 patients / 20,000 cases and on 50 cases.

Targets: the large render <= 1.5 s (median) and large / small <= 3. The worklist must stay aggregate SQL
on indexed columns with paging, so its cost barely grows with the number of cases.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import streamlit as st
from sqlalchemy import insert
from streamlit.testing.v1 import AppTest

from bench.common import Result
from desk.auth import CurrentUser
from desk.database import make_engine, migrate
from desk.models import Coverage, Patient, Site, User
from desk.models.prior_auth import PaAuthorization, PaDeviceEntry, PriorAuthCase
from ui.guard import LAST_SEEN_KEY, USER_KEY

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 1.5
TARGET_RATIO = 3.0
STATUS_MIX = (("draft", 10), ("ready", 3), ("submitted", 8), ("pended", 5), ("info_requested", 4),
              ("approved", 30), ("denied", 6), ("appealed", 3), ("overturned", 2), ("upheld", 2),
              ("cancelled", 7), ("expired", 20))
PAYERS = ("cigna-commercial", "uhc-commercial", "carefirst-bcbs", "highmark-pa", "bcbs-ma", "generic-commercial")


def _seed(url: str, *, patients: int, cases: int, seed: int = 7) -> None:
    """Bulk-load synthetic patients, coverages, cases, authorizations and device entries."""
    migrate(url)
    engine = make_engine(url)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    today = now.date()
    statuses = [s for s, weight in STATUS_MIX for _ in range(weight)]
    with engine.begin() as conn:
        conn.execute(insert(Site), [{"name": "Bench Clinic", "address_line": "1 Bench St", "city": "Springfield",
                                     "state": "IL", "zip_code": "62701", "phone": "", "fax": "", "npi": "", "tin": "",
                                     "rems_setting_id": "RS1", "authorized_representative": "", "version": 1}])
        conn.execute(insert(User), [{"username": "bench", "display_name": "Bench Billing", "email": "",
                                     "roles": "billing", "password_hash": "", "active": True, "is_demo": False,
                                     "failed_attempts": 0, "created_at": now, "version": 1}])
        conn.execute(insert(Patient), [
            {"site_id": 1, "mrn": f"B{n:06d}", "first_name": "Synthetic", "middle_initial": "",
             "last_name": f"Bench{n:05d}", "dob": date(1960, 1, 1) + timedelta(days=n % 15000), "sex": "F",
             "address_line": "", "city": "", "state": "IL", "zip_code": "", "phone": "", "email": "",
             "concurrent_therapies": "", "created_at": now, "version": 1}
            for n in range(patients)])
        conn.execute(insert(Coverage), [
            {"patient_id": n + 1, "payer_id": PAYERS[n % len(PAYERS)], "plan_type": "commercial",
             "benefit": "medical", "member_id": f"M{n:08d}", "group_number": "", "rx_bin": "", "rx_pcn": "",
             "rx_group": "", "priority": "primary", "version": 1}
            for n in range(patients)])
        case_rows: list[dict[str, Any]] = []
        auth_rows: list[dict[str, Any]] = []
        for n in range(cases):
            patient_id = n % patients + 1
            status = rng.choice(statuses)
            created = now - timedelta(days=rng.randint(0, 400), hours=rng.randint(0, 23))
            submitted = created + timedelta(days=2) if status not in ("draft", "ready", "cancelled") else None
            start = (created + timedelta(days=5)).date()
            end = start + timedelta(days=rng.choice((28, 90, 180)))
            approved = status in ("approved", "overturned", "expired")
            if status in ("approved", "overturned") and end < today:
                end = today + timedelta(days=rng.randint(0, 120))
            case_rows.append({
                "patient_id": patient_id, "coverage_id": patient_id, "payer_id": PAYERS[(patient_id - 1) % len(PAYERS)],
                "plan_type": "commercial", "indication": "TRD" if n % 5 else "MDSI",
                "phase": "initial" if n % 3 else "continuation", "urgency": "standard", "dose_mg": 84,
                "sessions_requested": 8, "start_on": start, "status": status, "created_at": created,
                "created_by": "bench", "updated_at": created + timedelta(days=1), "status_changed_at": created,
                "submitted_at": submitted,
                "decision_due_at": submitted + timedelta(days=15) if submitted else None,
                "info_due_on": today + timedelta(days=rng.randint(-3, 10)) if status == "info_requested" else None,
                "auth_number": f"A{n:07d}" if approved else "", "auth_start_on": start if approved else None,
                "auth_end_on": end if approved else None, "approved_devices": 24 if approved else None,
                "approved_sessions": None, "approved_codes": "J0013" if approved else "", "denial_reason": "",
                "appeal_level": 0, "notes": "", "version": 1,
            })
            if approved:
                auth_rows.append({"case_id": n + 1, "patient_id": patient_id, "auth_number": f"A{n:07d}",
                                  "start_on": start, "end_on": end, "approved_devices": 24, "approved_sessions": None,
                                  "approved_codes": "J0013", "decided_on": start, "via_appeal": False})
        conn.execute(insert(PriorAuthCase), case_rows)
        if auth_rows:
            conn.execute(insert(PaAuthorization), auth_rows)
            entries = []
            for auth in auth_rows[: len(auth_rows) // 2]:
                for k in range(rng.randint(1, 7)):
                    day = auth["start_on"] + timedelta(days=3 * k)
                    if day <= today:
                        entries.append({"patient_id": auth["patient_id"], "case_id": auth["case_id"],
                                        "session_date": day, "devices": 3, "note": "", "recorded_by": "bench",
                                        "recorded_at": now})
            if entries:
                conn.execute(insert(PaDeviceEntry), entries)
    engine.dispose()


def _render_ms(url: str, *, repeat: int) -> float:
    """Median wall time of one full AppTest run of the worklist page, signed in as billing."""
    os.environ["DATABASE_URL"] = url
    os.environ["DESK_DEMO"] = "0"
    st.cache_resource.clear()
    samples = []
    for attempt in range(repeat + 1):
        at = AppTest.from_file(str(ROOT / "pages" / "worklist.py"), default_timeout=120)
        at.session_state[USER_KEY] = CurrentUser(1, "bench", "Bench", ("billing",))
        at.session_state[LAST_SEEN_KEY] = datetime.now(UTC)
        started = time.perf_counter()
        at.run()
        elapsed = (time.perf_counter() - started) * 1000
        if at.exception:
            raise RuntimeError(f"worklist failed to render: {at.exception[0].message}")
        if not at.title or at.title[0].value != "Prior authorization worklist" or not at.metric:
            raise RuntimeError("the worklist did not render (sign-in or role check stopped it)")
        if attempt:  # the first run warms the engine and imports
            samples.append(elapsed)
    st.cache_resource.clear()
    return statistics.median(samples)


def run(quick: bool) -> Iterator[Result]:
    patients, cases = (1_000, 4_000) if quick else (5_000, 20_000)
    repeat = 3 if quick else 7
    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "DESK_DEMO")}
    with tempfile.TemporaryDirectory() as folder:
        large = f"sqlite:///{Path(folder) / 'large.sqlite3'}"
        small = f"sqlite:///{Path(folder) / 'small.sqlite3'}"
        _seed(large, patients=patients, cases=cases)
        _seed(small, patients=50, cases=50)
        try:
            small_ms = _render_ms(small, repeat=repeat)
            large_ms = _render_ms(large, repeat=repeat)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    yield Result("worklist_render", "render_50_cases", small_ms, "ms")
    yield Result("worklist_render", f"render_{cases}_cases_{patients}_patients", large_ms, "ms",
                 baseline=TARGET_SECONDS * 1000)
    yield Result("worklist_render", "ratio_large_to_small", large_ms / small_ms, "x", baseline=TARGET_RATIO)
