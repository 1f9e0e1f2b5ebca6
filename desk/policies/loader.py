"""Read and validate payer policy files; a broken file yields problems that name the file, field and expectation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from desk.policies.drugs import DrugLookup
from desk.policies.schema import (
    ICD10_PREFIX_SHAPE,
    ICD10_SHAPE,
    RULE_KINDS,
    DiagnosisRule,
    Policy,
    Rule,
    TrialsRule,
    children,
    walk,
)

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
    """The valid policies of a folder, and the problems of the files that are not.

    `policies` holds each payer's newest version; `versions` every version of a file, oldest first."""

    policies: dict[str, Policy] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    versions: dict[str, list[Policy]] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)

    def get(self, payer_id: str) -> Policy | None:
        return self.policies.get(payer_id)

    def in_force(self, payer_id: str, day: date) -> Policy | None:
        """The version in force on `day`; before the first version's date, the first version."""
        return version_in_force(self.versions.get(payer_id, []), day)

    def all_in_force(self, day: date) -> list[Policy]:
        """Each payer's version in force on `day`."""
        return [p for p in (self.in_force(i, day) for i in self.policies) if p is not None]

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
        text, problems = read_policy_text(path)
        versions: list[Policy] = []
        if text is not None:
            versions, problems = parse_policy_versions(text, file_name=path.name, drugs=drugs)
        catalog.problems.extend(problems)
        if not versions:
            continue
        policy = versions[-1]
        if policy.id in catalog.policies:
            catalog.problems.append(
                Problem(path.name, "id", f"{policy.id!r} is already used by {catalog.files[policy.id]}")
            )
            continue
        catalog.policies[policy.id] = policy
        catalog.versions[policy.id] = versions
        catalog.files[policy.id] = path.name
        catalog.texts[policy.id] = text or ""
        for version in versions:
            catalog.warnings.extend(policy_warnings(version, file_name=path.name))
    return catalog


def version_in_force(versions: Sequence[Policy], day: date) -> Policy | None:
    """Of versions sorted oldest first, the newest whose effective date is on or before `day` (else the first)."""
    if not versions:
        return None
    chosen = versions[0]
    for version in versions:
        if version.effective_date is None or version.effective_date <= day:
            chosen = version
    return chosen


def read_policy_text(path: Path) -> tuple[str | None, list[Problem]]:
    """The file's text, or None and why it cannot be read."""
    name = path.name
    try:
        return path.read_text(encoding="utf-8"), []
    except OSError as exc:
        return None, [Problem(name, "", f"cannot be read ({exc.strerror})")]
    except UnicodeDecodeError:
        return None, [Problem(name, "", "is not UTF-8 text")]


def load_policy_file(path: Path, *, drugs: DrugLookup) -> tuple[Policy | None, list[Problem]]:
    """One file: the policy (its newest version) when valid, otherwise None and its problems."""
    text, problems = read_policy_text(path)
    if text is None:
        return None, problems
    return parse_policy(text, file_name=path.name, drugs=drugs)


def parse_policy(text: str, *, file_name: str, drugs: DrugLookup,
                 name_must_match: bool = True) -> tuple[Policy | None, list[Problem]]:
    """Validate the YAML text of one policy file; the newest version when it holds several."""
    versions, problems = parse_policy_versions(text, file_name=file_name, drugs=drugs,
                                               name_must_match=name_must_match)
    return (versions[-1] if versions else None), problems


def parse_policy_versions(text: str, *, file_name: str, drugs: DrugLookup,
                          name_must_match: bool = True) -> tuple[list[Policy], list[Problem]]:
    """Every version of one policy file, oldest first. Versions are YAML documents separated by `---`, each a
    whole policy with its own effective_date; the file is valid only when every version is."""
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "malformed YAML"
        return [], [Problem(file_name, where, f"not valid YAML: {problem}")]
    if not documents:
        documents = [None]
    several = len(documents) > 1
    versions: list[Policy] = []
    problems: list[Problem] = []
    for index, raw in enumerate(documents):
        label = f"version {index + 1}: " if several else ""
        if not isinstance(raw, dict):
            expected = "expected a mapping with id, payer, plan_types, ... (see payers/README.md)"
            problems.append(Problem(file_name, "", label + expected))
            continue
        try:
            policy = Policy.model_validate(raw)
        except ValidationError as exc:
            for error in exc.errors():
                found = _problem(file_name, error, raw)
                problems.append(Problem(found.file, found.path, label + found.message))
            continue
        for found in _semantic_problems(policy, file_name=file_name, drugs=drugs, name_must_match=name_must_match):
            problems.append(Problem(found.file, found.path, label + found.message))
        versions.append(policy)
    if several and not problems:
        problems.extend(_version_problems(versions, file_name))
    if problems:
        return [], problems
    return sorted(versions, key=lambda p: p.effective_date or date.min), []


def _version_problems(versions: list[Policy], file_name: str) -> list[Problem]:
    problems = []
    dates = [v.effective_date for v in versions]
    if any(d is None for d in dates):
        problems.append(Problem(file_name, "effective_date", "a file with several versions needs an effective_date "
                                "on every version"))
    elif len(set(dates)) != len(dates):
        problems.append(Problem(file_name, "effective_date", "two versions share an effective_date"))
    if len({v.id for v in versions}) > 1:
        problems.append(Problem(file_name, "id", "every version of a file has the same id"))
    return problems


def policy_warnings(policy: Policy, *, file_name: str) -> list[Problem]:
    """Things that are valid but probably wrong: codes that are not ICD-10-CM shaped."""
    found = []
    for v_index, variant in enumerate(policy.variants):
        if variant.criteria is None or variant.criteria_from is not None:
            continue
        for path, rule in _paths(variant.criteria, f"variants[{v_index}].criteria"):
            if not isinstance(rule, DiagnosisRule):
                continue
            for field_name, items, shape in (("icd10_codes", rule.icd10_codes, ICD10_SHAPE),
                                             ("icd10_prefixes", rule.icd10_prefixes, ICD10_PREFIX_SHAPE)):
                for index, item in enumerate(items):
                    if not shape.match(item.code.strip().upper()):
                        found.append(Problem(file_name, f"{path}.{field_name}[{index}]",
                                             f"{item.code!r} is not shaped like an ICD-10-CM code (e.g. F33.2 or "
                                             "F332)"))
    return found


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
        elif (item in RULE_KINDS and previous in ("rules", "criteria", "rule")) or (
            item in RULE_KINDS and isinstance(previous, int)
        ):
            pass  # the discriminator tag pydantic inserts into the location
        else:
            text += ("." if text else "") + item
        previous = item
    return text


def _semantic_problems(policy: Policy, *, file_name: str, drugs: DrugLookup,
                       name_must_match: bool = True) -> list[Problem]:
    problems: list[Problem] = []
    stem = Path(file_name).stem
    if name_must_match and stem != policy.id:
        problems.append(Problem(file_name, "id", f"must match the file name ({stem!r}), got {policy.id!r}"))
    seen: dict[str, str] = {}
    for v_index, variant in enumerate(policy.variants):
        if variant.criteria is None or variant.criteria_from is not None:
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
    below = children(rule)
    if len(below) == 1 and not hasattr(rule, "rules"):
        yield from _paths(below[0], f"{path}.rule")
        return
    for index, child in enumerate(below):
        yield from _paths(child, f"{path}.rules[{index}]")


def criteria_count(policy: Policy) -> int:
    """How many criteria (groups included) the policy's variants hold."""
    return sum(len(walk(v.criteria)) for v in policy.variants if v.criteria is not None and v.criteria_from is None)
