"""The criteria a k sweep is judged by: how to read each one, the elbow, the silhouette.

Silhouette needs every pairwise distance (n^2), so above ``SILHOUETTE_EXACT_MAX`` rows
it is computed on a random sample of that many rows; the value equals scikit-learn's
``silhouette_score(X, labels, sample_size=..., random_state=...)``.

The elbow is found with the kneedle method (Satopaa et al., 2011), see :func:`knee_point`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics.pairwise import pairwise_distances_chunked
from sklearn.utils import check_random_state

from analytics.errors import InputError

#: Up to this many rows the silhouette is exact; above it, a random sample of this size.
SILHOUETTE_EXACT_MAX = 5_000


@dataclass(frozen=True)
class Criterion:
    """How to read one column of the sweep table."""

    column: str
    label: str
    higher_is_better: bool
    #: Sentence fragment for "this criterion picks k", e.g. "silhouette is highest at {k}".
    best_text: str


CRITERIA: dict[str, Criterion] = {
    c.column: c
    for c in (
        Criterion("inertia", "Inertia (within-segment sum of squares)", False, ""),
        Criterion("silhouette", "Silhouette", True, "silhouette is highest at {k}"),
        Criterion(
            "calinski_harabasz", "Calinski-Harabasz", True, "Calinski-Harabasz is highest at {k}"
        ),
        Criterion("davies_bouldin", "Davies-Bouldin", False, "Davies-Bouldin is lowest at {k}"),
        Criterion("bic", "BIC", False, "BIC is lowest at {k}"),
        Criterion(
            "icl",
            "ICL (BIC with a penalty for overlapping segments)",
            False,
            "ICL is lowest at {k}",
        ),
        Criterion("gap", "Gap statistic", True, "the gap statistic settles at {k}"),
        Criterion(
            "mpc",
            "Modified partition coefficient",
            True,
            "the modified partition coefficient is highest at {k}",
        ),
        Criterion("objective", "Fuzzy c-means objective", False, ""),
        Criterion("aic", "AIC", False, "AIC is lowest at {k}"),
        Criterion(
            "partition_coefficient",
            "Partition coefficient",
            True,
            "the partition coefficient is highest at {k}",
        ),
        Criterion(
            "partition_entropy",
            "Partition entropy",
            False,
            "the partition entropy is lowest at {k}",
        ),
        Criterion("xie_beni", "Xie-Beni", False, "Xie-Beni is lowest at {k}"),
    )
}


def best_k(table: pd.DataFrame, column: str) -> int | None:
    """The k with the best value of ``column`` (ties: the smaller k), None if all missing.

    Parameters
    ----------
    table : the sweep table, indexed by k
    column : a key of :data:`CRITERIA`
    """
    if column not in table:
        return None
    s = pd.to_numeric(table[column], errors="coerce").dropna()
    if s.empty:
        return None
    best = s.max() if CRITERIA[column].higher_is_better else s.min()
    return int(s.index[s == best][0])


def prefers(table: pd.DataFrame, column: str, a: int, b: int) -> int | None:
    """Which of the ks ``a`` and ``b`` criterion ``column`` rates better (None: cannot tell)."""
    va, vb = table.at[a, column], table.at[b, column]
    if not (np.isfinite(va) and np.isfinite(vb)) or va == vb:
        return None
    better_a = va > vb if CRITERIA[column].higher_is_better else va < vb
    return a if better_a else b


def modified_partition_coefficient(pc: float, k: int) -> float:
    """Dave's (1996) modified partition coefficient ``1 - k/(k-1) (1 - PC)``.

    The partition coefficient PC lies in [1/k, 1], so its floor rises as k falls and it
    favours few segments by construction; MPC rescales it to [0, 1] for every k
    (0: every membership 1/k, 1: hard segments). NaN for k = 1.
    """
    if k < 2 or not np.isfinite(pc):
        return float("nan")
    return float(1.0 - k / (k - 1) * (1.0 - pc))


# ----------------------------------------------------------------------------- kneedle


def knee_point(ks: Sequence[int], values: Sequence[float]) -> int | None:
    """The elbow of a decreasing convex curve by the kneedle method.

    Both axes are normalised to [0, 1]; for a decreasing curve the straight line
    from the first to the last point is ``y = 1 - x``, and a convex curve lies
    below it. The knee is the k where the curve lies furthest below that line,
    i.e. the maximum of the difference curve ``(1 - x_n) - y_n``. Returns None
    when fewer than three ks are given, the curve is flat, or no point lies
    below the line (no elbow). The first and last k are never the knee (their
    difference is 0 by construction).

    Parameters
    ----------
    ks : increasing ks, shape (m,)
    values : the curve (e.g. inertia) at each k, shape (m,)
    """
    x = np.asarray(ks, dtype=float)
    y = np.asarray(values, dtype=float)
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    xn = (x - x.min()) / np.ptp(x)
    yn = (y - y.min()) / np.ptp(y)
    diff = (1.0 - xn) - yn
    i = int(np.argmax(diff))
    if diff[i] <= 1e-9:
        return None
    return int(x[i])


# ----------------------------------------------------------------------------- silhouette


@dataclass
class SilhouetteRows:
    """Per-row silhouettes for the silhouette plot.

    values : silhouette of each row used, shape (m,)
    labels : the segment of each of those rows, shape (m,)
    index : positions of those rows in the data, shape (m,)
    average : mean silhouette (scikit-learn's ``silhouette_score`` on the same rows)
    sample_size : m if the rows are a random sample, None if every row was used
    """

    values: np.ndarray
    labels: np.ndarray
    index: np.ndarray
    average: float
    sample_size: int | None


def sample_index(n: int, sample_size: int | None, random_state: int) -> np.ndarray | None:
    """Rows for a sampled silhouette, exactly as scikit-learn's ``silhouette_score`` picks
    them: shape (sample_size,), or None when every one of the ``n`` rows is used."""
    if sample_size is None or sample_size >= n:
        return None
    return check_random_state(random_state).permutation(n)[:sample_size]


def silhouette_many(X: np.ndarray, label_sets: Sequence[np.ndarray]) -> np.ndarray:
    """Per-row silhouettes of several labelings of the same rows.

    The pairwise distances are computed once, in chunks (scikit-learn's
    ``pairwise_distances_chunked``), and each chunk is reduced for every labeling
    with one matrix product against the stacked one-hot label matrices: one
    distance pass for a whole sweep instead of one per k. Same formula as
    scikit-learn's ``silhouette_samples``; a labeling with fewer than 2 or more
    than n - 1 distinct labels gets NaN.

    Parameters
    ----------
    X : features, shape (n, p)
    label_sets : labelings, each of shape (n,)

    Returns
    -------
    ndarray of shape (n, len(label_sets))
    """
    n = X.shape[0]
    codes, freqs, offsets, valid = [], [], [0], []
    for lab in label_sets:
        _, c = np.unique(lab, return_inverse=True)
        f = np.bincount(c)
        codes.append(c)
        freqs.append(f)
        offsets.append(offsets[-1] + len(f))
        valid.append(2 <= len(f) <= n - 1)
    onehot = np.zeros((n, offsets[-1]))
    for j, c in enumerate(codes):
        onehot[np.arange(n), offsets[j] + c] = 1.0

    def reduce(D: np.ndarray, start: int) -> np.ndarray:
        sums = D @ onehot  # (chunk, sum of k): distance sums to every segment of every labeling
        rows = np.arange(D.shape[0])
        out = np.empty((D.shape[0], len(codes)))
        for j, (c, f) in enumerate(zip(codes, freqs, strict=True)):
            s = sums[:, offsets[j] : offsets[j + 1]]
            own = c[start : start + D.shape[0]]
            with np.errstate(divide="ignore", invalid="ignore"):
                a = s[rows, own] / (f[own] - 1)
                inter = s / f
                inter[rows, own] = np.inf
                b = inter.min(axis=1)
                out[:, j] = np.nan_to_num((b - a) / np.maximum(a, b))
        return out

    parts = list(pairwise_distances_chunked(X, reduce_func=reduce, working_memory=64))
    vals = np.concatenate(parts) if parts else np.empty((0, len(codes)))
    vals[:, ~np.asarray(valid, dtype=bool)] = np.nan
    return vals


def silhouette_values(
    X: np.ndarray,
    labels: np.ndarray,
    sample_size: int | None = SILHOUETTE_EXACT_MAX,
    random_state: int = 0,
) -> SilhouetteRows:
    """Silhouette of every row (or of a random sample of rows) for the silhouette plot.

    Parameters
    ----------
    X : prepared features, shape (n, p)
    labels : segment of each row, shape (n,)
    sample_size : above this many rows use a random sample of this size (None = every row);
        the rows are the ones scikit-learn's ``silhouette_score`` samples with the same seed
    random_state : seed of the sample

    Returns
    -------
    SilhouetteRows whose ``values`` equal scikit-learn's ``silhouette_samples`` on those rows.
    """
    X = np.asarray(X, dtype=float)
    labels = np.asarray(labels)
    if X.ndim != 2 or labels.shape != (X.shape[0],):
        raise InputError(
            f"Expected features of shape (n, p) and n labels; got {X.shape} and {labels.shape}.",
            code="bad_shape",
        )
    idx = sample_index(len(X), sample_size, random_state)
    index = np.arange(len(X)) if idx is None else idx
    vals = silhouette_many(X[index], [labels[index]])[:, 0]
    if np.isnan(vals).any():
        raise InputError(
            "A silhouette needs at least 2 segments with rows in them and fewer segments "
            "than rows.",
            code="bad_labels",
        )
    return SilhouetteRows(
        values=vals,
        labels=labels[index],
        index=index,
        average=float(vals.mean()),
        sample_size=None if idx is None else len(idx),
    )


def mean_silhouettes(
    X: np.ndarray,
    labels: Mapping[int, np.ndarray],
    sample_size: int | None,
    random_state: int,
) -> tuple[dict[int, float], int | None]:
    """Mean silhouette per k, every k on the same rows (all, or one random sample).

    Parameters
    ----------
    X : prepared features, shape (n, p)
    labels : per k, the labels of every row, shape (n,)
    sample_size : rows to sample above this many (None = every row)
    random_state : seed of the sample

    Returns
    -------
    The mean silhouette per k, and the sample size (None when every row was used).
    """
    if not labels:
        return {}, None
    idx = sample_index(len(X), sample_size, random_state)
    Xs = X if idx is None else X[idx]
    ks = list(labels)
    vals = silhouette_many(Xs, [labels[k] if idx is None else labels[k][idx] for k in ks])
    means = {k: float(vals[:, j].mean()) for j, k in enumerate(ks)}
    return means, None if idx is None else len(idx)


__all__ = [
    "CRITERIA",
    "SILHOUETTE_EXACT_MAX",
    "Criterion",
    "SilhouetteRows",
    "best_k",
    "knee_point",
    "mean_silhouettes",
    "modified_partition_coefficient",
    "prefers",
    "sample_index",
    "silhouette_many",
    "silhouette_values",
]
