"""The Patient Monitoring Form: its data from a session, its status and its 7-day deadline.

REMS: a PMF is filed after every outpatient treatment session, within 7 days (counted in calendar days;
shared/domain/spravato.md §1 [1][3][7]), online at SPRAVATOrems.com or by fax 1-877-778-0091.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from desk.auth import CurrentUser
from desk.errors import FieldError, NotFound, ValidationFailed
from desk.models import PMF_CHANNELS, Patient, SessionReading, Site, TreatmentSession
from desk.records import check_version
from desk.rems.concomitant import PMF_CATEGORY_KEYS
from desk.rems.config import RemsSettings, load_rems_settings
from desk.rems.enrollment import get_enrollment, is_enrolled
from desk.rems.permissions import require_record
from desk.rems.sessions import get_session, is_first_treatment, readings_of

REMS_FAX = "1-877-778-0091"
STANDARD_DOSES_MG = (56, 84)


def pmf_due_date(session_date: date, *, settings: RemsSettings | None = None) -> date:
    """Session date + the clinic's PMF window (default 7 calendar days)."""
    settings = settings or load_rems_settings()
    return session_date + timedelta(days=settings.pmf_due_days)


def _bp(readings: Sequence[SessionReading], kind: str, *, last: bool) -> tuple[int | None, int | None]:
    with_bp = [r for r in readings if r.kind == kind and r.systolic is not None and r.diastolic is not None]
    if not with_bp:
        return None, None
    chosen = with_bp[-1] if last else with_bp[0]
    return chosen.systolic, chosen.diastolic


def pmf_data(session: Session, *, session_id: int) -> dict[str, Any]:
    """The form's data in the shape of forms/rems_pmf.yaml (paths are the contract with the field map)."""
    ts = get_session(session, session_id=session_id)
    patient = session.get(Patient, ts.patient_id)
    site = session.get(Site, ts.site_id)
    if patient is None or site is None:
        raise NotFound("The session's patient or site no longer exists.")
    readings = readings_of(session, session_id=session_id)
    pre = _bp(readings, "pre", last=True)
    post = _bp(readings, "post_40", last=False)
    discharge = _bp(readings, "discharge", last=True)
    spo2_values = [r.spo2 for r in readings if r.spo2 is not None]
    total_minutes = (
        int((ts.discharged_at - ts.first_device_at).total_seconds() // 60)
        if ts.discharged_at is not None and ts.first_device_at is not None
        else None
    )
    classes = {c for c in ts.concomitant_classes.split(",") if c}
    concomitant = {key: category in classes for key, category in PMF_CATEGORY_KEYS.items()}
    concomitant["none"] = not any(concomitant.values())
    return {
        "patient": {
            "first_name": patient.first_name,
            "middle_initial": patient.middle_initial,
            "last_name": patient.last_name,
            "dob": patient.dob,
            "sex": patient.sex,
        },
        "first_treatment": is_first_treatment(session, ts=ts),
        "rems_enrolled": is_enrolled(get_enrollment(session, patient_id=ts.patient_id)),
        "concomitant": concomitant,
        "monitoring_hcp": {
            "first_name": ts.monitoring_hcp_first_name,
            "last_name": ts.monitoring_hcp_last_name,
            "phone": ts.monitoring_hcp_phone,
            "email": ts.monitoring_hcp_email,
        },
        "site": {
            "name": site.name,
            "address_line": site.address_line,
            "address_line2": site.address_line2,
            "city": site.city,
            "state": site.state,
            "zip_code": site.zip_code,
            "rems_setting_id": site.rems_setting_id,
        },
        "session": {
            "date": ts.session_date,
            "dose_mg": ts.dose_mg,
            "dose_other_mg": None if ts.dose_mg in STANDARD_DOSES_MG else ts.dose_mg,
            "lot_number": ts.lot_number,
            "devices": ts.devices,
            "total_monitoring_minutes": total_minutes,
            "ready_to_leave_minutes": ts.ready_to_leave_minutes,
            "vitals_ok_before": bool(ts.vitals_ok_before),
            "vitals_ok_before_completion": bool(ts.vitals_ok_before_completion),
            "bp_pre_systolic": pre[0],
            "bp_pre_diastolic": pre[1],
            "bp_40_systolic": post[0],
            "bp_40_diastolic": post[1],
            "bp_discharge_systolic": discharge[0],
            "bp_discharge_diastolic": discharge[1],
            "sedation": ts.sedation,
            "dissociation": ts.dissociation,
            "respiratory_depression": ts.respiratory_depression,
            "pulse_oximetry_done": bool(spo2_values),
            "spo2_lowest": min(spo2_values) if spo2_values else None,
            "serious_adverse_event": ts.serious_adverse_event,
            "sae_details": ts.sae_details,
        },
    }


def mark_submitted(
    session: Session,
    *,
    user: CurrentUser,
    session_id: int,
    expected_version: int,
    submitted_on: date,
    channel: str,
    confirmation_number: str,
    today: date,
) -> TreatmentSession:
    """ready → submitted, with the date, channel (online or fax) and the REMS confirmation number."""
    require_record(user)
    ts = check_version(
        get_session(session, session_id=session_id), expected_version=expected_version, entity="treatment session"
    )
    errors: list[FieldError] = []
    if ts.pmf_status == "submitted":
        errors.append(FieldError("pmf_status", "the monitoring form is already submitted"))
    elif ts.pmf_status != "ready":
        errors.append(FieldError("pmf_status", "the session is not complete yet: record the discharge first"))
    if submitted_on > today:
        errors.append(FieldError("submitted_on", "cannot be in the future"))
    if submitted_on < ts.session_date:
        errors.append(FieldError("submitted_on", "cannot be before the session date"))
    if channel not in PMF_CHANNELS:
        errors.append(FieldError("channel", "choose online or fax"))
    confirmation = confirmation_number.strip()
    if channel == "online" and not confirmation:
        errors.append(FieldError("confirmation_number", "enter the confirmation number SPRAVATOrems.com showed"))
    if len(confirmation) > 40:
        errors.append(FieldError("confirmation_number", "at most 40 characters"))
    if errors:
        raise ValidationFailed(errors)
    ts.pmf_status = "submitted"
    ts.pmf_submitted_on = submitted_on
    ts.pmf_channel = channel
    ts.pmf_confirmation = confirmation
    session.add(ts)
    session.flush()
    return ts


@dataclass(frozen=True)
class FormDue:
    """A monitoring form not yet submitted, with its deadline."""

    session_id: int
    patient_id: int
    session_date: date
    status: str
    due_date: date
    days_left: int

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


def forms_open(
    session: Session, *, today: date, settings: RemsSettings | None = None, site_id: int | None = None
) -> list[FormDue]:
    """Every form not yet submitted, soonest deadline first."""
    settings = settings or load_rems_settings()
    query = select(TreatmentSession).where(TreatmentSession.pmf_status != "submitted")
    if site_id is not None:
        query = query.where(TreatmentSession.site_id == site_id)
    rows = session.exec(query.order_by(col(TreatmentSession.session_date), col(TreatmentSession.id))).all()
    result = []
    for ts in rows:
        assert ts.id is not None
        due = pmf_due_date(ts.session_date, settings=settings)
        result.append(FormDue(ts.id, ts.patient_id, ts.session_date, ts.pmf_status, due, (due - today).days))
    return result


def forms_overdue(session: Session, *, today: date, settings: RemsSettings | None = None) -> list[FormDue]:
    return [f for f in forms_open(session, today=today, settings=settings) if f.overdue]


def forms_due_soon(session: Session, *, today: date, settings: RemsSettings | None = None) -> list[FormDue]:
    """Forms whose deadline is today or within the clinic's due-soon window (default 2 days)."""
    settings = settings or load_rems_settings()
    return [f for f in forms_open(session, today=today, settings=settings)
            if 0 <= f.days_left <= settings.due_soon_days]


def ready_sessions(session: Session, *, start: date, end: date) -> Sequence[TreatmentSession]:
    """Sessions dated start..end whose form is ready to submit."""
    return session.exec(
        select(TreatmentSession)
        .where(
            TreatmentSession.pmf_status == "ready",
            col(TreatmentSession.session_date) >= start,
            col(TreatmentSession.session_date) <= end,
        )
        .order_by(col(TreatmentSession.session_date), col(TreatmentSession.id))
    ).all()
