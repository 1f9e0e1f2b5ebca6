"""What the prior-authorization workflow reads from the payer policy files, with the documented defaults."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from desk.policies.clocks import ClockPeriod, DecisionClock, resolve_clock
from desk.policies.drugs import default_drugs
from desk.policies.loader import PolicyCatalog, load_catalog
from desk.policies.schema import Policy
from desk.settings import load_settings, payers_folder

_cache: dict[Path, tuple[tuple[tuple[str, float], ...], PolicyCatalog]] = {}


def _stamp(folder: Path) -> tuple[tuple[str, float], ...]:
    if not folder.is_dir():
        return ()
    return tuple(sorted((p.name, p.stat().st_mtime) for p in folder.iterdir() if p.suffix in (".yaml", ".yml")))


def policy_catalog(folder: Path | None = None) -> PolicyCatalog:
    """The payer policies of the configured folder, re-read when a file there changes."""
    folder = folder or payers_folder()
    stamp = _stamp(folder)
    cached = _cache.get(folder)
    if cached is None or cached[0] != stamp:
        catalog = load_catalog([folder], drugs=default_drugs()) if folder.is_dir() else PolicyCatalog()
        _cache[folder] = (stamp, catalog)
        return catalog
    return cached[1]


def policy_for(payer_id: str, as_of: date | None = None) -> Policy | None:
    """The valid policy for `payer_id` (the version in force on `as_of`; the newest without a date), or None
    (unknown payer or a broken file)."""
    catalog = policy_catalog()
    return catalog.get(payer_id) if as_of is None else catalog.in_force(payer_id, as_of)


def plan_clock_for(*, payer_id: str, plan_type: str) -> DecisionClock | None:
    """The payer file's clock for the plan type; else the documented default for the plan type; else None."""
    policy = policy_for(payer_id)
    if policy is not None:
        return policy.clock_for(plan_type)
    return resolve_clock({}, plan_type)


def decision_clock_for(*, payer_id: str, plan_type: str, urgency: str) -> ClockPeriod | None:
    """The standard or expedited clock that applies to a request (None: no clock known for the plan type)."""
    clock = plan_clock_for(payer_id=payer_id, plan_type=plan_type)
    return clock.period(urgency) if clock is not None else None


def renewal_lead_days_for(*, payer_id: str) -> int:
    """Days before an authorization ends to start the renewal: the payer file's renewal_lead_days, else the
    clinic's DESK_RENEWAL_LEAD_DAYS."""
    policy = policy_for(payer_id)
    if policy is not None and policy.renewal_lead_days is not None:
        return policy.renewal_lead_days
    return load_settings().renewal_lead_days


def renewal_leads(payer_ids: list[str]) -> dict[str, int]:
    """Lead days for each of `payer_ids`."""
    return {payer_id: renewal_lead_days_for(payer_id=payer_id) for payer_id in payer_ids}


def payer_name(payer_id: str) -> str:
    """The payer's name as its policy file writes it, else the id in words ("medicare" → "Medicare")."""
    return payer_namer()(payer_id)


def payer_namer() -> Callable[[str], str]:
    """payer_name for many rows: the policy files are looked at once, not once a row (each look checks every
    file's time: 1.2 s of the Needs-a-PA lists at 5,000 patients)."""
    catalog = policy_catalog()

    def name(payer_id: str) -> str:
        policy = catalog.get(payer_id)
        return policy.payer if policy is not None else payer_id.replace("-", " ").replace("_", " ").title()

    return name
