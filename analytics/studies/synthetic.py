"""``sample_synthetic()``: new, made-up customers drawn from a Gaussian mixture.

A Gaussian mixture fitted to the prepared numbers (scaled, log1p where strongly
skewed, as everywhere) is a generative model: pick a component with probability
``pi_j``, then draw from ``N(mu_j, Sigma_j)``. Draws are mapped back to the input's
columns: numbers unscaled and un-logged, clipped to the observed range and rounded to
the observed precision (so whole numbers stay whole).

Categories (and 0/1 flags), which the mixture leaves out, are drawn **per component**
(a latent-class model): each component's category shares are the training rows'
shares weighted by their posterior probability of that component, missing values
counted as one more category, and a synthetic row draws its category from the shares
of the component it was drawn from. So a channel that explains most of the age
variance in the real table explains most of it in the synthetic one, as far as the
mixture's components follow the channel; categories are independent of each other
*within* a component. (When a table has only categories, the mixture models their
one-hot columns and each draw takes the label with the largest one-hot value.)

Columns that are not features are filled so the table keeps the input's columns
and dtypes without copying anyone's record:

- identifiers get new values (``SYN-000001`` ...; numeric IDs continue after the
  largest real one), so they never collide with real IDs;
- free text and unique text whose name does not say ID (names, emails, notes)
  is left missing;
- other unused columns (dates, codes, columns left out by hand, constants) are
  drawn from their own observed values, independently of everything else, so
  their relationship with the other columns is *not* reproduced.

Missing values in feature columns are reproduced at each column's observed rate,
independently of the other values.

:func:`fidelity_report` compares real and synthetic tables column by column and
:func:`privacy_report` checks that synthetic rows are not copies of real ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.neighbors import NearestNeighbors

from analytics.errors import ColumnError, InputError
from analytics.model.fit import Segmentation, segment
from analytics.model.gaussian import sampling_factors
from analytics.preparation import (
    ID_NAME,
    ROLE_CATEGORICAL,
    ROLE_CODE,
    ROLE_IDENTIFIER,
    ROLE_NUMERIC,
    ROLE_TEXT,
    prepare,
    profile_columns,
    to_numeric,
)
from analytics.studies.mixture import BIC_KS, best_k_by_bic, small_components

#: Most synthetic rows one call may draw.
MAX_ROWS = 1_000_000
#: Most decimals kept when rounding synthetic numbers to the observed precision.
MAX_DECIMALS = 6


# -- column plans -----------------------------------------------------------------
@dataclass(frozen=True)
class _Column:
    """How one input column is regenerated."""

    name: Any  # the input's column label
    kind: str  # "numeric", "categorical", "identifier", "missing", "bootstrap"
    dtype: Any
    missing: float = 0.0  # observed share of missing values
    low: float = 0.0
    high: float = 0.0
    decimals: int = 0
    lookup: dict[str, Any] = field(default_factory=dict)  # category label -> original value
    id_start: int = 1
    # "per_component": the observed values (object array, missing last as None) and
    # each component's shares of them, shape (k, len(values))
    values: Any = None
    shares: Any = None


def _decimals(v: np.ndarray) -> int:
    """Fewest decimals (<= MAX_DECIMALS) that write every observed value exactly."""
    v = v[np.isfinite(v)][:20_000]
    for d in range(MAX_DECIMALS + 1):
        scaled = v * 10.0**d
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-6 * np.maximum(1.0, np.abs(scaled))):
            return d
    return MAX_DECIMALS


def _component_shares(s: pd.Series, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Observed values of ``s`` (missing as a last slot when present) and each
    component's posterior-weighted shares of them, shape (k, n_values)."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    values = list(uniques)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(values), codes)
        values.append(None)
    one_hot = np.zeros((len(codes), len(values)))
    one_hot[np.arange(len(codes)), codes] = 1.0
    weighted = proba.T @ one_hot  # (k, n_values): sum of r_ij over rows with value v
    totals = weighted.sum(axis=1, keepdims=True)
    overall = one_hot.mean(axis=0)
    # An empty component (total 0) falls back to the overall shares.
    shares = np.where(totals > 0, weighted / np.where(totals > 0, totals, 1.0), overall)
    return np.asarray(values, dtype=object), shares


def _plan(df: pd.DataFrame, seg: Segmentation) -> list[_Column]:
    prep = seg.preparer
    left_out = [c for c in seg.profile_preparer.numeric + seg.profile_preparer.categorical
                if c not in prep.numeric and c not in prep.categorical]  # fmt: skip
    roles = dict(zip(profile_columns(df)["column"], profile_columns(df)["role"], strict=True))
    plans = []
    for col in df.columns:
        c = str(col)
        s = df[col]
        missing = float(s.isna().mean()) if len(s) else 0.0
        numeric_id = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        if c in prep.numeric:
            v = to_numeric(s).to_numpy(dtype="float64", na_value=np.nan)
            ok = v[np.isfinite(v)]
            plans.append(
                _Column(
                    col, "numeric", s.dtype, float(np.isnan(v).mean()), float(ok.min()),
                    float(ok.max()), _decimals(ok),
                )
            )  # fmt: skip
        elif c in prep.categorical:
            present = s.dropna()
            lookup = dict(zip(present.astype("string"), present, strict=True))
            plans.append(_Column(col, "categorical", s.dtype, missing, lookup=lookup))
        elif c in left_out:
            values, shares = _component_shares(s, seg.proba)
            plans.append(_Column(col, "per_component", s.dtype, missing, values=values,
                                 shares=shares))  # fmt: skip
        elif roles.get(c) == ROLE_IDENTIFIER and (numeric_id or ID_NAME.search(c)):
            start = 1
            if numeric_id:
                start = int(np.nanmax(s.to_numpy(dtype="float64", na_value=np.nan))) + 1
            plans.append(_Column(col, "identifier", s.dtype, id_start=start))
        elif roles.get(c) in (ROLE_TEXT, ROLE_IDENTIFIER):
            plans.append(_Column(col, "missing", s.dtype, 1.0))
        else:
            plans.append(_Column(col, "bootstrap", s.dtype, missing))
    return plans


# -- the synthesizer ----------------------------------------------------------------
@dataclass(frozen=True)
class Synthesizer:
    """A Gaussian mixture fitted for generating rows like ``segmentation.data``.

    Attributes
    ----------
    segmentation : the fitted Gaussian-mixture :class:`~analytics.model.fit.Segmentation`
    bic : table ``k, bic`` of the components tried (None when k was given)
    warnings : plain sentences about preparation, fitting and left-out segments
    """

    segmentation: Segmentation
    bic: pd.DataFrame | None
    plans: list[_Column]
    warnings: list[str] = field(default_factory=list)

    @property
    def k(self) -> int:
        """Number of mixture components (segments)."""
        return self.segmentation.k

    def sample(
        self, n: int, segments: Sequence[int] | None = None, random_state: int = 0
    ) -> pd.DataFrame:
        """Draw ``n`` shuffled synthetic rows; see :func:`sample_synthetic`."""
        n = _check_n(n)
        seg = self.segmentation
        chosen = _check_segments(segments, seg.k)
        rng = np.random.default_rng(random_state)
        Z, seg_labels = _draw(seg, n, chosen, rng)
        out = {}
        prep = seg.preparer
        offsets = {c: i for i, c in enumerate(prep.numeric)}
        start = len(prep.numeric)
        for c in prep.categorical:
            offsets[c] = start
            start += len(prep.categories[c])
        for j, plan in enumerate(self.plans):
            c = str(plan.name)
            if plan.kind == "numeric":
                col = _decode_numeric(plan, Z[:, offsets[c]], prep, c, rng)
            elif plan.kind == "categorical":
                cats = prep.categories[c]
                block = Z[:, offsets[c] : offsets[c] + len(cats)]
                col = _decode_categorical(
                    plan, np.asarray(cats, dtype=object)[block.argmax(1)], rng
                )
            elif plan.kind == "per_component":
                col = _draw_per_component(plan, seg_labels, rng)
            elif plan.kind == "identifier":
                col = _new_ids(plan, n)
            elif plan.kind == "missing":
                col = pd.Series(pd.NA, index=range(n), dtype=object).astype(plan.dtype)
            else:
                src = seg.data[plan.name]
                col = src.iloc[rng.integers(0, len(src), size=n)].reset_index(drop=True)
            out[j] = col.reset_index(drop=True)
        frame = pd.concat(out, axis=1) if out else pd.DataFrame(index=range(n))
        frame.columns = list(seg.data.columns)
        if chosen is not None:
            frame[seg.output_names(frame.columns)["segment"]] = seg_labels
        return frame


def _check_n(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise InputError(f"The number of rows must be a whole number, got {n!r}.", code="bad_n")
    if not 1 <= int(n) <= MAX_ROWS:
        raise InputError(
            f"The number of rows must be between 1 and {MAX_ROWS:,}, got {int(n):,}.",
            code="bad_n",
        )
    return int(n)


def _check_segments(segments: Sequence[int] | None, k: int) -> list[int] | None:
    if segments is None:
        return None
    try:
        chosen = sorted({int(s) for s in segments})
        bad = [s for s in segments if isinstance(s, bool) or int(s) != s]
    except (TypeError, ValueError):
        chosen, bad = [], [segments]
    if bad or not chosen or chosen[0] < 1 or chosen[-1] > k:
        raise InputError(
            f"Segments to sample from must be numbers between 1 and {k}, got {segments!r}.",
            code="bad_segments",
        )
    return chosen


def _draw(
    seg: Segmentation, n: int, chosen: list[int] | None, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """n draws in prepared space, shuffled, and each draw's segment (1..k)."""
    model = seg.model
    params = model.params
    comps = np.arange(seg.k) if chosen is None else np.asarray(chosen) - 1
    # Tiny segments sit on one or a few real rows: drawing from them would copy those
    # customers, so they are left out (unless they are all that was asked for).
    small = small_components(model, seg.X.shape[0])
    if (~small[comps]).any():
        comps = comps[~small[comps]]
    elif chosen is not None:
        raise InputError(
            f"Segment(s) {', '.join(map(str, chosen))} hold too few customers to sample "
            "from without copying them. Choose larger segments.",
            code="segment_too_small",
        )
    w = params["weights"][comps]
    counts = rng.multinomial(n, w / w.sum())
    means = params["means"]
    p = means.shape[1]
    factors = sampling_factors(params["covariances"], params["covariance_type"], seg.k, p)
    parts, labels = [], []
    for comp, cnt in zip(comps, counts, strict=True):
        if cnt:
            z = rng.standard_normal((cnt, p))
            parts.append(means[comp] + z @ factors[comp].T)
            labels.append(np.full(cnt, comp + 1))
    # Draws come grouped by segment (as scikit-learn's sample() returns them): shuffle.
    perm = rng.permutation(n)
    return np.vstack(parts)[perm], np.concatenate(labels)[perm]


def _with_missing(values: pd.Series, share: float, rng: np.random.Generator) -> pd.Series:
    if share <= 0:
        return values
    return values.mask(rng.random(len(values)) < share)


def _decode_numeric(
    plan: _Column, z: np.ndarray, prep: Any, c: str, rng: np.random.Generator
) -> pd.Series:
    v = z * prep.scale[c] + prep.center[c]
    if c in prep.log_columns:
        v = np.expm1(np.clip(v, None, 700.0))
    v = np.round(np.clip(v, plan.low, plan.high), plan.decimals)
    dtype = plan.dtype
    if pd.api.types.is_bool_dtype(dtype):
        s = pd.Series(v >= 0.5)
        return (
            s
            if plan.missing == 0
            else _with_missing(s.astype("boolean"), plan.missing, rng).astype(dtype)
        )
    s = pd.Series(v)
    if pd.api.types.is_integer_dtype(dtype):
        if plan.missing and not isinstance(dtype, np.dtype):  # nullable Int64 etc.
            return _with_missing(s, plan.missing, rng).astype(dtype)
        return s.astype(dtype)
    if pd.api.types.is_numeric_dtype(dtype):
        return _with_missing(s, plan.missing, rng).astype(dtype)
    # Numbers stored as text: write them back as text at the observed precision.
    text = pd.Series([f"{x:.{plan.decimals}f}" for x in v], dtype="string")
    return _with_missing(text, plan.missing, rng).astype(dtype)


def _decode_categorical(plan: _Column, labels: np.ndarray, rng: np.random.Generator) -> pd.Series:
    values = pd.Series([plan.lookup.get(lbl, lbl) for lbl in labels], dtype=object)
    values = _with_missing(values, plan.missing, rng)
    try:
        return values.astype(plan.dtype)
    except (TypeError, ValueError):
        return values


def _draw_per_component(
    plan: _Column, components: np.ndarray, rng: np.random.Generator
) -> pd.Series:
    """A value for each synthetic row from the shares of the component (1..k) it was
    drawn from (inverse-CDF draws, one uniform per row)."""
    cdf = np.cumsum(plan.shares, axis=1)
    cdf[:, -1] = 1.0  # no rounding gap above the last value
    u = rng.random(len(components))
    picks = (u[:, None] > cdf[components - 1]).sum(axis=1)
    values = pd.Series(plan.values[picks], dtype=object)
    try:
        return values.astype(plan.dtype)
    except (TypeError, ValueError):
        return values


def _new_ids(plan: _Column, n: int) -> pd.Series:
    if pd.api.types.is_numeric_dtype(plan.dtype) and not pd.api.types.is_bool_dtype(plan.dtype):
        return pd.Series(np.arange(plan.id_start, plan.id_start + n)).astype(plan.dtype)
    width = max(6, len(str(n)))
    ids = pd.Series([f"SYN-{i:0{width}d}" for i in range(1, n + 1)], dtype="string")
    try:
        return ids.astype(plan.dtype)
    except (TypeError, ValueError):
        return ids


def fit_synthesizer(
    df: pd.DataFrame,
    k: int | None = None,
    columns: Sequence[str] | None = None,
    random_state: int = 0,
    **params: Any,
) -> Synthesizer:
    """Fit the Gaussian mixture used by :func:`sample_synthetic` (k by BIC when None).

    Preparation is the package default (strongly skewed non-negative numbers on a log
    scale: on the sample data the worst KS statistic drops from 0.24 to 0.09).
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError("Expected a table (a pandas DataFrame).", code="not_a_table")
    if k is None:
        seg, bic = best_k_by_bic(df, BIC_KS, columns, random_state, **params)
    else:
        seg, bic = segment(df, "gmm", k, columns, random_state, **params), None
    return synthesizer_from(seg, bic)


def synthesizer_from(seg: Segmentation, bic: pd.DataFrame | None = None) -> Synthesizer:
    """A :class:`Synthesizer` on an already fitted Gaussian mixture (e.g. the Segments
    page's), drawing rows like ``seg.data`` without fitting again.

    Raises
    ------
    InputError
        ``seg`` is not a Gaussian mixture (only a mixture can draw new rows).
    """
    if getattr(seg, "method", None) != "gmm":
        raise InputError(
            "New rows are drawn from a Gaussian mixture: k-means and fuzzy c-means "
            "cannot generate data. Fit a Gaussian mixture first.",
            code="not_a_mixture",
        )
    df = seg.data
    notes = list(seg.warnings)
    small = small_components(seg.model, seg.X.shape[0])
    if small.any():
        notes.append(
            f"Segment(s) {', '.join(str(j + 1) for j in np.flatnonzero(small))} hold only a few rows "
            "(likely outliers); no rows are drawn from them, so no real outlier is copied."
        )
    return Synthesizer(seg, bic, _plan(df, seg), notes)


def sample_synthetic(
    df: pd.DataFrame,
    n: int,
    k: int | None = None,
    columns: Sequence[str] | None = None,
    random_state: int = 0,
    segments: Sequence[int] | None = None,
    **params: Any,
) -> pd.DataFrame:
    """Draw ``n`` synthetic rows that look like ``df``.

    Parameters
    ----------
    df : DataFrame of shape (n_rows, n_columns); never modified
    n : number of rows to draw, 1..1,000,000
    k : mixture components; None picks the lowest BIC over 1..8
    columns : feature columns modelled jointly; default: the numeric and categorical ones
    random_state : seed for the fit and the draws (same seed, same rows)
    segments : draw only from these segments (1 = largest, as in :func:`analytics.model.fit`)
        and add a ``segment`` column
    **params : preparation and mixture settings of :func:`analytics.model.fit` (the
        same defaults: ``log_transform=True``, automatic for strongly skewed columns)

    Returns
    -------
    DataFrame of shape (n, n_columns) (plus ``segment`` when ``segments`` is given) with
    the input's columns and dtypes, rows shuffled, index 0..n-1.
    """
    _check_n(n)
    synth = fit_synthesizer(df, k, columns, random_state, **params)
    return synth.sample(n, segments, random_state)


# -- fidelity ------------------------------------------------------------------------
def _kinds(real: pd.DataFrame, columns: Sequence[str] | None) -> tuple[list[str], list[str]]:
    prof = profile_columns(real)
    roles = dict(zip(prof["column"], prof["role"], strict=True))
    if columns is None:
        columns = prof.loc[prof["use"], "column"].tolist()
    names = [str(c) for c in columns]
    numeric = [c for c in names if roles.get(c) == ROLE_NUMERIC]
    categorical = [c for c in names if roles.get(c) in (ROLE_CATEGORICAL, ROLE_CODE)]
    return numeric, categorical


def _col(df: pd.DataFrame, c: str) -> pd.Series:
    if c in df.columns:
        return df[c]
    names = {str(x): x for x in df.columns}
    if c not in names:
        raise ColumnError(f"The synthetic table has no column '{c}'.", code="missing_columns")
    return df[names[c]]


def fidelity_report(
    real: pd.DataFrame, synth: pd.DataFrame, columns: Sequence[str] | None = None
) -> dict[str, pd.DataFrame]:
    """How closely ``synth`` reproduces ``real``, column by column.

    Returns
    -------
    dict of DataFrames:

    ``numeric``: per numeric column, ``ks_statistic`` (largest gap between the two
    cumulative distributions, 0 = identical, 1 = disjoint), ``wasserstein_sd`` (earth
    mover's distance in units of the real standard deviation), means, standard
    deviations and missing shares.
    ``categorical``: per column and label, real and synthetic shares and their difference.
    ``correlation``: per pair of numeric columns, real and synthetic Pearson
    correlation and the difference, largest first.
    ``association``: how categories go with the other columns, real and synthetic and
    the difference, largest first: ``eta squared`` for each category x number pair
    (the share of the number's variance explained by the category, 0..1) and
    ``Cramér's V`` for each pair of categories (0 = independent, 1 = one determines
    the other; without continuity correction).
    ``summary``: the worst value of each measure, with the column it comes from.
    """
    numeric, categorical = _kinds(real, columns)
    num_rows = []
    for c in numeric:
        r = to_numeric(_col(real, c)).dropna().to_numpy()
        s = to_numeric(_col(synth, c)).dropna().to_numpy()
        if not len(r) or not len(s):
            continue
        sd = float(np.std(r)) or 1.0
        num_rows.append(
            {
                "column": c,
                "ks_statistic": float(stats.ks_2samp(r, s).statistic),
                "wasserstein_sd": float(stats.wasserstein_distance(r, s) / sd),
                "real_mean": float(np.mean(r)),
                "synthetic_mean": float(np.mean(s)),
                "real_sd": float(np.std(r)),
                "synthetic_sd": float(np.std(s)),
                "real_missing": float(_col(real, c).isna().mean()),
                "synthetic_missing": float(_col(synth, c).isna().mean()),
            }
        )
    num = pd.DataFrame(
        num_rows,
        columns=["column", "ks_statistic", "wasserstein_sd", "real_mean", "synthetic_mean",
                 "real_sd", "synthetic_sd", "real_missing", "synthetic_missing"],
    )  # fmt: skip
    cat_rows = []
    for c in categorical:
        r = _col(real, c).dropna().astype("string").value_counts(normalize=True)
        s = _col(synth, c).dropna().astype("string").value_counts(normalize=True)
        for label in sorted(set(r.index) | set(s.index)):
            rs, ss = float(r.get(label, 0.0)), float(s.get(label, 0.0))
            cat_rows.append(
                {"column": c, "category": str(label), "real_share": rs,
                 "synthetic_share": ss, "difference": ss - rs}
            )  # fmt: skip
    cat = pd.DataFrame(
        cat_rows, columns=["column", "category", "real_share", "synthetic_share", "difference"]
    )
    corr_rows = []
    if len(numeric) >= 2:
        rc = pd.DataFrame({c: to_numeric(_col(real, c)) for c in numeric}).corr()
        sc = pd.DataFrame({c: to_numeric(_col(synth, c)) for c in numeric}).corr()
        for i, a in enumerate(numeric):
            for b in numeric[i + 1 :]:
                corr_rows.append(
                    {"column_a": a, "column_b": b, "real": float(rc.at[a, b]),
                     "synthetic": float(sc.at[a, b]),
                     "difference": float(sc.at[a, b] - rc.at[a, b])}
                )  # fmt: skip
    corr = pd.DataFrame(
        corr_rows, columns=["column_a", "column_b", "real", "synthetic", "difference"]
    )
    if len(corr):
        corr = corr.iloc[np.argsort(-corr["difference"].abs().fillna(0).to_numpy(), kind="stable")]
        corr = corr.reset_index(drop=True)

    assoc = _associations(real, synth, numeric, categorical)

    def worst(frame: pd.DataFrame, value: str, label: Any) -> tuple[float, str]:
        if frame.empty or frame[value].abs().isna().all():
            return float("nan"), ""
        i = frame[value].abs().idxmax()
        return float(abs(frame.at[i, value])), label(frame.loc[i])

    summary = []
    for measure, frame, value, label in (
        ("largest KS statistic", num, "ks_statistic", lambda r: r["column"]),
        ("largest Wasserstein distance (real sd)", num, "wasserstein_sd", lambda r: r["column"]),
        ("largest correlation difference", corr, "difference",
         lambda r: f"{r['column_a']} / {r['column_b']}"),
        ("largest category share difference", cat, "difference",
         lambda r: f"{r['column']} = {r['category']}"),
        ("largest association difference", assoc, "difference",
         lambda r: f"{r['column_a']} / {r['column_b']} ({r['measure']})"),
    ):  # fmt: skip
        v, where = worst(frame, value, label)
        summary.append({"measure": measure, "value": v, "where": where})
    return {
        "numeric": num,
        "categorical": cat,
        "correlation": corr,
        "association": assoc,
        "summary": pd.DataFrame(summary, columns=["measure", "value", "where"]),
    }


def eta_squared(categories: pd.Series, numbers: pd.Series) -> float:
    """Share of the variance of ``numbers`` explained by ``categories`` (0..1):
    between-group sum of squares over total, on rows where both are present; NaN when
    the numbers have no variance."""
    frame = pd.DataFrame({"g": categories.astype("string"), "x": to_numeric(numbers)}).dropna()
    if len(frame) < 2:
        return float("nan")
    x = frame["x"].to_numpy(dtype="float64")
    total = float(((x - x.mean()) ** 2).sum())
    if total <= 0:
        return float("nan")
    groups = frame.groupby("g", observed=True)["x"].agg(["count", "mean"])
    between = float((groups["count"] * (groups["mean"] - x.mean()) ** 2).sum())
    return min(max(between / total, 0.0), 1.0)


def cramers_v(a: pd.Series, b: pd.Series) -> float:
    """Cramér's V of two categorical columns (rows where both are present), 0..1;
    NaN when either has a single value."""
    frame = pd.DataFrame({"a": a.astype("string"), "b": b.astype("string")}).dropna()
    table = pd.crosstab(frame["a"], frame["b"]).to_numpy()
    if min(table.shape) < 2:
        return float("nan")
    return float(stats.contingency.association(table, method="cramer", correction=False))


def _associations(
    real: pd.DataFrame, synth: pd.DataFrame, numeric: list[str], categorical: list[str]
) -> pd.DataFrame:
    rows = []
    for c in categorical:
        for x in numeric:
            r = eta_squared(_col(real, c), _col(real, x))
            s = eta_squared(_col(synth, c), _col(synth, x))
            rows.append({"measure": "eta squared", "column_a": c, "column_b": x,
                         "real": r, "synthetic": s, "difference": s - r})  # fmt: skip
    for i, a in enumerate(categorical):
        for b in categorical[i + 1 :]:
            r = cramers_v(_col(real, a), _col(real, b))
            s = cramers_v(_col(synth, a), _col(synth, b))
            rows.append({"measure": "Cramér's V", "column_a": a, "column_b": b,
                         "real": r, "synthetic": s, "difference": s - r})  # fmt: skip
    out = pd.DataFrame(
        rows, columns=["measure", "column_a", "column_b", "real", "synthetic", "difference"]
    )
    if len(out):
        order = np.argsort(-out["difference"].abs().fillna(0).to_numpy(), kind="stable")
        out = out.iloc[order].reset_index(drop=True)
    return out


# -- privacy -------------------------------------------------------------------------
def privacy_report(
    real: pd.DataFrame,
    synth: pd.DataFrame,
    columns: Sequence[str] | None = None,
    max_rows: int = 5_000,
    quantile: float = 0.01,
    random_state: int = 0,
) -> dict[str, pd.DataFrame]:
    """Are synthetic rows copies of real ones?

    Both tables are put in the same prepared space (real's scaling, one-hot
    categories). For each synthetic row, the distance to the closest real row
    (DCR) is compared with each real row's distance to its closest *other* real
    row. A synthetic row is a near-copy when its DCR is below the ``quantile``
    (default 1%) of the real-to-real distances: closer to a real customer than
    99% of real customers are to each other. A generator that copies nothing has
    about ``quantile`` of its rows below that line by chance; far more means
    memorised records. At most ``max_rows`` rows of each are checked (a random
    sample), always against every real row.

    Returns
    -------
    dict of DataFrames: ``summary`` (measure, value, note), ``distances`` (``source``
    "synthetic to real" or "real to real", ``row`` (index in its table), ``distance``)
    and ``near_copies`` (the synthetic rows below the line, with their DCR).
    """
    if not 0 < quantile < 1:
        raise InputError(f"The quantile must be between 0 and 1, got {quantile!r}.", code="bad_q")
    X_real, prep = prepare(real, columns)
    X_syn = prep.transform(synth.rename(columns=str))
    rng = np.random.default_rng(random_state)
    syn_idx = _subsample(len(X_syn), max_rows, rng)
    real_idx = _subsample(len(X_real), max_rows, rng)
    nn = NearestNeighbors(n_neighbors=min(2, len(X_real))).fit(X_real)
    dcr = nn.kneighbors(X_syn[syn_idx], n_neighbors=1)[0][:, 0]
    if len(X_real) >= 2:
        rr = nn.kneighbors(X_real[real_idx], n_neighbors=2)[0][:, 1]
    else:
        rr = np.array([np.nan])
    line = float(np.nanquantile(rr, quantile))
    near = dcr <= line if line > 0 else dcr <= 1e-9
    exact = dcr <= 1e-9
    n_s = len(dcr)
    summary = pd.DataFrame(
        [
            ("synthetic rows checked", n_s, f"of {len(X_syn):,}"),
            ("median distance, synthetic to closest real", float(np.median(dcr)),
             "prepared units (standard deviations)"),
            ("median distance, real to closest other real", float(np.nanmedian(rr)),
             "the baseline: how close real customers are to each other"),
            ("near-copy line", line, f"{quantile:.0%} of real rows have a real neighbour this close"),
            ("near-copies", int(near.sum()), f"{near.mean():.1%} of checked rows; "
             f"about {quantile:.0%} is expected by chance"),
            ("exact copies", int(exact.sum()), "same values as a real row in every feature"),
        ],
        columns=["measure", "value", "note"],
    )  # fmt: skip
    synth_rows = synth.index.to_numpy()[syn_idx]
    distances = pd.concat(
        [
            pd.DataFrame({"source": "synthetic to real", "row": synth_rows, "distance": dcr}),
            pd.DataFrame({"source": "real to real", "row": real.index.to_numpy()[real_idx],
                          "distance": rr[: len(real_idx)]}),
        ],
        ignore_index=True,
    )  # fmt: skip
    near_copies = synth.loc[synth_rows[near]].assign(distance_to_closest_real=dcr[near])
    return {"summary": summary, "distances": distances, "near_copies": near_copies}


def _subsample(n: int, cap: int, rng: np.random.Generator) -> np.ndarray:
    if n <= cap:
        return np.arange(n)
    return np.sort(rng.choice(n, size=cap, replace=False))


__all__ = [
    "BIC_KS",
    "MAX_ROWS",
    "Synthesizer",
    "best_k_by_bic",
    "cramers_v",
    "eta_squared",
    "fidelity_report",
    "fit_synthesizer",
    "privacy_report",
    "sample_synthetic",
    "synthesizer_from",
]
