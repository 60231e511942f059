"""Figure builders in analytics.charts: assertions on fig.data and fig.layout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from analytics import segment
from analytics.charts.base import SEGMENT_COLOURS, segment_colour
from analytics.charts.segments import (
    profile_heatmap_figure,
    segment_map_figure,
    sizes_figure,
    top_probability_figure,
)
from analytics.studies.profiles import Projection, ambiguous_rows, feature_profile, projection_2d


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [6, 0], [0, 6]])
    lab = rng.integers(0, 3, 900)
    xy = centres[lab] + rng.normal(0, 1, (900, 2))
    return pd.DataFrame({"a": xy[:, 0], "b": xy[:, 1], "c": rng.normal(0, 1, 900)})


@pytest.fixture(scope="module", params=["kmeans", "fcm", "gmm"])
def seg(request, df):
    return segment(df, request.param, 3)


def _roles(fig: go.Figure) -> list[str]:
    return [t.meta["role"] for t in fig.data]


def _projection(points: pd.DataFrame) -> Projection:
    empty = pd.DataFrame({"segment": [], "n_sigma": [], "x": [], "y": []})
    return Projection(points, empty, "x", "y", n_total=len(points), kind="columns")


def test_map_has_one_point_trace_per_segment_and_ellipses_only_when_asked(seg):
    proj = projection_2d(seg)
    plain = segment_map_figure(proj)
    assert _roles(plain) == ["points"] * 3  # no ellipses unless asked
    fig = segment_map_figure(proj, ellipses=True)
    points = [t for t in fig.data if t.meta["role"] == "points"]
    assert [t.meta["segment"] for t in points] == [1, 2, 3]
    assert [t.name for t in points] == ["Segment 1", "Segment 2", "Segment 3"]
    assert sum(len(t.x) for t in points) == len(seg.labels)
    for t in points:
        assert t.marker.color == segment_colour(t.meta["segment"])
    ellipses = [t for t in fig.data if t.meta["role"] == "ellipse"]
    if seg.method == "gmm":
        assert len(ellipses) == 3  # at most one per segment
        assert [t.meta["segment"] for t in ellipses] == [1, 2, 3]
        assert all(t.mode == "lines" and not t.showlegend for t in ellipses)
        assert all(t.line.color == segment_colour(t.meta["segment"]) for t in ellipses)
    else:
        assert ellipses == []
    assert _roles(fig)[:3] == ["points"] * 3  # points first, ellipses drawn on top
    assert "sample" not in fig.layout.title.text


def test_map_encodes_probability_as_size_or_opacity():
    pts = pd.DataFrame(
        {"x": [0.0, 1, 2, 3], "y": [0.0, 1, 0, 1], "segment": [1, 1, 2, 2],
         "segment_probability": [1.0, 0.5, 0.6, 0.9]}
    )  # fmt: skip
    by_size = segment_map_figure(_projection(pts), encode="size")
    assert np.allclose(by_size.data[0].marker.size, 2 + 8 * np.array([1.0, 0.5]) ** 2)
    by_alpha = segment_map_figure(_projection(pts), encode="opacity")
    assert np.allclose(by_alpha.data[1].marker.opacity, 0.1 + 0.9 * np.array([0.6, 0.9]) ** 2)
    assert np.allclose(by_alpha.data[1].customdata, [0.6, 0.9])
    with pytest.raises(ValueError):
        segment_map_figure(_projection(pts), encode="colour")


def test_map_title_says_when_sampled_and_axes_are_in_words(df):
    seg = segment(df, "gmm", 3)
    proj = projection_2d(seg, sample=200)
    fig = segment_map_figure(proj, title="Segment map (PCA)")
    assert fig.layout.title.text.startswith("Segment map (PCA)")
    assert f"{len(proj.points):,} of 900 customers" in fig.layout.title.text
    # Axis titles in words; the share of variance moves to the subtitle.
    assert fig.layout.xaxis.title.text == "Main direction of difference (PCA 1)"
    assert fig.layout.yaxis.title.text == "Second direction of difference (PCA 2)"
    assert f"{proj.explained[0]:.0%}" in fig.layout.title.subtitle.text
    cols = segment_map_figure(projection_2d(seg, "a", "b"))
    assert cols.layout.xaxis.title.text == "a" and cols.layout.yaxis.title.text == "b"


def test_map_axes_hold_the_bulk_and_draw_the_outlier_at_the_edge():
    rng = np.random.default_rng(3)
    pts = pd.DataFrame(
        {"x": rng.normal(0, 1, 1000), "y": rng.normal(0, 1, 1000),
         "segment": rng.integers(1, 3, 1000), "segment_probability": 1.0}
    )  # fmt: skip
    pts.loc[17, ["x", "y", "segment"]] = [1e6, -5e5, 2]  # one planted extreme outlier
    fig = segment_map_figure(_projection(pts))
    lo, hi = fig.layout.xaxis.range
    assert hi < 10 and lo > -10  # the axes hold the bulk, not the outlier
    ylo, yhi = fig.layout.yaxis.range
    assert ylo > -10
    assert sum(len(t.x) for t in fig.data) == 1000  # the outlier is still drawn
    seg2 = fig.data[1]
    (i,) = [j for j, t in enumerate(seg2.text) if "1e+06" in t]
    assert seg2.marker.symbol[i] == "triangle-up-open"  # a distinct marker
    assert lo <= seg2.x[i] <= hi and ylo <= seg2.y[i] <= yhi  # drawn inside, at the edge
    assert seg2.x[i] == pytest.approx(max(seg2.x))
    assert "drawn at the edge" in seg2.text[i]  # and the hover says where it really is
    # Ordinary Gaussian tails stay inside: almost nothing but the planted point is clipped.
    n_out = sum(t.meta["n_outside"] for t in fig.data)
    assert 1 <= n_out <= 5
    assert f"{n_out} far-out customers drawn at the edge" in fig.layout.title.subtitle.text


def test_names_appear_in_legend_hover_and_axes(df):
    seg = segment(df, "gmm", 3)
    names = {1: "High income", 2: "Young savers"}
    fig = segment_map_figure(projection_2d(seg), names=names)
    assert [t.name for t in fig.data] == ["High income", "Young savers", "Segment 3"]
    assert fig.data[0].hovertemplate.startswith("High income")
    sizes = sizes_figure(seg.sizes, names=names)
    assert list(sizes.data[0].x) == ["High income", "Young savers", "Segment 3"]
    means, z = feature_profile(seg)
    heat = profile_heatmap_figure(z, means, names=names)
    assert list(heat.data[0].x) == ["High income", "Young savers", "Segment 3"]


def test_sizes_bars_and_colours():
    fig = sizes_figure(np.array([50, 30, 20]))
    (bar,) = fig.data
    assert list(bar.y) == [50, 30, 20]
    assert list(bar.x) == ["Segment 1", "Segment 2", "Segment 3"]
    assert list(bar.marker.color) == list(SEGMENT_COLOURS[:3])
    assert bar.text[0] == "50 (50%)"


def test_sizes_title_asks_the_question():
    assert sizes_figure([3, 2]).layout.title.text == "How many customers are in each segment?"


def test_colours_repeat_beyond_the_palette():
    n = len(SEGMENT_COLOURS)
    assert segment_colour(n + 1) == segment_colour(1) == SEGMENT_COLOURS[0]


def test_heatmap_shows_z_scores_with_means_on_hover(df):
    seg = segment(df, "kmeans", 3)
    means, z = feature_profile(seg)
    fig = profile_heatmap_figure(z, means)
    (hm,) = fig.data
    assert isinstance(hm, go.Heatmap)
    assert np.allclose(np.asarray(hm.z, dtype="float64"), z.to_numpy().T)
    assert np.allclose(np.asarray(hm.customdata, dtype="float64"), means.to_numpy().T)
    assert list(hm.y) == ["a", "b", "c"] and list(hm.x) == ["1", "2", "3"]
    assert hm.zmid == 0 and hm.zmin == -hm.zmax
    assert "mean" in hm.hovertemplate


def test_top_probability_histogram_counts_and_title():
    proba = np.array([[0.5, 0.45, 0.05], [0.9, 0.05, 0.05], [0.34, 0.33, 0.33], [0.97, 0.02, 0.01]])
    amb = ambiguous_rows(proba)
    fig = top_probability_figure(proba.max(axis=1), int(amb.sum()), margin=0.1, bins=10)
    (bar,) = fig.data
    assert len(bar.y) == 10 and sum(bar.y) == 4
    assert bar.y[3] == 1 and bar.y[5] == 1 and bar.y[9] == 2  # 0.34 | 0.5 | 0.9, 0.97
    assert "2 ambiguous customers (50.0%)" in fig.layout.title.text
