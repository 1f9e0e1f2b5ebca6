"""Every third-party package the code imports is listed in the requirements, and the lock files pin the
whole tree with hashes."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

from desk.settings import PROJECT_ROOT

SOURCES = ("desk", "ui", "pages", "scripts", "bench", "tests", "migrations")
LOCAL = {"desk", "ui", "pages", "scripts", "bench", "tests", "migrations", "app", "__future__"}
# Exists only for type checkers (imported under TYPE_CHECKING); no distribution provides it.
TYPE_CHECKER_ONLY = {"_typeshed"}


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _listed(path: Path) -> set[str]:
    names: set[str] = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            names |= _listed(path.parent / line[3:].strip())
        elif line and not line.startswith("-"):
            names.add(_normalize(re.split(r"[\[=<>!~;\s]", line, maxsplit=1)[0]))
    return names


def _imports() -> dict[str, set[str]]:
    """Top-level module -> files importing it (absolute imports only)."""
    files = [PROJECT_ROOT / "app.py"] + [p for d in SOURCES for p in sorted((PROJECT_ROOT / d).rglob("*.py"))]
    found: dict[str, set[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                found.setdefault(module.split(".")[0], set()).add(str(path.relative_to(PROJECT_ROOT)))
    return found


def test_every_imported_package_is_listed_in_the_requirements() -> None:
    listed = _listed(PROJECT_ROOT / "requirements-dev.txt")
    provided_by = packages_distributions()
    problems = []
    for module, files in sorted(_imports().items()):
        if module in sys.stdlib_module_names or module in LOCAL or module in TYPE_CHECKER_ONLY:
            continue
        distributions = {_normalize(d) for d in provided_by.get(module, [])}
        where = ", ".join(sorted(files)[:3])
        if not distributions:
            problems.append(f"{module} (imported by {where}) is provided by no installed package")
        elif not distributions & listed:
            problems.append(f"{module} (imported by {where}) comes from {', '.join(sorted(distributions))}, "
                            "which is not listed in requirements.txt or requirements-dev.txt")
    assert problems == []


def _pins(lock: Path) -> dict[str, str]:
    text = lock.read_text()
    entries = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \\\n((?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)",
                         text, flags=re.MULTILINE)
    requirement_lines = [line for line in text.splitlines() if re.match(r"^[A-Za-z0-9]", line)]
    assert len(entries) == len(requirement_lines), f"{lock.name}: a pin without hashes"
    return {_normalize(name): version for name, version, _hashes in entries}


def test_lock_files_pin_everything_listed_with_hashes_and_agree() -> None:
    runtime = _pins(PROJECT_ROOT / "requirements.lock")
    dev = _pins(PROJECT_ROOT / "requirements-dev.lock")
    assert _listed(PROJECT_ROOT / "requirements.txt") <= set(runtime)
    assert _listed(PROJECT_ROOT / "requirements-dev.txt") <= set(dev)
    assert {name: dev.get(name) for name in runtime} == runtime  # tests run on the versions that ship
    assert len(runtime) > 40  # the indirect dependencies are pinned too
