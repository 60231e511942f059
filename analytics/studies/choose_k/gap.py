"""The gap statistic (Tibshirani, Walther & Hastie, 2001): is there structure at all?

``Gap(k) = E*[log W*_k] - log W_k``, where ``W_k`` is the k-means within-segment sum of
squares of the data and ``W*_k`` that of reference data with no segments: rows drawn
uniformly over the box aligned with the data's principal components (the paper's
option (b)). With ``sd_k`` the standard deviation of ``log W*_k`` over the ``B``
reference sets, ``s_k = sd_k * sqrt(1 + 1/B)``, and the paper's rule picks the
smallest k with ``Gap(k) >= Gap(k+1) - s_{k+1}`` (:func:`gap_pick`). Whether there is
any structure at all (k = 1) is decided by :func:`one_group`. The same statistic works
for any objective that grows with the rows (the fuzzy c-means objective too).

Reference sets of up to ``GAP_REFERENCE_ROWS`` rows are used: ``W`` grows in proportion
to the number of rows, so ``log W*`` of a smaller reference set is shifted by
``log(n / m)``; that constant shift is added back and cancels in the rule anyway.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning

#: Reference data sets drawn (the paper's B).
GAP_REFERENCES = 10
#: Rows per reference data set, at most.
GAP_REFERENCE_ROWS = 2_000


def reference_sets(X: np.ndarray, b: int, rows: int, seed: int) -> list[np.ndarray]:
    """``b`` reference data sets, each of shape (min(n, rows), p): uniform over the
    principal-component box of ``X`` (n, p)."""
    mean = X.mean(axis=0)
    _, _, vt = np.linalg.svd(X - mean, full_matrices=False)
    proj = (X - mean) @ vt.T
    low, high = proj.min(axis=0), proj.max(axis=0)
    rng = np.random.default_rng(seed)
    m = min(len(X), rows)
    return [rng.uniform(low, high, size=(m, len(low))) @ vt + mean for _ in range(b)]


def within_ss(X: np.ndarray, k: int, seed: int, n_init: int = 2) -> float:
    """The k-means within-segment sum of squares ``W_k`` (k = 1: the total sum of squares)."""
    if k == 1:
        return float(((X - X.mean(axis=0)) ** 2).sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return float(KMeans(k, n_init=n_init, random_state=seed).fit(X).inertia_)


#: The objective of a fit with k segments on rows (m, p): (rows, k, seed) -> W_k.
Objective = Callable[[np.ndarray, int, int], float]


def gap_statistic(
    X: np.ndarray,
    within: Mapping[int, float],
    seed: int,
    b: int = GAP_REFERENCES,
    rows: int = GAP_REFERENCE_ROWS,
    objective: Objective | None = None,
) -> dict[int, tuple[float, float]]:
    """``Gap(k)`` and ``s_k`` for every k of ``within``.

    Parameters
    ----------
    X : prepared features, shape (n, p)
    within : k -> the objective of the data's fit at k (k-means: the inertia ``W_k``;
        fuzzy c-means: its objective ``J_m``, which also grows in proportion to rows)
    seed : seed of the reference draws and their fits
    b : number of reference data sets
    rows : rows per reference set, at most
    objective : the same objective on a reference set, ``(rows, k, seed) -> float``;
        default the k-means ``W_k`` (:func:`within_ss`, one start)

    Returns
    -------
    k -> (gap, s_k)
    """
    objective = objective or (lambda r, k, s: within_ss(r, k, s, 1))
    refs = reference_sets(X, b, rows, seed)
    shift = np.log(len(X) / len(refs[0]))
    out = {}
    for k, w in within.items():
        if not (np.isfinite(w) and w > 0):
            out[int(k)] = (np.nan, np.nan)
            continue
        logs = np.array([np.log(objective(r, int(k), seed)) + shift for r in refs])
        out[int(k)] = (float(logs.mean() - np.log(w)), float(logs.std() * np.sqrt(1 + 1 / b)))
    return out


def one_group(gap: Mapping[int, float], se: Mapping[int, float]) -> bool:
    """Whether one group is the answer: ``Gap(1) >= Gap(k*) - s_k*`` for the k* with the
    largest gap (the "global" one-standard-error rule of Dudoit & Fridlyand, 2002, at
    k = 1; R's ``cluster::maxSE(method = "globalSEmax")``). Tibshirani's first-k rule
    at k = 1 compares 1 with 2 only and says "one group" for data whose segments lie
    along one of several standardised columns; no k beating one group by more than an
    error bar is the safer reading of "no structure stronger than noise"."""
    finite = {k: g for k, g in gap.items() if np.isfinite(g)}
    if 1 not in finite or len(finite) < 2:
        return False
    top = max(finite, key=lambda k: finite[k])
    return bool(finite[1] >= finite[top] - se[top])


def gap_pick(ks: Sequence[int], gap: Mapping[int, float], se: Mapping[int, float]) -> int | None:
    """The paper's rule over ``ks``: the smallest k with ``Gap(k) >= Gap(k') - s_k'``
    where k' is the next k tried; None if no k qualifies (or fewer than two ks)."""
    ks = sorted(int(k) for k in ks if np.isfinite(gap.get(k, np.nan)))
    for a, b in zip(ks, ks[1:], strict=False):
        if gap[a] >= gap[b] - se[b]:
            return a
    return None


__all__ = [
    "GAP_REFERENCES",
    "GAP_REFERENCE_ROWS",
    "gap_pick",
    "one_group",
    "gap_statistic",
    "reference_sets",
    "within_ss",
]
