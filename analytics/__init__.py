"""Customer segmentation analytics: reading tables, preparing features, segmenting,
choosing k, anomalies, synthetic data and image segmentation.

This package never imports Streamlit; the app in ``app.py``/``views/`` is a thin
layer over it. Example::

    from analytics import read_table, segment, to_csv_bytes

    df = read_table("customers.csv")
    seg = segment(df, "gmm", 4)
    seg.table()            # every input row and column + segment + probabilities
    to_csv_bytes(seg.table())
"""

from analytics.anomaly import anomaly_scores
from analytics.dask_scoring import score_dask
from analytics.errors import ColumnError, DataWarning, FileFormatError, InputError, ModelError
from analytics.fcm import FuzzyCMeans
from analytics.image import ImageSegmentation, load_image, segment_image
from analytics.io import ReadReport, read_table, read_table_with_report, to_csv_bytes
from analytics.model_io import SegmentModel, load_model
from analytics.prepare import Preparer, PrepOptions, prepare, profile_columns
from analytics.segment import Segmentation, segment
from analytics.synthetic import sample_synthetic

__all__ = [
    "ColumnError",
    "DataWarning",
    "FileFormatError",
    "FuzzyCMeans",
    "InputError",
    "ModelError",
    "PrepOptions",
    "Preparer",
    "Segmentation",
    "anomaly_scores",
    "prepare",
    "profile_columns",
    "sample_synthetic",
    "segment",
    "SegmentModel",
    "load_model",
    "score_dask",
    "ImageSegmentation",
    "load_image",
    "segment_image",
    "ReadReport",
    "read_table",
    "read_table_with_report",
    "to_csv_bytes",
]
