"""The one Gaussian kernel against scikit-learn, for every covariance type."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture

from analytics.constants import COVARIANCE_TYPES
from analytics.model import gaussian as g


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(0, 1, (150, 3)), rng.normal(4, 0.5, (150, 3))])
    return X


@pytest.mark.parametrize("cov_type", COVARIANCE_TYPES)
def test_log_density_matches_scikit_learn(data, cov_type):
    gm = GaussianMixture(2, covariance_type=cov_type, random_state=0).fit(data)
    wlp = g.weighted_log_prob(data, gm.weights_, gm.means_, gm.precisions_cholesky_, cov_type)
    from scipy.special import logsumexp

    np.testing.assert_allclose(logsumexp(wlp, axis=1), gm.score_samples(data), atol=1e-10)
    pc = g.precision_cholesky(gm.covariances_, cov_type)
    np.testing.assert_allclose(pc, gm.precisions_cholesky_, atol=1e-10)
    np.testing.assert_allclose(g.precisions(gm.covariances_, cov_type), gm.precisions_, atol=1e-8)
    # scikit-learn's BIC = -2 log L + p log n gives its parameter count p.
    n = len(data)
    p = (gm.bic(data) + 2 * gm.score(data) * n) / np.log(n)
    assert g.n_parameters(2, 3, cov_type) == round(p)


@pytest.mark.parametrize("cov_type", COVARIANCE_TYPES)
def test_float32_rows_agree_with_float64(data, cov_type):
    gm = GaussianMixture(2, covariance_type=cov_type, random_state=0).fit(data)
    ref = g.log_gaussian_prob(data, gm.means_, gm.precisions_cholesky_, cov_type)
    f32 = g.log_gaussian_prob(data.astype(np.float32), gm.means_, gm.precisions_cholesky_, cov_type)
    assert f32.dtype == np.float32
    np.testing.assert_allclose(f32, ref, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("cov_type", COVARIANCE_TYPES)
def test_covariance_forms_expand_consistently(data, cov_type):
    gm = GaussianMixture(2, covariance_type=cov_type, random_state=0).fit(data)
    full = g.full_covariances(gm.covariances_, cov_type, 2, 3)
    assert full.shape == (2, 3, 3)
    np.testing.assert_allclose(
        g.variances(gm.covariances_, cov_type, 2, 3), np.diagonal(full, axis1=1, axis2=2)
    )
    A = g.sampling_factors(gm.covariances_, cov_type, 2, 3)
    np.testing.assert_allclose(A @ np.swapaxes(A, 1, 2), full, atol=1e-12)


@pytest.mark.parametrize("cov_type", COVARIANCE_TYPES)
def test_estimate_from_labels_is_scikit_learns_kmeans_initialisation(data, cov_type):
    labels = (data[:, 0] > 2).astype(int)
    w, mu, cov = g.estimate_from_labels(data, labels, 2, cov_type, 1e-6)
    assert w == pytest.approx([np.mean(labels == 0), np.mean(labels == 1)])
    parts = [data[labels == j] for j in range(2)]
    np.testing.assert_allclose(mu, [p.mean(axis=0) for p in parts])
    full = [np.cov(p.T, bias=True) + 1e-6 * np.eye(3) for p in parts]
    if cov_type == "full":
        np.testing.assert_allclose(cov, full, atol=1e-10)
    elif cov_type == "tied":
        pooled = sum(len(p) * (f - 1e-6 * np.eye(3)) for p, f in zip(parts, full, strict=True))
        np.testing.assert_allclose(cov, pooled / len(data) + 1e-6 * np.eye(3), atol=1e-10)
    elif cov_type == "diag":
        np.testing.assert_allclose(cov, [np.diag(f) for f in full], atol=1e-10)
    else:
        np.testing.assert_allclose(cov, [np.diag(f).mean() for f in full], atol=1e-10)


def test_singular_covariance_is_a_typed_error():
    with pytest.raises(g.SingularCovarianceError):
        g.precision_cholesky(np.zeros((1, 2, 2)), "full")
    with pytest.raises(g.SingularCovarianceError):
        g.precision_cholesky(np.array([[1.0, 0.0]]), "diag")
