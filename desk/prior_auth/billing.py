"""Which billing codes a SPRAVATO request carries: decided here, once, from the plan type, the payer file and the
service date. The request form, the letters, the PAS bundle and the packet summary all print this decision.

Rules (shared/domain/spravato.md §3 [18][19][20]; figures in desk/reference/spravato.yaml):
- G2082 (up to 56 mg) and G2083 (above 56 mg) bill the whole session, drug and 2-hour observation included,
  1 unit per session. They are the route of Original Medicare (plan type `medicare_part_b`) and of any payer
  whose file marks a session code `required` (a required G2082 alone is used whatever the dose; with both
  required, each session is billed at its own dose).
- Otherwise the drug is billed per mg: J0013 from 2026-01-01, S0013 before; a payer file that lists its own
  drug codes with dates decides which one it accepts on the service date. Observation codes (CPT 99415/99416)
  listed in the payer file go with the drug code.
- A session is never billed with both a session code and a drug code: the session code already includes the drug.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from desk.policies.schema import BillingCode, Policy
from desk.reference.spravato import BillingCodeFact, spravato

SESSION_CODE_PLAN_TYPES = frozenset({"medicare_part_b"})


@dataclass(frozen=True)
class BilledCode:
    """One code on the request with its units per session and what it includes."""

    code: str
    system: str
    units_per_session: int
    unit: Literal["mg", "session", "time"]
    includes: str
    mg_per_unit: int = 1

    def describe(self) -> str:
        if self.unit == "mg":
            return f"{self.system} {self.code}, {self.units_per_session} units (1 unit = 1 mg) per session"
        if self.unit == "session":
            return f"{self.system} {self.code}, 1 unit per session"
        return f"{self.system} {self.code}"


@dataclass(frozen=True)
class BillingDecision:
    """The codes of one request and why they were chosen."""

    route: Literal["drug", "session"]
    service: BilledCode
    observation: tuple[BilledCode, ...]
    reason: str
    session_doses: tuple[int, ...]
    # Session route only: another session code for sessions at a dose the main code does not cover (the label's
    # first TRD session at 56 mg is G2082 when the request is G2083), with how many sessions it bills.
    other_session_code: BilledCode | None = None
    other_sessions: int = 0

    @property
    def sessions(self) -> int:
        return len(self.session_doses)

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes in the order of the request's items: the service, another session code, observation."""
        other = (self.other_session_code.code,) if self.other_session_code and self.other_sessions else ()
        return (self.service.code, *other, *(c.code for c in self.observation))

    @property
    def total_units(self) -> int:
        """Units over all sessions: mg for a drug code (a label first dose of 56 mg counts 56), 1 per session else."""
        if self.service.unit == "mg":
            return sum(dose // self.service.mg_per_unit for dose in self.session_doses)
        return self.sessions

    def session_counts(self) -> list[tuple[BilledCode, int]]:
        """(code, sessions) of the request: one line per code."""
        main = self.sessions - self.other_sessions
        lines = [(self.service, main)] if main else []
        if self.other_session_code is not None and self.other_sessions:
            lines.insert(0, (self.other_session_code, self.other_sessions))
        return lines

    def summary(self) -> str:
        """One line for a form or a letter: the code, its units per session and in total."""
        if self.route == "session":
            return "; ".join(f"{code.system} {code.code} x {count} (1 unit per session)"
                             for code, count in self.session_counts())
        line = self.service.describe()
        if self.sessions:
            line += f"; {self.total_units} units for {self.sessions} sessions"
        if self.observation:
            line += "; observation " + ", ".join(f"{c.system} {c.code}" for c in self.observation)
        return line


def _accepted(code: BillingCode, on: date) -> bool:
    return (code.accepted_from is None or code.accepted_from <= on) and (
        code.accepted_until is None or on <= code.accepted_until)


def _session_code(fact: BillingCodeFact) -> BilledCode:
    return BilledCode(fact.code, fact.system, 1, "session", fact.includes)


def decide_billing(*, plan_type: str | None, policy: Policy | None, dose_mg: int, service_date: date,
                   session_doses: tuple[int, ...]) -> BillingDecision:
    """The billing decision for a request at `dose_mg` per session starting on `service_date`; `session_doses`
    are the mg of each requested session (the label's first dose included)."""
    sessions = tuple(session_doses)
    facts = spravato()
    listed = [c for c in (policy.billing_codes if policy else []) if _accepted(c, service_date)]
    session_facts = facts.codes_of("session")
    session_codes = {f.code for f in session_facts}
    required = [c.code for c in listed if c.required and c.code in session_codes]
    if required:
        fitting = [f for f in session_facts if f.code in required and f.fits_dose(dose_mg)]
        chosen = fitting[0] if fitting else facts.code(required[0])
        payer = policy.payer if policy else "the payer"
        reason = f"{payer} requires {chosen.code} on the request"
        if not chosen.fits_dose(dose_mg):
            return BillingDecision("session", _session_code(chosen), (), reason + " whatever the dose", sessions)
        # Both session codes required: each session is billed at its own dose (the label's 56 mg first TRD session is
        # G2082 when the request is G2083), as for Original Medicare.
        others = [d for d in sessions if not chosen.fits_dose(d)]
        other = next((f for f in session_facts if others and f.code in required and f.fits_dose(others[0])), None)
        return BillingDecision("session", _session_code(chosen), (), reason, sessions,
                               _session_code(other) if other else None, len(others) if other else 0)
    if plan_type in SESSION_CODE_PLAN_TYPES:
        chosen = next(f for f in session_facts if f.fits_dose(dose_mg))
        others = [d for d in sessions if not chosen.fits_dose(d)]
        other = next((f for f in session_facts if others and f.fits_dose(others[0])), None)
        return BillingDecision("session", _session_code(chosen), (),
                               "Original Medicare (Part B) bills the supervised session as one code", sessions,
                               _session_code(other) if other else None, len(others) if other else 0)
    drug_facts = {f.code: f for f in facts.codes_of("drug")}
    payer_drug = [c for c in listed if c.code in drug_facts]
    if payer_drug:
        pick = next((c for c in payer_drug if c.required), payer_drug[0])
        drug = drug_facts[pick.code]
        reason = f"{policy.payer if policy else 'the payer'} accepts {drug.code} on {service_date:%m/%d/%Y}"
    else:
        drug = next(f for f in drug_facts.values() if f.valid_on(service_date))
        reason = f"{drug.code} is the drug code in effect on {service_date:%m/%d/%Y}"
    units = dose_mg // (drug.unit_mg or 1)
    known = {f.code: f for f in facts.codes_of("observation")}
    observation = tuple(BilledCode(c.code, known[c.code].system, 1, "time", known[c.code].includes)
                        for c in listed if c.code in known)
    return BillingDecision("drug", BilledCode(drug.code, drug.system, units, "mg", drug.includes, drug.unit_mg or 1),
                           observation,
                           reason, sessions)
