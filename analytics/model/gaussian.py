"""The one Gaussian kernel: log-densities, covariance forms and parameter counts.

Every Gaussian quantity in the package comes from here: fitting (blocked EM, the k
sweep), saved models, anomalies, synthetic customers, profiles' ellipses and image
segmentation. Parameters follow scikit-learn's ``GaussianMixture`` layout, with the
covariance ``cov`` shaped by its type:

- ``full``: (k, d, d); ``tied``: (d, d); ``diag``: (k, d); ``spherical``: (k,)

and the Cholesky factors of the precisions (``prec_chol``) shaped the same way, as
scikit-learn's ``precisions_cholesky_``. The formulas are scikit-learn's, so values
agree with ``GaussianMixture.score_samples`` to rounding.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import linalg

from analytics.errors import ModelError

# Rows per block in the full-covariance density: keeps the (rows, k * d) temporary near
# 16 MB whatever k and d are.
_TARGET_CELLS = 2_000_000


class SingularCovarianceError(ModelError):
    """A component's covariance is not positive definite (it collapsed onto a few rows).

    Raised by :func:`precision_cholesky`; fitting catches this type (never the text of
    a message) to retry with stronger regularisation.
    """

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "Some segments have no spread in some direction (for example many identical "
            "rows). Try the 'diag' or 'spherical' covariance type, or fewer segments.",
            code="singular_covariance",
        )


def n_parameters(k: int, d: int, cov_type: str) -> int:
    """Free parameters of a k-component mixture in d dimensions (scikit-learn's count).

    Means (k d), mixing weights (k - 1) and the covariances of the given type.
    """
    per_cov = {
        "full": k * d * (d + 1) // 2,
        "tied": d * (d + 1) // 2,
        "diag": k * d,
        "spherical": k,
    }
    return per_cov[cov_type] + k * d + k - 1


def full_covariances(cov: np.ndarray, cov_type: str, k: int, d: int) -> np.ndarray:
    """Every component's covariance as a (k, d, d) stack, whatever the type."""
    cov = np.asarray(cov, dtype="float64")
    if cov_type == "full":
        return cov
    if cov_type == "tied":
        return np.broadcast_to(cov, (k, d, d)).copy()
    if cov_type == "diag":
        return cov[:, :, None] * np.eye(d)[None]
    return cov[:, None, None] * np.eye(d)[None]


def variances(cov: np.ndarray, cov_type: str, k: int, d: int) -> np.ndarray:
    """Per-component variance of every feature (the covariance diagonals), shape (k, d)."""
    cov = np.asarray(cov, dtype="float64")
    if cov_type == "full":
        return np.diagonal(cov, axis1=1, axis2=2).copy()
    if cov_type == "tied":
        return np.broadcast_to(np.diag(cov), (k, d)).copy()
    if cov_type == "diag":
        return cov.copy()
    return np.broadcast_to(cov[:, None], (k, d)).copy()


def precision_cholesky(cov: np.ndarray, cov_type: str) -> np.ndarray:
    """Cholesky factors of the precisions, shaped like ``cov`` (as ``sklearn.mixture``).

    Raises
    ------
    SingularCovarianceError
        A covariance is not finite or not positive definite.
    """
    cov = np.asarray(cov, dtype="float64")
    if not np.all(np.isfinite(cov)):
        raise SingularCovarianceError()
    if cov_type in ("full", "tied"):
        mats = cov if cov_type == "full" else cov[None]
        out = np.empty_like(mats)
        eye = np.eye(mats.shape[-1])
        for j, c in enumerate(mats):
            try:
                chol = linalg.cholesky(c, lower=True)
            except (linalg.LinAlgError, ValueError) as exc:
                raise SingularCovarianceError() from exc
            out[j] = linalg.solve_triangular(chol, eye, lower=True).T
        return out if cov_type == "full" else out[0]
    if np.any(cov <= 0):
        raise SingularCovarianceError()
    return 1.0 / np.sqrt(cov)


def full_precision_factors(prec_chol: np.ndarray, cov_type: str, k: int, d: int) -> np.ndarray:
    """The precision Cholesky factor of every component as a (k, d, d) stack."""
    pc = np.asarray(prec_chol, dtype="float64")
    if cov_type == "full":
        return pc
    if cov_type == "tied":
        return np.broadcast_to(pc, (k, d, d)).copy()
    if cov_type == "diag":
        return pc[:, :, None] * np.eye(d)[None]
    return pc[:, None, None] * np.eye(d)[None]


def log_det_precision(prec_chol: np.ndarray, cov_type: str, d: int) -> np.ndarray | float:
    """log |Sigma_j|^(-1/2) from the precision factors: shape (k,), a float for ``tied``."""
    pc = np.asarray(prec_chol, dtype="float64")
    if cov_type == "full":
        return np.log(np.diagonal(pc, axis1=1, axis2=2)).sum(axis=1)
    if cov_type == "tied":
        return float(np.sum(np.log(np.diag(pc))))
    if cov_type == "diag":
        return np.sum(np.log(pc), axis=1)
    return d * np.log(pc)


def log_gaussian_prob(
    X: np.ndarray, means: np.ndarray, prec_chol: np.ndarray, cov_type: str
) -> np.ndarray:
    """log N(x | mu_j, Sigma_j) for every row and component, shape (n, k).

    The quantity of scikit-learn's ``_estimate_log_gaussian_prob``. A float32 ``X``
    (images) is computed in float32; anything else in float64.

    For full covariances all components come from one matrix product per row block:
    with L_j the factor of component j, ``|(x - mu_j) L_j|^2 = |x L_j - mu_j L_j|^2``
    and the ``x L_j`` for every j are ``X @ [L_1 .. L_k]``; blocks keep that
    (rows, k * d) temporary small.
    """
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    n, d = X.shape
    means = np.asarray(means, dtype="float64")
    k = means.shape[0]
    log_det = log_det_precision(prec_chol, cov_type, d)
    if cov_type == "full" or (dtype == np.float32 and cov_type == "tied"):
        factors = full_precision_factors(prec_chol, cov_type, k, d)
        stacked = factors.transpose(1, 0, 2).reshape(d, k * d).astype(dtype)
        shift = np.einsum("kd,kde->ke", means, factors).reshape(k * d).astype(dtype)
        maha = np.empty((n, k), dtype=dtype)
        rows = max(256, _TARGET_CELLS // max(1, k * d))
        for start in range(0, n, rows):
            y = X[start : start + rows] @ stacked
            y -= shift
            y *= y
            # Column j*d + e is coordinate e of component j: adding the d strided slices
            # is several times faster than a reduction over a short last axis.
            block = y[:, 0::d].copy()
            for e in range(1, d):
                block += y[:, e::d]
            maha[start : start + len(y)] = block
    elif cov_type == "tied":
        pc = np.asarray(prec_chol, dtype="float64")
        maha = np.empty((n, k))
        xp = X @ pc  # (n, d), shared by every component
        for j in range(k):
            y = xp - means[j] @ pc
            maha[:, j] = np.einsum("ij,ij->i", y, y)
    elif cov_type == "diag":
        prec = (np.asarray(prec_chol, dtype="float64") ** 2).astype(dtype)
        m = means.astype(dtype)
        maha = np.sum(m**2 * prec, axis=1) - 2.0 * (X @ (m * prec).T) + ((X * X) @ prec.T)
    else:
        prec = (np.asarray(prec_chol, dtype="float64") ** 2).astype(dtype)
        m = means.astype(dtype)
        row_sq = np.einsum("ij,ij->i", X, X)
        maha = np.sum(m**2, axis=1) * prec - 2 * (X @ m.T * prec) + np.outer(row_sq, prec)
    const = np.asarray(-0.5 * d * math.log(2 * math.pi) + np.asarray(log_det), dtype=dtype)
    maha *= dtype(-0.5)
    maha += const
    return maha


def weighted_log_prob(
    X: np.ndarray, weights: np.ndarray, means: np.ndarray, prec_chol: np.ndarray, cov_type: str
) -> np.ndarray:
    """log w_j + log N(x | mu_j, Sigma_j), shape (n, k)."""
    out = log_gaussian_prob(X, means, prec_chol, cov_type)
    out += np.log(np.asarray(weights, dtype="float64")).astype(out.dtype)
    return out


def estimate_from_labels(
    X: np.ndarray, labels: np.ndarray, k: int, cov_type: str, reg_covar: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights (k,), means (k, d) and covariances (type-shaped) of a hard partition.

    What scikit-learn's ``init_params="kmeans"`` computes from the k-means labels
    (``_estimate_gaussian_parameters`` with one-hot responsibilities), so one k-means
    run can start all four covariance types.
    """
    n, d = X.shape
    nk = np.bincount(labels, minlength=k).astype("float64") + 10 * np.finfo(float).eps
    means = np.zeros((k, d))
    np.add.at(means, labels, X)
    means /= nk[:, None]
    if cov_type == "full":
        cov = np.empty((k, d, d))
        for j in range(k):
            diff = X[labels == j] - means[j]
            cov[j] = diff.T @ diff / nk[j]
            cov[j].flat[:: d + 1] += reg_covar
    elif cov_type == "tied":
        cov = X.T @ X - (nk * means.T) @ means
        cov /= nk.sum()
        cov.flat[:: d + 1] += reg_covar
    else:
        sq = np.zeros((k, d))
        np.add.at(sq, labels, X * X)
        var = sq / nk[:, None] - means**2 + reg_covar
        cov = var if cov_type == "diag" else var.mean(axis=1)
    return nk / n, means, cov


def precisions(cov: np.ndarray, cov_type: str) -> np.ndarray:
    """Precision matrices (inverse covariances), shaped like ``cov`` (``precisions_init``)."""
    pc = precision_cholesky(cov, cov_type)
    if cov_type == "full":
        return np.einsum("kij,klj->kil", pc, pc)
    if cov_type == "tied":
        return pc @ pc.T
    return pc**2


def sampling_factors(cov: np.ndarray, cov_type: str, k: int, d: int) -> np.ndarray:
    """Lower factors A_j with A_j A_j^T = Sigma_j, shape (k, d, d), for drawing samples.

    A semi-definite covariance (a collapsed direction) gets its symmetric square root
    instead of failing.
    """
    full = full_covariances(cov, cov_type, k, d)
    out = np.empty((k, d, d))
    for j in range(k):
        try:
            out[j] = np.linalg.cholesky(full[j])
        except np.linalg.LinAlgError:
            w, v = np.linalg.eigh(full[j])
            out[j] = v * np.sqrt(np.clip(w, 0, None))
    return out
