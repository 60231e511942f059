"""Segments page parts for portable models: download the model, score new data with it.

The Segments page calls :func:`render_model_download` and :func:`render_score_section`
with its current fit (a :class:`ui.data.FitResult`, or None before the first fit).
Reading, model loading and scoring go through cached wrappers keyed by sha256 of the
uploaded bytes, like ``ui.cache``; all computation is in ``analytics``.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd
import streamlit as st

from analytics import InputError
from analytics.charts.model import shares_figure
from analytics.model.fit import METHOD_NAMES
from analytics.model.segment_model import (
    SegmentModel,
    align_categories,
    load_model,
    model_bytes,
    shares_comparison,
)
from ui import cache
from ui.data import FitResult, load_bytes
from ui.segment_names import names_of, with_names
from ui.text import md
from ui.widgets import download_table, file_stem

#: Widget keys of this section.
MODEL_UPLOAD = "score_model_upload"
DATA_UPLOAD = "score_data_upload"
#: A change of a segment's share above this (in share units) is flagged as drift.
DRIFT_FLAG = 0.05


@st.cache_data(max_entries=4, max_size="64MB", **cache.SESSION)
def _load_model_cached(key: str, _raw: bytes) -> SegmentModel:
    """The model in an uploaded file whose content sha256 is ``key``."""
    return load_model(_raw)


@st.cache_data(max_entries=4, max_size="64MB", **cache.SESSION)
def _model_of_fit_cached(key: str, _seg: Any) -> SegmentModel:
    """The portable model of the fit ``key`` (its ``FitResult.inputs_key``)."""
    return SegmentModel.from_segmentation(_seg)


@st.cache_data(max_entries=2, max_size="512MB", **cache.SESSION)
def _score_cached(
    key: str, _model: SegmentModel, _df: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The labelled table of data ``_df`` under ``_model``; ``key`` hashes both contents."""
    aligned, unseen = align_categories(_df, _model)
    scored = _model.predict(aligned)
    for c in _model.preparer.categorical:  # aligned values were only for scoring
        if c in _df.columns:
            scored[c] = _df[c]
    return scored, unseen


def _sha(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def render_model_download(fit: FitResult, key: str = "seg_dl_model") -> None:
    """A download button for the fit's model file (JSON, built on click)."""
    seg = fit.seg
    stem = file_stem(str(fit.extra.get("dataset", "segments")))
    st.download_button(
        "Model file (to score new customers later)",
        data=lambda seg=seg: model_bytes(seg),
        file_name=f"{stem}_{seg.method}_k{seg.k}_model.json",
        mime="application/json",
        on_click="ignore",
        key=key,
        help="Preparation and model parameters as plain JSON (no code): safe to open and "
        "share. Upload it below to score new customers, or use it from the command line "
        "(python -m analytics score).",
    )


def render_score_section(fit: FitResult | None) -> None:
    """Score a new CSV with the current fit or an uploaded model file.

    Shows the new data's segment shares beside the training shares (drift at a
    glance) and offers the labelled table as a CSV download.
    """
    st.subheader("Score new data")
    st.write(
        "Give new customers the segments of an existing model without refitting: upload "
        "their table (same columns as the training data). The current fit is used unless "
        "you upload a saved model file."
    )
    left, right = st.columns(2)
    model_file = left.file_uploader(
        "Model file (optional)", type=["json"], key=MODEL_UPLOAD,
        help="A model file downloaded above or written by Segmentation.save.",
    )  # fmt: skip
    data_file = right.file_uploader(
        "New customers (CSV)", type=["csv", "txt", "tsv"], key=DATA_UPLOAD
    )

    if model_file is not None:
        raw = model_file.getvalue()
        model_key = "file:" + hashlib.sha256(raw).hexdigest()
        source = f"the model file '{md(model_file.name)}'"
        try:
            model = _load_model_cached(model_key, raw)
        except InputError as exc:
            st.error(f"Could not open '{md(model_file.name)}': {md(exc.message)}")
            return
        names = dict(getattr(model, "names", None) or {})  # model files that carry names
    elif fit is not None:
        model_key = "fit:" + fit.inputs_key
        source = "the current segments"
        model = _model_of_fit_cached(model_key, fit.seg)
        names = names_of(fit)
    else:
        st.info("Fit segments above, or upload a model file, to score new data.")
        return
    st.caption(
        f"Scoring with {source}: {model.k} segments ({METHOD_NAMES[model.method]}), "
        f"columns {', '.join(md(c) for c in model.columns)}."
    )
    if data_file is None:
        return

    try:
        ds = load_bytes(data_file.getvalue(), data_file.name)
    except InputError as exc:
        st.error(f"Could not read '{md(data_file.name)}': {md(exc.message)}")
        return
    try:
        scored, unseen = _score_cached(_sha(model_key, ds.key), model, ds.df)
    except InputError as exc:
        st.error(f"Could not score '{md(data_file.name)}' with {source}: {md(exc.message)}")
        return
    seg_col = model.output_names(ds.df.columns)["segment"]
    if names:
        scored = with_names(scored, seg_col, names)
    _render_result(model, scored, seg_col, unseen, data_file.name, ds.report, names)


def _render_result(
    model: SegmentModel,
    scored: pd.DataFrame,
    seg_col: str,
    unseen: dict[str, int],
    name: str,
    report: dict[str, Any],
    names: dict[int, str],
) -> None:
    for c, n in unseen.items():
        st.warning(
            f"'{md(c)}': {n:,} row(s) hold a value the model never saw; they count as none "
            "of the known categories."
        )
    comp = shares_comparison(model, scored[seg_col].to_numpy())
    top = int(comp["change"].abs().idxmax())
    row = comp.loc[top]
    shift = (
        f"Largest shift: {md(names.get(top, f'segment {top}'))}, "
        f"{row['training_share']:.1%} in training vs "
        f"{row['new_share']:.1%} in the new data ({100 * row['change']:+.1f} points)."
    )
    if abs(row["change"]) > DRIFT_FLAG:
        st.warning(shift + " The customer mix has moved; consider refitting.")
    else:
        st.caption(shift)
    st.metric("Rows scored", f"{len(scored):,}")
    st.plotly_chart(shares_figure(comp, names=names or None), key="score_shares_chart")
    st.dataframe(
        comp,
        column_config={
            "training_share": st.column_config.NumberColumn("Training share", format="percent"),
            "new_share": st.column_config.NumberColumn("New share", format="percent"),
            "change": st.column_config.NumberColumn("Change", format="percent"),
        },
        key="score_shares_table",
    )
    st.dataframe(scored.head(200), key="score_preview")
    download_table(
        f"Labelled new data, {len(scored):,} rows",
        lambda scored=scored: scored,
        f"{file_stem(name)}_scored",
        "score_dl_table",
        n_rows=len(scored),
        report=report,
    )
