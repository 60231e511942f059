"""``segment()``: k-means, fuzzy c-means and Gaussian mixtures behind one result type."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from analytics.constants import COVARIANCE_TYPES, MAX_K, METHOD_NAMES, METHODS
from analytics.errors import InputError
from analytics.model.em import blocked_em, posteriors
from analytics.model.fcm import FuzzyCMeans
from analytics.model.gaussian import (
    SingularCovarianceError,
    estimate_from_labels,
    n_parameters,
    precision_cholesky,
    precisions,
)
from analytics.model.segment_model import (
    SegmentModel,
    check_names,
    labelled_frame,
    output_names,
)
from analytics.preparation import Preparer, PrepOptions, prepare
from analytics.progress import Progress, no_progress

#: Most starts and EM/Lloyd iterations a fit may ask for.
MAX_STARTS = 100
MAX_ITERATIONS = 100_000

_PREP_PARAMS = {"scaling", "log_transform", "impute"}
_MODEL_PARAMS = {
    "kmeans": {"n_init", "max_iter", "tol"},
    "fcm": {"m", "tol", "max_iter", "dtype", "n_init"},
    "gmm": {"covariance_type", "n_init", "max_iter", "reg_covar", "tol", "subsample", "n_jobs"},
}
_DEFAULTS: dict[str, dict[str, Any]] = {
    "kmeans": {"n_init": 4, "max_iter": 300, "tol": 1e-4},
    "fcm": {"m": 2.0, "tol": 1e-4, "max_iter": 300, "dtype": "float64", "n_init": 3},
    # Above `subsample` rows the starts run on a random subsample and only the best
    # start is refined on every row: several starts for about the price of one.
    "gmm": {
        "covariance_type": "full",
        "n_init": 4,
        "max_iter": 200,
        "reg_covar": 1e-6,
        "tol": 1e-3,
        "subsample": 20_000,
        # Threads for the row-block E-step of big tables; None = every available core.
        "n_jobs": None,
    },
}


@dataclass
class Segmentation:
    """The result of :func:`segment`.

    Attributes
    ----------
    method : "kmeans", "fcm" or "gmm"
    k : number of segments
    labels : ndarray of shape (n_rows,), values 1..k, 1 = the largest segment
    proba : ndarray of shape (n_rows, k), rows sum to 1, for internal code (charts,
        ambiguity): GMM posteriors, FCM memberships, k-means one-hot of the nearest
        centre. What a method really gives is :attr:`soft_output` (GMM
        :attr:`probabilities`, FCM :attr:`memberships`, k-means :attr:`distances`)
    names : segment number -> name given by the analyst (default empty; see
        :attr:`segment_names`); kept in the model file
    centers : DataFrame of shape (k, n_columns), index ``segment`` 1..k, original units
    X : ndarray of shape (n_rows, n_features), the prepared features
    preparer : the fitted :class:`~analytics.preparation.Preparer`
    model : the :class:`~analytics.model.segment_model.SegmentModel` (segment order):
        the one scorer behind ``predict``, model files, anomalies and synthetic data
    estimator : the fitted scikit-learn-style estimator (its component ``order[j]``
        is segment j + 1)
    order : ndarray of shape (k,), estimator component of each segment
    described : preparation of every chosen column (see ``profile_preparer``)
    summary : method, parameters, convergence, iterations and fit criteria
    warnings : plain sentences about preparation and fitting
    """

    method: str
    k: int
    labels: np.ndarray
    proba: np.ndarray
    centers: pd.DataFrame
    X: np.ndarray
    preparer: Preparer
    model: SegmentModel
    estimator: Any
    order: np.ndarray
    data: pd.DataFrame
    described: Preparer | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    _distances: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def names(self) -> dict[int, str]:
        """Segment number -> name given by the analyst (segments without one are absent)."""
        return self.model.names

    @names.setter
    def names(self, value: dict[int, str]) -> None:
        # Stored on the model so that save() and model files keep the names.
        self.model.names = check_names(value, self.k)

    @property
    def segment_names(self) -> dict[int, str]:
        """Name of every segment 1..k: the analyst's name, else "Segment j"."""
        return self.model.segment_names

    @property
    def probabilities(self) -> np.ndarray | None:
        """Posterior probability of each segment, shape (n_rows, k) (Gaussian mixtures
        only; None for k-means and fuzzy c-means, which give no probabilities)."""
        return self.proba if self.method == "gmm" else None

    @property
    def memberships(self) -> np.ndarray | None:
        """Fuzzy membership of each segment, shape (n_rows, k), rows sum to 1 (fuzzy
        c-means only; not calibrated probabilities). None for other methods."""
        return self.proba if self.method == "fcm" else None

    @property
    def distances(self) -> np.ndarray | None:
        """Euclidean distance of every row to every segment's centre, shape (n_rows, k),
        in prepared units (k-means only; None for other methods)."""
        if self.method != "kmeans":
            return None
        if self._distances is None:
            self._distances = self.model.distances_of(self.X)
        return self._distances

    @property
    def soft_output(self) -> np.ndarray:
        """What :meth:`table` writes per segment, shape (n_rows, k): probabilities
        (GMM), memberships (FCM) or distances to the centres (k-means)."""
        if self.method == "kmeans":
            return self.distances
        return self.proba

    @property
    def soft_name(self) -> str:
        """ "probability", "membership" or "distance": what :attr:`soft_output` holds."""
        return {"gmm": "probability", "fcm": "membership", "kmeans": "distance"}[self.method]

    @property
    def degenerate(self) -> list[str]:
        """Codes of the ways this fit is degenerate (see :func:`degenerate_reasons`)."""
        return list(self.summary.get("degenerate", []))

    @property
    def profile_preparer(self) -> Preparer:
        """Preparation of every column the analyst chose, for profiles: for a Gaussian
        mixture it also holds the categories left out of the model."""
        return self.described or self.preparer

    @property
    def columns(self) -> list[str]:
        """The input columns used as features."""
        return self.model.columns

    @property
    def feature_names(self) -> list[str]:
        """Names of the prepared features (columns of ``X``)."""
        return self.model.feature_names

    @property
    def sizes(self) -> np.ndarray:
        """Rows per segment, shape (k,), segment 1 first."""
        return np.bincount(self.labels, minlength=self.k + 1)[1:]

    def output_names(self, existing: Sequence[Any] = ()) -> dict[str, Any]:
        """Names of the added columns (``segment``, ``segment_name``, ``top``, ``soft``),
        renamed with a suffix if the input already uses them."""
        return output_names(existing, self.k, self.method)

    def table(
        self, probability_decimals: int | None = None, names: dict[int, str] | None = None
    ) -> pd.DataFrame:
        """The input frame unchanged plus ``segment``, ``segment_name`` and the method's
        soft output.

        Gaussian mixture: ``segment_probability`` and ``prob_segment_1..k``; fuzzy
        c-means: ``segment_membership`` and ``membership_segment_1..k``; k-means:
        ``distance_segment_1..k`` (Euclidean distance to each centre in prepared units,
        i.e. standard deviations of the scaled features). Shape (n_rows, n_columns + 2
        + k), one more for GMM and FCM.

        Parameters
        ----------
        probability_decimals : round only the added soft values (downloads use 6: full
            17-digit floats would make a million-row file ~40% larger for nothing)
        names : segment number -> name for ``segment_name``; default :attr:`names`
        """
        names = self.names if names is None else check_names(names, self.k)
        return labelled_frame(
            self.data, self.labels, self.soft_output, probability_decimals, self.method, names
        )

    def predict_proba(self, new_df: pd.DataFrame) -> np.ndarray:
        """Soft assignment of new rows, shape (n_new, k), rows sum to 1, segment order:
        GMM probabilities, FCM memberships, k-means one-hot of the nearest centre."""
        return self.model.predict_proba(_as_frame(new_df))

    def predict(self, new_df: pd.DataFrame) -> pd.DataFrame:
        """``new_df`` plus the same added columns as :meth:`table`."""
        return self.model.predict(_as_frame(new_df))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model as one JSON file (no pickle), segment names included; reopen
        with ``analytics.load_model``."""
        self.model.save(path)

    def log_density(self, new_df: pd.DataFrame | None = None) -> np.ndarray:
        """Log-density of rows under the mixture (GMM only), shape (n_rows,)."""
        if new_df is None:
            return self.model.log_density_of(self.X)
        return self.model.log_density(_as_frame(new_df))


def _as_frame(df: Any) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise InputError("Expected a table (a pandas DataFrame).", code="not_a_table")
    return df


def split_params(method: str, params: dict[str, Any]) -> tuple[PrepOptions, dict[str, Any]]:
    """Preparation options and complete, validated model settings from ``**params``."""
    unknown = set(params) - _PREP_PARAMS - _MODEL_PARAMS[method]
    if unknown:
        allowed = sorted(_PREP_PARAMS | _MODEL_PARAMS[method])
        raise InputError(
            f"Unknown setting(s) for {METHOD_NAMES[method]}: {', '.join(sorted(unknown))}. "
            f"Allowed: {', '.join(allowed)}.",
            code="bad_option",
        )
    prep = PrepOptions(**{k: v for k, v in params.items() if k in _PREP_PARAMS})
    model = dict(_DEFAULTS[method])
    model.update({k: v for k, v in params.items() if k in _MODEL_PARAMS[method]})
    _check_settings(method, model)
    return prep, model


def accepted_settings(method: str) -> frozenset[str]:
    """Names of the ``**params`` that :func:`segment` accepts for ``method`` (preparation
    and model settings)."""
    return frozenset(_PREP_PARAMS | _MODEL_PARAMS[check_method(method)])


def _whole(v: Any, low: int) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool) and int(v) >= low


def _real(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
        return None
    f = float(v)
    return f if np.isfinite(f) else None


def _check_settings(method: str, p: dict[str, Any]) -> None:
    """Validate model settings here, in words, so a ValueError raised while fitting can
    only mean a numerical problem (never a setting scikit-learn rejects in its words)."""
    code = "bad_fcm_setting" if method == "fcm" else "bad_option"

    def bad(text: str, value: Any) -> InputError:
        return InputError(f"{text}, got {value!r}.", code=code)

    # Upper bounds too: a huge count would run (and hold a server core) practically forever.
    for name, most in (("n_init", MAX_STARTS), ("max_iter", MAX_ITERATIONS)):
        if not _whole(p[name], 1) or int(p[name]) > most:
            raise bad(f"The setting {name} must be a whole number from 1 to {most:,}", p[name])
    tol = _real(p["tol"])
    if tol is None or tol < 0:
        raise bad("The setting tol must be a number of at least 0", p["tol"])
    if method == "fcm":
        m = _real(p["m"])
        if m is None or not 1.0 < m <= 1e6:
            raise bad("The fuzzifier m must be a number greater than 1 (2 is usual)", p["m"])
        if p["dtype"] not in ("float64", "float32"):
            raise bad("The setting dtype must be 'float64' or 'float32'", p["dtype"])
    if method == "gmm":
        if p["covariance_type"] not in COVARIANCE_TYPES:
            raise InputError(
                f"Covariance type must be one of {', '.join(COVARIANCE_TYPES)}, "
                f"not {p['covariance_type']!r}.",
                code="bad_option",
            )
        reg = _real(p["reg_covar"])
        if reg is None or reg < 0:
            raise bad("The setting reg_covar must be a number of at least 0", p["reg_covar"])
        if not _whole(p["subsample"], 2):
            raise bad("The setting subsample must be a whole number of at least 2", p["subsample"])
        jobs = p["n_jobs"]
        if jobs is not None and (not _whole(jobs, -1024) or jobs == 0):
            raise bad("The setting n_jobs must be a whole number of threads (or None)", p["n_jobs"])


def check_method(method: Any) -> str:
    """Return the method name, or raise InputError listing the allowed ones."""
    if method not in METHODS:
        raise InputError(
            f"Unknown method {method!r}. Choose one of: kmeans (k-means), fcm (fuzzy c-means), "
            "gmm (Gaussian mixture).",
            code="bad_method",
        )
    return str(method)


def check_k(k: Any, X: np.ndarray) -> int:
    """Validate the number of segments against the prepared data (n, p)."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise InputError(f"The number of segments must be a whole number, got {k!r}.", code="bad_k")
    k = int(k)
    n = X.shape[0]
    if k < 1 or k > MAX_K:
        raise InputError(
            f"The number of segments must be between 1 and {MAX_K}, got {k}.", code="bad_k"
        )
    if k > n:
        raise InputError(
            f"There are only {n} row(s), fewer than the {k} segments asked for. "
            "Choose fewer segments or load more data.",
            code="too_few_rows",
        )
    distinct = count_distinct(X, k)
    if distinct < k:
        raise InputError(
            f"The data have only {distinct} distinct customer profile(s) in the chosen "
            f"columns, so they cannot be split into {k} segments. Choose at most "
            f"{distinct} segments or add columns.",
            code="too_few_distinct",
        )
    return k


def count_distinct(X: np.ndarray, at_least: int) -> int:
    """Distinct rows of X, stopping early once ``at_least`` are seen in a prefix."""
    head = X[: min(len(X), 20_000)]
    n_head = len(pd.DataFrame(head).drop_duplicates())
    if n_head >= at_least or len(head) == len(X):
        return n_head
    return len(pd.DataFrame(X).drop_duplicates())


def segment(
    df: pd.DataFrame,
    method: str,
    k: int,
    columns: Sequence[str] | None = None,
    random_state: int = 0,
    progress: Progress | None = None,
    roles: dict[str, str] | None = None,
    **params: Any,
) -> Segmentation:
    """Segment the rows of ``df`` into ``k`` groups.

    Parameters
    ----------
    df : DataFrame of shape (n_rows, n_columns); never modified
    method : "kmeans", "fcm" or "gmm"
    k : number of segments
    columns : feature columns; default: the numeric and categorical ones
    random_state : seed for every random choice
    progress : optional callback ``(fraction, text)`` for long fits
    roles : column roles from an earlier ``profile_columns(df)`` (skips re-profiling)
    **params : preparation (``scaling``, ``log_transform``, ``impute``) and model
        settings (k-means: ``n_init, max_iter, tol``; FCM: ``m, tol, max_iter,
        dtype``; GMM: ``covariance_type, n_init, max_iter, reg_covar, tol,
        subsample, n_jobs``), named as in scikit-learn

    Returns
    -------
    Segmentation
    """
    method = check_method(method)
    progress = progress or no_progress
    prep_opts, model_params = split_params(method, params)
    progress(0.05, "Preparing features")
    X, preparer, described, fit_warnings = prepare_for_method(df, method, columns, prep_opts, roles)
    k = check_k(k, X)
    progress(0.15, f"Fitting {METHOD_NAMES[method]} with {k} segments")
    floor = preparer.variance_floor(0.0) if method == "gmm" else None
    try:
        fit = fit_estimator(method, X, k, random_state, model_params, progress, floor=floor)
    except SingularCovarianceError as exc:
        raise SingularCovarianceError(
            "The Gaussian mixture could not be fitted: some segments have no spread "
            "in some direction (for example many identical rows). Try the 'diag' or "
            "'spherical' covariance type, or fewer segments."
        ) from exc
    model, raw_proba = fit.estimator, fit.soft
    fit_warnings.extend(fit.notes)
    summary: dict[str, Any] = {
        "method": method,
        "method_name": METHOD_NAMES[method],
        "k": k,
        "n_rows": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "columns": preparer.numeric + preparer.categorical,
        "random_state": random_state,
        "params": {**model_params, **{k_: getattr(prep_opts, k_) for k_ in _PREP_PARAMS}},
        **fit.summary,
    }
    if not summary["converged"]:
        fit_warnings.append(
            f"The {METHOD_NAMES[method]} did not converge within {model_params['max_iter']} "
            "iterations; the result may change with more iterations (raise max_iter)."
        )
    progress(0.9, "Ordering segments by size")
    raw_labels = raw_proba.argmax(axis=1)
    counts = np.bincount(raw_labels, minlength=k)
    order = np.argsort(-counts, kind="stable")  # segment j+1 is model component order[j]
    proba = _permute_columns(raw_proba, order)
    rank = np.empty(k, dtype=int)
    rank[order] = np.arange(k)
    labels = rank[raw_labels] + 1
    centers = preparer.inverse_transform(_model_centers(model, method)[order])
    centers.index = pd.RangeIndex(1, k + 1, name="segment")
    empty = int((counts == 0).sum())
    if empty:
        fit_warnings.append(
            f"{empty} segment(s) ended up with no customers; fewer segments may suit the data."
        )
    summary["sizes"] = np.bincount(labels, minlength=k + 1)[1:].tolist()
    summary["one_hot_only"] = bool(method == "gmm" and not preparer.numeric)
    codes = degenerate_reasons(
        fit, reg_covar=summary.get("reg_covar_used"), one_hot_only=summary["one_hot_only"]
    )
    summary["degenerate"] = codes
    tied_up = (
        collapsed_features(model, preparer.feature_names) if "covariance_at_floor" in codes else []
    )
    fit_warnings.extend(
        degenerate_warnings(codes, method, k, X.shape[0], X.shape[1], model_params, tied_up)
    )
    all_warnings = list(preparer.warnings) + fit_warnings
    scorer = SegmentModel.from_estimator(method, model, order, preparer, summary, all_warnings)
    progress(1.0, "Done")
    return Segmentation(
        method=method,
        k=k,
        labels=labels,
        proba=proba,
        centers=centers,
        X=X,
        preparer=preparer,
        model=scorer,
        estimator=model,
        order=order,
        data=df,
        described=described,
        summary=summary,
        warnings=all_warnings,
    )


def _permute_columns(a: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``a[:, order]`` in place, block by block, so no second (n, k) array is needed."""
    for start in range(0, a.shape[0], 65_536):
        block = a[start : start + 65_536]
        block[:] = block[:, order]
    return a


def prepare_for_method(
    df: pd.DataFrame,
    method: str,
    columns: Sequence[str] | None,
    options: PrepOptions,
    roles: dict[str, str] | None = None,
) -> tuple[np.ndarray, Preparer, Preparer, list[str]]:
    """Prepare ``df`` the way ``method`` models it.

    A Gaussian mixture models numeric columns only: within a segment a one-hot column
    is nearly constant, so its variance collapses to ``reg_covar`` and the categories
    alone decide every probability (all ~1.0). Categories are then left out of the
    model (with a warning) but kept in ``described`` so profiles still show them.

    Returns
    -------
    X : ndarray (n, p) for the model; preparer : its Preparer; described : the
    Preparer of every chosen column; warnings : plain sentences
    """
    X, preparer = prepare(_as_frame(df), columns, options, roles)
    described = preparer
    notes: list[str] = []
    flags = [c for c in preparer.flags if method == "gmm"]
    if len(flags) == len(preparer.numeric):
        flags = []  # only flags: they are all the mixture has (each with a variance floor)
    if method == "gmm" and preparer.numeric and (preparer.categorical or flags):
        left_out = list(preparer.categorical)
        keep = [j for j, c in enumerate(preparer.numeric) if c not in flags]
        # Numeric features lead the prepared matrix: keep that block, no second preparation.
        preparer = preparer.numeric_only(drop=flags)
        X = np.ascontiguousarray(X[:, keep])
        if left_out:
            notes.append(
                "Gaussian mixtures describe numeric columns only, so the categories "
                + ", ".join(f"'{c}'" for c in left_out)
                + " were left out of the mixture (with them every probability would be ~100%). "
                "Use k-means or fuzzy c-means to segment on categories too."
            )
        if flags:
            notes.append(
                "The yes/no columns "
                + ", ".join(f"'{c}'" for c in flags)
                + " hold only two values, so the Gaussian mixture treats them like categories "
                "and leaves them out (a bell curve on two values makes segments of zero "
                "spread); the segment profiles still show them."
            )
    return X, preparer, described, notes


def _model_centers(model: Any, method: str) -> np.ndarray:
    return model.means_ if method == "gmm" else model.cluster_centers_


@dataclass
class Fit:
    """One fitted estimator on prepared rows, before segments are ordered by size.

    Attributes
    ----------
    estimator : the fitted KMeans, FuzzyCMeans or GaussianMixture
    soft : ndarray of shape (n, k), component order: GMM posteriors, FCM memberships,
        k-means one-hot of the nearest centre
    summary : convergence, iterations and the method's criteria (plain numbers)
    notes : plain sentences about the fit (e.g. stronger regularisation)
    """

    estimator: Any
    soft: np.ndarray
    summary: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def child_seeds(random_state: int, n: int) -> list[int]:
    """``n`` independent seeds derived from ``random_state`` (``SeedSequence.spawn``),
    rather than ``random_state + i``, whose streams overlap between calls."""
    children = np.random.SeedSequence(int(random_state)).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


def fit_estimator(
    method: str,
    X: np.ndarray,
    k: int,
    random_state: int,
    params: dict[str, Any],
    progress: Progress | None = None,
    floor: np.ndarray | None = None,
) -> Fit:
    """Fit ``method`` with ``k`` components on prepared rows ``X`` (n, p).

    ``params`` are complete model settings (see :func:`split_params`); no validation
    of X or k here (the public edge, :func:`segment`, does that). ``floor`` (p,) is the
    per-feature variance floor of a mixture (``Preparer.variance_floor``).
    """
    if method == "kmeans":
        return fit_kmeans(X, k, random_state, params)
    if method == "fcm":
        return fit_fcm(X, k, random_state, params)
    return fit_gmm(X, k, random_state, params, progress or no_progress, floor=floor)


def fit_kmeans(X: np.ndarray, k: int, seed: int, p: dict[str, Any]) -> Fit:
    """k-means++ with ``p["n_init"]`` starts (scikit-learn's KMeans)."""
    with warnings.catch_warnings():
        # An intended outcome on data with fewer distinct rows than starts: reported
        # through ``converged`` instead.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = KMeans(
            n_clusters=k,
            init="k-means++",
            n_init=p["n_init"],
            max_iter=p["max_iter"],
            tol=p["tol"],
            random_state=seed,
        ).fit(X)
    summary = {
        "converged": bool(model.n_iter_ < p["max_iter"]),
        "n_iter": int(model.n_iter_),
        "inertia": float(model.inertia_),
    }
    return Fit(model, np.eye(k)[model.labels_], summary)


def fit_fcm(X: np.ndarray, k: int, seed: int, p: dict[str, Any]) -> Fit:
    """Fuzzy c-means with fuzzifier ``p["m"]`` and ``p["n_init"]`` starts."""
    model = FuzzyCMeans(
        n_clusters=k,
        m=p["m"],
        tol=p["tol"],
        max_iter=p["max_iter"],
        random_state=seed,
        dtype=p["dtype"],
        n_init=p["n_init"],
    ).fit(X)
    summary = {
        "converged": bool(model.converged_),
        "n_iter": int(model.n_iter_),
        "objective": float(model.objective_),
        "partition_coefficient": float(model.partition_coefficient_),
        "partition_entropy": float(model.partition_entropy_),
        "xie_beni": float(model.xie_beni_),
    }
    # A copy: the memberships are reordered in place later; the model keeps its own.
    return Fit(model, model.membership_.copy(), summary)


def fit_gmm(
    X: np.ndarray,
    k: int,
    seed: int,
    p: dict[str, Any],
    progress: Progress = no_progress,
    floor: np.ndarray | None = None,
) -> Fit:
    """A Gaussian mixture by EM; a collapsed covariance is retried with 1000x the
    regularisation, up to three times (the type of the error decides, not its text).

    ``floor`` (p,) gives features a variance floor above ``reg_covar`` (whole-number
    columns: ``resolution**2 / 12``, see ``Preparer.variance_floor``). EM is
    equivariant under rescaling a feature, so the floor is imposed by fitting on
    ``X * a`` with ``a = sqrt(reg_covar / floor)`` (there scikit-learn's one
    ``reg_covar`` is each feature's floor) from k-means starts computed on ``X``, and
    mapping the parameters back. Spherical covariances have one variance per component
    and take no per-feature floor.
    """
    reg = float(p["reg_covar"])
    notes: list[str] = []
    for attempt in range(4):
        try:
            if (
                floor is not None
                and reg > 0
                and p["covariance_type"] != "spherical"
                and bool((floor > reg).any())
            ):
                model, strategy = _floored_gmm_em(X, k, seed, p, reg, floor, progress)
            else:
                model, strategy = _gmm_em(X, k, seed, p, reg, progress)
            break
        except SingularCovarianceError:
            if attempt == 3:
                raise
            reg *= 1000.0
    if reg != float(p["reg_covar"]):
        notes.append(
            f"Some segments had almost no spread (e.g. duplicated rows), so the covariance was "
            f"regularised more strongly (reg_covar={reg:g}); 'diag' or fewer segments may fit better."
        )
    n = X.shape[0]
    # Posteriors block by block: no (n, k) temporaries besides the result itself.
    proba, ll = posteriors(X, model, n_jobs=p.get("n_jobs"))
    n_params = n_parameters(k, X.shape[1], p["covariance_type"])
    summary = {
        "converged": bool(model.converged_),
        "n_iter": int(model.n_iter_),
        "log_likelihood": ll,
        "bic": float(-2.0 * ll + n_params * np.log(n)),
        "aic": float(-2.0 * ll + 2.0 * n_params),
        "reg_covar_used": reg,
        "strategy": strategy,
    }
    return Fit(model, proba, summary, notes)


def _floored_gmm_em(X, k, seed, p, reg, floor, progress) -> tuple[GaussianMixture, str]:
    """EM with per-feature variance floors ``max(reg, floor)`` (see :func:`fit_gmm`)."""
    a = np.sqrt(reg / np.maximum(floor, reg))  # (p,), <= 1; 1 where only reg applies
    n = X.shape[0]
    sub = int(p["subsample"])
    cov_type = p["covariance_type"]
    rows = np.arange(n) if n <= sub else np.random.default_rng(seed).choice(n, sub, replace=False)
    X_rows = X[rows]
    Xs_rows = X_rows * a
    best: GaussianMixture | None = None
    n_init = int(p["n_init"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for i, child in enumerate(child_seeds(seed, n_init)):
            progress(0.15 + 0.45 * i / n_init, f"Start {i + 1} of {n_init}")
            # The start is k-means in prepared units (as scikit-learn's default start),
            # so the floor never makes discrete columns count less when starting.
            labels = KMeans(n_clusters=k, n_init=1, random_state=child).fit(X_rows).labels_
            w, mu, cov = estimate_from_labels(Xs_rows, labels, k, cov_type, reg)
            try:
                cand = GaussianMixture(
                    n_components=k,
                    covariance_type=cov_type,
                    reg_covar=reg,
                    tol=p["tol"],
                    max_iter=p["max_iter"],
                    init_params="random_from_data",  # replaced by the three inits below
                    weights_init=w / w.sum(),
                    means_init=mu,
                    precisions_init=precisions(cov, cov_type),
                    random_state=child,
                ).fit(Xs_rows)
            except (ValueError, np.linalg.LinAlgError) as exc:
                raise SingularCovarianceError() from exc
            if best is None or cand.lower_bound_ > best.lower_bound_:
                best = cand
    assert best is not None
    model = best
    if n > sub:
        progress(0.65, f"Refining the best start on all {n:,} rows")
        model = blocked_em(
            X * a, best, reg_covar=reg, tol=p["tol"], max_iter=p["max_iter"],
            n_jobs=p.get("n_jobs"),
        )  # fmt: skip
    _unscale_mixture(model, a)
    floored = int((floor > reg).sum())
    where = f"all {n:,} rows" if n <= sub else f"a random sample of {sub:,} rows, refined on all"
    strategy = (
        f"{n_init} k-means start(s) of EM on {where}; {floored} whole-number feature(s) "
        "with a variance floor of one step squared / 12"
    )
    return model, strategy


def _unscale_mixture(gm: GaussianMixture, a: np.ndarray) -> None:
    """Map a mixture fitted on ``X * a`` back to ``X``'s units (documented attributes)."""
    cov_type = gm.covariance_type
    gm.means_ = gm.means_ / a
    if cov_type == "full":
        gm.covariances_ = gm.covariances_ / np.outer(a, a)[None]
    elif cov_type == "tied":
        gm.covariances_ = gm.covariances_ / np.outer(a, a)
    else:  # diag
        gm.covariances_ = gm.covariances_ / a**2
    gm.precisions_cholesky_ = precision_cholesky(gm.covariances_, cov_type)
    gm.precisions_ = precisions(gm.covariances_, cov_type)
    # log p(x) = log p_a(x * a) + sum(log a): the bound per row shifts by that constant.
    gm.lower_bound_ = float(gm.lower_bound_ + np.log(a).sum())


def _gmm_em(X, k, seed, p, reg, progress) -> tuple[GaussianMixture, str]:
    """EM with ``n_init`` starts: on all rows up to ``subsample`` rows; above, the starts
    run on a random subsample and the best is refined on every row by blocked EM."""
    n = X.shape[0]
    n_init = int(p["n_init"])
    sub = int(p["subsample"])
    common = dict(n_components=k, covariance_type=p["covariance_type"], reg_covar=reg, tol=p["tol"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if n <= sub:
            try:
                model = GaussianMixture(
                    **common, n_init=n_init, max_iter=p["max_iter"], random_state=seed
                ).fit(X)
            except ValueError as exc:
                # Settings were validated by split_params, so a ValueError here can only
                # be scikit-learn's "ill-defined empirical covariance".
                raise SingularCovarianceError() from exc
            return model, f"{n_init} start(s) of EM on all {n:,} rows"
        rng = np.random.default_rng(seed)
        idx = rng.choice(n, size=sub, replace=False)
        best: GaussianMixture | None = None
        for i, child in enumerate(child_seeds(seed, n_init)):
            progress(0.15 + 0.45 * i / n_init, f"Start {i + 1} of {n_init} on a {sub:,}-row sample")
            try:
                cand = GaussianMixture(
                    **common, n_init=1, max_iter=p["max_iter"], random_state=child
                ).fit(X[idx])
            except ValueError as exc:
                raise SingularCovarianceError() from exc
            if best is None or cand.lower_bound_ > best.lower_bound_:
                best = cand
        assert best is not None
        progress(0.65, f"Refining the best start on all {n:,} rows")
        model = blocked_em(
            X,
            best,
            reg_covar=reg,
            tol=p["tol"],
            max_iter=p["max_iter"],
            n_jobs=p.get("n_jobs"),
            progress=lambda it, ll: progress(
                min(0.65 + 0.02 * it, 0.88), f"Refining on all {n:,} rows: iteration {it}"
            ),
        )
        strategy = (
            f"{n_init} start(s) of EM on a random sample of {sub:,} rows; the best start "
            f"was refined on all {n:,} rows by EM over row blocks"
        )
        return model, strategy


# --------------------------------------------------------------------------- degenerate fits

#: A covariance eigenvalue within this factor of the regularisation floor means the
#: component has (almost) no spread in some direction: it sits on duplicated rows.
FLOOR_FACTOR = 10.0
#: Fuzzy c-means memberships count as collapsed (every row ~1/k in every segment) when
#: the modified partition coefficient ``(k * PC - 1) / (k - 1)`` is below this.
COLLAPSED_MPC = 0.05

#: The codes :func:`degenerate_reasons` returns, with the sentence and advice of each.
DEGENERATE_CODES = {
    "covariance_at_floor": "some segment has no spread in some direction: its covariance "
    "reached the regularisation floor (for example a segment of identical rows), so its "
    "probabilities are ~100% for reasons of arithmetic, not of customers",
    "component_smaller_than_parameters": "some segment holds fewer customers than it has "
    "parameters, so its shape is not estimated from data",
    "more_parameters_than_rows": "the model has more parameters than there are customers",
    "one_hot_only": "the mixture has only category (yes/no) features, on which a Gaussian "
    "mixture has no spread to measure",
    "fcm_collapsed": "the fuzzy memberships collapsed: every customer belongs about "
    "equally to every segment (partition coefficient close to 1/k)",
    "empty_segment": "some segment ended up with no customers",
}


def suggested_fuzzifier(n_rows: int, n_features: int) -> float:
    """Fuzzifier m for fuzzy c-means from the data's size and dimension.

    Schwämmle & Jensen (2010, Bioinformatics 26:2841), as in Mfuzz's ``mestimate``:
    ``m = 1 + (1418/N + 22.05) D^-2 + (12.33/N + 0.243) D^(-0.0406 ln N - 0.1134)``,
    the smallest m at which random data of that size shows no clusters; in many
    dimensions the usual m = 2 is far above it, so every membership becomes 1/k.
    """
    n, d = float(max(n_rows, 2)), float(max(n_features, 1))
    return float(
        1.0
        + (1418.0 / n + 22.05) * d**-2
        + (12.33 / n + 0.243) * d ** (-0.0406 * np.log(n) - 0.1134)
    )


def degenerate_reasons(
    fit: Any,
    n_rows: int | None = None,
    reg_covar: float | None = None,
    one_hot_only: bool | None = None,
) -> list[str]:
    """The ways a fit is degenerate, as codes (keys of :data:`DEGENERATE_CODES`).

    Parameters
    ----------
    fit : a :class:`Segmentation`, a :class:`Fit`, or a fitted ``GaussianMixture``,
        ``FuzzyCMeans`` or ``KMeans``
    n_rows : rows the estimator was fitted on (taken from a Segmentation or Fit; for a
        bare estimator, without it the size checks are skipped)
    reg_covar : the regularisation used (default: the fit's ``reg_covar_used``, else the
        estimator's ``reg_covar``)
    one_hot_only : the mixture's features are all one-hot columns

    Returns
    -------
    list of str, empty for a sound fit. Mixtures: ``covariance_at_floor`` (smallest
    eigenvalue of a component's covariance, in prepared units, within
    :data:`FLOOR_FACTOR` of ``reg_covar``; a whole-number feature held at its
    resolution floor ``step**2 / 12`` is a segment on one value, not a collapse, and is
    far above it), ``component_smaller_than_parameters``
    (``n * weight_j`` below a component's own parameter count), ``more_parameters_than_rows``,
    ``one_hot_only``; fuzzy c-means: ``fcm_collapsed`` (modified partition coefficient
    below :data:`COLLAPSED_MPC`); any method: ``empty_segment``.
    """
    estimator, soft, summary = fit, None, {}
    if isinstance(fit, Segmentation):
        estimator, soft, summary = fit.estimator, fit.proba, fit.summary
    elif isinstance(fit, Fit):
        estimator, soft, summary = fit.estimator, fit.soft, fit.summary
    if n_rows is None and soft is not None:
        n_rows = int(soft.shape[0])
    if one_hot_only is None:
        one_hot_only = bool(summary.get("one_hot_only", False))
    codes: list[str] = []
    if isinstance(estimator, GaussianMixture):
        codes += _mixture_reasons(estimator, n_rows, reg_covar, summary)
        if one_hot_only:
            codes.append("one_hot_only")
    elif isinstance(estimator, FuzzyCMeans):
        k = int(estimator.n_clusters)
        pc = float(estimator.partition_coefficient_)
        if k > 1 and (k * pc - 1.0) / (k - 1.0) < COLLAPSED_MPC:
            codes.append("fcm_collapsed")
    if soft is not None and soft.shape[1] > 1:
        counts = np.bincount(soft.argmax(axis=1), minlength=soft.shape[1])
        if (counts == 0).any():
            codes.append("empty_segment")
    return codes


def _mixture_reasons(
    gm: GaussianMixture,
    n_rows: int | None,
    reg_covar: float | None,
    summary: dict[str, Any],
) -> list[str]:
    k, d = gm.means_.shape
    cov_type = gm.covariance_type
    reg = float(reg_covar if reg_covar is not None else summary.get("reg_covar_used", gm.reg_covar))
    reg = max(reg, 1e-12)
    cov = np.asarray(gm.covariances_)
    if cov_type == "full":
        smallest = min(float(np.linalg.eigvalsh(c)[0]) for c in cov)
    elif cov_type == "tied":
        smallest = float(np.linalg.eigvalsh(cov)[0])
    elif cov_type == "diag":
        smallest = float(cov.min())
    else:
        smallest = float(cov.min())
    codes = []
    if smallest <= FLOOR_FACTOR * reg:
        codes.append("covariance_at_floor")
    if n_rows is not None:
        own = {"full": d * (d + 1) // 2, "tied": 0, "diag": d, "spherical": 1}[cov_type]
        per_component = d + own + 1
        if (np.asarray(gm.weights_) * n_rows < per_component).any():
            codes.append("component_smaller_than_parameters")
        if n_parameters(k, d, cov_type) >= n_rows:
            codes.append("more_parameters_than_rows")
    return codes


def collapsed_features(gm: Any, feature_names: Sequence[str]) -> list[str]:
    """The features along a mixture's flattest direction when it mixes several of them
    (e.g. a total and its parts, equal within some segment), else []."""
    if not isinstance(gm, GaussianMixture) or gm.covariance_type not in ("full", "tied"):
        return []
    cov = np.asarray(gm.covariances_)
    mats = cov if gm.covariance_type == "full" else cov[None]
    eig = [np.linalg.eigh(c) for c in mats]
    j = int(np.argmin([w[0] for w, _ in eig]))
    v = np.abs(eig[j][1][:, 0])
    top = np.argsort(-v, kind="stable")
    chosen = [int(t) for t in top if v[t] >= 0.3]
    return [str(feature_names[t]) for t in chosen] if len(chosen) >= 2 else []


def degenerate_warnings(
    codes: Sequence[str],
    method: str,
    k: int,
    n_rows: int,
    n_features: int,
    params: dict[str, Any],
    tied_up: Sequence[str] = (),
) -> list[str]:
    """One plain sentence per degeneracy code, with what to do about it; ``tied_up``
    names features that are an exact combination of each other within a segment."""
    out = []
    cov = params.get("covariance_type")
    simpler = {"full": "'diag' or 'tied'", "tied": "'diag'", "diag": "'spherical'"}.get(cov)
    for code in codes:
        if code == "empty_segment":
            continue  # worded by segment() itself, with the count
        text = f"This fit is degenerate: {DEGENERATE_CODES[code]}. "
        if code == "fcm_collapsed":
            m_new = suggested_fuzzifier(n_rows, n_features)
            m = float(params.get("m", 2.0))
            if m_new < m:
                text += (
                    f"Use a smaller fuzzifier m: about {m_new:.2f} suits {n_rows:,} rows and "
                    f"{n_features} features (Schwämmle & Jensen 2010), or fewer features."
                )
            else:
                text += "Use fewer segments, or k-means."
        elif code == "one_hot_only":
            text += "Add numeric columns, or use k-means or fuzzy c-means for categories."
        else:
            fixes = ["fewer segments" if k > 1 else "more rows or fewer columns"]
            if simpler:
                fixes.append(f"a simpler covariance type ({simpler})")
            if code == "covariance_at_floor":
                fixes.append("removing duplicated rows")
                if tied_up:
                    fixes.append(
                        "leaving out one of "
                        + ", ".join(f"'{c}'" for c in tied_up)
                        + " (within a segment one is an exact combination of the others, "
                        "such as a total and its parts)"
                    )
            text += "Try " + ", or ".join(fixes) + "."
        out.append(text)
    return out
