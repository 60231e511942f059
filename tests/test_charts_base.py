"""The shared chart engine: palette distinctness, escaping of user text, titles on
every chart, map axes that hold the bulk (assertions on fig.data and fig.layout)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from sklearn.datasets import make_blobs

from analytics import segment
from analytics.charts import anomaly, choose_k, image, model, segments, synthetic
from analytics.charts.base import SEGMENT_COLOURS, escape, segment_colour, segment_label
from analytics.studies.anomaly import map_coordinates
from analytics.studies.choose_k import sweep_k
from analytics.studies.profiles import feature_profile, projection_2d

# ---------------------------------------------------------------- colour distance
# CIEDE2000 (Sharma, Wu & Dalal 2005) on CIELAB (D65), and the Machado et al. (2009)
# simulation of full deuteranopia and protanopia, written out so the test needs no
# colour library.
_M_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
_DEUTAN = np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                    [-0.011820, 0.042940, 0.968881]])  # fmt: skip
_PROTAN = np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                    [-0.003882, -0.048116, 1.051998]])  # fmt: skip


def _linear(hex_colour: str) -> np.ndarray:
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def _lab(lin: np.ndarray) -> np.ndarray:
    xyz = _M_XYZ @ lin / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _de2000(c1: np.ndarray, c2: np.ndarray) -> float:
    (l1, a1, b1), (l2, a2, b2) = c1, c2
    cb = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(cb**7 / (cb**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1, h2 = np.degrees(np.arctan2(b1, a1p)) % 360, np.degrees(np.arctan2(b2, a2p)) % 360
    dh = 0.0 if c1p * c2p == 0 else (h2 - h1 + 180) % 360 - 180
    d_h = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    lb, cbp = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        hb = h1 + h2
    elif abs(h1 - h2) <= 180:
        hb = (h1 + h2) / 2
    else:
        hb = (h1 + h2 + 360) / 2 if h1 + h2 < 360 else (h1 + h2 - 360) / 2
    t = (1 - 0.17 * np.cos(np.radians(hb - 30)) + 0.24 * np.cos(np.radians(2 * hb))
         + 0.32 * np.cos(np.radians(3 * hb + 6)) - 0.2 * np.cos(np.radians(4 * hb - 63)))  # fmt: skip
    rt = (-np.sin(np.radians(60 * np.exp(-(((hb - 275) / 25) ** 2))))
          * 2 * np.sqrt(cbp**7 / (cbp**7 + 25**7)))  # fmt: skip
    sl = 1 + 0.015 * (lb - 50) ** 2 / np.sqrt(20 + (lb - 50) ** 2)
    sc, sh = 1 + 0.045 * cbp, 1 + 0.015 * cbp * t
    dl, dc = (l2 - l1) / sl, (c2p - c1p) / sc
    return float(np.sqrt(dl**2 + dc**2 + (d_h / sh) ** 2 + rt * dc * (d_h / sh)))


def _min_distance(colours: list[str], vision: np.ndarray | None = None) -> float:
    lin = [_linear(c) if vision is None else np.clip(vision @ _linear(c), 0, 1) for c in colours]
    labs = [_lab(v) for v in lin]
    return min(_de2000(a, b) for a, b in itertools.combinations(labs, 2))


def test_de2000_matches_published_pairs():
    # Sharma et al. (2005), table 1, pairs 1 and 17.
    assert _de2000(np.array([50, 2.6772, -79.7751]), np.array([50, 0, -82.7485])) == (
        pytest.approx(2.0425, abs=1e-4)
    )
    assert _de2000(np.array([50, 2.5, 0]), np.array([73, 25, -18])) == pytest.approx(
        27.1492, abs=1e-4
    )


@pytest.mark.parametrize("k", range(2, 13))
def test_no_two_segments_look_alike_up_to_12(k):
    colours = [segment_colour(j) for j in range(1, k + 1)]
    assert len(set(colours)) == k
    assert _min_distance(colours) >= 20  # clearly different at a glance
    # Still apart for the two common red-green colour-vision deficiencies.
    assert _min_distance(colours, _DEUTAN) >= 9
    assert _min_distance(colours, _PROTAN) >= 9


def test_old_plotly_palette_would_fail_the_distance_check():
    from plotly.colors import qualitative

    assert _min_distance(list(qualitative.Plotly[:4])) < 20  # the 1/4 near-duplicate


# ---------------------------------------------------------------- escaping user text
NASTY = ['<a href="http://x">x</a>', "$x^2$", "50%{x}"]


def test_escape_neutralises_html_mathjax_and_templates():
    assert escape(NASTY[0]) == "&lt;a href=&quot;http://x&quot;&gt;x&lt;/a&gt;"
    assert escape(NASTY[1]) == "&#36;x^2&#36;"
    assert escape(NASTY[2]) == "50&#37;{x}"
    assert escape(3) == "3"
    assert segment_label(2, {2: "<b>VIP</b>"}) == "&lt;b&gt;VIP&lt;/b&gt;"
    assert segment_label(2, {1: "x"}) == segment_label(2) == "Segment 2"


def _labels(fig: go.Figure) -> str:
    """Everything Plotly would render as rich text, as one JSON string."""
    return json.dumps(fig.to_plotly_json(), default=str)


@pytest.fixture(scope="module")
def nasty_df() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    X, _ = make_blobs(n_samples=300, n_features=2, centers=3, random_state=1)
    return pd.DataFrame(
        {NASTY[0]: X[:, 0], NASTY[1]: X[:, 1],
         "kind": rng.choice(["<b>bold</b>", "$5 or $6"], 300)}
    )  # fmt: skip


def test_user_column_names_and_values_are_shown_as_text(nasty_df):
    seg = segment(nasty_df, "gmm", 3)
    names = {1: '<a href="http://x">x</a>', 2: "$x^2$"}
    means, z = feature_profile(seg)
    figs = [
        segments.segment_map_figure(projection_2d(seg, NASTY[0], NASTY[1]), names=names),
        segments.sizes_figure(seg.sizes, names=names),
        segments.profile_heatmap_figure(z, means, names=names),
        synthetic.overlay_histograms(nasty_df, nasty_df, columns=list(nasty_df.columns)),
        synthetic.scatter_overlay(nasty_df, nasty_df, x=NASTY[0], y=NASTY[1]),
        synthetic.correlation_heatmaps(nasty_df, nasty_df, columns=list(nasty_df.columns)),
    ]
    for fig in figs:
        text = _labels(fig)
        assert "<a href" not in text, fig.layout.title.text
        assert "$x^2$" not in text and "<b>bold" not in text and "$5 or $6" not in text
    assert "&lt;a href=&quot;http://x&quot;&gt;x&lt;/a&gt;" in figs[0].layout.xaxis.title.text
    assert figs[0].layout.yaxis.title.text == "&#36;x^2&#36;"
    assert figs[0].data[0].name == "&lt;a href=&quot;http://x&quot;&gt;x&lt;/a&gt;"
    assert "&#36;x^2&#36;" in list(figs[2].data[0].y)


# ---------------------------------------------------------------- titles everywhere
@pytest.fixture(scope="module")
def blobs() -> pd.DataFrame:
    X, _ = make_blobs(n_samples=240, n_features=3, centers=3, cluster_std=0.6, random_state=2)
    return pd.DataFrame(X, columns=["a", "b", "c"])


def _all_figures(blobs: pd.DataFrame) -> list[go.Figure]:
    seg = segment(blobs, "gmm", 3)
    means, z = feature_profile(seg)
    sweeps = {m: sweep_k(blobs, range(2, 5), m) for m in ("kmeans", "gmm", "fcm")}
    xy, explained = map_coordinates(seg.X)
    flags = np.zeros(len(blobs), dtype=bool)
    flags[:3] = True
    dist = pd.DataFrame({"source": ["real to real", "synthetic to real"] * 5,
                         "distance": np.arange(10.0)})  # fmt: skip
    comp = pd.DataFrame(
        {"training_share": [0.5, 0.5], "new_share": [0.4, 0.6],
         "training_count": [5, 5], "new_count": [4, 6]}, index=[1, 2],
    )  # fmt: skip
    return [
        segments.segment_map_figure(projection_2d(seg)),
        segments.sizes_figure(seg.sizes),
        segments.profile_heatmap_figure(z, means),
        segments.top_probability_figure(seg.proba.max(axis=1), 3),
        choose_k.elbow_figure(sweeps["kmeans"]),
        choose_k.silhouette_figure(sweeps["kmeans"]),
        choose_k.bic_figure(sweeps["gmm"]),
        choose_k.fcm_indices_figure(sweeps["fcm"]),
        choose_k.silhouette_rows_figure(sweeps["kmeans"].silhouette_values(3)),
        anomaly.density_histogram(np.linspace(-5, 0, 240), -4.5),
        anomaly.anomaly_map(xy, flags, segments=seg.labels, explained=explained),
        synthetic.overlay_histograms(blobs, blobs, columns=["a", "b"]),
        synthetic.scatter_overlay(blobs, blobs, x="a", y="b"),
        synthetic.correlation_heatmaps(blobs, blobs, columns=["a", "b", "c"]),
        synthetic.distance_histogram(dist, line=2.0),
        model.shares_figure(comp),
        image.palette_figure(np.array([[0, 0, 0], [255, 255, 255]]), np.array([0.3, 0.7])),
    ]


def test_every_chart_has_a_question_title_and_the_plotly_white_template(blobs):
    for fig in _all_figures(blobs):
        title = fig.layout.title.text
        assert title and "?" in title, title
        assert fig.layout.template.layout.plot_bgcolor == "white"


def test_axis_titles_in_words_and_bic_axis_says_what_it_is(blobs):
    sw = sweep_k(blobs, range(2, 5), "gmm")
    fig = choose_k.bic_figure(sw)
    assert fig.layout.yaxis.title.text == "ICL / BIC (lower is better)"
    visible = [t.name for t in fig.data if t.visible is not False and t.visible != "legendonly"]
    assert all(not n.startswith("AIC") for n in visible)  # AIC waits in the legend
    assert "PC1" not in _labels(_all_figures(blobs)[0])


def test_segment_colours_are_the_same_on_every_chart(blobs):
    seg = segment(blobs, "kmeans", 3)
    fig_map = segments.segment_map_figure(projection_2d(seg))
    fig_sizes = segments.sizes_figure(seg.sizes)
    sw = sweep_k(blobs, [3], "kmeans")
    fig_rows = choose_k.silhouette_rows_figure(sw.silhouette_values(3))
    xy, _ = map_coordinates(seg.X)
    fig_anom = anomaly.anomaly_map(xy, np.zeros(len(blobs), bool), segments=seg.labels)
    want = [segment_colour(j) for j in (1, 2, 3)]
    assert [t.marker.color for t in fig_map.data] == want
    assert list(fig_sizes.data[0].marker.color) == want
    assert [t.marker.color for t in fig_rows.data] == want
    assert [t.marker.color for t in fig_anom.data[:3]] == want
    assert SEGMENT_COLOURS[0] == segment_colour(1)


def test_synthetic_bars_stand_side_by_side(blobs):
    fig = synthetic.overlay_histograms(blobs, blobs, columns=["a"])
    assert fig.layout.barmode == "group"
    assert {t.marker.color for t in fig.data} == {synthetic.REAL_COLOUR, synthetic.SYNTH_COLOUR}
    assert all(t.opacity is None for t in fig.data)  # no see-through mixing into brown


# ---------------------------------------------------------------- anomaly map
def test_anomaly_map_takes_a_projection_and_keeps_the_bulk_in_view():
    rng = np.random.default_rng(0)
    xy = rng.normal(0, 1, (500, 2))
    xy[3] = [5e4, 2e4]  # a far anomaly
    flags = np.zeros(500, dtype=bool)
    flags[3] = True
    fig = anomaly.anomaly_map(xy, flags, hover=["<b>row</b>"] * 500)
    assert fig.layout.xaxis.range[1] < 10 and fig.layout.yaxis.range[1] < 10
    crosses = next(t for t in fig.data if t.name == "anomalies")
    assert len(crosses.x) == 1 and crosses.marker.symbol[0] == "triangle-up-open"
    assert "really at (5e+04, 2e+04)" in crosses.text[0]
    assert crosses.text[0].startswith("&lt;b&gt;row")
    with pytest.raises(ValueError):
        anomaly.anomaly_map(xy[:, :1], flags)


def test_map_coordinates_is_pca_of_every_row():
    from sklearn.decomposition import PCA

    X = np.random.default_rng(1).normal(size=(300, 4)) * [3, 2, 1, 0.5]
    xy, explained = map_coordinates(X)
    ref = PCA(n_components=2, random_state=0).fit(X)
    np.testing.assert_allclose(np.abs(xy), np.abs(ref.transform(X)), atol=1e-9)
    np.testing.assert_allclose(explained, ref.explained_variance_ratio_)
    one, share = map_coordinates(X[:, :1])
    np.testing.assert_array_equal(one[:, 0], X[:, 0])
    assert share == [1.0, 0.0]
