"""EM for the mixture sweep: scikit-learn's algorithm without its per-fit overhead.

A sweep runs hundreds of short EM fits (5 starts x 4 covariance types x every k).
``GaussianMixture.fit`` spends more time validating and setting up than iterating on
a few thousand rows, so the sweep runs the same iteration here: the start from a hard
partition (scikit-learn's ``init_params="kmeans"`` computation, via
:func:`analytics.model.gaussian.estimate_from_labels`), then E-step / M-step with
scikit-learn's formulas and its stopping rule (the change of the mean log-likelihood
below ``tol``). The densities are the project's one Gaussian kernel
(:mod:`analytics.model.gaussian`). The result is returned as a fitted
``GaussianMixture`` through its documented attributes only, so it predicts and scores
like any other.
"""

from __future__ import annotations

import numpy as np
from sklearn.mixture import GaussianMixture

from analytics.model import gaussian

_EPS = 10 * np.finfo(float).eps


def m_step(
    X: np.ndarray, resp: np.ndarray, cov_type: str, reg: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights (k,), means (k, d) and covariances (type-shaped) from responsibilities.

    scikit-learn's ``_estimate_gaussian_parameters`` formulas (rewritten here: that
    function is private).

    Parameters
    ----------
    X : rows, shape (n, d)
    resp : responsibilities, shape (n, k), rows sum to 1
    cov_type : "full", "tied", "diag" or "spherical"
    reg : added to every variance
    """
    n, d = X.shape
    nk = resp.sum(axis=0) + _EPS
    sx = resp.T @ X
    means = sx / nk[:, None]
    if cov_type == "full":
        cov = np.empty((len(nk), d, d))
        for j in range(len(nk)):
            diff = X - means[j]
            cov[j] = (resp[:, j, None] * diff).T @ diff / nk[j]
            cov[j].flat[:: d + 1] += reg
    elif cov_type == "tied":
        cov = (X.T @ X - (nk * means.T) @ means) / nk.sum()
        cov.flat[:: d + 1] += reg
    else:
        var = (resp.T @ (X * X)) / nk[:, None] - 2 * means * sx / nk[:, None] + means**2 + reg
        cov = var if cov_type == "diag" else var.mean(axis=1)
    return nk / n, means, cov


def em(
    X: np.ndarray,
    k: int,
    cov_type: str,
    reg: float,
    tol: float,
    max_iter: int,
    labels: np.ndarray | None = None,
    start: GaussianMixture | None = None,
) -> GaussianMixture:
    """EM from a hard partition ``labels`` (n,) or from the parameters of ``start``.

    Returns
    -------
    GaussianMixture with ``weights_``, ``means_``, ``covariances_``,
    ``precisions_cholesky_``, ``precisions_``, ``converged_``, ``n_iter_`` and
    ``lower_bound_`` (the mean log-likelihood at the last E-step) set.

    Raises
    ------
    analytics.model.gaussian.SingularCovarianceError
        A covariance collapsed (the caller retries with more regularisation).
    """
    if start is not None:
        weights, means, cov = start.weights_, start.means_, start.covariances_
    else:
        assert labels is not None
        weights, means, cov = gaussian.estimate_from_labels(X, labels, k, cov_type, reg)
    prec_chol = gaussian.precision_cholesky(cov, cov_type)
    lower, converged, n_iter = -np.inf, False, 0
    while n_iter < max_iter:
        n_iter += 1
        prev = lower
        # The E-step in place: responsibilities and the mean log-likelihood from one
        # (n, k) array (scipy's logsumexp allocates several and dominated the time).
        resp = gaussian.weighted_log_prob(X, weights, means, prec_chol, cov_type)
        top = resp.max(axis=1, keepdims=True)
        resp -= top
        np.exp(resp, out=resp)
        total = resp.sum(axis=1, keepdims=True)
        lower = float((np.log(total) + top).mean())
        resp /= total
        weights, means, cov = m_step(X, resp, cov_type, reg)
        prec_chol = gaussian.precision_cholesky(cov, cov_type)
        if abs(lower - prev) < tol:
            converged = True
            break
    gm = GaussianMixture(
        n_components=k, covariance_type=cov_type, reg_covar=reg, tol=tol, max_iter=max_iter
    )
    gm.n_features_in_ = X.shape[1]
    gm.weights_, gm.means_, gm.covariances_ = weights, means, cov
    gm.precisions_cholesky_ = prec_chol
    gm.precisions_ = gaussian.precisions(cov, cov_type)
    gm.converged_, gm.n_iter_, gm.lower_bound_ = converged, n_iter, lower
    return gm


__all__ = ["em", "m_step"]
