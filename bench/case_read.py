"""read_table on a ~100 MB customer CSV vs a plain pandas.read_csv of the same file."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.io import read_table_with_report
from bench.common import measure, row


def make_csv(path: Path, n: int, seed: int = 0) -> None:
    """A customer table like the analysts' ones: an ID, numbers, categories, some gaps."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"customer_id": [f"C{i:08d}" for i in range(n)]})
    for j in range(8):
        df[f"amount_{j}"] = np.round(rng.lognormal(3, 1, n), 2)
    df["visits"] = rng.integers(0, 40, n)
    df["channel"] = rng.choice(["online", "store", "both"], n)
    df.loc[rng.random(n) < 0.01, "amount_0"] = np.nan
    df.to_csv(path, index=False)


def cases(quick: bool) -> list[dict]:
    n = 100_000 if quick else 1_600_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "customers.csv"
        make_csv(path, n)
        mb = path.stat().st_size / 2**20
        # Median of three runs each, alternating, because the machine is shared.
        ours_runs, ref_runs = [], []
        for _ in range(3):
            ours_runs.append(measure(lambda: read_table_with_report(path), trace_memory=False))
            ref_runs.append(measure(lambda: pd.read_csv(path), trace_memory=False))
        ours = sorted(ours_runs, key=lambda m: m.seconds)[1]
        ref = sorted(ref_runs, key=lambda m: m.seconds)[1]
        df, _ = ours.value
        same = df.shape == ref.value.shape
    return [
        row(
            f"read_table {mb:.0f} MB CSV ({n:,} rows) vs pandas.read_csv",
            ours,
            ref,
            "",
            f"same shape: {same}; median of 3; memory not traced (parsers allocate in C)",
        )
    ]
