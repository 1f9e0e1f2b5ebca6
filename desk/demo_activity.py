"""Synthetic demo activity on top of the demo records: REMS enrollments, treatment courses with logged sessions
and their monitoring forms, prior-authorization cases in every stage, savings enrollments and claims.

Everything goes through the same services staff use, so the data passes the same validation. Dates are
counted from the load day so the dashboards and worklists have something due, overdue and recently done.
A session "in progress" is added only when the load time leaves room for it on the same clinic day.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

from desk.auth import CurrentUser
from desk.models import Coverage, Patient, TreatmentSession
from desk.models.prior_auth import PriorAuthCase
from desk.patients import ScoreDetails, ScreeningDetails, add_score, update_screening
from desk.prior_auth.cases import open_case, save_request
from desk.prior_auth.checklist import ChecklistItem, attest, case_checklist, record_exception
from desk.prior_auth.lifecycle import (
    ApprovalTerms,
    expire_lapsed,
    mark_ready,
    record_appeal,
    record_approval,
    record_denial,
    record_info_request,
    record_pended,
    record_submission,
)
from desk.prior_auth.request_schedule import case_schedule_check
from desk.rems.config import RemsSettings
from desk.rems.course import label_schedule, save_course
from desk.rems.enrollment import save_enrollment
from desk.rems.pmf import mark_submitted
from desk.rems.sessions import default_prescriber_on_site, record_session
from desk.rems.validation import ReadingInput, SessionInput
from desk.savings.claims import ClaimAmounts, get_claim, mark_denied, mark_paid, record_claim, submit_claim
from desk.savings.documents import attach_document
from desk.savings.enrollment import CardDetails, enroll_patient
from desk.sites import list_prescribers

BILLING = "billing"
DEVICE_PRICE_CENTS = 40_000  # a made-up acquisition price per 28 mg device, for the demo claims only
OBSERVATION_BILLED_CENTS = 42_000
# Patients (by their index in desk.demo.SPECS) who are not enrolled in the REMS yet (the browser tests
# enroll DEMO-0007 themselves and expect DEMO-0008 to be refused a session).
NOT_ENROLLED = frozenset({6, 7, 34, 35, 38, 39})
INCOMPLETE_ENROLLMENT = 17


@dataclass(frozen=True)
class DemoPatient:
    """A loaded demo patient and the coverage a case is opened against."""

    patient: Patient
    coverage: Coverage

    @property
    def id(self) -> int:
        assert self.patient.id is not None
        return self.patient.id

    @property
    def coverage_id(self) -> int:
        assert self.coverage.id is not None
        return self.coverage.id


@dataclass
class Clock:
    """The load day and time, and the clinic's time zone, for dating events."""

    today: date
    now: datetime
    zone: ZoneInfo

    def day(self, offset: int) -> date:
        return self.today + timedelta(days=offset)

    def at(self, offset: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(self.day(offset), time(hour, minute), tzinfo=self.zone)


def load_activity(session: Session, *, patients: Sequence[DemoPatient], nurse: CurrentUser, clock: Clock,
                  rems: RemsSettings, counts: dict[str, int]) -> None:
    """Add the workflow activity for the demo patients (indexes as in desk.demo.SPECS)."""
    _record_extras(session, patients=patients, clock=clock)
    _enrollments(session, patients=patients, nurse=nurse, clock=clock, counts=counts)
    _prior_authorizations(session, patients=patients, clock=clock, counts=counts)
    sessions = _courses_and_sessions(session, patients=patients, nurse=nurse, clock=clock, rems=rems, counts=counts)
    _savings(session, patients=patients, sessions=sessions, clock=clock, counts=counts)


# --- record facts the cases below rely on ------------------------------------------------------------------


def _record_extras(session: Session, *, patients: Sequence[DemoPatient], clock: Clock) -> None:
    # Highmark accepts a prescriber who consulted a psychiatrist: the family-medicine prescriber did.
    _screening(session, patients[15].patient, clock, psychiatric_consult_on=clock.day(-50),
               psychiatric_consultant="Morgan Examplar, MD")
    # The untreated substance use disorder is recorded as not being treated.
    _screening(session, patients[9].patient, clock, substance_treated=False)
    # A continuation request: esketamine began four months ago; MADRS has improved by half since.
    _screening(session, patients[10].patient, clock, esketamine_started_on=clock.day(-120), prior_esketamine=True,
               prior_esketamine_improvement_pct=50.0)
    add_score(session, patient_id=patients[10].id, details=ScoreDetails("MADRS", 17, clock.day(-4)),
              today=clock.today)


def _screening(session: Session, patient: Patient, clock: Clock, **changes: object) -> None:
    assert patient.id is not None
    details = ScreeningDetails.of(patient)
    update_screening(session, patient_id=patient.id, expected_version=patient.version, today=clock.today,
                     details=ScreeningDetails(**{**details.__dict__, **changes}))


# --- REMS enrollment -----------------------------------------------------------------------------------------


def _enrollments(session: Session, *, patients: Sequence[DemoPatient], nurse: CurrentUser, clock: Clock,
                 counts: dict[str, int]) -> None:
    for index, demo in enumerate(patients):
        if index in NOT_ENROLLED:
            continue
        signed = clock.day(-150 + (index * 3) % 40)
        complete = index != INCOMPLETE_ENROLLMENT
        save_enrollment(
            session, user=nurse, patient_id=demo.id, prescriber_id=demo.patient.prescriber_id,
            patient_signed_on=signed, prescriber_signed_on=signed if complete else None,
            submitted_on=signed + timedelta(days=1) if complete else None,
            confirmation_number=f"DEMO-ENR-{index + 1:04d}" if complete else "", today=clock.today,
        )
        counts["rems_enrollments"] += 1


# --- prior authorization --------------------------------------------------------------------------------------


def _open(session: Session, demo: DemoPatient, clock: Clock, *, opened: int, phase: str = "initial",
          dose_mg: int = 84, sessions: int | None = 16, start: int | None = None) -> PriorAuthCase:
    case = open_case(session, patient_id=demo.id, coverage_id=demo.coverage_id, indication="TRD", phase=phase,
                     actor=BILLING, now=clock.at(opened, 9, 30)).case
    if start is not None:
        assert case.id is not None
        save_request(session, case_id=case.id, expected_version=case.version, dose_mg=dose_mg,
                     sessions_requested=sessions, start_on=clock.day(start), urgency="standard")
        # Ask for what the payer approves: the desk's proposal when the label schedule exceeds its limits.
        proposal = case_schedule_check(case, today=clock.today, benefit=demo.coverage.benefit).proposal
        if proposal is not None:
            save_request(session, case_id=case.id, expected_version=case.version, dose_mg=proposal.doses[-1].mg,
                         sessions_requested=proposal.sessions, start_on=clock.day(start), urgency="standard")
    return case


def _make_ready(session: Session, case: PriorAuthCase, clock: Clock, *, on: int) -> None:
    """Attest what the prescriber attests; request a clinical exception for what the record cannot show."""
    assert case.id is not None
    moment = clock.at(on, 10, 0)
    for _ in range(40):
        checklist = case_checklist(session, case=case)
        if checklist.ready:
            break
        by_id = {item.id: item for item in checklist.items}
        todo = next(item for item in checklist.items if not item.is_group and not _covered(by_id, item.id))
        if todo.can_attest:
            attest(session, case_id=case.id, expected_version=case.version, criterion_id=todo.id,
                   note="Attested by the prescriber in the chart note (demo).", actor=BILLING, now=moment)
        else:
            record_exception(session, case_id=case.id, expected_version=case.version, criterion_id=todo.id,
                             reason="Clinical exception requested in the letter of medical necessity (demo).",
                             actor=BILLING, now=moment)
    mark_ready(session, case_id=case.id, expected_version=case.version, actor=BILLING, now=moment)


def _covered(items: dict[str, ChecklistItem], item_id: str | None) -> bool:
    """True when the item or a group above it is already satisfied."""
    while item_id is not None:
        if items[item_id].satisfied:
            return True
        item_id = items[item_id].parent
    return False


def _submit(session: Session, case: PriorAuthCase, clock: Clock, *, on: int) -> None:
    _make_ready(session, case, clock, on=on)
    assert case.id is not None
    moment = clock.at(on, 11, 15)
    record_submission(session, case_id=case.id, expected_version=case.version, actor=BILLING, submitted_at=moment,
                      channel="fax", reference="", now=moment)


def _approve(session: Session, case: PriorAuthCase, clock: Clock, *, on: int, start: int, days: int,
             devices: int) -> None:
    assert case.id is not None
    terms = ApprovalTerms(auth_number=f"DEMO-AUTH-{case.id:05d}", start_on=clock.day(start),
                          end_on=clock.day(start + days - 1), approved_devices=devices, approved_codes="J0013",
                          decided_on=clock.day(on))
    record_approval(session, case_id=case.id, expected_version=case.version, actor=BILLING, terms=terms,
                    now=clock.at(on, 14, 0))


def _prior_authorizations(session: Session, *, patients: Sequence[DemoPatient], clock: Clock,
                          counts: dict[str, int]) -> None:
    def approved(index: int, *, submitted: int, decided: int, start: int, days: int, devices: int,
                 dose_mg: int = 84) -> None:
        case = _open(session, patients[index], clock, opened=submitted - 3, dose_mg=dose_mg, start=start)
        _submit(session, case, clock, on=submitted)
        _approve(session, case, clock, on=decided, start=start, days=days, devices=devices)

    # Approved, with sessions using part of the devices (sessions are logged below).
    approved(0, submitted=-42, decided=-35, start=-33, days=182, devices=56)
    approved(4, submitted=-20, decided=-15, start=-14, days=90, devices=16, dose_mg=56)
    # An authorization that ends in two days with no renewal case yet.
    approved(28, submitted=-34, decided=-30, start=-28, days=31, devices=24, dose_mg=56)
    approved(22, submitted=-6, decided=-1, start=0, days=28, devices=24, dose_mg=56)

    # An initial approval that ran out, and the continuation request that follows it.
    approved(10, submitted=-130, decided=-125, start=-122, days=90, devices=46)
    expire_lapsed(session, today=clock.today, actor="system")
    _open(session, patients[10], clock, opened=-2, phase="continuation", start=1)

    # Original Medicare (Part B): the request carries the session code G2083, not the drug code.
    _open(session, patients[37], clock, opened=-1, dose_mg=84, sessions=8, start=6)

    # A draft nobody has touched for weeks (the worklist flags idle drafts).
    _open(session, patients[2], clock, opened=-20)
    # Ready to send.
    ready = _open(session, patients[19], clock, opened=-3, start=7)
    _make_ready(session, ready, clock, on=-1)
    # Submitted: the decision is due in three days; another one is past its due date.
    _submit(session, _open(session, patients[13], clock, opened=-14, start=5), clock, on=-12)
    _submit(session, _open(session, patients[16], clock, opened=-22, start=-5), clock, on=-19)

    # The payer asked for more information, due in two days.
    info = _open(session, patients[25], clock, opened=-13, start=3)
    _submit(session, info, clock, on=-10)
    assert info.id is not None
    record_info_request(session, case_id=info.id, expected_version=info.version, actor=BILLING,
                        requested_on=clock.day(-3), due_on=clock.day(2),
                        description="Chart notes documenting the dose and duration of each antidepressant trial.",
                        now=clock.at(-3, 15, 0))
    # Pended: under review at the payer (a clinical exception was requested for the missing augmentation trial).
    pended = _open(session, patients[14], clock, opened=-10, start=4)
    _submit(session, pended, clock, on=-8)
    assert pended.id is not None
    record_pended(session, case_id=pended.id, expected_version=pended.version, actor=BILLING,
                  note="Payer confirmed receipt; clinical review in progress.", now=clock.at(-5, 10, 0))

    # Denied (too few trials for this payer), and a denial under appeal with a peer-to-peer call.
    denied = _open(session, patients[5], clock, opened=-33, start=-20)
    _submit(session, denied, clock, on=-30)
    assert denied.id is not None
    record_denial(session, case_id=denied.id, expected_version=denied.version, actor=BILLING,
                  reason="Fewer than three antidepressant trials of 8 weeks in the current episode.",
                  denied_on=clock.day(-18), now=clock.at(-18, 16, 0))
    appealed = _open(session, patients[8], clock, opened=-38, start=-25)
    _submit(session, appealed, clock, on=-35)
    assert appealed.id is not None
    record_denial(session, case_id=appealed.id, expected_version=appealed.version, actor=BILLING,
                  reason="Antidepressant trials are not within the past 5 years.", denied_on=clock.day(-25),
                  now=clock.at(-25, 16, 0))
    record_appeal(session, case_id=appealed.id, expected_version=appealed.version, actor=BILLING,
                  filed_on=clock.day(-20), peer_to_peer=True, peer_to_peer_on=clock.day(-16),
                  note="Level 1 appeal with the prescriber's letter; peer-to-peer held.", now=clock.at(-16, 12, 0))
    counts["prior_auth_cases"] = session.exec(select(func.count()).select_from(PriorAuthCase)).one()


# --- REMS courses and sessions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """One patient's course: start (days from today), doses per session, and the monitoring form states."""

    index: int
    start: int
    doses: Callable[[int], int]
    draft_ages: frozenset[int] = frozenset()
    ready_ages: frozenset[int] = frozenset()
    in_progress_today: bool = False


def _induction_dose(number: int) -> int:
    """Label: 56 mg on day 1, then 56 or 84 mg."""
    return 56 if number == 0 else 84


COURSES = (
    # Sessions three and seven days ago: the forms are ready, one due today.
    Plan(0, -31, _induction_dose, ready_ages=frozenset({3, 7})),
    # Forms overdue (9 days), due soon (5 days), and a log still in draft (2 days ago).
    Plan(4, -12, lambda n: 56 if n < 2 else 84, draft_ages=frozenset({2}), ready_ages=frozenset({9, 5})),
    Plan(28, -26, lambda n: 56, ready_ages=frozenset({2})),
    Plan(22, 0, lambda n: 56, in_progress_today=True),
)


def _prescriber_on_site(session: Session, demo: DemoPatient) -> int | None:
    """The patient's prescriber when they work at the patient's site, else the site's first active prescriber."""
    site_id = demo.patient.site_id
    own = default_prescriber_on_site(session, patient_id=demo.id, site_id=site_id)
    if own is not None:
        return own
    return next((p.id for p in list_prescribers(session, site_id=site_id, include_inactive=False)), None)


def _session_input(demo: DemoPatient, clock: Clock, *, day: date, dose_mg: int, number: int, complete: bool,
                   first_device: datetime | None = None) -> SessionInput:
    zone = clock.zone
    start = first_device or datetime.combine(day, time(9 + number % 3, 15 * (number % 2)), tzinfo=zone)
    minutes: Callable[[int], datetime] = lambda m: start + timedelta(minutes=m)  # noqa: E731
    devices = tuple(minutes(5 * n) for n in range(dose_mg // 28))
    readings = [ReadingInput("pre", minutes(-10), 126 + number % 9, 80 + number % 5, 72, 98)]
    dissociation = number % 4 == 1
    if complete:
        readings += [
            ReadingInput("post_40", minutes(40), 134 + number % 7, 84 + number % 4, 76, 97),
            ReadingInput("discharge", minutes(125), 124 + number % 6, 79 + number % 3, 70, 98),
        ]
    elif clock.now >= minutes(41):
        readings.append(ReadingInput("post_40", minutes(40), 138, 86, 78, 97))
    return SessionInput(
        patient_id=demo.id, site_id=demo.patient.site_id, session_date=day, indication="TRD", dose_mg=dose_mg,
        lot_number=f"DM{day:%y%m}{number:02d}", device_times=devices, no_food_2h=True, no_liquids_30min=True,
        nasal_medication_ok=True, ride_home_confirmed=True, readings=tuple(readings), vitals_ok_before=True,
        vitals_ok_before_completion=True if complete else None, dissociation=dissociation,
        dissociation_resolved_at=minutes(75) if dissociation and complete else None,
        ready_to_leave_minutes=95 if complete else None, discharged_at=minutes(130) if complete else None,
        monitoring_hcp_first_name="Demo", monitoring_hcp_last_name="Nurse", monitoring_hcp_phone="617-555-0102",
        monitoring_hcp_email="nurse@demo.invalid",
    )


def _courses_and_sessions(session: Session, *, patients: Sequence[DemoPatient], nurse: CurrentUser, clock: Clock,
                          rems: RemsSettings, counts: dict[str, int]) -> dict[int, list[TreatmentSession]]:
    logged: dict[int, list[TreatmentSession]] = {}
    for plan in COURSES:
        demo = patients[plan.index]
        save_course(session, user=nurse, patient_id=demo.id, indication="TRD", start_date=clock.day(plan.start),
                    maintenance_interval_days=7)
        counts["courses"] += 1
        planned = label_schedule(indication="TRD", start_date=clock.day(plan.start), through=clock.today)
        rows: list[TreatmentSession] = []
        for number, slot in enumerate(p for p in planned if p.planned_on <= clock.today):
            age = (clock.today - slot.planned_on).days
            if age == 0:
                first = clock.now - timedelta(minutes=50)
                if not plan.in_progress_today or first.astimezone(clock.zone).date() != clock.today:
                    continue
                data = _session_input(demo, clock, day=clock.today, dose_mg=plan.doses(number), number=number,
                                      complete=False, first_device=first.astimezone(clock.zone))
            else:
                data = _session_input(demo, clock, day=slot.planned_on, dose_mg=plan.doses(number), number=number,
                                      complete=age not in plan.draft_ages)
            data = replace(data, prescriber_on_site_id=_prescriber_on_site(session, demo))
            logged_session = record_session(session, user=nurse, data=data, now=clock.now, settings=rems)
            if logged_session.pmf_status == "ready" and age not in plan.ready_ages:
                assert logged_session.id is not None
                mark_submitted(session, user=nurse, session_id=logged_session.id,
                               expected_version=logged_session.version,
                               submitted_on=min(slot.planned_on + timedelta(days=1), clock.today), channel="online",
                               confirmation_number=f"DEMO-PMF-{logged_session.id:05d}", today=clock.today)
            rows.append(logged_session)
        counts["sessions"] += len(rows)
        logged[plan.index] = rows
    # A course about to start for a patient whose REMS enrollment is not complete: the nurse dashboard blocks it.
    save_course(session, user=nurse, patient_id=patients[INCOMPLETE_ENROLLMENT].id, indication="TRD",
                start_date=clock.day(3), maintenance_interval_days=7)
    counts["courses"] += 1
    return logged


# --- manufacturer savings -------------------------------------------------------------------------------------


def _card(index: int, clock: Clock, *, expires_in: int = 300) -> CardDetails:
    return CardDetails(member_id=f"WM{770000 + index * 13}", rx_bin="610020", rx_pcn="PDMI",
                       rx_group=f"WMDEMO{index:02d}", card_expires_on=clock.day(expires_in))


def _drug_claim(session: Session, demo: DemoPatient, ts: TreatmentSession, clock: Clock, *,
                deductible: bool) -> int:
    billed = ts.devices * DEVICE_PRICE_CENTS
    insurance = 0 if deductible else billed * 80 // 100
    claim = record_claim(
        session, patient_id=demo.id, service_date=ts.session_date, kind="drug", devices=ts.devices,
        method="card_secondary", session_id=ts.id, today=clock.today,
        amounts=ClaimAmounts(billed_cents=billed, insurance_paid_cents=insurance,
                             patient_responsibility_cents=billed - insurance),
    )
    assert claim.id is not None
    return claim.id


def _savings(session: Session, *, patients: Sequence[DemoPatient], sessions: dict[int, list[TreatmentSession]],
             clock: Clock, counts: dict[str, int]) -> None:
    enrolled_on = max(clock.day(-60), date(clock.today.year - 1, 1, 1))
    for index in (0, 4, 28, 22, 3, 13, 19):
        enroll_patient(session, patient_id=patients[index].id, enrolled_on=enrolled_on, card=_card(index, clock),
                       today=clock.today)
        counts["savings_enrollments"] += 1
    # A card that expires within the month, and an application still pending with the program.
    enroll_patient(session, patient_id=patients[1].id, enrolled_on=enrolled_on, card=_card(1, clock, expires_in=20),
                   today=clock.today)
    enroll_patient(session, patient_id=patients[25].id, enrolled_on=clock.day(-2), card=CardDetails(),
                   status="pending", today=clock.today)
    counts["savings_enrollments"] += 2

    # A high-deductible plan: the patient owes the whole drug cost for the first sessions, so the
    # yearly maximum is nearly used (the worklist shows it).
    for number, ts in enumerate(s for s in sessions[0] if s.pmf_status != "draft"):
        claim_id = _drug_claim(session, patients[0], ts, clock, deductible=number < 5)
        _advance(session, claim_id, ts, clock)
        counts["savings_claims"] += 1
    # Paid, submitted or draft by age; the program refused the claim of five days ago.
    for ts in sessions[28]:
        claim_id = _drug_claim(session, patients[28], ts, clock, deductible=False)
        _advance(session, claim_id, ts, clock)
        counts["savings_claims"] += 1
        if (clock.today - ts.session_date).days == 5:
            claim = get_claim(session, claim_id=claim_id)
            submit_claim(session, claim_id=claim_id, expected_version=claim.version,
                         submitted_on=ts.session_date + timedelta(days=1), today=clock.today)
            mark_denied(session, claim_id=claim_id, expected_version=claim.version,
                        reason="The program card was not yet active on the service date.")
    # An observation rebate waits for the EOB (the proof of payment is attached).
    first = sessions[28][0]
    rebate = record_claim(
        session, patient_id=patients[28].id, service_date=first.session_date, kind="observation", devices=0,
        method="rebate_request", session_id=first.id, today=clock.today,
        amounts=ClaimAmounts(billed_cents=OBSERVATION_BILLED_CENTS, insurance_paid_cents=15_000,
                             patient_responsibility_cents=OBSERVATION_BILLED_CENTS - 15_000),
    )
    assert rebate.id is not None
    attach_document(session, claim_id=rebate.id, kind="proof_of_payment", content=_receipt_pdf(first.session_date),
                    max_bytes=5 * 1024 * 1024)
    counts["savings_claims"] += 1
    # The latest completed session of another patient: a claim still in draft.
    last = [s for s in sessions[4] if s.pmf_status != "draft"][-1]
    _drug_claim(session, patients[4], last, clock, deductible=False)
    counts["savings_claims"] += 1


def _advance(session: Session, claim_id: int, ts: TreatmentSession, clock: Clock) -> None:
    """Claims for sessions two or more weeks old are paid; one to two weeks old, submitted; newer, draft."""
    age = (clock.today - ts.session_date).days
    if age < 7:
        return
    claim = get_claim(session, claim_id=claim_id)
    submitted_on = ts.session_date + timedelta(days=2)
    submit_claim(session, claim_id=claim_id, expected_version=claim.version, submitted_on=submitted_on,
                 today=clock.today)
    if age >= 14:
        mark_paid(session, claim_id=claim_id, expected_version=claim.version,
                  paid_cents=claim.savings_applied_cents, paid_on=submitted_on + timedelta(days=6), today=clock.today)


def _receipt_pdf(service_date: date) -> bytes:
    """A one-page synthetic receipt (no patient data) standing in for a scanned proof of payment."""
    from reportlab.lib.pagesizes import LETTER
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=LETTER, invariant=True)
    pdf.setTitle("Demo receipt")
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(72, 700, "Payment receipt (synthetic demo document)")
    pdf.setFont("Helvetica", 12)
    pdf.drawString(72, 670, f"Service date: {service_date:%m/%d/%Y}")
    pdf.drawString(72, 650, "Observation and administration, patient share paid: $270.00")
    pdf.drawString(72, 630, "Lakeside Mood Clinic (demo)")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


__all__ = ["Clock", "DemoPatient", "load_activity"]
