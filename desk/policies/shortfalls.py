"""What an evaluation still lacks, grouped: criteria not met, criteria unknown, attestations needed.

Read from the evaluated tree top down. A group that is met asks nothing. Under an "all" group every
criterion that is not met is needed. Under an "any" or "at least" group the routes that could still meet it
are listed (unknown or attest); routes already not met are listed only when the group itself is not met.
"""

from __future__ import annotations

from dataclasses import dataclass

from desk.policies.evaluator import CriterionResult, Evaluation

_ALTERNATIVES = ("any", "at_least")
_COUNTED = "Counted: "  # the evaluator's line for a trial or psychotherapy course that counted


@dataclass(frozen=True, slots=True)
class Shortfall:
    """One criterion that keeps the request from meeting the policy, and why."""

    id: str
    text: str
    status: str  # not_met, unknown or attest
    reasons: tuple[str, ...]  # not_met: the evidence; unknown: the data not on record; attest: what is confirmed
    source: str
    route_of: str = ""  # the "any"/"at least" group this criterion is one route of


@dataclass(frozen=True, slots=True)
class Shortfalls:
    """Everything missing, in the order staff work through it."""

    not_met: tuple[Shortfall, ...]
    unknown: tuple[Shortfall, ...]
    attest: tuple[Shortfall, ...]

    def __bool__(self) -> bool:
        return bool(self.not_met or self.unknown or self.attest)

    def __len__(self) -> int:
        return len(self.not_met) + len(self.unknown) + len(self.attest)


def shortfalls(evaluation: Evaluation) -> Shortfalls:
    """The criteria of `evaluation` still missing, grouped by status (empty when the policy is met)."""
    children: dict[str | None, list[CriterionResult]] = {}
    for criterion in evaluation.criteria:
        children.setdefault(criterion.parent, []).append(criterion)
    found: dict[str, list[Shortfall]] = {"not_met": [], "unknown": [], "attest": []}
    seen: set[str] = set()

    def visit(criterion: CriterionResult, route_of: str) -> None:
        if criterion.status == "met" or criterion.id in seen:
            return
        seen.add(criterion.id)
        if criterion.kind == "not":
            # The rule below is met (not wanted) or undecided: the "not" criterion itself is what is missing.
            inner = children.get(criterion.id, [])
            seen.update(c.id for c in inner)
            found[criterion.status].append(_not_shortfall(criterion, inner, route_of))
            return
        if not criterion.is_group:
            found[criterion.status].append(_shortfall(criterion, route_of))
            return
        below = [c for c in children.get(criterion.id, []) if c.status != "met"]
        if criterion.kind in _ALTERNATIVES:
            if criterion.status != "not_met":
                below = [c for c in below if c.status != "not_met"]
            label = criterion.text
        else:
            label = route_of
        for child in below:
            visit(child, label)

    for root in children.get(None, []):
        visit(root, "")
    return Shortfalls(tuple(found["not_met"]), tuple(found["unknown"]), tuple(found["attest"]))


def _not_shortfall(criterion: CriterionResult, inner: list[CriterionResult], route_of: str) -> Shortfall:
    below = inner[0] if inner else None
    if below is None:
        return _shortfall(criterion, route_of)
    if criterion.status == "unknown":
        reasons = tuple(below.missing) or tuple(below.evidence)
    elif criterion.status == "attest":
        reasons = ("Staff confirm it and attach the document.",)
    else:
        reasons = tuple(below.evidence)
    return Shortfall(criterion.id, criterion.text, criterion.status, reasons, criterion.source or below.source,
                     route_of)


def _shortfall(criterion: CriterionResult, route_of: str) -> Shortfall:
    if criterion.status == "unknown":
        reasons = tuple(criterion.missing) or tuple(criterion.evidence)
    elif criterion.status == "attest" and criterion.kind == "attestation":
        reasons = ("The prescriber attests it." if criterion.needs == "attestation"
                   else "Staff confirm it and attach the document.",)
    else:
        # Trials and courses that did count explain nothing about the shortfall; the full tree still lists them.
        reasons = tuple(line for line in criterion.evidence if not line.startswith(_COUNTED))
    return Shortfall(criterion.id, criterion.text, criterion.status, reasons, criterion.source, route_of)


__all__ = ["Shortfall", "Shortfalls", "shortfalls"]
