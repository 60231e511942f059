"""Charts of saved models: the segment shares of new data beside training's."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

from analytics.charts.base import NEUTRAL_COLOUR, REAL_COLOUR, finish, segment_label

__all__ = ["shares_figure"]

_TRAINING_COLOUR = NEUTRAL_COLOUR
_NEW_COLOUR = REAL_COLOUR


def shares_figure(
    comparison: pd.DataFrame,
    *,
    names: Mapping[int, str] | None = None,
    title: str | None = "Do new customers fall into the segments as often as in training?",
    height: int | None = 340,
) -> go.Figure:
    """Grouped bars of each segment's share in the training data and in the new data.

    Parameters
    ----------
    comparison : DataFrame from :func:`analytics.model.segment_model.shares_comparison`, indexed by
        segment 1..k with ``training_share``, ``new_share``, ``training_count``, ``new_count``
    names : optional segment names, ``{segment: name}``

    Returns
    -------
    go.Figure with two bar traces ("Training", "New data"), k bars each, y in shares (0..1)
    """
    x = [segment_label(j, names) for j in comparison.index]
    fig = go.Figure()
    for name, share, count, colour in (
        ("Training", "training_share", "training_count", _TRAINING_COLOUR),
        ("New data", "new_share", "new_count", _NEW_COLOUR),
    ):
        fig.add_trace(
            go.Bar(
                name=name,
                x=x,
                y=comparison[share].to_numpy(),
                customdata=comparison[count].to_numpy(),
                marker={"color": colour},
                text=[f"{v:.0%}" for v in comparison[share]],
                textposition="auto",
                hovertemplate=f"{name}, %{{x}}: %{{y:.1%}} (%{{customdata:,}} customers)"
                "<extra></extra>",
            )
        )
    fig = finish(fig, title=title, height=height, y_title="Share of customers")
    fig.update_layout(barmode="group")
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return fig
