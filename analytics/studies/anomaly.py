"""``anomaly_scores()``: unusual customers as the rows a Gaussian mixture finds unlikely.

A Gaussian mixture is a density estimator: ``log p(x)`` is high where many
customers look alike and low where almost none do. The rows with the lowest
log density are the anomalies. Each row is explained against its nearest
segment (the one with the highest posterior probability) in that segment's own
units: feature ``j`` is ``(x_j - mu_j) / sqrt(Sigma_jj)`` standard deviations from
the segment's typical value, with ``Sigma`` that component's covariance (so a
feature that varies a lot within a segment needs a bigger gap to be unusual).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from analytics.errors import InputError
from analytics.model.fit import Segmentation, segment
from analytics.studies.mixture import best_k_by_bic, small_components

#: Number of features named in each row's explanation.
N_EXPLAIN = 3
#: Below this many standard deviations no single feature is "far" from typical.
FAR_SD = 2.0

SCORE_COLUMNS = ("log_density", "anomaly_score", "is_anomaly", "nearest_segment", "explanation")


@dataclass(frozen=True)
class AnomalyResult:
    """The result of :func:`fit_anomaly_model`.

    Attributes
    ----------
    scores : DataFrame of shape (n_rows, 5 + 2 * N_EXPLAIN), same index as the input:
        ``log_density``, ``anomaly_score`` (0-100, higher = more unusual),
        ``is_anomaly``, ``nearest_segment`` (1..k), ``explanation`` (plain words),
        ``top_feature_1..3`` and ``top_sd_1..3`` (signed deviation in segment sd)
    segmentation : the fitted Gaussian-mixture :class:`~analytics.model.fit.Segmentation`
    cutoff : log-density cutoff; rows with ``log_density <= cutoff`` are anomalies
    contamination : the share asked for (None when a cutoff was given instead)
    warnings : plain sentences about preparation and fitting
    """

    scores: pd.DataFrame
    segmentation: Segmentation
    cutoff: float
    contamination: float | None
    warnings: list[str] = field(default_factory=list)

    @property
    def n_anomalies(self) -> int:
        """Number of rows flagged."""
        return int(self.scores["is_anomaly"].sum())

    def recut(
        self, contamination: float | None = None, threshold: float | None = None
    ) -> AnomalyResult:
        """The same scores flagged with another share or log-density cutoff (no refit).

        Returns a new result; this one is left unchanged (it may be cached).
        """
        flags, cutoff = flag_lowest(self.scores["log_density"].to_numpy(), contamination, threshold)
        scores = self.scores.copy()
        scores["is_anomaly"] = flags
        return replace(
            self,
            scores=scores,
            cutoff=cutoff,
            contamination=None if threshold is not None else _check_contamination(contamination),
        )

    def table(self) -> pd.DataFrame:
        """The input rows unchanged plus every score column (renamed ``*_model`` on a clash)."""
        data = self.segmentation.data
        taken = {str(c) for c in data.columns}
        renamed = {}
        for c in self.scores.columns:
            name = c
            while name in taken:
                name += "_model"
            renamed[c] = name
        return pd.concat([data, self.scores.rename(columns=renamed)], axis=1)


def _check_contamination(contamination: Any) -> float:
    if contamination is None:
        contamination = 0.01
    if isinstance(contamination, bool) or not isinstance(contamination, int | float | np.number):
        raise InputError(
            f"The share of rows to flag must be a number between 0 and 0.5, got {contamination!r}.",
            code="bad_contamination",
        )
    c = float(contamination)
    if not (0 < c <= 0.5):
        raise InputError(
            f"The share of rows to flag must be above 0 and at most 0.5 (50%), got {c:g}.",
            code="bad_contamination",
        )
    return c


def flag_lowest(
    log_density: np.ndarray, contamination: float | None = 0.01, threshold: float | None = None
) -> tuple[np.ndarray, float]:
    """Flag the lowest-density rows.

    Parameters
    ----------
    log_density : ndarray of shape (n_rows,)
    contamination : share of rows to flag, in (0, 0.5]; the ``ceil(share * n)``
        lowest rows are flagged (rows tied with the last one are flagged too)
    threshold : log-density cutoff used instead of ``contamination`` when given

    Returns
    -------
    flags : bool ndarray of shape (n_rows,), ``log_density <= cutoff``
    cutoff : the cutoff used
    """
    ld = np.asarray(log_density, dtype="float64")
    if threshold is not None:
        if isinstance(threshold, bool) or not np.isfinite(threshold):
            raise InputError(
                f"The log-density cutoff must be a finite number, got {threshold!r}.",
                code="bad_threshold",
            )
        cutoff = float(threshold)
    else:
        c = _check_contamination(contamination)
        # The tiny epsilon keeps 0.01 * 100 (= 1.0000000000000002) at one row.
        m = max(1, math.ceil(c * len(ld) - 1e-9))
        cutoff = float(np.partition(ld, m - 1)[m - 1]) if len(ld) else -np.inf
    return ld <= cutoff, cutoff


def _fmt(v: float) -> str:
    if not np.isfinite(v):
        return str(v)
    a = abs(v)
    if a >= 1e4:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.1f}"
    return f"{v:.3g}"


def _explain(
    seg: Segmentation, comp: np.ndarray, seg_of_row: np.ndarray, n_explain: int
) -> pd.DataFrame:
    """Per-row deviation of each feature from the nearest segment, in that segment's sd.

    Numbers: ``(x_j - mu_cj) / sd_cj`` in the prepared (scaled, possibly logged) space,
    which is the same number of sd as in the original units for unlogged columns.
    Categories: the row's own category is compared with its share in the segment,
    ``(1 - share) / sd`` of that one-hot feature.
    """
    prep, model, X = seg.preparer, seg.model, seg.X
    n = X.shape[0]
    means = model.params["means"]  # (k, p), segment order
    mu = means[comp]  # (n, p)
    sd = model.component_sd()[comp]
    typical = prep.inverse_transform(means)  # (k, n_columns) original units

    names: list[str] = []
    z_cols: list[np.ndarray] = []
    p_num = len(prep.numeric)
    for j, c in enumerate(prep.numeric):
        names.append(c)
        z_cols.append((X[:, j] - mu[:, j]) / sd[:, j])
    offset = p_num
    cat_info = []
    for c in prep.categorical:
        cats = prep.categories[c]
        block = slice(offset, offset + len(cats))
        own = X[:, block].argmax(axis=1)  # the row's category
        rows = np.arange(n)
        share = np.clip(mu[:, block][rows, own], 0.0, 1.0)
        z = (1.0 - mu[:, block][rows, own]) / sd[:, block][rows, own]
        names.append(c)
        z_cols.append(z)
        cat_info.append((c, np.asarray(cats, dtype=object)[own], share))
        offset += len(cats)
    Z = np.column_stack(z_cols) if z_cols else np.zeros((n, 0))
    m = min(n_explain, Z.shape[1])
    top = np.argsort(-np.abs(Z), axis=1, kind="stable")[:, :m]

    raw = {c: _raw_numbers(seg.data, c) for c in prep.numeric}
    typ = {c: typical[c].to_numpy(dtype="float64") for c in prep.numeric}
    cat_lookup = {c: (labels, share) for c, labels, share in cat_info}
    explanations = []
    for i in range(n):
        s = int(seg_of_row[i])
        parts = []
        for f in top[i]:
            c = names[f]
            z = Z[i, f]
            if f < p_num:
                where = "above" if z >= 0 else "below"
                scale = " on a log scale" if c in prep.log_columns else ""
                parts.append(
                    f"{c} {_fmt(raw[c][i])} vs typical {_fmt(typ[c][comp[i]])} in "
                    f"segment {s} ({abs(z):.1f} sd {where}{scale})"
                )
            else:
                labels, share = cat_lookup[c]
                parts.append(
                    f"{c} is '{labels[i]}', {share[i]:.0%} of segment {s} ({abs(z):.1f} sd)"
                )
        text = "; ".join(parts)
        if m and abs(Z[i, top[i, 0]]) < FAR_SD:
            text = "an unusual combination of values rather than one extreme value: " + text
        explanations.append(text)
    out: dict[str, Any] = {"explanation": explanations}
    for r in range(n_explain):
        if r < m:
            out[f"top_feature_{r + 1}"] = np.asarray(names, dtype=object)[top[:, r]]
            out[f"top_sd_{r + 1}"] = np.round(Z[np.arange(n), top[:, r]], 3)
        else:
            out[f"top_feature_{r + 1}"] = np.full(n, None, dtype=object)
            out[f"top_sd_{r + 1}"] = np.full(n, np.nan)
    return pd.DataFrame(out, index=seg.data.index)


def _raw_numbers(df: pd.DataFrame, c: str) -> np.ndarray:
    """The row's own value in original units (NaN where it was missing and imputed)."""
    s = df[c] if c in df.columns else df.rename(columns=str)[c]
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return s.astype("float64").to_numpy(dtype="float64", na_value=np.nan)
    return pd.to_numeric(s.astype("string"), errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan
    )


def fit_anomaly_model(
    df: pd.DataFrame,
    k: int | None,
    columns: Sequence[str] | None = None,
    contamination: float | None = 0.01,
    random_state: int = 0,
    threshold: float | None = None,
    n_explain: int = N_EXPLAIN,
    **params: Any,
) -> AnomalyResult:
    """Fit a Gaussian mixture and score every row; keeps the fitted model for charts.

    Parameters are those of :func:`anomaly_scores`. Returns an :class:`AnomalyResult`.
    """
    if threshold is None:
        _check_contamination(contamination)
    if k is None:
        seg, _ = best_k_by_bic(df, columns=columns, random_state=random_state, **params)
    else:
        seg = segment(df, "gmm", k, columns, random_state, **params)
    return score_segmentation(seg, contamination, threshold, n_explain)


def score_segmentation(
    seg: Segmentation,
    contamination: float | None = 0.01,
    threshold: float | None = None,
    n_explain: int = N_EXPLAIN,
) -> AnomalyResult:
    """Score every row of an already fitted Gaussian mixture (e.g. the Segments page's),
    without fitting again.

    Parameters
    ----------
    seg : a fitted Gaussian-mixture Segmentation of n rows
    contamination, threshold, n_explain : as for :func:`anomaly_scores`

    Returns
    -------
    AnomalyResult whose ``scores`` has n rows, index of ``seg.data``

    Raises
    ------
    InputError
        ``seg`` is not a Gaussian mixture (k-means and fuzzy c-means give no densities).
    """
    if getattr(seg, "method", None) != "gmm":
        raise InputError(
            "Unusual customers are found with a Gaussian mixture: k-means and fuzzy "
            "c-means give no densities. Fit a Gaussian mixture first.",
            code="not_a_mixture",
        )
    if threshold is None:
        _check_contamination(contamination)
    df = seg.data
    ld, comp, nearest, notes = _density(seg)
    flags, cutoff = flag_lowest(ld, contamination, threshold)
    # Percentile of -log density: the share of rows at least as dense as this one,
    # so the least dense row scores 100 and the densest 100 / n.
    order = np.sort(ld)
    n = len(ld)
    at_least_as_dense = n - np.searchsorted(order, ld, side="left")
    scores = pd.DataFrame(
        {
            "log_density": ld,
            "anomaly_score": 100.0 * at_least_as_dense / n,
            "is_anomaly": flags,
            "nearest_segment": nearest.astype("int64"),
        },
        index=df.index,
    )
    scores = pd.concat([scores, _explain(seg, comp, nearest, int(n_explain))], axis=1)
    return AnomalyResult(
        scores=scores,
        segmentation=seg,
        cutoff=cutoff,
        contamination=None if threshold is not None else float(contamination or 0.01),
        warnings=list(seg.warnings) + notes,
    )


def _density(seg: Segmentation) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Log density, nearest segment index (0-based), its segment number, and notes.

    Rows are scored under the mixture without its tiny segments (see
    :func:`~analytics.studies.mixture.small_components`), and explained against the
    nearest remaining one.
    """
    model, X = seg.model, seg.X
    small = small_components(model, X.shape[0])
    if not small.any():
        return seg.log_density(), seg.labels - 1, seg.labels, []
    keep = np.flatnonzero(~small)
    weights = model.params["weights"]
    # Renormalise the kept weights: log w'_j = log w_j - log(sum of kept w).
    lp = model.weighted_log_prob(X)[:, keep] - np.log(weights[keep].sum())
    ld = logsumexp(lp, axis=1)
    comp = keep[lp.argmax(axis=1)]
    tiny = ", ".join(str(j + 1) for j in np.flatnonzero(small))
    sizes = ", ".join(f"{weights[j] * X.shape[0]:.0f}" for j in np.flatnonzero(small))
    note = (
        f"Segment(s) {tiny} hold only about {sizes} row(s): too few to describe customers, "
        "so those rows were scored against the other segments (they are likely outliers)."
    )
    return ld, comp, comp + 1, [note]


def anomaly_scores(
    df: pd.DataFrame,
    k: int | None,
    columns: Sequence[str] | None = None,
    contamination: float | None = 0.01,
    random_state: int = 0,
    threshold: float | None = None,
    **params: Any,
) -> pd.DataFrame:
    """Score how unusual every row is under a Gaussian mixture of ``k`` segments.

    Parameters
    ----------
    df : DataFrame of shape (n_rows, n_columns); never modified
    k : number of mixture components (e.g. the Choose k recommendation);
        None picks it by BIC over 1..8 under the rules of
        :func:`~analytics.studies.mixture.best_k_by_bic`: at least five rows per
        parameter (a simpler covariance type when full has too many parameters, so
        wide tables get diagonal or spherical components) and no degenerate fit
    columns : feature columns; default: the numeric and categorical ones
    contamination : share of rows to flag, in (0, 0.5]: the lowest-density ones
    random_state : seed for the fit
    threshold : a log-density cutoff to use instead of ``contamination``
    **params : preparation and mixture settings of :func:`analytics.model.fit`
        (``scaling``, ``log_transform``, ``covariance_type``, ``n_init`` ...)

    Returns
    -------
    DataFrame of shape (n_rows, 11), index of ``df``: ``log_density``,
    ``anomaly_score`` (percentile of -log density, 0-100], ``is_anomaly``,
    ``nearest_segment`` (1..k, 1 = largest), ``explanation`` (the features that make
    the row unlikely, in original units, with their distance from the segment's
    typical value in that segment's standard deviations), ``top_feature_1..3``
    and ``top_sd_1..3``.
    """
    return fit_anomaly_model(
        df, k, columns, contamination, random_state, threshold, **params
    ).scores


def map_coordinates(
    X: np.ndarray, random_state: int = 0, max_fit_rows: int = 20_000
) -> tuple[np.ndarray, list[float]]:
    """Every row on the anomaly map: the first two principal components of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features), the prepared features
    random_state : seed of the PCA and of the row sample it is fitted on
    max_fit_rows : the PCA is fitted on at most this many random rows (two
        directions are stable long before that), then applied to every row

    Returns
    -------
    xy : ndarray of shape (n_rows, 2); with one feature, that feature and zeros
    explained : share of the variance on each axis, length 2
    """
    # Imported here: scikit-learn's PCA is only needed when a map is drawn.
    from sklearn.decomposition import PCA

    X = np.asarray(X, dtype="float64")
    n = X.shape[0]
    if X.ndim != 2 or n == 0:
        raise InputError(
            f"X must have shape (n_rows, n_features), got {X.shape}.", code="bad_shape"
        )
    if X.shape[1] < 2:
        return np.column_stack([X[:, 0], np.zeros(n)]), [1.0, 0.0]
    rng = np.random.default_rng(random_state)
    fit_rows = X if n <= max_fit_rows else X[rng.choice(n, max_fit_rows, replace=False)]
    pca = PCA(n_components=2, random_state=random_state).fit(fit_rows)
    return pca.transform(X), [float(v) for v in pca.explained_variance_ratio_]
