"""The lead's figures: how prior authorizations, appeals, devices, REMS forms and savings claims are going.

Each function returns plain rows (dicts with human column names), the same rows the screen charts and offers
as CSV, so a chart never shows a figure its CSV does not hold. Dates are the clinic's dates; months are
written MM/YYYY.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from desk.models import Patient, SavingsClaim, TreatmentSession
from desk.models.prior_auth import PaAppeal, PaAuthorization, PaDenial, PaSubmission, PriorAuthCase
from desk.prior_auth.checklist import case_checklist
from desk.prior_auth.devices import account
from desk.prior_auth.payer_rules import payer_name
from desk.prior_auth.worklist import IN_FORCE, table_bytes
from desk.rems.config import RemsSettings

Row = dict[str, Any]
EXPIRY_DAYS = 30
CLAIM_WORDS = {"paid": "Paid", "submitted": "Pending with the program", "draft": "Not yet submitted",
               "denied": "Denied"}


def _month(day: date) -> str:
    return f"{day:%m/%Y}"


def _first_submissions(session: Session, zone: ZoneInfo) -> dict[int, date]:
    first: dict[int, date] = {}
    for case_id, moment in session.exec(
        select(col(PaSubmission.case_id), col(PaSubmission.submitted_at)).order_by(col(PaSubmission.submitted_at))
    ).all():
        first.setdefault(int(case_id), moment.astimezone(zone).date() if moment.tzinfo else moment.date())
    return first


def decisions_by_payer_month(session: Session, *, timezone: str) -> list[Row]:
    """First decisions (not appeal outcomes) per payer and month decided: approved, denied, approval rate (%)
    and the median days from first submission to decision."""
    zone = ZoneInfo(timezone)
    submitted = _first_submissions(session, zone)
    payers = dict(session.exec(select(col(PriorAuthCase.id), col(PriorAuthCase.payer_id))).all())
    decided: list[tuple[int, date, str]] = [
        (int(case_id), day, "approved") for case_id, day in session.exec(
            select(col(PaAuthorization.case_id), col(PaAuthorization.decided_on))
            .where(col(PaAuthorization.via_appeal).is_(False))).all()]
    decided += [(int(case_id), day, "denied") for case_id, day in session.exec(
        select(col(PaDenial.case_id), col(PaDenial.denied_on))).all()]
    groups: dict[tuple[str, str], list[tuple[str, int | None]]] = defaultdict(list)
    for case_id, day, outcome in decided:
        start = submitted.get(case_id)
        groups[(payers[case_id], _month(day))].append((outcome, (day - start).days if start else None))
    rows = []
    for (payer_id, month), outcomes in groups.items():
        approved = sum(1 for o, _ in outcomes if o == "approved")
        days = [d for _, d in outcomes if d is not None]
        rows.append({"Payer": payer_name(payer_id), "Month": month, "Approved": approved,
                     "Denied": len(outcomes) - approved, "Approval rate (%)": round(100 * approved / len(outcomes)),
                     "Median days to decision": median(days) if days else None})
    return sorted(rows, key=lambda r: (r["Month"][3:], r["Month"][:2], r["Payer"]))


def denials_by_reason(session: Session) -> list[Row]:
    """Denials per payer-stated reason (as recorded), most frequent first."""
    counts = Counter(reason.strip() or "No reason recorded"
                     for reason in session.exec(select(col(PaDenial.reason))).all())
    return [{"Reason": reason, "Denials": n} for reason, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))]


def denials_by_criterion(session: Session) -> list[Row]:
    """Denied cases per payer criterion the record did not meet on the denial date, most frequent first."""
    counts: Counter[str] = Counter()
    denied = session.exec(select(PriorAuthCase, PaDenial).join(PaDenial, col(PaDenial.case_id) == PriorAuthCase.id)
                          ).all()
    for case, denial in denied:
        checklist = case_checklist(session, case=case, as_of=denial.denied_on)
        for item in checklist.items:
            if not item.is_group and item.status == "not_met":
                counts[item.text] += 1
    return [{"Criterion not met": text, "Denied cases": n}
            for text, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))]


def appeal_outcomes(session: Session) -> list[Row]:
    """Appeals per level and outcome: won (overturned), lost (upheld) or still waiting."""
    words = {"overturned": "Won", "upheld": "Lost", "": "Waiting for a decision"}
    counts = Counter((level, words.get(outcome, outcome)) for level, outcome in session.exec(
        select(col(PaAppeal.level), col(PaAppeal.outcome))).all())
    return [{"Level": f"Level {level}", "Outcome": outcome, "Appeals": n}
            for (level, outcome), n in sorted(counts.items())]


def expiring_authorizations(session: Session, *, today: date, within_days: int = EXPIRY_DAYS) -> list[Row]:
    """Authorizations in force that end within `within_days`, soonest first."""
    rows = session.exec(
        select(PaAuthorization, PriorAuthCase, Patient)
        .join(PriorAuthCase, col(PriorAuthCase.id) == PaAuthorization.case_id)
        .join(Patient, col(Patient.id) == PaAuthorization.patient_id)
        .where(col(PriorAuthCase.status).in_(IN_FORCE), col(PaAuthorization.end_on) >= today,
               col(PaAuthorization.end_on) <= today + timedelta(days=within_days))
        .order_by(col(PaAuthorization.end_on))
    ).all()
    return [{"Patient": f"{p.last_name}, {p.first_name}", "Payer": payer_name(c.payer_id),
             "Ends": a.end_on.strftime("%m/%d/%Y"), "Days left": (a.end_on - today).days} for a, c, p in rows]


def devices_authorized_vs_used(session: Session, *, today: date) -> list[Row]:
    """Authorizations in force today that count devices: authorized, used and left."""
    found = session.exec(
        select(PaAuthorization, PriorAuthCase, Patient)
        .join(PriorAuthCase, col(PriorAuthCase.id) == PaAuthorization.case_id)
        .join(Patient, col(Patient.id) == PaAuthorization.patient_id)
        .where(col(PriorAuthCase.status).in_(IN_FORCE), col(PaAuthorization.start_on) <= today,
               col(PaAuthorization.end_on) >= today, col(PaAuthorization.approved_devices).is_not(None))
        .order_by(col(PaAuthorization.end_on))
    ).all()
    rows = []
    for authorization, case, patient in found:
        used = account(session, authorization=authorization).used_devices
        authorized = int(authorization.approved_devices or 0)
        rows.append({"Patient": f"{patient.last_name}, {patient.first_name}", "Payer": payer_name(case.payer_id),
                     "Authorized": authorized, "Used": used, "Left": authorized - used,
                     "Ends": authorization.end_on.strftime("%m/%d/%Y")})
    return rows


def rems_forms_on_time(session: Session, *, today: date, settings: RemsSettings) -> list[Row]:
    """Monitoring forms per month of session: submitted on time, submitted late, overdue, not yet due."""
    counts: Counter[tuple[date, str]] = Counter()
    for day, submitted_on in session.exec(
        select(col(TreatmentSession.session_date), col(TreatmentSession.pmf_submitted_on))
    ).all():
        due = day + timedelta(days=settings.pmf_due_days)
        if submitted_on is not None:
            state = "On time" if submitted_on <= due else "Late"
        else:
            state = "Overdue" if today > due else "Not yet due"
        counts[(date(day.year, day.month, 1), state)] += 1
    return [{"Month": _month(month), "Forms": state, "Sessions": n} for (month, state), n in sorted(counts.items())]


def savings_claims_paid_vs_pending(session: Session) -> list[Row]:
    """Savings claims per month of service and where they stand, with the savings paid or expected ($)."""
    totals: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0])
    for claim in session.exec(select(SavingsClaim).where(col(SavingsClaim.status) != "void")).all():
        key = (date(claim.service_date.year, claim.service_date.month, 1), CLAIM_WORDS[claim.status])
        amount = claim.paid_cents if claim.status == "paid" and claim.paid_cents is not None \
            else claim.savings_applied_cents
        totals[key][0] += 1
        totals[key][1] += amount
    return [{"Month": _month(month), "Status": status, "Claims": n, "Savings ($)": round(cents / 100, 2)}
            for (month, status), (n, cents) in sorted(totals.items())]


def figure_csv(*, rows: list[Row]) -> bytes:
    """One figure's rows as CSV (the columns of its first row). Serving it is audited by the web server's
    download guard (desk.web), once per copy fetched."""
    columns = list(rows[0]) if rows else []
    return table_bytes(rows, columns=columns, fmt="csv")
