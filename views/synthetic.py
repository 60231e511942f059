"""Synthetic data page: draw made-up customers from a Gaussian mixture, check fidelity and privacy."""

from __future__ import annotations

import time

import streamlit as st

from analytics import InputError
from analytics.charts.synthetic import (
    correlation_heatmaps,
    distance_histogram,
    overlay_histograms,
    scatter_overlay,
)
from analytics.io import to_csv_bytes
from analytics.model.fit import MAX_K
from analytics.studies.mixture import BIC_KS
from analytics.studies.synthetic import MAX_ROWS, fit_synthesizer
from ui import cache, cost
from ui.data import FitResult, ensure_dataset, features, inputs_key, prep_options
from ui.state import SYNTHETIC, keep_widget

BIC = "choose by BIC"

st.title("Synthetic data")
st.write(
    "A Gaussian mixture is a generative model: it can draw new customers that follow the "
    "same distributions and relationships as the real ones without being any of them. "
    "Check the fidelity and privacy tables before sharing the result."
)

ds = ensure_dataset()
feats = features()
fit: FitResult | None = st.session_state[SYNTHETIC]

# ---- controls ---------------------------------------------------------------------------
c1, c2, c3 = st.columns(3)
n = c1.number_input(
    "Rows to generate", 1, MAX_ROWS, step=100,
    key=keep_widget("w_syn_n", int(min(len(ds.df), MAX_ROWS))),
)  # fmt: skip
k_choice = c2.selectbox(
    "Components (k)", [BIC, *range(1, MAX_K + 1)],
    key=keep_widget("w_syn_k", BIC),
    help="BIC tries 1 to 8 and keeps the best trade-off between fit and complexity.",
)  # fmt: skip
seed = c3.number_input("Random seed", 0, 2**31 - 1, step=1, key=keep_widget("w_syn_seed", 0))
log_skewed = st.checkbox(
    "Model skewed amounts on a log scale (recommended)", key=keep_widget("w_syn_log", True),
    help="Right-skewed, non-negative columns such as income are reproduced much more closely.",
)  # fmt: skip
fit_settings = {
    "k": None if k_choice == BIC else int(k_choice), "seed": int(seed), "log": bool(log_skewed)
}  # fmt: skip
fit_key = inputs_key("synthetic", fit_settings)
known_k = fit.seg.k if fit is not None and fit.inputs_key == fit_key else fit_settings["k"]
segments: list[int] = []
if known_k:
    segments = st.multiselect(
        "Only from these segments (empty: all)", list(range(1, known_k + 1)),
        key=keep_widget(f"w_syn_segments_{known_k}", []),
        help="Segment 1 is the largest, as on the Segments page; a segment column is added.",
    )  # fmt: skip
else:
    st.caption("Generate once to choose segments to sample from.")

# BIC tries every k of BIC_KS; two starts each.
work = cost.job("synthetic", len(ds.df), cost.prepared_width(cache.profile_cached(ds.key, ds.df), feats), fit_settings["k"] or BIC_KS, "gmm", "full", 2)  # fmt: skip
expected = cost.seconds(work)
too_big = cost.check(work)  # above the session's limits: explained, never started
# First visit on a quick table: draw with the default settings without a click.
auto = bool(feats) and fit is None and cost.is_quick(expected) and not too_big
error: str | None = None
pressed = st.button("Generate", type="primary", disabled=not feats, key="syn_go") or auto
if pressed and too_big:
    error = too_big
elif pressed:
    with st.status("Fitting the mixture and drawing rows…", expanded=False) as status:
        started = time.perf_counter()
        try:
            synth = (
                fit.seg
                if fit is not None and fit.inputs_key == fit_key
                else fit_synthesizer(
                    ds.df,
                    fit_settings["k"],
                    feats,
                    int(seed),
                    n_init=2,
                    **{**prep_options(), **({"log_transform": True} if log_skewed else {})},
                )  # fmt: skip
            )
            sample = synth.sample(int(n), segments or None, int(seed))
        except InputError as exc:
            status.update(label="Nothing was generated", state="error")
            error = exc.message
        else:
            seconds = time.perf_counter() - started
            fit = FitResult(
                inputs_key=fit_key,
                settings=fit_settings,
                seg=synth,
                seconds=seconds,
                extra={"sample": sample, "sample_key": inputs_key(fit_settings, n, segments)},
            )
            st.session_state[SYNTHETIC] = fit
            status.update(label=f"Generated {int(n):,} rows in {seconds:.1f} s", state="complete")
if not feats:
    st.warning("No feature columns are chosen: pick some on the Data page.")
if error:
    st.error(error + " Change the settings and press **Generate** again.")
if fit is None or "sample" not in fit.extra:
    st.info(
        "Choose how many rows to draw, then press **Generate** "
        f"(expected time: {cost.in_words(expected)})."
    )
    st.stop()
if fit.inputs_key != fit_key:
    st.info("The data, features or settings changed; press **Generate** to apply them.")

synth = fit.seg
sample = fit.extra["sample"]
for w in synth.warnings:
    st.warning(w)
cols = list(synth.segmentation.columns)
reports = cache.synthetic_reports_cached(fit.extra["sample_key"], ds.df, sample, cols)
fid, priv = reports["fidelity"], reports["privacy"]
psum = priv["summary"].set_index("measure")["value"]

m1, m2, m3, m4 = st.columns(4)
m1.metric("Rows generated", f"{len(sample):,}")
m2.metric("Components", synth.k, "by BIC" if synth.bic is not None else None, delta_color="off")
worst = fid["summary"].set_index("measure")["value"]
m3.metric("Largest KS statistic", f"{worst['largest KS statistic']:.3f}")
m4.metric("Near-copies", f"{int(psum['near-copies']):,}")

# ---- charts --------------------------------------------------------------------------------
t_hist, t_scatter, t_corr, t_fid, t_priv = st.tabs(
    ["Distributions", "Scatter", "Correlations", "Fidelity", "Privacy"]
)
numeric = list(synth.segmentation.preparer.numeric)
with t_hist:
    show = st.multiselect("Columns", cols, key=keep_widget("w_syn_hist_cols", cols[:6]))
    if show:
        st.plotly_chart(overlay_histograms(ds.df, sample, columns=show), key="syn_hist")
with t_scatter:
    if len(numeric) >= 2:
        a, b = st.columns(2)
        x = a.selectbox(
            "Horizontal", numeric, key=keep_widget(f"w_syn_x_{fit_key[:12]}", numeric[0])
        )
        y = b.selectbox("Vertical", numeric, key=keep_widget(f"w_syn_y_{fit_key[:12]}", numeric[1]))
        st.plotly_chart(scatter_overlay(ds.df, sample, x=x, y=y), key="syn_scatter")
    else:
        st.info("The scatter needs two numeric features.")
with t_corr:
    if len(numeric) >= 2:
        st.plotly_chart(correlation_heatmaps(ds.df, sample, columns=numeric), key="syn_corr")
    else:
        st.info("Correlations need two numeric features.")
with t_fid:
    st.dataframe(fid["summary"], hide_index=True, key="syn_fid_summary")
    st.dataframe(fid["numeric"], hide_index=True, key="syn_fid_numeric")
    if len(fid["categorical"]):
        st.dataframe(fid["categorical"], hide_index=True, key="syn_fid_categorical")
    st.caption(
        "KS statistic: the largest gap between the real and synthetic cumulative "
        "distributions (0 = identical). Wasserstein: how far values must move, in real "
        "standard deviations."
    )
with t_priv:
    st.dataframe(priv["summary"], hide_index=True, key="syn_priv_summary")
    st.plotly_chart(
        distance_histogram(priv["distances"], line=float(psum["near-copy line"])),
        key="syn_priv_hist",
    )

st.subheader("Synthetic rows")
st.dataframe(sample.head(200), key="syn_preview")
st.caption(
    "IDs are new; free text is left empty; other columns that are not features are drawn "
    "from their own values, independently of the rest."
)
st.download_button(
    f"Download the {len(sample):,} synthetic rows (CSV)",
    data=lambda sample=sample: to_csv_bytes(sample),
    file_name="synthetic_customers.csv",
    mime="text/csv",
    on_click="ignore",
    key="syn_dl",
)
