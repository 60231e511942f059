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
    star = next(t for t in fig.data if t.name.startswith("lowest BIC"))
    assert list(star.x) == [sw.recommended_k]
    assert _marked(fig, sw.recommended_k)


def test_fcm_indices_three_panels(sweeps):
    sw = sweeps["fcm"]
    fig = fcm_indices_figure(sw)
    assert [t.name for t in fig.data] == ["Partition coefficient", "Partition entropy", "Xie-Beni"]
    assert {t.yaxis for t in fig.data} == {"y", "y2", "y3"}
    lines = [s for s in fig.layout.shapes if s.x0 == sw.recommended_k]
    assert len(lines) == 3  # one per panel


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
