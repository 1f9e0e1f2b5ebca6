"""The requested SPRAVATO schedule checked against the label and the payer's approval limits before a case is
marked ready, with the schedule that fits proposed instead.

Label (desk/reference/spravato.yaml, shared/domain/spravato.md §2 [11]): TRD induction starts at 56 mg on day 1
and runs twice weekly in weeks 1-4, weekly in weeks 5-8; MDSI is 84 mg twice weekly for 4 weeks. Payer limits
come from the payer file's approval (length, device caps per period, dose caps). A request that deviates from
either needs the prescriber's stated reason, which the letter then gives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session

from desk.errors import FieldError, ValidationFailed
from desk.models import utcnow
from desk.models.prior_auth import PriorAuthCase
from desk.policies.schema import Approval
from desk.prior_auth.cases import flush_or_stale, load_for_edit
from desk.reference.spravato import spravato
from desk.rems.course import label_schedule

MAX_REASON_LENGTH = 600


@dataclass(frozen=True)
class PlannedDose:
    on: date
    mg: int


@dataclass(frozen=True)
class RequestSchedule:
    """Sessions with their dates and doses, and the wording of the request form."""

    doses: tuple[PlannedDose, ...]
    frequency: str
    duration: str

    @property
    def sessions(self) -> int:
        return len(self.doses)

    @property
    def devices(self) -> int:
        return sum(spravato().devices_for(d.mg) for d in self.doses)

    @property
    def days(self) -> int:
        return (self.doses[-1].on - self.doses[0].on).days + 1 if self.doses else 0

    @property
    def weeks(self) -> int:
        return math.ceil(self.days / 7)

    def describe(self) -> str:
        doses = sorted({d.mg for d in self.doses}, key=[d.mg for d in self.doses].index)
        return (f"{self.sessions} sessions over {self.weeks} weeks at " + " then ".join(f"{mg} mg" for mg in doses)
                + f" ({self.devices} devices)")


@dataclass(frozen=True)
class ScheduleCheck:
    """What the request asks for, where it departs from the label or the payer, and what would fit."""

    requested: RequestSchedule
    deviations: tuple[str, ...]
    proposal: RequestSchedule | None

    @property
    def fits(self) -> bool:
        return not self.deviations


def _frequency(indication: str, phase: str, sessions: int) -> str:
    if indication == "MDSI":
        return "Twice weekly"
    if phase == "continuation":
        return "Weekly or every 2 weeks (maintenance)"
    if sessions <= 8:
        return "Twice weekly (induction, weeks 1-4)"
    if sessions <= 12:
        return "Twice weekly weeks 1-4, then weekly weeks 5-8"
    return "Twice weekly weeks 1-4, weekly weeks 5-8, then weekly or every 2 weeks"


def label_request(*, indication: str, phase: str, dose_mg: int, sessions: int, start: date) -> RequestSchedule:
    """The requested sessions laid on the label schedule: dates, and the label's first dose where it applies."""
    if phase == "continuation" and indication == "TRD":
        dates = [start + timedelta(days=7 * n) for n in range(sessions)]
    else:
        plan = label_schedule(indication=indication, start_date=start,
                              through=start + timedelta(weeks=2 * sessions + 8))
        dates = [p.planned_on for p in plan[:sessions]]
    first = spravato().label_schedule["TRD"].first_session_mg if indication == "TRD" and phase == "initial" \
        else dose_mg
    doses = tuple(PlannedDose(on, first if index == 0 else dose_mg) for index, on in enumerate(dates))
    schedule = RequestSchedule(doses, _frequency(indication, phase, len(doses)), "")
    return RequestSchedule(doses, schedule.frequency, f"{schedule.weeks} weeks")


def _approval_days(approval: Approval) -> int | None:
    if approval.length is None:
        return None
    value = approval.length.value
    return value if approval.length.unit == "days" else math.floor(value * 30.4375)


def _limit_problems(schedule: RequestSchedule, approval: Approval | None) -> list[str]:
    if approval is None or not schedule.doses:
        return []
    problems: list[str] = []
    days = _approval_days(approval)
    if days is not None and schedule.days > days:
        problems.append(f"the payer's approval length of {approval.length.describe() if approval.length else ''} "
                        f"({schedule.sessions} sessions take {schedule.days} days)")
    start = schedule.doses[0].on
    for cap in approval.quantity_caps:
        for first in schedule.doses:
            window = [d for d in schedule.doses if first.on <= d.on < first.on + timedelta(days=cap.per_days)]
            used = sum(spravato().devices_for(d.mg) for d in window)
            if used > cap.devices:
                problems.append(f"the payer's limit of {cap.devices} devices per {cap.per_days} days "
                                f"({used} requested)")
                break
    for dose_cap in approval.dose_caps:
        if max(d.mg for d in schedule.doses) > dose_cap.max_mg_per_session:
            problems.append(f"the payer's limit of {dose_cap.max_mg_per_session} mg per session")
        if dose_cap.max_sessions_per_week is not None:
            horizon = start + timedelta(weeks=dose_cap.weeks) if dose_cap.weeks else None
            for week in range(schedule.weeks):
                begin = start + timedelta(weeks=week)
                if horizon is not None and begin >= horizon:
                    break
                count = sum(1 for d in schedule.doses if begin <= d.on < begin + timedelta(weeks=1))
                if count > dose_cap.max_sessions_per_week:
                    problems.append(f"the payer's limit of {dose_cap.max_sessions_per_week} sessions per week")
                    break
    return list(dict.fromkeys(problems))


def _label_problems(*, indication: str, phase: str, dose_mg: int, sessions: int) -> list[str]:
    facts = spravato().label_schedule
    problems: list[str] = []
    if indication == "MDSI":
        treatment = facts["MDSI"].phases[0]
        most = treatment.sessions_per_week * ((treatment.weeks[1] or treatment.weeks[0]) - treatment.weeks[0] + 1)
        if sessions > most:
            problems.append(f"the label's MDSI course of {most} sessions over {treatment.weeks[1]} weeks")
        if dose_mg != facts["MDSI"].first_session_mg:
            problems.append(f"the label's MDSI dose of {facts['MDSI'].first_session_mg} mg")
    return problems


def check_request_schedule(*, indication: str, phase: str, dose_mg: int, sessions: int, start: date,
                           approval: Approval | None) -> ScheduleCheck:
    """The request against the label and the payer's limits, with the longest label schedule that fits both."""
    requested = label_request(indication=indication, phase=phase, dose_mg=dose_mg, sessions=sessions, start=start)
    deviations = _label_problems(indication=indication, phase=phase, dose_mg=dose_mg, sessions=sessions)
    deviations += _limit_problems(requested, approval)
    proposal: RequestSchedule | None = None
    if deviations:
        label_dose = spravato().label_schedule["MDSI"].first_session_mg if indication == "MDSI" else dose_mg
        if approval is not None:
            capped = [c.max_mg_per_session for c in approval.dose_caps]
            label_dose = min([label_dose, *capped])
        for count in range(sessions, 0, -1):
            candidate = label_request(indication=indication, phase=phase, dose_mg=label_dose, sessions=count,
                                      start=start)
            if not _limit_problems(candidate, approval) and not _label_problems(
                    indication=indication, phase=phase, dose_mg=label_dose, sessions=count):
                proposal = candidate
                break
    return ScheduleCheck(requested, tuple(deviations), proposal)


def save_schedule_reason(session: Session, *, case_id: int, expected_version: int, reason: str) -> None:
    """Record why the request departs from the label or the payer's limits (stated in the letter)."""
    case = load_for_edit(session, case_id=case_id, expected_version=expected_version)
    text = reason.strip()
    errors: list[FieldError] = []
    if case.status not in ("draft", "ready"):
        errors.append(FieldError("case", "the request can change only before submission"))
    if len(text) > MAX_REASON_LENGTH:
        errors.append(FieldError("schedule_reason", f"at most {MAX_REASON_LENGTH} characters"))
    if errors:
        raise ValidationFailed(errors)
    case.schedule_reason = text
    case.updated_at = utcnow()
    session.add(case)
    flush_or_stale(session)


def case_schedule_check(case: PriorAuthCase, *, today: date, benefit: str | None) -> ScheduleCheck:
    """The case's request against the label and its payer file's approval limits for the coverage's benefit."""
    from desk.prior_auth.checklist import resolve_policy
    from desk.prior_auth.compose import sessions_requested

    policy, _note = resolve_policy(case.payer_id)
    variant = policy.variant(case.indication.lower(), case.phase, benefit) if policy else None
    return check_request_schedule(indication=case.indication, phase=case.phase, dose_mg=case.dose_mg,
                                  sessions=sessions_requested(case), start=case.start_on or today,
                                  approval=variant.approval if variant else None)


def schedule_problem(case: PriorAuthCase, *, today: date, benefit: str | None) -> str | None:
    """Why the case may not be marked ready for its schedule: a deviation without a stated reason."""
    check = case_schedule_check(case, today=today, benefit=benefit)
    if check.fits or case.schedule_reason.strip():
        return None
    proposal = f" The schedule that fits: {check.proposal.describe()}." if check.proposal else ""
    return ("the request departs from " + "; ".join(check.deviations) + ". Change the request, or state the "
            f"prescriber's reason (it goes into the letter).{proposal}")
