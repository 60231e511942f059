"""Anomalies page: score rows by log density under a Gaussian mixture, set the cutoff, explain."""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from analytics import InputError
from analytics.charts.anomaly import MAX_POINTS, density_histogram
from analytics.io import to_csv_bytes
from analytics.model.fit import COVARIANCE_TYPES, MAX_K
from analytics.studies.anomaly import fit_anomaly_model
from ui import cache, cost
from ui.data import FitResult, ensure_dataset, features, inputs_key, prep_options
from ui.state import ANOMALIES, CHOSEN_K, keep_widget

#: Flagged rows listed on the page at most (the download has every row).
MAX_LISTED = 1_000

st.title("Anomalies")
st.write(
    "A Gaussian mixture is a density estimator: customers in crowded regions get a high "
    "log density, customers unlike anyone else a low one. The lowest-density rows are "
    "flagged, and each is explained against its nearest segment."
)

ds = ensure_dataset()
feats = features()

# ---- controls ---------------------------------------------------------------------------
c1, c2, c3, c4 = st.columns(4)
k = c1.number_input(
    "Segments (k)", 1, MAX_K, step=1, key=keep_widget("w_anom_k", int(st.session_state[CHOSEN_K])),
    help="Components of the mixture; the Choose k page suggests a value.",
)  # fmt: skip
cov = c2.selectbox(
    "Covariance type", COVARIANCE_TYPES, key=keep_widget("w_anom_cov", "full"),
    help="full: any ellipse; tied: one shared shape; diag: axis-aligned; spherical: round.",
)  # fmt: skip
n_init = c3.number_input("Starts", 1, 20, step=1, key=keep_widget("w_anom_n_init", 2))
seed = c4.number_input("Random seed", 0, 2**31 - 1, step=1, key=keep_widget("w_anom_seed", 0))
settings = {"k": int(k), "covariance_type": cov, "n_init": int(n_init), "seed": int(seed)}

work = cost.job(
    "anomaly",
    len(ds.df),
    cost.prepared_width(cache.profile_cached(ds.key, ds.df), feats),
    int(k),
    "gmm",
    cov,
    int(n_init),
)
expected = cost.seconds(work)
too_big = cost.check(work)  # above the session's limits: explained, never started
# First visit on a quick table: score with the default settings without a click.
auto = (
    bool(feats) and st.session_state[ANOMALIES] is None and cost.is_quick(expected) and not too_big
)
error: str | None = None
pressed = st.button("Score every row", type="primary", disabled=not feats, key="anom_fit") or auto
if pressed and too_big:
    error = too_big
elif pressed:
    with st.status(f"Fitting a mixture of {k} Gaussians…", expanded=False) as status:
        started = time.perf_counter()
        try:
            result = fit_anomaly_model(
                ds.df,
                int(k),
                columns=feats,
                random_state=int(seed),
                covariance_type=cov,
                n_init=int(n_init),
                **prep_options(),
            )
        except InputError as exc:
            status.update(label="Scoring did not run", state="error")
            error = exc.message
        else:
            seconds = time.perf_counter() - started
            st.session_state[ANOMALIES] = FitResult(
                inputs_key=inputs_key("anomalies", settings),
                settings=settings,
                seg=result,
                seconds=seconds,
                extra={"dataset": ds.name},
            )
            status.update(label=f"Scored in {seconds:.1f} s", state="complete")
if not feats:
    st.warning("No feature columns are chosen: pick some on the Data page.")
if error:
    st.error(error + " Change the settings and press the button again.")

fit: FitResult | None = st.session_state[ANOMALIES]
if fit is None:
    st.info(
        "Choose the number of segments, then press **Score every row** "
        f"(expected time: {cost.in_words(expected)})."
    )
    st.stop()
if fit.inputs_key != inputs_key("anomalies", settings):
    st.info("The data, features or settings changed since scoring; press the button to rescore.")
base = fit.seg
for w in base.warnings:
    st.warning(w)

# ---- threshold ---------------------------------------------------------------------------
ld = base.scores["log_density"].to_numpy()
t1, t2 = st.columns([1, 3])
mode = t1.radio(
    "Flag by",
    ["share of rows", "log-density cutoff"],
    key=keep_widget("w_anom_mode", "share of rows"),
)
if mode == "share of rows":
    pct = t2.slider(
        "Share of rows to flag (%)", 0.1, 20.0, step=0.1, key=keep_widget("w_anom_pct", 1.0),
        help="The lowest-density rows, this share of all rows.",
    )  # fmt: skip
    res = base.recut(contamination=pct / 100.0)
else:
    lo, hi = float(np.floor(ld.min() * 100) / 100), float(np.ceil(np.median(ld) * 100) / 100)
    default = float(min(max(base.cutoff, lo), hi))
    cutoff = t2.slider(
        "Log-density cutoff", lo, hi, step=max((hi - lo) / 200, 0.01),
        key=keep_widget(f"w_anom_cut_{fit.inputs_key[:12]}", default),
        help="Rows at or below this log density are flagged.",
    )  # fmt: skip
    res = base.recut(threshold=float(cutoff))

flags = res.scores["is_anomaly"].to_numpy()
m1, m2, m3 = st.columns(3)
m1.metric("Rows", f"{len(ld):,}")
m2.metric("Flagged", f"{int(flags.sum()):,}", f"{flags.mean():.1%} of rows", delta_color="off")
m3.metric("Log-density cutoff", f"{res.cutoff:.2f}")

# ---- charts --------------------------------------------------------------------------------
h, mp = st.tabs(["Log density", "Map"])
with h:
    st.plotly_chart(density_histogram(ld, res.cutoff), key="anom_hist")
with mp:
    st.plotly_chart(
        cache.anomaly_map_cached(fit.inputs_key, float(res.cutoff), MAX_POINTS, base),
        key="anom_map",
    )
    st.caption("Hover a point to read why it is unusual.")

# ---- flagged rows --------------------------------------------------------------------------
st.subheader("Flagged rows")
table = res.table()
flagged = table[flags].sort_values("log_density")
shown = ["explanation", "log_density", "anomaly_score", "nearest_segment"]
rest = [c for c in flagged.columns if c in set(map(str, ds.df.columns))]
st.dataframe(flagged[shown + rest].head(MAX_LISTED), key="anom_flagged")
if len(flagged) > MAX_LISTED:
    st.caption(f"Listing the {MAX_LISTED:,} most unusual of {len(flagged):,}; download them all.")

d1, d2 = st.columns(2)
d1.download_button(
    "Every row with its scores (CSV)",
    data=lambda res=res: to_csv_bytes(res.table()),
    file_name="anomaly_scores.csv",
    mime="text/csv",
    on_click="ignore",
    key="anom_dl_all",
)
d2.download_button(
    f"The {len(flagged):,} flagged rows (CSV)",
    data=lambda res=res: to_csv_bytes(res.table()[res.scores["is_anomaly"].to_numpy()]),
    file_name="anomalies.csv",
    mime="text/csv",
    on_click="ignore",
    disabled=len(flagged) == 0,
    key="anom_dl_flagged",
)
