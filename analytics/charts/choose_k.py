"""Plotly figures for choosing k: one view per criterion, each marking the recommended k.

Every builder takes a :class:`~analytics.studies.choose_k.KSweep` (or the per-row
:class:`~analytics.studies.choose_k.SilhouetteRows`) first and keyword-only options,
draws its lines through :func:`_criterion_figure`, finishes through
:func:`analytics.charts.base.finish`, and marks the recommended k with a dotted
vertical line named in ``layout.shapes`` / ``layout.annotations``.
Pure functions: data in, ``go.Figure`` out, no Streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analytics.charts.base import (
    MARK_COLOUR,
    SEGMENT_COLOURS,
    finish,
    segment_colour,
    segment_label,
)
from analytics.errors import InputError
from analytics.model.fit import COVARIANCE_TYPES
from analytics.studies.choose_k import CRITERIA, KSweep

if TYPE_CHECKING:
    from analytics.studies.choose_k import SilhouetteRows

__all__ = [
    "bic_figure",
    "elbow_figure",
    "fcm_indices_figure",
    "silhouette_figure",
    "silhouette_rows_figure",
]

#: One colour per covariance type, used for BIC (solid) and AIC (dashed).
COVARIANCE_COLOURS = dict(zip(COVARIANCE_TYPES, SEGMENT_COLOURS[:4], strict=True))
RECOMMENDED_COLOUR = MARK_COLOUR


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
    subtitle: str | None = None,
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
    fig.update_xaxes(tickmode="array", tickvals=ks)
    _mark_k(fig, sweep.recommended_k)
    return finish(
        fig,
        title=title,
        subtitle=subtitle,
        x_title="Number of segments k",
        y_title=y_title,
        height=height,
        hovermode="x unified",
    )


def elbow_figure(sweep: KSweep, *, title: str | None = None, height: int | None = 380) -> go.Figure:
    """Inertia against k (k-means) with the elbow (kneedle) marked by a large marker."""
    _need(sweep, "kmeans", "elbow chart")
    fig = _criterion_figure(
        sweep,
        [("inertia", "Inertia", SEGMENT_COLOURS[0], "solid")],
        title or "Where do more segments stop paying off? Spread within segments (elbow)",
        f"{CRITERIA['inertia'].label} (lower is tighter)",
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
                    "color": SEGMENT_COLOURS[5],
                    "line": {"width": 3},
                },
                hoverinfo="skip",
            )
        )
    return fig


def silhouette_figure(
    sweep: KSweep, *, title: str | None = None, height: int | None = 380
) -> go.Figure:
    """Mean silhouette against k (every method); higher is better."""
    title = title or "How clearly separated are the segments? Silhouette (higher is better)"
    if sweep.silhouette_sample_size is not None:
        title += f" - on a random sample of {sweep.silhouette_sample_size:,} rows"
    return _criterion_figure(
        sweep,
        [("silhouette", "Silhouette", SEGMENT_COLOURS[2], "solid")],
        title,
        "Mean silhouette (higher is better)",
        height,
    )


def bic_figure(sweep: KSweep, *, title: str | None = None, height: int | None = 420) -> go.Figure:
    """BIC (solid) against k, one colour per covariance type (as in PDSH); the AIC
    lines (dashed) are in the legend, hidden until clicked, so four lines show at first.
    """
    _need(sweep, "gmm", "BIC/AIC chart")
    series = []
    for crit, dash in (("bic", "solid"), ("aic", "dash")):
        for cov in COVARIANCE_TYPES:
            series.append(
                (f"{crit}_{cov}", f"{crit.upper()} ({cov})", COVARIANCE_COLOURS[cov], dash)
            )
    fig = _criterion_figure(
        sweep,
        series,
        title or "Which k and segment shape fit best? BIC by covariance type (lower is better)",
        "BIC (lower is better)",
        height,
        subtitle="Click an AIC entry in the legend to compare AIC (dashed) too",
    )
    for trace in fig.data:
        if trace.name.startswith("AIC"):
            trace.visible = "legendonly"
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


def fcm_indices_figure(
    sweep: KSweep, *, title: str | None = None, height: int | None = 560
) -> go.Figure:
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
    return finish(
        fig,
        title=title or "How crisp are the fuzzy segments at each k? Three validity indices",
        height=height,
        hovermode="x unified",
        showlegend=False,
    )


def silhouette_rows_figure(
    rows: SilhouetteRows,
    *,
    names: Mapping[int, str] | None = None,
    title: str | None = None,
    height: int | None = 480,
) -> go.Figure:
    """The silhouette plot: one horizontal bar per row, grouped by segment and sorted,
    with the average silhouette as a dashed vertical line (as in the clustering lecture).

    Parameters
    ----------
    rows : per-row silhouettes (:meth:`KSweep.silhouette_values`): ``values`` and
        ``labels`` (segment 1..k) of shape (m,), and their ``average``
    names : optional segment names, ``{segment: name}``
    """
    values = np.asarray(rows.values, dtype=float)
    labels = np.asarray(rows.labels)
    average = float(rows.average)
    if values.shape != labels.shape or values.ndim != 1:
        raise InputError("values and labels must be 1-D and the same length.", code="bad_shape")
    fig = go.Figure()
    lower = 0
    ticks, tick_text = [], []
    for seg in np.unique(labels):
        v = np.sort(values[labels == seg])
        y = np.arange(lower, lower + len(v))
        label = segment_label(int(seg), names)
        fig.add_trace(
            go.Bar(
                x=v,
                y=y,
                orientation="h",
                name=label,
                marker={"color": segment_colour(int(seg)), "line": {"width": 0}},
                width=1.0,
                hovertemplate=f"{label}: %{{x:.3f}}<extra></extra>",
            )
        )
        ticks.append(lower + len(v) / 2)
        tick_text.append(label if names else str(seg))
        lower += len(v) + max(2, len(values) // 100)  # a gap between segments
    fig.add_vline(
        x=average,
        line={"dash": "dash", "color": MARK_COLOUR, "width": 2},
        annotation_text=f"average {average:.2f}",
        annotation_position="top right",
    )
    fig.update_layout(bargap=0)
    fig.update_yaxes(tickmode="array", tickvals=ticks, ticktext=tick_text)
    fig.update_xaxes(range=[min(-0.1, values.min()), 1])
    return finish(
        fig,
        title=title or "How well does each customer fit its segment? Silhouette by segment",
        x_title="Silhouette coefficient (1 = clearly in its segment, below 0 = closer to another)",
        y_title="Segment",
        height=height,
        showlegend=False,
    )
