"""``sweep_k()``: fit every k in a range, score each fit, recommend one k.

The per-method loops live here (k-means and fuzzy c-means share one; Gaussian
mixtures have their own, fitting every covariance type from one k-means start);
the criteria are in :mod:`~analytics.studies.choose_k.criteria`, the decision in
:mod:`~analytics.studies.choose_k.recommend` and its words in
:mod:`~analytics.studies.choose_k.wording`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score
from sklearn.mixture import GaussianMixture

from analytics.constants import METHOD_NAMES
from analytics.errors import InputError
from analytics.model import gaussian
from analytics.model.fit import (
    check_method,
    fit_fcm,
    fit_kmeans,
    prepare_for_method,
    split_params,
)
from analytics.progress import Progress, ShouldStop, never_stop, no_progress
from analytics.studies.choose_k.checks import check_ks, covariance_types
from analytics.studies.choose_k.criteria import (
    SILHOUETTE_EXACT_MAX,
    SilhouetteRows,
    mean_silhouettes,
    modified_partition_coefficient,
    silhouette_values,
)
from analytics.studies.choose_k.gap import gap_statistic, within_ss
from analytics.studies.choose_k.mixture_em import em
from analytics.studies.choose_k.recommend import (
    DEFAULT_MIN_SHARE,
    Recommendation,
    min_share_veto,
    objective_knee,
    recommend,
)
from analytics.studies.choose_k.resampling import stability_of_rows
from analytics.studies.choose_k.wording import explain, join_ks

#: Gaussian-mixture sweeps fit on a random sample of this many rows (unless ``subsample``
#: is given) and compute BIC/AIC and labels on every row.
SWEEP_SUBSAMPLE = 10_000

#: Starts of every (k, covariance type) in a mixture sweep (scikit-learn's reference is
#: the best of 5 starts).
SWEEP_STARTS = 5

#: Up to this many fitted rows every start runs EM on every row (scikit-learn's own
#: ``n_init`` procedure, with its starts: the same fits as ``GaussianMixture`` and as
#: :func:`analytics.segment`). It equals ``SWEEP_SUBSAMPLE``: only a sweep that already
#: fits a row sample screens its starts.
EXACT_ROWS = SWEEP_SUBSAMPLE

#: Above ``EXACT_ROWS``, the starts are compared by EM on a random sample of this many
#: rows (or 10 x largest k x features, if more) and only the best is refined on all
#: fitted rows: five starts for about the price of two. The sample can rank two close
#: optima differently from all rows, so above ``EXACT_ROWS`` a cell may end a few BIC
#: units above the best of the same starts run on every row.
SCREEN_ROWS = 1_000

#: Attempts at a mixture whose covariance collapses, each with 1000x the regularisation.
_GMM_ATTEMPTS = 4


@dataclass
class KSweep:
    """The result of :func:`sweep_k`.

    Attributes
    ----------
    method : "kmeans", "fcm" or "gmm"
    ks : the ks that were fitted (fewer than asked if the sweep was stopped)
    table : DataFrame indexed by ``k``, one column per criterion (see the package docstring)
    recommended_k : int or None (None only if no k was fitted)
    reason : plain sentence naming the criteria that agree and those that disagree
    warning : sentence shown when the criteria disagree (or the best k is at the edge), else None
    silhouette_sample_size : rows the silhouette was computed on, None = exact (all rows)
    knee_k : the knee of the objective curve (k-means inertia, FCM objective), None if
        there is none (or a mixture)
    notes : plain sentences about how the sweep was run (sampling, stopping, convergence)
    labels : per k, the hard labels of every row, shape (n_rows,), values 1..k by size
    X : the prepared features, shape (n_rows, n_features)
    models : Gaussian mixtures per (k, covariance type), for inspection
    stopped : True if ``should_stop`` ended the sweep early
    params : the settings used (preparation and model), to refit for stability
    random_state : the seed used
    min_share : the smallest share of rows a segment of the recommended k must hold
    recommendation : the decision behind ``recommended_k``, ``reason`` and ``warning``
        as data (votes, agreeing and disagreeing criteria, edge flags)
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
    recommendation: Recommendation | None = field(default=None, repr=False)
    min_share: float = DEFAULT_MIN_SHARE

    @property
    def method_name(self) -> str:
        """The method in words ("k-means", ...)."""
        return METHOD_NAMES[self.method]

    def silhouette_values(
        self, k: int, sample_size: int | None = SILHOUETTE_EXACT_MAX
    ) -> SilhouetteRows:
        """Per-row silhouettes of the fit with ``k`` segments (see
        :func:`~analytics.studies.choose_k.criteria.silhouette_values`)."""
        if k not in self.labels or self.X is None:
            raise InputError(
                f"k = {k} was not part of this sweep; choose one of {join_ks(self.ks)}.",
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
        """Refit on resamples and report how reproducible each k is (see
        :func:`~analytics.studies.choose_k.stability.stability`).

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
        ks = check_ks(ks, self.X)
        cov = {}
        if self.method == "gmm" and "best_covariance" in self.table:
            cov = {int(k): str(t) for k, t in self.table["best_covariance"].items()}
        return stability_of_rows(
            self.X,
            ks,
            self.method,
            self.params,
            n_resamples,
            fraction,
            self.random_state,
            progress,
            should_stop,
            cov,
        )


def ordered_labels(raw: np.ndarray, k: int) -> np.ndarray:
    """Labels 1..k with 1 the largest segment (as :func:`analytics.segment` numbers them).

    Parameters
    ----------
    raw : component of each row, values 0..k-1, shape (n,)
    k : number of components

    Returns
    -------
    ndarray of int32, shape (n,)
    """
    counts = np.bincount(raw, minlength=k)
    order = np.argsort(-counts, kind="stable")
    rank = np.empty(k, dtype=np.int32)
    rank[order] = np.arange(1, k + 1, dtype=np.int32)
    return rank[raw]


# ----------------------------------------------------------------------------- k-means, FCM


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
    row = {key: summary[key] for key in keys}
    row["mpc"] = modified_partition_coefficient(row["partition_coefficient"], model.n_clusters)
    if model.n_clusters == 1:
        # PC = 1 and PE = 0 for one segment by definition: not evidence of anything.
        row["partition_coefficient"] = row["partition_entropy"] = np.nan
    return row


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
        labels[k] = ordered_labels(model.labels_, k)
        done.append(k)
        del model  # FCM's holds an (n, k) membership matrix
    if unconverged:
        notes.append(
            f"{name} did not converge within {p['max_iter']} iterations for k = "
            f"{join_ks(unconverged)}."
        )
    return rows, labels, done


# ----------------------------------------------------------------------------- mixtures


def _score_all(
    X: np.ndarray, fitted: dict[str, GaussianMixture]
) -> dict[str, tuple[float, np.ndarray, float]]:
    """Total log-likelihood, hard labels (n,) and the classification term of ICL
    (sum over rows of -log of the top posterior) of every row under each mixture.

    One pass over row blocks for all covariance types (the rows stay in cache while
    each model scores them); memory per block is about rows x k x d floats.
    """
    n = X.shape[0]
    k, d = next(iter(fitted.values())).means_.shape
    block = max(256, min(16_384, 2_000_000 // max(1, k * d)))
    ll = dict.fromkeys(fitted, 0.0)
    unsure = dict.fromkeys(fitted, 0.0)
    labels = {c: np.empty(n, dtype=np.intp) for c in fitted}
    for start in range(0, n, block):
        Xb = X[start : start + block]
        for cov, m in fitted.items():
            w = gaussian.weighted_log_prob(Xb, m.weights_, m.means_, m.precisions_cholesky_, cov)
            top = w.max(axis=1, keepdims=True)
            labels[cov][start : start + len(Xb)] = w.argmax(axis=1)
            w -= top
            np.exp(w, out=w)
            # log of the sum = log-likelihood minus the top term = -log max posterior.
            gap = np.log(w.sum(axis=1))
            ll[cov] += float((gap + top[:, 0]).sum())
            unsure[cov] += float(gap.sum())
    return {c: (ll[c], labels[c], unsure[c]) for c in fitted}


def _fit_one_gmm(Xf, raw, k, cov, p, start=None) -> tuple[GaussianMixture, float]:
    """EM from a hard partition ``raw`` (n,) (or warm from ``start``'s parameters),
    raising the regularisation if a covariance collapses.

    A collapse shows as the kernel's typed :class:`~analytics.model.gaussian.
    SingularCovarianceError`; a warm start that collapses falls back to the partition
    ``start`` predicts.
    """
    reg = float(p["reg_covar"]) if start is None else float(start.reg_covar)
    for attempt in range(_GMM_ATTEMPTS):
        try:
            return em(Xf, k, cov, reg, p["tol"], p["max_iter"], labels=raw, start=start), reg
        except gaussian.SingularCovarianceError as exc:
            if start is not None:
                raw, start = start.predict(Xf), None
                continue
            if attempt == _GMM_ATTEMPTS - 1:
                raise gaussian.SingularCovarianceError(
                    f"The Gaussian mixture with {k} segments ({cov} covariance) could not be "
                    "fitted: some segments have no spread in some direction. Try the 'diag' "
                    "or 'spherical' covariance type, or fewer segments."
                ) from exc
            reg *= 1000.0
    raise AssertionError("unreachable")


def _kmeans_starts(Xs: np.ndarray, k: int, seed: int, n: int) -> list[np.ndarray]:
    """``n`` k-means partitions (n_rows,) of ``Xs``: the starts shared by every covariance type.

    Drawn exactly as scikit-learn's ``GaussianMixture(init_params="kmeans", n_init=n,
    random_state=seed)`` draws its starts (one ``KMeans(n_init=1)`` per start from one
    ``RandomState(seed)`` stream), so on the same rows the first starts are the ones
    :func:`analytics.segment` uses. k = 1 has only one partition.
    """
    rs = np.random.RandomState(seed)
    starts = []
    for _ in range(1 if k == 1 else n):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            starts.append(KMeans(n_clusters=k, n_init=1, random_state=rs).fit(Xs).labels_)
    return starts


def _criteria_row(
    scored: dict[str, tuple[float, np.ndarray, float]], k: int, n: int, d: int
) -> tuple[dict[str, Any], str]:
    """BIC, AIC and ICL per covariance type, their best, and the type with the lowest ICL.

    ICL is mclust's ``icl()``: BIC plus twice the sum over rows of ``-log`` of the
    posterior probability of the row's most likely segment (0 for rows assigned with
    certainty; large when segments overlap), in the lower-is-better sign used here.
    """
    row: dict[str, Any] = {}
    for cov, (ll, _, unsure) in scored.items():
        npar = gaussian.n_parameters(k, d, cov)
        # GaussianMixture.bic/aic: -2 * mean log-lik * n + penalty.
        row[f"bic_{cov}"] = float(-2 * ll + npar * np.log(n))
        row[f"aic_{cov}"] = float(-2 * ll + 2 * npar)
        row[f"icl_{cov}"] = row[f"bic_{cov}"] + 2.0 * unsure
    # min() keeps the first of equal values, in the order the types were tried.
    best = min(scored, key=lambda cov: row[f"icl_{cov}"])
    row["bic"] = min(row[f"bic_{cov}"] for cov in scored)
    row["aic"] = min(row[f"aic_{cov}"] for cov in scored)
    row["icl"] = row[f"icl_{best}"]
    row["best_covariance"] = best
    return row, best


@dataclass
class _GmmLog:
    """What the mixture loop reports afterwards: ``"k (type)"`` labels."""

    unconverged: list[str] = field(default_factory=list)
    regularised: list[str] = field(default_factory=list)

    def notes(self, max_iter: int) -> list[str]:
        out = []
        if self.unconverged:
            out.append(
                f"EM did not converge within {max_iter} iterations for k = "
                f"{join_ks(self.unconverged)}; those criteria may improve with more iterations."
            )
        if self.regularised:
            out.append(
                f"Some segments had almost no spread for k = {join_ks(self.regularised)}, so "
                "their covariance was regularised more strongly."
            )
        return out


def _fit_types(Xf, Xs, k, types, starts, p, report, log: _GmmLog) -> dict[str, GaussianMixture]:
    """For each covariance type, the best (highest lower bound) EM over the starts.

    The starts are k-means partitions of ``Xs``. When
    ``Xs`` is ``Xf`` (up to ``EXACT_ROWS`` fit rows), EM runs from every start on every
    fit row and the best is kept: scikit-learn's ``n_init`` procedure. On more rows,
    every start runs EM to convergence on the screening rows ``Xs`` and only the best
    is refined on all of ``Xf`` from its parameters (a warm start: a few iterations).
    """
    fitted: dict[str, GaussianMixture] = {}
    for t_i, cov in enumerate(types):
        report(t_i / len(types), f"Gaussian mixture with k = {k} ({cov} covariance)")
        fits = [_fit_one_gmm(Xs, raw, k, cov, p) for raw in starts]
        model, reg = max(fits, key=lambda f: f[0].lower_bound_)
        if Xs is not Xf:
            model, reg = _fit_one_gmm(Xf, None, k, cov, p, start=model)
        if not model.converged_:
            log.unconverged.append(f"{k} ({cov})")
        if reg != float(p["reg_covar"]):
            log.regularised.append(f"{k} ({cov})")
        fitted[cov] = model
    return fitted


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
    screen = max(SCREEN_ROWS, 10 * max(ks) * d)
    # Screen when the sweep already fits a row sample, or on more than EXACT_ROWS rows.
    big = (sample is not None or len(Xf) > EXACT_ROWS) and len(Xf) > screen
    rows_s = np.sort(rng.choice(len(Xf), screen, replace=False)) if big else None
    Xs = Xf if rows_s is None else Xf[rows_s]
    if Xs is not Xf:
        notes.append(
            f"The {int(p['n_init'])} starts of each mixture were compared on a random "
            f"{len(Xs):,} of the fitted rows; the best was then refined on all of them."
        )
    rows, labels, models, done = {}, {}, {}, []
    log = _GmmLog()
    for i, k in enumerate(ks):
        if should_stop():
            break
        # The starts: k-means partitions of the rows EM starts on (scikit-learn's own
        # starts when those are all the fitted rows).
        starts = _kmeans_starts(Xs, k, seed, int(p["n_init"]))

        def report(share: float, text: str, i: int = i) -> None:
            progress((i + share) / len(ks) * 0.9, text)

        fitted = _fit_types(Xf, Xs, k, types, starts, p, report, log)
        models.update({(k, cov): m for cov, m in fitted.items()})
        scored = _score_all(X, fitted)
        rows[k], best = _criteria_row(scored, k, n, d)
        labels[k] = ordered_labels(scored[best][1], k)
        done.append(k)
    notes.extend(log.notes(p["max_iter"]))
    return rows, labels, models, done


# ----------------------------------------------------------------------------- public API


def _sweep_notes(ks: list[int], done: list[int], sample_size: int | None, n: int) -> list[str]:
    """Sentences on stopping early and on the silhouette sample."""
    notes = []
    if len(done) < len(ks):
        left = [k for k in ks if k not in done]
        notes.append(
            "The sweep was stopped"
            + (f" after k = {done[-1]}" if done else " before any k was fitted")
            + f"; not tried: k = {join_ks(left)}."
        )
    if sample_size is not None:
        notes.append(
            f"Silhouette was computed on a random sample of {sample_size:,} of the {n:,} "
            "rows (the exact value needs every pairwise distance); the same rows for every k."
        )
    return notes


def _with_gap(
    table: pd.DataFrame, X: np.ndarray, method: str, seed: int, p: dict[str, Any]
) -> pd.DataFrame:
    """The gap statistic (``gap``, ``gap_se``) of the method's own objective at every k:
    k-means inertia, or the fuzzy c-means objective (reference fits with the same
    fuzzifier, one start)."""
    column = "inertia" if method == "kmeans" else "objective"
    objective = None
    if method == "fcm":

        def objective(rows: np.ndarray, k: int, s: int) -> float:
            if k == 1:
                return within_ss(rows, 1, s)
            q = {**p, "n_init": 1}
            return float(fit_fcm(rows, k, s, q).summary["objective"])

    gap = gap_statistic(X, table[column].to_dict(), seed, objective=objective)
    table["gap"] = pd.Series({k: g for k, (g, _) in gap.items()}, dtype="float64")
    table["gap_se"] = pd.Series({k: e for k, (_, e) in gap.items()}, dtype="float64")
    return table


def _min_share(params: dict[str, Any]) -> float:
    """The ``min_share`` setting: a fraction in [0, 0.5)."""
    v = params.pop("min_share", DEFAULT_MIN_SHARE)
    ok = isinstance(v, int | float | np.floating | np.integer) and not isinstance(v, bool)
    if not ok or not 0 <= float(v) < 0.5:
        raise InputError(
            f"The minimum segment share must be a fraction between 0 and 0.5 (e.g. 0.02 "
            f"for 2% of the rows), not {v!r}.",
            code="bad_option",
        )
    return float(v)


def _gmm_params(params: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """The covariance types to try, and the other settings with ``n_init`` defaulting to
    :data:`SWEEP_STARTS`."""
    types = covariance_types(params.get("covariance_type"))
    rest = {k: v for k, v in params.items() if k != "covariance_type"}
    rest.setdefault("n_init", SWEEP_STARTS)
    return types, rest


def _gmm_subsample(params: dict[str, Any], p: dict[str, Any]) -> int:
    """The rows EM runs on (settings already validated by ``split_params``)."""
    subsample = int(params.get("subsample", SWEEP_SUBSAMPLE))
    if subsample < 100 or int(p["n_init"]) < 1:
        raise InputError(
            "subsample must be at least 100 rows and n_init at least 1.", code="bad_option"
        )
    return subsample


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
    ks : the numbers of segments to try, e.g. ``range(1, 11)``; whole numbers >= 1
        (k = 1 is "one group": BIC/ICL at k = 1 for mixtures, the gap statistic for
        k-means and FCM)
    method : "kmeans", "fcm" or "gmm"
    columns : feature columns; default: the numeric and categorical ones
    random_state : seed for every random choice (child seeds by ``SeedSequence.spawn``)
    progress : optional callback ``(fraction, text)``, called before each k
    should_stop : optional callable checked before each k; when it returns True the
        sweep ends and the ks fitted so far are returned (``stopped=True``, with a note)
    **params : preparation (``scaling``, ``log_transform``, ``impute``) and model
        settings as for :func:`analytics.model.fit`. For Gaussian mixtures
        ``covariance_type`` may be one type, a list, or "all" (default: all four),
        ``n_init`` defaults to :data:`SWEEP_STARTS` (k-means-seeded starts, compared as
        described in :func:`_fit_types`) and ``subsample`` (default ``SWEEP_SUBSAMPLE``)
        is the number of rows EM runs on. ``min_share`` (default 0.02): a k whose fit
        has a segment with a smaller share of the rows is shown but not recommended.

    Returns
    -------
    KSweep
    """
    method = check_method(method)
    progress = progress or no_progress
    should_stop = should_stop or never_stop
    params = dict(params)
    min_share = _min_share(params)
    types: list[str] = []
    if method == "gmm":
        types, params = _gmm_params(params)
    prep_opts, p = split_params(method, params)
    subsample = _gmm_subsample(params, p) if method == "gmm" else SWEEP_SUBSAMPLE
    progress(0.0, "Preparing features")
    X, preparer, _, method_notes = prepare_for_method(df, method, columns, prep_opts)
    ks_list = check_ks(ks, X)
    notes: list[str] = list(preparer.warnings) + method_notes
    models: dict[tuple[int, str], GaussianMixture] = {}
    if method == "gmm":
        rows, labels, models, done = _sweep_gmm(
            X, ks_list, random_state, p, types, subsample, progress, should_stop, notes
        )
    else:
        rows, labels, done = _sweep_hard(
            method, X, ks_list, random_state, p, progress, should_stop, notes
        )
    progress(0.92, "Silhouette of every k")
    sil, sample_size = mean_silhouettes(X, labels, SILHOUETTE_EXACT_MAX, random_state)
    notes += _sweep_notes(ks_list, done, sample_size, len(X))
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index = pd.Index([int(k) for k in table.index], name="k", dtype="int64")
    if not table.empty:
        table["silhouette"] = pd.Series(sil, dtype="float64")
        table["smallest_share"] = pd.Series(
            {k: float(np.bincount(lab)[1:].min() / len(lab)) for k, lab in labels.items()},
            dtype="float64",
        )
        if method != "gmm":
            progress(0.95, "Gap statistic (comparison with structureless data)")
            table = _with_gap(table, X, method, random_state, p)
    knee_k = objective_knee(method, table)
    decision = recommend(method, table, knee_k, vetoes=(min_share_veto(min_share),))
    reason, warning = explain(decision, table)
    return KSweep(
        method=method,
        ks=list(done),
        table=table,
        recommended_k=decision.k,
        reason=reason,
        warning=warning,
        silhouette_sample_size=sample_size,
        knee_k=knee_k,
        notes=notes,
        labels=labels,
        X=X,
        models=models,
        stopped=len(done) < len(ks_list),
        params={**params, **({"covariance_type": types} if method == "gmm" else {})},
        min_share=min_share,
        random_state=random_state,
        recommendation=decision,
    )


__all__ = [
    "EXACT_ROWS",
    "SCREEN_ROWS",
    "SWEEP_STARTS",
    "SWEEP_SUBSAMPLE",
    "KSweep",
    "ordered_labels",
    "sweep_k",
]
