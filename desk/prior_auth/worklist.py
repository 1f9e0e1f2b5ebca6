"""The billing worklist: counts by status, today's actions, aging, a filtered paged table and exports.

Every list here is an aggregate or paged SQL query on indexed columns, so the screen costs about the
same with fifty cases or twenty thousand.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, event, exists, func, literal, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from desk.audit import record_event
from desk.models import PLAN_TYPE_NAMES, Patient
from desk.models.prior_auth import STATUS_LABELS, PaAuthorization, PaDeviceEntry, PriorAuthCase
from desk.models.rems import SessionDevice, TreatmentCourse, TreatmentSession
from desk.prior_auth.cases import OPEN_STATUSES
from desk.prior_auth.clocks import MAX_DEVICES_PER_SESSION, devices_needed, local_text
from desk.prior_auth.payer_rules import payer_namer, renewal_leads

WAITING_ON_PAYER = ("submitted", "pended")
IN_FORCE = ("approved", "overturned")
AGING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-7 days", 0, 7),
    ("8-14 days", 8, 14),
    ("15-30 days", 15, 30),
    ("31-60 days", 31, 60),
    ("over 60 days", 61, None),
)
# The most two weeks of the label schedule can call for: twice weekly x 3 devices (84 mg).
MAX_TWO_WEEK_DEVICES = 4 * MAX_DEVICES_PER_SESSION
INFO_DUE_SOON_DAYS = 2
CASE_COLUMNS = (
    "case", "patient", "mrn", "payer", "plan_type", "indication", "phase", "status", "urgency",
    "created", "submitted", "decision_due", "info_due", "auth_number", "auth_end", "approved_devices",
    "policy_changed",
)


@dataclass(frozen=True)
class WorklistFilter:
    """What the table and exports show; empty tuples mean 'all'."""

    statuses: tuple[str, ...] = ()
    payer_ids: tuple[str, ...] = ()
    indications: tuple[str, ...] = ()
    phases: tuple[str, ...] = ()
    urgencies: tuple[str, ...] = ()
    search: str = ""

    def where(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        for column, values in (
            (PriorAuthCase.status, self.statuses),
            (PriorAuthCase.payer_id, self.payer_ids),
            (PriorAuthCase.indication, self.indications),
            (PriorAuthCase.phase, self.phases),
            (PriorAuthCase.urgency, self.urgencies),
        ):
            if values:
                clauses.append(col(column).in_(values))
        text = self.search.strip().lstrip("#")
        if text:
            if text.isdigit():
                clauses.append(or_(col(PriorAuthCase.id) == int(text), col(Patient.mrn) == text))
            else:
                like = f"%{text.lower()}%"
                clauses.append(or_(func.lower(Patient.mrn).like(like), func.lower(Patient.last_name).like(like),
                                   func.lower(PriorAuthCase.auth_number).like(like)))
        return clauses


def status_counts(session: Session, *, filters: WorklistFilter | None = None) -> dict[str, int]:
    """Cases per status (every status present, zero when none)."""
    filters = filters or WorklistFilter()
    query = select(PriorAuthCase.status, func.count()).select_from(PriorAuthCase)
    if filters.search.strip():
        query = query.join(Patient, col(Patient.id) == PriorAuthCase.patient_id)
    rows = session.exec(query.where(*filters.where()).group_by(PriorAuthCase.status)).all()
    counts = dict.fromkeys(STATUS_LABELS, 0)
    counts.update({status: int(n) for status, n in rows})
    return counts


def payer_ids_in_use(session: Session) -> list[str]:
    """Payers that have at least one case (for the filter list)."""
    return list(session.exec(select(PriorAuthCase.payer_id).distinct().order_by(PriorAuthCase.payer_id)).all())


@dataclass(frozen=True)
class ActionItem:
    """One thing to do today on one case."""

    case_id: int
    patient: str
    mrn: str
    payer_id: str
    status: str
    due: str
    detail: str
    patient_id: int | None = None

    def as_row(self) -> dict[str, Any]:
        return {"case": self.case_id, "patient": self.patient, "mrn": self.mrn, "payer": self.payer_id,
                "status": STATUS_LABELS[self.status], "due": self.due, "detail": self.detail}


@dataclass(frozen=True)
class ActionList:
    """A page of action items and how many there are in all."""

    title: str
    total: int
    items: tuple[ActionItem, ...] = field(default_factory=tuple)


ACTION_TITLES = {
    "overdue": "Decisions overdue",
    "info_due": "Information due",
    "expiring": "Authorizations to renew",
    "idle_drafts": "Drafts idle",
    "devices_low": "Devices running out",
    "policy_changed": "Policy changed",
}


def _patient_name(last: str, first: str) -> str:
    return f"{last}, {first}"


def _page(session: Session, where: Sequence[ColumnElement[bool]], order: Any, limit: int) -> tuple[int, list[Any]]:
    total = session.exec(select(func.count()).select_from(PriorAuthCase).where(*where)).one()
    rows = session.exec(
        select(PriorAuthCase, Patient.last_name, Patient.first_name, Patient.mrn)
        .join(Patient, col(Patient.id) == PriorAuthCase.patient_id)
        .where(*where).order_by(order).limit(limit)
    ).all()
    return int(total), list(rows)


def renewal_window(today: date, leads: Mapping[str, int], default_lead: int) -> ColumnElement[bool]:
    """Cases whose authorization ends within their payer's renewal lead time."""
    special = {payer: lead for payer, lead in leads.items() if lead != default_lead}
    clauses: list[ColumnElement[bool]] = [
        and_(col(PriorAuthCase.payer_id) == payer, col(PriorAuthCase.auth_end_on) <= today + timedelta(days=lead))
        for payer, lead in special.items()
    ]
    clauses.append(and_(col(PriorAuthCase.payer_id).not_in(list(special)) if special else literal(True),
                        col(PriorAuthCase.auth_end_on) <= today + timedelta(days=default_lead)))
    return or_(*clauses)


def no_follow_up_case() -> ColumnElement[bool]:
    """Cases with no later, uncancelled case for the same patient, payer and indication."""
    later = aliased(PriorAuthCase)
    return ~exists().where(
        col(later.patient_id) == PriorAuthCase.patient_id,
        col(later.payer_id) == PriorAuthCase.payer_id,
        col(later.indication) == PriorAuthCase.indication,
        col(later.id) > PriorAuthCase.id,
        col(later.status).not_in(("cancelled",)),
    )


def in_force_on(today: date) -> list[ColumnElement[bool]]:
    """Authorizations of approved or overturned cases whose window holds `today` and that count devices."""
    return [col(PriorAuthCase.status).in_(IN_FORCE), col(PaAuthorization.start_on) <= today,
            col(PaAuthorization.end_on) >= today, col(PaAuthorization.approved_devices).is_not(None)]


def _used_by_authorization(today: date) -> tuple[Any, Any]:
    """Devices used per authorization in force today: REMS log devices and case entries, grouped in SQL."""
    # Devices administered, counted as desk.rems.sessions.devices_used counts them.
    rems = (
        select(col(PaAuthorization.id).label("auth_id"), func.count(col(SessionDevice.id)).label("used"))
        .join(PriorAuthCase, col(PriorAuthCase.id) == PaAuthorization.case_id)
        .join(TreatmentSession, and_(col(TreatmentSession.patient_id) == PaAuthorization.patient_id,
                                     col(TreatmentSession.session_date) >= PaAuthorization.start_on,
                                     col(TreatmentSession.session_date) <= PaAuthorization.end_on))
        .join(SessionDevice, col(SessionDevice.treatment_session_id) == TreatmentSession.id)
        .where(*in_force_on(today)).group_by(col(PaAuthorization.id)).subquery()
    )
    manual = (
        select(col(PaAuthorization.id).label("auth_id"), func.sum(PaDeviceEntry.devices).label("used"))
        .join(PriorAuthCase, col(PriorAuthCase.id) == PaAuthorization.case_id)
        .join(PaDeviceEntry, and_(col(PaDeviceEntry.patient_id) == PaAuthorization.patient_id,
                                  col(PaDeviceEntry.session_date) >= PaAuthorization.start_on,
                                  col(PaDeviceEntry.session_date) <= PaAuthorization.end_on))
        .where(*in_force_on(today)).group_by(col(PaAuthorization.id)).subquery()
    )
    return rems, manual


_LOW_DEVICES = "low_device_items"
_LOW_DEVICES_HOOKED = "low_device_items_hooked"


@lru_cache(maxsize=4096)
def _need(indication: str, course_start: date | None, today: date, per_session: int | None, interval: int) -> int:
    return devices_needed(indication=indication, course_start=course_start, start=today,
                          devices_per_session=per_session, maintenance_interval_days=interval)


def devices_low(session: Session, *, today: date, limit: int) -> ActionList:
    """Authorizations in force whose devices left will not cover the next two weeks of the label schedule."""
    items = _low_device_items(session, today=today)
    return ActionList(ACTION_TITLES["devices_low"], len(items), items[:limit])


def _low_device_items(session: Session, *, today: date) -> tuple[ActionItem, ...]:
    # Kept for the rest of the unit of work (the Today page asks twice: its case actions and billing's queue);
    # any flush in it forgets them.
    kept: tuple[date, tuple[ActionItem, ...]] | None = session.info.get(_LOW_DEVICES)
    if kept is not None and kept[0] == today:
        return kept[1]
    rems, manual = _used_by_authorization(today)
    remaining: Any = (col(PaAuthorization.approved_devices) - func.coalesce(rems.c.used, 0)
                      - func.coalesce(manual.c.used, 0)).label("remaining")
    candidates = session.execute(
        sa_select(col(PriorAuthCase.id), col(PriorAuthCase.patient_id), col(PriorAuthCase.payer_id),
                  col(PriorAuthCase.status), col(PriorAuthCase.indication), col(PaAuthorization.end_on),
                  col(Patient.last_name), col(Patient.first_name), col(Patient.mrn), remaining)
        .select_from(PaAuthorization)
        .join(PriorAuthCase, col(PriorAuthCase.id) == PaAuthorization.case_id)
        .join(Patient, col(Patient.id) == PriorAuthCase.patient_id)
        .outerjoin(rems, rems.c.auth_id == PaAuthorization.id)
        .outerjoin(manual, manual.c.auth_id == PaAuthorization.id)
        .where(*in_force_on(today), remaining < MAX_TWO_WEEK_DEVICES)
        .order_by(remaining, col(PriorAuthCase.id))
    ).all()
    items: list[ActionItem] = []
    if candidates:
        patient_ids = {int(row[1]) for row in candidates}
        courses = {c.patient_id: c for c in session.exec(
            select(TreatmentCourse).where(col(TreatmentCourse.patient_id).in_(patient_ids))).all()}
        latest = _latest_devices(session, patient_ids)
        for case_id, patient_id, payer_id, status, indication, end_on, last, first, mrn, left in candidates:
            course = courses.get(patient_id)
            need = _need(course.indication if course else indication, course.start_date if course else None,
                         today, latest.get(patient_id), course.maintenance_interval_days if course else 7)
            if int(left) < need:
                items.append(ActionItem(case_id, _patient_name(last, first), mrn, payer_id, status,
                                        f"{end_on:%m/%d/%Y}", f"{int(left)} devices left; next two weeks need {need}",
                                        patient_id=int(patient_id)))
    found = tuple(items)
    if not session.info.get(_LOW_DEVICES_HOOKED):
        event.listen(session, "after_flush", lambda flushed, _context: flushed.info.pop(_LOW_DEVICES, None))
        session.info[_LOW_DEVICES_HOOKED] = True
    session.info[_LOW_DEVICES] = (today, found)
    return found


def _latest_devices(session: Session, patient_ids: Iterable[int]) -> dict[int, int]:
    ids = list(patient_ids)
    ranked = (
        select(TreatmentSession.patient_id, TreatmentSession.devices,
               func.row_number().over(partition_by=col(TreatmentSession.patient_id),
                                      order_by=col(TreatmentSession.session_date).desc()).label("rank"))
        .where(col(TreatmentSession.patient_id).in_(ids)).subquery()
    )
    found = {int(p): int(d) for p, d in session.exec(
        select(ranked.c.patient_id, ranked.c.devices).where(ranked.c.rank == 1)).all()}
    manual = (
        select(PaDeviceEntry.patient_id, PaDeviceEntry.devices,
               func.row_number().over(partition_by=col(PaDeviceEntry.patient_id),
                                      order_by=col(PaDeviceEntry.session_date).desc()).label("rank"))
        .where(col(PaDeviceEntry.patient_id).in_(ids)).subquery()
    )
    for p, d in session.exec(select(manual.c.patient_id, manual.c.devices).where(manual.c.rank == 1)).all():
        found.setdefault(int(p), int(d))
    return found


def todays_actions(
    session: Session,
    *,
    now: datetime,
    today: date,
    timezone: str,
    default_lead_days: int,
    draft_idle_days: int,
    limit: int = 25,
) -> dict[str, ActionList]:
    """Overdue decisions, information due, renewals due, idle drafts, devices running out and cases whose payer
    file changed their criteria."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(timezone)

    def local(moment: datetime | None) -> str:
        return local_text(moment, zone)

    result: dict[str, ActionList] = {}

    where = [col(PriorAuthCase.status).in_(WAITING_ON_PAYER), col(PriorAuthCase.decision_due_at) < now]
    total, rows = _page(session, where, col(PriorAuthCase.decision_due_at), limit)
    result["overdue"] = ActionList(ACTION_TITLES["overdue"], total, tuple(
        ActionItem(c.id, _patient_name(last, first), mrn, c.payer_id, c.status, local(c.decision_due_at),
                   f"decision was due {local(c.decision_due_at)}") for c, last, first, mrn in rows))

    where = [col(PriorAuthCase.status) == "info_requested",
             col(PriorAuthCase.info_due_on) <= today + timedelta(days=INFO_DUE_SOON_DAYS)]
    total, rows = _page(session, where, col(PriorAuthCase.info_due_on), limit)
    result["info_due"] = ActionList(ACTION_TITLES["info_due"], total, tuple(
        ActionItem(c.id, _patient_name(last, first), mrn, c.payer_id, c.status, f"{c.info_due_on:%m/%d/%Y}",
                   "overdue" if c.info_due_on < today else "due soon") for c, last, first, mrn in rows))

    leads = renewal_leads(payer_ids_in_use(session))
    where = [col(PriorAuthCase.status).in_(IN_FORCE), col(PriorAuthCase.auth_end_on) >= today,
             renewal_window(today, leads, default_lead_days), no_follow_up_case()]
    total, rows = _page(session, where, col(PriorAuthCase.auth_end_on), limit)
    result["expiring"] = ActionList(ACTION_TITLES["expiring"], total, tuple(
        ActionItem(c.id, _patient_name(last, first), mrn, c.payer_id, c.status, f"{c.auth_end_on:%m/%d/%Y}",
                   f"ends in {(c.auth_end_on - today).days} days; no renewal case yet")
        for c, last, first, mrn in rows))

    idle_since = now - timedelta(days=draft_idle_days)
    where = [col(PriorAuthCase.status).in_(("draft", "ready")), col(PriorAuthCase.updated_at) < idle_since]
    total, rows = _page(session, where, col(PriorAuthCase.updated_at), limit)
    result["idle_drafts"] = ActionList(f"{ACTION_TITLES['idle_drafts']} over {draft_idle_days} days", total, tuple(
        ActionItem(c.id, _patient_name(last, first), mrn, c.payer_id, c.status, local(c.updated_at),
                   f"untouched for {(now - c.updated_at).days} days") for c, last, first, mrn in rows))

    result["devices_low"] = devices_low(session, today=today, limit=limit)

    where = [col(PriorAuthCase.status).in_(OPEN_STATUSES), col(PriorAuthCase.policy_changed_at).is_not(None)]
    total, rows = _page(session, where, col(PriorAuthCase.policy_changed_at), limit)
    result["policy_changed"] = ActionList(ACTION_TITLES["policy_changed"], total, tuple(
        ActionItem(c.id, _patient_name(last, first), mrn, c.payer_id, c.status, local(c.policy_changed_at),
                   "the payer file changed this case's criteria; review and acknowledge")
        for c, last, first, mrn in rows))
    return result


def aging(session: Session, *, now: datetime, filters: WorklistFilter | None = None) -> list[dict[str, Any]]:
    """Open cases by age since opening and status: [{bucket, status, cases}] for the aging chart."""
    filters = filters or WorklistFilter()
    whens = []
    for label, low, _high in reversed(AGING_BUCKETS):
        whens.append((col(PriorAuthCase.created_at) <= now - timedelta(days=low), literal(label)))
    bucket = case(*whens, else_=literal(AGING_BUCKETS[0][0])).label("bucket")
    query = select(bucket, PriorAuthCase.status, func.count()).select_from(PriorAuthCase)
    if filters.search.strip():
        query = query.join(Patient, col(Patient.id) == PriorAuthCase.patient_id)
    rows = session.exec(
        query.where(col(PriorAuthCase.status).in_(OPEN_STATUSES), *filters.where())
        .group_by(bucket, PriorAuthCase.status)
    ).all()
    order = [label for label, _low, _high in AGING_BUCKETS]
    found = [{"bucket": b, "status": STATUS_LABELS[s], "cases": int(n)} for b, s, n in rows]
    return sorted(found, key=lambda r: (order.index(r["bucket"]), r["status"]))


SortKey = Literal["updated", "created", "decision_due", "auth_end", "case"]
_SORTS: Mapping[str, Any] = {
    "updated": col(PriorAuthCase.updated_at).desc(),
    "created": col(PriorAuthCase.created_at).desc(),
    "decision_due": col(PriorAuthCase.decision_due_at).asc(),
    "auth_end": col(PriorAuthCase.auth_end_on).asc(),
    "case": col(PriorAuthCase.id).desc(),
}


@dataclass(frozen=True)
class CasePage:
    """One page of the case table."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _case_row(c: PriorAuthCase, last: str, first: str, mrn: str) -> dict[str, Any]:
    return {
        "case": c.id, "patient": _patient_name(last, first), "mrn": mrn, "payer": c.payer_id,
        "plan_type": c.plan_type, "indication": c.indication, "phase": c.phase, "status": STATUS_LABELS[c.status],
        "urgency": c.urgency, "created": c.created_at, "submitted": c.submitted_at,
        "decision_due": c.decision_due_at, "info_due": c.info_due_on, "auth_number": c.auth_number,
        "auth_end": c.auth_end_on, "approved_devices": c.approved_devices,
        "policy_changed": bool(c.policy_change),
    }


def _case_query(filters: WorklistFilter) -> Any:
    return (select(PriorAuthCase, Patient.last_name, Patient.first_name, Patient.mrn)
            .join(Patient, col(Patient.id) == PriorAuthCase.patient_id).where(*filters.where()))


def case_page(session: Session, *, filters: WorklistFilter | None = None, page: int = 1, page_size: int = 50,
              sort: str = "updated") -> CasePage:
    """A page of cases matching the filters."""
    filters = filters or WorklistFilter()
    page_size = max(1, min(page_size, 500))
    total = session.exec(
        select(func.count()).select_from(PriorAuthCase)
        .join(Patient, col(Patient.id) == PriorAuthCase.patient_id).where(*filters.where())
    ).one()
    last_page = max(1, -(-int(total) // page_size))
    page = max(1, min(page, last_page))
    rows = session.exec(
        _case_query(filters).order_by(_SORTS.get(sort, _SORTS["updated"]), col(PriorAuthCase.id).desc())
        .offset((page - 1) * page_size).limit(page_size)
    ).all()
    return CasePage([_case_row(*r) for r in rows], int(total), page, page_size)


def all_case_rows(session: Session, *, filters: WorklistFilter | None = None) -> list[dict[str, Any]]:
    """Every case matching the filters (for export)."""
    rows = session.exec(_case_query(filters or WorklistFilter()).order_by(col(PriorAuthCase.id))).all()
    return [_case_row(*r) for r in rows]


ExportFormat = Literal["csv", "xlsx"]
EXPORT_MIME = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


# Column headers of exported tables, in words; a column of date-times also names the clinic's time zone.
COLUMN_TITLES = {
    "case": "Case", "patient": "Patient", "mrn": "MRN", "payer": "Payer", "plan_type": "Plan type",
    "indication": "Indication", "phase": "Phase", "status": "Status", "urgency": "Review", "created": "Opened",
    "submitted": "Submitted", "decision_due": "Decision due", "info_due": "Information due",
    "auth_number": "Authorization number", "auth_end": "Authorization ends", "approved_devices": "Approved devices",
    "policy_changed": "Policy changed", "due": "Due", "detail": "Detail",
}


def _header(column: str, rows: Sequence[Mapping[str, Any]], timezone: str) -> str:
    title = COLUMN_TITLES.get(column, column)
    if any(isinstance(row.get(column), datetime) for row in rows):
        return f"{title} ({timezone})"
    return title


def _cell(value: Any, zone: ZoneInfo) -> Any:
    if value is None or isinstance(value, date):
        return local_text(value, zone)
    # A leading = + - @ would run as a formula in a spreadsheet (CSV/formula injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def rows_in_words(rows: Sequence[Mapping[str, Any]], *, columns: Sequence[str], timezone: str
                  ) -> list[dict[str, Any]]:
    """Rows as a screen shows them: headers in words, payers and plan types by name, dates MM/DD/YYYY and
    date-times in the clinic's time zone (the case number stays a number)."""
    zone = ZoneInfo(timezone)
    payer_name_of = payer_namer()
    shown: list[dict[str, Any]] = []
    for row in rows:
        words: dict[str, Any] = {}
        for name in columns:
            value = row.get(name)
            if name == "payer" and isinstance(value, str):
                value = payer_name_of(value)
            elif name == "plan_type" and isinstance(value, str):
                value = PLAN_TYPE_NAMES.get(value, value)
            elif name == "urgency" and isinstance(value, str):
                value = value.capitalize()
            elif isinstance(value, bool):
                value = "yes" if value else ""
            elif isinstance(value, date):
                value = local_text(value, zone)
            # None stays None: a blank in a number column keeps the column numeric for the table.
            words[COLUMN_TITLES.get(name, name)] = value
        shown.append(words)
    return shown


def table_bytes(rows: Sequence[Mapping[str, Any]], *, columns: Sequence[str], fmt: ExportFormat,
                sheet: str = "export", timezone: str = "UTC") -> bytes:
    """Rows as CSV (UTF-8 with BOM, so Excel opens it cleanly) or as an Excel workbook: headers in words, dates
    MM/DD/YYYY, date-times in `timezone` (named in the header)."""
    zone = ZoneInfo(timezone)
    headers = [_header(name, rows, timezone) for name in columns]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([_cell(row.get(name), zone) for name in columns])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet[:31])
    worksheet.append(headers)
    for row in rows:
        worksheet.append([_cell(row.get(name), zone) for name in columns])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def export_table(session: Session, *, name: str, rows: Sequence[Mapping[str, Any]], columns: Sequence[str],
                 fmt: ExportFormat, timezone: str) -> bytes:
    """The table as a file, with an audited 'export' event (table name, format, row count; no PHI)."""
    if fmt not in EXPORT_MIME:
        raise ValueError(f"unknown export format {fmt!r}")
    data = table_bytes(rows, columns=columns, fmt=fmt, sheet=name, timezone=timezone)
    record_event(session, action="export", entity="pa_case", detail=f"{name} as {fmt}: {len(rows)} rows")
    return data
