"""FuzzyCMeans against its defining equations, scikit-learn's estimator contract and scikit-fuzzy."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import check_estimator

from analytics import FuzzyCMeans, InputError, segment


def _blobs(n: int = 150, k: int = 3, d: int = 2, seed: int = 0) -> np.ndarray:
    X, _ = make_blobs(n_samples=n, centers=k, n_features=d, cluster_std=1.0, random_state=seed)
    return X


def _separated_blobs(n: int, k: int, d: int, seed: int) -> np.ndarray:
    """Blobs (sd 1) whose centres are at least 8 apart, so a single start finds the optimum."""
    rng = np.random.default_rng(seed)
    centres = 8.0 * np.arange(k)[:, None] * np.ones(d) + rng.normal(scale=0.5, size=(k, d))
    X, _ = make_blobs(n_samples=n, centers=centres, cluster_std=1.0, random_state=seed)
    return X


def _reference_memberships(X: np.ndarray, C: np.ndarray, m: float) -> np.ndarray:
    """Bezdek's update u_ij = 1 / sum_l (d_ij / d_il)^(2/(m-1)), written out with broadcasting."""
    d = np.sqrt(((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2))  # (n, k)
    ratio = (d[:, :, None] / d[:, None, :]) ** (2.0 / (m - 1.0))  # (n, k, k)
    return 1.0 / ratio.sum(axis=2)


def _objective(X: np.ndarray, C: np.ndarray, m: float) -> float:
    """J_m(U(C), C): the objective at centres C with the optimal memberships for C."""
    u = _reference_memberships(X, C, m)
    d2 = ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)
    return float(((u**m) * d2).sum())


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
def test_passes_scikit_learn_estimator_checks():
    results = check_estimator(FuzzyCMeans(n_clusters=3, random_state=0), on_fail=None)
    failed = [(r["check_name"], repr(r["exception"])) for r in results if r["status"] == "failed"]
    assert not failed
    assert sum(r["status"] == "passed" for r in results) >= 30


@pytest.mark.parametrize("m", [1.5, 2.0, 3.0])
def test_memberships_satisfy_update_equation_at_final_centres(m):
    X = _blobs(seed=1)
    model = FuzzyCMeans(n_clusters=3, m=m, tol=1e-9, max_iter=1000, random_state=0).fit(X)
    C = model.cluster_centers_
    np.testing.assert_allclose(
        model.membership_, _reference_memberships(X, C, m), rtol=1e-9, atol=1e-12
    )
    np.testing.assert_allclose(model.membership_.sum(axis=1), 1.0, rtol=1e-12)
    # At convergence the centres are the u^m-weighted means (the other half of the fixed point).
    um = model.membership_**m
    np.testing.assert_allclose(C, (um.T @ X) / um.sum(axis=0)[:, None], atol=1e-6)
    assert model.converged_
    assert model.objective_ == pytest.approx(_objective(X, C, m), rel=1e-9)


@pytest.mark.parametrize(("k", "d", "seed"), [(3, 2, 0), (4, 3, 1), (5, 2, 2), (2, 5, 3)])
def test_objective_no_worse_than_scikit_fuzzy(k, d, seed):
    # FCM has local optima (one k-means++ start here, one random start there); on separated
    # blobs both reach the global one, and ours must be at least as converged.
    skfuzzy = pytest.importorskip("skfuzzy")
    X = _separated_blobs(n=200, k=k, d=d, seed=seed)
    m = 2.0
    ours = FuzzyCMeans(n_clusters=k, m=m, tol=1e-8, max_iter=1000, random_state=0).fit(X)
    cntr, _u, _u0, _d, jm, _p, _fpc = skfuzzy.cmeans(X.T, k, m, error=1e-8, maxiter=1000, seed=0)
    # scikit-fuzzy's jm[-1] pairs the previous memberships with the new centres; compare both
    # that and the objective at its centres with their optimal memberships (the smaller one).
    theirs = min(float(jm[-1]), _objective(X, cntr, m))
    assert ours.objective_ <= theirs * (1 + 1e-6), (ours.objective_, theirs)
    # Same partition on well-separated blobs.
    assert adjusted_rand_score(ours.labels_, _u.argmax(axis=0)) == pytest.approx(1.0)


def test_point_exactly_on_a_centre_gets_membership_one():
    # k = n distinct points: k-means++ seeds on the points themselves, each point sits
    # exactly on its centre, so every distance is 0 for one centre (0/0 in the naive formula).
    X = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    model = FuzzyCMeans(n_clusters=3, random_state=0).fit(X)
    u = model.membership_
    assert np.isfinite(u).all()
    np.testing.assert_array_equal(np.sort(u, axis=1), [[0, 0, 1]] * 3)
    assert sorted(model.labels_) == [0, 1, 2]
    # predict_proba at the fitted centres: one-hot, finite.
    p = model.predict_proba(model.cluster_centers_)
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p, np.eye(3), atol=1e-12)


def test_point_on_centre_of_fitted_model_on_blobs_is_finite():
    X = _blobs(seed=3)
    model = FuzzyCMeans(n_clusters=3, random_state=0).fit(X)
    p = model.predict_proba(model.cluster_centers_)
    assert np.isfinite(p).all()
    np.testing.assert_allclose(np.diag(p), 1.0, atol=1e-9)


def test_duplicate_centres_share_membership_without_nan():
    # Every row identical, k = 2: both centres coincide with every point.
    X = np.ones((5, 2))
    model = FuzzyCMeans(n_clusters=2, random_state=0).fit(X)
    assert np.isfinite(model.membership_).all()
    np.testing.assert_allclose(model.membership_, 0.5)


@pytest.mark.parametrize("m", [1.0, 0.5, -2.0, np.inf, np.nan, "two"])
def test_m_at_most_one_raises_value_error(m):
    with pytest.raises(ValueError, match="m"):
        FuzzyCMeans(n_clusters=2, m=m).fit(_blobs(n=20))


@pytest.mark.parametrize("m", [1.0, 0.9])
def test_segment_turns_bad_m_into_input_error(m):
    import pandas as pd

    df = pd.DataFrame(_blobs(n=30), columns=["a", "b"])
    with pytest.raises(InputError, match="greater than 1") as info:
        segment(df, "fcm", 2, m=m)
    assert info.value.code == "bad_fcm_setting"


@pytest.mark.parametrize(
    "params",
    [{"n_clusters": 0}, {"n_clusters": 2.5}, {"tol": -1.0}, {"max_iter": 0}, {"dtype": "float16"}],
)
def test_bad_parameters_raise_value_error_naming_them(params):
    with pytest.raises(ValueError):
        FuzzyCMeans(**{"n_clusters": 2, **params}).fit(_blobs(n=20))


def test_more_clusters_than_rows_raises_value_error():
    with pytest.raises(ValueError, match="n_clusters"):
        FuzzyCMeans(n_clusters=5).fit(np.arange(6.0).reshape(3, 2))


@pytest.mark.parametrize("m", [1.3, 2.0, 2.5])
def test_fit_predict_equals_fit_then_predict(m):
    X = _blobs(n=120, k=4, seed=5)
    a = FuzzyCMeans(n_clusters=4, m=m, random_state=7).fit_predict(X)
    model = FuzzyCMeans(n_clusters=4, m=m, random_state=7).fit(X)
    np.testing.assert_array_equal(a, model.predict(X))
    np.testing.assert_array_equal(a, model.labels_)
    np.testing.assert_allclose(model.predict_proba(X), model.membership_, rtol=1e-12)


def test_same_seed_same_result_and_labels_in_range():
    X = _blobs(n=90, k=3, seed=2)
    a = FuzzyCMeans(n_clusters=3, random_state=11).fit(X)
    b = FuzzyCMeans(n_clusters=3, random_state=11).fit(X)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert set(np.unique(a.labels_)) <= {0, 1, 2}
    assert a.membership_.shape == (90, 3)


def test_transform_gives_euclidean_distances_to_centres():
    X = _blobs(n=50, seed=4)
    model = FuzzyCMeans(n_clusters=3, random_state=0).fit(X)
    C = model.cluster_centers_
    ref = np.sqrt(((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2))
    np.testing.assert_allclose(model.transform(X), ref, rtol=1e-7, atol=1e-7)


def test_float32_option_matches_float64():
    X = _blobs(n=200, k=3, seed=6)
    m64 = FuzzyCMeans(n_clusters=3, random_state=0).fit(X)
    m32 = FuzzyCMeans(n_clusters=3, random_state=0, dtype="float32").fit(X)
    assert m32.cluster_centers_.dtype == np.float32
    assert np.isfinite(m32.membership_).all()
    np.testing.assert_allclose(m32.membership_.sum(axis=1), 1.0, atol=1e-5)
    assert adjusted_rand_score(m64.labels_, m32.labels_) == pytest.approx(1.0)
    np.testing.assert_allclose(m32.cluster_centers_, m64.cluster_centers_, atol=1e-3)
    assert m32.objective_ == pytest.approx(m64.objective_, rel=1e-4)
    np.testing.assert_array_equal(m32.predict(X), m32.labels_)


def test_float32_input_is_accepted():
    X = _blobs(n=60, seed=8).astype(np.float32)
    model = FuzzyCMeans(n_clusters=3, random_state=0).fit(X)
    np.testing.assert_allclose(model.membership_.sum(axis=1), 1.0, atol=1e-6)


@pytest.mark.parametrize(("k", "m", "seed"), [(2, 2.0, 0), (3, 1.5, 1), (4, 3.0, 2), (1, 2.0, 3)])
def test_validity_indices_are_in_range_and_match_formulas(k, m, seed):
    X = _blobs(n=80, k=3, seed=seed)
    model = FuzzyCMeans(n_clusters=k, m=m, random_state=seed).fit(X)
    u = model.membership_
    n = u.shape[0]
    pc = (u**2).sum() / n
    with np.errstate(divide="ignore", invalid="ignore"):
        pe = -np.where(u > 0, u * np.log(u), 0.0).sum() / n
    assert model.partition_coefficient_ == pytest.approx(pc, rel=1e-12)
    assert model.partition_entropy_ == pytest.approx(pe, rel=1e-12, abs=1e-15)
    assert 1.0 / k - 1e-12 <= model.partition_coefficient_ <= 1.0 + 1e-12
    assert -1e-12 <= model.partition_entropy_ <= np.log(k) + 1e-12
    C = model.cluster_centers_
    d2 = ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)
    J = float(((u**m) * d2).sum())
    assert model.objective_ == pytest.approx(J, rel=1e-9)
    if k > 1:
        sep = min(float(((C[i] - C[j]) ** 2).sum()) for i in range(k) for j in range(k) if i != j)
        assert model.xie_beni_ == pytest.approx(J / (n * sep), rel=1e-9)
    else:
        assert np.isnan(model.xie_beni_)
        np.testing.assert_allclose(u, 1.0)


def test_crisper_partition_for_smaller_fuzzifier():
    X = _blobs(n=120, k=3, seed=9)
    crisp = FuzzyCMeans(n_clusters=3, m=1.2, random_state=0).fit(X)
    soft = FuzzyCMeans(n_clusters=3, m=3.0, random_state=0).fit(X)
    assert crisp.partition_coefficient_ > soft.partition_coefficient_
    assert crisp.partition_entropy_ < soft.partition_entropy_


def test_recovers_separated_blobs():
    X, y = make_blobs(n_samples=150, centers=4, cluster_std=0.5, random_state=3)
    model = FuzzyCMeans(n_clusters=4, random_state=0).fit(X)
    assert adjusted_rand_score(y, model.labels_) == pytest.approx(1.0)
