"""The shared engine of every chart: one layout step, one segment palette, safe labels.

Like Plotly Express (``plotly/express/_core.py``), each builder in this package is a
short front: it takes the computed result first, then keyword-only options
(``title=``, ``height=``, ``names=`` ...), adds its traces and finishes through
:func:`finish`, so every chart looks alike and every segment has the same colour
on every page.

User strings (column names, category values, segment names) reach Plotly labels
only through :func:`escape`: Plotly renders a subset of HTML (``<b>``, ``<br>``,
``<a href>``) in titles, ticks, legends and hover, typesets ``$...$`` as LaTeX when
MathJax is on the page, and substitutes ``%{...}`` in hover templates.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

__all__ = [
    "ANOMALY_COLOUR",
    "MARK_COLOUR",
    "NEUTRAL_COLOUR",
    "OUTLIER_SYMBOL",
    "REAL_COLOUR",
    "SEGMENT_COLOURS",
    "SYNTH_COLOUR",
    "bulk_range",
    "clip_to_range",
    "escape",
    "finish",
    "padded",
    "pca_axis_title",
    "segment_colour",
    "segment_label",
]

#: The colour of segment ``j`` on every chart (segment 1 first): the eight Okabe-Ito
#: colours (Wong 2011, safe for the common colour-vision deficiencies), then indigo and
#: wine from Paul Tol's "muted" scheme and two greys. Chosen so no two of the twelve are
#: closer than a CIEDE2000 distance of 20 (clearly different at a glance); beyond 12
#: the colours repeat. Yellow stays 7th: it is pale on white, so small k never needs it.
SEGMENT_COLOURS: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
    "#332288",  # indigo (Tol muted)
    "#882255",  # wine (Tol muted)
    "#777777",  # dark grey
    "#BBBBBB",  # light grey
)
#: Flagged rows (anomalies): a deep red, drawn as crosses so shape tells them apart too.
ANOMALY_COLOUR = "#B2182B"
#: Typical (not flagged) rows when segments are not shown.
NEUTRAL_COLOUR = "#9AA5B1"
#: Real and synthetic data: two palette hues far apart (blue and orange).
REAL_COLOUR = SEGMENT_COLOURS[0]
SYNTH_COLOUR = SEGMENT_COLOURS[1]
#: Reference lines (recommended k, averages, cutoffs).
MARK_COLOUR = "#444444"
#: Marker of a point drawn at the edge of a map because it lies beyond the axes.
OUTLIER_SYMBOL = "triangle-up-open"


def segment_colour(segment: int) -> str:
    """Colour of segment ``segment`` (1-based), the same on every chart."""
    return SEGMENT_COLOURS[(int(segment) - 1) % len(SEGMENT_COLOURS)]


def escape(text: object) -> str:
    """``text`` as a string Plotly shows literally.

    HTML is escaped (``<a href>`` and ``<b>`` appear as typed; Plotly decodes the
    entities when drawing), ``$`` becomes ``&#36;`` so two dollars never start a
    LaTeX formula, and ``%`` becomes ``&#37;`` so ``%{x}`` in a name is never a
    hover-template field.
    """
    return html.escape(str(text), quote=True).replace("$", "&#36;").replace("%", "&#37;")


def segment_label(segment: int, names: Mapping[int, str] | None = None) -> str:
    """Display name of a segment: ``names[segment]`` escaped, else ``"Segment j"``."""
    j = int(segment)
    name = None if names is None else names.get(j)
    if name is None or not str(name).strip():
        return f"Segment {j}"
    return escape(name)


def pca_axis_title(axis: int) -> str:
    """Axis title in words for principal component ``axis`` (1 or 2) of a map."""
    return ("Main direction of difference (PCA 1)", "Second direction of difference (PCA 2)")[
        axis - 1
    ]


def bulk_range(
    values: np.ndarray, quantiles: tuple[float, float] = (0.01, 0.99), pad: float = 0.25
) -> tuple[float, float]:
    """Axis limits that hold the bulk of ``values`` rather than its extremes.

    The ``quantiles`` range widened by ``pad`` of its width on each side, but never
    wider than the data: without outliers the limits are the data's own.

    Parameters
    ----------
    values : ndarray of shape (n,); NaN ignored

    Returns
    -------
    (lo, hi) with lo < hi
    """
    v = np.asarray(values, dtype="float64")
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 0.0, 1.0
    q_lo, q_hi = np.quantile(v, quantiles)
    width = float(q_hi - q_lo) or max(abs(float(q_lo)), 1.0)
    lo = max(float(v.min()), float(q_lo) - pad * width)
    hi = min(float(v.max()), float(q_hi) + pad * width)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def padded(lim: tuple[float, float], share: float = 0.03) -> list[float]:
    """Axis range ``share`` wider than ``lim`` on each side, so points on the edge stay whole."""
    lo, hi = lim
    room = share * (hi - lo)
    return [lo - room, hi + room]


def clip_to_range(values: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """``values`` clipped into ``[lo, hi]`` and a mask of the ones that moved.

    Returns
    -------
    clipped : ndarray of shape (n,)
    outside : bool ndarray of shape (n,)
    """
    v = np.asarray(values, dtype="float64")
    clipped = np.clip(v, lo, hi)
    return clipped, (v < lo) | (v > hi)


def finish(
    fig: go.Figure,
    *,
    title: str | None,
    subtitle: str | None = None,
    x_title: str | None = None,
    y_title: str | None = None,
    height: int | None = None,
    legend_title: str | None = None,
    hovermode: str = "closest",
    showlegend: bool | None = None,
) -> go.Figure:
    """The one layout step of every builder: title (and subtitle), axis titles,
    legend, height, margins, template and hover mode.

    Strings are used as given: builders escape user parts before composing them.
    """
    title_spec: dict[str, object] = {"text": title or "", "x": 0.0, "xanchor": "left"}
    if subtitle:
        title_spec["subtitle"] = {"text": subtitle}
    top = 20 + (40 if title else 0) + (20 if subtitle else 0)
    fig.update_layout(
        title=title_spec,
        height=height,
        margin={"l": 10, "r": 10, "t": top, "b": 10},
        template="plotly_white",
        hovermode=hovermode,
        legend={"title": {"text": legend_title or ""}},
    )
    if showlegend is not None:
        fig.update_layout(showlegend=showlegend)
    if x_title is not None:
        fig.update_xaxes(title_text=x_title)
    if y_title is not None:
        fig.update_yaxes(title_text=y_title)
    return fig
