"""Helpers shared by the mixture-based studies (anomalies and synthetic customers):
choosing k by BIC when none is given, and finding segments too small to trust."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from analytics.errors import InputError
from analytics.model.fit import Segmentation, segment
from analytics.model.segment_model import SegmentModel

#: Numbers of components tried when k is not given (the lowest BIC wins).
BIC_KS = tuple(range(1, 9))


def best_k_by_bic(
    df: pd.DataFrame,
    ks: Sequence[int] = BIC_KS,
    columns: Sequence[str] | None = None,
    random_state: int = 0,
    **params: Any,
) -> tuple[Segmentation, pd.DataFrame]:
    """Fit a Gaussian mixture for each k and keep the one with the lowest BIC.

    Returns the best :class:`Segmentation` and a table ``k, bic`` (one row per k
    that could be fitted; k larger than the number of distinct rows is skipped).
    """
    best: Segmentation | None = None
    rows = []
    for k in ks:
        try:
            seg = segment(df, "gmm", int(k), columns, random_state, **params)
        except InputError as exc:
            if exc.code in ("too_few_rows", "too_few_distinct") and best is not None:
                break
            raise
        bic = float(seg.summary["bic"])
        rows.append({"k": int(k), "bic": bic})
        if best is None or bic < best.summary["bic"]:
            best = seg
    assert best is not None
    return best, pd.DataFrame(rows, columns=["k", "bic"])


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
