"""Known answers for the recommendation rules, and the mixture sweep against scikit-learn.

- one Gaussian blob gives k = 1 for every method (BIC/ICL at k = 1, gap statistic);
- a planted 1% segment is not recommended (minimum segment share) and the reason says so;
- parsimony: the smallest k within 10 ICL of the best;
- ICL = BIC + 2 x the classification term of mclust's icl(), from scikit-learn's posteriors;
- FCM on 3 blobs (two close) gives 3, not 2;
- a k at the edge of the range says so;
- every (k, covariance type) BIC of the sweep is within 2 of scikit-learn's best of 5
  starts, and segment() at the recommended k reproduces the sweep's BIC.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.mixture import GaussianMixture

from analytics import InputError, segment
from analytics.constants import COVARIANCE_TYPES
from analytics.studies.choose_k import sweep_k
from analytics.studies.choose_k.criteria import modified_partition_coefficient
from analytics.studies.choose_k.gap import gap_pick, one_group, reference_sets
from analytics.studies.choose_k.mixture_em import em
from analytics.studies.choose_k.recommend import PARSIMONY_IC
from analytics.studies.choose_k.sweep import SWEEP_STARTS


def _frame(X: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(X, columns=[f"c{i}" for i in range(X.shape[1])])


@pytest.fixture(scope="module")
def blob() -> pd.DataFrame:
    return _frame(np.random.default_rng(7).normal(size=(400, 3)))


@pytest.fixture(scope="module")
def planted() -> pd.DataFrame:
    """Three groups of 198 and a far group of 6 rows (1% of 600)."""
    X, _ = make_blobs(
        n_samples=594, centers=[[0, 0], [8, 0], [0, 8]], cluster_std=0.8, random_state=3
    )
    tiny = np.random.default_rng(3).normal([25, 25], 0.4, size=(6, 2))
    return _frame(np.vstack([X, tiny]))


# --- one group ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["gmm", "kmeans", "fcm"])
def test_a_single_blob_is_one_group(blob, method):
    sw = sweep_k(blob, range(1, 7), method)
    assert sw.recommended_k == 1
    assert sw.reason.startswith("1 segment: ")
    if method != "gmm":
        assert "no segment structure stronger than noise" in sw.reason
        assert sw.warning is None  # criteria that cannot rate k = 1 do not "disagree"
    else:
        assert sw.table["icl"].idxmin() == 1 and sw.table.at[1, "icl"] == sw.table.at[1, "bic"]


def test_k_one_is_not_chosen_when_there_is_structure():
    X, _ = make_blobs(n_samples=400, centers=4, n_features=3, cluster_std=0.6, random_state=1)
    for method in ("gmm", "kmeans", "fcm"):
        assert sweep_k(_frame(X), range(1, 8), method).recommended_k == 4, method


def test_one_group_rule_is_the_global_one_standard_error_rule():
    # No k beats one group by more than its error bar: one group.
    assert one_group({1: 0.50, 2: 0.52, 3: 0.55}, {1: 0.02, 2: 0.03, 3: 0.06})
    # Two segments barely beat one (Tibshirani's first-k rule would stop at 1), but
    # three beat it clearly: structure.
    assert not one_group({1: 0.90, 2: 0.98, 3: 1.08}, {1: 0.02, 2: 0.10, 3: 0.02})
    assert not one_group({2: 0.9, 3: 1.0}, {2: 0.1, 3: 0.1})  # k = 1 not tried


def test_gap_reference_sets_fill_the_principal_box():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2)) @ np.array([[3.0, 1.0], [0.0, 0.5]])
    refs = reference_sets(X, 3, 200, seed=1)
    assert len(refs) == 3 and all(r.shape == (200, 2) for r in refs)
    _, _, vt = np.linalg.svd(X - X.mean(0), full_matrices=False)
    p, r = (X - X.mean(0)) @ vt.T, (refs[0] - X.mean(0)) @ vt.T
    assert np.all(r >= p.min(0) - 1e-9) and np.all(r <= p.max(0) + 1e-9)


def test_gap_pick_hand_worked():
    gap = {1: 0.2, 2: 0.6, 3: 0.65, 4: 0.7}
    se = {1: 0.05, 2: 0.05, 3: 0.1, 4: 0.02}
    # 1: 0.2 < 0.6 - 0.05; 2: 0.6 >= 0.65 - 0.1 -> 2.
    assert gap_pick([1, 2, 3, 4], gap, se) == 2
    assert gap_pick([1, 2], {1: 0.5, 2: 0.52}, {1: 0.0, 2: 0.05}) == 1
    assert gap_pick([1, 2], {1: 0.1, 2: 0.9}, {1: 0.0, 2: 0.05}) is None


# --- minimum segment share --------------------------------------------------------------------


@pytest.mark.parametrize("method", ["gmm", "kmeans"])
def test_a_planted_one_percent_segment_is_not_recommended(planted, method):
    sw = sweep_k(planted, range(2, 7), method)
    share = sw.table["smallest_share"]
    # Independent count: the share of the smallest segment of the labels at each k.
    for k, lab in sw.labels.items():
        assert share[k] == pytest.approx(np.bincount(lab)[1:].min() / len(lab))
    assert share[4] == pytest.approx(0.01)
    assert 4 in sw.recommendation.vetoed
    assert sw.recommended_k == 3
    assert "Not recommended: k = 4" in sw.reason and "less than 2% of the rows" in sw.reason
    # Without the rule the 1% segment is a segment of its own.
    off = sweep_k(planted, range(2, 7), method, min_share=0.0)
    assert off.recommended_k == 4 and not off.recommendation.vetoed


def test_min_share_setting_is_checked(planted):
    for bad in (-0.1, 0.5, "2%", True):
        with pytest.raises(InputError) as e:
            sweep_k(planted, [2, 3], "kmeans", min_share=bad)
        assert e.value.code == "bad_option"
    assert sweep_k(planted, [2, 3], "kmeans", min_share=0.3).min_share == 0.3


# --- mixtures: ICL, parsimony, edge -------------------------------------------------------------


@pytest.fixture(scope="module")
def mixture_sweep():
    X, _ = make_blobs(
        n_samples=500,
        centers=[[0, 0], [7, 0], [0, 7]],
        cluster_std=[0.6, 1.0, 1.5],
        random_state=5,
    )
    return sweep_k(_frame(X), range(1, 7), "gmm")


def test_icl_is_bic_plus_the_classification_term(mixture_sweep):
    sw = mixture_sweep
    for (k, cov), gm in sw.models.items():
        # scikit-learn's own BIC and posteriors of the stored model.
        bic = gm.bic(sw.X)
        post = gm.predict_proba(sw.X)
        icl = bic + 2 * float(-np.log(post.max(axis=1)).sum())
        assert sw.table.at[k, f"bic_{cov}"] == pytest.approx(bic, rel=1e-9)
        assert sw.table.at[k, f"icl_{cov}"] == pytest.approx(icl, rel=1e-7)
        assert sw.table.at[k, f"icl_{cov}"] >= sw.table.at[k, f"bic_{cov}"]
    cols = [f"icl_{c}" for c in COVARIANCE_TYPES]
    np.testing.assert_allclose(sw.table["icl"], sw.table[cols].min(axis=1))
    assert (sw.table[cols].idxmin(axis=1).str[4:] == sw.table["best_covariance"]).all()


def test_parsimony_rule_on_a_sweep(mixture_sweep):
    t, rec = mixture_sweep.table, mixture_sweep.recommendation
    allowed = [k for k in t.index if k not in rec.vetoed]
    icl = t.loc[allowed, "icl"]
    assert rec.k == min(k for k in allowed if icl[k] <= icl.min() + PARSIMONY_IC)
    assert rec.k == 3 and mixture_sweep.warning is None


def test_recommendation_at_the_edge_says_so():
    X, _ = make_blobs(n_samples=600, centers=6, n_features=2, cluster_std=0.3, random_state=0)
    sw = sweep_k(_frame(X), range(1, 5), "gmm")
    assert sw.recommended_k == 4
    assert sw.warning.startswith("ICL still falls at the largest k tried (4)")
    km = sweep_k(_frame(X), range(2, 5), "kmeans", min_share=0.0)
    if km.recommended_k == 4:
        assert "largest one tried (4)" in km.warning


# --- FCM: no small-k bias -----------------------------------------------------------------------


def test_fcm_three_blobs_two_close_gives_three():
    X, _ = make_blobs(
        n_samples=450,
        centers=[[0.0, 0.0], [3.5, 0.0], [14.0, 0.0]],
        cluster_std=0.7,
        random_state=4,
    )
    sw = sweep_k(_frame(X), range(1, 9), "fcm")
    # PC, PE and even MPC prefer 2 (the far blob against the pair), as the issue found.
    picks = sw.recommendation.picks
    assert picks["partition_coefficient"] == picks["partition_entropy"] == 2
    assert sw.recommended_k == 3 and sw.recommendation.decided_by == "gap"
    assert sw.reason.startswith("3 segments: the gap statistic settles at 3")


def test_mpc_equals_its_formula_and_bounds():
    assert modified_partition_coefficient(1 / 4, 4) == pytest.approx(0.0)
    assert modified_partition_coefficient(1.0, 5) == pytest.approx(1.0)
    assert np.isnan(modified_partition_coefficient(1.0, 1))
    X, _ = make_blobs(n_samples=200, centers=3, n_features=2, random_state=0)
    t = sweep_k(_frame(X), range(2, 5), "fcm").table
    for k in t.index:
        pc = t.at[k, "partition_coefficient"]
        assert t.at[k, "mpc"] == pytest.approx(1 - k / (k - 1) * (1 - pc))


# --- the mixture sweep reaches scikit-learn's optimum; segment() reproduces it ------------------


@pytest.mark.parametrize("cov", list(COVARIANCE_TYPES))
def test_lean_em_equals_scikit_learn(cov):
    """One EM from a k-means partition: the same fit as GaussianMixture with that start."""
    X, _ = make_blobs(n_samples=300, centers=3, n_features=3, random_state=2)
    gm = GaussianMixture(3, covariance_type=cov, n_init=1, random_state=4).fit(X)
    rs = np.random.RandomState(4)
    labels = KMeans(3, n_init=1, random_state=rs).fit(X).labels_
    ours = em(X, 3, cov, 1e-6, 1e-3, 100, labels=labels)
    assert ours.n_iter_ == gm.n_iter_ and ours.converged_ == gm.converged_
    assert ours.lower_bound_ == pytest.approx(gm.lower_bound_, rel=1e-9)
    np.testing.assert_allclose(ours.means_, gm.means_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.covariances_, gm.covariances_, rtol=1e-6, atol=1e-9)
    assert ours.bic(X) == pytest.approx(gm.bic(X), rel=1e-9)


def _data(seed: int, n: int) -> pd.DataFrame:
    X, _ = make_blobs(
        n_samples=n,
        n_features=4,
        centers=4,
        cluster_std=np.linspace(0.8, 2.0, 4),
        center_box=(-6, 6),
        random_state=seed,
    )
    shear = np.eye(4) + 0.5 * np.random.default_rng(seed).standard_normal((4, 4))
    return _frame(X @ shear)


@pytest.mark.parametrize(("seed", "n"), [(0, 600), (1, 900), (2, 3_000)])
def test_every_cell_is_within_2_of_scikit_learn_best_of_5(seed, n):
    """Up to EXACT_ROWS fitted rows the sweep runs scikit-learn's own starts on every row."""
    df = _data(seed, n)
    sw = sweep_k(df, range(1, 7), "gmm")
    for (k, cov), _ in sw.models.items():
        ref = GaussianMixture(k, covariance_type=cov, n_init=5, random_state=0).fit(sw.X)
        assert sw.table.at[k, f"bic_{cov}"] <= ref.bic(sw.X) + 2.0, (k, cov)


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_segment_reproduces_the_sweep_at_the_recommended_k(seed):
    df = _data(seed % 50, 500)
    sw = sweep_k(df, range(1, 7), "gmm", random_state=seed)
    k = sw.recommended_k
    cov = str(sw.table.at[k, "best_covariance"])
    seg = segment(df, "gmm", k, covariance_type=cov, n_init=SWEEP_STARTS, random_state=seed)
    assert seg.summary["bic"] == pytest.approx(sw.table.at[k, f"bic_{cov}"], abs=1e-6)
