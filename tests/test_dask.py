"""``score_dask`` on a LocalCluster gives the labels of in-memory scoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("dask.distributed")

from analytics import InputError, load_model, score_dask, segment  # noqa: E402
from analytics.errors import ColumnError  # noqa: E402
from analytics.io import read_table  # noqa: E402
from analytics.model.segment_model import model_bytes  # noqa: E402
from ui.data import SAMPLE_PATH  # noqa: E402


@pytest.fixture(scope="module")
def client():
    # One in-process worker with one thread: light on a shared 2-core machine.
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    df = read_table(SAMPLE_PATH)
    return df.iloc[:600].reset_index(drop=True), df.iloc[600:1400].reset_index(drop=True)


def _compare(expected: pd.DataFrame, got: pd.DataFrame) -> None:
    assert list(got.columns) == list(expected.columns)
    assert got.index.equals(expected.index)
    assert np.array_equal(got["segment"].to_numpy(), expected["segment"].to_numpy())
    prob = [c for c in expected.columns if c.startswith(("prob_segment_", "segment_prob"))]
    np.testing.assert_allclose(got[prob].to_numpy(), expected[prob].to_numpy(), rtol=0, atol=1e-12)
    for c in expected.columns.difference([*prob, "segment"]):
        assert got[c].astype(object).equals(expected[c].astype(object)), c


@pytest.mark.parametrize(
    "method, params",
    [("kmeans", {}), ("fcm", {}), ("gmm", {"covariance_type": "full"})],
)
def test_dask_scoring_equals_in_memory(client, data, method, params) -> None:
    train, new = data
    seg = segment(train, method, 3, n_init=1, **params)
    model = load_model(model_bytes(seg))
    ddf = dd.from_pandas(new, npartitions=4)
    scored = score_dask(model, ddf)
    assert isinstance(scored, dd.DataFrame)
    assert scored.npartitions == 4
    assert list(scored.columns) == list(model.predict(new).columns)
    got = scored.compute()
    _compare(model.predict(new), got)
    _compare(seg.predict(new), got)


def test_accepts_a_segmentation_and_a_model_path(client, data, tmp_path) -> None:
    train, new = data
    seg = segment(train, "kmeans", 2, n_init=1)
    seg.save(tmp_path / "m.json")
    ddf = dd.from_pandas(new, npartitions=2)
    a = score_dask(seg, ddf).compute()
    b = score_dask(str(tmp_path / "m.json"), ddf).compute()
    assert np.array_equal(a["segment"].to_numpy(), b["segment"].to_numpy())


def test_refuses_pandas_frames_and_missing_columns(data) -> None:
    train, new = data
    model = load_model(model_bytes(segment(train, "kmeans", 2, n_init=1)))
    with pytest.raises(InputError, match="dask"):
        score_dask(model, new)
    with pytest.raises(ColumnError, match="annual_income"):
        score_dask(model, dd.from_pandas(new.drop(columns=["annual_income"]), npartitions=2))
