"""Charts of the Synthetic data page: real vs synthetic, side by side.

Builders take the two tables first and keyword-only options (``columns=``,
``x=``/``y=``, ``title=``), and finish through :func:`analytics.charts.base.finish`.
Real is always blue, synthetic orange; bars stand side by side (never overlaid, so
they never mix into a third colour).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analytics.charts.base import MARK_COLOUR, REAL_COLOUR, SYNTH_COLOUR, escape, finish
from analytics.preparation import to_numeric

__all__ = [
    "MAX_POINTS",
    "REAL_COLOUR",
    "SYNTH_COLOUR",
    "correlation_heatmaps",
    "distance_histogram",
    "overlay_histograms",
    "scatter_overlay",
]

#: Most points per table drawn in the scatter overlay.
MAX_POINTS = 3_000


def _is_numeric(s: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s))


def _shared_bins(a: np.ndarray, b: np.ndarray, nbins: int) -> dict[str, float]:
    lo = float(min(a.min(initial=np.inf), b.min(initial=np.inf)))
    hi = float(max(a.max(initial=-np.inf), b.max(initial=-np.inf)))
    if not np.isfinite(lo) or not np.isfinite(hi):
        lo, hi = 0.0, 1.0
    size = (hi - lo) / nbins if hi > lo else 1.0
    return {"start": lo, "end": hi + size, "size": size}


def overlay_histograms(
    real: pd.DataFrame,
    synth: pd.DataFrame,
    *,
    columns: Sequence[str],
    nbins: int = 30,
    title: str | None = "Does the synthetic data look like the real data, column by column?",
) -> go.Figure:
    """One panel per column: real and synthetic distributions side by side.

    Numbers are drawn as density-normalised histograms on shared bins, categories
    as bars of each label's share, so tables of different sizes compare directly.

    Returns
    -------
    go.Figure with two traces per column (real, synthetic), in ``columns`` order
    """
    columns = list(columns)
    ncols = min(3, max(1, len(columns)))
    nrows = max(1, math.ceil(len(columns) / ncols))
    fig = make_subplots(rows=nrows, cols=ncols, subplot_titles=[escape(c) for c in columns])
    for i, c in enumerate(columns):
        r, col = i // ncols + 1, i % ncols + 1
        first = i == 0
        if _is_numeric(real[c]):
            a = to_numeric(real[c]).dropna().to_numpy()
            b = to_numeric(synth[c]).dropna().to_numpy()
            bins = _shared_bins(a, b, nbins)
            for vals, name, colour in ((a, "real", REAL_COLOUR), (b, "synthetic", SYNTH_COLOUR)):
                fig.add_trace(
                    go.Histogram(x=vals, xbins=bins, histnorm="probability density", name=name,
                                 marker_color=colour, legendgroup=name, showlegend=first),
                    row=r, col=col,
                )  # fmt: skip
        else:
            a = real[c].dropna().astype("string").value_counts(normalize=True)
            b = synth[c].dropna().astype("string").value_counts(normalize=True)
            labels = sorted(set(a.index) | set(b.index))
            for share, name, colour in ((a, "real", REAL_COLOUR), (b, "synthetic", SYNTH_COLOUR)):
                fig.add_trace(
                    go.Bar(x=[escape(v) for v in labels],
                           y=[float(share.get(v, 0.0)) for v in labels], name=name,
                           marker_color=colour, legendgroup=name, showlegend=first),
                    row=r, col=col,
                )  # fmt: skip
    # "group" puts the two tables' bars side by side in every bin (no overlap).
    fig.update_layout(barmode="group", bargap=0.15, legend={"orientation": "h", "y": 1.08})
    return finish(fig, title=title, height=max(320, 260 * nrows))


def scatter_overlay(
    real: pd.DataFrame,
    synth: pd.DataFrame,
    *,
    x: str,
    y: str,
    max_points: int = MAX_POINTS,
    random_state: int = 0,
    title: str | None = None,
) -> go.Figure:
    """Real and synthetic rows on the same two axes (a random sample of each when large)."""
    rng = np.random.default_rng(random_state)
    fig = go.Figure()
    notes = []
    for df, name, colour in ((real, "real", REAL_COLOUR), (synth, "synthetic", SYNTH_COLOUR)):
        idx = np.arange(len(df))
        if len(df) > max_points:
            idx = np.sort(rng.choice(len(df), max_points, replace=False))
            notes.append(f"{max_points:,} of {len(df):,} {name}")
        fig.add_trace(
            go.Scattergl(
                x=_values(df[x].iloc[idx]), y=_values(df[y].iloc[idx]), mode="markers",
                name=name, marker=dict(color=colour, size=5), opacity=0.5,
            )
        )  # fmt: skip
    ex, ey = escape(x), escape(y)
    full = title or f"Do the two columns relate the same way? {ey} against {ex}"
    if notes:
        full += " (showing " + ", ".join(notes) + ")"
    return finish(fig, title=full, x_title=ex, y_title=ey, height=460)


def _values(s: pd.Series) -> np.ndarray:
    if _is_numeric(s):
        return s.to_numpy(dtype="float64", na_value=np.nan)
    return np.array([None if v is None else escape(v) for v in
                     s.astype("string").to_numpy(dtype=object, na_value=None)], dtype=object)  # fmt: skip


def correlation_heatmaps(
    real: pd.DataFrame,
    synth: pd.DataFrame,
    *,
    columns: Sequence[str],
    title: str | None = "Are the columns related in the same way? Correlations",
) -> go.Figure:
    """Pearson correlations of the numeric ``columns``: real, synthetic and the difference."""
    cols = [c for c in columns if _is_numeric(real[c])]
    rc = pd.DataFrame({c: to_numeric(real[c]) for c in cols}).corr()
    sc = pd.DataFrame({c: to_numeric(synth[c]) for c in cols}).corr()
    fig = make_subplots(
        rows=1, cols=3, subplot_titles=["real", "synthetic", "synthetic - real"],
        horizontal_spacing=0.08,
    )  # fmt: skip
    names = [escape(c) for c in cols]
    for i, m in enumerate((rc, sc, sc - rc)):
        z = m.to_numpy()
        fig.add_trace(
            go.Heatmap(
                z=z, x=names, y=names, zmin=-1, zmax=1, colorscale="RdBu", reversescale=True,
                text=np.round(z, 2), texttemplate="%{text}", showscale=i == 0,
                hovertemplate="%{y} / %{x}: %{z:.2f}<extra></extra>",
            ),
            row=1, col=i + 1,
        )  # fmt: skip
        fig.update_yaxes(autorange="reversed", row=1, col=i + 1, showticklabels=i == 0)
    return finish(fig, title=title, height=420)


def distance_histogram(
    distances: pd.DataFrame,
    *,
    line: float | None = None,
    nbins: int = 50,
    title: str
    | None = "Are synthetic rows copies of real customers? Distance to the closest real row",
) -> go.Figure:
    """Distances to the closest real row: synthetic rows vs real rows (privacy check).

    ``distances`` is ``privacy_report(...)["distances"]``; ``line`` the near-copy line.
    Both histograms share bins and stand side by side.
    """
    fig = go.Figure()
    parts = [
        (source, colour, distances.loc[distances["source"] == source, "distance"].to_numpy())
        for source, colour in (("real to real", REAL_COLOUR), ("synthetic to real", SYNTH_COLOUR))
    ]
    bins = _shared_bins(parts[0][2], parts[1][2], nbins)
    for source, colour, d in parts:
        fig.add_trace(
            go.Histogram(x=d, xbins=bins, histnorm="probability density", name=source,
                         marker_color=colour)
        )  # fmt: skip
    if line is not None and np.isfinite(line):
        fig.add_vline(
            x=float(line), line_dash="dash", line_color=MARK_COLOUR,
            annotation_text="near-copy line",
        )  # fmt: skip
    fig.update_layout(barmode="group", bargap=0.1)
    return finish(
        fig,
        title=title,
        x_title="Distance to the closest real row (prepared units)",
        y_title="Density",
        height=380,
    )
