"""EM for Gaussian mixtures over row blocks, for tables too big for scikit-learn's
whole-matrix steps.

scikit-learn's ``GaussianMixture`` holds several (n, k) and (n, d) temporaries
per iteration (about 5x the data at 1M rows). Here each E-step visits the rows in
blocks and keeps only the sufficient statistics (N_k, sum r x, sum r x x^T), so
memory stays near one copy of the data, and the M-step works on those small
sums. The densities are scikit-learn's formulas written out (one implementation, also
used by saved model files), so log-likelihoods agree with it, and the result is
returned as a fitted ``GaussianMixture``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import linalg
from scipy.special import logsumexp
from sklearn.mixture import GaussianMixture

# 16k rows x 8 components x 10 features x 8 bytes = 10 MB for the largest per-block
# temporary (the weighted rows of every component for the full-covariance scatter).
BLOCK_ROWS = 16_384


def _blocks(n: int, size: int = BLOCK_ROWS):
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def precision_cholesky(cov: np.ndarray, cov_type: str) -> np.ndarray:
    """Cholesky factors of the precisions, as ``sklearn.mixture`` computes them.

    Raises ``numpy.linalg.LinAlgError`` (a ValueError subclass is not guaranteed) when a
    covariance is not positive definite; callers turn that into a plain message.
    """
    if cov_type in ("full", "tied"):
        mats = cov if cov_type == "full" else cov[None]
        out = np.empty_like(mats)
        eye = np.eye(mats.shape[-1])
        for j, c in enumerate(mats):
            chol = linalg.cholesky(c, lower=True)
            out[j] = linalg.solve_triangular(chol, eye, lower=True).T
        return out if cov_type == "full" else out[0]
    return 1.0 / np.sqrt(cov)


def log_gaussian_prob(
    X: np.ndarray, means: np.ndarray, prec_chol: np.ndarray, cov_type: str
) -> np.ndarray:
    """log N(x | mu_j, Sigma_j), shape (n, k), from the precisions' Cholesky factors.

    The quantity scikit-learn's ``_estimate_log_gaussian_prob`` computes. For full
    covariances all components come from one matrix product per row block: with L_j
    the factor of component j, ``|(x - mu_j) L_j|^2 = |x L_j - mu_j L_j|^2`` and the
    ``x L_j`` for every j are ``X @ [L_1 .. L_k]`` (rather than k separate products);
    blocks keep that (rows, k * d) temporary small.
    """
    n, p = X.shape
    k = means.shape[0]
    if cov_type == "full":
        log_det = np.log(np.diagonal(prec_chol, axis1=1, axis2=2)).sum(axis=1)
        stacked = prec_chol.transpose(1, 0, 2).reshape(p, k * p)
        shift = np.einsum("kd,kde->ke", means, prec_chol).reshape(k * p)
        log_prob = np.empty((n, k))
        rows = max(256, 2_000_000 // max(1, k * p))
        for start in range(0, n, rows):
            y = X[start : start + rows] @ stacked
            y -= shift
            y *= y
            log_prob[start : start + rows] = y.reshape(len(y), k, p).sum(axis=2)
    elif cov_type == "tied":
        log_det = np.sum(np.log(np.diag(prec_chol)))
        log_prob = np.empty((n, k))
        xp = X @ prec_chol  # (n, p), shared by every component
        for j in range(k):
            y = xp - means[j] @ prec_chol
            log_prob[:, j] = np.einsum("ij,ij->i", y, y)
    elif cov_type == "diag":
        log_det = np.sum(np.log(prec_chol), axis=1)
        prec = prec_chol**2
        log_prob = np.sum(means**2 * prec, axis=1) - 2.0 * (X @ (means * prec).T) + (X**2 @ prec.T)
    else:
        log_det = p * np.log(prec_chol)
        prec = prec_chol**2
        row_sq = np.einsum("ij,ij->i", X, X)
        log_prob = (
            np.sum(means**2, axis=1) * prec - 2 * (X @ means.T * prec) + np.outer(row_sq, prec)
        )
    return -0.5 * (p * math.log(2 * math.pi) + log_prob) + log_det


def _checked_precision_cholesky(cov: np.ndarray, cov_type: str) -> np.ndarray:
    """precision_cholesky, with scikit-learn's wording when a component collapses (the
    caller retries with stronger regularisation on that message)."""
    message = (
        "Fitting the mixture model failed because some components have ill-defined "
        "empirical covariance (for instance caused by singleton or collapsed samples)."
    )
    if not np.all(np.isfinite(cov)) or (cov_type in ("diag", "spherical") and np.any(cov <= 0)):
        raise ValueError(message)
    try:
        return precision_cholesky(cov, cov_type)
    except (np.linalg.LinAlgError, linalg.LinAlgError, ValueError) as exc:
        raise ValueError(message) from exc


def log_resp_block(X: np.ndarray, gm: GaussianMixture) -> tuple[np.ndarray, np.ndarray]:
    """Log responsibilities (b, k) and per-row log-density (b,) of one block."""
    wlp = log_gaussian_prob(X, gm.means_, gm.precisions_cholesky_, gm.covariance_type)
    wlp += np.log(gm.weights_)[None, :]
    lse = logsumexp(wlp, axis=1)
    wlp -= lse[:, None]
    return wlp, lse


def _m_step(
    nk: np.ndarray,
    sx: np.ndarray,
    sxx: np.ndarray,
    n: int,
    cov_type: str,
    reg: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights (k,), means (k, d) and covariances (type-shaped) from block sums."""
    nk = nk + 10 * np.finfo(float).eps  # as scikit-learn: no division by an empty component
    means = sx / nk[:, None]
    d = means.shape[1]
    if cov_type == "full":
        cov = sxx / nk[:, None, None] - np.einsum("ki,kj->kij", means, means)
        cov[:, np.arange(d), np.arange(d)] += reg
    elif cov_type == "tied":
        cov = (sxx.sum(axis=0) - np.einsum("k,ki,kj->ij", nk, means, means)) / nk.sum()
        cov[np.arange(d), np.arange(d)] += reg
    elif cov_type == "diag":
        cov = sxx / nk[:, None] - means**2 + reg
    else:  # spherical
        cov = (sxx / nk[:, None] - means**2).mean(axis=1) + reg
    return nk / n, means, cov


def blocked_em(
    X: np.ndarray,
    init: GaussianMixture,
    *,
    reg_covar: float,
    tol: float,
    max_iter: int,
    progress: Callable[[int, float], None] | None = None,
) -> GaussianMixture:
    """Refine the fitted mixture ``init`` on all rows of ``X`` (n, d) by blocked EM.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    init : a fitted GaussianMixture (e.g. the best start on a subsample)
    reg_covar, tol, max_iter : as scikit-learn's (tol on the change of the mean
        log-likelihood per row)
    progress : optional ``(iteration, mean log-likelihood)`` callback

    Returns
    -------
    GaussianMixture fitted on X (``converged_``, ``n_iter_``, ``lower_bound_`` set).
    """
    n, d = X.shape
    k = init.means_.shape[0]
    cov_type = init.covariance_type
    gm = GaussianMixture(
        n_components=k, covariance_type=cov_type, reg_covar=reg_covar, tol=tol, max_iter=max_iter
    )
    gm.n_features_in_ = d
    gm._set_parameters((init.weights_, init.means_, init.covariances_, init.precisions_cholesky_))
    second = (k, d, d) if cov_type in ("full", "tied") else (k, d)
    prev = -np.inf
    gm.converged_ = False
    it = 0
    for it in range(1, max_iter + 1):
        nk, sx, sxx, total = _sufficient_stats(X, gm, second)
        ll = total / n
        if progress is not None:
            progress(it, ll)
        # The statistics were gathered at the current parameters, so `ll` is their
        # likelihood: stop before the M-step once it no longer improves (as sklearn).
        if abs(ll - prev) < tol:
            gm.converged_ = True
            break
        prev = ll
        weights, means, cov = _m_step(nk, sx, sxx, n, cov_type, reg_covar)
        gm._set_parameters((weights, means, cov, _checked_precision_cholesky(cov, cov_type)))
    gm.n_iter_ = it
    gm.lower_bound_ = ll
    gm.lower_bounds_ = []
    return gm


def _stats_of_blocks(
    X: np.ndarray, gm: GaussianMixture, second: tuple[int, ...], slices: list[slice]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """N_k (k,), sum r x (k, d), sum r x x^T (``second``) and the log-likelihood of
    the rows in ``slices`` under ``gm``."""
    k, d = gm.means_.shape
    nk, sx, sxx, total = np.zeros(k), np.zeros((k, d)), np.zeros(second), 0.0
    for sl in slices:
        xb = X[sl]
        log_r, lse = log_resp_block(xb, gm)
        r = np.exp(log_r, out=log_r)
        total += float(lse.sum())
        nk += r.sum(axis=0)
        sx += r.T @ xb
        if len(second) == 3:
            # Every component's weighted scatter in one product: (b, k*d).T @ (b, d).
            rx = (r[:, :, None] * xb[:, None, :]).reshape(len(xb), k * d)
            sxx += (rx.T @ xb).reshape(k, d, d)
        else:
            sxx += r.T @ (xb * xb)
    return nk, sx, sxx, total


def _sufficient_stats(
    X: np.ndarray, gm: GaussianMixture, second: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """E-step sums over all rows; big tables are split between two threads (numpy
    releases the GIL in these products, so both cores work) and the sums added."""
    slices = list(_blocks(X.shape[0]))
    if len(slices) < 4:
        return _stats_of_blocks(X, gm, second, slices)
    halves = [slices[0::2], slices[1::2]]
    with ThreadPoolExecutor(max_workers=2) as pool:
        parts = list(pool.map(lambda sl: _stats_of_blocks(X, gm, second, sl), halves))
    (n1, s1, q1, t1), (n2, s2, q2, t2) = parts
    return n1 + n2, s1 + s2, q1 + q2, t1 + t2


def posteriors(
    X: np.ndarray, gm: GaussianMixture, order: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """Posterior probabilities (n, k), columns permuted by ``order``, and the total
    log-likelihood, computed block by block (no (n, k) temporaries beyond the output)."""
    n = X.shape[0]
    k = gm.means_.shape[0]
    out = np.empty((n, k))

    def fill(slices: list[slice]) -> float:
        total = 0.0
        for sl in slices:
            log_r, lse = log_resp_block(X[sl], gm)
            np.exp(log_r, out=log_r)
            out[sl] = log_r if order is None else log_r[:, order]
            total += float(lse.sum())
        return total

    slices = list(_blocks(n))
    if len(slices) < 4:
        return out, fill(slices)
    with ThreadPoolExecutor(max_workers=2) as pool:  # disjoint rows: safe to share `out`
        totals = list(pool.map(fill, [slices[0::2], slices[1::2]]))
    return out, float(sum(totals))
