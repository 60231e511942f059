"""Generate the bundled sample ``customers.csv`` (deterministic: same bytes every run).

About 2,000 synthetic retail customers drawn from five latent segments with
distinct, internally correlated profiles, plus a few missing values and a
handful of deliberately odd customers for the anomaly page.

Columns
-------
customer_id               text, ``C00001`` .. (text on purpose: an ID, not a number)
age                       int, years
annual_income             float, thousands of dollars (k$), 1 decimal; ~1.5 % missing
spending_score            int, 1-100
visits_per_month          float, 1 decimal; ~1.5 % missing
days_since_last_purchase  int, days
channel                   online / store / both
region                    North / South / East / West / Central

Run ``python sample_data/make_sample.py`` to rewrite ``sample_data/customers.csv``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240611
N_CUSTOMERS = 2000
OUT = Path(__file__).with_name("customers.csv")

REGIONS = ["North", "South", "East", "West", "Central"]
CHANNELS = ["online", "store", "both"]

# Each segment: share, mean and sd of (age, income k$, score, visits, log1p(days)),
# the correlation between them, channel and region probabilities.
SEGMENTS = {
    "young online big spenders": dict(
        share=0.24,
        mean=[26, 48, 80, 9.0, np.log1p(6)],
        sd=[4, 12, 8, 2.0, 0.5],
        channel=[0.75, 0.05, 0.20],
        region=[0.15, 0.15, 0.25, 0.25, 0.20],
    ),
    "affluent careful": dict(
        share=0.18,
        mean=[49, 118, 22, 2.5, np.log1p(45)],
        sd=[7, 20, 8, 0.8, 0.45],
        channel=[0.20, 0.45, 0.35],
        region=[0.30, 0.10, 0.20, 0.15, 0.25],
    ),
    "budget regulars": dict(
        share=0.26,
        mean=[38, 34, 50, 12.0, np.log1p(3)],
        sd=[10, 8, 10, 2.5, 0.5],
        channel=[0.10, 0.70, 0.20],
        region=[0.20, 0.30, 0.20, 0.15, 0.15],
    ),
    "seniors in store": dict(
        share=0.17,
        mean=[68, 55, 38, 5.5, np.log1p(12)],
        sd=[6, 14, 10, 1.5, 0.5],
        channel=[0.05, 0.80, 0.15],
        region=[0.25, 0.25, 0.15, 0.10, 0.25],
    ),
    "affluent big spenders": dict(
        share=0.15,
        mean=[36, 108, 86, 7.0, np.log1p(8)],
        sd=[6, 18, 6, 1.8, 0.5],
        channel=[0.35, 0.15, 0.50],
        region=[0.15, 0.15, 0.20, 0.30, 0.20],
    ),
}

# Within a segment: spenders visit more and came back more recently; older
# customers earn a little more.
CORRELATION = np.array(
    [
        # age  income score visits log_days
        [1.00, 0.30, -0.10, -0.05, 0.10],
        [0.30, 1.00, 0.05, 0.00, 0.00],
        [-0.10, 0.05, 1.00, 0.50, -0.45],
        [-0.05, 0.00, 0.50, 1.00, -0.55],
        [0.10, 0.00, -0.45, -0.55, 1.00],
    ]
)


def make_customers(n: int = N_CUSTOMERS, seed: int = SEED) -> pd.DataFrame:
    """Draw ``n`` customers; returns a DataFrame with the columns in the module docstring."""
    rng = np.random.default_rng(seed)
    names = list(SEGMENTS)
    shares = np.array([SEGMENTS[s]["share"] for s in names])
    counts = rng.multinomial(n, shares / shares.sum())
    parts = []
    for name, count in zip(names, counts, strict=True):
        spec = SEGMENTS[name]
        sd = np.array(spec["sd"], dtype=float)
        cov = CORRELATION * np.outer(sd, sd)
        x = rng.multivariate_normal(spec["mean"], cov, size=count, method="cholesky")
        parts.append(
            pd.DataFrame(
                {
                    "age": np.clip(np.round(x[:, 0]), 18, 90).astype(int),
                    "annual_income": np.clip(x[:, 1], 12, None).round(1),
                    "spending_score": np.clip(np.round(x[:, 2]), 1, 100).astype(int),
                    "visits_per_month": np.clip(x[:, 3], 0.2, None).round(1),
                    "days_since_last_purchase": np.clip(np.round(np.expm1(x[:, 4])), 0, 365).astype(
                        int
                    ),
                    "channel": rng.choice(CHANNELS, size=count, p=spec["channel"]),
                    "region": rng.choice(REGIONS, size=count, p=spec["region"]),
                }
            )
        )
    df = pd.concat(parts, ignore_index=True)
    df = df.iloc[rng.permutation(len(df))].reset_index(drop=True)

    # A handful of odd customers the anomaly page should surface.
    odd = rng.choice(len(df), size=10, replace=False)
    oddities = [
        {"annual_income": 950.0, "spending_score": 50},  # extreme income
        {"visits_per_month": 0.0, "spending_score": 99, "days_since_last_purchase": 2},
        {"age": 19, "annual_income": 400.0, "spending_score": 97},
        {"age": 88, "spending_score": 100, "visits_per_month": 30.0, "channel": "online"},
        {"days_since_last_purchase": 365, "spending_score": 95, "visits_per_month": 14.0},
        {"annual_income": 12.0, "spending_score": 100, "visits_per_month": 25.0},
        {"age": 23, "annual_income": 310.0, "spending_score": 3, "visits_per_month": 0.1},
        {"visits_per_month": 45.0, "spending_score": 2, "days_since_last_purchase": 0},
        {"age": 75, "annual_income": 640.0, "spending_score": 1, "channel": "online"},
        {"age": 18, "days_since_last_purchase": 300, "visits_per_month": 20.0},
    ]
    for row, changes in zip(odd, oddities, strict=True):
        for column, value in changes.items():
            df.loc[row, column] = value

    # About 1.5 % missing in two columns (never on the odd customers).
    normal = np.setdiff1d(np.arange(len(df)), odd)
    for column in ("annual_income", "visits_per_month"):
        missing = rng.choice(normal, size=round(0.015 * len(df)), replace=False)
        df.loc[missing, column] = np.nan

    df.insert(0, "customer_id", [f"C{i:05d}" for i in range(1, len(df) + 1)])
    return df


def main() -> None:
    df = make_customers()
    # Fixed float format and line ending so the bytes are identical on every run.
    OUT.write_text(df.to_csv(index=False, float_format="%.1f", lineterminator="\n"), "utf-8")
    print(f"wrote {len(df)} customers to {OUT}")


if __name__ == "__main__":
    main()
