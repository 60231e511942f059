"""How reproducible a segmentation is at each k: refits on resamples, compared by ARI."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from analytics.constants import COVARIANCE_TYPES
from analytics.errors import InputError
from analytics.model.fit import (
    check_method,
    child_seeds,
    fit_fcm,
    fit_gmm,
    fit_kmeans,
    prepare_for_method,
    split_params,
)
from analytics.progress import Progress, ShouldStop, never_stop, no_progress
from analytics.studies.choose_k.checks import check_ks

#: Stability refits use at most this many rows per resample.
STABILITY_MAX_ROWS = 20_000


def verdict(ari: float) -> str:
    """A mean adjusted Rand index in words ("very reproducible" ... "not reproducible")."""
    if not np.isfinite(ari):
        return "not measured"
    if ari >= 0.9:
        return "very reproducible"
    if ari >= 0.75:
        return "reproducible"
    if ari >= 0.5:
        return "somewhat reproducible"
    return "not reproducible"


def _check_resampling(n_resamples: Any, fraction: Any) -> None:
    if (
        isinstance(n_resamples, bool)
        or not isinstance(n_resamples, int | np.integer)
        or n_resamples < 2
    ):
        raise InputError("n_resamples must be a whole number of at least 2.", code="bad_option")
    if not (0.1 <= float(fraction) < 1.0):
        raise InputError("fraction must be between 0.1 and 1 (e.g. 0.8).", code="bad_option")


def _fit_labels(
    X: np.ndarray, k: int, method: str, p: dict[str, Any], seed: int, cov: str | None
) -> np.ndarray:
    """Hard labels (component order) of one refit, shape (n,)."""
    if method == "kmeans":
        return fit_kmeans(X, k, seed, p).estimator.labels_
    if method == "fcm":
        return fit_fcm(X, k, seed, p).estimator.labels_
    q = dict(p, covariance_type=cov or p["covariance_type"])
    return fit_gmm(X, k, seed, q).soft.argmax(axis=1)


def _pairwise_ari(fits: Sequence[np.ndarray]) -> list[float]:
    """Adjusted Rand index of every pair of refits, on the rows both contain (label >= 0)."""
    aris = []
    for a in range(len(fits)):
        for b in range(a + 1, len(fits)):
            common = (fits[a] >= 0) & (fits[b] >= 0)
            aris.append(float(adjusted_rand_score(fits[a][common], fits[b][common])))
    return aris


def stability_of_rows(
    X: np.ndarray,
    ks: Sequence[int],
    method: str,
    params: Mapping[str, Any],
    n_resamples: int = 5,
    fraction: float = 0.8,
    random_state: int = 0,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    covariance_by_k: Mapping[int, str] | None = None,
) -> pd.DataFrame:
    """:func:`stability` on prepared features (no preparation, ks already checked).

    Parameters
    ----------
    X : prepared features, shape (n, p)
    ks : valid ks (see :func:`~analytics.studies.choose_k.checks.check_ks`)
    method : "kmeans", "fcm" or "gmm"
    params : model settings as for :func:`sweep_k` (``covariance_type`` is ignored:
        ``covariance_by_k`` gives the type per k)
    covariance_by_k : Gaussian mixtures only, the covariance type at each k
    n_resamples, fraction, random_state, progress, should_stop : as for :func:`stability`
    """
    _check_resampling(n_resamples, fraction)
    progress = progress or no_progress
    should_stop = should_stop or never_stop
    cov_by_k = dict(covariance_by_k or {})
    _, p = split_params(method, {k: v for k, v in params.items() if k != "covariance_type"})
    n = X.shape[0]
    size = min(int(round(fraction * n)), STABILITY_MAX_ROWS)
    if size < max(ks) * 2:
        raise InputError(
            f"Resamples of {size} rows are too small for {max(ks)} segments; load more data.",
            code="too_few_rows",
        )
    rng = np.random.default_rng(random_state)
    samples = [np.sort(rng.choice(n, size=size, replace=False)) for _ in range(n_resamples)]
    # One independent seed per resample, the same for every k.
    seeds = child_seeds(random_state, n_resamples)
    out = []
    total = len(ks) * n_resamples
    for i, k in enumerate(ks):
        fits: list[np.ndarray] = []
        for r, (idx, seed) in enumerate(zip(samples, seeds, strict=True)):
            if should_stop():
                break
            progress((i * n_resamples + r) / total, f"k = {k}: resample {r + 1} of {n_resamples}")
            full = np.full(n, -1)
            full[idx] = _fit_labels(X[idx], k, method, p, seed, cov_by_k.get(k))
            fits.append(full)
        aris = _pairwise_ari(fits)
        mean = float(np.mean(aris)) if aris else float("nan")
        out.append(
            {
                "k": k,
                "mean_ari": mean,
                "min_ari": float(np.min(aris)) if aris else float("nan"),
                "n_resamples": len(fits),
                "rows_per_resample": size,
                "verdict": verdict(mean),
            }
        )
        if len(fits) < n_resamples:
            break
    progress(1.0, "Done")
    return pd.DataFrame(out).set_index("k")


def stability(
    df: pd.DataFrame,
    ks: Iterable[int],
    method: str,
    n_resamples: int = 5,
    fraction: float = 0.8,
    columns: Sequence[str] | None = None,
    random_state: int = 0,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    **params: Any,
) -> pd.DataFrame:
    """How reproducible the segmentation is at each k.

    For each k the model is refitted on ``n_resamples`` random subsamples of
    ``fraction`` of the rows (at most ``STABILITY_MAX_ROWS``); every pair of refits
    is compared with the adjusted Rand index on the rows both contain (1 = the same
    segments, 0 = no better than chance). Each resample's fit has its own seed,
    spawned from ``random_state`` (``SeedSequence.spawn``).

    Parameters
    ----------
    df, ks, method, columns, random_state, **params : as for :func:`sweep_k`
        (a Gaussian mixture uses one ``covariance_type``, default "full")
    n_resamples : number of refits per k (at least 2)
    fraction : share of rows in each resample

    Returns
    -------
    DataFrame indexed by k with ``mean_ari``, ``min_ari``, ``n_resamples``,
    ``rows_per_resample`` and a ``verdict`` in words.
    """
    method = check_method(method)
    cov = params.get("covariance_type", "full")
    if method == "gmm" and cov not in COVARIANCE_TYPES:
        raise InputError(
            f"Covariance type must be one of {', '.join(COVARIANCE_TYPES)}, not {cov!r}.",
            code="bad_option",
        )
    prep_opts, _ = split_params(method, params)
    X, _, _, _ = prepare_for_method(df, method, columns, prep_opts)
    ks_list = check_ks(ks, X)
    return stability_of_rows(
        X,
        ks_list,
        method,
        params,
        n_resamples,
        fraction,
        random_state,
        progress,
        should_stop,
        dict.fromkeys(ks_list, cov) if method == "gmm" else None,
    )


__all__ = ["STABILITY_MAX_ROWS", "stability", "stability_of_rows", "verdict"]
