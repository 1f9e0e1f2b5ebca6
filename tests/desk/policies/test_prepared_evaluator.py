"""The prepared evaluator (criteria compiled once per policy file, case indexes once per evaluation) gives exactly
the results of the evaluator it replaced, kept in reference_evaluator.py, over many generated cases."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desk.policies.case import CaseFacts
from desk.policies.evaluator import evaluate
from desk.policies.schema import INDICATIONS, PHASES, BillingCode, Policy
from tests.desk.policies import reference_evaluator
from tests.desk.policies.test_properties import AS_OF, CATALOG, DRUGS, cases

# Every version of every shipped file (not only the newest), so dated versions and not-covered files are compared too.
POLICIES: list[Policy] = [p for versions in CATALOG.versions.values() for p in versions]
REQUESTS = [(i, p) for i in INDICATIONS for p in PHASES]
regimens = st.none() | st.builds(
    lambda first, dose, per_week, weeks, sessions: {"first_dose_mg": first, "dose_mg": dose,
                                                    "sessions_per_week": per_week, "weeks": weeks,
                                                    "sessions": sessions},
    st.none() | st.sampled_from([28, 56, 84]), st.none() | st.sampled_from([28, 56, 84]),
    st.none() | st.sampled_from([0.5, 1, 2, 3]), st.none() | st.integers(1, 12), st.none() | st.integers(1, 30),
)
coverages = st.none() | st.builds(
    lambda plan, benefit: {"payer_id": "x", "plan_type": plan, "benefit": benefit},
    st.none() | st.sampled_from(["commercial", "medicare_advantage", "medicaid", "erisa"]),
    st.none() | st.sampled_from(["medical", "pharmacy"]),
)
rems = st.sampled_from([
    {},
    {"enrolled_on": AS_OF - timedelta(days=10), "enrollment_confirmation": "ENR-1", "monitoring_minimum_minutes": 120,
     "monitored_sessions": 0},
    {"enrollment_pending": ["the submission date"], "monitoring_minimum_minutes": 90, "monitored_sessions": None},
    {"enrolled_on": AS_OF - timedelta(days=90), "monitoring_minimum_minutes": 120, "monitored_sessions": 6,
     "shortest_monitoring_minutes": 112, "sessions_at_uncertified_setting": 1},
])


def _same(case: CaseFacts, policy: Policy, indication: str, phase: str, as_of: date) -> None:
    expected = reference_evaluator.evaluate(case, policy, indication=indication, phase=phase, as_of=as_of,
                                            drugs=DRUGS)
    got = evaluate(case, policy, indication=indication, phase=phase, as_of=as_of, drugs=DRUGS)
    assert got.as_dict() == expected.as_dict()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(), extra=st.fixed_dictionaries({"requested": regimens, "coverage": coverages, "rems": rems}),
       index=st.integers(0, len(POLICIES) - 1), request=st.sampled_from(REQUESTS),
       as_of=st.dates(AS_OF - timedelta(days=800), AS_OF))
def test_same_results_as_the_reference_evaluator(case: CaseFacts, extra: dict[str, Any], index: int,
                                                 request: tuple[str, str], as_of: date) -> None:
    case = CaseFacts.model_validate({**case.model_dump(), **extra})
    indication, phase = request
    _same(case, POLICIES[index], indication, phase, as_of)
    # A second evaluation reads what the first prepared and must not be changed by it.
    _same(case, POLICIES[index], indication, phase, as_of)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_every_shipped_variant_on_one_case(case: CaseFacts) -> None:
    for policy in CATALOG.policies.values():
        for variant in policy.variants:
            _same(case, policy, variant.indication, variant.phase, AS_OF)


def test_a_changed_copy_of_a_policy_is_prepared_again() -> None:
    """model_copy shares private state; what was prepared for the original must not leak into an edited copy."""
    policy = CATALOG.policies["uhc"]
    case = CaseFacts.model_validate({"birth_date": "1980-01-01", "coverage": {"payer_id": "uhc", "plan_type": None}})
    evaluate(case, policy, indication="trd", phase="initial", as_of=AS_OF, drugs=DRUGS)
    edited = policy.model_copy(update={"payer": "Renamed payer", "billing_codes": [BillingCode(code="S0013")],
                                       "submission": []})
    _same(case, edited, "trd", "initial", AS_OF)
    assert evaluate(case, edited, indication="trd", phase="initial", as_of=AS_OF, drugs=DRUGS).payer_name == (
        "Renamed payer")
    _same(case, policy, "trd", "initial", AS_OF)


def test_results_are_fresh_lists() -> None:
    """Callers may add to an evaluation's notes or terms; the next evaluation is not affected."""
    policy = CATALOG.policies["uhc"]
    case = CaseFacts.model_validate({"birth_date": "1980-01-01"})
    first = evaluate(case, policy, indication="trd", phase="initial", as_of=AS_OF, drugs=DRUGS)
    first.notes.append("added by a caller")
    first.submission.append("added by a caller")
    assert first.approval is not None
    first.approval.required_documents.append("added by a caller")
    first.approval.quantity_caps.append("added by a caller")
    _same(case, policy, "trd", "initial", AS_OF)
