"""Repeat a measurement and summarise it as median with min–max; one table row per measurement."""
from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass
from typing import Callable


@dataclass
class Stat:
    median: float
    min: float
    max: float
    n: int
    unit: str

    def __str__(self) -> str:
        return f"{self.median:.3g} {self.unit} ({self.min:.3g}–{self.max:.3g}, n={self.n})"

    def as_dict(self) -> dict:
        return asdict(self)


def summarise(values: list[float], unit: str) -> Stat:
    """Median, min and max of ``values`` (at least one) in ``unit``."""
    if not values:
        raise ValueError("values must hold at least one measurement")
    values = [float(v) for v in values]
    return Stat(statistics.median(values), min(values), max(values), len(values), unit)


def timeit(fn: Callable[[], object], repeat: int = 5, warmup: int = 1, unit: str = "ms") -> Stat:
    """Call ``fn`` ``warmup`` times untimed (caches, lazy imports), then ``repeat`` times timed."""
    scale = {"s": 1.0, "ms": 1e3, "us": 1e6}[unit]
    for _ in range(warmup):
        fn()
    values = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        values.append((time.perf_counter() - t0) * scale)
    return summarise(values, unit)


def row(what: str, stat: Stat, target: float | None = None, at_least: bool = False,
        note: str = "") -> dict:
    """One table row: the summary, the target (an upper bound unless ``at_least``) and whether
    the median meets it (None when there is no target)."""
    met = None
    if target is not None:
        met = stat.median >= target if at_least else stat.median <= target
    return {"what": what, **stat.as_dict(), "target": target,
            "target_kind": ">=" if at_least else "<=", "met": met, "note": note}
