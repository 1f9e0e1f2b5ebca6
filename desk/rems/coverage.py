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
