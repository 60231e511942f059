"""Shared timing and memory measurement for the benchmark cases."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Measurement:
    """Wall time (s), peak traced memory (MB) and the function's return value."""

    seconds: float
    peak_mb: float
    value: Any


def measure(fn: Callable[[], Any], trace_memory: bool = True) -> Measurement:
    """Run ``fn`` once, timing it and (optionally) tracing its peak allocation.

    tracemalloc slows numpy-heavy code only slightly because numpy allocates
    large blocks; the same setting is used for our code and the reference.
    """
    if trace_memory:
        tracemalloc.start()
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    peak = 0.0
    if trace_memory:
        _, peak_bytes = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peak = peak_bytes / 2**20
    return Measurement(seconds, peak, value)


def row(
    case: str,
    ours: Measurement,
    ref: Measurement,
    iterations: str = "",
    note: str = "",
) -> dict[str, Any]:
    """One table row: ratio < 1 means we are faster than the reference."""
    return {
        "case": case,
        "ours_s": round(ours.seconds, 3),
        "reference_s": round(ref.seconds, 3),
        "ratio": round(ours.seconds / ref.seconds, 3) if ref.seconds else float("nan"),
        "iterations": iterations,
        "ours_peak_mb": round(ours.peak_mb, 1),
        "reference_peak_mb": round(ref.peak_mb, 1),
        "note": note,
    }
