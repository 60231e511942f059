"""Fuzzy c-means (Bezdek) as a scikit-learn estimator.

Memberships and centres follow the lecture's update equations::

    u_ij = 1 / sum_l (d_ij / d_il) ** (2 / (m - 1))
    c_j  = sum_i u_ij**m x_i / sum_i u_ij**m

The data are processed in row blocks so that nothing of size n x k x d is
ever built: squared distances come from ``|x|^2 - 2 x.c + |c|^2`` (one matrix
product per block) and the centre update is a second product ``(U**m).T @ X``.
One iteration therefore costs about two matrix products over the data.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import kmeans_plusplus
from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data

from analytics.model.distances import (
    memberships,
    memberships_t,
    row_blocks,
    sq_distances,
    sq_distances_t,
)


class FuzzyCMeans(ClusterMixin, TransformerMixin, BaseEstimator):
    """Fuzzy c-means clustering with k-means++ seeding.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters c.
    m : float, default=2.0
        Fuzzifier, must be > 1; larger values give softer memberships.
    tol : float, default=1e-4
        Convergence tolerance on the largest change of any membership between
        two iterations (the criterion scikit-fuzzy uses, as a max-norm).
    max_iter : int, default=300
        Maximum number of iterations.
    random_state : int, Generator, RandomState or None
        Seeds the k-means++ initialisation.
    dtype : {"float64", "float32"}, default="float64"
        Working precision; float32 halves memory and is faster on large data.
    n_init : int, default=1
        Number of k-means++ starts; the run with the lowest objective is kept.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,)
        Cluster of highest membership for each training row (0-based).
    membership_ : ndarray of shape (n_samples, n_clusters)
        Final memberships of the training rows (rows sum to 1).
    n_iter_ : int
    converged_ : bool
    objective_ : float
        J_m = sum_ij u_ij**m * |x_i - c_j|**2 at the final centres.
    partition_coefficient_, partition_entropy_, xie_beni_ : float
        Validity indices (Bezdek's PC: higher is crisper; PE: lower is crisper;
        Xie-Beni: compactness over separation, lower is better).
    """

    def __init__(
        self,
        n_clusters: int = 8,
        m: float = 2.0,
        tol: float = 1e-4,
        max_iter: int = 300,
        random_state: int | np.random.RandomState | None = None,
        dtype: str = "float64",
        n_init: int = 1,
    ) -> None:
        self.n_clusters = n_clusters
        self.m = m
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.dtype = dtype
        self.n_init = n_init

    def _check_params(self, n_samples: int) -> None:
        if not isinstance(self.n_clusters, int | np.integer) or self.n_clusters < 1:
            raise ValueError(f"n_clusters must be a positive integer, got {self.n_clusters!r}.")
        if self.n_clusters > n_samples:
            raise ValueError(
                f"n_samples={n_samples} should be >= n_clusters={self.n_clusters}: "
                "there must be at least as many rows as clusters."
            )
        if not isinstance(self.m, numbers.Real) or not np.isfinite(self.m) or self.m <= 1.0:
            raise ValueError(
                f"The fuzzifier m must be greater than 1 (got {self.m!r}); 2 is the usual choice."
            )
        if (
            not isinstance(self.tol, numbers.Real)
            or not isinstance(self.max_iter, numbers.Integral)
            or self.tol < 0
            or self.max_iter < 1
        ):
            raise ValueError("tol must be >= 0 and max_iter >= 1.")
        if self.dtype not in ("float64", "float32"):
            raise ValueError(f"dtype must be 'float64' or 'float32', got {self.dtype!r}.")
        if not isinstance(self.n_init, numbers.Integral) or self.n_init < 1:
            raise ValueError(f"n_init must be a positive integer, got {self.n_init!r}.")

    def fit(self, X, y=None) -> FuzzyCMeans:
        """Fit the centres and memberships.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self
        """
        X_in = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=1)
        self._check_params(X_in.shape[0])
        m = float(self.m)
        rng = check_random_state(self.random_state)
        X = np.ascontiguousarray(X_in, dtype=self.dtype)
        x_sq = np.einsum("ij,ij->i", X, X)
        best: tuple[float, np.ndarray, int, bool] | None = None
        for _ in range(int(self.n_init)):
            # Seed on the input precision so float32 runs start where float64 runs do.
            init, _ = kmeans_plusplus(X_in, self.n_clusters, random_state=rng)
            centers, it, converged = self._run(X, x_sq, init.astype(X.dtype), m)
            if self.n_init == 1:
                best = (0.0, centers, it, converged)
                break
            # Several starts: keep the one with the lowest objective J_m.
            c_sq = np.einsum("ij,ij->i", centers, centers)
            obj = 0.0
            for sl in row_blocks(X.shape[0]):
                d2 = sq_distances(X[sl], centers, c_sq, x_sq[sl])
                u = memberships(d2.copy(), m)
                obj += float(((u**m) * d2).sum())
            if best is None or obj < best[0]:
                best = (obj, centers, it, converged)
        assert best is not None
        _, centers, it, self.converged_ = best
        self.n_iter_ = it
        self.cluster_centers_ = centers
        # Final memberships at the final centres, so (U, C) satisfy the update equation.
        self.membership_ = self._proba(X)
        self.labels_ = self.membership_.argmax(axis=1)
        self._set_indices(X)
        return self

    def _run(
        self, X: np.ndarray, x_sq: np.ndarray, centers: np.ndarray, m: float
    ) -> tuple[np.ndarray, int, bool]:
        """Alternate updates from ``centers`` until memberships change less than tol."""
        u_prev: np.ndarray | None = None
        it = 0
        for it in range(1, self.max_iter + 1):
            u, centers_new = self._step(X, x_sq, centers, m)
            shift = np.inf if u_prev is None else float(np.abs(u - u_prev).max())
            u_prev, centers = u, centers_new
            if shift <= self.tol:
                return centers, it, True
        return centers, it, False

    def _step(
        self, X: np.ndarray, x_sq: np.ndarray, centers: np.ndarray, m: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """One alternating update: memberships at ``centers``, then new centres."""
        n, k = X.shape[0], centers.shape[0]
        c_sq = np.einsum("ij,ij->i", centers, centers)
        u_all = np.empty((k, n), dtype=X.dtype)
        num = np.zeros_like(centers, dtype=np.float64)
        den = np.zeros(k, dtype=np.float64)
        for sl in row_blocks(n):
            u = memberships_t(sq_distances_t(X[sl], centers, c_sq, x_sq[sl]), m)
            u_all[:, sl] = u
            um = np.multiply(u, u, out=u) if m == 2.0 else u**m
            num += um @ X[sl]
            den += um.sum(axis=1)
        # An empty cluster (den == 0) keeps its previous centre rather than becoming NaN.
        safe = den > 0
        new = centers.astype(np.float64, copy=True)
        new[safe] = num[safe] / den[safe, None]
        return u_all, new.astype(X.dtype)

    def _proba(self, X: np.ndarray) -> np.ndarray:
        centers = self.cluster_centers_
        c_sq = np.einsum("ij,ij->i", centers, centers)
        out = np.empty((X.shape[0], centers.shape[0]), dtype=np.float64)
        for sl in row_blocks(X.shape[0]):
            out[sl] = memberships_t(sq_distances_t(X[sl], centers, c_sq), float(self.m)).T
        return out

    def _set_indices(self, X: np.ndarray) -> None:
        u, m, centers = self.membership_, float(self.m), self.cluster_centers_
        n, k = u.shape
        c_sq = np.einsum("ij,ij->i", centers, centers)
        obj = 0.0
        for sl in row_blocks(n):
            obj += float(((u[sl] ** m) * sq_distances(X[sl], centers, c_sq)).sum())
        self.objective_ = obj
        self.partition_coefficient_ = float((u**2).sum() / n)
        with np.errstate(divide="ignore", invalid="ignore"):
            ent = np.where(u > 0, u * np.log(u), 0.0)
        self.partition_entropy_ = float(-ent.sum() / n)
        if k > 1:
            cd = sq_distances(centers.astype(np.float64), centers.astype(np.float64), c_sq)
            np.fill_diagonal(cd, np.inf)
            sep = float(cd.min())
            self.xie_beni_ = float(obj / (n * sep)) if sep > 0 else float("inf")
        else:
            self.xie_beni_ = float("nan")

    def predict_proba(self, X) -> np.ndarray:
        """Memberships of new rows, shape (n_samples, n_clusters), rows sum to 1."""
        check_is_fitted(self, "cluster_centers_")
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return self._proba(np.ascontiguousarray(X, dtype=self.cluster_centers_.dtype))

    def predict(self, X) -> np.ndarray:
        """Cluster of highest membership (0-based), shape (n_samples,)."""
        return self.predict_proba(X).argmax(axis=1)

    def fit_predict(self, X, y=None, **kwargs) -> np.ndarray:
        """Fit and return the training labels, shape (n_samples,)."""
        return self.fit(X).labels_

    def transform(self, X) -> np.ndarray:
        """Euclidean distance of each row to each centre, shape (n_samples, n_clusters)."""
        check_is_fitted(self, "cluster_centers_")
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        centers = self.cluster_centers_.astype(np.float64)
        c_sq = np.einsum("ij,ij->i", centers, centers)
        return np.sqrt(sq_distances(np.asarray(X, dtype=np.float64), centers, c_sq))
