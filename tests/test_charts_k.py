"""Choose-k figures: the right traces, the recommended k marked, no Streamlit."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from sklearn.datasets import make_blobs

from analytics import InputError
from analytics.charts.choose_k import (
    bic_figure,
    elbow_figure,
    fcm_indices_figure,
    gap_figure,
    silhouette_figure,
    silhouette_rows_figure,
)
from analytics.studies.choose_k import sweep_k


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    X, _ = make_blobs(n_samples=240, n_features=2, centers=3, cluster_std=0.5, random_state=2)
    return pd.DataFrame(X, columns=["a", "b"])


@pytest.fixture(scope="module")
def sweeps(df):
    return {m: sweep_k(df, range(2, 7), m) for m in ("kmeans", "gmm", "fcm")}


def _marked(fig: go.Figure, k: int) -> bool:
    lines = [s for s in fig.layout.shapes if s.type == "line" and s.x0 == k and s.x1 == k]
    texts = [a.text for a in fig.layout.annotations]
    return bool(lines) and f"recommended k = {k}" in texts


def test_elbow_marks_knee_and_recommendation(sweeps):
    sw = sweeps["kmeans"]
    fig = elbow_figure(sw)
    assert isinstance(fig, go.Figure)
    line = fig.data[0]
    assert list(line.x) == [2, 3, 4, 5, 6]
    np.testing.assert_allclose(line.y, sw.table["inertia"])
    knee = [t for t in fig.data if t.name == "elbow"]
    assert sw.knee_k == 3 and list(knee[0].x) == [3]
    assert _marked(fig, sw.recommended_k) and sw.recommended_k == 3


def test_silhouette_figure_any_method(sweeps):
    for sw in sweeps.values():
        fig = silhouette_figure(sw)
        np.testing.assert_allclose(fig.data[0].y, sw.table["silhouette"])
        assert _marked(fig, sw.recommended_k)
        assert "sample" not in fig.layout.title.text  # exact on 240 rows


def test_bic_figure_lines_per_covariance_type(sweeps):
    sw = sweeps["gmm"]
    fig = bic_figure(sw)
    names = [t.name for t in fig.data]
    for cov in ("full", "tied", "diag", "spherical"):
        assert f"BIC ({cov})" in names and f"AIC ({cov})" in names
    aic = next(t for t in fig.data if t.name == "AIC (full)")
    assert aic.line.dash == "dash"
    np.testing.assert_allclose(aic.y, sw.table["aic_full"])
    icl = next(t for t in fig.data if t.name == "ICL (lowest over types)")
    np.testing.assert_allclose(icl.y, sw.table["icl"])
    assert icl.visible is None and icl.line.width == 4  # shown, thick: it decides
    per_type = next(t for t in fig.data if t.name == "ICL (full)")
    assert per_type.visible == "legendonly" and per_type.line.dash == "dot"
    np.testing.assert_allclose(per_type.y, sw.table["icl_full"])
    star = next(t for t in fig.data if t.name.startswith("recommended: lowest ICL type"))
    assert list(star.x) == [sw.recommended_k]
    assert _marked(fig, sw.recommended_k)


def test_fcm_objective_and_indices_panels(sweeps):
    sw = sweeps["fcm"]
    fig = fcm_indices_figure(sw)
    names = [t.name for t in fig.data]
    assert names[:5] == [
        "Fuzzy c-means objective",
        "Modified partition coefficient",
        "Xie-Beni",
        "Partition coefficient",
        "Partition entropy",
    ]
    assert [t.yaxis for t in fig.data[:5]] == ["y", "y2", "y3", "y4", "y4"]
    np.testing.assert_allclose(fig.data[1].y, sw.table["mpc"])
    knee = next(t for t in fig.data if t.name == "elbow")
    assert list(knee.x) == [sw.knee_k] and knee.yaxis == "y"
    lines = [s for s in fig.layout.shapes if s.x0 == sw.recommended_k]
    assert len(lines) == 4  # one per panel


def test_vetoed_ks_are_shaded_and_crossed():
    """A planted 1% segment: the ks that split it off are shown but marked."""
    rng = np.random.default_rng(0)
    X, _ = make_blobs(
        n_samples=594, centers=[[0, 0], [8, 0], [0, 8]], cluster_std=0.7, random_state=3
    )
    tiny = rng.normal([30, 30], 0.3, size=(6, 2))
    sw = sweep_k(pd.DataFrame(np.vstack([X, tiny]), columns=["a", "b"]), range(2, 7), "kmeans")
    vetoed = sorted(sw.recommendation.vetoed)
    assert vetoed and sw.recommended_k not in vetoed
    for fig in (elbow_figure(sw), silhouette_figure(sw)):
        cross = [t for t in fig.data if t.name.startswith("not recommended")]
        assert len(cross) == 1 and list(cross[0].x) == vetoed
        assert "under 2% of rows" in cross[0].name
        bands = [s for s in fig.layout.shapes if s.type == "rect"]
        assert sorted(round((b.x0 + b.x1) / 2) for b in bands) == vetoed


def test_gap_figure_has_error_bars(sweeps):
    sw = sweeps["kmeans"]
    fig = gap_figure(sw)
    np.testing.assert_allclose(fig.data[0].y, sw.table["gap"])
    np.testing.assert_allclose(fig.data[0].error_y.array, sw.table["gap_se"])
    with pytest.raises(InputError):
        gap_figure(sweeps["gmm"])


def test_wrong_method_is_an_input_error(sweeps):
    with pytest.raises(InputError):
        elbow_figure(sweeps["gmm"])
    with pytest.raises(InputError):
        bic_figure(sweeps["kmeans"])
    with pytest.raises(InputError):
        fcm_indices_figure(sweeps["kmeans"])


def test_silhouette_rows_figure(sweeps):
    rows = sweeps["kmeans"].silhouette_values(3)
    fig = silhouette_rows_figure(rows)
    assert [t.name for t in fig.data] == ["Segment 1", "Segment 2", "Segment 3"]
    assert all(t.orientation == "h" for t in fig.data)
    for t, seg in zip(fig.data, (1, 2, 3), strict=True):
        np.testing.assert_allclose(t.x, np.sort(rows.values[rows.labels == seg]))
    assert sum(len(t.x) for t in fig.data) == len(rows.values)
    avg = [s for s in fig.layout.shapes if s.x0 == pytest.approx(rows.average)]
    assert avg and avg[0].line.dash == "dash"
    with pytest.raises(InputError):
        silhouette_rows_figure(replace(rows, labels=rows.labels[:-1]))


def test_stopped_sweep_draws_without_mark(df):
    sw = sweep_k(df, range(2, 7), "kmeans", should_stop=lambda: True)
    fig = silhouette_figure(sw)
    assert len(fig.layout.shapes) == 0
