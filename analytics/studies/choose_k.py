"""``sweep_k()``: fit every k in a range, score each fit, recommend one k in plain words.

Criteria per method (one row per k in ``KSweep.table``):

- k-means: ``inertia`` (within-segment sum of squares, the elbow curve), ``silhouette``,
  ``calinski_harabasz`` and ``davies_bouldin`` (scikit-learn's metrics on the labels).
- Gaussian mixture: ``bic_<type>`` and ``aic_<type>`` for every covariance type tried,
  ``bic``/``aic`` (the best over types), ``best_covariance`` (the type with the lowest
  BIC at that k) and ``silhouette`` of that model's hard labels.
- Fuzzy c-means: ``partition_coefficient``, ``partition_entropy``, ``xie_beni`` and
  ``silhouette`` of the hard labels (highest membership).

Silhouette needs every pairwise distance (n^2), so above ``SILHOUETTE_EXACT_MAX`` rows it
is computed on a random sample of that many rows (the same rows for every k, stated in
``KSweep.silhouette_sample_size``); the value equals scikit-learn's
``silhouette_score(X, labels, sample_size=..., random_state=...)``.

The elbow is found with the kneedle method (Satopaa et al., 2011), see :func:`knee_point`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
)
from sklearn.metrics.pairwise import pairwise_distances_chunked
from sklearn.mixture import GaussianMixture
from sklearn.utils import check_random_state

from analytics.errors import InputError, ModelError
from analytics.model.fit import (
    COVARIANCE_TYPES,
    MAX_K,
    METHOD_NAMES,
    check_method,
    count_distinct,
    fit_fcm,
    fit_gmm,
    fit_kmeans,
    prepare_for_method,
    split_params,
)
from analytics.model.gaussian import log_gaussian_prob
from analytics.parallel import blas_single

#: Up to this many rows the silhouette is exact; above it, a random sample of this size.
SILHOUETTE_EXACT_MAX = 5_000
#: Gaussian-mixture sweeps fit on a random sample of this many rows (unless ``subsample``
#: is given) and compute BIC/AIC and labels on every row.
SWEEP_SUBSAMPLE = 10_000
#: Stability refits use at most this many rows per resample.
STABILITY_MAX_ROWS = 20_000

Progress = Callable[[float, str], None]
ShouldStop = Callable[[], bool]


def _no_progress(fraction: float, text: str) -> None:
    return None


def _never() -> bool:
    return False


@dataclass(frozen=True)
class Criterion:
    """How to read one column of the sweep table."""

    column: str
    label: str
    higher_is_better: bool
    #: Sentence fragment for "this criterion picks k", e.g. "silhouette is highest at {k}".
    best_text: str


CRITERIA: dict[str, Criterion] = {
    c.column: c
    for c in (
        Criterion("inertia", "Inertia (within-segment sum of squares)", False, ""),
        Criterion("silhouette", "Silhouette", True, "silhouette is highest at {k}"),
        Criterion(
            "calinski_harabasz", "Calinski-Harabasz", True, "Calinski-Harabasz is highest at {k}"
        ),
        Criterion("davies_bouldin", "Davies-Bouldin", False, "Davies-Bouldin is lowest at {k}"),
        Criterion("bic", "BIC", False, "BIC is lowest at {k}"),
        Criterion("aic", "AIC", False, "AIC is lowest at {k}"),
        Criterion(
            "partition_coefficient",
            "Partition coefficient",
            True,
            "the partition coefficient is highest at {k}",
        ),
        Criterion(
            "partition_entropy",
            "Partition entropy",
            False,
            "the partition entropy is lowest at {k}",
        ),
        Criterion("xie_beni", "Xie-Beni", False, "Xie-Beni is lowest at {k}"),
    )
}


@dataclass
class KSweep:
    """The result of :func:`sweep_k`.

    Attributes
    ----------
    method : "kmeans", "fcm" or "gmm"
    ks : the ks that were fitted (fewer than asked if the sweep was stopped)
    table : DataFrame indexed by ``k``, one column per criterion (see the module docstring)
    recommended_k : int or None (None only if no k was fitted)
    reason : plain sentence naming the criteria that agree and those that disagree
    warning : sentence shown when the criteria disagree (or the best k is at the edge), else None
    silhouette_sample_size : rows the silhouette was computed on, None = exact (all rows)
    knee_k : the elbow of the inertia curve (k-means), None if there is none
    notes : plain sentences about how the sweep was run (sampling, stopping, convergence)
    labels : per k, the hard labels of every row, shape (n_rows,), values 1..k by size
    X : the prepared features, shape (n_rows, n_features)
    models : Gaussian mixtures per (k, covariance type), for inspection
    stopped : True if ``should_stop`` ended the sweep early
    params : the settings used (preparation and model), to refit for stability
    random_state : the seed used
    """

    method: str
    ks: list[int]
    table: pd.DataFrame
    recommended_k: int | None
    reason: str
    warning: str | None
    silhouette_sample_size: int | None
    knee_k: int | None
    notes: list[str] = field(default_factory=list)
    labels: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    X: np.ndarray | None = field(default=None, repr=False)
    models: dict[tuple[int, str], GaussianMixture] = field(default_factory=dict, repr=False)
    stopped: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    random_state: int = 0

    @property
    def method_name(self) -> str:
        """The method in words ("k-means", ...)."""
        return METHOD_NAMES[self.method]

    def silhouette_values(self, k: int, sample_size: int | None = SILHOUETTE_EXACT_MAX):
        """Per-row silhouettes of the fit with ``k`` segments (see :func:`silhouette_values`)."""
        if k not in self.labels or self.X is None:
            raise InputError(
                f"k = {k} was not part of this sweep; choose one of {_list(self.ks)}.",
                code="bad_k",
            )
        return silhouette_values(self.X, self.labels[k], sample_size, self.random_state)

    def stability(
        self,
        ks: Sequence[int] | None = None,
        n_resamples: int = 5,
        fraction: float = 0.8,
        progress: Progress | None = None,
        should_stop: ShouldStop | None = None,
    ) -> pd.DataFrame:
        """Refit on resamples and report how reproducible each k is (see :func:`stability`).

        ``ks`` defaults to the recommended k and its neighbours within the sweep.
        Gaussian mixtures use the covariance type with the lowest BIC at each k.
        """
        if self.X is None:
            raise InputError("This sweep holds no data to refit.", code="no_data")
        if ks is None:
            if self.recommended_k is None:
                raise InputError("The sweep has no recommended k yet.", code="bad_k")
            r = self.recommended_k
            ks = [k for k in (r - 1, r, r + 1) if k in self.ks]
        ks = _check_ks(ks, self.X)
        cov = {}
        if self.method == "gmm" and "best_covariance" in self.table:
            cov = {int(k): str(t) for k, t in self.table["best_covariance"].items()}
        return _stability_X(
            self.X,
            ks,
            self.method,
            self.params,
            n_resamples,
            fraction,
            self.random_state,
            progress or _no_progress,
            should_stop or _never,
            cov,
        )


# ----------------------------------------------------------------------------- kneedle


def knee_point(ks: Sequence[int], values: Sequence[float]) -> int | None:
    """The elbow of a decreasing convex curve by the kneedle method.

    Both axes are normalised to [0, 1]; for a decreasing curve the straight line
    from the first to the last point is ``y = 1 - x``, and a convex curve lies
    below it. The knee is the k where the curve lies furthest below that line,
    i.e. the maximum of the difference curve ``(1 - x_n) - y_n``. Returns None
    when fewer than three ks are given, the curve is flat, or no point lies
    below the line (no elbow). The first and last k are never the knee (their
    difference is 0 by construction).

    Parameters
    ----------
    ks : increasing ks, shape (m,)
    values : the curve (e.g. inertia) at each k, shape (m,)
    """
    x = np.asarray(ks, dtype=float)
    y = np.asarray(values, dtype=float)
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    xn = (x - x.min()) / np.ptp(x)
    yn = (y - y.min()) / np.ptp(y)
    diff = (1.0 - xn) - yn
    i = int(np.argmax(diff))
    if diff[i] <= 1e-9:
        return None
    return int(x[i])


# ----------------------------------------------------------------------------- silhouette


@dataclass
class SilhouetteRows:
    """Per-row silhouettes for the silhouette plot.

    values : silhouette of each row used, shape (m,)
    labels : the segment of each of those rows, shape (m,)
    index : positions of those rows in the data, shape (m,)
    average : mean silhouette (scikit-learn's ``silhouette_score`` on the same rows)
    sample_size : m if the rows are a random sample, None if every row was used
    """

    values: np.ndarray
    labels: np.ndarray
    index: np.ndarray
    average: float
    sample_size: int | None


def _sample_index(n: int, sample_size: int | None, random_state: int) -> np.ndarray | None:
    """Rows for a sampled silhouette, exactly as scikit-learn's ``silhouette_score`` picks them."""
    if sample_size is None or sample_size >= n:
        return None
    return check_random_state(random_state).permutation(n)[:sample_size]


def _silhouette_many(X: np.ndarray, label_sets: Sequence[np.ndarray]) -> np.ndarray:
    """Per-row silhouettes of several labelings of the same rows, shape (n, n_sets).

    The pairwise distances are computed once, in chunks (scikit-learn's
    ``pairwise_distances_chunked``), and each chunk is reduced for every labeling
    with one matrix product against the stacked one-hot label matrices: one
    distance pass for a whole sweep instead of one per k. Same formula as
    scikit-learn's ``silhouette_samples``; a labeling with fewer than 2 or more
    than n - 1 distinct labels gets NaN.
    """
    n = X.shape[0]
    codes, freqs, offsets, valid = [], [], [0], []
    for lab in label_sets:
        _, c = np.unique(lab, return_inverse=True)
        f = np.bincount(c)
        codes.append(c)
        freqs.append(f)
        offsets.append(offsets[-1] + len(f))
        valid.append(2 <= len(f) <= n - 1)
    onehot = np.zeros((n, offsets[-1]))
    for j, c in enumerate(codes):
        onehot[np.arange(n), offsets[j] + c] = 1.0

    def reduce(D: np.ndarray, start: int) -> np.ndarray:
        sums = D @ onehot  # (chunk, sum of k): distance sums to every segment of every labeling
        rows = np.arange(D.shape[0])
        out = np.empty((D.shape[0], len(codes)))
        for j, (c, f) in enumerate(zip(codes, freqs, strict=True)):
            s = sums[:, offsets[j] : offsets[j + 1]]
            own = c[start : start + D.shape[0]]
            with np.errstate(divide="ignore", invalid="ignore"):
                a = s[rows, own] / (f[own] - 1)
                inter = s / f
                inter[rows, own] = np.inf
                b = inter.min(axis=1)
                out[:, j] = np.nan_to_num((b - a) / np.maximum(a, b))
        return out

    parts = list(pairwise_distances_chunked(X, reduce_func=reduce, working_memory=64))
    vals = np.concatenate(parts) if parts else np.empty((0, len(codes)))
    vals[:, ~np.asarray(valid, dtype=bool)] = np.nan
    return vals


def silhouette_values(
    X: np.ndarray,
    labels: np.ndarray,
    sample_size: int | None = SILHOUETTE_EXACT_MAX,
    random_state: int = 0,
) -> SilhouetteRows:
    """Silhouette of every row (or of a random sample of rows) for the silhouette plot.

    Parameters
    ----------
    X : prepared features, shape (n, p)
    labels : segment of each row, shape (n,)
    sample_size : above this many rows use a random sample of this size (None = every row);
        the rows are the ones scikit-learn's ``silhouette_score`` samples with the same seed
    random_state : seed of the sample

    Returns
    -------
    SilhouetteRows whose ``values`` equal scikit-learn's ``silhouette_samples`` on those rows.
    """
    X = np.asarray(X, dtype=float)
    labels = np.asarray(labels)
    if X.ndim != 2 or labels.shape != (X.shape[0],):
        raise InputError(
            f"Expected features of shape (n, p) and n labels; got {X.shape} and {labels.shape}.",
            code="bad_shape",
        )
    idx = _sample_index(len(X), sample_size, random_state)
    index = np.arange(len(X)) if idx is None else idx
    vals = _silhouette_many(X[index], [labels[index]])[:, 0]
    if np.isnan(vals).any():
        raise InputError(
            "A silhouette needs at least 2 segments with rows in them and fewer segments "
            "than rows.",
            code="bad_labels",
        )
    return SilhouetteRows(
        values=vals,
        labels=labels[index],
        index=index,
        average=float(vals.mean()),
        sample_size=None if idx is None else len(idx),
    )


def _silhouettes(
    X: np.ndarray, labels: dict[int, np.ndarray], random_state: int
) -> tuple[dict[int, float], int | None]:
    """Mean silhouette per k on the same rows (all, or the stated sample)."""
    if not labels:
        return {}, None
    idx = _sample_index(len(X), SILHOUETTE_EXACT_MAX, random_state)
    Xs = X if idx is None else X[idx]
    ks = list(labels)
    vals = _silhouette_many(Xs, [labels[k] if idx is None else labels[k][idx] for k in ks])
    return {k: float(vals[:, j].mean()) for j, k in enumerate(ks)}, (
        None if idx is None else len(idx)
    )


# ----------------------------------------------------------------------------- validation


def _list(ks: Iterable[int]) -> str:
    ks = list(ks)
    return ", ".join(str(k) for k in ks[:-1]) + (" and " if len(ks) > 1 else "") + str(ks[-1])


def _check_ks(ks: Any, X: np.ndarray) -> list[int]:
    """Sorted distinct ks, each a whole number in 2..min(MAX_K, distinct rows)."""
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
    low = [k for k in out if k < 2 or k > MAX_K]
    if low:
        raise InputError(
            f"Every k must be between 2 and {MAX_K} (one segment is not a segmentation); "
            f"got {_list(low)}.",
            code="bad_ks",
        )
    n = X.shape[0]
    distinct = count_distinct(X, out[-1]) if out[-1] <= n else count_distinct(X, n + 1)
    too_many = [k for k in out if k > distinct]
    if too_many:
        raise InputError(
            f"The data have only {distinct} distinct customer profile(s) in the chosen "
            f"columns, so they cannot be split into {_list(too_many)} segments. "
            f"Try ks up to {distinct} or add columns or rows.",
            code="too_few_distinct",
        )
    return out


def _ordered_labels(raw: np.ndarray, k: int) -> np.ndarray:
    """Labels 1..k with 1 the largest segment (as :func:`analytics.model.fit` numbers them)."""
    counts = np.bincount(raw, minlength=k)
    order = np.argsort(-counts, kind="stable")
    rank = np.empty(k, dtype=np.int32)
    rank[order] = np.arange(1, k + 1, dtype=np.int32)
    return rank[raw]


# ----------------------------------------------------------------------------- fitting


def _kmeans_row(X: np.ndarray, model: Any, summary: dict[str, Any]) -> dict[str, float]:
    raw = model.labels_
    several = len(np.unique(raw)) > 1
    return {
        "inertia": float(model.inertia_),
        "calinski_harabasz": float(calinski_harabasz_score(X, raw)) if several else np.nan,
        "davies_bouldin": float(davies_bouldin_score(X, raw)) if several else np.nan,
    }


def _fcm_row(X: np.ndarray, model: Any, summary: dict[str, Any]) -> dict[str, float]:
    keys = ("partition_coefficient", "partition_entropy", "xie_beni", "objective")
    return {key: summary[key] for key in keys}


def _sweep_hard(method, X, ks, seed, p, progress, should_stop, notes):
    """Fit k-means or FCM at every k (until stopped); criteria rows, ordered labels, ks done."""
    fit, score, name = {
        "kmeans": (fit_kmeans, _kmeans_row, "k-means"),
        "fcm": (fit_fcm, _fcm_row, "Fuzzy c-means"),
    }[method]
    rows, labels, done, unconverged = {}, {}, [], []
    for i, k in enumerate(ks):
        if should_stop():
            break
        progress(i / len(ks) * 0.9, f"{name} with k = {k}")
        result = fit(X, k, seed, p)
        model, summary = result.estimator, result.summary
        del result
        if not summary["converged"]:
            unconverged.append(k)
        rows[k] = score(X, model, summary)
        labels[k] = _ordered_labels(model.labels_, k)
        done.append(k)
        del model  # FCM's holds an (n, k) membership matrix
    if unconverged:
        notes.append(
            f"{name} did not converge within {p['max_iter']} iterations for k = "
            f"{_list(unconverged)}."
        )
    return rows, labels, done


def _n_parameters(k: int, d: int, cov: str) -> int:
    """Free parameters of a k-component mixture in d dimensions (as scikit-learn counts)."""
    per_cov = {
        "full": k * d * (d + 1) // 2,
        "tied": d * (d + 1) // 2,
        "diag": k * d,
        "spherical": k,
    }
    return per_cov[cov] + k * d + k - 1


def _init_from_labels(
    X: np.ndarray, raw: np.ndarray, k: int, cov: str, reg: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights, means and precisions of the hard partition ``raw`` for one covariance type.

    This is what scikit-learn's ``init_params="kmeans"`` computes from the k-means
    labels; computing it here lets one k-means run start all four covariance types.
    """
    n, d = X.shape
    resp = np.zeros((n, k))
    resp[np.arange(n), raw] = 1.0
    nk = resp.sum(axis=0) + 10 * np.finfo(float).eps
    means = resp.T @ X / nk[:, None]
    if cov == "full":
        prec = np.empty((k, d, d))
        for j in range(k):
            diff = X - means[j]
            c = (resp[:, j] * diff.T) @ diff / nk[j]
            c.flat[:: d + 1] += reg
            prec[j] = np.linalg.inv(c)
    elif cov == "tied":
        c = X.T @ X - (nk * means.T) @ means
        c /= nk.sum()
        c.flat[:: d + 1] += reg
        prec = np.linalg.inv(c)
    else:
        avg_x2 = resp.T @ (X * X) / nk[:, None]
        var = avg_x2 - means**2 + reg
        prec = 1.0 / (var if cov == "diag" else var.mean(axis=1))
    return nk / n, means, prec


def _weighted_log_prob(Xb: np.ndarray, model: GaussianMixture, cov: str) -> np.ndarray:
    """log(weight_j) + log N(x | mean_j, cov_j) for a block of rows, shape (rows, k)."""
    return log_gaussian_prob(Xb, model.means_, model.precisions_cholesky_, cov) + np.log(
        model.weights_
    )


def _score_all(
    X: np.ndarray, fitted: dict[str, GaussianMixture]
) -> dict[str, tuple[float, np.ndarray]]:
    """Total log-likelihood and hard labels of every row under each fitted mixture.

    One pass over row blocks for all covariance types (the rows stay in cache while
    each model scores them); memory per block is about rows x k x d floats.
    """
    n = X.shape[0]
    k, d = next(iter(fitted.values())).means_.shape
    block = max(256, min(16_384, 2_000_000 // max(1, k * d)))
    ll = dict.fromkeys(fitted, 0.0)
    labels = {c: np.empty(n, dtype=np.intp) for c in fitted}
    for start in range(0, n, block):
        Xb = X[start : start + block]
        for cov, model in fitted.items():
            w = _weighted_log_prob(Xb, model, cov)
            top = w.max(axis=1, keepdims=True)
            labels[cov][start : start + len(Xb)] = w.argmax(axis=1)
            w -= top
            np.exp(w, out=w)
            ll[cov] += float((np.log(w.sum(axis=1)) + top[:, 0]).sum())
    return {c: (ll[c], labels[c]) for c in fitted}


def _fit_one_gmm(Xf, raw, k, cov, p) -> tuple[GaussianMixture, float]:
    """EM from a hard partition, raising the regularisation if a covariance collapses."""
    reg = float(p["reg_covar"])
    for attempt in range(4):
        try:
            w, mu, prec = _init_from_labels(Xf, raw, k, cov, reg)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model = GaussianMixture(
                    n_components=k,
                    covariance_type=cov,
                    reg_covar=reg,
                    tol=p["tol"],
                    max_iter=p["max_iter"],
                    weights_init=w,
                    means_init=mu,
                    precisions_init=prec,
                ).fit(Xf)
            return model, reg
        except (ValueError, np.linalg.LinAlgError) as exc:
            if attempt == 3:
                raise ModelError(
                    f"The Gaussian mixture with {k} segments ({cov} covariance) could not be "
                    f"fitted: some segments have no spread in some direction ({exc}).",
                    code="singular_covariance",
                ) from exc
            reg *= 1000.0
    raise AssertionError("unreachable")


def _sweep_gmm(X, ks, seed, p, types, subsample, progress, should_stop, notes):
    """Every (k, covariance type) fitted on a row sample; BIC, AIC and labels on all rows.

    Speed comes from three choices: EM runs on ``subsample`` rows (the likelihood is
    then evaluated on every row, so BIC/AIC are the usual full-data criteria of the
    fitted parameters, and rows outside the sample act as held-out data that penalise
    over-fitting); one k-means run per k and start seeds all four covariance types;
    and the silhouette for all ks is computed later in one distance pass.
    """
    n, d = X.shape
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, size=subsample, replace=False)) if n > subsample else None
    Xf = X if sample is None else X[sample]
    if sample is not None:
        notes.append(
            f"Each mixture was fitted on the same random sample of {subsample:,} of the "
            f"{n:,} rows; BIC, AIC and segments are computed on all {n:,} rows."
        )
    n_init = int(p["n_init"])
    rows, labels, models, done = {}, {}, {}, []
    unconverged, regularised = [], []
    logn = np.log(n)
    for i, k in enumerate(ks):
        if should_stop():
            break
        starts = []
        for r in range(n_init):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                km = KMeans(n_clusters=k, n_init=1, random_state=seed + r).fit(Xf)
            starts.append(km.labels_)
        row: dict[str, Any] = {}
        fitted: dict[str, GaussianMixture] = {}
        for t_i, cov in enumerate(types):
            progress(
                (i + t_i / len(types)) / len(ks) * 0.9,
                f"Gaussian mixture with k = {k} ({cov} covariance)",
            )
            fits = [_fit_one_gmm(Xf, raw, k, cov, p) for raw in starts]
            model, reg = max(fits, key=lambda f: f[0].lower_bound_)
            if not model.converged_:
                unconverged.append(f"{k} ({cov})")
            if reg != float(p["reg_covar"]):
                regularised.append(f"{k} ({cov})")
            fitted[cov] = model
            models[(k, cov)] = model
        scored = _score_all(X, fitted)
        best_type, best_bic = None, np.inf
        for cov in types:
            ll, _ = scored[cov]
            npar = _n_parameters(k, d, cov)
            # GaussianMixture.bic/aic: -2 * mean log-lik * n + penalty.
            bic = -2 * ll + npar * logn
            row[f"bic_{cov}"], row[f"aic_{cov}"] = float(bic), float(-2 * ll + 2 * npar)
            if bic < best_bic:
                best_type, best_bic = cov, bic
        assert best_type is not None
        row["bic"] = min(row[f"bic_{t}"] for t in types)
        row["aic"] = min(row[f"aic_{t}"] for t in types)
        row["best_covariance"] = best_type
        rows[k] = row
        labels[k] = _ordered_labels(scored[best_type][1], k)
        done.append(k)
    if unconverged:
        notes.append(
            f"EM did not converge within {p['max_iter']} iterations for k = "
            f"{_list(unconverged)}; those criteria may improve with more iterations."
        )
    if regularised:
        notes.append(
            f"Some segments had almost no spread for k = {_list(regularised)}, so their "
            "covariance was regularised more strongly."
        )
    return rows, labels, models, done


# ----------------------------------------------------------------------------- recommendation


def _best_k(table: pd.DataFrame, column: str) -> int | None:
    """k with the best value of ``column`` (ties: the smaller k), None if all missing."""
    if column not in table:
        return None
    s = pd.to_numeric(table[column], errors="coerce").dropna()
    if s.empty:
        return None
    best = s.max() if CRITERIA[column].higher_is_better else s.min()
    return int(s.index[s == best][0])


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def _recommend(
    method: str, table: pd.DataFrame, knee_k: int | None, types: Sequence[str]
) -> tuple[int | None, str, str | None]:
    """Recommended k, the reason in words, and a warning when the criteria disagree.

    - Gaussian mixture: the lowest BIC over every covariance type decides; AIC and
      silhouette are reported as agreeing or not (only silhouette's disagreement warns:
      AIC routinely prefers a few more segments than BIC).
    - k-means (elbow and silhouette) and fuzzy c-means (Xie-Beni and silhouette): if
      the two lead criteria pick the same k it is recommended; otherwise the two
      candidates are compared on every criterion and the one more criteria prefer
      wins (a tie goes to silhouette's choice).
    """
    if table.empty:
        return None, "No k was fitted, so there is no recommendation.", None
    ks = [int(k) for k in table.index]
    if len(ks) == 1:
        k = ks[0]
        return k, f"Only k = {k} was fitted, so there is nothing to compare it with.", None

    picks: dict[str, int] = {}  # criterion -> its k, in the order they are reported
    if method == "gmm":
        lead = ["bic"]
        for c in ("bic", "aic", "silhouette"):
            if (k := _best_k(table, c)) is not None:
                picks[c] = k
    elif method == "kmeans":
        lead = ["elbow", "silhouette"]
        if knee_k is not None:
            picks["elbow"] = knee_k
        for c in ("silhouette", "calinski_harabasz", "davies_bouldin"):
            if (k := _best_k(table, c)) is not None:
                picks[c] = k
    else:
        lead = ["xie_beni", "silhouette"]
        for c in ("xie_beni", "silhouette", "partition_coefficient", "partition_entropy"):
            if (k := _best_k(table, c)) is not None:
                picks[c] = k
    if not picks:
        return None, "No criterion could be computed, so there is no recommendation.", None

    lead_ks = [picks[c] for c in lead if c in picks]
    if not lead_ks:
        rec = next(iter(picks.values()))
    elif len(set(lead_ks)) == 1:
        rec = lead_ks[0]
    else:
        a, b = lead_ks[0], lead_ks[1]
        votes = {a: 0, b: 0}
        for c in picks:
            pref = _prefers(table, c, a, b, picks)
            if pref is not None:
                votes[pref] += 1
        if votes[a] != votes[b]:
            rec = a if votes[a] > votes[b] else b
        else:
            rec = picks.get("silhouette", a)

    phrases, disagree = [], []
    # AIC is reported but does not raise the warning: it penalises extra segments less
    # than BIC and routinely prefers one or two more (PDSH's "BIC recommends a simpler model").
    informational = {"aic"}
    ordered = sorted(picks, key=lambda c: (picks[c] != rec, list(picks).index(c)))
    for c in ordered:
        k = picks[c]
        if k == rec:
            phrases.append(_agree_text(c, k, table))
        else:
            phrases.append(_disagree_text(c, k, rec, table))
            if c not in informational:
                disagree.append(c)
    reason = f"{rec} segments: " + "; ".join(phrases) + "."
    warning = None
    if disagree:
        names = ", ".join(_name(c) for c in disagree)
        others = sorted({picks[c] for c in disagree})
        warning = (
            f"The criteria disagree: {names} point{'s' if len(disagree) == 1 else ''} to "
            f"{_list(others)} rather than {rec}. Compare the segmentations at these k "
            "(and check their stability) before choosing."
        )
    edge = _edge_warning(method, rec, ks, picks, types, table)
    if edge:
        warning = edge if warning is None else f"{warning} {edge}"
    return rec, reason, warning


def _name(c: str) -> str:
    return "the elbow" if c == "elbow" else CRITERIA[c].label.split(" (")[0]


def _prefers(table, c, a, b, picks) -> int | None:
    """Which of two ks criterion ``c`` prefers (None if it cannot tell)."""
    if c == "elbow":
        return picks["elbow"] if picks["elbow"] in (a, b) else None
    va, vb = table.at[a, c], table.at[b, c]
    if not (np.isfinite(va) and np.isfinite(vb)) or va == vb:
        return None
    better_a = va > vb if CRITERIA[c].higher_is_better else va < vb
    return a if better_a else b


def _agree_text(c: str, k: int, table: pd.DataFrame) -> str:
    if c == "elbow":
        return f"the elbow of the inertia curve is at {k}"
    text = CRITERIA[c].best_text.format(k=k)
    if c == "silhouette":
        text += f" ({table.at[k, c]:.2f})"
    if c in ("bic", "aic") and "best_covariance" in table:
        t = table.loc[:, [f"{c}_{x}" for x in COVARIANCE_TYPES if f"{c}_{x}" in table]]
        text += f" ({t.loc[k].idxmin().split('_', 1)[1]} covariance)"
    return text


def _disagree_text(c: str, k: int, rec: int, table: pd.DataFrame) -> str:
    if c == "elbow":
        return f"the elbow of the inertia curve is at {k}"
    name = _name(c)
    text = f"{name if c != 'silhouette' else 'silhouette'} prefers {k}"
    if c == "silhouette":
        text += f" ({table.at[k, c]:.2f} against {table.at[rec, c]:.2f} at {rec})"
    elif c == "aic":
        text += " (AIC penalises extra segments less than BIC, so it often prefers more)"
    elif c in ("partition_coefficient", "partition_entropy") and k < rec:
        text += " (it tends to favour few segments)"
    return text


def _edge_warning(method, rec, ks, picks, types, table) -> str | None:
    if len(ks) < 3 or rec != ks[-1]:
        return None
    if method == "gmm":
        return (
            f"BIC is still falling at the largest k tried ({rec}); try larger ks, or the "
            "data may not form compact groups."
        )
    return f"The best k is the largest one tried ({rec}); try larger ks as well."


# ----------------------------------------------------------------------------- public API


def _gmm_types(params: dict[str, Any]) -> list[str]:
    cov = params.get("covariance_type")
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


def sweep_k(
    df: pd.DataFrame,
    ks: Iterable[int],
    method: str,
    columns: Sequence[str] | None = None,
    random_state: int = 0,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    **params: Any,
) -> KSweep:
    """Fit ``method`` for every k in ``ks`` and recommend one.

    Parameters
    ----------
    df : DataFrame of shape (n_rows, n_columns); never modified
    ks : the numbers of segments to try, e.g. ``range(2, 11)``; whole numbers >= 2
    method : "kmeans", "fcm" or "gmm"
    columns : feature columns; default: the numeric and categorical ones
    random_state : seed for every random choice
    progress : optional callback ``(fraction, text)``, called before each k
    should_stop : optional callable checked before each k; when it returns True the
        sweep ends and the ks fitted so far are returned (``stopped=True``, with a note)
    **params : preparation (``scaling``, ``log_transform``, ``impute``) and model
        settings as for :func:`analytics.model.fit`. For Gaussian mixtures
        ``covariance_type`` may be one type, a list, or "all" (default: all four),
        ``n_init`` defaults to 1 (k-means-seeded start) and ``subsample`` (default
        ``SWEEP_SUBSAMPLE``) is the number of rows EM runs on.

    Returns
    -------
    KSweep
    """
    method = check_method(method)
    progress = progress or _no_progress
    should_stop = should_stop or _never
    if method == "gmm":
        types = _gmm_types(params)
        params = {k: v for k, v in params.items() if k != "covariance_type"}
        params.setdefault("n_init", 1)
    else:
        types = []
    prep_opts, p = split_params(method, params)
    if method == "gmm":
        subsample = int(params.get("subsample", SWEEP_SUBSAMPLE))
        if subsample < 100 or int(p["n_init"]) < 1:
            raise InputError(
                "subsample must be at least 100 rows and n_init at least 1.", code="bad_option"
            )
    progress(0.0, "Preparing features")
    X, preparer, _, method_notes = prepare_for_method(df, method, columns, prep_opts)
    ks_list = _check_ks(ks, X)
    notes: list[str] = list(preparer.warnings) + method_notes
    models: dict[tuple[int, str], GaussianMixture] = {}
    with blas_single():
        if method == "kmeans":
            rows, labels, done = _sweep_hard(
                "kmeans", X, ks_list, random_state, p, progress, should_stop, notes
            )
        elif method == "fcm":
            rows, labels, done = _sweep_hard(
                "fcm", X, ks_list, random_state, p, progress, should_stop, notes
            )
        else:
            rows, labels, models, done = _sweep_gmm(
                X, ks_list, random_state, p, types, subsample, progress, should_stop, notes
            )
        progress(0.92, "Silhouette of every k")
        sil, sample_size = _silhouettes(X, labels, random_state)
    stopped = len(done) < len(ks_list)
    if stopped:
        left = [k for k in ks_list if k not in done]
        notes.append(
            "The sweep was stopped"
            + (f" after k = {done[-1]}" if done else " before any k was fitted")
            + f"; not tried: k = {_list(left)}."
        )
    if sample_size is not None:
        notes.append(
            f"Silhouette was computed on a random sample of {sample_size:,} of the {len(X):,} "
            "rows (the exact value needs every pairwise distance); the same rows for every k."
        )
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index = pd.Index([int(k) for k in table.index], name="k", dtype="int64")
    if not table.empty:
        table["silhouette"] = pd.Series(sil, dtype="float64")
    knee_k = (
        knee_point(list(table.index), table["inertia"])
        if method == "kmeans" and len(table)
        else None
    )
    rec, reason, warning = _recommend(method, table, knee_k, types)
    return KSweep(
        method=method,
        ks=list(done),
        table=table,
        recommended_k=rec,
        reason=reason,
        warning=warning,
        silhouette_sample_size=sample_size,
        knee_k=knee_k,
        notes=notes,
        labels=labels,
        X=X,
        models=models,
        stopped=stopped,
        params={**params, **({"covariance_type": types} if method == "gmm" else {})},
        random_state=random_state,
    )


# ----------------------------------------------------------------------------- stability


def _verdict(ari: float) -> str:
    if not np.isfinite(ari):
        return "not measured"
    if ari >= 0.9:
        return "very reproducible"
    if ari >= 0.75:
        return "reproducible"
    if ari >= 0.5:
        return "somewhat reproducible"
    return "not reproducible"


def _stability_X(
    X, ks, method, params, n_resamples, fraction, seed, progress, should_stop, cov_by_k
) -> pd.DataFrame:
    if (
        isinstance(n_resamples, bool)
        or not isinstance(n_resamples, int | np.integer)
        or n_resamples < 2
    ):
        raise InputError("n_resamples must be a whole number of at least 2.", code="bad_option")
    if not (0.1 <= float(fraction) < 1.0):
        raise InputError("fraction must be between 0.1 and 1 (e.g. 0.8).", code="bad_option")
    params = {k: v for k, v in params.items() if k != "covariance_type"}
    _, p = split_params(method, params)
    n = X.shape[0]
    size = min(int(round(fraction * n)), STABILITY_MAX_ROWS)
    if size < max(ks) * 2:
        raise InputError(
            f"Resamples of {size} rows are too small for {max(ks)} segments; load more data.",
            code="too_few_rows",
        )
    rng = np.random.default_rng(seed)
    samples = [np.sort(rng.choice(n, size=size, replace=False)) for _ in range(n_resamples)]
    out = []
    total = len(ks) * n_resamples
    with blas_single():
        for i, k in enumerate(ks):
            fits: list[np.ndarray] = []
            for r, idx in enumerate(samples):
                if should_stop():
                    break
                progress(
                    (i * n_resamples + r) / total, f"k = {k}: resample {r + 1} of {n_resamples}"
                )
                full = np.full(n, -1)
                full[idx] = _fit_labels(X[idx], k, method, p, seed + r + 1, cov_by_k.get(k))
                fits.append(full)
            aris = []
            for a in range(len(fits)):
                for b in range(a + 1, len(fits)):
                    common = (fits[a] >= 0) & (fits[b] >= 0)
                    aris.append(adjusted_rand_score(fits[a][common], fits[b][common]))
            mean = float(np.mean(aris)) if aris else float("nan")
            out.append(
                {
                    "k": k,
                    "mean_ari": mean,
                    "min_ari": float(np.min(aris)) if aris else float("nan"),
                    "n_resamples": len(fits),
                    "rows_per_resample": size,
                    "verdict": _verdict(mean),
                }
            )
            if len(fits) < n_resamples:
                break
    progress(1.0, "Done")
    return pd.DataFrame(out).set_index("k")


def _fit_labels(X, k, method, p, seed, cov) -> np.ndarray:
    if method == "kmeans":
        return fit_kmeans(X, k, seed, p).estimator.labels_
    if method == "fcm":
        return fit_fcm(X, k, seed, p).estimator.labels_
    q = dict(p, covariance_type=cov or p["covariance_type"])
    return fit_gmm(X, k, seed, q).soft.argmax(axis=1)


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
    segments, 0 = no better than chance).

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
    ks_list = _check_ks(ks, X)
    cov_by_k = dict.fromkeys(ks_list, cov) if method == "gmm" else {}
    return _stability_X(
        X,
        ks_list,
        method,
        params,
        n_resamples,
        fraction,
        random_state,
        progress or _no_progress,
        should_stop or _never,
        cov_by_k,
    )


__all__ = [
    "CRITERIA",
    "KSweep",
    "SilhouetteRows",
    "knee_point",
    "silhouette_values",
    "stability",
    "sweep_k",
]
