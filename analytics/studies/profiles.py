"""What sets each segment apart: profiles, effect sizes, plain descriptions,
targeting and 2-D projections (with Gaussian ellipses) for the Segments page.

Everything here is pure (no Streamlit) and works on a fitted
:class:`~analytics.model.fit.Segmentation`. Means are reported in the original
units of the analyst's columns (missing values left out), so a profile reads
like the table that was uploaded, not like the scaled matrix the model saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from analytics.errors import ColumnError, InputError
from analytics.model.fit import Segmentation
from analytics.model.gaussian import full_covariances
from analytics.model.segment_model import labelled_frame
from analytics.preparation import to_numeric

__all__ = [
    "Projection",
    "STRENGTH_NAMES",
    "ambiguous_rows",
    "assignment_strength",
    "centres_and_profiles",
    "count_phrase",
    "describe_segment",
    "describe_segments",
    "difference_phrase",
    "effect_sizes",
    "ellipse_points",
    "feature_profile",
    "format_number",
    "format_share",
    "profile_comparison",
    "projection_2d",
    "readable_name",
    "segment_profiles",
    "strength_name",
    "suggest_names",
    "target_mask",
    "target_rows",
    "top_effects",
]

#: |Cohen's d| from which a feature is "higher"/"lower", and "much higher"/"much lower".
D_NOTABLE = 0.5
D_LARGE = 1.0
#: Share difference (segment minus rest) from which a category level is mentioned.
SHARE_NOTABLE = 0.25
#: Smallest number of points any segment keeps in a sampled 2-D view.
MIN_POINTS_PER_SEGMENT = 30


# --------------------------------------------------------------------------- helpers


def _column(seg: Segmentation, name: str) -> pd.Series:
    """The input column ``name`` (the preparer uses ``str`` names)."""
    for c in seg.data.columns:
        if str(c) == name:
            return seg.data[c]
    raise ColumnError(f"'{name}' is not a column of the segmented table.", code="unknown_columns")


def _group_stats(x: np.ndarray, labels: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """Per-segment count, mean and sample variance of ``x`` (NaN left out).

    Returns arrays of shape (k,) for segments 1..k, plus the same three numbers
    for every row together (shape ()). Sums run on values centred on the overall
    mean so large offsets (e.g. incomes near 1e6) do not cancel digits.
    """
    ok = ~np.isnan(x)
    xs, lab = x[ok], labels[ok]
    n_all = xs.size
    mu = xs.mean() if n_all else np.nan
    c = xs - mu
    cnt = np.bincount(lab, minlength=k + 1)[1:].astype("float64")
    s1 = np.bincount(lab, weights=c, minlength=k + 1)[1:]
    s2 = np.bincount(lab, weights=c * c, minlength=k + 1)[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_c = s1 / cnt
        var = (s2 - cnt * mean_c**2) / (cnt - 1)
    var_all = float(c @ c / (n_all - 1)) if n_all > 1 else np.nan
    return cnt, mean_c + mu, np.maximum(var, 0.0), float(n_all), float(mu), var_all


def _category_frame(seg: Segmentation, name: str) -> tuple[np.ndarray, list[str]]:
    """One-hot (n, levels) of a categorical feature as uploaded (missing = no level)."""
    s = _column(seg, name).astype("string")
    levels = list(seg.profile_preparer.categories.get(name) or sorted(s.dropna().unique()))
    values = s.to_numpy(dtype=object, na_value=None)
    onehot = values[:, None] == np.asarray(levels, dtype=object)[None, :]
    return onehot.astype("float64"), levels


def _check_segment(seg: Segmentation, segment: object) -> int:
    if isinstance(segment, bool) or not isinstance(segment, int | np.integer):
        raise InputError(
            f"The segment must be a whole number, got {segment!r}.", code="bad_segment"
        )
    if not 1 <= int(segment) <= seg.k:
        raise InputError(
            f"There is no segment {segment}: segments are numbered 1 to {seg.k}.",
            code="bad_segment",
        )
    return int(segment)


# --------------------------------------------------------------------------- profiles


def feature_profile(seg: Segmentation) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-segment means and their z-scores, for numbers and category levels.

    Parameters
    ----------
    seg : a fitted Segmentation with k segments

    Returns
    -------
    means : DataFrame of shape (k, n_items), index ``segment`` 1..k; one column per
        numeric feature (mean in original units) and per category level
        ``"col=value"`` (share of the segment's rows with that value)
    z : DataFrame of the same shape: ``(segment mean - overall mean) / overall SD``.
        For a level the SD is ``sqrt(p (1 - p))`` of its overall share ``p``.
        Items without spread get 0.
    """
    k, labels = seg.k, seg.labels
    means: dict[str, np.ndarray] = {}
    z: dict[str, np.ndarray] = {}
    for c in seg.preparer.numeric:
        x = to_numeric(_column(seg, c)).to_numpy(dtype="float64", na_value=np.nan)
        _, m, _, _, mu, var_all = _group_stats(x, labels, k)
        sd = np.sqrt(var_all) if np.isfinite(var_all) else 0.0
        means[c] = m
        z[c] = (m - mu) / sd if sd > 0 else np.zeros(k)
    counts = np.bincount(labels, minlength=k + 1)[1:].astype("float64")
    for c in seg.profile_preparer.categorical:
        onehot, levels = _category_frame(seg, c)
        p_all = onehot.mean(axis=0)
        for i, v in enumerate(levels):
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.bincount(labels, weights=onehot[:, i], minlength=k + 1)[1:] / counts
            sd = np.sqrt(p_all[i] * (1 - p_all[i]))
            means[f"{c}={v}"] = share
            z[f"{c}={v}"] = (share - p_all[i]) / sd if sd > 0 else np.zeros(k)
    index = pd.RangeIndex(1, k + 1, name="segment")
    zf = pd.DataFrame(z, index=index, columns=list(means)).fillna(0.0)
    return pd.DataFrame(means, index=index, columns=list(means)), zf


def segment_profiles(seg: Segmentation) -> pd.DataFrame:
    """One row per segment: size, share, means, most common categories, z-scores.

    Parameters
    ----------
    seg : a fitted Segmentation with k segments

    Returns
    -------
    DataFrame of shape (k, ...) with index ``segment`` 1..k and columns
    ``size``, ``share`` (0..1), then for each numeric feature ``"<col> mean"``
    (original units, missing values left out) and ``"<col> z-score"`` (segment
    mean vs overall, in overall standard deviations), and for each categorical
    feature ``"<col> most common"`` and ``"<col> most common share"``.
    """
    means, z = feature_profile(seg)
    sizes = seg.sizes
    out = pd.DataFrame(
        {"size": sizes, "share": sizes / max(int(sizes.sum()), 1)}, index=means.index
    )
    for c in seg.preparer.numeric:
        out[f"{c} mean"] = means[c]
    for c in seg.preparer.numeric:
        out[f"{c} z-score"] = z[c]
    for c in seg.profile_preparer.categorical:
        block = means[[f"{c}={v}" for v in seg.profile_preparer.categories[c]]].fillna(0.0)
        top = block.to_numpy().argmax(axis=1)
        out[f"{c} most common"] = [seg.profile_preparer.categories[c][i] for i in top]
        out[f"{c} most common share"] = block.to_numpy()[np.arange(len(block)), top]
    return out


def centres_and_profiles(seg: Segmentation) -> pd.DataFrame:
    """The download of segment centres and profiles: one row per segment.

    Returns
    -------
    DataFrame of shape (k, ...) with a ``segment`` column, the columns of
    :func:`segment_profiles` and the model centres in original units as
    ``"<col> centre"`` (for log-transformed columns the centre is on the log
    scale the model used, mapped back, so it sits below the mean).
    """
    out = segment_profiles(seg)
    centres = seg.centers.copy()
    centres.columns = [f"{c} centre" for c in centres.columns]
    centres.index = out.index
    return pd.concat([out, centres], axis=1).reset_index()


def effect_sizes(seg: Segmentation) -> pd.DataFrame:
    """How far each feature sets each segment apart from the rest of the rows.

    Numeric features get Cohen's d, ``(mean_segment - mean_rest) / s_pooled`` with
    ``s_pooled**2 = ((n1 - 1) s1**2 + (n0 - 1) s0**2) / (n1 + n0 - 2)`` (missing
    values left out). Category levels get the share difference
    ``share_segment - share_rest`` (a number between -1 and 1).

    Parameters
    ----------
    seg : a fitted Segmentation with k segments

    Returns
    -------
    DataFrame in long form, one row per (segment, item), with columns
    ``segment, feature, level, kind ("numeric" or "category"), segment_value,
    rest_value, effect``; ``level`` is empty for numeric features. Sorted by
    segment, then by ``|effect|`` (largest first) within each kind.
    """
    k, labels = seg.k, seg.labels
    rows: list[dict[str, object]] = []
    for c in seg.preparer.numeric:
        x = to_numeric(_column(seg, c)).to_numpy(dtype="float64", na_value=np.nan)
        cnt, mean, var, n_all, mu, _ = _group_stats(x, labels, k)
        ok = ~np.isnan(x)
        tot_ss = float(((x[ok] - mu) ** 2).sum())
        for j in range(k):
            n1 = cnt[j]
            n0 = n_all - n1
            if n1 < 1 or n0 < 1:
                d, m0 = np.nan, np.nan
            else:
                m1 = mean[j]
                m0 = (n_all * mu - n1 * m1) / n0
                ss1 = var[j] * (n1 - 1) if n1 > 1 else 0.0
                # Rest's sum of squares from the total: SS_tot = SS1 + SS0 + n1 (m1-mu)^2 + n0 (m0-mu)^2
                ss0 = max(tot_ss - ss1 - n1 * (m1 - mu) ** 2 - n0 * (m0 - mu) ** 2, 0.0)
                dof = n1 + n0 - 2
                sp = np.sqrt((ss1 + ss0) / dof) if dof > 0 else 0.0
                d = (m1 - m0) / sp if sp > 0 else 0.0
            rows.append(
                dict(segment=j + 1, feature=c, level="", kind="numeric",
                     segment_value=mean[j], rest_value=m0, effect=d)
            )  # fmt: skip
    counts = np.bincount(labels, minlength=k + 1)[1:].astype("float64")
    n = float(len(labels))
    for c in seg.profile_preparer.categorical:
        onehot, levels = _category_frame(seg, c)
        totals = onehot.sum(axis=0)
        for i, v in enumerate(levels):
            in_seg = np.bincount(labels, weights=onehot[:, i], minlength=k + 1)[1:]
            with np.errstate(invalid="ignore", divide="ignore"):
                p1 = in_seg / counts
                p0 = (totals[i] - in_seg) / (n - counts)
            for j in range(k):
                rows.append(
                    dict(segment=j + 1, feature=c, level=v, kind="category",
                         segment_value=p1[j], rest_value=p0[j], effect=p1[j] - p0[j])
                )  # fmt: skip
    out = pd.DataFrame(
        rows,
        columns=["segment", "feature", "level", "kind", "segment_value", "rest_value", "effect"],
    )
    if out.empty:
        return out
    out["_abs"] = out["effect"].abs().fillna(-1.0)
    out = out.sort_values(
        ["segment", "kind", "_abs"], ascending=[True, False, False], kind="stable"
    )
    return out.drop(columns="_abs").reset_index(drop=True)


def top_effects(
    effects: pd.DataFrame, segment: int, n_numeric: int = 3, n_category: int = 2
) -> pd.DataFrame:
    """The items that set ``segment`` apart most, for its card.

    Numbers and category levels are ranked separately (Cohen's d and share
    differences are on different scales): the ``n_numeric`` numeric features with
    the largest ``|d|``, then the ``n_category`` levels with the largest
    ``|share difference|``.

    Parameters
    ----------
    effects : the result of :func:`effect_sizes`
    segment : segment number

    Returns
    -------
    DataFrame with the columns of ``effects``, at most ``n_numeric + n_category`` rows
    """
    mine = effects[effects["segment"] == segment]
    order = mine["effect"].abs().fillna(-1.0).sort_values(ascending=False, kind="stable").index
    mine = mine.loc[order]
    num = mine[mine["kind"] == "numeric"].head(n_numeric)
    cat = mine[mine["kind"] == "category"].head(n_category)
    return pd.concat([num, cat]).reset_index(drop=True)


def _word(d: float) -> str | None:
    if not np.isfinite(d) or abs(d) < D_NOTABLE:
        return None
    if d >= D_LARGE:
        return "much higher"
    if d > 0:
        return "higher"
    return "much lower" if d <= -D_LARGE else "lower"


def _readable(name: str) -> str:
    """A column's name inside a sentence: underscores become spaces and every word
    capitalised only at its start is lowered ("Annual_Income" -> "annual income";
    acronyms such as "CLV" stay)."""
    words = " ".join(str(name).replace("_", " ").split()).split(" ")
    return " ".join(w.lower() if w[:1].isupper() and w[1:].islower() else w for w in words)


def describe_segment(
    seg: Segmentation,
    segment: int,
    max_features: int = 3,
    effects: pd.DataFrame | None = None,
) -> str:
    """A plain one-line description of a segment.

    Example: ``"higher annual income, much lower spending score; 18% of customers"``.
    Numeric features are named when ``|d| >= 0.5`` ("higher"/"lower") or
    ``|d| >= 1.0`` ("much higher"/"much lower"), largest first; a category level
    is named ("mostly region North") when it is the segment's majority and its
    share is at least 25 points above the rest's.

    Parameters
    ----------
    seg : a fitted Segmentation
    segment : segment number, 1..k
    max_features : at most this many features are named
    effects : the result of :func:`effect_sizes` (computed if not given)

    Returns
    -------
    str
    """
    segment = _check_segment(seg, segment)
    eff = effect_sizes(seg) if effects is None else effects
    eff = eff[eff["segment"] == segment]
    phrases: list[tuple[float, str]] = []
    for r in eff[eff["kind"] == "numeric"].itertuples():
        w = _word(float(r.effect))
        if w:
            phrases.append((abs(float(r.effect)), f"{w} {_readable(r.feature)}"))
    for r in eff[eff["kind"] == "category"].itertuples():
        if r.segment_value >= 0.5 and r.effect >= SHARE_NOTABLE:
            # Put a share difference on d's scale so the strongest items come first.
            strength = 2.0 * float(r.effect) / 0.5
            phrases.append((strength, f"mostly {_readable(r.feature)} {r.level}"))
    phrases.sort(key=lambda t: -t[0])
    share = seg.sizes[segment - 1] / max(len(seg.labels), 1)
    pct = f"{share:.0%}" if share >= 0.01 or share == 0 else "under 1%"
    head = ", ".join(p for _, p in phrases[: max(int(max_features), 0)])
    if not head:
        head = "close to the average on every feature"
    return f"{head}; {pct} of customers"


# --------------------------------------------------------------------------- business words

#: Ratios to the average within this band read "about the average" (not "1.0x").
RATIO_SAME = 0.05
#: Words for a low / high value of a few common customer columns, matched on the words
#: of the column's readable name; every other column reads "low <name>" / "high <name>".
_SPECIAL_WORDS: tuple[tuple[str, tuple[str, str]], ...] = (
    ("age", ("young", "older")),
    ("recency", ("recent", "lapsed")),
    ("days since", ("recent", "lapsed")),
    ("frequency", ("infrequent", "frequent")),
    ("visits", ("infrequent", "frequent")),
    ("tenure", ("new", "long-standing")),
)


def readable_name(name: object) -> str:
    """A column name as an analyst would write it: underscores and dots become spaces,
    runs of spaces collapse, the first letter is upper case ("annual_income" ->
    "Annual income"; "Spending Score (1-100)" stays as it is)."""
    text = " ".join(str(name).replace("_", " ").replace(".", " ").split())
    return text[:1].upper() + text[1:] if text else str(name)


def _decimals(scale: float) -> int:
    """Decimals that show three significant digits of a quantity of size ``scale``
    (at most 6; none at 100 and above)."""
    if not np.isfinite(scale) or scale <= 0:
        return 2
    return int(min(max(2 - np.floor(np.log10(scale)), 0), 6))


def format_number(value: float, scale: float | None = None) -> str:
    """A number for a card: thousands separators, rounding to the size of the
    quantity, never scientific notation, and "0" for anything that rounds to 0.

    Parameters
    ----------
    value : the number (NaN gives "–")
    scale : typical size of the quantity (e.g. the column's standard deviation);
        decimals follow it, so a mean of 1.9e-15 on a column of spread 1 is "0".
        Default: ``|value|`` itself.

    Returns
    -------
    str, e.g. "12,510", "38.9", "0.456", "0"
    """
    v = float(value)
    if not np.isfinite(v):
        return "–"
    d = _decimals(abs(v) if scale is None else float(scale))
    rounded = round(v, d)
    if rounded == 0:
        return "0"
    return f"{rounded:,.{d}f}"


def format_share(share: float) -> str:
    """A share 0..1 as a whole percentage ("43%"), "under 1%" for small non-zero shares."""
    s = float(share)
    if not np.isfinite(s):
        return "–"
    if 0 < s < 0.005:
        return "under 1%"
    return f"{s:.0%}"


def count_phrase(n: int, noun: str = "customer") -> str:
    """``n`` with its noun in the right number: "1 customer", "2,000 customers"."""
    n = int(n)
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def difference_phrase(value: float, average: float, kind: str, scale: float | None = None) -> str:
    """How a segment's value compares with the average customer's, in words.

    Numbers that are positive on both sides give a ratio ("2.4x the average",
    "0.6x the average", "about the average" within 5%); otherwise the difference in
    the column's units ("+12.5 vs the average"). Category shares give the
    difference in percentage points ("+12 points").
    """
    v, a = float(value), float(average)
    if not (np.isfinite(v) and np.isfinite(a)):
        return "–"
    if kind == "category":
        pts = round(100 * (v - a))
        return "about the average" if pts == 0 else f"{pts:+d} points"
    if v > 0 and a > 0:
        ratio = v / a
        if abs(ratio - 1) < RATIO_SAME:
            return "about the average"
        return f"{ratio:.1f}× the average" if ratio < 10 else f"{ratio:,.0f}× the average"
    diff = format_number(v - a, scale if scale is not None else max(abs(v), abs(a)))
    if diff == "0":
        return "about the average"
    return f"{'+' if v > a else ''}{diff} vs the average"


def profile_comparison(
    seg: Segmentation,
    segment: int,
    effects: pd.DataFrame | None = None,
    n_numeric: int = 4,
    n_category: int = 2,
) -> pd.DataFrame:
    """The segment against the average customer on the items that set it apart most,
    in original units: what the segment's card and profile chart show.

    Parameters
    ----------
    seg : a fitted Segmentation
    segment : segment number, 1..k
    effects : the result of :func:`effect_sizes` (computed if not given)
    n_numeric, n_category : at most this many numeric features and category levels,
        ranked by ``|Cohen's d|`` and ``|share difference|`` (see :func:`top_effects`)

    Returns
    -------
    DataFrame of shape (n_items, 9): ``feature`` (the column), ``label`` (readable,
    "Gender: Female" for a level), ``kind``, ``segment_value`` and ``average`` (means
    in original units; shares 0..1 for levels), ``effect`` (d or share difference),
    and the card's text ``segment_text``, ``average_text``, ``difference``
    """
    segment = _check_segment(seg, segment)
    eff = effect_sizes(seg) if effects is None else effects
    top = top_effects(eff, segment, n_numeric, n_category)
    labels = seg.labels
    rows = []
    for r in top.itertuples():
        if r.kind == "category":
            onehot, levels = _category_frame(seg, r.feature)
            avg = float(onehot[:, levels.index(r.level)].mean()) if r.level in levels else np.nan
            rows.append(
                dict(feature=r.feature, label=f"{readable_name(r.feature)}: {r.level}",
                     kind="category", segment_value=float(r.segment_value), average=avg,
                     effect=float(r.effect), segment_text=format_share(r.segment_value),
                     average_text=format_share(avg),
                     difference=difference_phrase(r.segment_value, avg, "category"))
            )  # fmt: skip
            continue
        x = to_numeric(_column(seg, r.feature)).to_numpy(dtype="float64", na_value=np.nan)
        _, _, _, _, mu, var_all = _group_stats(x, labels, seg.k)
        # Decimals follow the column's spread, so a mean within rounding of 0 reads "0".
        scale = float(np.sqrt(var_all)) if np.isfinite(var_all) and var_all > 0 else abs(mu)
        scale = max(scale, abs(mu) / 100) if np.isfinite(mu) else scale
        rows.append(
            dict(feature=r.feature, label=readable_name(r.feature), kind="numeric",
                 segment_value=float(r.segment_value), average=float(mu),
                 effect=float(r.effect), segment_text=format_number(r.segment_value, scale),
                 average_text=format_number(mu, scale),
                 difference=difference_phrase(r.segment_value, mu, "numeric", scale))
        )  # fmt: skip
    cols = ["feature", "label", "kind", "segment_value", "average", "effect",
            "segment_text", "average_text", "difference"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def describe_segments(
    seg: Segmentation, effects: pd.DataFrame | None = None, max_features: int = 3
) -> list[str]:
    """:func:`describe_segment` of every segment, made distinct: while two segments
    read the same, both name one more feature; segments still alike after every
    feature get their number ("... (segment 3)").

    Returns
    -------
    list of k strings, segment 1 first
    """
    eff = effect_sizes(seg) if effects is None else effects
    n_items = max(int(eff.groupby("segment").size().max()) if len(eff) else 0, max_features)
    width = {j: max_features for j in range(1, seg.k + 1)}
    out = {j: describe_segment(seg, j, width[j], eff) for j in width}
    while True:
        groups: dict[str, list[int]] = {}
        for j, text in out.items():
            groups.setdefault(text, []).append(j)
        clash = [js for js in groups.values() if len(js) > 1]
        grow = [j for js in clash for j in js if width[j] < n_items]
        if not grow:
            break
        for j in grow:
            width[j] += 1
            out[j] = describe_segment(seg, j, width[j], eff)
    seen: dict[str, int] = {}
    for text in out.values():
        seen[text] = seen.get(text, 0) + 1
    return [
        out[j] if seen[out[j]] == 1 else out[j].replace(";", f" (segment {j});", 1)
        for j in range(1, seg.k + 1)
    ]


def _name_words(name: str) -> str:
    """A column's name for a segment name: readable, lower case, no bracketed unit
    ("Annual Income (k$)" -> "annual income")."""
    base = str(name).split("(")[0] if "(" in str(name) and not str(name).startswith("(") else name
    return readable_name(base).lower() or readable_name(name).lower()


def _numeric_phrase(feature: str, d: float) -> tuple[str, str]:
    """("adjective", "young") for a column with its own words, else ("amount", "high income")."""
    words = _name_words(feature)
    padded = f" {words} "
    for key, (low, high) in _SPECIAL_WORDS:
        if f" {key} " in padded:
            return "adjective", high if d > 0 else low
    return "amount", f"{'high' if d > 0 else 'low'} {words}"


def suggest_names(
    seg: Segmentation, effects: pd.DataFrame | None = None, max_parts: int = 2
) -> dict[int, str]:
    """A short business name for every segment from its profile, all different.

    Each name joins the ``max_parts`` items that set the segment apart most:
    numbers with ``|d| >= 0.5`` as "high <column>" / "low <column>" (a few common
    columns have their own words: "young"/"older" for age), a category level that
    is the segment's majority and 25 points above the rest as the level itself.
    Examples: "High annual income, low spending score", "Young, high spending score".
    A segment with no such item is "Average customers". Names that come out equal
    take one more item; any still equal get a number ("Average customers 2").

    Parameters
    ----------
    seg : a fitted Segmentation with k segments
    effects : the result of :func:`effect_sizes` (computed if not given)
    max_parts : items per name before names are made distinct

    Returns
    -------
    dict ``{segment: name}`` for segments 1..k
    """
    eff = effect_sizes(seg) if effects is None else effects
    items: dict[int, list[str]] = {}
    for j in range(1, seg.k + 1):
        mine = eff[eff["segment"] == j]
        ranked: list[tuple[float, tuple[str, str]]] = []
        for r in mine[mine["kind"] == "numeric"].itertuples():
            d = float(r.effect)
            if np.isfinite(d) and abs(d) >= D_NOTABLE:
                ranked.append((abs(d), _numeric_phrase(r.feature, d)))
        for r in mine[mine["kind"] == "category"].itertuples():
            if r.segment_value >= 0.5 and r.effect >= SHARE_NOTABLE:
                ranked.append((2.0 * float(r.effect) / 0.5, ("level", str(r.level))))
        ranked.sort(key=lambda t: -t[0])
        parts: list[tuple[str, str]] = []
        for _, phrase in ranked:  # one phrase per word ("young" once)
            if phrase[1] not in {p for _, p in parts}:
                parts.append(phrase)
        items[j] = parts

    def name(parts: list[tuple[str, str]]) -> str:
        # Adjectives, then category levels, then amounts: "Young online customers",
        # "Older, high annual income".
        order = {"adjective": 0, "level": 1, "amount": 2}
        ordered = sorted(parts, key=lambda t: order[t[0]])
        words = [p for _, p in ordered]
        if not words:
            text = "average customers"
        elif all(kind != "amount" for kind, _ in ordered):
            text = " ".join(words) + " customers"
        else:
            lead = [p for kind, p in ordered if kind != "amount"]
            rest = [p for kind, p in ordered if kind == "amount"]
            text = ", ".join(([" ".join(lead)] if lead else []) + rest)
        return text[:1].upper() + text[1:]

    width = {j: max_parts for j in items}
    names = {j: name(items[j][: width[j]]) for j in items}
    while True:
        groups: dict[str, list[int]] = {}
        for j, text in names.items():
            groups.setdefault(text, []).append(j)
        grow = [j for js in groups.values() if len(js) > 1 for j in js if width[j] < len(items[j])]
        if not grow:
            break
        for j in grow:
            width[j] += 1
            names[j] = name(items[j][: width[j]])
    counts: dict[str, int] = {}
    final: dict[int, str] = {}
    for j in sorted(names):
        text = names[j]
        counts[text] = counts.get(text, 0) + 1
        clash = sum(1 for t in names.values() if t == text) > 1
        final[j] = f"{text} {counts[text]}" if clash else text
    return final


# --------------------------------------------------------------------------- certainty and targeting


#: What the targeting threshold is called for each method, and what it means.
STRENGTH_NAMES = {
    "gmm": ("probability", "the model's probability that the customer belongs to the segment"),
    "fcm": (
        "membership",
        "the fuzzy membership of the segment (0..1, rows sum to 1; not a calibrated probability)",
    ),
    "kmeans": (
        "margin",
        "how much closer the customer is to this segment's centre than to the next one: "
        "1 - (distance to own centre) / (distance to the next centre), 0 on the border, "
        "1 at the centre",
    ),
}


def assignment_strength(seg: Segmentation) -> np.ndarray:
    """How firmly each row belongs to its own segment, shape (n_rows,), values 0..1.

    Gaussian mixture: the probability of the assigned segment; fuzzy c-means: its
    membership; k-means (no probabilities): the relative margin
    ``1 - d_own / d_next`` between the distances to the nearest two centres.
    """
    if seg.method != "kmeans":
        return seg.proba[np.arange(len(seg.labels)), seg.labels - 1]
    return _kmeans_margin(seg.distances)


def strength_name(seg: Segmentation) -> str:
    """ "probability", "membership" or "margin": what :func:`assignment_strength` holds."""
    return STRENGTH_NAMES[seg.method][0]


def _kmeans_margin(d: np.ndarray) -> np.ndarray:
    if d.shape[1] < 2:
        return np.ones(d.shape[0])
    two = np.partition(d, 1, axis=1)[:, :2]
    with np.errstate(invalid="ignore", divide="ignore"):
        m = 1.0 - two[:, 0] / two[:, 1]
    return np.where(two[:, 1] > 0, m, 0.0)


def ambiguous_rows(proba: np.ndarray | Segmentation, margin: float = 0.1) -> np.ndarray:
    """Rows whose assignment is a near tie.

    Parameters
    ----------
    proba : ndarray of shape (n_rows, k) whose rows sum to 1 (probabilities or
        memberships): a tie is the two largest within ``margin`` of each other; or a
        Segmentation: its method's own quantity (k-means: a relative margin
        ``1 - d_own / d_next`` of at most ``margin``)
    margin : between 0 and 1

    Returns
    -------
    ndarray of bool, shape (n_rows,); all False when k == 1
    """
    if not 0 <= margin <= 1:
        raise InputError(f"The margin must be between 0 and 1, got {margin}.", code="bad_margin")
    if isinstance(proba, Segmentation):
        if proba.method == "kmeans":
            if proba.k < 2:
                return np.zeros(len(proba.labels), dtype=bool)
            return _kmeans_margin(proba.distances) <= margin
        proba = proba.proba
    proba = np.asarray(proba, dtype="float64")
    if proba.ndim != 2:
        raise InputError("Probabilities must be a table of rows by segments.", code="bad_proba")
    if proba.shape[1] < 2:
        return np.zeros(proba.shape[0], dtype=bool)
    top2 = np.partition(proba, proba.shape[1] - 2, axis=1)[:, -2:]
    return (top2[:, 1] - top2[:, 0]) <= margin


def target_mask(seg: Segmentation, segment: int, min_probability: float) -> np.ndarray:
    """Rows assigned to ``segment`` that belong to it at least ``min_probability`` firmly.

    The threshold is on the method's own quantity (:func:`assignment_strength`): the
    probability for a Gaussian mixture, the membership for fuzzy c-means, the relative
    margin to the next centre for k-means (see :data:`STRENGTH_NAMES`).

    Returns
    -------
    ndarray of bool, shape (n_rows,)
    """
    segment = _check_segment(seg, segment)
    p = float(min_probability)
    if not 0 <= p <= 1:
        raise InputError(
            f"The minimum {strength_name(seg)} must be between 0 and 1, got {min_probability}.",
            code="bad_probability",
        )
    return (seg.labels == segment) & (assignment_strength(seg) >= p)


def target_rows(seg: Segmentation, segment: int, min_probability: float) -> pd.DataFrame:
    """The rows of ``seg.table()`` to target (see :func:`target_mask`).

    Like the car A / car B example: rather than everyone labelled "segment A",
    keep the customers the model is confident about.

    Returns
    -------
    DataFrame with the columns of ``seg.table()``, the original index kept
    """
    mask = target_mask(seg, segment, min_probability)
    # Same columns as table(), built for the chosen rows only.
    return labelled_frame(
        seg.data[mask], seg.labels[mask], seg.soft_output[mask], method=seg.method, names=seg.names
    )


# --------------------------------------------------------------------------- 2-D views


def ellipse_points(
    mean2: Sequence[float] | np.ndarray,
    cov2: np.ndarray,
    n_sigma: float = 1.0,
    n_points: int = 100,
) -> np.ndarray:
    """Points on the ``n_sigma`` contour of a 2-D Gaussian (a closed curve).

    The semi-axes are ``n_sigma * sqrt(eigenvalue)`` along the eigenvectors of
    ``cov2``, as in the PDSH ``draw_ellipse`` helper.

    Parameters
    ----------
    mean2 : shape (2,)
    cov2 : shape (2, 2), symmetric positive semi-definite
    n_sigma : contour in standard deviations
    n_points : points on the curve (the first is repeated at the end)

    Returns
    -------
    ndarray of shape (n_points + 1, 2)
    """
    mean2 = np.asarray(mean2, dtype="float64").reshape(2)
    cov2 = np.asarray(cov2, dtype="float64")
    if cov2.shape != (2, 2):
        raise InputError("An ellipse needs a 2 x 2 covariance matrix.", code="bad_covariance")
    vals, vecs = np.linalg.eigh((cov2 + cov2.T) / 2)
    radii = n_sigma * np.sqrt(np.clip(vals, 0.0, None))
    t = np.linspace(0.0, 2.0 * np.pi, n_points + 1)
    circle = np.stack([np.cos(t), np.sin(t)], axis=1)  # (n_points + 1, 2)
    return mean2 + (circle * radii) @ vecs.T


def _component_covariances(seg: Segmentation) -> np.ndarray:
    """Covariances of the GMM segments in segment order, shape (k, p, p)."""
    params = seg.model.params
    return full_covariances(params["covariances"], params["covariance_type"], seg.k, seg.X.shape[1])


@dataclass
class Projection:
    """A 2-D view of a segmentation, ready to draw.

    Attributes
    ----------
    points : DataFrame with columns ``row`` (position in the input), ``x``, ``y``,
        ``segment`` (1..k) and ``segment_probability``; at most ``sample`` rows
    ellipses : DataFrame with columns ``segment``, ``n_sigma``, ``x``, ``y``: the
        1-3 sigma contours of each Gaussian component (empty unless GMM)
    x_label, y_label : axis titles
    n_total : rows in the segmentation; ``sampled`` is True when points < n_total
    note : plain sentence about what is not drawn (or None)
    explained : share of the prepared features' variance on each PCA axis (PCA only)
    """

    points: pd.DataFrame
    ellipses: pd.DataFrame
    x_label: str
    y_label: str
    n_total: int
    kind: str
    note: str | None = None
    explained: list[float] = field(default_factory=list)

    @property
    def sampled(self) -> bool:
        """True when only a sample of the rows is drawn."""
        return len(self.points) < self.n_total


def _sample_rows(labels: np.ndarray, k: int, sample: int, random_state: int) -> np.ndarray:
    """Sorted row positions: a uniform sample, topped up so every segment keeps
    ``min(size, MIN_POINTS_PER_SEGMENT)`` points (small segments stay visible)."""
    n = labels.size
    if n <= sample:
        return np.arange(n)
    rng = np.random.default_rng(random_state)
    chosen = np.zeros(n, dtype=bool)
    chosen[rng.choice(n, size=sample, replace=False)] = True
    for s in range(1, k + 1):
        rows = np.flatnonzero(labels == s)
        need = min(rows.size, MIN_POINTS_PER_SEGMENT) - int(chosen[rows].sum())
        if need > 0:
            free = rows[~chosen[rows]]
            chosen[rng.choice(free, size=need, replace=False)] = True
    return np.flatnonzero(chosen)


def _ellipse_frame(
    seg: Segmentation, means2: np.ndarray, covs2: np.ndarray, sigmas: Sequence[int]
) -> pd.DataFrame:
    parts = []
    for j in range(seg.k):
        for s in sigmas:
            pts = ellipse_points(means2[j], covs2[j], s)
            parts.append(
                pd.DataFrame({"segment": j + 1, "n_sigma": s, "x": pts[:, 0], "y": pts[:, 1]})
            )
    return pd.concat(parts, ignore_index=True) if parts else _empty_ellipses()


def _empty_ellipses() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment": pd.Series(dtype="int64"),
            "n_sigma": pd.Series(dtype="int64"),
            "x": pd.Series(dtype="float64"),
            "y": pd.Series(dtype="float64"),
        }
    )


def projection_2d(
    seg: Segmentation,
    x: str | None = None,
    y: str | None = None,
    sample: int = 5000,
    random_state: int = 0,
    sigmas: Sequence[int] = (1, 2, 3),
) -> Projection:
    """Project a segmentation to two dimensions for a map.

    With ``x`` and ``y`` left out: the first two principal components of the
    prepared features ``seg.X`` (PCA fitted on every row). With two numeric
    feature columns: their values in original units (missing values shown at the
    filled value the model used). For Gaussian mixtures the 1-3 sigma ellipses of
    each component are projected too: ``cov_2d = W Sigma W^T`` with ``W`` the two
    PCA axes (shape (2, p)) or the two columns' unscaling (``diag(scale)``
    applied to the two rows/columns of ``Sigma``). Columns that were
    log-transformed get no ellipses (the Gaussian lives on the log scale) and a note.

    Parameters
    ----------
    seg : a fitted Segmentation
    x, y : two numeric feature columns, or both None for PCA
    sample : at most this many points are returned (uniform random sample, every
        segment keeping at least a few points)
    random_state : seed of the sample
    sigmas : which contours to draw

    Returns
    -------
    Projection
    """
    n, p = seg.X.shape
    if sample < 1:
        raise InputError(f"The sample size must be positive, got {sample}.", code="bad_sample")
    idx = _sample_rows(seg.labels, seg.k, int(sample), random_state)
    note: str | None = None
    explained: list[float] = []
    covs2: np.ndarray | None = None
    means2: np.ndarray | None = None
    gmm = seg.method == "gmm"
    if (x is None) != (y is None):
        raise InputError("Choose two columns for the map, or none for PCA.", code="bad_columns")
    if x is None:
        kind = "pca"
        if p >= 2:
            pca = PCA(n_components=2, random_state=random_state).fit(seg.X)
            xy = pca.transform(seg.X[idx])
            W = pca.components_  # (2, p)
            centre = pca.mean_
            explained = [float(v) for v in pca.explained_variance_ratio_]
        else:
            # One feature: the "map" is that feature against zero.
            W = np.array([[1.0], [0.0]])
            centre = np.zeros(1)
            xy = np.column_stack([seg.X[idx, 0], np.zeros(idx.size)])
            explained = [1.0, 0.0]
            note = "There is only one feature, so the map shows it along one axis."
        x_label = f"PC1 ({explained[0]:.0%} of variance)"
        y_label = f"PC2 ({explained[1]:.0%} of variance)"
        if gmm:
            mu = seg.model.params["means"]
            means2 = (mu - centre) @ W.T
            covs2 = W @ _component_covariances(seg) @ W.T
    else:
        kind = "columns"
        num = seg.preparer.numeric
        for c in (x, y):
            if c not in num:
                raise ColumnError(
                    f"'{c}' is not a numeric feature of this segmentation; choose one of: "
                    + ", ".join(f"'{v}'" for v in num),
                    code="unknown_columns",
                )
        ii = [num.index(x), num.index(y)]
        scale = np.array([seg.preparer.scale[x], seg.preparer.scale[y]])
        centre = np.array([seg.preparer.center[x], seg.preparer.center[y]])
        logged = [c for c in (x, y) if c in seg.preparer.log_columns]
        z = seg.X[np.ix_(idx, ii)] * scale + centre
        xy = np.column_stack(
            [np.expm1(z[:, i]) if c in logged else z[:, i] for i, c in enumerate((x, y))]
        )
        x_label, y_label = x, y
        if gmm and logged:
            note = (
                "Ellipses are not drawn: "
                + " and ".join(f"'{c}'" for c in logged)
                + " was log-transformed, so the segments' Gaussian shapes live on the log scale."
            )
        elif gmm:
            mu = seg.model.params["means"][:, ii]
            means2 = mu * scale + centre
            sub = _component_covariances(seg)[:, ii][:, :, ii]
            covs2 = sub * np.outer(scale, scale)
    ellipses = (
        _ellipse_frame(seg, means2, covs2, sigmas)
        if covs2 is not None and means2 is not None
        else _empty_ellipses()
    )
    points = pd.DataFrame(
        {
            "row": idx,
            "x": xy[:, 0],
            "y": xy[:, 1],
            "segment": seg.labels[idx],
            "segment_probability": seg.proba[idx].max(axis=1),
        }
    )
    return Projection(
        points=points,
        ellipses=ellipses,
        x_label=x_label,
        y_label=y_label,
        n_total=n,
        kind=kind,
        note=note,
        explained=explained,
    )
