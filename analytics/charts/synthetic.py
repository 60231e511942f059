"""Plotly figure builders for the Synthetic data page: real vs synthetic, side by side."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analytics.preparation import to_numeric

REAL_COLOUR = "#1f77b4"
SYNTH_COLOUR = "#ff7f0e"
#: Most points per table drawn in the scatter overlay.
MAX_POINTS = 3_000


def _is_numeric(s: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s))


def overlay_histograms(
    real: pd.DataFrame, synth: pd.DataFrame, columns: Sequence[str], nbins: int = 30
) -> go.Figure:
    """One panel per column: real and synthetic distributions overlaid.

    Numbers are drawn as density-normalised histograms on shared bins, categories
    as bars of each label's share, so tables of different sizes compare directly.
    """
    columns = list(columns)
    ncols = min(3, max(1, len(columns)))
    nrows = max(1, math.ceil(len(columns) / ncols))
    fig = make_subplots(rows=nrows, cols=ncols, subplot_titles=[str(c) for c in columns])
    for i, c in enumerate(columns):
        r, col = i // ncols + 1, i % ncols + 1
        first = i == 0
        if _is_numeric(real[c]):
            a = to_numeric(real[c]).dropna().to_numpy()
            b = to_numeric(synth[c]).dropna().to_numpy()
            lo = float(min(a.min(initial=np.inf), b.min(initial=np.inf)))
            hi = float(max(a.max(initial=-np.inf), b.max(initial=-np.inf)))
            size = (hi - lo) / nbins if hi > lo else 1.0
            bins = dict(start=lo, end=hi + size, size=size)
            for vals, name, colour in ((a, "real", REAL_COLOUR), (b, "synthetic", SYNTH_COLOUR)):
                fig.add_trace(
                    go.Histogram(x=vals, xbins=bins, histnorm="probability density", name=name,
                                 marker_color=colour, opacity=0.55, legendgroup=name,
                                 showlegend=first),
                    row=r, col=col,
                )  # fmt: skip
        else:
            a = real[c].dropna().astype("string").value_counts(normalize=True)
            b = synth[c].dropna().astype("string").value_counts(normalize=True)
            labels = sorted(set(a.index) | set(b.index))
            # Histograms are overlaid, so bars are placed side by side by hand.
            for share, name, colour, offset in (
                (a, "real", REAL_COLOUR, -0.4),
                (b, "synthetic", SYNTH_COLOUR, 0.0),
            ):
                fig.add_trace(
                    go.Bar(x=labels, y=[float(share.get(v, 0.0)) for v in labels], name=name,
                           marker_color=colour, opacity=0.8, legendgroup=name, showlegend=first,
                           width=0.4, offset=offset),
                    row=r, col=col,
                )  # fmt: skip
    fig.update_layout(
        title="Real vs synthetic, column by column",
        barmode="overlay",
        height=max(320, 260 * nrows),
        legend=dict(orientation="h", y=1.08),
    )
    return fig


def scatter_overlay(
    real: pd.DataFrame,
    synth: pd.DataFrame,
    x: str,
    y: str,
    max_points: int = MAX_POINTS,
    random_state: int = 0,
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
    title = f"{y} against {x}: real and synthetic"
    if notes:
        title += " (showing " + ", ".join(notes) + ")"
    fig.update_layout(title=title, xaxis_title=str(x), yaxis_title=str(y))
    return fig


def _values(s: pd.Series) -> np.ndarray:
    if _is_numeric(s):
        return s.to_numpy(dtype="float64", na_value=np.nan)
    return s.astype("string").to_numpy(dtype=object, na_value=None)


def correlation_heatmaps(
    real: pd.DataFrame, synth: pd.DataFrame, columns: Sequence[str]
) -> go.Figure:
    """Pearson correlations of the numeric ``columns``: real, synthetic and the difference."""
    cols = [c for c in columns if _is_numeric(real[c])]
    rc = pd.DataFrame({c: to_numeric(real[c]) for c in cols}).corr()
    sc = pd.DataFrame({c: to_numeric(synth[c]) for c in cols}).corr()
    fig = make_subplots(
        rows=1, cols=3, subplot_titles=["real", "synthetic", "synthetic - real"],
        horizontal_spacing=0.08,
    )  # fmt: skip
    names = [str(c) for c in cols]
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
    fig.update_layout(title="Correlations between numeric columns", height=420)
    return fig


def distance_histogram(distances: pd.DataFrame, line: float | None = None) -> go.Figure:
    """Distances to the closest real row: synthetic rows vs real rows (privacy check).

    ``distances`` is ``privacy_report(...)["distances"]``; ``line`` the near-copy line.
    """
    fig = go.Figure()
    for source, colour in (("real to real", REAL_COLOUR), ("synthetic to real", SYNTH_COLOUR)):
        d = distances.loc[distances["source"] == source, "distance"].to_numpy()
        fig.add_trace(
            go.Histogram(x=d, histnorm="probability density", name=source, opacity=0.55,
                         marker_color=colour, nbinsx=50)
        )  # fmt: skip
    if line is not None and np.isfinite(line):
        fig.add_vline(x=float(line), line_dash="dash", annotation_text="near-copy line")
    fig.update_layout(
        title="Distance to the closest real row",
        barmode="overlay",
        xaxis_title="distance in prepared units",
        yaxis_title="density",
    )
    return fig
