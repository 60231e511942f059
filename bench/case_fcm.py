"""Fuzzy c-means: our blocked kernel vs scikit-fuzzy 0.5 (both to convergence)."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_blobs

from analytics.model.fcm import FuzzyCMeans
from bench.common import measure, row


def _objective(X: np.ndarray, centers: np.ndarray, u: np.ndarray, m: float) -> float:
    d2 = ((X[:, None, :] - centers[None]) ** 2).sum(-1) if len(X) <= 50_000 else None
    if d2 is None:  # chunked to stay within memory for big n
        total = 0.0
        for s in range(0, len(X), 50_000):
            xs = X[s : s + 50_000]
            d = ((xs[:, None, :] - centers[None]) ** 2).sum(-1)
            total += float(((u[s : s + 50_000] ** m) * d).sum())
        return total
    return float(((u**m) * d2).sum())


def cases(quick: bool) -> list[dict]:
    import skfuzzy

    n = 30_000 if quick else 300_000
    X, _ = make_blobs(n_samples=n, n_features=10, centers=8, cluster_std=2.0, random_state=0)
    m = 2.0
    ours = measure(lambda: FuzzyCMeans(8, m=m, tol=1e-4, random_state=0).fit(X))
    ours32 = measure(lambda: FuzzyCMeans(8, m=m, tol=1e-4, random_state=0, dtype="float32").fit(X))
    # scikit-fuzzy's default stopping rule: Frobenius change of U below `error`.
    ref = measure(lambda: skfuzzy.cmeans(X.T, 8, m, error=0.005, maxiter=1000, seed=0))
    f, f32 = ours.value, ours32.value
    cntr, u_ref, _, _, jm, p_ref, _ = ref.value
    j_ref = _objective(X, cntr, u_ref.T, m)
    # One iteration of our kernel vs one plain pass over the data (a column sum, the
    # memory-bandwidth yardstick); medians of 7 repeats, since the machine is shared.
    x_sq = np.einsum("ij,ij->i", X, X)
    centers = f.cluster_centers_
    per_iter = np.median(
        [
            measure(lambda: f._step(X, x_sq, centers, m), trace_memory=False).seconds
            for _ in range(7)
        ]
    )
    X32 = X.astype(np.float32)
    x_sq32 = np.einsum("ij,ij->i", X32, X32)
    per_iter32 = np.median(
        [
            measure(
                lambda: f32._step(X32, x_sq32, f32.cluster_centers_, m), trace_memory=False
            ).seconds
            for _ in range(7)
        ]
    )
    one_pass = np.median(
        [measure(lambda: X.sum(axis=0), trace_memory=False).seconds for _ in range(7)]
    )
    note = (
        f"J ours {f.objective_:.6g} vs skfuzzy {j_ref:.6g}; one iteration {per_iter * 1000:.1f} ms"
        f" = {per_iter / one_pass:.1f}x one data pass ({one_pass * 1000:.2f} ms)"
    )
    return [
        row(
            f"FCM fit {n:,}x10 c=8 (float64) vs skfuzzy", ours, ref, f"{f.n_iter_} vs {p_ref}", note
        ),
        row(
            f"FCM fit {n:,}x10 c=8 (float32) vs skfuzzy",
            ours32,
            ref,
            f"{f32.n_iter_} vs {p_ref}",
            f"J ours {f32.objective_:.6g}; one iteration {per_iter32 * 1000:.1f} ms"
            f" = {per_iter32 / one_pass:.1f}x one float64 data pass",
        ),
    ]
