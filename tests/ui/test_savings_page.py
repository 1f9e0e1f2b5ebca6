"""The savings screen under AppTest: roles, eligibility, enrollment, claims, warnings, terms."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from desk.database import unit_of_work
from desk.models import AuditEvent, Patient, SavingsClaim, SavingsEnrollment, SavingsTermsChange
from desk.savings.claims import ClaimAmounts, record_claim
from desk.savings.enrollment import CardDetails, enroll_patient
from tests.factories import make_coverage, make_patient
from tests.ui.conftest import AppFactory
from tests.ui.screen import all_messages, messages_under, shown

PAGE = "pages/savings.py"


def seed_patient(engine: Engine, *, state: str = "IL", medicare_primary: bool = False) -> int:
    """A patient with commercial coverage (optionally behind a Medicare primary); returns the id."""
    with unit_of_work(engine, actor="seed") as session:
        patient = make_patient(session, state=state)
        if medicare_primary:
            make_coverage(session, patient=patient, plan_type="medicare_advantage", priority="primary")
        make_coverage(session, patient=patient, priority="secondary" if medicare_primary else "primary")
        return patient.id or 0


def seed_enrollment(engine: Engine, patient_id: int) -> None:
    """An active enrollment from January 2 of this year."""
    with unit_of_work(engine, actor="seed") as session:
        enroll_patient(session, patient_id=patient_id, enrolled_on=date(date.today().year, 1, 2),
                       card=CardDetails(member_id="WM123456", card_expires_on=date(date.today().year + 1, 12, 31)),
                       today=date.today())


def texts(at: AppTest) -> str:
    """Every text the page rendered, joined (to look for amounts)."""
    parts = [shown(m.value) for m in at.markdown] + [str(m.value) for m in at.metric]
    parts += [shown(c.value) for c in at.caption]
    parts += [shown(e.value) for e in (*at.error, *at.warning, *at.info, *at.success)]
    return "\n".join(str(p) for p in parts)


def test_signed_out_sees_only_the_sign_in_prompt(page_app: AppFactory) -> None:
    at = page_app(PAGE).run()
    assert not at.exception
    assert "Please sign in" in shown(at.info[0].value)
    assert not at.title


def test_nurse_is_refused_and_sees_no_amounts(page_app: AppFactory, app_db: Engine) -> None:
    patient_id = seed_patient(app_db)
    seed_enrollment(app_db, patient_id)
    at = page_app(PAGE, roles=("nurse",)).run()
    assert not at.exception
    assert [shown(e.value) for e in at.error] == ["Your role does not allow this page."]
    assert not at.title and not at.metric and not at.dataframe
    assert "$" not in texts(at)


@pytest.mark.parametrize("role", ["billing", "admin"])
def test_billing_and_admin_see_the_three_screens(page_app: AppFactory, app_db: Engine, role: str) -> None:
    seed_patient(app_db)
    at = page_app(PAGE, roles=(role,)).run()
    assert not at.exception
    assert shown(at.title[0].value) == "Savings program"
    assert [t.label for t in at.tabs] == ["Patient", "Billing worklist", "Program terms"]
    assert shown(at.success[0].value).startswith("Eligible: commercial insurance only")
    assert any(m.label == "Drug benefit remaining" and shown(m.value) == "$7,150.00" for m in at.metric)


def test_ineligible_patient_shows_the_reason_and_cannot_enroll(page_app: AppFactory, app_db: Engine) -> None:
    seed_patient(app_db, medicare_primary=True)
    at = page_app(PAGE, roles=("billing",)).run()
    assert "Medicare Advantage (primary) is a government program" in shown(at.error[0].value)
    # The enroll form is not offered at all: no typing into a form that can only be refused.
    assert not [b for b in at.button if b.label == "Enroll"]
    assert any("Enrollment is not offered" in shown(i.value) for i in at.info)
    with Session(app_db) as session:
        assert session.exec(select(SavingsEnrollment)).all() == []


def test_excluded_state_warns_about_the_observation_rebate(page_app: AppFactory, app_db: Engine) -> None:
    seed_patient(app_db, state="MI")
    at = page_app(PAGE, roles=("billing",)).run()
    assert any("residents of MI are excluded" in shown(w.value) for w in at.warning)


def test_billing_enrolls_and_records_a_claim(page_app: AppFactory, app_db: Engine) -> None:
    patient_id = seed_patient(app_db)
    at = page_app(PAGE, roles=("billing",)).run()
    assert at.date_input(key="enroll_expires").value is None, "the card's own date, not a guess"
    at.text_input(key="enroll_member").input("wm-1234")
    at.text_input(key="enroll_bin").input("12345")
    next(b for b in at.button if b.label == "Enroll").click()
    at.run()
    # Both refusals at once, each under its input and named by the input's label (BIN, not "rx bin").
    assert messages_under(at, at.text_input(key="enroll_bin")) == ["BIN: a BIN has exactly 6 digits"]
    [expiry] = messages_under(at, at.date_input(key="enroll_expires"))
    assert expiry.startswith("Card expires on is required for an active enrollment")
    assert not any("rx bin" in m.lower() or "_" in m for m in all_messages(at))
    at.text_input(key="enroll_bin").input("610020")
    at.date_input(key="enroll_expires").set_value(date(date.today().year + 1, 6, 30))
    next(b for b in at.button if b.label == "Enroll").click()
    at.run()
    assert not at.exception
    assert shown(at.success[0].value) == "Patient enrolled in the savings program."
    with Session(app_db) as session:
        enrollment = session.exec(select(SavingsEnrollment)).one()
        assert (enrollment.patient_id, enrollment.member_id, enrollment.rx_bin) == (patient_id, "WM-1234", "610020")

    at.number_input(key="claim_billed_0").set_value(900.0)
    at.number_input(key="claim_insurance_0").set_value(600.0)
    at.number_input(key="claim_responsibility_0").set_value(300.0)
    next(b for b in at.button if b.label == "Record claim").click()
    at.run()
    assert not at.exception
    assert shown(at.success[0].value) == "Claim recorded."
    remaining = next(m for m in at.metric if m.label == "Drug benefit remaining")
    assert remaining.value == "$6,860.00"
    assert at.dataframe, "the claims table shows"
    with Session(app_db) as session:
        claim = session.exec(select(SavingsClaim)).one()
        assert (claim.billed_cents, claim.savings_applied_cents, claim.devices) == (90_000, 29_000, 3)


def test_claim_over_the_daily_limit_warns_and_writes_nothing(page_app: AppFactory, app_db: Engine) -> None:
    patient_id = seed_patient(app_db)
    seed_enrollment(app_db, patient_id)
    at = page_app(PAGE, roles=("billing",)).run()
    at.number_input(key="claim_devices_0").set_value(4)
    at.number_input(key="claim_billed_0").set_value(900.0)
    next(b for b in at.button if b.label == "Record claim").click()
    at.run()
    assert any("exceed the program's limit of 3 per day" in shown(w.value) for w in at.warning)
    assert any("Nothing was recorded" in shown(e.value) for e in at.error)
    with Session(app_db) as session:
        assert session.exec(select(SavingsClaim)).all() == []
    at.checkbox(key="claim_accept_0").check()
    next(b for b in at.button if b.label == "Record claim").click()
    at.run()
    assert shown(at.success[0].value) == "Claim recorded."


def test_paid_more_than_billed_is_refused(page_app: AppFactory, app_db: Engine) -> None:
    patient_id = seed_patient(app_db)
    seed_enrollment(app_db, patient_id)
    at = page_app(PAGE, roles=("billing",)).run()
    at.number_input(key="claim_billed_0").set_value(100.0)
    at.number_input(key="claim_insurance_0").set_value(150.0)
    next(b for b in at.button if b.label == "Record claim").click()
    at.run()
    assert messages_under(at, at.number_input(key="claim_insurance_0")) == [
        "Insurance paid ($): insurance paid ($150.00) cannot exceed the billed amount ($100.00)"]
    with Session(app_db) as session:
        assert session.exec(select(SavingsClaim)).all() == []


def test_billing_worklist_lists_claims_waiting_for_an_eob(page_app: AppFactory, app_db: Engine) -> None:
    patient_id = seed_patient(app_db)
    seed_enrollment(app_db, patient_id)
    with unit_of_work(app_db, actor="seed") as session:
        record_claim(session, patient_id=patient_id, service_date=date(date.today().year, 1, 5), kind="drug",
                     devices=3, method="rebate_request", amounts=ClaimAmounts(90_000, 60_000, 30_000),
                     today=date.today())
    at = page_app(PAGE, roles=("billing",)).run()
    assert any(shown(m.value) == "**Claims waiting for an EOB** (1)" for m in at.markdown)
    assert [shown(b.label) for b in at.get("download_button")] == [
        "Worklist (CSV)", "Worklist (Excel)", f"Claims {date.today().year} (CSV)",
        f"Claims {date.today().year} (Excel)",
    ]
    with Session(app_db) as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "export")).all() == [], (
            "showing the page is not an export; only a click builds and audits one"
        )


def test_terms_marked_unconfirmed_and_only_admin_edits(page_app: AppFactory, app_db: Engine) -> None:
    seed_patient(app_db)
    billing = page_app(PAGE, roles=("billing",)).run()
    assert any("unconfirmed" in shown(w.value) for w in billing.warning)
    assert "Only administrators can change the program terms." in [shown(c.value) for c in billing.caption]
    assert not [b for b in billing.button if b.label == "Save terms"]

    admin = page_app(PAGE, roles=("admin",), username="admin1").run()
    admin.number_input(key="term_drug_benefit_max_cents").set_value(7500.0)
    admin.checkbox(key="unconfirmed_drug_benefit_max_cents").uncheck()
    next(b for b in admin.button if b.label == "Save terms").click()
    admin.run()
    assert not admin.exception
    assert shown(admin.success[0].value) == f"Program terms for {date.today().year} saved."
    with Session(app_db) as session:
        changes = {c.field_name: c for c in session.exec(select(SavingsTermsChange)).all()}
    assert changes["drug_benefit_max_cents"].new_value == "750000"
    assert "drug_benefit_max_cents" not in changes["unconfirmed"].new_value
    assert any(m.label == "Drug benefit remaining" and shown(m.value) == "$7,500.00" for m in admin.metric)


def test_patient_names_do_not_reach_the_audit_trail(page_app: AppFactory, app_db: Engine) -> None:
    patient_id = seed_patient(app_db)
    seed_enrollment(app_db, patient_id)
    with Session(app_db) as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        events = session.exec(select(AuditEvent)).all()
    assert events and all(patient.last_name not in f"{e.entity_id} {e.fields} {e.detail}" for e in events)


def test_opens_on_the_first_patient_with_an_enrollment(page_app: AppFactory, app_db: Engine) -> None:
    with unit_of_work(app_db, actor="seed") as session:
        first = make_patient(session, last_name="Aabel", state="IL")
        make_coverage(session, patient=first)
        assert first.id is not None
        first_id = first.id
    enrolled_id = seed_patient(app_db)
    at = page_app(PAGE, roles=("billing",)).run()
    assert "No patient is enrolled in the savings program" in shown(at.info[0].value)
    assert at.selectbox(key="savings_patient").value == first_id, "nobody enrolled: the first patient by name"
    seed_enrollment(app_db, enrolled_id)
    at = page_app(PAGE, roles=("billing",)).run()
    assert not at.exception
    assert at.selectbox(key="savings_patient").value == enrolled_id
    assert not any("No patient is enrolled" in i.value for i in at.info)
    assert any(m.value.startswith("**Active**") for m in at.markdown)
