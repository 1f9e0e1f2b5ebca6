"""A changed payer file re-checks the open cases of that payer.

The text of each payer file is kept as last seen (payer_policy_file). When the folder is read (on start, or on
reload from the Payer policies page) and a file's text differs, every open case of that payer is evaluated under
the version in force before and after the change; a case whose criteria change gets the criterion-by-criterion
change (old and new status), a "policy changed" flag for the worklist and an audit row. The first time a file is
seen there is nothing to compare with: it is only recorded.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from desk.audit import record_event
from desk.database import unit_of_work
from desk.errors import FieldError, ValidationFailed
from desk.models import utcnow
from desk.models.prior_auth import PayerPolicyFile, PriorAuthCase
from desk.policies.diff import StatusChange, status_changes
from desk.policies.drugs import default_drugs
from desk.policies.evaluator import describe_version
from desk.policies.loader import PolicyCatalog, parse_policy_versions, version_in_force
from desk.policies.schema import Policy
from desk.prior_auth.cases import OPEN_STATUSES, flush_or_stale, load_for_edit
from desk.settings import Settings, load_settings


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """What a payer file change did to one case's evaluation."""

    payer_id: str
    old_version: str
    new_version: str
    old_decision: str
    new_decision: str
    changes: tuple[StatusChange, ...]

    def to_json(self) -> str:
        return json.dumps({"payer_id": self.payer_id, "old_version": self.old_version,
                           "new_version": self.new_version, "old_decision": self.old_decision,
                           "new_decision": self.new_decision, "changes": [c.as_dict() for c in self.changes]})

    @classmethod
    def from_json(cls, text: str) -> PolicyChange:
        data = json.loads(text)
        return cls(data["payer_id"], data["old_version"], data["new_version"], data["old_decision"],
                   data["new_decision"], tuple(StatusChange(c["id"], c["text"], c["old"], c["new"])
                                               for c in data["changes"]))


@dataclass(frozen=True, slots=True)
class FileSync:
    """One payer file found changed, and the cases whose evaluation changed with it."""

    payer_id: str
    first_seen: bool
    cases_checked: int
    cases_changed: tuple[int, ...]


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sync_payer_files(session: Session, *, catalog: PolicyCatalog, as_of: date,
                     now: datetime | None = None) -> list[FileSync]:
    """Record each valid payer file's text; for one that changed since last seen, re-evaluate its open cases.
    Files that do not load are left as last seen (their cases keep the last valid version's record)."""
    moment = now or utcnow()
    seen = {row.payer_id: row for row in session.exec(select(PayerPolicyFile)).all()}
    results: list[FileSync] = []
    for payer_id in sorted(catalog.texts):
        text = catalog.texts[payer_id]
        digest = fingerprint(text)
        row = seen.get(payer_id)
        if row is not None and row.fingerprint == digest:
            continue
        if row is None:
            session.add(PayerPolicyFile(payer_id=payer_id, fingerprint=digest, text=text, seen_at=moment))
            results.append(FileSync(payer_id, True, 0, ()))
            continue
        old_versions, _problems = parse_policy_versions(row.text, file_name=f"{payer_id}.yaml", drugs=default_drugs())
        checked, changed = _recheck_cases(session, payer_id=payer_id, old_versions=old_versions, catalog=catalog,
                                          as_of=as_of, moment=moment)
        row.fingerprint, row.text, row.seen_at = digest, text, moment
        session.add(row)
        record_event(session, action="payer_policy_changed", entity="payer_policy_file", entity_id=payer_id,
                     detail=f"{checked} open case(s) re-evaluated; {len(changed)} changed")
        results.append(FileSync(payer_id, False, checked, tuple(changed)))
    session.flush()
    return results


def _recheck_cases(session: Session, *, payer_id: str, old_versions: list[Policy], catalog: PolicyCatalog,
                   as_of: date, moment: datetime) -> tuple[int, list[int]]:
    from desk.prior_auth.checklist import active_signoffs, evaluate_case

    old = version_in_force(old_versions, as_of)
    new = catalog.in_force(payer_id, as_of)
    if new is None:
        return 0, []
    cases = session.exec(select(PriorAuthCase).where(PriorAuthCase.payer_id == payer_id,
                                                     col(PriorAuthCase.status).in_(OPEN_STATUSES))
                         .order_by(col(PriorAuthCase.id))).all()
    changed: list[int] = []
    for case in cases:
        assert case.id is not None
        attested = [s.criterion_id for s in active_signoffs(session, case_id=case.id) if s.kind == "attestation"]
        after, _, _ = evaluate_case(session, case=case, as_of=as_of, attested=attested, policy=new)
        before = None
        if old is not None:
            before, _, _ = evaluate_case(session, case=case, as_of=as_of, attested=attested, policy=old)
        if after is None:
            continue
        differences = status_changes(before, after) if before is not None else []
        decision_before = before.decision if before is not None else "unknown"
        if not differences and decision_before == after.decision:
            continue
        change = PolicyChange(payer_id, describe_version(old) if old else "not readable",
                              describe_version(new), decision_before, after.decision, tuple(differences))
        case.policy_change = change.to_json()
        case.policy_changed_at = moment
        session.add(case)
        record_event(session, action="policy_change_recorded", entity="pa_case", entity_id=case.id,
                     detail=f"{payer_id}: {len(differences)} criterion change(s); decision {decision_before} → "
                     f"{after.decision}")
        changed.append(case.id)
    return len(cases), changed


def recheck_payer_files(engine: Engine, *, actor: str, settings: Settings | None = None) -> list[FileSync]:
    """Read the payer folder afresh and re-check the open cases of every changed file (on start and on reload)."""
    from desk.prior_auth.clocks import local_today
    from desk.prior_auth.payer_rules import policy_catalog

    settings = settings or load_settings()
    catalog = policy_catalog(settings.payers_dir)
    with unit_of_work(engine, actor=actor) as session:
        return sync_payer_files(session, catalog=catalog, as_of=local_today(settings.timezone))


def policy_change_of(case: PriorAuthCase) -> PolicyChange | None:
    """The recorded change on a case, or None."""
    return PolicyChange.from_json(case.policy_change) if case.policy_change else None


def acknowledge_policy_change(session: Session, *, case_id: int, expected_version: int) -> PriorAuthCase:
    """Staff have read the change: the flag clears (the audit keeps the record)."""
    case = load_for_edit(session, case_id=case_id, expected_version=expected_version)
    if not case.policy_change:
        raise ValidationFailed([FieldError("case", "this case has no policy change to acknowledge")])
    case.policy_change = ""
    case.policy_changed_at = None
    case.updated_at = utcnow()
    session.add(case)
    flush_or_stale(session)
    record_event(session, action="policy_change_acknowledged", entity="pa_case", entity_id=case_id)
    return case


__all__ = ["FileSync", "PolicyChange", "acknowledge_policy_change", "policy_change_of", "recheck_payer_files",
           "sync_payer_files"]
