"""Run the benchmarks and print one JSON object per line.

Each module bench/bench_NAME.py defines `run(quick: bool) -> Iterable[Result]`.
Usage: python bench/run.py [--quick] [--only NAME]
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Result  # noqa: E402


def available() -> list[str]:
    return sorted(m.name.removeprefix("bench_") for m in pkgutil.iter_modules([str(ROOT / "bench")])
                  if m.name.startswith("bench_"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    parser.add_argument("--only", action="append", help="run only this benchmark (repeatable)")
    args = parser.parse_args()
    names = available()
    unknown = set(args.only or []) - set(names)
    if unknown:
        print(f"error: unknown benchmark {sorted(unknown)[0]!r}; known: {', '.join(names)}", file=sys.stderr)
        return 2
    for name in names:
        if args.only and name not in args.only:
            continue
        module = importlib.import_module(f"bench.bench_{name}")
        for result in module.run(quick=args.quick):
            assert isinstance(result, Result)
            print(json.dumps(result.as_dict()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
