"""compare_methods: agreement against scikit-learn's adjusted Rand, Hungarian matching
against a brute-force search, disagreements against a hand-made partition."""

from __future__ import annotations

from itertools import permutations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from analytics import InputError, compare_methods, segment
from analytics.studies.compare import match_labels


def blobs(
    n: int = 600, k: int = 3, spread: float = 0.6, seed: int = 0
) -> tuple[pd.DataFrame, np.ndarray]:
    X, y = make_blobs(n_samples=n, centers=k, cluster_std=spread, random_state=seed)
    return pd.DataFrame(X, columns=["a", "b"]), y


def test_pairwise_table_is_scikit_learns_adjusted_rand() -> None:
    df, _ = blobs(spread=2.5)  # overlapping: the methods differ on some rows
    res = compare_methods(df, 3, n_init=2)
    for a in res.methods:
        solo = segment(df, a, 3, n_init=2) if a != "fcm" else segment(df, a, 3, n_init=2)
        np.testing.assert_array_equal(res.labels[a].to_numpy(), solo.labels)
    for _, row in res.pairs.iterrows():
        a, b = row["method_a"], row["method_b"]
        expected = adjusted_rand_score(res.labels[a], res.labels[b])
        assert row["adjusted_rand"] == pytest.approx(expected, abs=1e-12)
        assert res.agreement.loc[a, b] == res.agreement.loc[b, a] == pytest.approx(expected)
    np.testing.assert_array_equal(np.diag(res.agreement), 1.0)


def test_well_separated_groups_every_method_finds_the_known_partition() -> None:
    df, y = blobs(spread=0.3)
    res = compare_methods(df, 3)
    for m in res.methods:
        assert adjusted_rand_score(y, res.labels[m]) == pytest.approx(1.0)
    np.testing.assert_allclose(res.agreement.to_numpy(), 1.0)
    assert not res.disagree.any()
    assert res.disagreements().empty
    # Matched labels are identical, and each cross-tabulation is diagonal.
    for m in res.methods:
        np.testing.assert_array_equal(res.matched[m], res.matched[res.methods[0]])
    for _, row in res.pairs.iterrows():
        table = res.crosstab(row["method_a"], row["method_b"]).to_numpy()
        assert (table == np.diag(np.diag(table))).all()
        assert table.sum() == len(df) and row["same_segment"] == 1.0


def test_disagreements_are_the_rows_whose_matched_labels_differ() -> None:
    df, _ = blobs(spread=2.5, seed=3)
    res = compare_methods(df, 3, methods=("kmeans", "gmm"))
    la = res.labels["kmeans"].to_numpy()
    lb = res.labels["gmm"].to_numpy()
    # Brute force over every renumbering of gmm's segments: the best one.
    best = max(permutations(range(1, 4)), key=lambda p: np.sum(np.array(p)[lb - 1] == la))
    renamed = np.array(best)[lb - 1]
    np.testing.assert_array_equal(res.matched["gmm"].to_numpy(), renamed)
    np.testing.assert_array_equal(res.disagree, renamed != la)
    assert res.pairs.loc[0, "same_segment"] == pytest.approx(np.mean(renamed == la))
    table = res.crosstab("kmeans", "gmm")
    assert np.trace(table.to_numpy()) == int(np.sum(renamed == la))
    dis = res.disagreements()
    assert len(dis) == int(res.disagree.sum()) > 0
    assert list(dis.columns[:2]) == ["a", "b"]
    assert (~dis["methods_agree"]).all()
    assert dis["segment_kmeans"].tolist() == la[res.disagree].tolist()


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 5).flatmap(lambda k: st.tuples(st.just(k), st.lists(st.tuples(st.integers(1, k), st.integers(1, k)), min_size=1, max_size=60))))  # fmt: skip
def test_match_labels_is_the_best_one_to_one_renumbering(case) -> None:
    k, pairs = case
    ref = np.array([p[0] for p in pairs])
    other = np.array([p[1] for p in pairs])
    mapping = match_labels(ref, other, k)
    assert sorted(mapping[1:].tolist()) == list(range(1, k + 1))  # one to one
    best = max(np.sum(np.array(p)[other - 1] == ref) for p in permutations(range(1, k + 1)))
    assert np.sum(mapping[other] == ref) == best


def test_the_same_method_twice_is_refused_and_settings_go_where_they_belong() -> None:
    df, _ = blobs(n=200)
    with pytest.raises(InputError):
        compare_methods(df, 3, methods=("kmeans", "kmeans"))
    with pytest.raises(InputError):
        compare_methods(df, 3, methods=("kmeans",))
    with pytest.raises(InputError):
        compare_methods(df, 3, colour="red")
    res = compare_methods(df, 3, methods=("fcm", "gmm"), m=1.5, covariance_type="diag")
    assert res.segmentations["fcm"].summary["params"]["m"] == 1.5
    assert res.segmentations["gmm"].summary["params"]["covariance_type"] == "diag"


def test_input_columns_are_kept_and_never_overwritten() -> None:
    df, _ = blobs(n=150)
    df["segment_kmeans"] = "mine"
    res = compare_methods(df, 2, columns=["a", "b"], methods=("kmeans", "fcm"))
    out = res.table()
    assert (out["segment_kmeans"] == "mine").all()
    assert out["_segment_kmeans"].tolist() == res.labels["kmeans"].tolist()
    pd.testing.assert_frame_equal(out[df.columns], df)
