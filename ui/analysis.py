"""The analysis file in the app: download it, open it again, and keep it across a reload.

* :func:`analysis_from_state` turns a session's choices into an
  :class:`~analytics.report.analysis.Analysis` (pure: it reads a session-state mapping).
* :func:`apply_analysis` restores a session from one: features, preparation, method,
  k, settings, seed, names, and the Anomalies, Synthetic data and Choose k controls;
  the segmentation is refitted at once (deterministic: the same segments).
* :func:`render_open_analysis` (Data page) opens an analysis file; one made on other
  data is refused with the reason and kept waiting until that table is uploaded.
* :func:`render_downloads` (Segments page) offers the analysis file, the HTML
  report and a PNG of the map.
* :func:`restore_from_url` / :func:`keep_in_url` (app.py) keep the analysis in the
  address (``?analysis=...``), so a reload restores it: the sample's analysis at once,
  an uploaded table's settings as soon as the same file is uploaded again, and the
  page says that the file itself was not kept.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import streamlit as st

from analytics import InputError, profile_columns
from analytics.report.analysis import (
    Analysis,
    AnalysisResults,
    DataFingerprint,
    check_data,
    fingerprint,
    from_compact,
    load_analysis,
    to_compact,
)
from ui.data import (
    SAMPLE_NAME,
    SAMPLE_PATH,
    FitResult,
    load_bytes,
    set_dataset,
    sha256,
)
from ui.state import (
    ANALYSIS_LAST_UPLOAD,
    ANALYSIS_NOTICE,
    ANALYSIS_PENDING,
    ANOMALIES,
    CHOSEN_K,
    DATASET,
    FEATURES,
    PREP,
    SEG_SETTINGS,
    SEGMENTATION,
    SWEEP,
    SYNTHETIC,
    URL_CHECKED,
)
from ui.widgets import file_stem

#: Query parameter holding the compact analysis.
URL_PARAM = "analysis"
#: Longest compact analysis kept in the address (browsers and proxies cut long URLs).
MAX_URL_CHARS = 6000


def _get(state: Any, key: str, default: Any = None) -> Any:
    try:
        return state[key]
    except (KeyError, AttributeError):
        return default


def current_names(fit: FitResult | None) -> dict[int, str]:
    """Segment names of the fit shown: ``Segmentation.names`` when the fit has them,
    else the names restored from an analysis file (``FitResult.extra["names"]``)."""
    if fit is None:
        return {}
    names = getattr(fit.seg, "names", None) or fit.extra.get("names") or {}
    return {int(j): str(n) for j, n in dict(names).items() if str(n).strip()}


def analysis_from_state(state: Any, table_hash: bool = False) -> Analysis | None:
    """The session's choices as an :class:`Analysis` (None before any data is loaded).

    Parameters
    ----------
    state : ``st.session_state`` or any mapping with the keys of :mod:`ui.state`
    table_hash : also hash the table's content (so the analysis matches the same table
        read elsewhere, e.g. by the command line from a re-saved file); takes ~0.5 s
        per million rows, so it is done for downloads only
    """
    ds = _get(state, DATASET)
    if ds is None:
        return None
    # Not the session-scoped cache: downloads build this file outside the script run.
    prof = profile_columns(ds.df)
    roles_all = dict(zip(prof["column"], prof["role"], strict=True))
    feats = _get(state, FEATURES)
    if feats is None:
        feats = prof.loc[prof["use"], "column"].tolist()
    prep = dict(_get(state, PREP) or {})
    fit: FitResult | None = _get(state, SEGMENTATION)
    saved = dict(_get(state, SEG_SETTINGS) or {})
    settings = {**saved, "k": int(_get(state, CHOSEN_K, 4))}
    if fit is not None:
        # The results shown are what the file must reproduce.
        settings = dict(fit.settings)
    fp = DataFingerprint(
        rows=int(len(ds.df)),
        columns=[str(c) for c in ds.df.columns],
        sha256=ds.key,
        table_sha256=fingerprint(ds.df).table_sha256 if table_hash else None,
        file_name=ds.name,
    )
    a = Analysis(
        data=fp,
        features=list(feats),
        method=settings["method"],
        k=int(settings["k"]),
        seed=int(settings["seed"]),
        roles={c: roles_all[c] for c in feats if c in roles_all},
        preparation={
            "scaling": prep.get("scaling", "standard"),
            "impute": prep.get("impute", "median"),
            "log_transform": list(prep.get("log_transform") or []),
        },
        settings={
            "m": float(settings["m"]),
            "covariance_type": settings["covariance_type"],
            "n_init": int(settings["n_init"]),
            "max_iter": int(settings["max_iter"]),
        },
        segment_names=current_names(fit),
        anomalies=_anomaly_settings(state),
        synthetic=_synthetic_settings(state, ds),
        choose_k=_sweep_settings(state),
    )
    return a


def _own_or_shared(state: Any, settings: dict[str, Any]) -> dict[str, Any] | None:
    """A page's own mixture settings, or, when it used the Segments page's mixture, that
    fit's settings (refitting them gives the same mixture: fits are seeded)."""
    if "k" in settings:
        return settings
    seg_fit: FitResult | None = _get(state, SEGMENTATION)
    if seg_fit is None or seg_fit.settings.get("method") != "gmm":
        return None
    return seg_fit.settings


def _anomaly_settings(state: Any) -> dict[str, Any] | None:
    fit = _get(state, ANOMALIES)
    if fit is None:
        return None
    s = _own_or_shared(state, fit.settings)
    if s is None:
        return None
    out: dict[str, Any] = {
        "k": int(s["k"]),
        "covariance_type": s["covariance_type"],
        "n_init": int(s["n_init"]),
        "seed": int(s["seed"]),
    }
    mode = _get(state, "w_anom_mode", "share of rows")
    cut = _get(state, f"w_anom_cut_{fit.inputs_key[:12]}")
    if mode != "share of rows" and cut is not None:
        out["cutoff"] = float(cut)
    else:
        out["rate"] = float(_get(state, "w_anom_pct", 1.0)) / 100.0
    return out


def _synthetic_settings(state: Any, ds: Any) -> dict[str, Any] | None:
    fit = _get(state, SYNTHETIC)
    if fit is None or "sample" not in fit.extra:
        return None
    sample = fit.extra["sample"]
    segments: list[int] = []
    if "segment" in sample.columns and "segment" not in ds.df.columns:
        segments = sorted(int(v) for v in sample["segment"].unique())
    s = fit.settings
    if "seed" not in s:  # drawn from the Segments page's mixture
        shared = _own_or_shared(state, s)
        if shared is None:
            return None
        s = {"k": shared["k"], "seed": shared["seed"], "log": False}
    return {
        "k": None if s.get("k") is None else int(s["k"]),
        "seed": int(s["seed"]),
        "log": bool(s.get("log", False)),
        "n": int(len(sample)),
        "segments": segments,
    }


def _sweep_settings(state: Any) -> dict[str, Any] | None:
    result = _get(state, SWEEP)
    if not result:
        return None
    s = result["settings"]
    out: dict[str, Any] = {
        "method": s["method"],
        "ks": [int(k) for k in s["ks"]],
        "seed": int(s["seed"]),
    }
    if s["method"] == "gmm":
        out["covariance_types"] = list(s.get("covariance_type") or [])
    return out


# --------------------------------------------------------------------------- restoring


def _set_widgets(values: Mapping[str, Any], drop: tuple[str, ...] = ()) -> None:
    """Give page widgets their restored values (pages read them with ``keep_widget``)."""
    for key in drop:
        st.session_state.pop(key, None)
    for key, value in values.items():
        st.session_state[key] = value


def apply_analysis(a: Analysis, ds: Any) -> FitResult:
    """Restore the session from ``a`` on the loaded table ``ds`` and refit its segments.

    Raises
    ------
    DataMismatchError
        ``ds`` is not the table of ``a``; InputError when the fit cannot run.
    """
    from analytics import segment

    check_data(a, _fingerprint_of(ds, a))
    st.session_state[FEATURES] = list(a.features)
    st.session_state[PREP] = {
        "scaling": a.preparation["scaling"],
        "impute": a.preparation["impute"],
        "log_transform": list(a.preparation["log_transform"]),
    }
    settings = {
        "method": a.method,
        "k": int(a.k),
        "m": float(a.settings["m"]),
        "covariance_type": a.settings["covariance_type"],
        "n_init": int(a.settings["n_init"]),
        "max_iter": int(a.settings["max_iter"]),
        "seed": int(a.seed),
    }
    st.session_state[SEG_SETTINGS] = {k: v for k, v in settings.items() if k != "k"}
    st.session_state[CHOSEN_K] = int(a.k)
    # Drop the pages' own widget values so they show the restored ones.
    _set_widgets(
        {},
        drop=(
            f"w_features_{ds.key[:12]}", "w_scaling", "w_impute", f"w_log_{ds.key[:12]}",
            "w_seg_method", "w_seg_k", "w_seg_m", "w_seg_cov", "w_seg_n_init",
            "w_seg_max_iter", "w_seg_seed", "w_k_method", "w_k_seed", "w_k_range", "w_k_cov",
        ),
    )  # fmt: skip
    if a.anomalies:
        an = a.anomalies
        values = {"w_anom_k": an["k"], "w_anom_cov": an["covariance_type"],
                  "w_anom_n_init": an["n_init"], "w_anom_seed": an["seed"]}  # fmt: skip
        if an.get("cutoff") is not None:
            values["w_anom_mode"] = "log-density cutoff"
        else:
            values.update(
                {"w_anom_mode": "share of rows", "w_anom_pct": round(an["rate"] * 100, 1)}
            )
        _set_widgets(values)
    if a.synthetic:
        sy = a.synthetic
        values = {"w_syn_n": sy["n"], "w_syn_k": sy["k"] if sy["k"] is not None else "choose by BIC",
                  "w_syn_seed": sy["seed"], "w_syn_log": sy["log"]}  # fmt: skip
        if sy["segments"] and sy["k"]:
            values[f"w_syn_segments_{sy['k']}"] = list(sy["segments"])
        _set_widgets(values)
    if a.choose_k:
        ck = a.choose_k
        ks = [k for k in ck["ks"] if k >= 2] or [2]
        values = {
            "w_k_method": ck["method"],
            "w_k_seed": ck["seed"],
            "w_k_range": (min(ks), max(ks)),
        }
        if ck.get("covariance_types"):
            values["w_k_cov"] = list(ck["covariance_types"])
        _set_widgets(values)
    # The other pages' results were computed with other choices: they recompute (quick
    # tables do so by themselves) with the restored controls.
    for key in (ANOMALIES, SYNTHETIC, SWEEP):
        st.session_state[key] = None
    started = time.perf_counter()
    seg = segment(ds.df, a.method, int(a.k), **{**a.segment_params(), "roles": _roles(ds)})
    seconds = time.perf_counter() - started
    from ui.data import inputs_key

    fit = FitResult(
        inputs_key=inputs_key(settings),
        settings=settings,
        seg=seg,
        seconds=seconds,
        extra={"dataset": ds.name, "names": dict(a.segment_names), "restored": True},
    )
    if hasattr(seg, "names") and a.segment_names:
        # A read-only property cannot take them; extra["names"] has them anyway.
        with contextlib.suppress(AttributeError, TypeError):
            seg.names = dict(a.segment_names)
    st.session_state[SEGMENTATION] = fit
    return fit


def _roles(ds: Any) -> dict[str, str]:
    """Roles of every profiled column, as the Segments page passes them to ``segment``."""
    # Not the session-scoped cache: downloads build this file outside the script run.
    prof = profile_columns(ds.df)
    return dict(zip(prof["column"], prof["role"], strict=True))


def _fingerprint_of(ds: Any, a: Analysis) -> DataFingerprint:
    """The loaded table's fingerprint; the content hash only when the file hash differs."""
    if a.data.sha256 == ds.key:
        return DataFingerprint(len(ds.df), [str(c) for c in ds.df.columns], sha256=ds.key)
    fp = fingerprint(ds.df)
    return DataFingerprint(fp.rows, fp.columns, ds.key, fp.table_sha256, ds.name)


def _restored_words(a: Analysis) -> str:
    from analytics.constants import METHOD_NAMES

    extra = [name for name, on in (("anomalies", a.anomalies), ("synthetic data", a.synthetic),
                                   ("Choose k", a.choose_k)) if on]  # fmt: skip
    names = f", {len(a.segment_names)} segment name(s)" if a.segment_names else ""
    tail = f"; the {', '.join(extra)} settings are set on their pages" if extra else ""
    return (
        f"Analysis restored: {len(a.features)} feature(s), {a.preparation['scaling']} scaling, "
        f"{METHOD_NAMES[a.method]} with k = {a.k}, seed {a.seed}{names}{tail}."
    )


def _try_apply(a: Analysis, ds: Any) -> bool:
    """Apply ``a`` to ``ds``; remember a plain notice either way. True when restored."""
    try:
        with st.spinner("Restoring the analysis…"):
            apply_analysis(a, ds)
    except InputError as exc:
        _notice("error", exc.message)
        return False
    st.session_state[ANALYSIS_PENDING] = None
    _notice("success", _restored_words(a))
    return True


def render_open_analysis() -> None:
    """Data page: open an analysis file, and restore a waiting one when its table arrives.

    Call after the page has handled a CSV upload, before its feature controls.
    """
    ds = st.session_state[DATASET]
    pending: Analysis | None = st.session_state[ANALYSIS_PENDING]
    if pending is not None and ds is not None and _matches(pending, ds):
        _try_apply(pending, ds)
    # A toggle, not an expander: an expander's uploader would sit in the page even when
    # closed, a second file input beside the table's.
    if st.toggle(
        "Open a saved analysis",
        key="analysis_open",
        help="An analysis file (downloaded from the Segments page) holds every choice: "
        "columns, preparation, method, k, seed and segment names. Opened with the same data "
        "it restores the same segments.",
    ):
        upload = st.file_uploader(
            "Analysis file (.json)",
            type=["json"],
            key="analysis_upload",
            help="Load the table it was made on first (or after: it waits for that table).",
        )
        if upload is not None:
            data = upload.getvalue()
            digest = sha256(data)
            if st.session_state[ANALYSIS_LAST_UPLOAD] != digest:
                st.session_state[ANALYSIS_LAST_UPLOAD] = digest
                _open(data, upload.name, ds)
    pending = st.session_state[ANALYSIS_PENDING]
    if pending is not None:
        st.info(
            f"Waiting for the data of the analysis: upload {pending.data.describe()} above "
            "and the analysis is restored."
        )
    _render_notice()


def _matches(a: Analysis, ds: Any) -> bool:
    try:
        check_data(a, _fingerprint_of(ds, a))
    except InputError:
        return False
    return True


def _open(data: bytes, name: str, ds: Any) -> None:
    try:
        a = load_analysis(data)
    except InputError as exc:
        _notice("error", f"Could not open '{name}': {exc.message}")
        return
    if ds is not None and _try_apply(a, ds):
        return
    # Made on other data: refused (the notice gives the reason); it waits for that table.
    st.session_state[ANALYSIS_PENDING] = a


def _notice(kind: str, text: str) -> None:
    """Remember a notice about the table loaded now (it is not shown for another table)."""
    ds = st.session_state[DATASET]
    st.session_state[ANALYSIS_NOTICE] = (kind, text, None if ds is None else ds.key)


def _render_notice() -> None:
    notice = st.session_state[ANALYSIS_NOTICE]
    ds = st.session_state[DATASET]
    if notice and (ds is None or notice[2] in (None, ds.key)):
        kind, text, _ = notice
        (st.error if kind == "error" else st.warning if kind == "warning" else st.success)(text)


# --------------------------------------------------------------------------- the address


def restore_from_url() -> None:
    """app.py, before the dataset is loaded: restore the analysis in the address once.

    The sample's analysis is restored at once. An uploaded table cannot be kept by a
    reload (the browser does not resend files), so the sample is shown with a notice
    saying so, and the analysis waits until the same file is uploaded again.
    """
    if st.session_state[URL_CHECKED]:
        return
    st.session_state[URL_CHECKED] = True
    text = st.query_params.get(URL_PARAM)
    if not text or st.session_state[DATASET] is not None:
        return
    try:
        a = from_compact(text)
    except InputError as exc:
        _notice(
            "warning", f"The analysis in the address could not be read ({exc.message}); starting afresh.",
        )  # fmt: skip
        return
    sample = load_bytes(SAMPLE_PATH.read_bytes(), SAMPLE_NAME, is_sample=True)
    set_dataset(sample)
    if a.data.sha256 == sample.key:
        _try_apply(a, sample)
        return
    st.session_state[ANALYSIS_PENDING] = a
    _notice(
        "warning",
        f"Your data, {a.data.describe()}, was not kept when the page was reloaded (the browser "
        "does not send files again), so the sample data is shown. Re-upload that file on the "
        "Data page and your settings are restored.",
    )


def keep_in_url() -> None:
    """app.py, after the page ran: write the session's analysis into the address.

    While an analysis waits for its data (after a reload), the address keeps that one,
    so a second reload still knows it.
    """
    a = st.session_state[ANALYSIS_PENDING] or analysis_from_state(st.session_state)
    if a is None:
        return
    text = to_compact(a)
    if len(text) > MAX_URL_CHARS:
        st.query_params.pop(URL_PARAM, None)
        return
    if st.query_params.get(URL_PARAM) != text:
        st.query_params[URL_PARAM] = text


def render_sidebar_notice(slot: Any) -> None:
    """app.py's sidebar ``slot`` (an ``st.empty``): the notice while an analysis waits for its data."""
    pending: Analysis | None = st.session_state[ANALYSIS_PENDING]
    if pending is not None:
        ds = st.session_state[DATASET]
        shown = f"'{ds.name}'" if ds is not None else "other data"
        slot.warning(
            f"The analysis of {pending.data.describe()} waits for that file (a reload does not "
            f"keep uploaded files); {shown} is shown meanwhile. Upload it on the Data page and "
            "the analysis comes back."
        )


# --------------------------------------------------------------------------- downloads
# Download callables run after the script, outside the session (Streamlit calls them
# with no session state), so everything they need is taken from the session when the
# buttons are drawn and passed in.


def session_results(
    fit: FitResult,
    analysis: Analysis,
    sweep_result: Mapping[str, Any] | None = None,
    anomalies_fit: FitResult | None = None,
    quick_sweep: bool = True,
) -> AnalysisResults:
    """The session's computed results as :class:`AnalysisResults`, for the report.

    The session's own Choose k sweep is used when it was run; otherwise a quick one
    (k = 2..8, the fit's method) is run, as the command line does. The anomalies are
    the session's scores, flagged with the analysis' share or cutoff.
    """
    from analytics.report.analysis import choose_k_sweep

    sweep, quick = None, False
    if sweep_result and analysis.choose_k is not None:
        sweep = sweep_result["sweep"]
    elif quick_sweep:
        sweep, quick = choose_k_sweep(fit.seg.data, analysis)
    anomalies = None
    if anomalies_fit is not None and analysis.anomalies:
        an = analysis.anomalies
        base = anomalies_fit.seg
        anomalies = (
            base.recut(threshold=an["cutoff"])
            if an.get("cutoff") is not None
            else base.recut(contamination=an["rate"])
        )
    return AnalysisResults(analysis, fit.seg, current_names(fit), sweep, quick, anomalies)


def _with_table_hash(analysis: Analysis, df: Any) -> Analysis:
    return replace(analysis, data=replace(analysis.data, table_sha256=fingerprint(df).table_sha256))


def _report_bytes(
    fit: FitResult, analysis: Analysis, sweep_result: Any, anomalies_fit: Any
) -> bytes:
    from analytics.report.html import report_html

    results = session_results(fit, analysis, sweep_result, anomalies_fit)
    return report_html(results).encode("utf-8")


def _map_png(fit: FitResult) -> bytes:
    from analytics.charts.segments import segment_map_figure
    from analytics.report.html import MAP_SAMPLE, figure_png
    from analytics.studies.profiles import projection_2d

    proj = projection_2d(fit.seg, None, None, sample=MAP_SAMPLE, random_state=0)
    return figure_png(segment_map_figure(proj, names=current_names(fit)))


def render_downloads(fit: FitResult) -> None:
    """Segments page: the analysis file, the HTML report and the map as a PNG."""
    from analytics.report.html import png_available

    analysis = analysis_from_state(st.session_state)
    if analysis is None:
        return
    ds = st.session_state[DATASET]
    sweep_result, anomalies_fit = st.session_state[SWEEP], st.session_state[ANOMALIES]
    stem = file_stem(fit.extra.get("dataset", "segments"))
    st.subheader("Keep and share this analysis")
    c1, c2, c3 = st.columns(3)
    c1.download_button(
        "Analysis file (JSON)",
        data=lambda a=analysis, df=ds.df: _with_table_hash(a, df).to_bytes(),
        file_name=f"{stem}_analysis.json",
        mime="application/json",
        on_click="ignore",
        help="Every choice of this session. Open it on the Data page with the same data to "
        "get the same segments back, or run `python -m analytics report DATA --analysis FILE`.",
        key="an_dl_analysis",
    )
    c2.download_button(
        "Report (HTML, opens offline)",
        data=lambda f=fit, a=analysis, df=ds.df, s=sweep_result, an=anomalies_fit: _report_bytes(
            f, _with_table_hash(a, df), s, an
        ),
        file_name=f"{stem}_report.html",
        mime="text/html",
        on_click="ignore",
        help="One file for a manager: the data, how k was chosen, the segments, their "
        "certainty, the anomalies and every setting. Opens in any browser without internet.",
        key="an_dl_report",
    )
    if png_available():
        c3.download_button(
            "Map as an image (PNG)",
            data=lambda f=fit: _map_png(f),
            file_name=f"{stem}_map.png",
            mime="image/png",
            on_click="ignore",
            help="The segment map (main directions of difference) for a slide.",
            key="an_dl_map_png",
        )


__all__ = [
    "MAX_URL_CHARS",
    "URL_PARAM",
    "analysis_from_state",
    "apply_analysis",
    "current_names",
    "keep_in_url",
    "render_downloads",
    "render_open_analysis",
    "render_sidebar_notice",
    "restore_from_url",
    "session_results",
]
