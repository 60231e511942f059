"""Property tests (hypothesis): invariants of segment(), FuzzyCMeans and prepare() on random data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from analytics import FuzzyCMeans, InputError, PrepOptions, prepare, segment
from analytics.model.fit import COVARIANCE_TYPES, METHODS

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Errors random data may legitimately cause; anything else (or a bare numpy error) fails.
EXPECTED_CODES = {"too_few_rows", "too_few_distinct", "no_features"}


@st.composite
def customer_frames(draw) -> pd.DataFrame:
    """Small frames of numbers (any scale, some duplicated rows, some missing) and maybe a category."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(1, 40))
    p = draw(st.integers(1, 3))
    scale = 10.0 ** draw(st.integers(-3, 6))
    X = np.round(rng.normal(size=(n, p)) * scale, 3) + 0.0005 * scale
    if draw(st.booleans()) and n > 1:  # duplicated rows
        idx = rng.integers(0, n, size=n // 2)
        X[rng.integers(0, n, size=n // 2)] = X[idx]
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    if draw(st.booleans()):
        df.loc[rng.random(n) < 0.15, "x0"] = np.nan
    if draw(st.booleans()):
        df["group"] = rng.choice(["a", "b", "c"], n)
    if draw(st.booleans()):
        df.insert(0, "segment", "pre-existing")  # name clash with an added column
    df.index = pd.Index(rng.permutation(10 * n + 1)[:n])  # arbitrary, unsorted index
    return df


@st.composite
def separated_blobs(draw) -> tuple[pd.DataFrame, np.ndarray, int]:
    """Well-separated blobs (centres >= 12 sd apart), so the best partition is unique."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    k = draw(st.integers(2, 4))
    d = draw(st.integers(1, 3))
    sizes = draw(st.lists(st.integers(8, 25), min_size=k, max_size=k))
    centres = 12.0 * np.arange(k)[:, None] * np.ones(d) + rng.normal(scale=1.0, size=(k, d))
    rng.shuffle(centres)
    y = np.repeat(np.arange(k), sizes)
    X = centres[y] + rng.normal(size=(len(y), d))
    df = pd.DataFrame(X * 37.0 + 500.0, columns=[f"f{j}" for j in range(d)])
    return df, y, k


def _check_segmentation(df: pd.DataFrame, s, k: int) -> None:
    n = len(df)
    assert s.labels.shape == (n,)
    assert set(np.unique(s.labels)) <= set(range(1, k + 1))
    assert s.proba.shape == (n, k)
    assert np.isfinite(s.proba).all() and (s.proba >= -1e-12).all()
    np.testing.assert_allclose(s.proba.sum(axis=1), 1.0, rtol=1e-9)
    sizes = np.bincount(s.labels, minlength=k + 1)[1:]
    assert (np.diff(sizes) <= 0).all(), sizes  # segment 1 is the largest
    assert list(s.centers.index) == list(range(1, k + 1))
    # table(): the input untouched, plus segment, segment_name, the top soft value
    # (GMM probability, FCM membership; none for k-means) and k per-segment columns
    t = s.table()
    assert t.shape == (n, df.shape[1] + k + 2 + (s.method != "kmeans"))
    pd.testing.assert_frame_equal(t.iloc[:, : df.shape[1]], df)
    names = s.output_names(df.columns)
    np.testing.assert_array_equal(t[names["segment"]].to_numpy(), s.labels)
    soft = t[names["soft"]].to_numpy()
    if s.method == "kmeans":  # distances: the segment is the nearest centre
        assert (soft >= 0).all()
        np.testing.assert_allclose(soft.min(axis=1), soft[np.arange(n), s.labels - 1])
    else:
        np.testing.assert_allclose(soft, s.proba)
    # predict on the training rows gives exactly the table
    pd.testing.assert_frame_equal(s.predict(df), t)


@FAST
@given(df=customer_frames(), k=st.integers(1, 4), method=st.sampled_from(METHODS))
def test_segment_invariants_on_random_frames(df, k, method):
    before = df.copy(deep=True)
    try:
        s = segment(df, method, k, random_state=0)
    except InputError as exc:
        assert exc.code in EXPECTED_CODES, (exc.code, str(exc))
        assert str(exc)
        event(f"InputError {exc.code}")
        return
    finally:
        pd.testing.assert_frame_equal(df, before)
    event("fitted")
    _check_segmentation(df, s, k)


@settings(max_examples=25, deadline=None)
@given(df=customer_frames(), k=st.integers(1, 3), cov=st.sampled_from(COVARIANCE_TYPES))
def test_gmm_every_covariance_type_keeps_invariants(df, k, cov):
    try:
        s = segment(df, "gmm", k, covariance_type=cov, n_init=1)
    except InputError as exc:
        assert exc.code in EXPECTED_CODES | {"singular_covariance"}, (exc.code, str(exc))
        event(f"InputError {exc.code}")
        return
    _check_segmentation(df, s, k)
    assert np.isfinite(s.log_density()).all()


@FAST
@given(data=separated_blobs(), method=st.sampled_from(METHODS), perm_seed=st.integers(0, 1000))
def test_permuting_rows_keeps_the_partition(data, method, perm_seed):
    df, y, k = data
    s = segment(df, method, k, random_state=0)
    assert adjusted_rand_score(y, s.labels) == 1.0
    perm = np.random.default_rng(perm_seed).permutation(len(df))
    s_perm = segment(df.iloc[perm], method, k, random_state=0)
    assert adjusted_rand_score(s.labels[perm], s_perm.labels) == 1.0
    # sizes are unique per segment number whatever the row order
    assert s.sizes.tolist() == s_perm.sizes.tolist()


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 60),
    d=st.integers(1, 4),
    k=st.integers(1, 5),
    m=st.floats(1.1, 4.0),
    dup=st.booleans(),
)
def test_fcm_memberships_sum_to_one_and_predict_consistent(seed, n, d, k, m, dup):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    if dup:
        X[: n // 2] = X[0]  # many points exactly on one spot, likely a centre
    k = min(k, n)
    model = FuzzyCMeans(n_clusters=k, m=m, random_state=seed % 1000).fit(X)
    u = model.membership_
    assert u.shape == (n, k)
    assert np.isfinite(u).all() and (u >= 0).all()
    np.testing.assert_allclose(u.sum(axis=1), 1.0, rtol=1e-9)
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    np.testing.assert_array_equal(
        FuzzyCMeans(n_clusters=k, m=m, random_state=seed % 1000).fit_predict(X), model.labels_
    )
    assert 1.0 / k - 1e-9 <= model.partition_coefficient_ <= 1.0 + 1e-9
    assert -1e-9 <= model.partition_entropy_ <= np.log(k) + 1e-9
    p = model.predict_proba(model.cluster_centers_)
    assert np.isfinite(p).all()


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(3, 50),
    scaling=st.sampled_from(["standard", "robust", "none"]),
    log=st.booleans(),
    impute=st.sampled_from(["median", "mean"]),
    magnitude=st.integers(-2, 5),
)
def test_inverse_transform_round_trips(seed, n, scaling, log, impute, magnitude):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "amount": rng.lognormal(1, 1.5, n) * 10.0**magnitude,
            "delta": rng.normal(0, 3, n) * 10.0**magnitude + 0.123,
        }
    )
    try:
        X, prep = prepare(
            df, options=PrepOptions(scaling=scaling, log_transform=log, impute=impute)
        )
    except InputError as exc:
        assert exc.code == "no_features"
        return
    assert np.isfinite(X).all()
    back = prep.inverse_transform(X)
    for c in prep.numeric:
        np.testing.assert_allclose(back[c], df[c], rtol=1e-8, atol=1e-9 * 10.0**magnitude)
    np.testing.assert_allclose(prep.transform(df), X)


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(5, 40),
    labels=st.lists(st.text("abc xyz", min_size=1, max_size=4), min_size=1, max_size=5),
)
def test_one_hot_rows_sum_to_one_and_unseen_rows_to_zero(seed, n, labels):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"v": rng.normal(size=n) + 0.5, "c": rng.choice(labels, n)})
    try:
        X, prep = prepare(df)
    except InputError as exc:
        assert exc.code == "no_features"
        return
    cat_cols = [j for j, name in enumerate(prep.feature_names) if name.startswith("c=")]
    if cat_cols:
        np.testing.assert_array_equal(X[:, cat_cols].sum(axis=1), 1.0)
        new = prep.transform(pd.DataFrame({"v": [0.0], "c": ["\u2603 never seen"]}))
        np.testing.assert_array_equal(new[:, cat_cols], 0.0)


@pytest.mark.parametrize("method", METHODS)
def test_hypothesis_free_sanity_of_checker(method):
    """The shared checker itself accepts a plain fit (guards the property tests' helper)."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(30, 2)) + 0.5, columns=["a", "b"])
    _check_segmentation(df, segment(df, method, 3), 3)
