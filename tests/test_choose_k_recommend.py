"""The recommendation as data, its wording, the veto hook, and mixture retries in a sweep."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from analytics import InputError
from analytics.model import gaussian
from analytics.studies.choose_k import Recommendation, explain, recommend, stability, sweep_k
from analytics.studies.choose_k.recommend import BALLOTS, ELBOW
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


def test_disagreeing_leads_are_decided_by_votes_as_data():
    rec = recommend("kmeans", _kmeans_table(), knee_k=4)
    assert isinstance(rec, Recommendation) and rec.status == "chosen"
    assert rec.k == 4 and rec.decided_by == "votes"
    assert rec.picks == {ELBOW: 4, "silhouette": 3, "calinski_harabasz": 4, "davies_bouldin": 4}
    assert rec.votes == {4: 3, 3: 1}
    assert rec.agree == (ELBOW, "calinski_harabasz", "davies_bouldin")
    assert rec.disagree == rec.warn == ("silhouette",)
    assert not rec.at_largest_k and not rec.at_smallest_k
    assert rec.ks == (2, 3, 4, 5) and rec.vetoed == {}


def test_agreeing_leads_decide_without_a_vote():
    t = _kmeans_table().assign(silhouette=[0.5, 0.6, 0.7, 0.4])
    rec = recommend("kmeans", t, knee_k=4)
    assert rec.k == 4 and rec.decided_by == "lead" and rec.votes == {}
    assert rec.disagree == () and warning(rec) is None


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


def test_edge_flags_and_their_words():
    t = _table(bic=[50.0, 40, 30, 20], silhouette=[0.1, 0.2, 0.3, 0.4])
    rec = recommend("gmm", t)
    assert rec.k == 5 and rec.at_largest_k and not rec.at_smallest_k
    assert warning(rec).startswith("BIC is still falling at the largest k tried (5)")
    low = recommend("gmm", _table(bic=[10.0, 40, 30, 20]))
    assert low.k == 2 and low.at_smallest_k and warning(low) is None
    km = recommend("kmeans", _table(silhouette=[0.1, 0.2, 0.3, 0.4]))
    assert warning(km) == "The best k is the largest one tried (5); try larger ks as well."


def test_edge_needs_three_ks():
    t = pd.DataFrame({"bic": [50.0, 40]}, index=pd.Index([2, 3], name="k"))
    rec = recommend("gmm", t)
    assert rec.k == 3 and not rec.at_largest_k


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


def test_tie_break_goes_to_silhouette():
    rec = recommend(
        "kmeans", _table(inertia=[100.0, 40, 12, 10], silhouette=[0.5, 0.7, 0.6, 0.4]), 4
    )
    assert rec.k == 3 and rec.decided_by == "tie_break" and rec.votes == {4: 1, 3: 1}


def test_fcm_lead_is_xie_beni_then_silhouette():
    t = _table(
        xie_beni=[0.3, 0.1, 0.2, 0.4],
        silhouette=[0.5, 0.7, 0.6, 0.4],
        partition_coefficient=[0.9, 0.8, 0.7, 0.6],
        partition_entropy=[0.1, 0.2, 0.3, 0.4],
    )
    rec = recommend("fcm", t)
    assert rec.k == 3 and rec.disagree == ("partition_coefficient", "partition_entropy")
    assert "the partition coefficient prefers 2" not in reason(rec, t)
    assert "Partition coefficient prefers 2 (it tends to favour few segments)" in reason(rec, t)


def test_a_veto_removes_ks_before_the_vote():
    def no_three(evidence):
        return {3: "too_small_segment"} if 3 in evidence.table.index else {}

    t = _kmeans_table().assign(silhouette=[0.5, 0.9, 0.6, 0.4])
    assert recommend("kmeans", t, 3).k == 3
    rec = recommend("kmeans", t, 3, vetoes=[no_three])
    assert rec.vetoed == {3: "too_small_segment"}
    assert 3 not in rec.picks.values() and ELBOW not in rec.picks  # the elbow was vetoed
    assert rec.k == 4


def test_everything_vetoed_is_no_recommendation():
    rec = recommend(
        "kmeans", _kmeans_table(), 4, vetoes=[lambda e: dict.fromkeys(e.table.index, "x")]
    )
    assert rec.status == "no_criteria" and rec.k is None and len(rec.vetoed) == 4


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


@pytest.mark.parametrize("error", [gaussian.SingularCovarianceError, ValueError])
def test_collapsed_covariance_is_retried_with_more_regularisation(small, monkeypatch, error):
    real = gaussian.precisions
    failed = []

    def flaky(cov, cov_type):
        if not failed:
            failed.append(cov_type)
            raise error()
        return real(cov, cov_type)

    monkeypatch.setattr(gaussian, "precisions", flaky)
    sw = sweep_k(small, [3], "gmm", covariance_type="full")
    assert failed == ["full"]
    assert any("regularised more strongly" in n and "3 (full)" in n for n in sw.notes)
    assert sw.models[(3, "full")].reg_covar == pytest.approx(1e-3)


def test_always_collapsed_covariance_is_a_typed_input_error(small, monkeypatch):
    def singular(cov, cov_type):
        raise gaussian.SingularCovarianceError()

    monkeypatch.setattr(gaussian, "precisions", singular)
    with pytest.raises(gaussian.SingularCovarianceError, match="diag") as info:
        sweep_k(small, [3], "gmm", covariance_type="full")
    assert isinstance(info.value, InputError) and info.value.code == "singular_covariance"


def test_other_errors_are_not_taken_for_a_collapse(small, monkeypatch):
    def broken(cov, cov_type):
        raise RuntimeError("a bug, not a collapse")

    monkeypatch.setattr(gaussian, "precisions", broken)
    with pytest.raises(RuntimeError):
        sweep_k(small, [3], "gmm", covariance_type="full")


def test_seeded_results_repeat(small):
    a = sweep_k(small, [2, 3], "gmm", n_init=2, random_state=5)
    b = sweep_k(small, [2, 3], "gmm", n_init=2, random_state=5)
    pd.testing.assert_frame_equal(a.table, b.table)
    s1 = stability(small, [3], "kmeans", n_resamples=3, random_state=5)
    s2 = stability(small, [3], "kmeans", n_resamples=3, random_state=5)
    pd.testing.assert_frame_equal(s1, s2)
