"""Customer segmentation analytics: reading tables, preparing features, segmenting,
choosing k, anomalies, synthetic data, image segmentation, and customer tables (RFM)
built from purchase logs.

This package never imports Streamlit; the app in ``app.py``/``views/`` is a thin
layer over it. Example::

    from analytics import read_table, segment, to_csv_bytes

    df = read_table("customers.csv")
    seg = segment(df, "gmm", 4)
    seg.table()            # every input row and column + segment + probabilities
    to_csv_bytes(seg.table())

Layout: ``io/`` (sniff, read, export), ``prepare`` (column roles, preparation),
``model/`` (the Gaussian and distance kernels, FCM, blocked EM, fitting and the one
``SegmentModel`` scorer), ``studies/`` (choosing k, anomalies, synthetic data,
profiles, images, methods compared), ``charts/`` (Plotly figure builders), ``cli/`` (the command line).
profiles, images, RFM from purchase logs), ``charts/`` (Plotly figure builders), ``cli/`` (the command line).
profiles, images), ``charts/`` (Plotly figure builders), ``report/`` (the analysis file
that reproduces a session, and the self-contained HTML report), ``cli/`` (the command line).

Names are imported lazily (PEP 562), so ``python -m analytics --help`` does not load
scikit-learn, SciPy or Plotly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "ColumnError": "analytics.errors",
    "DataWarning": "analytics.errors",
    "FileFormatError": "analytics.errors",
    "InputError": "analytics.errors",
    "ModelError": "analytics.errors",
    "ReadReport": "analytics.io",
    "read_table": "analytics.io",
    "read_table_with_report": "analytics.io",
    "sniff": "analytics.io",
    "to_csv_bytes": "analytics.io",
    "Preparer": "analytics.preparation",
    "PrepOptions": "analytics.preparation",
    "prepare": "analytics.preparation",
    "profile_columns": "analytics.preparation",
    "FuzzyCMeans": "analytics.model.fcm",
    "Segmentation": "analytics.model.fit",
    "segment": "analytics.model.fit",
    "SegmentModel": "analytics.model.segment_model",
    "load_model": "analytics.model.segment_model",
    "score_dask": "analytics.model.dask",
    "KSweep": "analytics.studies.choose_k",
    "sweep_k": "analytics.studies.choose_k",
    "anomaly_scores": "analytics.studies.anomaly",
    "sample_synthetic": "analytics.studies.synthetic",
    "MethodComparison": "analytics.studies.compare",
    "compare_methods": "analytics.studies.compare",
    "excel_sheets": "analytics.io",
    "to_xlsx_bytes": "analytics.io",
    "RFMReport": "analytics.studies.rfm",
    "rfm": "analytics.studies.rfm",
    "rfm_with_report": "analytics.studies.rfm",
    "ImageSegmentation": "analytics.studies.image",
    "load_image": "analytics.studies.image",
    "segment_image": "analytics.studies.image",
    "Analysis": "analytics.report.analysis",
    "AnalysisError": "analytics.report.analysis",
    "DataMismatchError": "analytics.report.analysis",
    "fingerprint": "analytics.report.analysis",
    "load_analysis": "analytics.report.analysis",
    "run_analysis": "analytics.report.analysis",
    "figure_png": "analytics.report.html",
    "report_html": "analytics.report.html",
}

__all__ = [
    "Analysis",
    "AnalysisError",
    "ColumnError",
    "DataMismatchError",
    "DataWarning",
    "FileFormatError",
    "FuzzyCMeans",
    "ImageSegmentation",
    "InputError",
    "KSweep",
    "MethodComparison",
    "ModelError",
    "PrepOptions",
    "Preparer",
    "RFMReport",
    "ReadReport",
    "SegmentModel",
    "Segmentation",
    "anomaly_scores",
    "compare_methods",
    "excel_sheets",
    "figure_png",
    "fingerprint",
    "load_analysis",
    "load_image",
    "load_model",
    "prepare",
    "profile_columns",
    "read_table",
    "read_table_with_report",
    "rfm",
    "rfm_with_report",
    "report_html",
    "run_analysis",
    "sample_synthetic",
    "score_dask",
    "segment",
    "segment_image",
    "sniff",
    "sweep_k",
    "to_csv_bytes",
    "to_xlsx_bytes",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'analytics' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, eagerly
    from analytics.errors import ColumnError, DataWarning, FileFormatError, InputError, ModelError
    from analytics.io import (
        ReadReport,
        excel_sheets,
        read_table,
        read_table_with_report,
        sniff,
        to_csv_bytes,
        to_xlsx_bytes,
    )
    from analytics.model.dask import score_dask
    from analytics.model.fcm import FuzzyCMeans
    from analytics.model.fit import Segmentation, segment
    from analytics.model.segment_model import SegmentModel, load_model
    from analytics.preparation import Preparer, PrepOptions, prepare, profile_columns
    from analytics.report.analysis import (
        Analysis,
        AnalysisError,
        DataMismatchError,
        fingerprint,
        load_analysis,
        run_analysis,
    )
    from analytics.report.html import figure_png, report_html
    from analytics.studies.anomaly import anomaly_scores
    from analytics.studies.choose_k import KSweep, sweep_k
    from analytics.studies.compare import MethodComparison, compare_methods
    from analytics.studies.image import ImageSegmentation, load_image, segment_image
    from analytics.studies.rfm import RFMReport, rfm, rfm_with_report
    from analytics.studies.synthetic import sample_synthetic
