"""Helpers shared by the mixture-based studies (anomalies and synthetic customers):
choosing k by BIC when none is given, and finding segments too small to trust."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from analytics.errors import InputError
from analytics.model.fit import Segmentation, prepare_for_method, segment, split_params
from analytics.model.gaussian import n_parameters
from analytics.model.segment_model import SegmentModel

#: Numbers of components tried when k is not given (the lowest BIC wins).
BIC_KS = tuple(range(1, 9))
#: Fewest rows per mixture parameter an automatic choice allows: with fewer, EM fits
#: the noise (components collapse onto a few rows and invert density rankings).
ROWS_PER_PARAMETER = 5
#: Covariance types from the richest to the simplest: the first within the budget is used.
RICHEST_FIRST = ("full", "tied", "diag", "spherical")


def covariance_within_budget(k: int, n_rows: int, n_features: int) -> str | None:
    """The richest covariance type whose parameter count leaves at least
    :data:`ROWS_PER_PARAMETER` rows per parameter, or None when even spherical does not."""
    for cov in RICHEST_FIRST:
        if n_parameters(k, n_features, cov) * ROWS_PER_PARAMETER <= n_rows:
            return cov
    return None


def best_k_by_bic(
    df: pd.DataFrame,
    ks: Sequence[int] = BIC_KS,
    columns: Sequence[str] | None = None,
    random_state: int = 0,
    **params: Any,
) -> tuple[Segmentation, pd.DataFrame]:
    """Fit a Gaussian mixture for each k and keep the sound one with the lowest BIC.

    The same rules as everywhere else decide what may be chosen:

    - a parameter budget: unless ``covariance_type`` is given, each k uses the richest
      covariance type (full, tied, diag, spherical) with at least
      :data:`ROWS_PER_PARAMETER` rows per parameter, and a k for which none fits is
      skipped (k = 1 is always fitted, spherical at worst);
    - degenerate fits (:func:`~analytics.model.fit.degenerate_reasons`: a covariance at
      the regularisation floor, a component with fewer rows than parameters, ...) are
      not chosen while a sound fit exists.

    Returns the best :class:`Segmentation` and a table ``k, covariance_type, bic,
    degenerate`` (one row per k fitted; k larger than the number of distinct rows is
    skipped).
    """
    given = params.pop("covariance_type", None)
    prep_opts, _ = split_params("gmm", {"covariance_type": given or "full", **params})
    X, _, _, _ = prepare_for_method(df, "gmm", columns, prep_opts)
    n, d = X.shape
    best: Segmentation | None = None
    best_sound = False
    rows = []
    for k in ks:
        cov = given or covariance_within_budget(int(k), n, d)
        if cov is None:
            if best is not None:
                continue
            cov = "spherical"
        try:
            seg = segment(df, "gmm", int(k), columns, random_state, covariance_type=cov, **params)
        except InputError as exc:
            if exc.code in ("too_few_rows", "too_few_distinct") and best is not None:
                break
            raise
        bic = float(seg.summary["bic"])
        codes = list(seg.summary.get("degenerate", []))
        sound = not codes
        rows.append(
            {"k": int(k), "covariance_type": cov, "bic": bic, "degenerate": ", ".join(codes)}
        )
        better = best is None or (sound, -bic) > (best_sound, -float(best.summary["bic"]))
        if better:
            best, best_sound = seg, sound
    assert best is not None
    table = pd.DataFrame(rows, columns=["k", "covariance_type", "bic", "degenerate"])
    return best, table


def small_components(model: SegmentModel, n: int) -> np.ndarray:
    """Segments too small to describe customers, bool shape (k,), segment order.

    A component holding fewer rows than features + 1 (at most 2% of the rows, at
    least 2) has a degenerate covariance: it shrinks onto a few outlying rows and
    gives them a *high* density, hiding exactly the rows we look for.
    """
    p = model.params["means"].shape[1]
    min_size = max(2.0, min(p + 1.0, math.ceil(0.02 * n)))
    small = model.params["weights"] * n < min_size
    if small.all():
        return np.zeros_like(small)
    return small
