"""Charts of one segmentation: the map, sizes, profiles and certainty.

Every builder takes the computed result first and keyword-only options
(``names=``, ``title=``, ``height=``), and finishes through
:func:`analytics.charts.base.finish`; segment ``j`` is drawn in
:func:`~analytics.charts.base.segment_colour` ``(j)`` on every chart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analytics.charts.base import (
    NEUTRAL_COLOUR,
    OUTLIER_SYMBOL,
    SEGMENT_COLOURS,
    bulk_range,
    clip_to_range,
    escape,
    finish,
    padded,
    pca_axis_title,
    segment_colour,
    segment_label,
)

if TYPE_CHECKING:
    from analytics.studies.profiles import Projection

__all__ = [
    "SEGMENT_COLOURS",
    "map_axes",
    "profile_heatmap_figure",
    "segment_colour",
    "segment_map_figure",
    "segment_profile_figure",
    "sizes_figure",
    "top_probability_figure",
]

#: Share of a 2-D Gaussian inside its n-sigma ellipse (chi-square with 2 degrees of freedom).
_SIGMA_SHARE = {1: 0.39, 2: 0.86, 3: 0.99}


def map_axes(projection: Projection) -> tuple[str, str, str | None]:
    """Axis titles in words and a subtitle with the PCA shares of variance.

    Returns
    -------
    (x_title, y_title, subtitle); the subtitle is None for a map of two columns
    """
    if projection.kind != "pca":
        return escape(projection.x_label), escape(projection.y_label), None
    share = list(projection.explained) + [0.0, 0.0]
    sub = f"PCA 1 holds {share[0]:.0%} of the differences between customers, PCA 2 {share[1]:.0%}"
    return pca_axis_title(1), pca_axis_title(2), sub


def segment_map_figure(
    projection: Projection,
    *,
    names: Mapping[int, str] | None = None,
    encode: str = "size",
    ellipses: bool = False,
    sigma: int = 2,
    title: str | None = None,
    height: int | None = 520,
) -> go.Figure:
    """Customers on a 2-D map coloured by segment, certainty shown as in PDSH.

    The axes hold the bulk of the customers (see :func:`~analytics.charts.base.bulk_range`):
    a point beyond them is drawn at the edge as an open triangle and its hover says
    where it really is.

    Parameters
    ----------
    projection : a :class:`~analytics.studies.profiles.Projection`; its ``points``
        (shape (m, ...)) hold ``x``, ``y``, ``segment`` (1..k) and
        ``segment_probability`` (0..1)
    names : optional segment names, ``{segment: name}``
    encode : "size" (marker size grows with probability squared, as PDSH's
        ``50 * probs.max(1) ** 2``) or "opacity" (faint = uncertain)
    ellipses : draw each Gaussian segment's ``sigma`` contour (one per segment)
    title : what the map answers; a note is appended when only a sample is drawn

    Returns
    -------
    go.Figure with one marker trace per segment (in segment order) followed by at
    most one ellipse trace per segment
    """
    if encode not in ("size", "opacity"):
        raise ValueError(f"encode must be 'size' or 'opacity', got {encode!r}")
    points = projection.points
    x_title, y_title, subtitle = map_axes(projection)
    x_all = points["x"].to_numpy(dtype="float64")
    y_all = points["y"].to_numpy(dtype="float64")
    x_lim, y_lim = bulk_range(x_all), bulk_range(y_all)
    fig = go.Figure()
    n_out = 0
    segs = np.sort(pd.unique(points["segment"].to_numpy()))
    for s in segs:
        sub = points[points["segment"].to_numpy() == s]
        label = segment_label(s, names)
        x0, y0 = sub["x"].to_numpy(dtype="float64"), sub["y"].to_numpy(dtype="float64")
        x, x_out = clip_to_range(x0, *x_lim)
        y, y_out = clip_to_range(y0, *y_lim)
        out = x_out | y_out
        n_out += int(out.sum())
        # Per-point hover note; None when every point of the segment is inside the axes.
        note = (
            [
                f"<br>beyond the axes, drawn at the edge; really at ({a:.4g}, {b:.4g})" if o else ""
                for o, a, b in zip(out, x0, y0, strict=True)
            ]
            if out.any()
            else None
        )
        marker: dict[str, object] = {"color": segment_colour(s), "line": {"width": 0}}
        hover = f"{label}<br>{x_title}: %{{x:.4g}}<br>{y_title}: %{{y:.4g}}"
        custom = None
        if "segment_probability" in sub:
            prob = sub["segment_probability"].to_numpy(dtype="float64")
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
        if note is not None:
            marker["symbol"] = np.where(out, OUTLIER_SYMBOL, "circle").tolist()
            marker["line"] = {"width": 1, "color": segment_colour(s)}
            hover += "%{text}"
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="markers",
                name=label,
                legendgroup=f"segment {s}",
                marker=marker,
                customdata=custom,
                text=note,
                hovertemplate=hover + "<extra></extra>",
                meta={"role": "points", "segment": int(s), "n_outside": int(out.sum())},
            )
        )
    if ellipses and len(projection.ellipses):
        e_all = projection.ellipses
        e_all = e_all[e_all["n_sigma"] == sigma]
        for s, e in e_all.groupby("segment", sort=True):
            fig.add_trace(
                go.Scatter(
                    x=e["x"].to_numpy(),
                    y=e["y"].to_numpy(),
                    mode="lines",
                    name=f"{segment_label(s, names)}: shape",
                    legendgroup=f"segment {s}",
                    showlegend=False,
                    hoverinfo="skip",
                    line={"color": segment_colour(s), "width": 2},
                    meta={"role": "ellipse", "segment": int(s), "n_sigma": int(sigma)},
                )
            )
    full = title or "Which customers are alike? Each dot is a customer, coloured by segment"
    if projection.n_total > len(points):
        full += f" (a random sample of {len(points):,} of {projection.n_total:,} customers)"
    notes = [subtitle] if subtitle else []
    if ellipses and len(projection.ellipses):
        notes.append(f"each outline holds about {_SIGMA_SHARE.get(sigma, 0.9):.0%} of its segment")
    if n_out:
        notes.append(f"{n_out:,} far-out customers drawn at the edge as triangles")
    fig.update_xaxes(range=padded(x_lim))
    fig.update_yaxes(range=padded(y_lim))
    return finish(
        fig,
        title=full,
        subtitle="; ".join(notes) or None,
        x_title=x_title,
        y_title=y_title,
        height=height,
        legend_title="Segment",
    )


def sizes_figure(
    sizes: Sequence[int] | np.ndarray | pd.Series,
    *,
    names: Mapping[int, str] | None = None,
    title: str | None = "How many customers are in each segment?",
    height: int | None = 320,
) -> go.Figure:
    """Bar chart of customers per segment, labelled with count and share.

    Parameters
    ----------
    sizes : shape (k,), rows in segments 1..k (a Series keeps its index as segments)

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
            x=[segment_label(s, names) for s in segs],
            y=counts,
            marker={"color": [segment_colour(s) for s in segs]},
            text=[f"{c:,} ({c / total:.0%})" for c in counts],
            textposition="auto",
            hovertemplate="%{x}: %{y:,} customers<extra></extra>",
            showlegend=False,
        )
    )
    fig.update_xaxes(type="category")
    return finish(fig, title=title, height=height, y_title="Customers")


def profile_heatmap_figure(
    z: pd.DataFrame,
    means: pd.DataFrame | None = None,
    *,
    names: Mapping[int, str] | None = None,
    title: str | None = "How does each segment differ from the average customer?",
    height: int | None = None,
    zmax: float = 2.0,
) -> go.Figure:
    """Heatmap of feature means per segment as z-scores, diverging around 0.

    Parameters
    ----------
    z : DataFrame of shape (k, n_items), index = segment numbers, columns =
        features (as from :func:`analytics.studies.profiles.feature_profile`)
    means : same shape, original-unit means (shares for category levels) shown on hover
    names : optional segment names for the columns
    zmax : colour range is ``[-zmax, zmax]``; cells beyond it take the end colour

    Returns
    -------
    go.Figure with one Heatmap trace: rows = features, columns = segments, so
    ``fig.data[0].z`` is ``z.T``
    """
    zz = z.to_numpy(dtype="float64").T  # (n_items, k)
    custom = None
    hover = "%{x}<br>%{y}<br>%{z:.2f} standard deviations from the average"
    if means is not None:
        custom = means.reindex(index=z.index, columns=z.columns).to_numpy(dtype="float64").T
        hover = (
            "%{x}<br>%{y}: mean %{customdata:.4g}<br>%{z:.2f} standard deviations from the average"
        )
    x = [str(s) if names is None else segment_label(s, names) for s in z.index]
    fig = go.Figure(
        go.Heatmap(
            z=zz,
            x=x,
            y=[escape(c) for c in z.columns],
            customdata=custom,
            colorscale="RdBu",
            reversescale=True,
            zmid=0.0,
            zmin=-zmax,
            zmax=zmax,
            texttemplate="%{z:.1f}",
            hovertemplate=hover + "<extra></extra>",
            colorbar={"title": {"text": "vs average"}},
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    h = height if height is not None else max(260, 60 + 28 * zz.shape[0])
    return finish(fig, title=title, height=h, x_title="Segment")


def top_probability_figure(
    top: Sequence[float] | np.ndarray,
    n_ambiguous: int,
    *,
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
    return finish(
        fig, title=full, height=height, x_title="Top segment probability", y_title="Customers"
    )


def segment_profile_figure(
    comparison: pd.DataFrame,
    segment: int,
    *,
    names: Mapping[int, str] | None = None,
    title: str | None = None,
    height: int | None = None,
) -> go.Figure:
    """One segment against the average customer, item by item, in original units.

    Each item (a numeric column's mean, or a category level's share) gets its own
    small panel with its own axis, since the columns have different units: a bar
    for the segment (in its colour) and one for the average customer (grey), each
    labelled with its value as on the segment's card.

    Parameters
    ----------
    comparison : DataFrame of shape (n_items, ...) as from
        :func:`analytics.studies.profiles.profile_comparison` (``label``, ``kind``,
        ``segment_value``, ``average``, ``segment_text``, ``average_text``, ``difference``)
    segment : the segment's number (its colour and name)
    names : optional segment names, ``{segment: name}``
    title : what the chart answers; default "What sets <name> apart?"

    Returns
    -------
    go.Figure with two Bar traces per item (segment, then average), one panel per item
    """
    n = max(len(comparison), 1)
    label = segment_label(segment, names)
    panels = [f"{escape(r.label)}: {escape(r.difference)}" for r in comparison.itertuples()] or [""]
    fig = make_subplots(rows=n, cols=1, subplot_titles=panels, vertical_spacing=0.6 / n)
    for i, r in enumerate(comparison.itertuples(), start=1):
        scale = 100.0 if r.kind == "category" else 1.0
        unit = " of customers" if r.kind == "category" else ""
        values = []
        for who, value, text, colour in (
            ("This segment", r.segment_value, r.segment_text, segment_colour(segment)),
            ("Average customer", r.average, r.average_text, NEUTRAL_COLOUR),
        ):
            v = float(value) * scale if np.isfinite(value) else 0.0
            values.append(v)
            fig.add_trace(
                go.Bar(
                    x=[v],
                    y=[who],
                    orientation="h",
                    marker={"color": colour},
                    text=[escape(text)],
                    textposition="outside",
                    textangle=0,
                    cliponaxis=False,
                    hovertemplate=f"{who}: {escape(text)}{unit}<extra></extra>",
                    showlegend=False,
                    meta={"item": escape(r.label), "who": who},
                ),
                row=i,
                col=1,
            )
        # Room beyond the longer bar for its value label; bars start at 0 unless negative.
        lo, hi = min(0.0, *values), max(0.0, *values)
        room = 0.25 * ((hi - lo) or 1.0)
        fig.update_xaxes(
            range=[lo - (room if lo < 0 else 0.0), hi + room],
            ticksuffix="%" if r.kind == "category" else "",
            row=i,
            col=1,
        )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_annotations(font={"size": 13})
    h = height if height is not None else 70 + 105 * n
    return finish(fig, title=title or f"What sets {label} apart?", height=h)
