"""Charts of the Anomalies page: how unusual each row is, and where it sits.

Builders take computed results (log densities, a 2-D projection from
:func:`analytics.studies.anomaly.map_coordinates`) first and keyword-only options,
and finish through :func:`analytics.charts.base.finish`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from analytics.charts.base import (
    ANOMALY_COLOUR,
    NEUTRAL_COLOUR,
    OUTLIER_SYMBOL,
    bulk_range,
    clip_to_range,
    escape,
    finish,
    padded,
    pca_axis_title,
    segment_colour,
    segment_label,
)

__all__ = ["ANOMALY_COLOUR", "MAX_POINTS", "NORMAL_COLOUR", "anomaly_map", "density_histogram"]

#: Most points drawn in a scatter (browsers slow down with more).
MAX_POINTS = 5_000

NORMAL_COLOUR = NEUTRAL_COLOUR


def density_histogram(
    log_density: np.ndarray,
    cutoff: float,
    *,
    nbins: int = 60,
    title: str | None = None,
    height: int | None = 380,
) -> go.Figure:
    """Histogram of log density with the anomaly cutoff as a vertical line.

    Parameters
    ----------
    log_density : ndarray of shape (n_rows,)
    cutoff : rows at or left of this line are anomalies
    nbins : number of bars

    Very low densities (far outliers) would squeeze every other row into one bar,
    so values below a floor are drawn at the floor and the title says how many.
    """
    ld = np.asarray(log_density, dtype="float64")
    n_flagged = int((ld <= cutoff).sum())
    lo_q, q1, q3 = np.quantile(ld, [0.005, 0.25, 0.75]) if len(ld) else (0.0, 0.0, 0.0)
    floor = min(float(cutoff), float(lo_q)) - 0.5 * max(float(q3 - q1), 1e-9)
    below = int((ld < floor).sum())
    shown = np.maximum(ld, floor)
    flagged = shown[ld <= cutoff]
    fig = go.Figure()
    start = float(shown.min()) if len(shown) else 0.0
    size = (float(shown.max()) - start) / nbins if len(shown) and shown.max() > start else 1.0
    bins = dict(start=start, end=float(shown.max()) + size if len(shown) else 1.0, size=size)
    fig.add_trace(
        go.Histogram(x=shown[ld > cutoff], xbins=bins, name="typical rows",
                     marker_color=NORMAL_COLOUR)
    )  # fmt: skip
    fig.add_trace(
        go.Histogram(x=flagged, xbins=bins, name="anomalies", marker_color=ANOMALY_COLOUR)
    )
    fig.add_vline(
        x=float(cutoff),
        line_dash="dash",
        line_color=ANOMALY_COLOUR,
        annotation_text=f"cutoff {cutoff:.2f} ({n_flagged:,} rows)",
        annotation_position="top left",
    )
    text = title or "How unusual is each customer? Left of the line: flagged as anomalies"
    if below:
        text += f"; {below:,} very low value(s) drawn at {floor:.1f}"
    fig.update_layout(barmode="stack", legend={"orientation": "h", "y": -0.25})
    return finish(
        fig,
        title=text,
        x_title="How typical the row is (log density; lower = more unusual)",
        y_title="Rows",
        height=height,
    )


def anomaly_map(
    xy: np.ndarray,
    is_anomaly: np.ndarray,
    *,
    segments: np.ndarray | None = None,
    names: Mapping[int, str] | None = None,
    hover: Sequence[str] | np.ndarray | None = None,
    explained: Sequence[float] | None = None,
    max_points: int = MAX_POINTS,
    random_state: int = 0,
    title: str | None = None,
    height: int | None = 520,
) -> go.Figure:
    """Rows on a 2-D map with anomalies as crosses.

    The axes hold the bulk of the rows; a row beyond them is drawn at the edge as
    an open triangle (crosses stay crosses) and its hover says where it really is.

    Parameters
    ----------
    xy : ndarray of shape (n_rows, 2), already projected (e.g.
        :func:`analytics.studies.anomaly.map_coordinates`)
    is_anomaly : bool ndarray of shape (n_rows,)
    segments : optional ndarray of shape (n_rows,), nearest segment (colours the rest)
    names : optional segment names, ``{segment: name}``
    hover : optional plain text per row (e.g. the explanation), shown escaped
    explained : share of variance on each PCA axis; given, the axes are named as
        principal components and the shares are in the subtitle
    max_points : at most this many points are drawn: every anomaly first (up to the
        cap), then a random sample of the other rows; the title says so
    """
    xy = np.asarray(xy, dtype="float64")
    flags = np.asarray(is_anomaly, dtype=bool)
    if xy.ndim != 2 or xy.shape[1] != 2 or xy.shape[0] != flags.shape[0]:
        raise ValueError(f"xy must have shape (n_rows, 2) matching is_anomaly, got {xy.shape}")
    n = xy.shape[0]
    rng = np.random.default_rng(random_state)
    anomalies = np.flatnonzero(flags)
    if len(anomalies) > max_points:
        anomalies = np.sort(rng.choice(anomalies, max_points, replace=False))
    others = np.flatnonzero(~flags)
    room = max(0, max_points - len(anomalies))
    if len(others) > room:
        others = np.sort(rng.choice(others, room, replace=False))
    drawn_rows = np.concatenate([others, anomalies])
    x_lim = bulk_range(xy[drawn_rows, 0]) if len(drawn_rows) else (0.0, 1.0)
    y_lim = bulk_range(xy[drawn_rows, 1]) if len(drawn_rows) else (0.0, 1.0)
    text = None if hover is None else np.array([escape(h) for h in hover], dtype=object)
    seg_vals = None if segments is None else np.asarray(segments)

    def trace(idx: np.ndarray, name: str, marker: dict[str, object], symbol: str) -> go.Scattergl:
        x, x_out = clip_to_range(xy[idx, 0], *x_lim)
        y, y_out = clip_to_range(xy[idx, 1], *y_lim)
        out = x_out | y_out
        notes = [
            f"<br>beyond the axes, drawn at the edge; really at ({a:.4g}, {b:.4g})" if o else ""
            for o, a, b in zip(out, xy[idx, 0], xy[idx, 1], strict=True)
        ]
        rows = [""] * len(idx) if text is None else list(text[idx])
        marker = {**marker, "symbol": np.where(out, OUTLIER_SYMBOL, symbol).tolist()}
        return go.Scattergl(
            x=x, y=y, mode="markers", name=name, marker=marker,
            text=[r + nt for r, nt in zip(rows, notes, strict=True)],
            hovertemplate=f"{name}<br>%{{text}}<extra></extra>",
            meta={"n_outside": int(out.sum())},
        )  # fmt: skip

    fig = go.Figure()
    if seg_vals is None:
        groups = [("rows", others, NEUTRAL_COLOUR)]
    else:
        groups = [
            (segment_label(s, names), others[seg_vals[others] == s], segment_colour(s))
            for s in np.unique(seg_vals[others])
        ]
    for name, idx, colour in groups:
        fig.add_trace(trace(idx, name, {"size": 5, "color": colour, "opacity": 0.5}, "circle"))
    fig.add_trace(trace(anomalies, "anomalies", {"size": 10, "color": ANOMALY_COLOUR}, "x"))
    n_out = sum(t.meta["n_outside"] for t in fig.data)
    drawn = len(anomalies) + len(others)
    full = title or "Where are the unusual customers? Anomalies as red crosses"
    if drawn < n:
        full += f" (showing {drawn:,} of {n:,} rows: every anomaly and a random sample)"
    notes = []
    if explained is not None:
        x_title, y_title = pca_axis_title(1), pca_axis_title(2)
        share = list(explained) + [0.0, 0.0]
        notes.append(f"PCA 1 holds {share[0]:.0%} of the differences, PCA 2 {share[1]:.0%}")
    else:
        x_title, y_title = "First map axis", "Second map axis"
    if n_out:
        notes.append(f"{n_out:,} far-out rows drawn at the edge as triangles")
    fig.update_xaxes(range=padded(x_lim))
    fig.update_yaxes(range=padded(y_lim))
    return finish(
        fig,
        title=full,
        subtitle="; ".join(notes) or None,
        x_title=x_title,
        y_title=y_title,
        height=height,
        legend_title="Nearest segment" if seg_vals is not None else None,
    )
