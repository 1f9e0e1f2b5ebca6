"""The Today screen's summaries: prior authorizations, savings, REMS and administration, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from desk.demo import load_demo
from desk.models import TreatmentSession, User
from desk.models.rems import SessionDevice
from desk.prior_auth.worklist import todays_actions
from desk.rems.config import RemsSettings
from desk.rems.dashboard import blocked_patients
from desk.rems.pmf import forms_due_soon, forms_overdue
from desk.savings.worklist import claims_waiting_for_eob, denied_claims, expiring_enrollments
from desk.today import (
    BLOCK_TITLES,
    admin_today,
    due_in_words,
    prior_auth_today,
    rems_today,
    savings_today,
    session_to_open,
)
from tests.desk.prior_auth.conftest import approved_case
from tests.factories import make_enrollment, make_patient, make_site, make_user

ZONE = ZoneInfo("America/New_York")
TODAY = date(2026, 11, 2)
# load_demo's moment when only the day is given: mid-afternoon in the clinic's zone.
NOW = datetime.combine(TODAY, time(15, 0), tzinfo=ZONE)
SETTINGS = RemsSettings(timezone="America/New_York")


@pytest.fixture(autouse=True)
def clinic_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clinic's time zone the demo data and the expected dates are computed in."""
    monkeypatch.setenv("DESK_TIMEZONE", "America/New_York")


@pytest.fixture
def demo(engine: Engine) -> Engine:
    """The demo data loaded on a fixed day; yields the engine it was loaded into."""
    load_demo(engine, today=TODAY, now=NOW)
    return engine


@pytest.mark.parametrize(("days_left", "words"), [
    (0, "due today"), (1, "1 day left"), (2, "2 days left"), (-1, "1 day late"), (-9, "9 days late"),
])
def test_due_in_words(days_left: int, words: str) -> None:
    assert due_in_words(days_left) == words


def test_prior_auth_counts_are_the_worklist_totals(demo: Engine) -> None:
    with Session(demo) as session:
        summary = prior_auth_today(session, now=NOW, today=TODAY, timezone="America/New_York", default_lead_days=21,
                                   draft_idle_days=7)
        worklist = todays_actions(session, now=NOW, today=TODAY, timezone="America/New_York", default_lead_days=21,
                                  draft_idle_days=7)
    assert [a.key for a in summary.actions] == ["overdue", "info_due", "expiring", "idle_drafts", "devices_low",
                                                     "policy_changed"]
    assert [(a.title, a.total) for a in summary.actions] == [(w.title, w.total) for w in worklist.values()]
    # Every category but "policy changed" (no payer file changes while the demo is loaded) has demo cases.
    assert all(a.total > 0 for a in summary.actions if a.key != "policy_changed"), "the demo has every category"
    assert summary.total == sum(w.total for w in worklist.values())


def test_savings_counts_and_amounts(demo: Engine) -> None:
    with Session(demo) as session:
        summary = savings_today(session, today=TODAY)
        waiting = claims_waiting_for_eob(session)
        expiring = expiring_enrollments(session, today=TODAY, within_days=30)
        denied = denied_claims(session)
    lines = {line.key: line for line in summary.lines}
    assert list(lines) == ["waiting_for_eob", "expiring", "denied"]
    assert (lines["waiting_for_eob"].count, lines["expiring"].count, lines["denied"].count) == (
        len(waiting), len(expiring), len(denied))
    assert all(line.count > 0 for line in summary.lines)
    assert lines["waiting_for_eob"].amount_cents == sum(i.amount_cents or 0 for i in waiting) > 0
    assert lines["denied"].amount_cents == sum(i.amount_cents or 0 for i in denied) > 0
    assert lines["expiring"].amount_cents is None, "an expiring card has no amount"


def test_rems_day_of_the_demo_clinic(demo: Engine) -> None:
    with Session(demo) as session:
        summary = rems_today(session, today=TODAY, now=NOW, settings=SETTINGS)
        overdue = forms_overdue(session, today=TODAY, settings=SETTINGS)
        due_soon = forms_due_soon(session, today=TODAY, settings=SETTINGS)
        blocked = blocked_patients(session, today=TODAY)
        todays = session.exec(select(TreatmentSession).where(TreatmentSession.session_date == TODAY)).all()
    assert {s.session_id for s in summary.sessions} == {ts.id for ts in todays}
    under_way = [s for s in summary.sessions if s.stage == "under way"]
    assert under_way and all(s.status.startswith("Under way: ") and "min since the first device" in s.status
                             for s in under_way)
    assert [f.session_id for f in summary.forms_overdue] == [f.session_id for f in overdue]
    assert [f.session_id for f in summary.forms_due_soon] == [f.session_id for f in due_soon]
    assert all(f.due_text.endswith("late") for f in summary.forms_overdue)
    assert all(f.due_text == "due today" or f.due_text.endswith("left") for f in summary.forms_due_soon)
    assert all(f.patient != "Patient" for f in (*summary.forms_overdue, *summary.forms_due_soon))
    assert [(b.patient_id, b.reason) for b in summary.blocked] == [(b.patient.id, b.reason) for b in blocked]
    kinds = {b.kind for b in summary.blocked}
    assert {"enrollment", "no_authorization"} <= kinds <= set(BLOCK_TITLES)
    assert all(b.kind == "no_authorization" for b in summary.blocked if b.reason.startswith("No approved"))
    grouped = summary.blocked_by_patient()
    assert [first.patient_id for first, _ in grouped] == list(dict.fromkeys(b.patient_id for b in summary.blocked))
    assert summary.blocked_count() == len(grouped) < len(summary.blocked), "one demo patient is blocked twice"
    assert sum(len(reasons) for _, reasons in grouped) == len(summary.blocked)


def test_devices_exhausted_is_its_own_kind(session: Session) -> None:
    patient = make_patient(session)
    make_enrollment(session, patient=patient)
    approved_case(session, patient=patient, start=TODAY - timedelta(days=30), end=TODAY + timedelta(days=60),
                  devices=2)
    used = TreatmentSession(patient_id=patient.id, site_id=patient.site_id, session_date=TODAY - timedelta(days=3),
                            dose_mg=56, devices=2, pmf_status="submitted")
    session.add(used)
    session.flush()
    for n in (1, 2):
        session.add(SessionDevice(treatment_session_id=used.id, sequence=n,
                                  administered_at=datetime.combine(used.session_date, time(14, 5 * n), tzinfo=UTC)))
    session.commit()
    summary = rems_today(session, today=TODAY, now=NOW, settings=SETTINGS)
    assert [(b.patient_id, b.kind) for b in summary.blocked] == [(patient.id, "devices_exhausted")]
    assert summary.blocked_count("devices_exhausted") == 1 and summary.blocked_count("enrollment") == 0
    assert summary.sessions == () and summary.forms_overdue == ()


def test_admin_sees_certification_gaps_and_locked_accounts(session: Session, fast_hasher: PasswordHasher) -> None:
    make_site(session, name="Lakeside Clinic", rems_setting_id="", rems_certified_on=None)
    locked = make_user(session, hasher=fast_hasher, display_name="Locked Out", locked_until=NOW + timedelta(minutes=10))
    make_user(session, hasher=fast_hasher, locked_until=NOW - timedelta(minutes=1))
    make_user(session, hasher=fast_hasher, active=False, locked_until=NOW + timedelta(minutes=10))
    session.commit()
    summary = admin_today(session, now=NOW)
    assert summary.certification_warnings == (
        "Lakeside Clinic: REMS outpatient-setting certification id and date not recorded. "
        "Treatment sessions need a certified setting.",
    )
    assert [(a.user_id, a.display_name) for a in summary.locked_accounts] == [(locked.id, "Locked Out")]
    assert summary.locked_accounts[0].locked_until == NOW + timedelta(minutes=10)


def test_admin_has_nothing_to_fix_in_the_demo_clinic(demo: Engine) -> None:
    with Session(demo) as session:
        assert session.exec(select(User)).first() is not None
        summary = admin_today(session, now=NOW)
    assert summary.certification_warnings == () and summary.locked_accounts == ()


def _logged(session_id: int, first: datetime | None, discharged: datetime | None) -> TreatmentSession:
    return TreatmentSession(id=session_id, patient_id=1, site_id=1, session_date=TODAY, dose_mg=56, devices=2,
                            first_device_at=first, discharged_at=discharged,
                            created_at=datetime.combine(TODAY, time(8, 0), tzinfo=ZONE) + timedelta(minutes=session_id))


def test_session_to_open_prefers_the_latest_still_under_way() -> None:
    at = lambda hour: datetime.combine(TODAY, time(hour, 0), tzinfo=ZONE)  # noqa: E731
    done_early = _logged(1, at(9), at(11))
    running = _logged(2, at(10), None)
    done_late = _logged(3, at(12), at(14))
    assert session_to_open([]) is None
    assert session_to_open([done_early, running, done_late]) == 2
    assert session_to_open([done_early, done_late]) == 3, "all discharged: the latest of the day"
    not_dosed = _logged(4, None, None)
    assert session_to_open([running, not_dosed]) == 2, "an undosed session counts from when it was opened (08:04)"
