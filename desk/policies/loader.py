"""Read and validate payer policy files; a broken file yields problems that name the file, field and expectation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from desk.policies.drugs import DrugLookup
from desk.policies.schema import RULE_KINDS, AllOf, AnyOf, AtLeast, Policy, Rule, TrialsRule, walk

GENERIC_POLICY_ID = "generic-commercial"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one policy file."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}" if self.path else f"{self.file}: {self.message}"


@dataclass
class PolicyCatalog:
    """The valid policies of a folder, and the problems of the files that are not."""

    policies: dict[str, Policy] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)

    def get(self, payer_id: str) -> Policy | None:
        return self.policies.get(payer_id)

    @property
    def broken_files(self) -> list[str]:
        return sorted({p.file for p in self.problems})


def policy_files(paths: Sequence[Path]) -> list[Path]:
    """Every .yaml/.yml file named by `paths` (folders are searched one level deep)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()))
        else:
            found.append(path)
    return found


def load_catalog(paths: Sequence[Path], *, drugs: DrugLookup) -> PolicyCatalog:
    """Load every policy file under `paths`; valid files are kept even when others are broken."""
    catalog = PolicyCatalog()
    for path in policy_files(paths):
        policy, problems = load_policy_file(path, drugs=drugs)
        catalog.problems.extend(problems)
        if policy is None:
            continue
        if policy.id in catalog.policies:
            catalog.problems.append(
                Problem(path.name, "id", f"{policy.id!r} is already used by {catalog.files[policy.id]}")
            )
            continue
        catalog.policies[policy.id] = policy
        catalog.files[policy.id] = path.name
    return catalog


def load_policy_file(path: Path, *, drugs: DrugLookup) -> tuple[Policy | None, list[Problem]]:
    """One file: the policy when valid, otherwise None and its problems."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, [Problem(name, "", f"cannot be read ({exc.strerror})")]
    except UnicodeDecodeError:
        return None, [Problem(name, "", "is not UTF-8 text")]
    return parse_policy(text, file_name=name, drugs=drugs)


def parse_policy(text: str, *, file_name: str, drugs: DrugLookup) -> tuple[Policy | None, list[Problem]]:
    """Validate the YAML text of one policy file."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "malformed YAML"
        return None, [Problem(file_name, where, f"not valid YAML: {problem}")]
    if not isinstance(raw, dict):
        expected = "expected a mapping with id, payer, plan_types, ... (see payers/README.md)"
        return None, [Problem(file_name, "", expected)]
    try:
        policy = Policy.model_validate(raw)
    except ValidationError as exc:
        return None, [_problem(file_name, error, raw) for error in exc.errors()]
    problems = _semantic_problems(policy, file_name=file_name, drugs=drugs)
    return (None, problems) if problems else (policy, [])


def _problem(file_name: str, error: Any, raw: Any) -> Problem:
    path = _loc(tuple(error["loc"]))
    kind = error["type"]
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "union_tag_invalid":
        tag = error.get("ctx", {}).get("tag")
        message = f"unknown rule kind {tag!r}; expected one of {', '.join(RULE_KINDS)}"
    elif kind == "union_tag_not_found":
        message = f"a rule needs a kind: one of {', '.join(RULE_KINDS)}"
    elif kind == "missing":
        message = "required field is missing"
    elif kind == "extra_forbidden" and path == "decision_clock":
        message = ("replaced by decision_clocks: one clock per plan type, each with standard and expedited as "
                   "{amount, unit} and a source (see payers/README.md)")
    elif kind == "extra_forbidden":
        message = "unknown field (check the spelling against payers/README.md)"
    elif kind not in ("value_error", "assertion_error"):
        message = f"{message} (got {error.get('input')!r})"
    return Problem(file_name, path, message)


def _loc(loc: tuple[int | str, ...]) -> str:
    text = ""
    previous: int | str | None = None
    for item in loc:
        if isinstance(item, int):
            text += f"[{item}]"
        elif (item in RULE_KINDS and previous in ("rules", "criteria")) or (
            item in RULE_KINDS and isinstance(previous, int)
        ):
            pass  # the discriminator tag pydantic inserts into the location
        else:
            text += ("." if text else "") + item
        previous = item
    return text


def _semantic_problems(policy: Policy, *, file_name: str, drugs: DrugLookup) -> list[Problem]:
    problems: list[Problem] = []
    stem = Path(file_name).stem
    if stem != policy.id:
        problems.append(Problem(file_name, "id", f"must match the file name ({stem!r}), got {policy.id!r}"))
    seen: dict[str, str] = {}
    for v_index, variant in enumerate(policy.variants):
        if variant.criteria is None:
            continue
        for path, rule in _paths(variant.criteria, f"variants[{v_index}].criteria"):
            if rule.id in seen:
                message = f"duplicate criterion id {rule.id!r} (also at {seen[rule.id]})"
                problems.append(Problem(file_name, f"{path}.id", message))
            else:
                seen[rule.id] = path
            if rule.source is not None:
                key = rule.source.split(":", 1)[0].strip()
                if key not in policy.sources:
                    keys = ", ".join(policy.sources)
                    message = f"starts with {key!r}, which is not a key of sources (expected one of {keys})"
                    problems.append(Problem(file_name, f"{path}.source", message))
            if isinstance(rule, TrialsRule):
                for c_index, name in enumerate(rule.allowed_classes):
                    if name not in drugs.classes:
                        problems.append(Problem(
                            file_name, f"{path}.allowed_classes[{c_index}]",
                            f"unknown drug class {name!r}; expected one of {', '.join(sorted(drugs.classes))}",
                        ))
    return problems


def _paths(rule: Rule, path: str) -> Iterable[tuple[str, Rule]]:
    yield path, rule
    if isinstance(rule, AllOf | AnyOf | AtLeast):
        for index, child in enumerate(rule.rules):
            yield from _paths(child, f"{path}.rules[{index}]")


def criteria_count(policy: Policy) -> int:
    """How many criteria (groups included) the policy's variants hold."""
    return sum(len(walk(v.criteria)) for v in policy.variants if v.criteria is not None)
