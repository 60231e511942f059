"""Figure builders in analytics.charts: assertions on fig.data and fig.layout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from analytics import segment
from analytics.charts.segments import (
    SEGMENT_COLOURS,
    profile_heatmap_figure,
    segment_colour,
    segment_map_figure,
    sizes_figure,
    top_probability_figure,
)
from analytics.studies.profiles import ambiguous_rows, feature_profile, projection_2d


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


def test_map_has_one_point_trace_per_segment_and_ellipses_for_gmm_only(seg):
    proj = projection_2d(seg)
    fig = segment_map_figure(proj.points, ellipses=proj.ellipses, n_total=proj.n_total)
    points = [t for t in fig.data if t.meta["role"] == "points"]
    assert [t.meta["segment"] for t in points] == [1, 2, 3]
    assert [t.name for t in points] == ["Segment 1", "Segment 2", "Segment 3"]
    assert sum(len(t.x) for t in points) == len(seg.labels)
    for t in points:
        assert t.marker.color == segment_colour(t.meta["segment"])
    ellipses = [t for t in fig.data if t.meta["role"] == "ellipse"]
    if seg.method == "gmm":
        assert len(ellipses) == 3 * 3  # 1, 2 and 3 sigma for each segment
        assert {(t.meta["segment"], t.meta["n_sigma"]) for t in ellipses} == {
            (s, n) for s in (1, 2, 3) for n in (1, 2, 3)
        }
        assert all(t.mode == "lines" and not t.showlegend for t in ellipses)
    else:
        assert ellipses == []
    assert _roles(fig)[:3] == ["points"] * 3  # points first, ellipses drawn on top
    assert "sample" not in fig.layout.title.text


def test_map_encodes_probability_as_size_or_opacity():
    pts = pd.DataFrame(
        {"x": [0.0, 1, 2, 3], "y": [0.0, 1, 0, 1], "segment": [1, 1, 2, 2],
         "segment_probability": [1.0, 0.5, 0.6, 0.9]}
    )  # fmt: skip
    by_size = segment_map_figure(pts, encode="size")
    assert np.allclose(by_size.data[0].marker.size, 2 + 8 * np.array([1.0, 0.5]) ** 2)
    by_alpha = segment_map_figure(pts, encode="opacity")
    assert np.allclose(by_alpha.data[1].marker.opacity, 0.1 + 0.9 * np.array([0.6, 0.9]) ** 2)
    assert np.allclose(by_alpha.data[1].customdata, [0.6, 0.9])
    with pytest.raises(ValueError):
        segment_map_figure(pts, encode="colour")


def test_map_title_says_when_sampled(df):
    seg = segment(df, "gmm", 3)
    proj = projection_2d(seg, sample=200)
    fig = segment_map_figure(
        proj.points, n_total=proj.n_total, title="Segment map (PCA)",
        x_title=proj.x_label, y_title=proj.y_label,
    )  # fmt: skip
    assert fig.layout.title.text.startswith("Segment map (PCA)")
    assert f"{len(proj.points):,} of 900 customers" in fig.layout.title.text
    assert fig.layout.xaxis.title.text.startswith("PC1 (")


def test_sizes_bars_and_colours():
    fig = sizes_figure(np.array([50, 30, 20]))
    (bar,) = fig.data
    assert list(bar.y) == [50, 30, 20]
    assert list(bar.x) == ["Segment 1", "Segment 2", "Segment 3"]
    assert list(bar.marker.color) == list(SEGMENT_COLOURS[:3])
    assert bar.text[0] == "50 (50%)"


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
    fig = top_probability_figure(proba.max(axis=1), int(amb.sum()), 0.1, bins=10)
    (bar,) = fig.data
    assert len(bar.y) == 10 and sum(bar.y) == 4
    assert bar.y[3] == 1 and bar.y[5] == 1 and bar.y[9] == 2  # 0.34 | 0.5 | 0.9, 0.97
    assert "2 ambiguous customers (50.0%)" in fig.layout.title.text
