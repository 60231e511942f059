"""segment(): references (scikit-learn, closed forms, labelled datasets), ordering, table/predict
and every bad input."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn.cluster import KMeans
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture

from analytics import InputError, segment
from analytics.model.fit import (
    COLLAPSED_MPC,
    COVARIANCE_TYPES,
    METHODS,
    degenerate_reasons,
    suggested_fuzzifier,
)

# `analytics.model.fit` the attribute is the function; the module is needed for monkeypatching.
seg_mod = importlib.import_module("analytics.model.fit")
from analytics.model.gaussian import SingularCovarianceError, n_parameters  # noqa: E402


def _blob_frame(
    n: int = 120, k: int = 3, seed: int = 0, sizes: list[int] | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """Separated blobs as a customer-like frame (spend, visits) in original units."""
    centres = np.array([[0.0, 0.0], [9.0, 1.0], [1.0, 9.0], [10.0, 10.0]])
    centres = centres[: len(sizes) if sizes is not None else k]
    X, y = make_blobs(
        n_samples=sizes if sizes is not None else n, centers=centres, random_state=seed
    )
    df = pd.DataFrame({"spend": X[:, 0] * 100 + 1000, "visits": X[:, 1] * 2 + 30})
    return df, y


def _mixture_loglik(model: GaussianMixture, X: np.ndarray) -> np.ndarray:
    """log p(x) = logsumexp_j(log w_j + log N(x | mu_j, Sigma_j)), from the fitted parameters."""
    k, d = model.means_.shape
    cov = model.covariances_
    covs = {
        "full": lambda j: cov[j],
        "tied": lambda j: cov,
        "diag": lambda j: np.diag(cov[j]),
        "spherical": lambda j: np.eye(d) * cov[j],
    }[model.covariance_type]
    logs = np.column_stack(
        [
            np.log(model.weights_[j]) + multivariate_normal(model.means_[j], covs(j)).logpdf(X)
            for j in range(k)
        ]
    )
    return logsumexp(logs, axis=1)


# ---------------------------------------------------------------- references


@pytest.mark.parametrize("n_init", [1, 4])
def test_kmeans_matches_scikit_learn(n_init):
    df, _ = _blob_frame(n=150, k=3, seed=1)
    s = segment(df, "kmeans", 3, random_state=5, n_init=n_init)
    ref = KMeans(n_clusters=3, n_init=n_init, random_state=5).fit(s.X)
    assert adjusted_rand_score(ref.labels_, s.labels) == 1.0
    assert s.summary["inertia"] == pytest.approx(ref.inertia_, rel=1e-9)
    # k-means has no probabilities: one-hot at the label
    np.testing.assert_array_equal(s.proba, np.eye(3)[s.labels - 1])


def test_kmeans_matches_scikit_learn_on_overlapping_data():
    rng = np.random.default_rng(2)
    df = pd.DataFrame(rng.normal(size=(200, 3)), columns=list("abc"))
    s = segment(df, "kmeans", 4, random_state=3)
    ref = KMeans(n_clusters=4, n_init=4, random_state=3).fit(s.X)
    assert adjusted_rand_score(ref.labels_, s.labels) == 1.0


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("n_init", [1, 3])
def test_gmm_log_likelihood_equals_scikit_learn(covariance_type, n_init):
    df, _ = _blob_frame(n=150, k=3, seed=2)
    s = segment(df, "gmm", 3, random_state=4, covariance_type=covariance_type, n_init=n_init)
    gm = GaussianMixture(
        n_components=3,
        covariance_type=covariance_type,
        n_init=n_init,
        max_iter=200,
        random_state=4,
    ).fit(s.X)
    n = s.X.shape[0]
    assert s.summary["log_likelihood"] == pytest.approx(gm.score(s.X) * n, rel=1e-6)
    assert s.summary["bic"] == pytest.approx(gm.bic(s.X), rel=1e-6)
    # the same log-likelihood from the fitted parameters in closed form
    per_row = _mixture_loglik(s.estimator, s.X)
    assert s.summary["log_likelihood"] == pytest.approx(per_row.sum(), rel=1e-8)
    np.testing.assert_allclose(s.log_density(), per_row, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(s.log_density(df), per_row, rtol=1e-8, atol=1e-8)
    assert adjusted_rand_score(gm.predict(s.X), s.labels) == 1.0


def test_gmm_posteriors_are_bayes_rule():
    df, _ = _blob_frame(n=90, k=3, seed=3)
    s = segment(df, "gmm", 3, covariance_type="full")
    m = s.estimator
    logs = np.column_stack(
        [
            np.log(m.weights_[j]) + multivariate_normal(m.means_[j], m.covariances_[j]).logpdf(s.X)
            for j in range(3)
        ]
    )
    post = np.exp(logs - logsumexp(logs, axis=1, keepdims=True))
    np.testing.assert_allclose(s.proba, post[:, s.order], atol=1e-8)


def test_gmm_subsample_strategy_runs_and_reports():
    df, y = _blob_frame(n=400, k=3, seed=4)
    fractions = []
    s = segment(df, "gmm", 3, n_init=2, subsample=100, progress=lambda f, _t: fractions.append(f))
    assert "sample of 100 rows" in s.summary["strategy"]
    assert np.isfinite(s.summary["log_likelihood"])
    assert adjusted_rand_score(y, s.labels) > 0.95
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in fractions)


@pytest.mark.parametrize(
    ("dataset", "method", "params", "floor"),
    [
        # measured with random_state=0 (ARI): gmm full 0.904, gmm tied 0.904, kmeans 0.620, fcm 0.630
        ("iris", "gmm", {"covariance_type": "full"}, 0.85),
        ("iris", "gmm", {"covariance_type": "tied"}, 0.85),
        ("iris", "kmeans", {}, 0.57),
        ("iris", "fcm", {}, 0.58),
        # breast cancer: kmeans 0.654 (0.718 with log), fcm 0.683 (0.725 with log),
        # gmm full 0.774 (raw values), gmm diag 0.678; log1p is the default now
        ("breast_cancer", "kmeans", {"log_transform": False}, 0.61),
        ("breast_cancer", "kmeans", {}, 0.67),
        ("breast_cancer", "fcm", {"log_transform": False}, 0.64),
        ("breast_cancer", "fcm", {}, 0.68),
        ("breast_cancer", "gmm", {"covariance_type": "full", "log_transform": False}, 0.72),
        ("breast_cancer", "gmm", {"covariance_type": "diag"}, 0.63),
    ],
)
def test_ari_on_labelled_datasets_above_floor(dataset, method, params, floor):
    loader = {"iris": load_iris, "breast_cancer": load_breast_cancer}[dataset]
    data = loader(as_frame=True)
    k = int(data.target.nunique())
    s = segment(data.data, method, k, random_state=0, **params)
    assert len(s.columns) == data.data.shape[1]
    assert adjusted_rand_score(data.target, s.labels) >= floor


# ---------------------------------------------------------------- ordering and centres


@pytest.mark.parametrize("method", METHODS)
def test_segments_numbered_by_size(method):
    df, _ = _blob_frame(seed=5, sizes=[15, 60, 35])
    s = segment(df, method, 3)
    sizes = np.bincount(s.labels, minlength=4)[1:]
    assert sizes.tolist() == [60, 35, 15]
    assert s.sizes.tolist() == s.summary["sizes"] == [60, 35, 15]
    assert list(s.centers.index) == [1, 2, 3]
    assert s.centers.index.name == "segment"
    assert list(s.centers.columns) == ["spend", "visits"]
    assert s.proba.shape == (110, 3)
    np.testing.assert_array_equal(s.proba.argmax(axis=1) + 1, s.labels)


def test_kmeans_centres_are_group_means_in_original_units():
    df, _ = _blob_frame(n=150, k=4, seed=6)
    s = segment(df, "kmeans", 4)
    means = df.groupby(s.labels).mean()
    np.testing.assert_allclose(s.centers.to_numpy(), means.to_numpy(), rtol=1e-9)


def test_gmm_centres_are_weighted_means_in_original_units():
    df, _ = _blob_frame(n=150, k=3, seed=7)
    s = segment(df, "gmm", 3, tol=1e-8, max_iter=500)
    w = s.proba / s.proba.sum(axis=0)
    np.testing.assert_allclose(s.centers.to_numpy(), w.T @ df.to_numpy(), rtol=1e-5)


def test_centres_with_log_transform_are_back_in_original_units():
    rng = np.random.default_rng(8)
    df = pd.DataFrame({"spend": rng.lognormal(5, 1, 100), "visits": rng.normal(10, 2, 100)})
    s = segment(df, "kmeans", 2, log_transform=["spend"])
    # the centre of a log column is the back-transformed mean of log1p, within the data range
    for j in (1, 2):
        rows = df[s.labels == j]
        assert s.centers.loc[j, "spend"] == pytest.approx(
            np.expm1(np.log1p(rows.spend).mean()), rel=1e-6
        )
        assert rows.spend.min() <= s.centers.loc[j, "spend"] <= rows.spend.max()


# ---------------------------------------------------------------- table and predict


@pytest.mark.parametrize("method", METHODS)
def test_table_keeps_input_and_adds_columns(method):
    rng = np.random.default_rng(9)
    df, _ = _blob_frame(n=60, seed=9)
    df.insert(0, "customer_id", [f"C{i}" for i in range(60)])
    df["region"] = rng.choice(["a", "b"], 60)
    df["note"] = pd.Series([None, "vip"] * 30, dtype="string")
    df.index = pd.Index(rng.permutation(1000)[:60], name="row")
    before = df.copy(deep=True)
    s = segment(df, method, 3)
    t = s.table()
    pd.testing.assert_frame_equal(df, before)  # input untouched
    pd.testing.assert_frame_equal(t[df.columns], before)  # every row, column and value intact
    top, prefix = {
        "gmm": (["segment_probability"], "prob_segment_"),
        "fcm": (["segment_membership"], "membership_segment_"),
        "kmeans": ([], "distance_segment_"),
    }[method]
    soft = [f"{prefix}{j}" for j in (1, 2, 3)]
    assert list(t.columns) == list(df.columns) + ["segment", "segment_name"] + top + soft
    np.testing.assert_array_equal(t["segment"], s.labels)
    assert (t["segment_name"] == "Segment " + t["segment"].astype(str)).all()
    assert not any(c.startswith("prob_") for c in t.columns) or method == "gmm"
    if method == "kmeans":
        # Distances to each centre in prepared units, recomputed by hand; the nearest
        # centre is the segment.
        d = np.sqrt(((s.X[:, None, :] - s.model.params["centers"][None]) ** 2).sum(axis=2))
        np.testing.assert_allclose(t[soft].to_numpy(), d, atol=1e-9)
        np.testing.assert_array_equal(t[soft].to_numpy().argmin(axis=1) + 1, s.labels)
        assert s.probabilities is None and s.memberships is None
    else:
        np.testing.assert_allclose(t[soft].to_numpy(), s.proba)
        np.testing.assert_allclose(t[top[0]], s.proba.max(axis=1))
        np.testing.assert_allclose(t[soft].sum(axis=1), 1.0)
        quantity = s.probabilities if method == "gmm" else s.memberships
        np.testing.assert_array_equal(quantity, s.proba)
        assert s.distances is None


def test_table_handles_existing_segment_columns():
    df, _ = _blob_frame(n=60, seed=10)
    df["segment"] = "old"
    df["prob_segment_1"] = -1.0
    df["distance_segment_1"] = -1.0
    s = segment(df, "kmeans", 2, columns=["spend", "visits"])
    t = s.table()
    assert (t["segment"] == "old").all()
    assert (t["distance_segment_1"] == -1.0).all()
    assert "segment_model" in t.columns and "distance_segment_1_model" in t.columns
    assert "prob_segment_1_model" not in t.columns  # k-means writes no probabilities
    np.testing.assert_array_equal(t["segment_model"], s.labels)
    assert len(set(t.columns)) == len(t.columns)


@pytest.mark.parametrize("method", METHODS)
def test_predict_on_training_rows_equals_table(method):
    df, _ = _blob_frame(n=90, seed=11)
    df["region"] = np.random.default_rng(11).choice(["n", "s", "e"], 90)
    s = segment(df, method, 3)
    pd.testing.assert_frame_equal(s.predict(df), s.table())
    np.testing.assert_allclose(s.predict_proba(df), s.proba)


@pytest.mark.filterwarnings("error")
def test_predict_new_rows_with_unseen_category_and_missing_values():
    df, _ = _blob_frame(n=60, seed=12)
    df["region"] = ["a", "b"] * 30
    s = segment(df, "gmm", 3)
    new = pd.DataFrame({"spend": [np.nan, 1000.0], "visits": [30.0, "?"], "region": ["zzz", None]})
    out = s.predict(new)
    assert out["segment"].isin([1, 2, 3]).all()
    np.testing.assert_allclose(out.filter(like="prob_segment_").sum(axis=1), 1.0)


def test_predict_on_frame_missing_a_column_is_input_error():
    df, _ = _blob_frame(n=60, seed=13)
    s = segment(df, "kmeans", 2)
    with pytest.raises(InputError, match="'visits'") as info:
        s.predict(df[["spend"]])
    assert info.value.code == "missing_columns"
    with pytest.raises(InputError):
        s.predict(df.to_numpy())


def test_predict_with_non_string_column_names():
    rng = np.random.default_rng(14)
    df = pd.DataFrame(rng.normal(size=(40, 2)))
    s = segment(df, "fcm", 2)
    pd.testing.assert_frame_equal(s.predict(df), s.table())


def test_log_density_only_for_mixtures():
    df, _ = _blob_frame(n=60, seed=15)
    with pytest.raises(InputError, match="Gaussian mixtures"):
        segment(df, "kmeans", 2).log_density()


# ---------------------------------------------------------------- rows and models


@pytest.mark.parametrize("method", METHODS)
def test_fewer_rows_than_k(method):
    df, _ = _blob_frame(n=60, seed=16)
    with pytest.raises(InputError, match="only 4 row") as info:
        segment(df.head(4), method, 5)
    assert info.value.code == "too_few_rows"


@pytest.mark.parametrize("method", METHODS)
def test_k_above_number_of_distinct_rows(method):
    df = pd.DataFrame({"a": [1.5, 2.5, 3.5] * 10, "b": [0.1, 7.2, 3.3] * 10})
    with pytest.raises(InputError, match="only 3 distinct") as info:
        segment(df, method, 4)
    assert info.value.code == "too_few_distinct"
    s = segment(df, method, 3)
    assert sorted(s.sizes.tolist()) == [10, 10, 10]


@pytest.mark.parametrize("method", METHODS)
def test_one_row_is_input_error_or_one_segment(method):
    df = pd.DataFrame({"a": [1.5], "b": [2.5]})
    with pytest.raises(InputError) as info:
        segment(df, method, 2)
    assert info.value.code in {"too_few_rows", "no_features"}
    try:
        s = segment(df, method, 1, columns=["a", "b"])
    except InputError as exc:  # every column of one row is constant
        assert "same value" in str(exc) or "None of the chosen columns" in str(exc)
    else:
        assert s.labels.tolist() == [1]


@pytest.mark.parametrize("method", METHODS)
def test_k_equals_one(method):
    df, _ = _blob_frame(n=50, seed=17)
    s = segment(df, method, 1)
    assert (s.labels == 1).all()
    np.testing.assert_allclose(s.proba, 1.0)
    np.testing.assert_allclose(s.centers.to_numpy()[0], df.mean().to_numpy(), rtol=1e-6)


def test_duplicated_rows_with_full_covariance():
    rng = np.random.default_rng(18)
    dup = pd.DataFrame({"a": [3.25] * 40, "b": [7.5] * 40, "c": [0.125] * 40})
    rest = pd.DataFrame(rng.normal(size=(20, 3)), columns=list("abc"))
    df = pd.concat([dup, rest, dup.head(5) + 1.0], ignore_index=True)
    try:
        s = segment(df, "gmm", 3, covariance_type="full")
    except InputError as exc:
        assert "diag" in str(exc)
    else:
        assert np.isfinite(s.proba).all()
        np.testing.assert_allclose(s.proba.sum(axis=1), 1.0)
        assert s.sizes[0] >= 40


def test_singular_covariance_retries_with_stronger_regularisation(monkeypatch):
    real = seg_mod._gmm_em
    calls = []

    def flaky(X, k, seed, p, reg, progress):
        calls.append(reg)
        if len(calls) == 1:
            raise SingularCovarianceError()
        return real(X, k, seed, p, reg, progress)

    monkeypatch.setattr(seg_mod, "_gmm_em", flaky)
    df, _ = _blob_frame(n=60, seed=19)
    s = segment(df, "gmm", 2)
    assert calls == [1e-6, 1e-3]
    assert s.summary["reg_covar_used"] == pytest.approx(1e-3)
    assert any("reg_covar" in w and "diag" in w for w in s.warnings)


def test_always_singular_covariance_is_input_error_suggesting_diag(monkeypatch):
    def singular(*args, **kwargs):
        raise SingularCovarianceError()

    monkeypatch.setattr(seg_mod, "_gmm_em", singular)
    df, _ = _blob_frame(n=60, seed=20)
    with pytest.raises(InputError, match="diag") as info:
        segment(df, "gmm", 2)
    assert info.value.code == "singular_covariance"


@pytest.mark.parametrize(("method", "params"), [("gmm", {"max_iter": 1}), ("fcm", {"max_iter": 1})])
def test_non_convergence_is_reported(method, params):
    rng = np.random.default_rng(21)
    df = pd.DataFrame(rng.normal(size=(120, 3)), columns=list("abc"))
    s = segment(df, method, 4, **params)
    assert s.summary["converged"] is False
    assert any("did not converge" in w and "max_iter" in w for w in s.warnings)
    np.testing.assert_allclose(s.proba.sum(axis=1), 1.0)


def test_converged_fit_has_no_convergence_warning():
    df, _ = _blob_frame(n=90, seed=22)
    for method in METHODS:
        s = segment(df, method, 3)
        assert s.summary["converged"] is True
        assert not any("converge" in w for w in s.warnings)


def test_fcm_summary_reports_validity_indices():
    df, _ = _blob_frame(n=90, seed=23)
    s = segment(df, "fcm", 3)
    assert 1 / 3 <= s.summary["partition_coefficient"] <= 1
    assert 0 <= s.summary["partition_entropy"] <= np.log(3)
    assert s.summary["objective"] == pytest.approx(s.estimator.objective_)


@pytest.mark.parametrize(
    ("method", "k", "params", "code", "phrase"),
    [
        ("dbscan", 3, {}, "bad_method", "Unknown method"),
        (None, 3, {}, "bad_method", "Unknown method"),
        ("kmeans", 3, {"foo": 1}, "bad_option", "Unknown setting"),
        ("kmeans", 3, {"m": 2.0}, "bad_option", "Unknown setting"),
        ("gmm", 3, {"covariance_type": "banana"}, "bad_option", "Covariance type"),
        ("gmm", 3, {"n_init": 0}, None, "n_init"),
        ("kmeans", 3, {"n_init": 0}, None, "n_init"),
        ("kmeans", 3, {"max_iter": -5}, None, "max_iter"),
        ("fcm", 3, {"m": 1.0}, "bad_fcm_setting", "greater than 1"),
        ("fcm", 3, {"m": "two"}, "bad_fcm_setting", "greater than 1"),
        ("fcm", 3, {"dtype": "float16"}, "bad_fcm_setting", "dtype"),
        ("fcm", 3, {"max_iter": 0}, "bad_fcm_setting", "max_iter"),
        ("kmeans", 3, {"scaling": "minmax"}, "bad_option", "Scaling"),
        ("kmeans", 0, {}, "bad_k", "between 1"),
        ("kmeans", 51, {}, "bad_k", "between 1"),
        ("kmeans", 2.5, {}, "bad_k", "whole number"),
        ("kmeans", "3", {}, "bad_k", "whole number"),
        ("kmeans", True, {}, "bad_k", "whole number"),
    ],
)
def test_bad_settings_are_input_errors(method, k, params, code, phrase):
    df, _ = _blob_frame(n=60, seed=24)
    with pytest.raises(InputError, match=phrase) as info:
        segment(df, method, k, **params)
    if code is not None:
        assert info.value.code == code


@pytest.mark.parametrize(
    ("df", "columns", "code"),
    [
        (np.ones((10, 2)), None, "not_a_table"),
        (pd.DataFrame({"a": [], "b": []}), None, "no_rows"),
        (pd.DataFrame({"id": [f"x{i}" for i in range(30)]}), None, "no_features"),
        (pd.DataFrame({"a": np.linspace(0, 1, 30) ** 2}), ["b"], "unknown_columns"),
        (
            pd.DataFrame([[1.5, 2.5], [3.5, 0.5], [2.0, 1.0]], columns=["a", "a"]),
            None,
            "duplicate_column_names",
        ),
    ],
)
def test_bad_tables_are_input_errors(df, columns, code):
    with pytest.raises(InputError) as info:
        segment(df, "kmeans", 2, columns=columns)
    assert info.value.code == code


def test_same_seed_reproducible_and_seed_reported():
    df, _ = _blob_frame(n=90, seed=25)
    a = segment(df, "gmm", 3, random_state=7)
    b = segment(df, "gmm", 3, random_state=7)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.proba, b.proba)
    assert a.summary["random_state"] == 7


@pytest.mark.parametrize("method", METHODS)
def test_values_near_float_max_work_or_raise_overflow(method):
    rng = np.random.default_rng(26)
    big = np.r_[rng.uniform(1.0, 1.7, 20) * 1e308, rng.uniform(-1.7, -1.0, 20) * 1e308]
    df = pd.DataFrame({"big": big, "small": rng.normal(size=40)})
    try:
        s = segment(df, method, 2)
    except InputError as exc:
        assert exc.code == "overflow"
    else:
        assert np.isfinite(s.proba).all()
        assert np.isfinite(s.centers.to_numpy()).all()
        assert sorted(np.sign(s.centers["big"])) == [-1.0, 1.0]
        pd.testing.assert_frame_equal(s.predict(df), s.table())


def test_gmm_leaves_categories_out_of_the_mixture_with_a_warning() -> None:
    """One-hot columns collapse a mixture's variances (every probability ~1): they are
    left out of the model but still described in profiles."""
    rng = np.random.default_rng(3)
    n = 400
    g = rng.integers(0, 2, n)
    df = pd.DataFrame(
        {
            "income": rng.normal(40 + 10 * g, 8, n),
            "score": rng.normal(50 - 10 * g, 8, n),
            "channel": rng.choice(["online", "store", "both"], n),
        }
    )
    seg = segment(df, "gmm", 2)
    assert seg.preparer.categorical == []
    assert seg.profile_preparer.categorical == ["channel"]
    assert any("'channel'" in w and "left out of the mixture" in w for w in seg.warnings)
    # Overlapping groups: a real mixture leaves a share of rows uncertain.
    assert (seg.proba.max(axis=1) < 0.9).mean() > 0.05
    # k-means keeps the categories as features.
    assert segment(df, "kmeans", 2).preparer.categorical == ["channel"]


def test_roles_from_an_earlier_profile_give_the_same_segmentation() -> None:
    from analytics import profile_columns

    rng = np.random.default_rng(8)
    df = pd.DataFrame(
        {
            "spend": rng.gamma(2.0, 30.0, 300),
            "visits": rng.integers(0, 20, 300),
            "region": rng.integers(1, 4, 300),  # a 1..3 code: a category when chosen
        }
    )
    prof = profile_columns(df)
    known = dict(zip(prof["column"], prof["role"], strict=True))
    cols = ["spend", "visits", "region"]
    a = segment(df, "kmeans", 3, columns=cols)
    b = segment(df, "kmeans", 3, columns=cols, roles=known)
    assert b.preparer.categorical == a.preparer.categorical == ["region"]
    np.testing.assert_array_equal(a.labels, b.labels)
    # Only some roles known: the rest are profiled on the spot.
    c = segment(df, "kmeans", 3, columns=cols, roles={"spend": "numeric"})
    np.testing.assert_array_equal(a.labels, c.labels)


@pytest.mark.parametrize("method", METHODS)
def test_the_fit_scores_through_its_one_segment_model(method):
    # One scorer: the fit's own soft output, predict() and the saved model agree.
    import io as _io

    from analytics import load_model

    df, _ = _blob_frame(n=120, seed=31)
    s = segment(df, method, 3)
    np.testing.assert_allclose(s.model.proba_of(s.X), s.proba, atol=1e-8)
    np.testing.assert_array_equal(s.model.labels_of(s.X), s.labels)
    buf = _io.BytesIO(s.model.to_bytes())
    np.testing.assert_allclose(load_model(buf).predict_proba(df), s.predict_proba(df), atol=1e-12)


def test_n_jobs_is_a_setting_and_does_not_change_the_result():
    df, _ = _blob_frame(n=40_000, seed=32)
    one = segment(df, "gmm", 3, n_init=1, subsample=5_000, n_jobs=1)
    two = segment(df, "gmm", 3, n_init=1, subsample=5_000, n_jobs=2)
    np.testing.assert_allclose(one.proba, two.proba, atol=1e-10)
    with pytest.raises(InputError, match="n_jobs"):
        segment(df.head(100), "gmm", 3, n_jobs=0)


# ---------------------------------------------------------------- degenerate fits


def _point_mass_table(seed: int = 0) -> pd.DataFrame:
    """400 rows: two Gaussian groups of 125 and the same customer 150 times."""
    rng = np.random.default_rng(seed)
    X = np.vstack(
        [rng.normal(0, 1, (125, 2)), rng.normal(5, 1, (125, 2)), np.tile([[10.0, -3.0]], (150, 1))]
    )
    return pd.DataFrame(X, columns=["spend", "visits"])


def test_a_point_mass_cluster_is_named_degenerate():
    seg = segment(_point_mass_table(), "gmm", 3)
    assert seg.summary["degenerate"] == ["covariance_at_floor"] == degenerate_reasons(seg)
    assert seg.degenerate == ["covariance_at_floor"]
    text = next(w for w in seg.warnings if "degenerate" in w)
    assert "regularisation floor" in text and "fewer segments" in text and "'diag'" in text
    # the component on the 150 identical rows has eigenvalues at reg_covar
    j = int(np.argmax(seg.sizes == 150))
    eig = np.linalg.eigvalsh(seg.model.params["covariances"][j])
    assert eig.min() <= 10 * seg.summary["reg_covar_used"]
    # a sound fit of the same kind says nothing
    blobs, _ = _blob_frame(n=300, seed=1)
    sound = segment(blobs, "gmm", 3, columns=["spend", "visits"])
    assert sound.summary["degenerate"] == [] and not any("degenerate" in w for w in sound.warnings)


def test_more_parameters_than_rows_and_small_components_are_named():
    rng = np.random.default_rng(5)
    df = pd.DataFrame(rng.normal(size=(40, 10)), columns=[f"x{j}" for j in range(10)])
    seg = segment(df, "gmm", 2, covariance_type="full", n_init=1)
    # full, k = 2, d = 10: 2 * 10 + 2 * 55 + 1 = 131 parameters for 40 rows
    assert n_parameters(2, 10, "full") == 131
    assert {"more_parameters_than_rows", "component_smaller_than_parameters"} <= set(
        seg.summary["degenerate"]
    )
    spherical = segment(df, "gmm", 1, covariance_type="spherical")  # 10 + 1 parameters
    assert spherical.summary["degenerate"] == []


def test_a_mixture_on_categories_only_is_named_degenerate():
    rng = np.random.default_rng(6)
    df = pd.DataFrame(
        {"region": rng.choice(["n", "s", "e"], 200), "plan": rng.choice(["a", "b"], 200)}
    )
    seg = segment(df, "gmm", 2, covariance_type="diag")
    assert "one_hot_only" in seg.summary["degenerate"]
    assert any("only category" in w for w in seg.warnings)


def test_collapsed_fcm_memberships_are_named_and_a_fuzzifier_suggested():
    digits = load_digits(as_frame=True).data
    seg = segment(digits, "fcm", 10, n_init=1)
    assert "fcm_collapsed" in seg.summary["degenerate"]
    pc = seg.summary["partition_coefficient"]
    assert (10 * pc - 1) / 9 < COLLAPSED_MPC  # PC close to 1/k
    m = suggested_fuzzifier(len(digits), seg.X.shape[1])
    # Schwämmle & Jensen (2010), evaluated by hand for N = 1797, D = 61
    n, d = 1797.0, 61.0
    by_hand = (
        1 + (1418 / n + 22.05) / d**2 + (12.33 / n + 0.243) * d ** (-0.0406 * np.log(n) - 0.1134)
    )
    assert m == pytest.approx(by_hand) and 1.0 < m < 1.2
    text = next(w for w in seg.warnings if "collapsed" in w)
    assert f"about {m:.2f}" in text and "smaller fuzzifier" in text
    better = segment(digits, "fcm", 10, n_init=1, m=round(m, 2))
    assert "fcm_collapsed" not in better.summary["degenerate"]
    assert adjusted_rand_score(load_digits().target, better.labels) > 0.4


# ------------------------------------------------------- discrete columns in mixtures


def _spiky_counts(n: int = 600, seed: int = 7) -> pd.DataFrame:
    """A purchase count with 45% of customers at exactly 1 ("bought once")."""
    rng = np.random.default_rng(seed)
    once = rng.random(n) < 0.45
    orders = np.where(once, 1, rng.integers(2, 15, n))
    spend = 50 * orders + rng.normal(0, 20, n)
    return pd.DataFrame({"orders": orders, "spend": spend, "tenure": rng.normal(30, 8, n)})


def test_whole_number_columns_get_a_variance_floor_in_mixtures():
    df = _spiky_counts()
    seg = segment(df, "gmm", 4, log_transform=False)
    floor = seg.preparer.variance_floor(seg.summary["reg_covar_used"])
    j = seg.preparer.numeric.index("orders")
    step = 1 / df["orders"].std(ddof=0)
    assert floor[j] == pytest.approx(step**2 / 12)  # a uniform over one step
    var = seg.model.component_sd() ** 2  # (k, p) in prepared units
    assert (var[:, j] >= floor[j] * (1 - 1e-6)).all()
    assert "covariance_at_floor" not in seg.summary["degenerate"]
    assert "variance floor" in seg.summary["strategy"]
    # the reported log-likelihood is the mixture's own (parameters mapped back exactly)
    assert seg.log_density().sum() == pytest.approx(seg.summary["log_likelihood"], rel=1e-9)
    assert (seg.predict(df)["segment"].to_numpy() == seg.labels).all()
    # without the floor, plain EM puts a component of near-zero spread on the spike
    plain = GaussianMixture(4, reg_covar=1e-6, n_init=4, random_state=0).fit(seg.X)
    assert np.linalg.eigvalsh(plain.covariances_).min() < 1e-4


def test_yes_no_flags_are_left_out_of_mixtures_but_kept_by_other_methods():
    df = _spiky_counts()
    df["churned"] = (df["tenure"] < 25).astype(int)
    gmm = segment(df, "gmm", 2, n_init=1)
    assert "churned" not in gmm.preparer.numeric and "churned" in gmm.profile_preparer.numeric
    assert any("'churned'" in w and "two values" in w for w in gmm.warnings)
    assert "churned" in segment(df, "kmeans", 2).preparer.numeric


def test_a_total_equal_to_its_part_in_a_segment_is_named_with_its_columns():
    rng = np.random.default_rng(8)
    n = 400
    one_off = rng.gamma(2.0, 50.0, n)
    # whole amounts, half of them 0 (a resolution floor keeps that spike from collapsing)
    instalments = np.where(rng.random(n) < 0.5, 0.0, rng.gamma(2.0, 40.0, n).round())
    df = pd.DataFrame(
        {
            "one_off": one_off,
            "instalments": instalments + 0.0,
            "total": one_off + instalments,  # total = parts: exact where instalments = 0
            "tenure": rng.normal(30, 8, n),
        }
    )
    seg = segment(df, "gmm", 2, log_transform=False, n_init=2)
    assert "covariance_at_floor" in seg.summary["degenerate"]
    text = next(w for w in seg.warnings if "degenerate" in w)
    assert "'one_off'" in text and "'total'" in text and "'tenure'" not in text


@pytest.mark.parametrize("params", [{"n_init": 10**20}, {"max_iter": 10**9}, {"n_init": 101}])
def test_huge_start_or_iteration_counts_are_refused_in_words(params):
    df, _ = _blob_frame(n=60, seed=33)
    name = next(iter(params))
    with pytest.raises(InputError, match=f"{name} must be a whole number from 1 to"):
        segment(df, "kmeans", 2, **params)
