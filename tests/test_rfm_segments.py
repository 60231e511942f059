"""Segmenting an RFM table out of the box: the default preparation and the recommended k
must give segments an analyst can use, none below the minimum share (issue 15, item 4)."""

from __future__ import annotations

import numpy as np
import pytest

from analytics import rfm, segment, sweep_k
from bench.case_rfm import LOG_COLUMNS, make_log

MIN_SHARE = 0.02


@pytest.fixture(scope="module")
def customers():
    return rfm(make_log(40_000, random_state=0), **LOG_COLUMNS)


def test_recommended_kmeans_segments_of_an_rfm_table_are_none_tiny(customers) -> None:
    sweep = sweep_k(customers, range(2, 11), "kmeans")
    seg = segment(customers, "kmeans", sweep.recommended_k)
    shares = np.bincount(seg.labels, minlength=seg.k + 1)[1:] / len(customers)
    assert shares.min() >= MIN_SHARE, (sweep.recommended_k, shares.round(3))


def test_rfm_table_is_a_valid_segmentation_input(customers) -> None:
    # Whatever the k rules: the measures are finite numbers, the scores whole 1..5,
    # and a fit on the default features succeeds and covers every customer.
    for c in ("recency_days", "frequency", "monetary", "tenure_days", "avg_order_value"):
        assert np.isfinite(customers[c].to_numpy(dtype=float)).all(), c
    for c in ("r_score", "f_score", "m_score"):
        assert set(customers[c]) <= {1, 2, 3, 4, 5}
        # quintiles: five groups of equal size, to within one customer
        counts = customers[c].value_counts()
        assert counts.max() - counts.min() <= 1, c
    seg = segment(customers, "kmeans", 4)
    assert len(seg.labels) == len(customers) and set(seg.labels) == {1, 2, 3, 4}
    assert "CustomerID" not in seg.feature_names
