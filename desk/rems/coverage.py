"""Whether planned sessions are covered: an approved authorization with devices left, and savings enrollment.

Authorizations come from the prior-authorization workflow (desk.prior_auth) when it is installed; without
it the answer is "authorization tracking not available" rather than a guess.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from types import ModuleType

from sqlmodel import Session

NOT_AVAILABLE = "authorization tracking not available"


def _prior_auth_devices() -> ModuleType | None:
    try:
        return importlib.import_module("desk.prior_auth.devices")
    except ImportError:
        return None


def _savings_enrollment() -> ModuleType | None:
    try:
        return importlib.import_module("desk.savings.enrollment")
    except ImportError:
        return None


def authorization_tracking_available() -> bool:
    return _prior_auth_devices() is not None


@dataclass(frozen=True)
class PlannedCoverage:
    """Coverage of one planned session date."""

    on: date
    authorization: str  # "covered", "no authorization", "devices exhausted" or NOT_AVAILABLE
    authorization_detail: str
    devices_left_after: int | None
    savings: str  # "enrolled", "not enrolled" or "not tracked"


def plan_coverage(session: Session, *, patient_id: int, dates: Sequence[date], devices_per_session: int,
                  ) -> list[PlannedCoverage]:
    """For each planned date in order: authorization in force with enough devices left, and savings enrollment.

    Devices are counted cumulatively: the second planned session needs what the first leaves.
    """
    devices_module = _prior_auth_devices()
    savings_module = _savings_enrollment()
    planned_use: dict[int, int] = {}
    result: list[PlannedCoverage] = []
    for day in dates:
        savings = "not tracked"
        if savings_module is not None:
            enrolled = savings_module.enrollment_for_service(session, patient_id=patient_id, service_date=day)
            savings = "enrolled" if enrolled is not None else "not enrolled"
        if devices_module is None:
            result.append(PlannedCoverage(day, NOT_AVAILABLE, NOT_AVAILABLE, None, savings))
            continue
        covering = devices_module.authorizations_covering(session, patient_id=patient_id, on=day)
        if not covering:
            result.append(PlannedCoverage(day, "no authorization",
                                          f"No approved authorization covers {day:%m/%d/%Y}.", None, savings))
            continue
        authorization = covering[0]
        remaining = devices_module.account(session, authorization=authorization).remaining_devices
        if remaining is None:
            result.append(PlannedCoverage(day, "covered", f"Authorization {authorization.auth_number}", None,
                                          savings))
            continue
        key = int(authorization.id)
        left = remaining - planned_use.get(key, 0) - devices_per_session
        planned_use[key] = planned_use.get(key, 0) + devices_per_session
        if left < 0:
            result.append(PlannedCoverage(day, "devices exhausted",
                                          f"Authorization {authorization.auth_number} would be short by {-left} "
                                          "device(s).", left, savings))
        else:
            result.append(PlannedCoverage(day, "covered", f"Authorization {authorization.auth_number}", left,
                                          savings))
    return result


@dataclass(frozen=True)
class StartOutlook:
    """What starting a session today means for the patient's authorization."""

    covered: bool
    message: str


def start_outlook(session: Session, *, patient_id: int, on: date, devices_per_session: int) -> StartOutlook:
    """Whether an approved authorization covers a session on `on`, and how many sessions it still covers
    (its sessions left, else its devices left at `devices_per_session` a session)."""
    devices_module = _prior_auth_devices()
    if devices_module is None:
        return StartOutlook(False, f"Authorizations are not tracked here: check coverage for {on:%m/%d/%Y} "
                                   "with billing.")
    covering = devices_module.authorizations_covering(session, patient_id=patient_id, on=on)
    if not covering:
        return StartOutlook(False, f"No approved authorization covers {on:%m/%d/%Y}: the payer may not pay for "
                                   "this session. Billing lists the patient under Needs a PA.")
    current = devices_module.account(session, authorization=covering[0])
    number = current.authorization.auth_number
    if current.remaining_sessions is not None:
        left = current.remaining_sessions
    elif current.remaining_devices is not None:
        left = current.remaining_devices // max(devices_per_session, 1)
    else:
        return StartOutlook(True, f"Authorization {number} covers this session (no session or device limit), "
                                  f"through {current.authorization.end_on:%m/%d/%Y}.")
    if left < 1:
        return StartOutlook(False, f"Authorization {number} has no sessions left at {devices_per_session} "
                                   "devices a session: ask billing to request more.")
    return StartOutlook(True, f"Authorization {number} still covers {left} session{'' if left == 1 else 's'} "
                              f"(this one included) through {current.authorization.end_on:%m/%d/%Y}.")
