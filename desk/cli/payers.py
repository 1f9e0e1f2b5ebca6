"""`python -m desk payers ...`: list, check, diff, case-schema and evaluate payer policies."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from desk.cli import CommandFailed, print_json
from desk.errors import ValidationFailed
from desk.policies.case import case_json_schema, read_case
from desk.policies.diff import policy_diff
from desk.policies.drugs import default_drugs
from desk.policies.evaluator import evaluate
from desk.policies.loader import PolicyCatalog, load_catalog, parse_policy, read_policy_text
from desk.policies.schema import INDICATIONS, PHASES, Policy
from desk.settings import load_settings


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    payers = commands.add_parser("payers", help="payer policy files: list, check, diff, case-schema, evaluate")
    sub = payers.add_subparsers(dest="payers_command", required=True)

    listing = sub.add_parser("list", help="the valid policies as JSON")
    listing.add_argument("--dir", type=Path, default=None, help="policy folder (default: DESK_PAYERS_DIR or payers/)")
    listing.set_defaults(handler=_list)

    check = sub.add_parser("check", help="validate policy files; exit 1 with one line per problem")
    check.add_argument("paths", nargs="*", type=Path, help="files or folders (default: the payers folder)")
    check.set_defaults(handler=_check)

    schema = sub.add_parser("case-schema", help="the JSON Schema of a case file")
    schema.set_defaults(handler=_case_schema)

    diff = sub.add_parser("diff", help="the criterion-level changes from one policy file to another")
    diff.add_argument("old", type=Path, help="the earlier file")
    diff.add_argument("new", type=Path, help="the later file")
    diff.set_defaults(handler=_diff)

    run = sub.add_parser("evaluate", help="evaluate a case file against one payer's policy")
    run.add_argument("--payer", required=True, help="policy id, e.g. cigna")
    run.add_argument("--case", required=True, type=Path, help="case facts as JSON (see case-schema)")
    run.add_argument("--indication", choices=INDICATIONS, default="trd")
    run.add_argument("--phase", choices=PHASES, default="initial")
    run.add_argument("--as-of", default=None, help="YYYY-MM-DD (default: today)")
    run.add_argument("--dir", type=Path, default=None, help="policy folder (default: DESK_PAYERS_DIR or payers/)")
    run.set_defaults(handler=_evaluate)


def _folder(path: Path | None) -> Path:
    return path or load_settings().payers_dir


def _list(args: argparse.Namespace) -> int:
    catalog = load_catalog([_folder(args.dir)], drugs=default_drugs())
    print_json([
        {"id": p.id, "name": p.payer, "plan_types": p.plan_types, "benefit": p.benefit, "incomplete": p.incomplete}
        for p in sorted(catalog.policies.values(), key=lambda p: p.id)
    ])
    for problem in catalog.problems:
        print(f"warning: {problem}", file=sys.stderr)
    return 0


def _check(args: argparse.Namespace) -> int:
    paths = args.paths or [_folder(None)]
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise CommandFailed(f"{missing[0]}: no such file or folder")
    catalog = load_catalog(paths, drugs=default_drugs())
    for problem in catalog.problems:
        print(problem)
    for warning in catalog.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if catalog.problems:
        return 1
    print(f"{len(catalog.policies)} policy file(s) valid", file=sys.stderr)
    return 0


def _case_schema(_args: argparse.Namespace) -> int:
    print_json(case_json_schema())
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of else date.today()
    except ValueError as exc:
        raise CommandFailed(f"--as-of: expected YYYY-MM-DD, got {args.as_of!r}") from exc
    drugs = default_drugs()
    catalog = load_catalog([_folder(args.dir)], drugs=drugs)
    policy_or_fail(catalog, args.payer)
    policy = catalog.in_force(args.payer, as_of)
    assert policy is not None
    try:
        text = args.case.read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandFailed(f"--case: cannot read {args.case} ({exc.strerror})") from exc
    try:
        case = read_case(text, as_of=as_of, drugs=drugs)
    except ValidationFailed as exc:
        raise CommandFailed(f"--case: {exc}") from exc
    result = evaluate(case, policy, indication=args.indication, phase=args.phase, as_of=as_of, drugs=drugs)
    print(result.to_json())
    return 0


def _diff(args: argparse.Namespace) -> int:
    drugs = default_drugs()
    found = []
    for name, path in (("OLD", args.old), ("NEW", args.new)):
        text, problems = read_policy_text(path)
        policy = None
        if text is not None:
            # Earlier copies are often named cigna.old.yaml: the id need not match the file name here.
            policy, problems = parse_policy(text, file_name=path.name, drugs=drugs, name_must_match=False)
        if policy is None:
            raise CommandFailed(f"{name}: " + (str(problems[0]) if problems else f"{path}: not a policy file"))
        found.append(policy)
    lines = policy_diff(found[0], found[1])
    for line in lines:
        print(line)
    if not lines:
        print("no changes", file=sys.stderr)
    return 0


def policy_or_fail(catalog: PolicyCatalog, payer_id: str) -> Policy:
    """The payer's policy, or CommandFailed saying whether its file is invalid or there is none."""
    policy = catalog.get(payer_id)
    if policy is None:
        broken = [str(p) for p in catalog.problems if Path(p.file).stem == payer_id]
        if broken:
            raise CommandFailed(f"--payer: the policy file for {payer_id!r} is invalid: {broken[0]}")
        known = ", ".join(sorted(catalog.policies))
        raise CommandFailed(f"--payer: no policy on file for {payer_id!r}; known: {known}")
    return policy
