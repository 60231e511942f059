"""Blocked EM equals scikit-learn's EM step for step, for every covariance type."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.mixture import GaussianMixture

from analytics import segment
from analytics.model.em import BLOCK_ROWS, blocked_em, posteriors
from analytics.preparation import prepare


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    # More than four blocks, so the block sums and the two-thread split are exercised.
    data, _ = make_blobs(4 * BLOCK_ROWS + 5_000, n_features=3, centers=3, random_state=4)
    return data


@pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)  # 2-step init on purpose
@pytest.mark.parametrize("cov", ["full", "tied", "diag", "spherical"])
def test_blocked_em_matches_sklearn_iterations(X, cov):
    init = GaussianMixture(3, covariance_type=cov, max_iter=2, random_state=0).fit(X[:2000])
    ours = blocked_em(X, init, reg_covar=1e-6, tol=0.0, max_iter=4)
    ref = GaussianMixture(
        3,
        covariance_type=cov,
        weights_init=init.weights_,
        means_init=init.means_,
        precisions_init=init.precisions_,
        init_params="random_from_data",
        max_iter=4,
        tol=0.0,
        random_state=0,
    ).fit(X)
    np.testing.assert_allclose(ours.weights_, ref.weights_, rtol=1e-8)
    np.testing.assert_allclose(ours.means_, ref.means_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours.covariances_, ref.covariances_, rtol=1e-7, atol=1e-10)
    proba, ll = posteriors(X, ours)
    np.testing.assert_allclose(proba, ref.predict_proba(X), atol=1e-8)
    assert ll == pytest.approx(ref.score(X) * len(X), rel=1e-9)
    # The result is a usable scikit-learn model.
    np.testing.assert_allclose(ours.score_samples(X[:50]), ref.score_samples(X[:50]), rtol=1e-8)


def test_posteriors_column_order_and_rows_sum_to_one(X):
    gm = GaussianMixture(3, random_state=0).fit(X[:3000])
    order = np.array([2, 0, 1])
    p, _ = posteriors(X, gm, order)
    np.testing.assert_allclose(p, gm.predict_proba(X)[:, order], atol=1e-10)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


def test_segment_on_big_tables_refines_a_subsample_start_on_every_row(X):
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    seg = segment(df, "gmm", 3, subsample=5_000, n_init=2)
    assert "sample of 5,000 rows" in seg.summary["strategy"]
    Xp, _ = prepare(df)
    # The reported log-likelihood and BIC are those of the final model on all rows.
    assert seg.summary["log_likelihood"] == pytest.approx(
        seg.estimator.score(Xp) * len(Xp), rel=1e-9
    )
    assert seg.summary["bic"] == pytest.approx(seg.estimator.bic(Xp), rel=1e-9)
    plain = GaussianMixture(3, n_init=1, random_state=0).fit(Xp)
    assert seg.summary["log_likelihood"] / len(Xp) >= plain.score(Xp) - 1e-3
    np.testing.assert_allclose(seg.proba, seg.estimator.predict_proba(Xp)[:, seg.order], atol=1e-10)
