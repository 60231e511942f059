"""The one distance kernel: squared Euclidean distances to centres, fuzzy memberships
and nearest centres, over row blocks. Used by fuzzy c-means, k-means scoring in saved
models, and image segmentation (a float32 ``X`` is computed in float32)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

# Rows per block: 16k rows x 10 features x 8 bytes = 1.3 MB, which stays in L2/L3
# cache together with the (block, k) distance and membership arrays.
BLOCK_ROWS = 16_384


def row_blocks(n: int, size: int = BLOCK_ROWS) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def sq_distances_t(
    X: np.ndarray, centers: np.ndarray, c_sq: np.ndarray, x_sq: np.ndarray | None = None
) -> np.ndarray:
    """Squared Euclidean distances in centre-major layout, shape (k, n), clipped at 0.

    Centre-major, because every later reduction runs over the k centres: with k rows
    of n contiguous values a reduction is k vectorised passes, while reducing each
    short (k,) row of an (n, k) array is several times slower in numpy.
    ``x_sq`` (n,) may be passed in so row norms are computed once per fit.
    """
    d2 = (-2.0 * centers) @ X.T
    d2 += (np.einsum("ij,ij->i", X, X) if x_sq is None else x_sq)[None, :]
    d2 += c_sq[:, None]
    np.maximum(d2, 0.0, out=d2)
    return d2


def memberships_t(d2: np.ndarray, m: float) -> np.ndarray:
    """Memberships (k, n) from squared distances (k, n); columns sum to 1. Overwrites d2.

    Works with ratios to each point's smallest distance, so the largest term is
    exactly 1 and nothing overflows; a point sitting exactly on a centre gets
    membership 1 there (shared equally if it sits on several) instead of NaN.
    """
    d_min = d2.min(axis=0)
    on_centre = d_min <= 0.0
    zero = d2[:, on_centre] <= 0.0 if on_centre.any() else None
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.divide(d_min[None, :], d2, out=d2)  # d2 is not needed afterwards
    if m != 2.0:  # for the usual m = 2 the exponent is 1: skip the costly power
        np.power(u, 1.0 / (m - 1.0), out=u)
    if zero is not None:
        u[:, on_centre] = zero.astype(u.dtype)
    u /= u.sum(axis=0)[None, :]
    return u


def sq_distances(
    X: np.ndarray, centers: np.ndarray, c_sq: np.ndarray, x_sq: np.ndarray | None = None
) -> np.ndarray:
    """Squared Euclidean distances, shape (n, k) (a transposed view of the (k, n) kernel)."""
    return sq_distances_t(X, centers, c_sq, x_sq).T


def memberships(d2: np.ndarray, m: float) -> np.ndarray:
    """Membership matrix (n, k) from squared distances (n, k); rows sum to 1."""
    return memberships_t(np.array(d2.T, order="C", copy=True), m).T


def nearest_centre(X: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Index of the nearest centre of every row, shape (n,) (k-means' assignment and
    FCM's largest membership, whatever m is).

    ``|x|^2`` is the same for every centre, so the argmin of ``|c|^2 - 2 x.c`` is used;
    the arithmetic follows ``X``'s dtype (float32 for images).
    """
    c = np.asarray(centers, dtype=X.dtype if X.dtype == np.float32 else np.float64)
    c_sq = np.einsum("ij,ij->i", c, c)
    minus_2ct = np.ascontiguousarray(-2.0 * c.T)
    out = np.empty(X.shape[0], dtype=np.intp)
    # The (rows, k) score is small, so blocks can be 4x the FCM kernel's.
    for sl in row_blocks(X.shape[0], 4 * BLOCK_ROWS):
        score = X[sl] @ minus_2ct
        score += c_sq
        out[sl] = score.argmin(axis=1)
    return out
