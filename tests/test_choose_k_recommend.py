"""The recommendation as data, its wording, the veto hook, and mixture retries in a sweep."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from analytics import InputError
from analytics.model import gaussian
from analytics.studies.choose_k import Recommendation, explain, recommend, stability, sweep_k
from analytics.studies.choose_k.recommend import BALLOTS, ELBOW, min_share_veto
from analytics.studies.choose_k.wording import join_ks, reason, warning


def _table(**cols) -> pd.DataFrame:
    return pd.DataFrame(cols, index=pd.Index([2, 3, 4, 5], name="k"))


def _kmeans_table() -> pd.DataFrame:
    return _table(
        inertia=[100.0, 80, 12, 10],
        silhouette=[0.5, 0.7, 0.6, 0.4],
        calinski_harabasz=[10.0, 20, 30, 25],
        davies_bouldin=[0.9, 0.6, 0.5, 0.8],
    )


def test_knee_leads_kmeans_as_data():
    rec = recommend("kmeans", _kmeans_table(), knee_k=4)
    assert isinstance(rec, Recommendation) and rec.status == "chosen"
    assert rec.k == 4 and rec.decided_by == "knee" and rec.criterion == ELBOW
    assert rec.picks == {ELBOW: 4, "silhouette": 3, "calinski_harabasz": 4, "davies_bouldin": 4}
    assert rec.agree == (ELBOW, "calinski_harabasz", "davies_bouldin")
    assert rec.disagree == ("silhouette",) and rec.warn == ()
    assert not rec.at_largest_k and not rec.at_smallest_k
    assert rec.ks == (2, 3, 4, 5) and rec.vetoed == {}


def test_knee_is_computed_when_not_given():
    rec = recommend("kmeans", _kmeans_table())
    assert rec.knee_k == 4 and rec.k == 4


def test_aic_disagreement_is_reported_but_does_not_warn():
    t = _table(
        bic=[50.0, 30, 40, 45],
        aic=[45.0, 25, 20, 30],
        silhouette=[0.4, 0.6, 0.5, 0.3],
        bic_full=[50.0, 30, 40, 45],
        aic_full=[45.0, 25, 20, 30],
        best_covariance=["full"] * 4,
    )
    rec = recommend("gmm", t)
    assert rec.k == 3 and rec.disagree == ("aic",) and rec.warn == ()
    assert "aic" in BALLOTS["gmm"].informational
    text, warn = explain(rec, t)
    assert "AIC prefers 4 (AIC penalises extra segments less" in text and warn is None


def test_parsimony_prefers_the_smaller_of_two_ks_within_10():
    """BIC 3 is lowest (100); k = 2 is 9.5 above it: not strong evidence, so 2."""
    t = _table(bic=[109.5, 100.0, 130.0, 140.0])
    rec = recommend("gmm", t)
    assert rec.k == 2 and rec.decided_by == "parsimony" and rec.criterion == "bic"
    assert rec.best == 3 and rec.near == (2, 3)
    text = reason(rec, t)
    assert text.startswith("2 segments: BIC is lowest at 3, but 2 is within 10 of it (9.5;")
    assert "not strong evidence" in text
    # 10.5 above the best is strong evidence: the best k stands.
    far = _table(bic=[110.5, 100.0, 130.0, 140.0])
    assert recommend("gmm", far).k == 3


def test_icl_leads_and_bic_is_a_voice():
    t = _table(
        bic=[300.0, 250, 200, 150],
        icl=[310.0, 260, 280, 300],
        bic_full=[300.0, 250, 200, 150],
        icl_full=[310.0, 260, 280, 300],
        best_covariance=["full"] * 4,
    )
    rec = recommend("gmm", t)
    assert rec.k == 3 and rec.criterion == "icl" and rec.picks["bic"] == 5
    assert rec.warn == ()  # BIC, which also rewards overlap, never warns
    text, warn = explain(rec, t)
    assert text.startswith("3 segments: ICL is lowest at 3 (full covariance)")
    assert "BIC prefers 5 (BIC also rewards segments that overlap" in text and warn is None


def test_edge_flags_and_their_words():
    t = _table(bic=[50.0, 30, 15, 0], silhouette=[0.1, 0.2, 0.3, 0.4])
    rec = recommend("gmm", t)
    assert rec.k == 5 and rec.at_largest_k and not rec.at_smallest_k
    assert warning(rec).startswith("BIC still falls at the largest k tried (5)")
    icl = recommend("gmm", t.assign(icl=[50.0, 30, 15, 0]))
    assert warning(icl).startswith("ICL still falls at the largest k tried (5)")
    low = recommend("gmm", _table(bic=[10.0, 40, 30, 20]))
    assert low.k == 2 and low.at_smallest_k and warning(low) is None
    km = recommend("kmeans", _table(silhouette=[0.1, 0.2, 0.3, 0.4], inertia=[np.nan] * 4))
    assert warning(km) == "The recommended k is the largest one tried (5); try larger ks as well."


def test_edge_needs_three_ks():
    t = pd.DataFrame({"bic": [50.0, 30]}, index=pd.Index([2, 3], name="k"))
    rec = recommend("gmm", t)
    assert rec.k == 3 and not rec.at_largest_k


def test_one_group_from_the_gap_statistic():
    t = pd.DataFrame(
        {"inertia": [100.0, 80, 70, 65], "gap": [0.50, 0.52, 0.53, 0.54], "gap_se": [0.05] * 4},
        index=pd.Index([1, 2, 3, 4], name="k"),
    )
    rec = recommend("kmeans", t)
    assert rec.k == 1 and rec.decided_by == "no_structure" and rec.warn == ()
    assert "no segment structure stronger than noise" in reason(rec, t)
    # Two segments beat noise by more than one standard error: structure; Tibshirani's
    # rule then stops at 2 (0.90 >= 0.95 - 0.05), although the knee is at 3.
    more = recommend("kmeans", t.assign(gap=[0.5, 0.9, 0.95, 0.97]))
    assert more.k == 2 and more.decided_by == "gap" and more.knee_k == 3


def test_min_share_veto_and_its_words():
    t = _kmeans_table().assign(smallest_share=[0.3, 0.2, 0.01, 0.005])
    rec = recommend("kmeans", t, knee_k=4, vetoes=[min_share_veto(0.02)])
    assert rec.vetoed == {4: "small_segment", 5: "small_segment"}
    assert rec.k == 3 and rec.decided_by == "below_knee" and rec.min_share == 0.02
    text = reason(rec, t)
    assert "the elbow of the inertia curve is at 4, but that k has a segment" in text
    assert "Not recommended: k = 4 and 5, because their smallest segment holds less than 2%" in text
    assert "(1.0% and 0.5%)" in text
    # The default veto is the 2% rule; 0 turns it off.
    assert recommend("kmeans", t, 4).vetoed == rec.vetoed
    assert recommend("kmeans", t, 4, vetoes=[min_share_veto(0.0)]).k == 4


@pytest.mark.parametrize(
    ("table", "status", "k", "text"),
    [
        (pd.DataFrame(), "nothing_fitted", None, "No k was fitted, so there is no recommendation."),
        (
            pd.DataFrame({"silhouette": [0.3]}, index=pd.Index([4], name="k")),
            "one_k",
            4,
            "Only k = 4 was fitted, so there is nothing to compare it with.",
        ),
        (
            _table(silhouette=[np.nan] * 4),
            "no_criteria",
            None,
            "No criterion could be computed, so there is no recommendation.",
        ),
    ],
)
def test_no_vote_statuses(table, status, k, text):
    rec = recommend("kmeans", table)
    assert (rec.status, rec.k) == (status, k)
    assert explain(rec, table) == (text, None)


def test_fcm_knee_leads_and_pc_pe_do_not_warn():
    t = _table(
        objective=[100.0, 40, 30, 25],
        mpc=[0.5, 0.7, 0.6, 0.4],
        xie_beni=[0.3, 0.1, 0.2, 0.4],
        silhouette=[0.5, 0.7, 0.6, 0.4],
        partition_coefficient=[0.9, 0.8, 0.7, 0.6],
        partition_entropy=[0.1, 0.2, 0.3, 0.4],
    )
    rec = recommend("fcm", t)
    assert rec.knee_k == 3 and rec.k == 3 and rec.decided_by == "knee"
    assert rec.disagree == ("partition_coefficient", "partition_entropy") and rec.warn == ()
    assert "Partition coefficient prefers 2 (it tends to favour few segments)" in reason(rec, t)


def test_fcm_without_a_knee_uses_the_modified_partition_coefficient():
    t = _table(
        objective=[np.nan] * 4, mpc=[0.5, 0.7, 0.8, 0.4], partition_coefficient=[0.9, 0.8, 0.7, 0.6]
    )
    rec = recommend("fcm", t)
    assert rec.k == 4 and rec.decided_by == "mpc"


def test_a_veto_removes_ks_before_the_vote():
    def no_four(evidence):
        return {4: "too_small_segment"} if 4 in evidence.table.index else {}

    t = _kmeans_table()
    assert recommend("kmeans", t, 4).k == 4
    rec = recommend("kmeans", t, 4, vetoes=[no_four])
    assert rec.vetoed == {4: "too_small_segment"}
    assert 4 not in rec.picks.values() and ELBOW not in rec.picks  # the elbow was vetoed
    assert rec.k == 3 and rec.decided_by == "below_knee"


def test_everything_vetoed_is_no_recommendation():
    rec = recommend(
        "kmeans", _kmeans_table(), 4, vetoes=[lambda e: dict.fromkeys(e.table.index, "x")]
    )
    assert rec.status == "all_vetoed" and rec.k is None and len(rec.vetoed) == 4


def test_sweep_keeps_the_decision_as_data():
    X, _ = make_blobs(n_samples=300, centers=3, n_features=2, random_state=4)
    sw = sweep_k(pd.DataFrame(X, columns=["a", "b"]), range(2, 6), "kmeans")
    assert sw.recommendation is not None and sw.recommendation.k == sw.recommended_k
    assert explain(sw.recommendation, sw.table) == (sw.reason, sw.warning)


def test_join_ks():
    assert join_ks([4]) == "4"
    assert join_ks([2, 3]) == "2 and 3"
    assert join_ks(["4 (full)", "5 (diag)", "6 (tied)"]) == "4 (full), 5 (diag) and 6 (tied)"


# --- mixture retries: the typed error decides ---------------------------------------------------


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    X, _ = make_blobs(n_samples=200, centers=3, n_features=2, random_state=2)
    return pd.DataFrame(X, columns=["a", "b"])


def test_collapsed_covariance_is_retried_with_more_regularisation(small, monkeypatch):
    real = gaussian.precision_cholesky
    failed = []

    def flaky(cov, cov_type):
        if not failed:
            failed.append(cov_type)
            raise gaussian.SingularCovarianceError()
        return real(cov, cov_type)

    monkeypatch.setattr(gaussian, "precision_cholesky", flaky)
    # One start, so the retried fit is the one kept.
    sw = sweep_k(small, [3], "gmm", covariance_type="full", n_init=1)
    assert failed == ["full"]
    assert any("regularised more strongly" in n and "3 (full)" in n for n in sw.notes)
    assert sw.models[(3, "full")].reg_covar == pytest.approx(1e-3)


def test_always_collapsed_covariance_is_a_typed_input_error(small, monkeypatch):
    def singular(cov, cov_type):
        raise gaussian.SingularCovarianceError()

    monkeypatch.setattr(gaussian, "precision_cholesky", singular)
    with pytest.raises(gaussian.SingularCovarianceError, match="diag") as info:
        sweep_k(small, [3], "gmm", covariance_type="full")
    assert isinstance(info.value, InputError) and info.value.code == "singular_covariance"


def test_other_errors_are_not_taken_for_a_collapse(small, monkeypatch):
    def broken(cov, cov_type):
        raise RuntimeError("a bug, not a collapse")

    monkeypatch.setattr(gaussian, "precision_cholesky", broken)
    with pytest.raises(RuntimeError):
        sweep_k(small, [3], "gmm", covariance_type="full")


def test_seeded_results_repeat(small):
    a = sweep_k(small, [2, 3], "gmm", n_init=2, random_state=5)
    b = sweep_k(small, [2, 3], "gmm", n_init=2, random_state=5)
    pd.testing.assert_frame_equal(a.table, b.table)
    s1 = stability(small, [3], "kmeans", n_resamples=3, random_state=5)
    s2 = stability(small, [3], "kmeans", n_resamples=3, random_state=5)
    pd.testing.assert_frame_equal(s1, s2)
