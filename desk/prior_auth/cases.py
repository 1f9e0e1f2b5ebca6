"""Opening prior-authorization cases from the patient record, with probable-duplicate detection."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from sqlmodel import Session, col, select

from desk.errors import FieldError, NotFound, ValidationFailed
from desk.models import Coverage, Patient, Prescriber, Site, utcnow
from desk.models.prior_auth import (
    INDICATIONS,
    PHASES,
    STATUS_LABELS,
    URGENCIES,
    PaStatusChange,
    PriorAuthCase,
)
from desk.records import check_version, flush_edit

ENTITY = "prior-authorization case"
# A case is open until the payer's decision stands (or the case is closed): a second open case for the
# same patient, payer and indication is most likely a duplicate.
OPEN_STATUSES = ("draft", "ready", "submitted", "pended", "info_requested", "denied", "appealed")


@dataclass(frozen=True)
class CaseOpened:
    """The new case and the open cases it probably duplicates."""

    case: PriorAuthCase
    duplicates: tuple[PriorAuthCase, ...]

    @property
    def warning(self) -> str:
        if not self.duplicates:
            return ""
        ids = ", ".join(f"#{c.id} ({STATUS_LABELS[c.status]})" for c in self.duplicates)
        return f"Probable duplicate: this patient already has an open case for the same payer and indication: {ids}."


def find_open_duplicates(
    session: Session,
    *,
    patient_id: int,
    payer_id: str,
    indication: str,
    exclude_case_id: int | None = None,
) -> Sequence[PriorAuthCase]:
    """Open cases for the same patient, payer and indication (oldest first)."""
    query = select(PriorAuthCase).where(
        PriorAuthCase.patient_id == patient_id,
        PriorAuthCase.payer_id == payer_id,
        PriorAuthCase.indication == indication,
        col(PriorAuthCase.status).in_(OPEN_STATUSES),
    )
    if exclude_case_id is not None:
        query = query.where(PriorAuthCase.id != exclude_case_id)
    return session.exec(query.order_by(col(PriorAuthCase.id))).all()


def open_case(
    session: Session,
    *,
    patient_id: int,
    coverage_id: int,
    indication: str,
    phase: str,
    actor: str,
    urgency: str = "standard",
    notes: str = "",
    now: datetime | None = None,
) -> CaseOpened:
    """Open a draft case for one patient x coverage x indication x phase; flags probable duplicates."""
    errors: list[FieldError] = []
    patient = session.get(Patient, patient_id)
    if patient is None:
        errors.append(FieldError("patient_id", "no such patient"))
    coverage = session.get(Coverage, coverage_id)
    if coverage is None:
        errors.append(FieldError("coverage_id", "no such coverage"))
    elif coverage.patient_id != patient_id:
        errors.append(FieldError("coverage_id", "this coverage belongs to another patient"))
    if indication not in INDICATIONS:
        errors.append(FieldError("indication", f"expected one of {', '.join(INDICATIONS)}"))
    if phase not in PHASES:
        errors.append(FieldError("phase", f"expected one of {', '.join(PHASES)}"))
    if urgency not in URGENCIES:
        errors.append(FieldError("urgency", f"expected one of {', '.join(URGENCIES)}"))
    if errors:
        raise ValidationFailed(errors)
    assert coverage is not None
    duplicates = tuple(
        find_open_duplicates(session, patient_id=patient_id, payer_id=coverage.payer_id, indication=indication)
    )
    moment = now or utcnow()
    case = PriorAuthCase(
        patient_id=patient_id,
        coverage_id=coverage_id,
        payer_id=coverage.payer_id,
        plan_type=coverage.plan_type,
        indication=indication,
        phase=phase,
        urgency=urgency,
        status="draft",
        duplicate_of_id=duplicates[0].id if duplicates else None,
        created_at=moment,
        created_by=actor,
        updated_at=moment,
        status_changed_at=moment,
        notes=notes.strip(),
    )
    session.add(case)
    session.flush()
    assert case.id is not None
    session.add(PaStatusChange(case_id=case.id, at=moment, actor=actor, from_status="", to_status="draft",
                               note="opened"))
    session.flush()
    return CaseOpened(case, duplicates)


def get_case(session: Session, *, case_id: int) -> PriorAuthCase:
    """The case, or NotFound."""
    case = session.get(PriorAuthCase, case_id)
    if case is None:
        raise NotFound(f"No prior-authorization case #{case_id}.")
    return case


def load_for_edit(session: Session, *, case_id: int, expected_version: int) -> PriorAuthCase:
    """The case, refusing a save based on an older version (someone else saved in between)."""
    return check_version(get_case(session, case_id=case_id), expected_version=expected_version, entity=ENTITY)


def flush_or_stale(session: Session) -> None:
    """Flush, turning a concurrent commit detected by the version column into StaleEdit."""
    flush_edit(session, entity=ENTITY)


class CaseRecord(NamedTuple):
    """What a case draws on from the record: the patient and coverage, the patient's site and prescriber."""

    patient: Patient
    coverage: Coverage
    site: Site | None
    prescriber: Prescriber | None


def case_record(session: Session, *, case: PriorAuthCase) -> CaseRecord:
    """The case's patient, coverage, site and prescriber; NotFound when the patient or coverage is gone."""
    patient = session.get(Patient, case.patient_id)
    coverage = session.get(Coverage, case.coverage_id)
    if patient is None or coverage is None:
        raise NotFound("The case's patient or coverage no longer exists.")
    site = session.get(Site, patient.site_id)
    prescriber = session.get(Prescriber, patient.prescriber_id) if patient.prescriber_id else None
    return CaseRecord(patient, coverage, site, prescriber)


def cases_for_patient(session: Session, *, patient_id: int) -> Sequence[PriorAuthCase]:
    """Every case of a patient, newest first."""
    return session.exec(
        select(PriorAuthCase).where(PriorAuthCase.patient_id == patient_id).order_by(col(PriorAuthCase.id).desc())
    ).all()


def status_history(session: Session, *, case_id: int) -> Sequence[PaStatusChange]:
    """The case's status changes, oldest first."""
    return session.exec(
        select(PaStatusChange).where(PaStatusChange.case_id == case_id).order_by(col(PaStatusChange.id))
    ).all()


def save_notes(session: Session, *, case_id: int, expected_version: int, notes: str) -> PriorAuthCase:
    """Replace the case's free-text notes (never PHI in audit: only the field name is logged)."""
    case = load_for_edit(session, case_id=case_id, expected_version=expected_version)
    case.notes = notes.strip()
    case.updated_at = utcnow()
    session.add(case)
    flush_or_stale(session)
    return case


DOSES_MG = (56, 84)
MAX_SESSIONS_REQUESTED = 104
FIRST_DOSES_MG = (28, 56, 84)
# A plausibility bound only: what a payer or the label allows is checked against the payer file, not here.
MAX_SESSIONS_PER_WEEK = 7.0


def save_request(
    session: Session,
    *,
    case_id: int,
    expected_version: int,
    dose_mg: int | None,
    sessions_requested: int | None,
    start_on: date | None,
    urgency: str,
    first_dose_mg: int | None = None,
    sessions_per_week: float | None = None,
) -> PriorAuthCase:
    """What the request asks for (dose per session, sessions, start date, urgency, and for the payer's regimen
    rules the first session's dose and sessions a week; None = not recorded); only before submission."""
    case = load_for_edit(session, case_id=case_id, expected_version=expected_version)
    errors: list[FieldError] = []
    if case.status not in ("draft", "ready"):
        errors.append(FieldError("case", "the request can change only before submission"))
    if dose_mg not in DOSES_MG:
        errors.append(FieldError("dose_mg", "56 mg (2 devices) or 84 mg (3 devices)"))
    if sessions_requested is not None and not 1 <= sessions_requested <= MAX_SESSIONS_REQUESTED:
        errors.append(FieldError("sessions_requested", f"between 1 and {MAX_SESSIONS_REQUESTED}"))
    if urgency not in URGENCIES:
        errors.append(FieldError("urgency", f"expected one of {', '.join(URGENCIES)}"))
    if first_dose_mg is not None and first_dose_mg not in FIRST_DOSES_MG:
        errors.append(FieldError("first_dose_mg", "28 mg, 56 mg or 84 mg (1, 2 or 3 devices), or not recorded"))
    if sessions_per_week is not None and not 0 < sessions_per_week <= MAX_SESSIONS_PER_WEEK:
        errors.append(FieldError("sessions_per_week", f"above 0 and at most {MAX_SESSIONS_PER_WEEK:g} "
                                 "(0.5 = every other week), or not recorded"))
    if errors:
        raise ValidationFailed(errors)
    assert dose_mg is not None
    case.first_dose_mg = first_dose_mg
    case.sessions_per_week = sessions_per_week
    case.dose_mg = dose_mg
    case.sessions_requested = sessions_requested
    case.start_on = start_on
    case.urgency = urgency
    case.updated_at = utcnow()
    session.add(case)
    flush_or_stale(session)
    return case


@dataclass(frozen=True)
class CaseOverview:
    """What the case screen's header shows."""

    case: PriorAuthCase
    patient_name: str
    mrn: str
    member_id: str
    coverage_priority: str
    benefit: str | None
    open_duplicates: tuple[int, ...]


def case_overview(session: Session, *, case_id: int) -> CaseOverview:
    """The case with its patient's name and MRN, its coverage and any open probable duplicates."""
    case = get_case(session, case_id=case_id)
    patient = session.get(Patient, case.patient_id)
    coverage = session.get(Coverage, case.coverage_id)
    duplicates: tuple[int, ...] = ()
    if case.status in OPEN_STATUSES:
        duplicates = tuple(c.id for c in find_open_duplicates(
            session, patient_id=case.patient_id, payer_id=case.payer_id, indication=case.indication,
            exclude_case_id=case.id) if c.id is not None)
    return CaseOverview(
        case=case,
        patient_name=patient.display_name if patient else "",
        mrn=patient.mrn if patient else "",
        member_id=coverage.member_id if coverage else "",
        coverage_priority=coverage.priority if coverage else "",
        benefit=coverage.benefit if coverage else None,
        open_duplicates=duplicates,
    )


def coverage_choices(session: Session, *, patient_id: int) -> Sequence[Coverage]:
    """The patient's coverages, primary first (for opening a case)."""
    order = {"primary": 0, "secondary": 1, "tertiary": 2}
    rows = session.exec(select(Coverage).where(Coverage.patient_id == patient_id)).all()
    return sorted(rows, key=lambda c: (order.get(c.priority, 9), c.id or 0))
