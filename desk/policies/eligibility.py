"""A patient against the payer of each coverage (or every payer side by side), for the record's eligibility panel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from desk.evaluation_cache import patient_evaluation
from desk.models import Coverage
from desk.policies.builder import build_case_facts
from desk.policies.drugs import DrugLookup
from desk.policies.evaluator import Evaluation
from desk.policies.loader import GENERIC_POLICY_ID, PolicyCatalog
from desk.prior_auth.payer_rules import payer_name


@dataclass(frozen=True)
class CoverageEligibility:
    """One coverage and its evaluation; `evaluation` is None when no policy is on file for its payer."""

    coverage_id: int
    payer_id: str
    plan_type: str
    priority: str
    evaluation: Evaluation | None
    reference: Evaluation | None  # the generic label-based checklist, offered when the payer has no file

    @property
    def no_policy_message(self) -> str:
        return (
            f"No policy on file for this payer ({payer_name(self.payer_id)}). The generic commercial checklist below, "
            "built from the FDA label, is only a reference: ask the payer for its criteria."
        )


def coverage_eligibility(
    session: Session, *, patient_id: int, catalog: PolicyCatalog, drugs: DrugLookup, indication: str, phase: str,
    as_of: date,
) -> list[CoverageEligibility]:
    """Evaluate the patient against the payer of each of their coverages, primary first."""
    order = {"primary": 0, "secondary": 1, "tertiary": 2}
    coverages = sorted(
        session.exec(select(Coverage).where(Coverage.patient_id == patient_id).order_by(col(Coverage.id))),
        key=lambda c: order.get(c.priority, 9),
    )
    results = []
    for coverage in coverages:
        assert coverage.id is not None
        policy = catalog.in_force(coverage.payer_id, as_of)
        evaluation = reference = None
        # Evaluations are kept per facts version (desk/evaluation_cache.py): a rerun does not evaluate again.
        if policy is not None:
            evaluation = patient_evaluation(session, patient_id=patient_id, coverage_id=coverage.id, policy=policy,
                                            indication=indication, phase=phase, as_of=as_of, drugs=drugs)
        else:
            generic = catalog.in_force(GENERIC_POLICY_ID, as_of)
            if generic is not None:
                reference = patient_evaluation(session, patient_id=patient_id, coverage_id=coverage.id,
                                               policy=generic, indication=indication, phase=phase, as_of=as_of,
                                               drugs=drugs)
            else:  # no policy to evaluate: the record is still checked (an unknown coverage is refused)
                build_case_facts(session, patient_id=patient_id, coverage_id=coverage.id, as_of=as_of)
        results.append(CoverageEligibility(coverage.id, coverage.payer_id, coverage.plan_type, coverage.priority,
                                           evaluation, reference))
    return results


def every_payer(
    session: Session, *, patient_id: int, catalog: PolicyCatalog, drugs: DrugLookup, indication: str, phase: str,
    as_of: date,
) -> list[Evaluation]:
    """The patient against every policy on file, for a side-by-side view (kept per facts version)."""
    policies = sorted(catalog.all_in_force(as_of), key=lambda p: p.payer)
    if not policies:
        build_case_facts(session, patient_id=patient_id, as_of=as_of)  # an unknown patient is still refused
    return [
        patient_evaluation(session, patient_id=patient_id, coverage_id=None, policy=policy, indication=indication,
                           phase=phase, as_of=as_of, drugs=drugs)
        for policy in policies
    ]
