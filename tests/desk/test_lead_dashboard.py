"""The lead's figures, checked against the demo clinic counted by hand from desk/demo_activity.py.

The demo dated 12/02/2026: five first approvals (Cigna 10/28, UHC 11/17, Medical Mutual 11/02, BCBS MA 12/01,
BCBS ND 07/30) and two denials (UHC 11/14, CareFirst 11/07), each decided N days after its submission;
sessions logged for four patients (9 + 4 + 8 + 1), their monitoring forms submitted the next day except the
last few; savings claims paid after two weeks, submitted after one, drafts before that.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from desk import lead_dashboard as figures
from desk.database import make_engine
from desk.demo import load_demo
from desk.rems.config import load_rems_settings

TODAY = date(2026, 12, 2)
ZONE = "America/New_York"


@pytest.fixture(scope="module")
def demo(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("lead") / "demo.sqlite3"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    load_demo(engine, today=TODAY)
    yield engine
    engine.dispose()


def test_approval_rate_and_median_days_by_payer_and_month(demo: Engine) -> None:
    with Session(demo) as session:
        rows = figures.decisions_by_payer_month(session, timezone=ZONE)
    table = {(r["Payer"], r["Month"]): (r["Approved"], r["Denied"], r["Approval rate (%)"],
                                        r["Median days to decision"]) for r in rows}
    assert table == {
        ("Blue Cross Blue Shield of North Dakota", "07/2026"): (1, 0, 100, 5),
        ("Cigna", "10/2026"): (1, 0, 100, 7),
        ("CareFirst BlueCross BlueShield", "11/2026"): (0, 1, 0, 10),
        ("Medical Mutual", "11/2026"): (1, 0, 100, 4),
        ("UnitedHealthcare", "11/2026"): (1, 1, 50, 8.5),
        ("Blue Cross Blue Shield of Massachusetts", "12/2026"): (1, 0, 100, 5),
    }
    assert [r["Month"] for r in rows] == ["07/2026", "10/2026", "11/2026", "11/2026", "11/2026", "12/2026"]


def test_denials_by_reason_and_by_criterion(demo: Engine) -> None:
    with Session(demo) as session:
        reasons = figures.denials_by_reason(session)
        criteria = figures.denials_by_criterion(session)
    assert reasons == [
        {"Reason": "Antidepressant trials are not within the past 5 years.", "Denials": 1},
        {"Reason": "Fewer than three antidepressant trials of 8 weeks in the current episode.", "Denials": 1},
    ]
    texts = [r["Criterion not met"] for r in criteria]
    # UHC wants three antidepressants (the patient has two); CareFirst wants two within five years.
    assert any(t.startswith("In the current episode, trial and failure (or a contraindication) of 3 different")
               for t in texts)
    assert any(t.startswith("Inadequate response in the current episode to 2 antidepressants") and
               "within the past 5 years" in t for t in texts)
    assert all(r["Denied cases"] == 1 for r in criteria)


def test_appeals_expiring_and_devices(demo: Engine) -> None:
    with Session(demo) as session:
        appeals = figures.appeal_outcomes(session)
        expiring = figures.expiring_authorizations(session, today=TODAY)
        devices = figures.devices_authorized_vs_used(session, today=TODAY)
    assert appeals == [{"Level": "Level 1", "Outcome": "Waiting for a decision", "Appeals": 1}]
    # Medical Mutual's 31-day authorization from 11/04 and BCBS MA's 28-day one from today.
    assert [(r["Payer"], r["Ends"], r["Days left"]) for r in expiring] == [
        ("Medical Mutual", "12/04/2026", 2), ("Blue Cross Blue Shield of Massachusetts", "12/29/2026", 27)]
    # Devices: 8 sessions x 2; 1 x 2; 2 + 2 + 3 + 3; 2 + 8 x 3.
    assert [(r["Payer"], r["Authorized"], r["Used"], r["Left"]) for r in devices] == [
        ("Medical Mutual", 24, 16, 8), ("Blue Cross Blue Shield of Massachusetts", 24, 2, 22),
        ("UnitedHealthcare", 16, 10, 6), ("Cigna", 56, 26, 30)]


def test_rems_forms_on_time(demo: Engine) -> None:
    with Session(demo) as session:
        rows = figures.rems_forms_on_time(session, today=TODAY, settings=load_rems_settings())
    # November: 21 sessions, 15 forms sent the next day; the form of 11/23 is past its 7 days; five are not due.
    assert {(r["Month"], r["Forms"]): r["Sessions"] for r in rows} == {
        ("11/2026", "On time"): 15, ("11/2026", "Overdue"): 1, ("11/2026", "Not yet due"): 5,
        ("12/2026", "Not yet due"): 1}


def test_savings_claims_paid_vs_pending(demo: Engine) -> None:
    with Session(demo) as session:
        rows = figures.savings_claims_paid_vs_pending(session)
    # Paid: 6 + 4 sessions two weeks old or more; pending: 2 + 2; drafts: the newest of each patient and the
    # observation rebate; the claim of 11/27 refused.
    assert {r["Status"]: r["Claims"] for r in rows} == {"Paid": 10, "Pending with the program": 4,
                                                        "Not yet submitted": 4, "Denied": 1}
    assert all(r["Month"] == "11/2026" and r["Savings ($)"] > 0 for r in rows)


def test_a_figure_csv_holds_exactly_the_rows_drawn(demo: Engine) -> None:
    with Session(demo) as session:
        rows = figures.expiring_authorizations(session, today=TODAY)
    lines = figures.figure_csv(rows=rows).decode("utf-8-sig").splitlines()
    assert lines[0] == "Patient,Payer,Ends,Days left"
    assert len(lines) == 1 + len(rows) == 3 and "12/04/2026" in lines[1] + lines[2]
