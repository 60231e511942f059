"""Cached wrappers around analytics, keyed by content.

``st.cache_data`` hashes only a sample of rows of a large DataFrame and its cache
is shared by every user, so the data itself is passed as an ``_underscore``
argument (not hashed) and a sha256 of its bytes (plus every parameter) is the
key. Two uploads that differ anywhere get different keys.

What is kept, and for how long (nothing lingers after a session):

* Results computed from a user's own data (profiles, reports, maps, sweeps, scored
  tables) are cached with ``scope="session"``: only that session sees them and Streamlit
  drops them when its browser tab disconnects. Each function keeps at most
  ``max_entries`` results and ``max_size`` pickled bytes per session, and an entry
  expires after :data:`SESSION_TTL` even while the session stays open.
* Shared (``scope="global"``) caches hold only what does not come from a user: the
  bundled sample table and photos, bounded by entries, bytes and :data:`SHARED_TTL`.
* ``server.maxCacheDataSize`` in ``.streamlit/config.toml`` caps the pickled bytes of
  every ``st.cache_data`` entry of every session together.
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import timedelta
from typing import Any

import pandas as pd
import streamlit as st

from analytics import profile_columns
from analytics.io import read_table_with_report

#: Expiry of per-session results (a session open longer recomputes them on demand).
SESSION_TTL = timedelta(hours=1)
#: Expiry of shared entries (the bundled sample and photos).
SHARED_TTL = timedelta(hours=6)

#: Keyword arguments of a per-session cache: its own, dropped when the session ends.
SESSION = {"scope": "session", "ttl": SESSION_TTL, "show_spinner": False}
#: Keyword arguments of a cache shared by every session (bundled data only).
SHARED = {"scope": "global", "ttl": SHARED_TTL, "show_spinner": False}


def read_table_report(
    data: bytes, name: str, sheet: str | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read CSV or workbook bytes (``sheet``: a workbook's sheet, default the first);
    returns the frame and the read report as a dict (not cached)."""
    df, report = read_table_with_report(data, filename=name, sheet=sheet)
    rep = asdict(report) if is_dataclass(report) else dict(report)
    return df, rep


@st.cache_data(max_entries=2, max_size="256MB", **SHARED)
def read_table_cached(key: str, name: str, _data: bytes) -> tuple[pd.DataFrame, dict[str, Any]]:
    """:func:`read_table_report` cached by content key (used for the bundled sample)."""
    return read_table_report(_data, name)


@st.cache_data(max_entries=8, max_size="16MB", **SESSION)
def profile_cached(key: str, _df: pd.DataFrame) -> pd.DataFrame:
    """Column roles of the table with content key ``key``."""
    return profile_columns(_df)


@st.cache_data(max_entries=8, max_size="16MB", **SESSION)
def describe_cached(key: str, _df: pd.DataFrame) -> pd.DataFrame:
    """Summary statistics of the numeric columns (count, mean, std, quantiles)."""
    num = _df.select_dtypes("number")
    if num.shape[1] == 0:
        return pd.DataFrame()
    return num.describe().T


@st.cache_data(max_entries=8, max_size="64MB", **SESSION)
def segment_report_cached(key: str, _seg: Any) -> dict[str, Any]:
    """Profiles, heatmap frames, effect sizes and one-line descriptions of the fit ``key``.

    ``key`` is the fit's ``FitResult.inputs_key`` (data, features, preparation and
    settings), which fixes the deterministic fit and therefore these results.
    """
    from analytics.studies import profiles

    means, z = profiles.feature_profile(_seg)
    effects = profiles.effect_sizes(_seg)
    return {
        "profiles": profiles.segment_profiles(_seg),
        "means": means,
        "z": z,
        "effects": effects,
        "descriptions": profiles.describe_segments(_seg, effects),
        "suggested_names": profiles.suggest_names(_seg, effects),
        "comparisons": [
            profiles.profile_comparison(_seg, j, effects) for j in range(1, _seg.k + 1)
        ],
    }


@st.cache_data(max_entries=8, max_size="64MB", **SESSION)
def projection_cached(key: str, x: str | None, y: str | None, sample: int, _seg: Any) -> Any:
    """2-D map data (PCA or two columns, GMM ellipses) of the fit ``key``."""
    from analytics.studies.profiles import projection_2d

    return projection_2d(_seg, x, y, sample=sample, random_state=0)


@st.cache_data(max_entries=4, max_size="64MB", **SESSION)
def anomaly_map_cached(
    key: str,
    cutoff: float,
    max_points: int,
    names: tuple[tuple[int, str], ...],
    _result: Any,
) -> Any:
    """2-D map figure of the anomaly fit ``key`` with the rows at or below ``cutoff`` marked;
    ``names`` are the segment names as ``(segment, name)`` pairs (hashed)."""
    from analytics.charts.anomaly import anomaly_map
    from analytics.studies.anomaly import map_coordinates

    scores = _result.scores
    xy, explained = map_coordinates(_result.segmentation.X)
    return anomaly_map(
        xy,
        scores["log_density"].to_numpy() <= cutoff,
        segments=scores["nearest_segment"].to_numpy(),
        hover=scores["explanation"].to_numpy(),
        names=dict(names) or None,
        explained=explained,
        max_points=max_points,
    )


@st.cache_data(max_entries=4, max_size="32MB", **SESSION)
def synthetic_reports_cached(
    key: str, _real: pd.DataFrame, _synth: pd.DataFrame, _columns: list[str]
) -> dict[str, Any]:
    """Fidelity and privacy reports of the synthetic sample ``key`` against the real table."""
    from analytics.studies.synthetic import fidelity_report, privacy_report

    return {
        "fidelity": fidelity_report(_real, _synth, _columns),
        "privacy": privacy_report(_real, _synth, _columns),
    }


@st.cache_data(max_entries=2, max_size="256MB", **SESSION)
def sweep_cached(
    key: str,
    method: str,
    ks: tuple[int, ...],
    seed: int,
    params: tuple[tuple[str, Any], ...],
    _df: pd.DataFrame,
    _columns: list[str],
) -> Any:
    """``analytics.studies.choose_k.sweep_k`` at ``ks`` for the inputs ``key``.

    ``key`` fixes the data, features, preparation and method settings; ``ks``, ``seed``
    and ``params`` are hashed too. Pure: no progress bar or other UI call inside, so a
    cached result replays without touching the page.
    """
    from analytics.studies.choose_k import sweep_k

    return sweep_k(_df, list(ks), method, columns=_columns, random_state=seed, **dict(params))


@st.cache_data(max_entries=64, max_size="16MB", **SESSION)
def sweep_row_cached(
    key: str,
    method: str,
    k: int,
    seed: int,
    params: tuple[tuple[str, Any], ...],
    _df: pd.DataFrame,
    _columns: list[str],
) -> pd.DataFrame:
    """Criteria row (a 1-row ``KSweep.table``) of one k, for the sweep's partial results.

    Only the small table is kept, not the fitted models or the prepared matrix.
    """
    from analytics.studies.choose_k import sweep_k

    return sweep_k(_df, [int(k)], method, columns=_columns, random_state=seed, **dict(params)).table


@st.cache_data(max_entries=8, max_size="32MB", **SESSION)
def silhouette_rows_cached(key: str, k: int, _sweep: Any) -> Any:
    """Per-row silhouettes (sampled above 5,000 rows) of the sweep ``key`` at ``k``."""
    return _sweep.silhouette_values(k)


@st.cache_data(max_entries=4, max_size="8MB", **SESSION)
def stability_cached(key: str, _sweep: Any) -> pd.DataFrame:
    """Resampling stability (adjusted Rand) around the recommended k of the sweep ``key``."""
    return _sweep.stability()


@st.cache_data(max_entries=4, max_size="32MB", **SHARED)
def bundled_photo_bytes(name: str) -> bytes:
    """File bytes of a photo scikit-learn ships (``china.jpg``, ``flower.jpg``); works offline."""
    from importlib.resources import files

    return files("sklearn.datasets.images").joinpath(name).read_bytes()


@st.cache_data(max_entries=4, max_size="64MB", **SESSION)
def display_image_cached(key: str, max_side: int, smooth: bool, _array: Any) -> tuple[Any, int]:
    """Downscaled copy (longer side <= ``max_side``) of the image or map with content key ``key``.

    Returns the small array and the step (original pixels per drawn pixel).
    """
    from analytics.charts.image import downscale

    return downscale(_array, max_side=max_side, smooth=smooth)


@st.cache_data(max_entries=4, max_size="64MB", **SESSION)
def soft_map_cached(key: str, segment: int, max_side: int, _seg: Any) -> tuple[Any, int]:
    """Downscaled soft map (FCM membership / GMM probability) of ``segment`` in the image fit ``key``.

    The map is computed on every pixel and only the small copy is kept, so the cache
    holds at most ``max_side`` x ``max_side`` floats per entry.
    """
    from analytics.charts.image import downscale

    return downscale(_seg.soft_map(int(segment)), max_side=max_side)
