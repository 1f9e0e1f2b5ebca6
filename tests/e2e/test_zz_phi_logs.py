"""No PHI and no password in what the live server wrote: its log, its audit rows, and the names of its files.

The module's name sorts it after every other browser test, so the server log it reads holds the output of the
whole end-to-end run; it also does the PHI-heavy things itself (search by name and by birth date, open a
record, a failed sign-in) so that it proves something when run on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, col, select

from desk.database import make_engine
from desk.demo import DEMO_PASSWORD
from desk.models import AuditEvent, Patient
from tests.e2e.conftest import ROOT, LiveServer, sign_in, wait_for_app


@dataclass(frozen=True)
class Needle:
    """One identifier to look for, and the words a failure may use to describe it (never the value)."""

    kind: str
    pattern: re.Pattern[str]


def _word(value: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z]){re.escape(value)}(?![A-Za-z])", re.IGNORECASE)


def _date_formats(day: date) -> list[str]:
    return [day.isoformat(), f"{day:%m/%d/%Y}", f"{day.month}/{day.day}/{day.year}", f"{day:%m-%d-%Y}",
            f"{day:%Y%m%d}"]


def _demo_patients(database_url: str) -> list[tuple[str, str, date]]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            rows = session.exec(select(Patient.first_name, Patient.last_name, Patient.dob)).all()
    finally:
        engine.dispose()
    return [(first, last, dob) for first, last, dob in rows]


def _needles(patients: Iterable[tuple[str, str, date]]) -> list[Needle]:
    needles = [Needle("the demo password", re.compile(re.escape(DEMO_PASSWORD)))]
    for first, last, dob in patients:
        needles.append(Needle("a patient first name", _word(first)))
        needles.append(Needle("a patient last name", _word(last)))
        needles += [Needle("a patient birth date", re.compile(rf"(?<!\d){re.escape(text)}(?!\d)"))
                    for text in _date_formats(dob)]
    return needles


def _findings(lines: Iterable[str], needles: list[Needle]) -> list[str]:
    """'line N: <kind>' for every line holding an identifier (the identifier itself is not repeated)."""
    found = []
    for number, line in enumerate(lines, start=1):
        kinds = sorted({needle.kind for needle in needles if needle.pattern.search(line)})
        if kinds:
            found.append(f"line {number}: {', '.join(kinds)}")
    return found


@pytest.fixture(scope="module")
def patients(live_server: LiveServer, chromium_page: Page) -> list[tuple[str, str, date]]:
    """(first name, last name, birth date) of every demo patient in the live server's database."""
    # The server migrates and loads the demo data on its first page run.
    chromium_page.goto(live_server.base_url)
    expect(chromium_page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    rows = _demo_patients(live_server.database_url)
    assert len(rows) >= 20, "the demo data should hold the invented patients"
    return rows


@pytest.fixture(scope="module")
def exercised(live_server: LiveServer, chromium_page: Page, patients: list[tuple[str, str, date]]) -> None:
    """Search by name and by birth date, open a record, and fail one sign-in, through the browser."""
    page = chromium_page
    first, last, dob = patients[0]
    sign_in(page, live_server.base_url, "nurse", "wrong " + DEMO_PASSWORD)
    sign_in(page, live_server.base_url, "billing", DEMO_PASSWORD)
    page.locator("[data-testid=stSidebarNav]").get_by_text("Patients", exact=True).click()
    page.get_by_role("heading", name="Patients", exact=True).wait_for()
    wait_for_app(page)
    search = page.get_by_role("textbox", name="Search")
    everyone = f"{len(patients)} patient(s)"
    fresh_count = page.locator("[data-testid=stElementContainer][data-stale=false]")
    for query in (last, f"{dob:%m/%d/%Y}", f"{last}, {first}"):
        # Alternate between the whole list and a search, so each wait ends on this query's own result.
        search.fill("")
        search.press("Enter")
        expect(fresh_count.filter(has_text=re.compile(rf"^{re.escape(everyone)}$"))).to_be_visible()
        search.fill(query)
        search.press("Enter")
        searched = re.compile(rf"^(?!{re.escape(everyone)}$)\d+ patient\(s\)$")
        expect(fresh_count.filter(has_text=searched)).to_be_visible()
        wait_for_app(page)
    page.get_by_role("button", name="Open record").click()
    page.locator("[data-testid=stMain] h1").filter(has_text=f"{last}, {first}").wait_for()
    wait_for_app(page)
    expect(page.get_by_role("heading", name=f"{last}, {first}")).to_be_visible()


@pytest.fixture(scope="module")
def chromium_page(chromium: Browser) -> Iterator[Page]:
    """A page of its own for this module."""
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


def test_server_log_has_no_patient_identifier_or_password(
    live_server: LiveServer, exercised: None, patients: list[tuple[str, str, date]]
) -> None:
    lines = live_server.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    assert lines, "the server wrote nothing at all; is its output captured?"
    findings = _findings(lines, _needles(patients))
    assert not findings, f"{live_server.log_path} holds identifiers:\n" + "\n".join(findings)


def test_audit_rows_have_no_patient_identifier_or_password(
    live_server: LiveServer, exercised: None, patients: list[tuple[str, str, date]]
) -> None:
    engine = make_engine(live_server.database_url)
    try:
        with Session(engine) as session:
            events = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
    finally:
        engine.dispose()
    assert events, "the browser tests should have left audit rows"
    rows = [" | ".join(str(value) for value in event.model_dump().values()) for event in events]
    findings = _findings(rows, _needles(patients))
    assert not findings, "audit rows (numbered in id order) hold identifiers:\n" + "\n".join(findings)


def _files(*folders: Path) -> Iterator[Path]:
    for folder in folders:
        if folder.is_dir():
            yield from folder.rglob("*")


def test_no_file_name_carries_a_patient_name(
    live_server: LiveServer, exercised: None, patients: list[tuple[str, str, date]]
) -> None:
    patterns = [re.compile(rf"(?<![a-z]){re.escape(part.lower())}(?![a-z])")
                for first, last, _dob in patients for part in (first, last)]
    dates = {text for *_names, dob in patients for text in _date_formats(dob)}
    data_dir = Path(live_server.database_url.split("///", 1)[1]).parent
    offenders = []
    for path in _files(ROOT / "artifacts", data_dir, ROOT / "data"):
        name = path.name.lower()
        if any(pattern.search(name) for pattern in patterns) or any(text in name for text in dates):
            offenders.append(str(path.relative_to(path.anchor)))
    assert not offenders, f"{len(offenders)} file name(s) carry a patient name or birth date: " + ", ".join(
        "…/" + Path(o).parent.name for o in offenders)


def test_the_scan_finds_each_identifier_and_reports_only_where() -> None:
    needles = _needles([("Avery", "Sampleton", date(1980, 5, 7))])
    lines = ["GET /_stcore/health 200", "search for sampleton", "name=Sampleton", "dob 05/07/1980",
             "dob 5/7/1980", "dob 1980-05-07", "Avery signed", "login spravato-demo", "id 1980-05-071"]
    found = _findings(lines, needles)
    assert found == ["line 2: a patient last name", "line 3: a patient last name", "line 4: a patient birth date",
                     "line 5: a patient birth date", "line 6: a patient birth date", "line 7: a patient first name",
                     "line 8: the demo password"]
    assert not any("Sampleton" in f or "1980" in f for f in found)
