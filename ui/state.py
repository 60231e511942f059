"""Every session-state key the app uses, in one place, with its default.

Values here belong to one browser session (Streamlit keeps session state per
user), so one analyst's data never reaches another's page.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

#: The loaded table: a ``ui.data.Dataset`` (never None after app start: the sample loads first).
DATASET = "dataset"
#: Plain message of the last failed upload, shown on the Data page (the old data stays loaded).
LOAD_ERROR = "load_error"
#: sha256 of the last upload attempted, so a rerun does not re-read (or re-report) the same file.
LAST_UPLOAD = "last_upload"
#: Feature columns chosen on the Data page (list[str]).
FEATURES = "features"
#: Preparation choices: dict with scaling, log_transform (list of columns), impute.
PREP = "prep"
#: k carried from Choose k (or typed on Segments).
CHOSEN_K = "chosen_k"
#: Method settings on the Segments page: dict(method, k, m, covariance_type, n_init, max_iter, seed).
SEG_SETTINGS = "seg_settings"
#: The latest fit: ``ui.data.FitResult`` or None.
SEGMENTATION = "segmentation"
#: The latest finished k sweep (Choose k page): dict(key, settings, sweep, seconds, stability).
SWEEP = "sweep"
#: The sweep being run, a ``ui.sweep.SweepJob`` (its Stop flag, the rows so far) or None.
SWEEP_JOB = "sweep_job"
#: Compare page: the latest comparison, dict(key, result, seconds) (result a MethodComparison).
COMPARISON = "comparison"
#: A sentence about what was just reset (new data, other columns), shown in the sidebar.
NOTICE = "notice"
#: Anomalies page result and settings.
ANOMALIES = "anomalies"
#: Synthetic data page result.
SYNTHETIC = "synthetic"
#: Image page: uploaded/bundled image and its segmentation.
IMAGE = "image"
IMAGE_RESULT = "image_result"
#: Image page settings (method, k, m, covariance_type, features, include_position, seed),
#: sha256 of the last image upload attempted, and the plain message of a failed one.
IMAGE_SETTINGS = "image_settings"
IMAGE_LAST_UPLOAD = "image_last_upload"
IMAGE_LOAD_ERROR = "image_load_error"
#: Data page, purchase logs: (the log's ``ui.data.Dataset``, content key of the customer
#: table built from it) while that table is loaded, for the way back; and the plain
#: message of a failed build (the log stays loaded).
RFM_SOURCE = "rfm_source"
RFM_ERROR = "rfm_error"
#: Analysis file (ui/analysis.py): one opened or read from the address that waits for its
#: table (an ``Analysis`` or None), sha256 of the last analysis upload, the plain
#: (kind, message, key of the table it is about) notice about restoring, and whether the
#: address was read this session.
ANALYSIS_PENDING = "analysis_pending"
ANALYSIS_LAST_UPLOAD = "analysis_last_upload"
ANALYSIS_NOTICE = "analysis_notice"
URL_CHECKED = "url_checked"

DEFAULTS: dict[str, Any] = {
    DATASET: None,
    LOAD_ERROR: None,
    LAST_UPLOAD: None,
    FEATURES: None,
    PREP: {"scaling": "standard", "log_transform": [], "impute": "median"},
    CHOSEN_K: 4,
    SEG_SETTINGS: {
        "method": "gmm",
        "m": 2.0,
        "covariance_type": "full",
        "n_init": 4,
        "max_iter": 200,
        "seed": 0,
    },
    SEGMENTATION: None,
    NOTICE: None,
    SWEEP: None,
    SWEEP_JOB: None,
    COMPARISON: None,
    ANOMALIES: None,
    SYNTHETIC: None,
    IMAGE: None,
    IMAGE_RESULT: None,
    IMAGE_SETTINGS: {
        "method": "kmeans",
        "k": 6,
        "m": 2.0,
        "covariance_type": "full",
        "features": "rgb",
        "include_position": False,
        "seed": 0,
    },
    IMAGE_LAST_UPLOAD: None,
    IMAGE_LOAD_ERROR: None,
    RFM_SOURCE: None,
    RFM_ERROR: None,
    ANALYSIS_PENDING: None,
    ANALYSIS_LAST_UPLOAD: None,
    ANALYSIS_NOTICE: None,
    URL_CHECKED: False,
}


def init_state() -> None:
    """Set every key to its default unless this session already has it."""
    for key, value in DEFAULTS.items():
        # Copy mutable defaults so sessions never share one dict.
        st.session_state.setdefault(key, value.copy() if isinstance(value, dict) else value)


def keep_widget(widget_key: str, value: Any) -> str:
    """Give a widget its stored value back after a page switch.

    Streamlit drops the state of widgets that were not drawn on the last run (another
    page was shown), so the value lives in a plain key and is copied back here.
    Returns ``widget_key`` for use as the widget's ``key``.
    """
    if widget_key not in st.session_state:
        st.session_state[widget_key] = value
    return widget_key
