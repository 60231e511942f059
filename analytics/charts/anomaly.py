"""Plotly figure builders for the Anomalies page: data in, ``go.Figure`` out."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from sklearn.decomposition import PCA

from analytics.parallel import blas_single

#: Most points drawn in a scatter (browsers slow down with more).
MAX_POINTS = 5_000

NORMAL_COLOUR = "#8da0cb"
ANOMALY_COLOUR = "#d62728"


def density_histogram(
    log_density: np.ndarray, cutoff: float, nbins: int = 60, title: str | None = None
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
    text = title or "Log density of every row (lower = more unusual)"
    if below:
        text += f"; {below:,} very low value(s) drawn at {floor:.1f}"
    fig.update_layout(
        title=text,
        barmode="stack",
        xaxis_title="log density under the mixture",
        yaxis_title="rows",
        legend=dict(orientation="h", y=-0.2),
    )
    return fig


def anomaly_map(
    X: np.ndarray,
    is_anomaly: np.ndarray,
    segments: np.ndarray | None = None,
    hover: list[str] | np.ndarray | None = None,
    max_points: int = MAX_POINTS,
    random_state: int = 0,
) -> go.Figure:
    """2-D map (first two principal components of the prepared features) with anomalies
    highlighted.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features), the prepared features
    is_anomaly : bool ndarray of shape (n_rows,)
    segments : optional ndarray of shape (n_rows,), nearest segment (colours the rest)
    hover : optional text per row (e.g. the explanation)
    max_points : at most this many points are drawn: every anomaly first (up to the
        cap), then a random sample of the other rows; the title says so
    """
    X = np.asarray(X, dtype="float64")
    flags = np.asarray(is_anomaly, dtype=bool)
    n = X.shape[0]
    rng = np.random.default_rng(random_state)
    anomalies = np.flatnonzero(flags)
    if len(anomalies) > max_points:
        anomalies = np.sort(rng.choice(anomalies, max_points, replace=False))
    others = np.flatnonzero(~flags)
    room = max(0, max_points - len(anomalies))
    if len(others) > room:
        others = np.sort(rng.choice(others, room, replace=False))
    if X.shape[1] >= 2:
        fit_rows = X if n <= 20_000 else X[rng.choice(n, 20_000, replace=False)]
        with blas_single():
            pca = PCA(n_components=2, random_state=random_state).fit(fit_rows)
            share = pca.explained_variance_ratio_
        xy = lambda idx: pca.transform(X[idx])  # noqa: E731
        axes = [f"component {i + 1} ({share[i]:.0%} of variance)" for i in range(2)]
    else:
        xy = lambda idx: np.column_stack([X[idx, 0], np.zeros(len(idx))])  # noqa: E731
        axes = ["the one feature (scaled)", ""]
    fig = go.Figure()
    text = None if hover is None else np.asarray(hover, dtype=object)
    seg_vals = None if segments is None else np.asarray(segments)
    groups = [("rows", others)] if seg_vals is None else [
        (f"segment {s}", others[seg_vals[others] == s]) for s in np.unique(seg_vals[others])
    ]  # fmt: skip
    for name, idx in groups:
        p = xy(idx) if len(idx) else np.empty((0, 2))
        fig.add_trace(
            go.Scattergl(
                x=p[:, 0], y=p[:, 1], mode="markers", name=name, opacity=0.45,
                marker=dict(size=5), text=None if text is None else text[idx],
                hovertemplate="%{text}<extra></extra>" if text is not None else None,
            )
        )  # fmt: skip
    p = xy(anomalies) if len(anomalies) else np.empty((0, 2))
    fig.add_trace(
        go.Scattergl(
            x=p[:, 0], y=p[:, 1], mode="markers", name="anomalies",
            marker=dict(size=10, color=ANOMALY_COLOUR, symbol="x"),
            text=None if text is None else text[anomalies],
            hovertemplate="%{text}<extra></extra>" if text is not None else None,
        )
    )  # fmt: skip
    drawn = len(anomalies) + len(others)
    title = "Rows on a 2-D map of the features, anomalies as red crosses"
    if drawn < n:
        title += f" (showing {drawn:,} of {n:,} rows: every anomaly and a random sample)"
    fig.update_layout(title=title, xaxis_title=axes[0], yaxis_title=axes[1])
    return fig
