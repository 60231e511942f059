"""Score a customer base that does not fit in one machine's memory with Dask.

Scoring is row by row (each row's segment depends only on that row and the
model), so a Dask DataFrame is scored partition by partition with exactly the
code that scores an in-memory table: :meth:`SegmentModel.predict`. The model
enters the task graph once (as one delayed object) instead of being copied into
every partition's task. Dask is imported only when this function runs, so
``import analytics`` stays light.

Example::

    from dask.distributed import Client
    import dask.dataframe as dd
    from analytics import load_model, score_dask

    client = Client("tcp://scheduler:8786")   # or Client() for a local cluster
    ddf = dd.read_parquet("s3://bucket/customers/")
    scored = score_dask(load_model("model.json"), ddf)
    scored.to_parquet("s3://bucket/scored/")
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analytics.errors import ColumnError, InputError
from analytics.model.segment_model import SegmentModel, as_model

__all__ = ["score_dask"]


def _score_partition(part: pd.DataFrame, model: SegmentModel) -> pd.DataFrame:
    return model.predict(part)


def score_dask(model: Any, ddf: Any) -> Any:
    """Segment every row of a Dask DataFrame, partition by partition.

    Parameters
    ----------
    model : SegmentModel (from :func:`~analytics.load_model`), a fitted Segmentation,
        or the path of a model file
    ddf : dask.dataframe.DataFrame with (at least) the model's columns

    Returns
    -------
    dask.dataframe.DataFrame (lazy) with the columns of ``model.predict``: the input's
    columns plus ``segment``, ``segment_name`` and the method's soft output
    (``prob_segment_1..k``, ``membership_segment_1..k`` or ``distance_segment_1..k``).
    Its computed rows equal ``model.predict(ddf.compute())``.

    Raises
    ------
    InputError
        ``ddf`` is not a Dask DataFrame, or lacks a column the model needs.
    """
    import dask
    import dask.dataframe as dd

    m = as_model(model)
    if not isinstance(ddf, dd.DataFrame):
        raise InputError(
            "score_dask expects a dask.dataframe.DataFrame; for a pandas table use "
            "model.predict(df).",
            code="not_a_dask_frame",
        )
    present = {str(c) for c in ddf.columns}
    missing = [c for c in m.columns if c not in present]
    if missing:
        raise ColumnError(
            "The table is missing column(s) the model needs: "
            + ", ".join(f"'{c}'" for c in missing),
            code="missing_columns",
        )
    # Scoring the empty meta frame gives the output's exact columns and dtypes.
    meta = m.predict(ddf._meta)
    shared = dask.delayed(m, pure=True, traverse=False)
    return ddf.map_partitions(_score_partition, shared, meta=meta, align_dataframes=False)
