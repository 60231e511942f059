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

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.special import logsumexp
from sklearn.mixture import GaussianMixture

from analytics.model.gaussian import precision_cholesky, precisions, weighted_log_prob
from analytics.parallel import n_jobs_or_default

# 16k rows x 8 components x 10 features x 8 bytes = 10 MB for the largest per-block
# temporary (the weighted rows of every component for the full-covariance scatter).
BLOCK_ROWS = 16_384


def _blocks(n: int, size: int = BLOCK_ROWS):
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def log_resp_block(X: np.ndarray, gm: GaussianMixture) -> tuple[np.ndarray, np.ndarray]:
    """Log responsibilities (b, k) and per-row log-density (b,) of one block."""
    wlp = weighted_log_prob(X, gm.weights_, gm.means_, gm.precisions_cholesky_, gm.covariance_type)
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
    n_jobs: int | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> GaussianMixture:
    """Refine the fitted mixture ``init`` on all rows of ``X`` (n, d) by blocked EM.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    init : a fitted GaussianMixture (e.g. the best start on a subsample)
    reg_covar, tol, max_iter : as scikit-learn's (tol on the change of the mean
        log-likelihood per row)
    n_jobs : threads for the E-step (default: the machine's cores, at most 2 halves)
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
    _set_fitted(gm, d, init.weights_, init.means_, init.covariances_)
    second = (k, d, d) if cov_type in ("full", "tied") else (k, d)
    prev = -np.inf
    gm.converged_ = False
    it = 0
    for it in range(1, max_iter + 1):
        nk, sx, sxx, total = _sufficient_stats(X, gm, second, n_jobs)
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
        _set_fitted(gm, d, weights, means, cov)
    gm.n_iter_ = it
    gm.lower_bound_ = ll
    return gm


def _set_fitted(
    gm: GaussianMixture, d: int, weights: np.ndarray, means: np.ndarray, cov: np.ndarray
) -> None:
    """Give ``gm`` these parameters through its documented fitted attributes only.

    Raises SingularCovarianceError (from the kernel) when a covariance collapsed.
    """
    gm.n_features_in_ = d
    gm.weights_, gm.means_, gm.covariances_ = weights, means, cov
    gm.precisions_cholesky_ = precision_cholesky(cov, gm.covariance_type)
    gm.precisions_ = precisions(cov, gm.covariance_type)


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
    X: np.ndarray, gm: GaussianMixture, second: tuple[int, ...], n_jobs: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """E-step sums over all rows; big tables are split between threads (numpy releases
    the GIL in these products, so every core works) and the sums added."""
    slices = list(_blocks(X.shape[0]))
    jobs = min(n_jobs_or_default(n_jobs), max(1, len(slices) // 2))
    if jobs == 1:
        return _stats_of_blocks(X, gm, second, slices)
    parts_of = [slices[i::jobs] for i in range(jobs)]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        parts = list(pool.map(lambda sl: _stats_of_blocks(X, gm, second, sl), parts_of))
    nk, sx, sxx, total = parts[0]
    for p_nk, p_sx, p_sxx, p_total in parts[1:]:
        nk, sx, sxx, total = nk + p_nk, sx + p_sx, sxx + p_sxx, total + p_total
    return nk, sx, sxx, total


def posteriors(
    X: np.ndarray,
    gm: GaussianMixture,
    order: np.ndarray | None = None,
    n_jobs: int | None = None,
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
    jobs = min(n_jobs_or_default(n_jobs), max(1, len(slices) // 2))
    if jobs == 1:
        return out, fill(slices)
    with ThreadPoolExecutor(max_workers=jobs) as pool:  # disjoint rows: safe to share `out`
        totals = list(pool.map(fill, [slices[i::jobs] for i in range(jobs)]))
    return out, float(sum(totals))
