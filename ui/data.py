"""The loaded dataset and the latest fit, as held in one session's state.

Helpers here are the only place pages get their inputs from, so every page sees
the same table, feature columns and preparation choices.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from analytics import InputError, Preparer, PrepOptions
from analytics.io import DEFAULT_MAX_BYTES
from ui import cache
from ui.state import (
    ANOMALIES,
    COMPARISON,
    DATASET,
    FEATURES,
    LOAD_ERROR,
    NOTICE,
    PREP,
    SEGMENTATION,
    SWEEP,
    SWEEP_JOB,
    SYNTHETIC,
)
from ui.text import md

#: Results that depend on the data, its feature columns and their preparation.
DEPENDENT_RESULTS = (SEGMENTATION, SWEEP, SWEEP_JOB, ANOMALIES, SYNTHETIC, COMPARISON)

SAMPLE_PATH = Path(__file__).resolve().parent.parent / "sample_data" / "customers.csv"
SAMPLE_NAME = "Sample customers (customers.csv)"
#: Probabilities in downloaded tables are rounded to this many decimals (said in the help).
PROBABILITY_DECIMALS = 6
#: Largest CSV the Data page accepts, in MB; the same number is in .streamlit/config.toml.
# The one upload limit: the reader's; .streamlit/config.toml's maxUploadSize must match
# (tests/test_limits.py checks it).
MAX_UPLOAD_MB = DEFAULT_MAX_BYTES // (1024 * 1024)


def sha256(data: bytes) -> str:
    """Hex sha256 of ``data``: the content key of every cache entry."""
    return hashlib.sha256(data).hexdigest()


@dataclass
class Dataset:
    """A table the analyst loaded: its name, content key, frame and read report."""

    name: str
    key: str
    df: pd.DataFrame
    report: dict[str, Any]
    is_sample: bool = False


@dataclass
class FitResult:
    """A segmentation and exactly what it was fitted on."""

    inputs_key: str
    settings: dict[str, Any]
    seg: Any
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)


def load_bytes(
    data: bytes, name: str, is_sample: bool = False, sheet: str | None = None
) -> Dataset:
    """Read CSV or workbook bytes (``sheet`` of a workbook) into a Dataset; raises InputError.

    The bundled sample is read once per server (cached by content). Uploads are read
    straight into this session: a cached copy would hold every uploaded table a
    second time (a few hundred MB each at a million rows, times every user) and
    pickling it costs about a second, to save a re-read that analysts rarely need.
    """
    key = sha256(data)
    if is_sample:
        df, report = cache.read_table_cached(key, name, data)
    else:
        df, report = cache.read_table_report(data, name, sheet)
    if report.get("sheets"):
        # Each sheet is its own table: its own content key, so caches never mix them.
        key = sha256(f"{key}\x1fsheet\x1f{report['sheet']}".encode())
        if len(report["sheets"]) > 1:
            name = f"{name} [sheet {report['sheet']}]"
    return Dataset(name=name, key=key, df=df, report=report, is_sample=is_sample)


def reset_results(reason: str | None = None) -> bool:
    """Forget every result that depends on the data, columns or preparation.

    ``reason`` (a plain sentence) is shown in the sidebar when something was
    actually forgotten. Returns whether anything was.
    """
    had = any(st.session_state.get(key) is not None for key in DEPENDENT_RESULTS)
    for key in DEPENDENT_RESULTS:
        st.session_state[key] = None
    if had and reason:
        st.session_state[NOTICE] = reason
    return had


def set_dataset(ds: Dataset) -> None:
    """Make ``ds`` the current table and forget results computed on the previous one."""
    previous = st.session_state.get(DATASET)
    st.session_state[DATASET] = ds
    st.session_state[FEATURES] = None
    st.session_state[LOAD_ERROR] = None
    # The library's default preparation, spelled out for this table: the strongly skewed
    # non-negative columns it would log on its own (one default everywhere; the Data page
    # shows them and the analyst can change them).
    prep = dict(st.session_state.get(PREP) or {})
    prep["log_transform"] = auto_log_columns(ds)
    st.session_state[PREP] = prep
    st.session_state[NOTICE] = None
    if previous is not None:
        reset_results(
            f"New data: {md(ds.name)}. The segments, the comparison of k, the anomalies, "
            "the method comparison and the synthetic rows of the previous table were cleared; "
            "each page works them out again for this one."
        )


def auto_log_columns(ds: Dataset) -> list[str]:
    """Columns of ``ds``'s default features that the automatic log rule transforms
    (``PrepOptions(log_transform=True)``: skewness above the threshold, non-negative)."""
    prof = cache.profile_cached(ds.key, ds.df)
    numeric = prof.loc[prof["use"] & (prof["role"] == "numeric"), "column"].tolist()
    if not numeric:
        return []
    try:
        prep = Preparer(columns=numeric, options=PrepOptions(log_transform=True))
        prep.fit(ds.df, dict.fromkeys(numeric, "numeric"))
    except InputError:
        return []
    return list(prep.log_columns)


def ensure_dataset() -> Dataset:
    """The current dataset; the bundled sample is loaded on first visit."""
    ds = st.session_state.get(DATASET)
    if ds is None:
        ds = load_bytes(SAMPLE_PATH.read_bytes(), SAMPLE_NAME, is_sample=True)
        set_dataset(ds)
    return ds


def try_load_upload(data: bytes, name: str, sheet: str | None = None) -> bool:
    """Load an upload (``sheet`` of a workbook); on bad input keep the previous data and
    remember the message."""
    try:
        ds = load_bytes(data, name, sheet=sheet)
    except InputError as exc:
        st.session_state[LOAD_ERROR] = f"Could not load '{md(name)}': {md(exc.message)}"
        return False
    set_dataset(ds)
    return True


def features() -> list[str]:
    """Feature columns chosen on the Data page (default: the profiled numeric/categorical ones)."""
    ds = ensure_dataset()
    chosen = st.session_state.get(FEATURES)
    if chosen is None:
        prof = cache.profile_cached(ds.key, ds.df)
        chosen = prof.loc[prof["use"], "column"].tolist()
        st.session_state[FEATURES] = chosen
    return list(chosen)


def roles() -> dict[str, str]:
    """Role of every profiled column of the current table (from the cached profile)."""
    ds = ensure_dataset()
    prof = cache.profile_cached(ds.key, ds.df)
    return dict(zip(prof["column"], prof["role"], strict=True))


def prep_options() -> dict[str, Any]:
    """Preparation choices as keyword arguments for analytics functions."""
    p = dict(st.session_state[PREP])
    p["log_transform"] = list(p.get("log_transform") or [])
    return p


def prep_object() -> PrepOptions:
    """The preparation choices as a PrepOptions."""
    return PrepOptions(**prep_options())


def inputs_key(*extra: Any) -> str:
    """Content key of the current data + features + preparation (+ any extra parameters)."""
    ds = ensure_dataset()
    payload = json.dumps([ds.key, features(), prep_options(), list(extra)], default=str)
    return sha256(payload.encode())
