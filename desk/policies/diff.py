"""What changed between two versions of a payer policy, criterion by criterion, and between two evaluations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desk.policies.evaluator import Evaluation
from desk.policies.schema import Policy, Rule, Variant, walk

_STATUS_WORDS = {"met": "met", "not_met": "not met", "unknown": "unknown", "attest": "needs attestation",
                 None: "not in this version"}


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One criterion whose status differs between the old and the new policy version (None: not in that one)."""

    id: str
    text: str
    old: str | None
    new: str | None

    def describe(self) -> str:
        return f"{self.text}: {_STATUS_WORDS[self.old]} → {_STATUS_WORDS[self.new]}"

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "old": self.old, "new": self.new}


def status_changes(old: Evaluation, new: Evaluation) -> list[StatusChange]:
    """Criteria whose status changed, were added or were removed, in the new evaluation's order then the removed."""
    before = {c.id: c for c in old.criteria}
    after = {c.id: c for c in new.criteria}
    found = [StatusChange(c.id, c.text, before[c.id].status if c.id in before else None, c.status)
             for c in new.criteria if c.id not in before or before[c.id].status != c.status]
    found += [StatusChange(c.id, c.text, c.status, None) for c in old.criteria if c.id not in after]
    return found


def _fields(rule: Rule) -> dict[str, Any]:
    return rule.model_dump(mode="json", exclude={"rules", "rule"}, exclude_defaults=True)


def _variant_terms(variant: Variant) -> dict[str, Any]:
    return variant.model_dump(mode="json", exclude={"criteria"}, exclude_defaults=True)


def policy_diff(old: Policy, new: Policy) -> list[str]:
    """The changes from `old` to `new` as lines: '+' added, '-' removed, '~' changed (field: old → new)."""
    lines: list[str] = []
    for name in ("version", "effective_date", "policy_number", "benefit", "position", "completeness"):
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            lines.append(f"~ {name}: {_show(a)} → {_show(b)}")
    old_variants = {v.key: v for v in old.variants}
    new_variants = {v.key: v for v in new.variants}
    for key in [*new_variants, *(k for k in old_variants if k not in new_variants)]:
        if key not in old_variants:
            lines.append(f"+ variant {key}")
        elif key not in new_variants:
            lines.append(f"- variant {key}")
            continue
        was, now = old_variants.get(key), new_variants[key]
        terms_before = _variant_terms(was) if was else {}
        terms_after = _variant_terms(now)
        for field in sorted(set(terms_before) | set(terms_after)):
            if terms_before.get(field) != terms_after.get(field) and was is not None:
                lines.append(f"~ {key} {field}: {_show(terms_before.get(field))} → {_show(terms_after.get(field))}")
        rules_before = {r.id: r for r in walk(was.criteria)} if was and was.criteria else {}
        rules_after = {r.id: r for r in walk(now.criteria)} if now.criteria else {}
        for rule_id, rule in rules_after.items():
            if rule_id not in rules_before:
                lines.append(f"+ {key} {rule_id} ({rule.kind}): {rule.text}")
                continue
            a_fields, b_fields = _fields(rules_before[rule_id]), _fields(rule)
            for field in sorted(set(a_fields) | set(b_fields)):
                a, b = a_fields.get(field), b_fields.get(field)
                if a == b:
                    continue
                if isinstance(a, list) and isinstance(b, list):
                    added = [_show(x) for x in b if x not in a]
                    removed = [_show(x) for x in a if x not in b]
                    change = "; ".join(part for part in (f"added {', '.join(added)}" if added else "",
                                                         f"removed {', '.join(removed)}" if removed else "") if part)
                    lines.append(f"~ {key} {rule_id} {field}: {change}")
                else:
                    lines.append(f"~ {key} {rule_id} {field}: {_show(a)} → {_show(b)}")
        for rule_id, rule in rules_before.items():
            if rule_id not in rules_after:
                lines.append(f"- {key} {rule_id} ({rule.kind}): {rule.text}")
    return lines


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, dict) and "code" in value:
        dates = ", ".join(f"{k.removeprefix('accepted_')} {v}" for k, v in value.items() if k != "code")
        return str(value["code"]) + (f" ({dates})" if dates else "")
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json", exclude_defaults=True)
    return str(value)


__all__ = ["StatusChange", "policy_diff", "status_changes"]
