"""sweep_k: known structure, equality with scikit-learn's metrics, words, stopping, stability."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs
from sklearn.metrics import (
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_samples,
    silhouette_score,
)

from analytics import InputError, segment
from analytics.studies.choose_k import (
    KSweep,
    explain,
    knee_point,
    recommend,
    silhouette_values,
    stability,
    sweep_k,
)
from analytics.studies.choose_k import sweep as sweep_module
from analytics.studies.choose_k.criteria import silhouette_many
from analytics.studies.choose_k.sweep import ordered_labels

KS = range(2, 8)


@pytest.fixture(scope="module")
def blobs() -> pd.DataFrame:
    X, _ = make_blobs(
        n_samples=400,
        n_features=3,
        centers=4,
        cluster_std=0.6,
        center_box=(-10, 10),
        random_state=1,
    )
    return pd.DataFrame(X, columns=["spend", "visits", "tenure"])


@pytest.fixture(scope="module")
def sweeps(blobs) -> dict[str, KSweep]:
    return {m: sweep_k(blobs, KS, m, random_state=0) for m in ("kmeans", "gmm", "fcm")}


# --- known structure and words ---------------------------------------------------------


@pytest.mark.parametrize("method", ["kmeans", "gmm", "fcm"])
def test_four_blobs_give_four(sweeps, method):
    sw = sweeps[method]
    assert sw.recommended_k == 4
    assert sw.warning is None
    assert list(sw.table.index) == list(KS) and sw.table.index.name == "k"
    assert sw.silhouette_sample_size is None  # 400 rows: exact
    assert sw.reason.startswith("4 segments:")
    assert not sw.stopped


def test_reasons_name_the_criteria(sweeps):
    assert "elbow" in sweeps["kmeans"].reason and "silhouette" in sweeps["kmeans"].reason
    assert sweeps["kmeans"].knee_k == 4
    assert "BIC" in sweeps["gmm"].reason and "silhouette" in sweeps["gmm"].reason
    assert "covariance" in sweeps["gmm"].reason
    assert "Xie-Beni" in sweeps["fcm"].reason and "silhouette" in sweeps["fcm"].reason


def test_table_columns(sweeps):
    assert {"inertia", "silhouette", "calinski_harabasz", "davies_bouldin"} <= set(
        sweeps["kmeans"].table
    )
    gmm = sweeps["gmm"].table
    for t in ("full", "tied", "diag", "spherical"):
        assert {f"bic_{t}", f"aic_{t}"} <= set(gmm)
    assert np.allclose(gmm["bic"], gmm[[c for c in gmm if c.startswith("bic_")]].min(axis=1))
    assert set(gmm["best_covariance"]) <= {"full", "tied", "diag", "spherical"}
    assert {"partition_coefficient", "partition_entropy", "xie_beni", "silhouette"} <= set(
        sweeps["fcm"].table
    )


# --- equality with scikit-learn ----------------------------------------------------------


def test_kmeans_metrics_equal_sklearn(sweeps):
    sw = sweeps["kmeans"]
    for k in sw.ks:
        lab = sw.labels[k]
        assert sorted(np.unique(lab)) == list(range(1, k + 1))
        assert np.all(np.diff(np.bincount(lab)[1:]) <= 0)  # 1 = largest
        row = sw.table.loc[k]
        assert row["silhouette"] == pytest.approx(silhouette_score(sw.X, lab), rel=1e-10)
        assert row["calinski_harabasz"] == pytest.approx(
            calinski_harabasz_score(sw.X, lab), rel=1e-10
        )
        assert row["davies_bouldin"] == pytest.approx(davies_bouldin_score(sw.X, lab), rel=1e-10)
        means = np.array([sw.X[lab == j].mean(axis=0) for j in range(1, k + 1)])
        inertia = float(((sw.X - means[lab - 1]) ** 2).sum())
        assert row["inertia"] == pytest.approx(inertia, rel=1e-3)  # centres within tol


def test_gmm_bic_aic_equal_sklearn(sweeps):
    sw = sweeps["gmm"]
    assert len(sw.models) == len(sw.ks) * 4
    for (k, cov), model in sw.models.items():
        assert sw.table.at[k, f"bic_{cov}"] == pytest.approx(model.bic(sw.X), rel=1e-10)
        assert sw.table.at[k, f"aic_{cov}"] == pytest.approx(model.aic(sw.X), rel=1e-10)
    for k in sw.ks:
        best = sw.models[(k, sw.table.at[k, "best_covariance"])]
        assert ordered_labels(best.predict(sw.X), k).tolist() == sw.labels[k].tolist()
        assert sw.table.at[k, "silhouette"] == pytest.approx(
            silhouette_score(sw.X, sw.labels[k]), rel=1e-10
        )


def test_fcm_indices_equal_segment(blobs, sweeps):
    sw = sweeps["fcm"]
    for k in (3, 4):
        seg = segment(blobs, "fcm", k, random_state=0)
        for c in ("partition_coefficient", "partition_entropy", "xie_beni"):
            assert sw.table.at[k, c] == pytest.approx(seg.summary[c], rel=1e-10)
        assert sw.table.at[k, "silhouette"] == pytest.approx(
            silhouette_score(sw.X, seg.labels), rel=1e-10
        )


def test_sampled_silhouette_equals_sklearn_sampled(blobs, monkeypatch):
    monkeypatch.setattr(sweep_module, "SILHOUETTE_EXACT_MAX", 150)
    sw = sweep_k(blobs, [3, 4], "kmeans", random_state=7)
    assert sw.silhouette_sample_size == 150
    assert any("sample of 150" in n for n in sw.notes)
    for k in sw.ks:
        ref = silhouette_score(sw.X, sw.labels[k], sample_size=150, random_state=7)
        assert sw.table.at[k, "silhouette"] == pytest.approx(ref, rel=1e-10)


def test_silhouette_values_equal_silhouette_samples(sweeps):
    sw = sweeps["kmeans"]
    rows = sw.silhouette_values(4, sample_size=None)
    assert rows.sample_size is None and len(rows.values) == len(sw.X)
    np.testing.assert_allclose(rows.values, silhouette_samples(sw.X, sw.labels[4]), rtol=1e-10)
    assert rows.average == pytest.approx(sw.table.at[4, "silhouette"], rel=1e-10)
    sub = silhouette_values(sw.X, sw.labels[4], sample_size=100, random_state=3)
    assert sub.sample_size == 100 and len(sub.values) == 100
    np.testing.assert_allclose(
        sub.values, silhouette_samples(sw.X[sub.index], sw.labels[4][sub.index]), rtol=1e-10
    )
    assert sub.average == pytest.approx(
        silhouette_score(sw.X, sw.labels[4], sample_size=100, random_state=3), rel=1e-10
    )


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(5, 40),
    k=st.integers(2, 4),
    seed=st.integers(0, 10_000),
)
def test_silhouette_many_matches_sklearn(n, k, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    sets = [rng.integers(0, k, n), rng.integers(0, 2, n)]
    got = silhouette_many(X, sets)
    for j, lab in enumerate(sets):
        if 2 <= len(np.unique(lab)) <= n - 1:
            np.testing.assert_allclose(got[:, j], silhouette_samples(X, lab), atol=1e-12)
        else:
            assert np.isnan(got[:, j]).all()


# --- kneedle -------------------------------------------------------------------------------


def test_knee_point_hand_worked():
    # x_n = 0, .25, .5, .75, 1; y_n = 1, .333, .111, .056, 0
    # -> (1 - x_n) - y_n = 0, .417, .389, .194, 0: the knee is at k=2.
    assert knee_point([1, 2, 3, 4, 5], [10, 4, 2, 1.5, 1]) == 2
    # y_n = 1, .556, .111, .056, 0 -> differences 0, .194, .389, .194, 0: k=3.
    assert knee_point([1, 2, 3, 4, 5], [10, 6, 2, 1.5, 1]) == 3
    assert knee_point([2, 4, 6], [9.0, 1.0, 0.5]) == 4  # uneven ks are normalised too


@pytest.mark.parametrize(
    "ks, values",
    [
        ([1, 2, 3, 4], [4, 3, 2, 1]),
        ([1, 2], [5, 1]),
        ([1, 2, 3], [1, 1, 1]),
        ([1, 2, 3], [3, 2.9, 0]),
    ],
)
def test_knee_point_none(ks, values):
    assert knee_point(ks, values) is None  # straight line, too short, flat, concave


# --- recommendation and warnings -------------------------------------------------------------


def _recommend(method: str, table: pd.DataFrame, knee_k: int | None):
    """The recommended k, the reason and the warning, as KSweep holds them."""
    decision = recommend(method, table, knee_k)
    reason, warning = explain(decision, table)
    return decision.k, reason, warning


def _table(**cols) -> pd.DataFrame:
    return pd.DataFrame(cols, index=pd.Index([2, 3, 4, 5], name="k"))


def test_knee_decides_kmeans_and_a_lone_dissent_does_not_warn():
    t = _table(
        inertia=[100.0, 80, 12, 10],
        silhouette=[0.5, 0.7, 0.6, 0.4],
        calinski_harabasz=[10.0, 20, 30, 25],
        davies_bouldin=[0.9, 0.6, 0.5, 0.8],
    )
    knee = knee_point(list(t.index), t["inertia"])
    assert knee == 4
    k, reason, warning = _recommend("kmeans", t, knee)
    assert k == 4
    assert reason.startswith("4 segments: the elbow of the inertia curve is at 4")
    assert "silhouette prefers 3 (0.70 against 0.60 at 4)" in reason
    # Elbow, CH and DB agree; only silhouette dissents: no "disagree" warning.
    assert warning is None


def test_silhouette_never_leads_kmeans():
    """Silhouette prefers 3, the knee is at 4: the knee decides (it used to be a tie
    that silhouette broke); with silhouette the only other voice the dissent is
    reported and, one against one, not a majority, so no warning."""
    t = _table(inertia=[100.0, 40, 12, 10], silhouette=[0.5, 0.7, 0.6, 0.4])
    k, reason, warning = _recommend("kmeans", t, 4)
    assert k == 4 and "the elbow of the inertia curve is at 4" in reason
    assert "silhouette prefers 3" in reason and warning is None


def test_most_criteria_against_the_knee_warn():
    t = _table(
        inertia=[100.0, 80, 12, 10],
        silhouette=[0.9, 0.7, 0.6, 0.4],
        calinski_harabasz=[40.0, 20, 30, 25],
        davies_bouldin=[0.3, 0.6, 0.5, 0.8],
    )
    k, _, warning = _recommend("kmeans", t, 4)
    assert k == 4
    assert warning is not None and warning.startswith("The criteria disagree")
    assert "to 2 rather than 4" in warning


def test_gmm_silhouette_and_aic_never_warn():
    t = _table(
        bic=[50.0, 30, 40, 45],
        aic=[45.0, 25, 20, 30],
        silhouette=[0.8, 0.6, 0.5, 0.4],
        bic_full=[50.0, 30, 40, 45],
        aic_full=[45.0, 25, 20, 30],
        best_covariance=["full"] * 4,
    )
    k, reason, warning = _recommend("gmm", t, None)
    assert k == 3
    assert reason.startswith("3 segments: BIC is lowest at 3 (full covariance)")
    assert "AIC prefers 4" in reason and "silhouette prefers 2" in reason
    assert warning is None


def test_best_at_largest_k_warns():
    t = _table(bic=[50.0, 30, 15, 0], silhouette=[0.1, 0.2, 0.3, 0.4], bic_full=[50.0, 30, 15, 0])
    t["best_covariance"] = "full"
    k, _, warning = _recommend("gmm", t, None)
    assert k == 5 and warning.startswith("BIC still falls at the largest k tried (5)")
    assert "larger ks" in warning


# --- inputs, progress, stopping ---------------------------------------------------------------


@pytest.mark.parametrize(
    "ks, code",
    [
        ([0, 2], "bad_ks"),
        ([], "bad_ks"),
        ([2.5], "bad_ks"),
        ([True], "bad_ks"),
        ("abc", "bad_ks"),
        ([2, 51], "bad_ks"),
    ],
)
def test_bad_ks(blobs, ks, code):
    with pytest.raises(InputError) as e:
        sweep_k(blobs, ks, "kmeans")
    assert e.value.code == code


def test_more_ks_than_distinct_rows():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0] * 10, "b": [0.0, 1.0, 5.0] * 10})
    with pytest.raises(InputError, match="only 3 distinct") as e:
        sweep_k(df, [2, 3, 4, 5], "kmeans")
    assert e.value.code == "too_few_distinct"


def test_bad_method_and_settings(blobs):
    with pytest.raises(InputError):
        sweep_k(blobs, KS, "dbscan")
    with pytest.raises(InputError):
        sweep_k(blobs, KS, "gmm", covariance_type="round")
    with pytest.raises(InputError):
        sweep_k(blobs, KS, "kmeans", fuzzifier=3)
    with pytest.raises(InputError):
        sweep_k(blobs, KS, "kmeans", scaling="zscore")


def test_ks_are_sorted_and_deduplicated(blobs):
    sw = sweep_k(blobs, [5, 3, 3, 4], "kmeans", n_init=1)
    assert sw.ks == [3, 4, 5]


def test_progress_and_stop(blobs):
    calls: list[tuple[float, str]] = []
    fitted: list[int] = []

    def progress(f: float, text: str) -> None:
        calls.append((f, text))
        if "k = " in text:
            fitted.append(int(text.split("k = ")[1].split()[0]))

    sw = sweep_k(
        blobs,
        KS,
        "gmm",
        covariance_type="full",
        progress=progress,
        should_stop=lambda: len(fitted) >= 2,
    )
    assert sw.stopped and sw.ks == [2, 3]
    assert list(sw.table.index) == [2, 3]
    assert sw.recommended_k in (2, 3)
    assert any("stopped after k = 3" in n and "4, 5, 6 and 7" in n for n in sw.notes)
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[0] >= 0 and fractions[-1] <= 1
    assert set(sw.table.columns) >= {"bic_full", "aic_full", "bic", "silhouette"}
    assert "bic_tied" not in sw.table


def test_stop_before_any_k(blobs):
    sw = sweep_k(blobs, KS, "kmeans", should_stop=lambda: True)
    assert sw.stopped and sw.ks == [] and sw.recommended_k is None and sw.table.empty
    assert "before any k" in " ".join(sw.notes)


def test_gmm_fits_on_a_subsample_but_scores_all_rows(blobs):
    sw = sweep_k(blobs, [3, 4, 5], "gmm", subsample=150, covariance_type=["full", "diag"])
    assert sw.recommended_k == 4
    assert any("sample of 150" in n for n in sw.notes)
    for (k, cov), model in sw.models.items():
        assert sw.table.at[k, f"bic_{cov}"] == pytest.approx(model.bic(sw.X), rel=1e-10)
    assert len(sw.labels[4]) == len(blobs)


def test_preparation_params_are_used(blobs):
    scaled = blobs.assign(spend=blobs["spend"] * 1000)
    a = sweep_k(scaled, [3, 4], "kmeans", scaling="none")
    b = sweep_k(scaled, [3, 4], "kmeans")
    assert a.X[:, 0].std() > 100 and b.X[:, 0].std() == pytest.approx(1.0)


# --- stability ---------------------------------------------------------------------------------


def test_stability_on_clear_structure(sweeps):
    st_ = sweeps["kmeans"].stability(n_resamples=3)
    assert list(st_.index) == [3, 4, 5]
    assert st_.at[4, "mean_ari"] == pytest.approx(1.0)
    assert st_.at[4, "verdict"] == "very reproducible"
    assert (st_["n_resamples"] == 3).all() and (st_["rows_per_resample"] == 320).all()


def test_stability_function_gmm(blobs):
    out = stability(blobs, [4], "gmm", n_resamples=2, fraction=0.5, random_state=1)
    assert out.at[4, "mean_ari"] > 0.95
    with pytest.raises(InputError):
        stability(blobs, [4], "kmeans", n_resamples=1)


def test_unclear_structure_is_less_reproducible():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(300, 2)), columns=["a", "b"])
    out = stability(df, [6], "kmeans", n_resamples=3, n_init=1)
    assert out.at[6, "mean_ari"] < 0.95


def test_gmm_sweep_leaves_categories_out_like_segment() -> None:
    """The k a sweep recommends is judged on the same features segment() fits."""
    rng = np.random.default_rng(5)
    n = 300
    g = rng.integers(0, 3, n)
    df = pd.DataFrame(
        {
            "a": rng.normal(6.0 * g, 1.0, n),
            "b": rng.normal(-4.0 * g, 1.0, n),
            "channel": rng.choice(["web", "shop"], n),
        }
    )
    sw = sweep_k(df, range(2, 5), "gmm", random_state=0)
    assert any("left out of the mixture" in note for note in sw.notes)
    seg = segment(df, "gmm", 3, covariance_type="full", n_init=1)
    assert sw.table.at[3, "bic_full"] == pytest.approx(seg.summary["bic"], rel=0.02)
