"""A patient's evaluations kept per facts version: a page that reruns gets the same evaluation back without reading
the record or evaluating again, until something the evaluation reads about the patient is written.

Key of an evaluation: the database, the patient, the patient's facts version and the shared version
(desk/facts_version.py: every audited write of a row linked to the patient, or of a site or prescriber, changes
them), the coverage, the as-of date, the policy file's content (a hash of the validated file, so a reloaded but
unchanged file keeps its entries), indication and phase (the variant; the coverage's benefit is part of the facts),
the requested regimen and attested criteria of a PA case, the drug reference data and the clinic's REMS
monitoring minimum. The case facts built from the record are kept too, under the same patient, versions,
coverage and date, so the side-by-side view of every payer reads the record once.

Process-local and in memory only (never written to disk): several app servers each keep their own copy; a write
through any of them changes the versions in the shared database, which every server reads (one small query) before
it uses its copy. Bounded: the least recently used entries go beyond `MAX_ENTRIES`. Thread-safe: Streamlit runs
each browser session in its own thread. A session with facts written in its open transaction reads around the
cache (what it sees may still be rolled back). Callers get their own copy of each evaluation.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Sequence
from datetime import date
from threading import Lock
from typing import Any

from sqlmodel import Session

from desk.facts_version import facts_version, wrote_facts
from desk.policies.builder import build_case_facts
from desk.policies.case import CaseFacts, RequestedRegimen
from desk.policies.drugs import DrugLookup
from desk.policies.evaluator import Evaluation, evaluate
from desk.policies.schema import Policy
from desk.rems.config import load_rems_settings

MAX_ENTRIES = 2048


class LruCache:
    """A bounded mapping that forgets the least recently used entry first; safe to share between threads."""

    def __init__(self, max_entries: int) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            try:
                value = self._entries[key]
            except KeyError:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


CACHE = LruCache(MAX_ENTRIES)


def patient_evaluation(
    session: Session, *, patient_id: int, coverage_id: int | None, policy: Policy, indication: str, phase: str,
    as_of: date, drugs: DrugLookup, requested: RequestedRegimen | None = None, attestations: Sequence[str] = (),
) -> Evaluation:
    """The patient's record (under the coverage when given) evaluated against `policy`; from the cache while the
    patient's facts version is the same. `requested` and `attestations` are a PA case's regimen and attested
    criteria, when evaluating for a case."""
    rems = load_rems_settings()

    def facts() -> CaseFacts:
        return build_case_facts(session, patient_id=patient_id, coverage_id=coverage_id, as_of=as_of,
                                rems_settings=rems)

    def run(case: CaseFacts) -> Evaluation:
        update: dict[str, Any] = {}
        if requested is not None:
            update["requested"] = requested
        if attestations:
            update["attestations"] = sorted(set(case.attestations) | set(attestations))
        if update:
            case = case.model_copy(update=update)
        return evaluate(case, policy, indication=indication, phase=phase, as_of=as_of, drugs=drugs)

    if wrote_facts(session):
        return run(facts())
    versions = facts_version(session, patient_id=patient_id)  # read before the record: never older than it
    database = session.connection().engine.url.render_as_string(hide_password=True)
    facts_key = ("facts", database, patient_id, versions, coverage_id, as_of, rems.min_monitoring_minutes)
    key = (*facts_key, policy.content_hash(), indication, phase, drugs, requested,
           tuple(sorted(set(attestations))))
    found = CACHE.get(key)
    if found is None:
        case = CACHE.get(facts_key)
        if case is None:
            case = facts()
            CACHE.put(facts_key, case)
        found = run(case)
        CACHE.put(key, found)
    return found.copy()


def clear_evaluation_cache() -> None:
    """Forget every kept evaluation and case facts (tests; never needed for correctness)."""
    CACHE.clear()
