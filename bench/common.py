"""What a benchmark reports, and small timing helpers."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Result:
    """One figure: {"bench", "metric", "value", "unit", "baseline", "ratio"}."""

    bench: str
    metric: str
    value: float
    unit: str
    baseline: float | None = None

    def as_dict(self) -> dict[str, Any]:
        ratio = round(self.value / self.baseline, 3) if self.baseline else None
        return {
            "bench": self.bench,
            "metric": self.metric,
            "value": round(self.value, 3),
            "unit": self.unit,
            "baseline": None if self.baseline is None else round(self.baseline, 3),
            "ratio": ratio,
        }


def median_ms(action: Callable[[], object], *, repeat: int, warmup: int = 2) -> float:
    """Median wall time of `action` in milliseconds over `repeat` runs."""
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)
