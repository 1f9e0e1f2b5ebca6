"""Billing's queue: patients who need a prior authorization started, renewed, topped up or appealed.

Four lists, each naming the patient and saying what to do:
- in treatment (REMS enrollment, course plan or a session on or after today) with no approved or pending
  authorization for the dates ahead;
- an authorization ending within its payer's renewal lead time, with no renewal case yet;
- an authorization whose devices left will not cover the next two weeks;
- a denial whose appeal window closes soon.
Each row carries either a pre-filled new case (patient, coverage, indication, phase) or the case to open.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from desk.models import Coverage, Patient
from desk.models.prior_auth import STATUS_LABELS, PaAuthorization, PriorAuthCase
from desk.models.rems import RemsEnrollment, TreatmentCourse, TreatmentSession
from desk.patients import patients_by_id
from desk.prior_auth.payer_rules import payer_namer, renewal_leads
from desk.prior_auth.worklist import (
    IN_FORCE,
    devices_low,
    no_follow_up_case,
    payer_ids_in_use,
    renewal_window,
)

# A case in one of these is a request still on its way: the patient is not waiting on billing to start one.
PENDING = ("draft", "ready", "submitted", "pended", "info_requested", "appealed")
DENIED = ("denied", "upheld")
KIND_TITLES = {
    "no_authorization": "No authorization for planned treatment",
    "renewal": "Authorizations to renew",
    "devices": "Devices will not cover two weeks",
    "appeal": "Appeal windows closing",
}
# The same lists in a few words, for the counts on Today (four side by side).
KIND_SHORT_TITLES = {"no_authorization": "No authorization", "renewal": "Renewal due", "devices": "Devices short",
                     "appeal": "Appeal closing"}


@dataclass(frozen=True)
class NewCase:
    """What a new case for this patient is opened with."""

    patient_id: int
    coverage_id: int
    indication: str
    phase: str


@dataclass(frozen=True)
class NeedsPaRow:
    """One patient in one list: why, and either the case to open or the case to start."""

    kind: str
    patient_id: int
    patient: str
    mrn: str
    payer: str
    reason: str
    case_id: int | None = None
    new_case: NewCase | None = None


@dataclass(frozen=True)
class NeedsPa:
    """Every list of billing's queue, rows in the order to work them."""

    rows: tuple[NeedsPaRow, ...]

    def of_kind(self, kind: str) -> list[NeedsPaRow]:
        return [row for row in self.rows if row.kind == kind]

    def counts(self) -> dict[str, int]:
        """Patients per list (every list present)."""
        return {kind: len({row.patient_id for row in self.of_kind(kind)}) for kind in KIND_TITLES}


def _name(patient: Patient) -> str:
    return f"{patient.last_name}, {patient.first_name}"


def _primary_coverages(session: Session, patient_ids: Iterable[int], today: date) -> dict[int, Coverage]:
    """Each patient's coverage in force today, primary before secondary."""
    ids = list(patient_ids)
    found: dict[int, Coverage] = {}
    rank = {"primary": 0, "secondary": 1, "tertiary": 2}
    for coverage in session.exec(select(Coverage).where(col(Coverage.patient_id).in_(ids))).all():
        if coverage.end_date is not None and coverage.end_date < today:
            continue
        held = found.get(coverage.patient_id)
        if held is None or rank.get(coverage.priority, 9) < rank.get(held.priority, 9):
            found[coverage.patient_id] = coverage
    return found


def _dates_ahead(session: Session, *, today: date) -> dict[int, tuple[date, str]]:
    """For each patient in treatment, the first date treatment needs covering and what plans it."""
    ahead: dict[int, tuple[date, str]] = {}
    for patient_id in session.exec(select(RemsEnrollment.patient_id)).all():
        ahead[int(patient_id)] = (today, "Enrolled in the REMS")
    courses = session.exec(select(col(TreatmentCourse.patient_id), col(TreatmentCourse.start_date))).all()
    for patient_id, start in courses:
        day = max(start, today)
        ahead[int(patient_id)] = (day, f"Course {'starts' if start > today else 'under way since'} "
                                       f"{start:%m/%d/%Y}")
    scheduled = session.exec(
        select(col(TreatmentSession.patient_id), col(TreatmentSession.session_date))
        .where(col(TreatmentSession.session_date) >= today).order_by(col(TreatmentSession.session_date))
    ).all()
    for patient_id, day in scheduled:
        if int(patient_id) not in ahead or ahead[int(patient_id)][0] > day:
            ahead[int(patient_id)] = (day, f"Session on {day:%m/%d/%Y}")
    return ahead


def _no_authorization(session: Session, *, today: date) -> list[NeedsPaRow]:
    payer_name_of = payer_namer()
    ahead = _dates_ahead(session, today=today)
    if not ahead:
        return []
    ids = list(ahead)
    authorizations: dict[int, list[tuple[date, date]]] = {}
    for patient_id, start, end in session.exec(
        select(col(PaAuthorization.patient_id), col(PaAuthorization.start_on), col(PaAuthorization.end_on))
        .join(PriorAuthCase, col(PriorAuthCase.id) == PaAuthorization.case_id)
        .where(col(PaAuthorization.patient_id).in_(ids), col(PriorAuthCase.status).in_(IN_FORCE),
               col(PaAuthorization.end_on) >= today)
    ).all():
        authorizations.setdefault(int(patient_id), []).append((start, end))
    cases: dict[int, list[PriorAuthCase]] = {}
    for case in session.exec(select(PriorAuthCase).where(col(PriorAuthCase.patient_id).in_(ids))
                             .order_by(col(PriorAuthCase.id))).all():
        cases.setdefault(case.patient_id, []).append(case)
    patients = patients_by_id(session, ids=ids)
    coverages = _primary_coverages(session, ids, today)
    courses = {c.patient_id: c for c in session.exec(
        select(TreatmentCourse).where(col(TreatmentCourse.patient_id).in_(ids))).all()}
    rows: list[NeedsPaRow] = []
    for patient_id, (day, planned) in ahead.items():
        if any(start <= day <= end for start, end in authorizations.get(patient_id, [])):
            continue
        own = cases.get(patient_id, [])
        if any(c.status in PENDING for c in own):
            continue
        patient = patients.get(patient_id)
        if patient is None:
            continue
        course = courses.get(patient_id)
        indication = course.indication if course else (own[-1].indication if own else "TRD")
        had_approval = any(c.status in (*IN_FORCE, "expired") and c.indication == indication for c in own)
        coverage = coverages.get(patient_id)
        last = own[-1] if own else None
        reason = f"{planned}; no approved or pending authorization covers {day:%m/%d/%Y}."
        if last is not None and last.status in DENIED:
            reason += f" Last case {STATUS_LABELS[last.status].lower()}."
        if coverage is None:
            reason += " No insurance coverage on record: add it on the patient record."
        new_case = (NewCase(patient_id, int(coverage.id or 0), indication,
                            "continuation" if had_approval else "initial") if coverage is not None else None)
        rows.append(NeedsPaRow("no_authorization", patient_id, _name(patient), patient.mrn,
                               payer_name_of(coverage.payer_id) if coverage else "No coverage", reason,
                               case_id=last.id if last is not None and last.status in DENIED else None,
                               new_case=new_case))
    return sorted(rows, key=lambda r: (r.patient, r.patient_id))


def _renewals(session: Session, *, today: date, default_lead_days: int) -> list[NeedsPaRow]:
    payer_name_of = payer_namer()
    leads = renewal_leads(payer_ids_in_use(session))
    found = session.exec(
        select(PriorAuthCase, Patient)
        .join(Patient, col(Patient.id) == PriorAuthCase.patient_id)
        .where(col(PriorAuthCase.status).in_(IN_FORCE), col(PriorAuthCase.auth_end_on) >= today,
               renewal_window(today, leads, default_lead_days), no_follow_up_case())
        .order_by(col(PriorAuthCase.auth_end_on), col(PriorAuthCase.id))
    ).all()
    rows = []
    for case, patient in found:
        assert case.id is not None and case.auth_end_on is not None
        days = (case.auth_end_on - today).days
        rows.append(NeedsPaRow(
            "renewal", case.patient_id, _name(patient), patient.mrn, payer_name_of(case.payer_id),
            f"Authorization ends {case.auth_end_on:%m/%d/%Y} ({days} day{'' if days == 1 else 's'} left); "
            "no renewal case yet.",
            case_id=case.id, new_case=NewCase(case.patient_id, case.coverage_id, case.indication, "continuation")))
    return rows


def _devices(session: Session, *, today: date) -> list[NeedsPaRow]:
    payer_name_of = payer_namer()
    return [NeedsPaRow("devices", item.patient_id, item.patient, item.mrn, payer_name_of(item.payer_id),
                       f"{item.detail[:1].upper()}{item.detail[1:]}: ask the payer for more devices.",
                       case_id=item.case_id)
            for item in devices_low(session, today=today, limit=10_000).items if item.patient_id is not None]


def _appeals(session: Session, *, today: date, window_days: int, warning_days: int) -> list[NeedsPaRow]:
    payer_name_of = payer_namer()
    # Denied on or after this day: the window is still open; on or before the second: it closes soon.
    open_since = today - timedelta(days=window_days)
    closing_by = today + timedelta(days=warning_days) - timedelta(days=window_days)
    found = session.exec(
        select(PriorAuthCase, Patient)
        .join(Patient, col(Patient.id) == PriorAuthCase.patient_id)
        .where(col(PriorAuthCase.status).in_(DENIED), col(PriorAuthCase.denied_on) >= open_since,
               col(PriorAuthCase.denied_on) <= closing_by, no_follow_up_case())
        .order_by(col(PriorAuthCase.denied_on), col(PriorAuthCase.id))
    ).all()
    rows = []
    for case, patient in found:
        assert case.denied_on is not None
        closes = case.denied_on + timedelta(days=window_days)
        days = (closes - today).days
        left = "closes today" if days == 0 else f"{days} day{'' if days == 1 else 's'} left"
        rows.append(NeedsPaRow(
            "appeal", case.patient_id, _name(patient), patient.mrn, payer_name_of(case.payer_id),
            f"{STATUS_LABELS[case.status]} on {case.denied_on:%m/%d/%Y}; the appeal window closes "
            f"{closes:%m/%d/%Y} ({left}).", case_id=case.id))
    return rows


def needs_pa(session: Session, *, today: date, default_lead_days: int, appeal_window_days: int,
             appeal_warning_days: int) -> NeedsPa:
    """Billing's queue as of `today` (the clinic's date)."""
    return NeedsPa((
        *_no_authorization(session, today=today),
        *_renewals(session, today=today, default_lead_days=default_lead_days),
        *_devices(session, today=today),
        *_appeals(session, today=today, window_days=appeal_window_days, warning_days=appeal_warning_days),
    ))


def pa_status_by_patient(session: Session, *, patient_ids: Iterable[int], today: date) -> dict[int, str]:
    """For the patient list: 'Approved through MM/DD/YYYY', the open case's status, the last decision, or
    'Needs a PA' for a patient in treatment with nothing on file; '' when the patient has no case and no
    treatment planned."""
    ids = list(patient_ids)
    if not ids:
        return {}
    status: dict[int, str] = {}
    for patient_id, end in session.exec(
        select(col(PaAuthorization.patient_id), col(PaAuthorization.end_on))
        .join(PriorAuthCase, col(PriorAuthCase.id) == PaAuthorization.case_id)
        .where(col(PaAuthorization.patient_id).in_(ids), col(PriorAuthCase.status).in_(IN_FORCE),
               col(PaAuthorization.start_on) <= today, col(PaAuthorization.end_on) >= today)
        .order_by(col(PaAuthorization.end_on))
    ).all():
        status[int(patient_id)] = f"Approved through {end:%m/%d/%Y}"
    latest: dict[int, PriorAuthCase] = {}
    for case in session.exec(select(PriorAuthCase).where(col(PriorAuthCase.patient_id).in_(ids),
                                                         col(PriorAuthCase.status) != "cancelled")
                             .order_by(col(PriorAuthCase.id))).all():
        latest[case.patient_id] = case
    for patient_id, case in latest.items():
        if case.status in PENDING:
            pending = STATUS_LABELS[case.status]
            status[patient_id] = (f"{status[patient_id]}; renewal {pending.lower()}" if patient_id in status
                                  else pending)
        elif patient_id not in status:
            status[patient_id] = STATUS_LABELS[case.status]
    treated = set(session.exec(select(RemsEnrollment.patient_id).where(col(RemsEnrollment.patient_id).in_(ids))))
    treated |= set(session.exec(select(TreatmentCourse.patient_id).where(col(TreatmentCourse.patient_id).in_(ids))))
    for patient_id in ids:
        if patient_id not in status:
            status[patient_id] = "Needs a PA" if patient_id in treated else ""
        elif patient_id in treated and status[patient_id] in ("Denied", "Denial upheld", "Expired"):
            status[patient_id] += " · needs a PA"
    return status
