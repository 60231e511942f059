"""Validation at the public edge of the k studies: the ks to try, covariance types."""

from __future__ import annotations

from typing import Any

import numpy as np

from analytics.constants import COVARIANCE_TYPES, MAX_K
from analytics.errors import InputError
from analytics.model.fit import count_distinct
from analytics.studies.choose_k.wording import join_ks


def check_ks(ks: Any, X: np.ndarray) -> list[int]:
    """Sorted distinct ks, each a whole number in 1..min(MAX_K, distinct rows of X).

    k = 1 (one group) is allowed: it is the answer when the data show no segment
    structure stronger than noise.

    Parameters
    ----------
    ks : a whole number or an iterable of them
    X : the prepared features, shape (n, p)

    Raises
    ------
    InputError
        ``bad_ks`` (not whole numbers, none, out of range) or ``too_few_distinct``.
    """
    if isinstance(ks, int | np.integer) and not isinstance(ks, bool):
        ks = [ks]
    try:
        raw = list(ks)
    except TypeError:
        raise InputError(
            f"The ks to try must be a list of whole numbers such as 2..10, got {ks!r}.",
            code="bad_ks",
        ) from None
    if not raw:
        raise InputError("Give at least one k to try (for example 2..10).", code="bad_ks")
    bad = [k for k in raw if isinstance(k, bool) or not isinstance(k, int | np.integer)]
    if bad:
        raise InputError(
            f"Every k must be a whole number; these are not: {', '.join(map(repr, bad))}.",
            code="bad_ks",
        )
    out = sorted({int(k) for k in raw})
    low = [k for k in out if k < 1 or k > MAX_K]
    if low:
        raise InputError(
            f"Every k must be between 1 and {MAX_K}; got {join_ks(low)}.",
            code="bad_ks",
        )
    n = X.shape[0]
    distinct = count_distinct(X, out[-1]) if out[-1] <= n else count_distinct(X, n + 1)
    too_many = [k for k in out if k > distinct]
    if too_many:
        raise InputError(
            f"The data have only {distinct} distinct customer profile(s) in the chosen "
            f"columns, so they cannot be split into {join_ks(too_many)} segments. "
            f"Try ks up to {distinct} or add columns or rows.",
            code="too_few_distinct",
        )
    return out


def covariance_types(cov: Any) -> list[str]:
    """The covariance types a mixture sweep tries: one type, a list, or None/"all" (all four).

    Raises
    ------
    InputError
        ``bad_option`` for an unknown type or an empty list.
    """
    if cov is None or cov == "all":
        return list(COVARIANCE_TYPES)
    types = [cov] if isinstance(cov, str) else list(cov)
    bad = [t for t in types if t not in COVARIANCE_TYPES]
    if bad or not types:
        raise InputError(
            f"Covariance type must be one of {', '.join(COVARIANCE_TYPES)} (or 'all'), "
            f"not {cov!r}.",
            code="bad_option",
        )
    return list(dict.fromkeys(types))


__all__ = ["check_ks", "covariance_types"]
