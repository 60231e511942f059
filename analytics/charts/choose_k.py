"""Plotly figures for choosing k: one view per criterion, each marking the recommended k.

Every builder takes a :class:`~analytics.studies.choose_k.KSweep` (or the per-row
:class:`~analytics.studies.choose_k.SilhouetteRows`) first and keyword-only options,
draws its lines through :func:`_criterion_figure`, finishes through
:func:`analytics.charts.base.finish`, and marks the recommended k with a dotted
vertical line named in ``layout.shapes`` / ``layout.annotations``. The ks that are
shown but not recommended (a segment below the minimum share) are shaded grey and
marked with a grey cross on the first line, in a legend entry that says why.
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
    "gap_figure",
    "silhouette_figure",
    "silhouette_rows_figure",
]

#: One colour per covariance type, used for BIC (solid) and AIC (dashed).
COVARIANCE_COLOURS = dict(zip(COVARIANCE_TYPES, SEGMENT_COLOURS[:4], strict=True))
RECOMMENDED_COLOUR = MARK_COLOUR
VETOED_COLOUR = "#9e9e9e"
#: Legend entry of the crosses at the ks not recommended.
VETOED_NAME = "not recommended: a segment too small"


def vetoed_ks(sweep: KSweep) -> list[int]:
    """The ks of the sweep that were shown but not recommended (a vetoed k), increasing."""
    rec = sweep.recommendation
    return sorted(rec.vetoed) if rec is not None else []


def _mark_vetoed(
    fig: go.Figure, sweep: KSweep, column: str | None, row: int | str | None = None
) -> None:
    """Grey bands at the vetoed ks, and grey crosses on ``column``'s line (once)."""
    ks = [k for k in vetoed_ks(sweep) if k in sweep.table.index]
    if not ks:
        return
    kw = {"row": row, "col": 1} if row is not None else {}
    for k in ks:
        fig.add_vrect(
            x0=k - 0.4, x1=k + 0.4, fillcolor=VETOED_COLOUR, opacity=0.15, line_width=0,
            layer="below", **kw,
        )  # fmt: skip
    if column is None or column not in sweep.table:
        return
    share = sweep.min_share
    fig.add_trace(
        go.Scatter(
            x=ks,
            y=[float(sweep.table.at[k, column]) for k in ks],
            mode="markers",
            name=VETOED_NAME + (f" (under {share:.0%} of rows)" if share else ""),
            marker={"symbol": "x", "size": 11, "color": VETOED_COLOUR},
            hovertemplate="k = %{x}: a segment holds under "
            + f"{share:.0%} of the rows<extra></extra>",
        ),
        **kw,
    )


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
    first = next((c for c, *_ in series if c in sweep.table), None)
    _mark_vetoed(fig, sweep, first)
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
    """ICL (the lowest over covariance types, thick) and BIC (solid, one colour per
    covariance type, as in PDSH) against k; the ICL per type (dotted) and AIC (dashed)
    lines are in the legend, hidden until clicked.
    """
    _need(sweep, "gmm", "BIC/AIC chart")
    series = [("icl", "ICL (lowest over types)", MARK_COLOUR, "solid")]
    for crit, dash in (("bic", "solid"), ("icl", "dot"), ("aic", "dash")):
        for cov in COVARIANCE_TYPES:
            series.append(
                (f"{crit}_{cov}", f"{crit.upper()} ({cov})", COVARIANCE_COLOURS[cov], dash)
            )
    fig = _criterion_figure(
        sweep,
        series,
        title or "Which k and segment shape fit best? ICL and BIC (lower is better)",
        "ICL / BIC (lower is better)",
        height,
        subtitle="ICL is BIC plus a penalty for overlapping segments; it decides. "
        "Click a legend entry to show ICL per type (dotted) or AIC (dashed)",
    )
    for trace in fig.data:
        if trace.name.startswith("AIC") or (
            trace.name.startswith("ICL (") and "lowest" not in trace.name
        ):
            trace.visible = "legendonly"
        if trace.name.startswith("ICL (lowest"):
            trace.line.width = 4
    k = sweep.recommended_k
    if k is not None and "best_covariance" in sweep.table:
        cov = str(sweep.table.at[k, "best_covariance"])
        column = "icl" if "icl" in sweep.table else "bic"
        fig.add_trace(
            go.Scatter(
                x=[k],
                y=[float(sweep.table.at[k, column])],
                mode="markers",
                name=f"recommended: lowest {column.upper()} type ({cov})",
                marker={"size": 14, "symbol": "star", "color": COVARIANCE_COLOURS[cov]},
                hoverinfo="skip",
            )
        )
    return fig


#: The FCM panels, top to bottom: the objective (its knee decides), the indices.
FCM_PANELS: tuple[tuple[str, ...], ...] = (
    ("objective",),
    ("mpc",),
    ("xie_beni",),
    ("partition_coefficient", "partition_entropy"),
)


def fcm_indices_figure(
    sweep: KSweep, *, title: str | None = None, height: int | None = 720
) -> go.Figure:
    """The fuzzy c-means objective (its knee marked) and the validity indices, one
    panel each: modified partition coefficient, Xie-Beni, and partition coefficient
    with entropy (which favour few segments by construction) together at the bottom."""
    _need(sweep, "fcm", "fuzzy c-means indices chart")

    def panel_title(cols: tuple[str, ...]) -> str:
        if len(cols) > 1:
            return "Partition coefficient (higher) and entropy (lower): biased towards few segments"
        c = CRITERIA[cols[0]]
        return f"{c.label} ({'higher' if c.higher_is_better else 'lower'} is better)"

    fig = make_subplots(
        rows=len(FCM_PANELS),
        cols=1,
        shared_xaxes=True,
        subplot_titles=[panel_title(p) for p in FCM_PANELS],
        vertical_spacing=0.07,
    )
    ks = list(sweep.table.index)
    colour = 1
    for i, cols in enumerate(FCM_PANELS, start=1):
        for c in cols:
            fig.add_trace(
                go.Scatter(
                    x=ks,
                    y=sweep.table[c].astype(float).tolist() if c in sweep.table else [],
                    mode="lines+markers",
                    name=CRITERIA[c].label,
                    line={"color": SEGMENT_COLOURS[colour]},
                ),
                row=i,
                col=1,
            )
            colour += 1
    if sweep.knee_k is not None and "objective" in sweep.table:
        fig.add_trace(
            go.Scatter(
                x=[sweep.knee_k],
                y=[float(sweep.table.at[sweep.knee_k, "objective"])],
                mode="markers+text",
                name="elbow",
                text=[f"elbow at {sweep.knee_k}"],
                textposition="top right",
                marker={"size": 16, "symbol": "circle-open", "color": SEGMENT_COLOURS[5],
                        "line": {"width": 3}},
                hoverinfo="skip",
            ),
            row=1,
            col=1,
        )  # fmt: skip
    fig.update_xaxes(tickmode="array", tickvals=ks)
    fig.update_xaxes(title_text="Number of segments k", row=len(FCM_PANELS), col=1)
    _mark_k(fig, sweep.recommended_k, row="all")
    _mark_vetoed(fig, sweep, "objective", row=1)
    return finish(
        fig,
        title=title or "Where do more fuzzy segments stop paying off? Objective and indices",
        height=height,
        hovermode="x unified",
        showlegend=False,
    )


def gap_figure(sweep: KSweep, *, title: str | None = None, height: int | None = 380) -> go.Figure:
    """The gap statistic against k with one-standard-error bars (k-means): how much
    tighter the segments are than in structureless data of the same spread."""
    _need(sweep, "kmeans", "gap statistic chart")
    fig = _criterion_figure(
        sweep,
        [("gap", "Gap statistic", SEGMENT_COLOURS[3], "solid")],
        title or "Is there structure beyond noise? Gap statistic (higher is better)",
        "Gap (log spread of random data minus log spread of the data)",
        height,
        subtitle="The first k whose gap is within one error bar of the next k's is the gap's pick",
    )
    if "gap_se" in sweep.table and fig.data:
        fig.data[0].error_y = {
            "type": "data",
            "array": sweep.table["gap_se"].astype(float).tolist(),
            "visible": True,
        }
    return fig


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
