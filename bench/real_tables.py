"""The default Choose k answer on real customer tables: recommended k, smallest segment, reason.

Run by hand (it reads ``/work/shared/datasets``, which no test may read)::

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python -m bench.real_tables [--out FILE]

For each table (read with :func:`analytics.read_table`, default feature columns as the
Data page uses them) and each method, the default ``sweep_k(df, ks, method)`` is run
(ks from 1 when the sweep accepts k = 1, else from 2, up to 10), then
``segment(df, method, recommended k)`` (the covariance type the sweep chose, for
mixtures) gives the smallest segment's share of rows. For mixtures the last column is
``segment()``'s BIC minus the sweep's BIC at that k and covariance type (0 = the fit
reproduces the sweep).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pandas as pd

from analytics import InputError, read_table, segment
from analytics.preparation import default_columns
from analytics.studies.choose_k import sweep_k

SHARED = Path("/work/shared/datasets")
REPO = Path(__file__).resolve().parent.parent
TABLES = {
    "Mall": SHARED / "Mall_Customers.csv",
    "wholesale": SHARED / "wholesale_customers_udacity.csv",
    "marketing": SHARED / "marketing_campaign.csv",
    "CC GENERAL": SHARED / "CC GENERAL.csv",
    "sample": REPO / "sample_data" / "customers.csv",
}
METHODS = ("gmm", "kmeans", "fcm")


def _ks(df: pd.DataFrame, method: str, columns: list[str]) -> range:
    """1..10 when the sweep accepts k = 1, else 2..10."""
    try:
        sweep_k(df.head(50), [1], method, columns=columns)
    except InputError:
        return range(2, 11)
    return range(1, 11)


def one(name: str, df: pd.DataFrame, method: str) -> dict:
    """The sweep's answer and the smallest segment of the fit at that k."""
    columns = default_columns(df)
    ks = _ks(df, method, columns)
    t0 = time.perf_counter()
    sw = sweep_k(df, ks, method, columns=columns)
    seconds = time.perf_counter() - t0
    k = sw.recommended_k
    out = {"table": name, "method": method, "ks": f"{ks[0]}..{ks[-1]}", "k": k}
    params = {}
    if method == "gmm" and k is not None:
        params["covariance_type"] = str(sw.table.at[k, "best_covariance"])
        out["cov"] = params["covariance_type"]
    if k is not None and k >= 1:
        seg = segment(df, method, k, columns=columns, **params)
        sizes = np.bincount(seg.labels, minlength=k + 1)[1:]
        out["smallest share"] = f"{sizes.min() / sizes.sum():.1%}"
        if method == "gmm":
            out["segment-sweep BIC"] = round(seg.summary["bic"] - sw.table.at[k, "bic"], 1)
    out["seconds"] = round(seconds, 1)
    out["reason"] = sw.reason + (f" WARNING: {sw.warning}" if sw.warning else "")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="also write the table as CSV here")
    args = parser.parse_args(argv)
    rows = []
    for name, path in TABLES.items():
        df = read_table(path)
        for method in METHODS:
            print(f"{name} / {method} ...", file=sys.stderr, flush=True)
            rows.append(one(name, df, method))
    table = pd.DataFrame(rows)
    with pd.option_context("display.max_colwidth", 400, "display.width", 400):
        print(table.drop(columns="reason").to_string(index=False))
        print()
        for r in rows:
            print(f"- {r['table']} / {r['method']}: {r['reason']}")
    if args.out:
        table.to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
