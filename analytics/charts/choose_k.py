"""Plotly figures for choosing k: one view per criterion, each marking the recommended k.

Every builder takes a :class:`~analytics.studies.choose_k.KSweep` (or per-row silhouettes),
draws through the shared :func:`_criterion_figure` engine, and marks the recommended
k with a dotted vertical line named in ``layout.shapes`` / ``layout.annotations``.
Pure functions: data in, ``go.Figure`` out, no Streamlit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analytics.charts.segments import SEGMENT_COLOURS, segment_colour
from analytics.errors import InputError
from analytics.model.fit import COVARIANCE_TYPES
from analytics.studies.choose_k import CRITERIA, KSweep

__all__ = [
    "bic_figure",
    "elbow_figure",
    "fcm_indices_figure",
    "silhouette_figure",
    "silhouette_rows_figure",
]

#: One colour per covariance type, used for BIC (solid) and AIC (dashed).
COVARIANCE_COLOURS = dict(
    zip(COVARIANCE_TYPES, ("#636EFA", "#EF553B", "#00CC96", "#AB63FA"), strict=True)
)
RECOMMENDED_COLOUR = "#444444"


def _layout(fig: go.Figure, title: str, height: int | None) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.0, "xanchor": "left"},
        height=height,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        template="plotly_white",
        hovermode="x unified",
    )
    return fig


def _mark_k(fig: go.Figure, k: int | None, row: int | str | None = None) -> None:
    """Dotted vertical line at the recommended k, labelled once."""
    if k is None:
        return
    kw = {"row": row, "col": 1} if row is not None else {}
    fig.add_vline(
        x=k,
        line={"dash": "dot", "color": RECOMMENDED_COLOUR, "width": 2},
        annotation_text=f"recommended k = {k}",
        annotation_position="top",
        **kw,
    )


def _need(sweep: KSweep, method: str, chart: str) -> None:
    if sweep.method != method:
        raise InputError(
            f"The {chart} needs a {method} sweep; this sweep used {sweep.method_name}.",
            code="wrong_method",
        )


def _criterion_figure(
    sweep: KSweep,
    series: Sequence[tuple[str, str, str, str]],
    title: str,
    y_title: str,
    height: int | None,
) -> go.Figure:
    """The shared engine: one line per ``(column, name, colour, dash)`` against k."""
    fig = go.Figure()
    ks = list(sweep.table.index)
    for column, name, colour, dash in series:
        if column not in sweep.table:
            continue
        fig.add_trace(
            go.Scatter(
                x=ks,
                y=sweep.table[column].astype(float).tolist(),
                mode="lines+markers",
                name=name,
                line={"color": colour, "dash": dash},
                hovertemplate=f"{name}: %{{y:.4g}}<extra></extra>",
            )
        )
    fig.update_xaxes(title_text="Number of segments k", tickmode="array", tickvals=ks)
    fig.update_yaxes(title_text=y_title)
    _mark_k(fig, sweep.recommended_k)
    return _layout(fig, title, height)


def elbow_figure(sweep: KSweep, height: int | None = 380) -> go.Figure:
    """Inertia against k (k-means) with the elbow (kneedle) marked by a large marker."""
    _need(sweep, "kmeans", "elbow chart")
    fig = _criterion_figure(
        sweep,
        [("inertia", "Inertia", SEGMENT_COLOURS[0], "solid")],
        "Elbow: within-segment sum of squares",
        CRITERIA["inertia"].label,
        height,
    )
    if sweep.knee_k is not None:
        fig.add_trace(
            go.Scatter(
                x=[sweep.knee_k],
                y=[float(sweep.table.at[sweep.knee_k, "inertia"])],
                mode="markers+text",
                name="elbow",
                text=[f"elbow at {sweep.knee_k}"],
                textposition="top right",
                marker={
                    "size": 16,
                    "symbol": "circle-open",
                    "color": "#EF553B",
                    "line": {"width": 3},
                },
                hoverinfo="skip",
            )
        )
    return fig


def silhouette_figure(sweep: KSweep, height: int | None = 380) -> go.Figure:
    """Mean silhouette against k (every method); higher is better."""
    title = "Silhouette (higher is better)"
    if sweep.silhouette_sample_size is not None:
        title += f" - on a random sample of {sweep.silhouette_sample_size:,} rows"
    return _criterion_figure(
        sweep,
        [("silhouette", "Silhouette", SEGMENT_COLOURS[2], "solid")],
        title,
        "Mean silhouette",
        height,
    )


def bic_figure(sweep: KSweep, height: int | None = 420) -> go.Figure:
    """BIC (solid) and AIC (dashed) against k, one colour per covariance type (as in PDSH)."""
    _need(sweep, "gmm", "BIC/AIC chart")
    series = []
    for crit, dash in (("bic", "solid"), ("aic", "dash")):
        for cov in COVARIANCE_TYPES:
            series.append(
                (f"{crit}_{cov}", f"{crit.upper()} ({cov})", COVARIANCE_COLOURS[cov], dash)
            )
    fig = _criterion_figure(
        sweep, series, "BIC and AIC by covariance type (lower is better)", "Criterion", height
    )
    k = sweep.recommended_k
    if k is not None and "best_covariance" in sweep.table:
        cov = str(sweep.table.at[k, "best_covariance"])
        fig.add_trace(
            go.Scatter(
                x=[k],
                y=[float(sweep.table.at[k, "bic"])],
                mode="markers",
                name=f"lowest BIC ({cov})",
                marker={"size": 14, "symbol": "star", "color": COVARIANCE_COLOURS[cov]},
                hoverinfo="skip",
            )
        )
    return fig


def fcm_indices_figure(sweep: KSweep, height: int | None = 560) -> go.Figure:
    """Partition coefficient, partition entropy and Xie-Beni against k, one panel each."""
    _need(sweep, "fcm", "fuzzy c-means indices chart")
    columns = ["partition_coefficient", "partition_entropy", "xie_beni"]
    titles = [
        f"{CRITERIA[c].label} ({'higher' if CRITERIA[c].higher_is_better else 'lower'} is better)"
        for c in columns
    ]
    fig = make_subplots(
        rows=3, cols=1, shared_xaxes=True, subplot_titles=titles, vertical_spacing=0.08
    )
    ks = list(sweep.table.index)
    for i, c in enumerate(columns, start=1):
        fig.add_trace(
            go.Scatter(
                x=ks,
                y=sweep.table[c].astype(float).tolist() if c in sweep.table else [],
                mode="lines+markers",
                name=CRITERIA[c].label,
                line={"color": SEGMENT_COLOURS[i]},
            ),
            row=i,
            col=1,
        )
    fig.update_xaxes(tickmode="array", tickvals=ks)
    fig.update_xaxes(title_text="Number of segments k", row=3, col=1)
    _mark_k(fig, sweep.recommended_k, row="all")
    fig.update_layout(showlegend=False)
    return _layout(fig, "Fuzzy c-means validity indices", height)


def silhouette_rows_figure(
    values: np.ndarray,
    labels: np.ndarray,
    average: float,
    title: str | None = None,
    height: int | None = 480,
) -> go.Figure:
    """The silhouette plot: one horizontal bar per row, grouped by segment and sorted,
    with the average silhouette as a dashed vertical line (as in the clustering lecture).

    Parameters
    ----------
    values : silhouette of each row, shape (m,)
    labels : segment (1..k) of each row, shape (m,)
    average : the mean silhouette, drawn as the vertical line
    """
    values = np.asarray(values, dtype=float)
    labels = np.asarray(labels)
    if values.shape != labels.shape or values.ndim != 1:
        raise InputError("values and labels must be 1-D and the same length.", code="bad_shape")
    fig = go.Figure()
    lower = 0
    ticks, tick_text = [], []
    for seg in np.unique(labels):
        v = np.sort(values[labels == seg])
        y = np.arange(lower, lower + len(v))
        fig.add_trace(
            go.Bar(
                x=v,
                y=y,
                orientation="h",
                name=f"Segment {seg}",
                marker={"color": segment_colour(int(seg)), "line": {"width": 0}},
                width=1.0,
                hovertemplate=f"segment {seg}: %{{x:.3f}}<extra></extra>",
            )
        )
        ticks.append(lower + len(v) / 2)
        tick_text.append(str(seg))
        lower += len(v) + max(2, len(values) // 100)  # a gap between segments
    fig.add_vline(
        x=float(average),
        line={"dash": "dash", "color": "red", "width": 2},
        annotation_text=f"average {average:.2f}",
        annotation_position="top right",
    )
    fig.update_layout(bargap=0, showlegend=False)
    fig.update_yaxes(title_text="Segment", tickmode="array", tickvals=ticks, ticktext=tick_text)
    fig.update_xaxes(title_text="Silhouette coefficient", range=[min(-0.1, values.min()), 1])
    _layout(fig, title or "Silhouette of each customer, by segment", height)
    fig.update_layout(hovermode="closest")
    return fig
