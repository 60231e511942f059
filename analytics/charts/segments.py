"""Plotly figure builders for segmentations: data in, ``go.Figure`` out.

Like Plotly Express, every builder takes its data first and the same keyword
arguments (``title``, ``colours``, ``height``), and finishes through one shared
layout step, so the figures look alike across pages. Segment ``j`` (1-based) is
always drawn in ``SEGMENT_COLOURS[(j - 1) % len(SEGMENT_COLOURS)]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

__all__ = [
    "SEGMENT_COLOURS",
    "profile_heatmap_figure",
    "segment_colour",
    "segment_map_figure",
    "sizes_figure",
    "top_probability_figure",
]

#: The colour of each segment on every page (segment 1 first), repeated beyond 10.
SEGMENT_COLOURS: tuple[str, ...] = tuple(qualitative.Plotly)
#: Line style of the 1, 2 and 3 sigma ellipses (innermost strongest).
_SIGMA_OPACITY = {1: 0.9, 2: 0.6, 3: 0.35}
_SIGMA_DASH = {1: "solid", 2: "dash", 3: "dot"}


def segment_colour(segment: int, colours: Sequence[str] = SEGMENT_COLOURS) -> str:
    """Colour of segment ``segment`` (1-based)."""
    return colours[(int(segment) - 1) % len(colours)]


def _finish(
    fig: go.Figure,
    title: str | None,
    height: int | None,
    x_title: str | None = None,
    y_title: str | None = None,
) -> go.Figure:
    """The shared layout step of every builder."""
    fig.update_layout(
        title={"text": title or "", "x": 0.0, "xanchor": "left"},
        height=height,
        margin={"l": 10, "r": 10, "t": 60 if title else 20, "b": 10},
        template="plotly_white",
        legend={"title": {"text": "Segment"}},
    )
    if x_title is not None:
        fig.update_xaxes(title_text=x_title)
    if y_title is not None:
        fig.update_yaxes(title_text=y_title)
    return fig


def segment_map_figure(
    points: pd.DataFrame,
    x: str = "x",
    y: str = "y",
    segment: str = "segment",
    probability: str | None = "segment_probability",
    encode: str = "size",
    ellipses: pd.DataFrame | None = None,
    n_total: int | None = None,
    x_title: str | None = None,
    y_title: str | None = None,
    title: str | None = None,
    colours: Sequence[str] = SEGMENT_COLOURS,
    height: int | None = 520,
) -> go.Figure:
    """A scatter map coloured by segment, with certainty shown as in PDSH.

    Parameters
    ----------
    points : DataFrame of the points drawn (shape (m, ...)), holding the columns
        named by ``x``, ``y``, ``segment`` (1..k) and ``probability`` (0..1)
    encode : "size" (marker size grows with probability squared, as PDSH's
        ``50 * probs.max(1) ** 2``) or "opacity" (faint = uncertain)
    ellipses : optional DataFrame with columns ``segment``, ``n_sigma``, ``x``,
        ``y`` (closed contours, e.g. ``Projection.ellipses``); one line trace is
        drawn per segment and sigma
    n_total : rows in the whole table; when larger than ``len(points)`` the
        title says the map shows a sample
    title : the map's name ("Segment map"); the sample note is appended

    Returns
    -------
    go.Figure with one marker trace per segment (in segment order) followed by
    the ellipse traces
    """
    if encode not in ("size", "opacity"):
        raise ValueError(f"encode must be 'size' or 'opacity', got {encode!r}")
    fig = go.Figure()
    segs = np.sort(pd.unique(points[segment].to_numpy()))
    for s in segs:
        sub = points[points[segment].to_numpy() == s]
        marker: dict[str, object] = {"color": segment_colour(s, colours), "line": {"width": 0}}
        hover = f"Segment {s}<br>{x_title or x}: %{{x:.4g}}<br>{y_title or y}: %{{y:.4g}}"
        custom = None
        if probability is not None:
            prob = sub[probability].to_numpy(dtype="float64")
            custom = prob
            hover += "<br>probability: %{customdata:.2f}"
            if encode == "size":
                marker["size"] = 2.0 + 8.0 * prob**2
                marker["opacity"] = 0.65
            else:
                marker["size"] = 6.0
                marker["opacity"] = 0.1 + 0.9 * prob**2
        else:
            marker["size"] = 6.0
            marker["opacity"] = 0.65
        fig.add_trace(
            go.Scatter(
                x=sub[x].to_numpy(),
                y=sub[y].to_numpy(),
                mode="markers",
                name=f"Segment {s}",
                legendgroup=f"segment {s}",
                marker=marker,
                customdata=custom,
                hovertemplate=hover + "<extra></extra>",
                meta={"role": "points", "segment": int(s)},
            )
        )
    if ellipses is not None and len(ellipses):
        for (s, sig), e in ellipses.groupby(["segment", "n_sigma"], sort=True):
            fig.add_trace(
                go.Scatter(
                    x=e["x"].to_numpy(),
                    y=e["y"].to_numpy(),
                    mode="lines",
                    name=f"Segment {s}, {sig}σ",
                    legendgroup=f"segment {s}",
                    showlegend=False,
                    hoverinfo="skip",
                    opacity=_SIGMA_OPACITY.get(int(sig), 0.3),
                    line={
                        "color": segment_colour(s, colours),
                        "width": 2,
                        "dash": _SIGMA_DASH.get(int(sig), "dot"),
                    },
                    meta={"role": "ellipse", "segment": int(s), "n_sigma": int(sig)},
                )
            )
    full = title or "Segment map"
    if n_total is not None and n_total > len(points):
        full += f" (a random sample of {len(points):,} of {n_total:,} customers)"
    return _finish(fig, full, height, x_title or x, y_title or y)


def sizes_figure(
    sizes: Sequence[int] | np.ndarray | pd.Series,
    title: str | None = "Segment sizes",
    colours: Sequence[str] = SEGMENT_COLOURS,
    height: int | None = 320,
) -> go.Figure:
    """Bar chart of customers per segment, labelled with count and share.

    Parameters
    ----------
    sizes : shape (k,), rows in segments 1..k (a Series keeps its index as labels)

    Returns
    -------
    go.Figure with a single bar trace
    """
    counts = np.asarray(sizes, dtype="int64")
    segs = (
        np.asarray(sizes.index) if isinstance(sizes, pd.Series) else np.arange(1, counts.size + 1)
    )
    total = max(int(counts.sum()), 1)
    fig = go.Figure(
        go.Bar(
            x=[f"Segment {s}" for s in segs],
            y=counts,
            marker={"color": [segment_colour(s, colours) for s in segs]},
            text=[f"{c:,} ({c / total:.0%})" for c in counts],
            textposition="auto",
            hovertemplate="%{x}: %{y:,} customers<extra></extra>",
            showlegend=False,
        )
    )
    return _finish(fig, title, height, None, "Customers")


def profile_heatmap_figure(
    z: pd.DataFrame,
    means: pd.DataFrame | None = None,
    title: str | None = "What each segment looks like (z-scores of segment means)",
    height: int | None = None,
    zmax: float = 2.0,
) -> go.Figure:
    """Heatmap of feature means per segment as z-scores, diverging around 0.

    Parameters
    ----------
    z : DataFrame of shape (k, n_items), index = segment numbers, columns =
        features (as from :func:`analytics.studies.profiles.feature_profile`)
    means : same shape, original-unit means (shares for category levels) shown on hover
    zmax : colour range is ``[-zmax, zmax]``; cells beyond it take the end colour

    Returns
    -------
    go.Figure with one Heatmap trace: rows = features, columns = segments, so
    ``fig.data[0].z`` is ``z.T``
    """
    zz = z.to_numpy(dtype="float64").T  # (n_items, k)
    custom = None
    hover = "Segment %{x}<br>%{y}<br>z = %{z:.2f}"
    if means is not None:
        custom = means.reindex(index=z.index, columns=z.columns).to_numpy(dtype="float64").T
        hover = "Segment %{x}<br>%{y}: mean %{customdata:.4g}<br>z = %{z:.2f}"
    fig = go.Figure(
        go.Heatmap(
            z=zz,
            x=[str(s) for s in z.index],
            y=[str(c) for c in z.columns],
            customdata=custom,
            colorscale="RdBu",
            reversescale=True,
            zmid=0.0,
            zmin=-zmax,
            zmax=zmax,
            texttemplate="%{z:.1f}",
            hovertemplate=hover + "<extra></extra>",
            colorbar={"title": {"text": "z"}},
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    h = height if height is not None else max(260, 60 + 28 * zz.shape[0])
    return _finish(fig, title, h, "Segment", None)


def top_probability_figure(
    top: Sequence[float] | np.ndarray,
    n_ambiguous: int,
    margin: float = 0.1,
    bins: int = 20,
    title: str | None = None,
    height: int | None = 320,
) -> go.Figure:
    """Histogram of each row's largest segment probability.

    The counts are binned here (numpy) so the figure stays small however many
    rows there are.

    Parameters
    ----------
    top : shape (n_rows,), each row's top probability (0..1)
    n_ambiguous : rows whose top two probabilities are within ``margin``
        (see :func:`analytics.studies.profiles.ambiguous_rows`); shown in the title
    bins : number of equal-width bins over [0, 1]

    Returns
    -------
    go.Figure with one Bar trace of ``bins`` bars
    """
    t = np.asarray(top, dtype="float64")
    counts, edges = np.histogram(t, bins=bins, range=(0.0, 1.0))
    mids = (edges[:-1] + edges[1:]) / 2
    labels = [f"{a:.2f}–{b:.2f}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    fig = go.Figure(
        go.Bar(
            x=mids,
            y=counts,
            width=np.diff(edges),
            customdata=labels,
            marker={"color": SEGMENT_COLOURS[0]},
            hovertemplate="top probability %{customdata}: %{y:,} customers<extra></extra>",
            showlegend=False,
        )
    )
    share = n_ambiguous / t.size if t.size else 0.0
    head = title or "How sure is each assignment?"
    full = (
        f"{head} — {n_ambiguous:,} ambiguous customers ({share:.1%}): "
        f"top two probabilities within {margin:.2f}"
    )
    fig.update_xaxes(range=[0, 1])
    return _finish(fig, full, height, "Top segment probability", "Customers")
