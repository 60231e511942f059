"""Choose k page: sweep k, one chart per criterion, the recommendation in words, use it."""

from __future__ import annotations

import streamlit as st

from analytics import InputError
from analytics.charts.choose_k import (
    bic_figure,
    elbow_figure,
    fcm_indices_figure,
    gap_figure,
    silhouette_figure,
    silhouette_rows_figure,
)
from analytics.model.fit import COVARIANCE_TYPES, MAX_K, METHOD_NAMES
from analytics.studies.choose_k import SWEEP_STARTS
from ui import cache, cost
from ui.data import ensure_dataset, features, inputs_key, prep_options
from ui.state import CHOSEN_K, SEG_SETTINGS, SEGMENTATION, SWEEP, SWEEP_JOB, keep_widget
from ui.sweep import SweepJob
from ui.sweep import step as sweep_step
from ui.text import md
from ui.widgets import method_select

st.title("Choose k")
st.write(
    "Fit every number of segments in a range and compare them on several criteria. "
    "The recommendation says which criteria agree; check the charts before you choose."
)

ds = ensure_dataset()
feats = features()
saved = st.session_state[SEG_SETTINGS]

# ---- controls ---------------------------------------------------------------------------
c1, c2, c3 = st.columns([2, 2, 2])
method = method_select(
    c1, "w_k_method", saved["method"], help="The same methods as on the Segments page."
)
k_lo, k_hi = c2.slider(
    "Numbers of segments to try",
    1,
    MAX_K,
    key=keep_widget("w_k_range", (1, 10)),
    help="Starting at 1 lets the answer be one group: no segments stand out from noise.",
)
seed = c3.number_input(
    "Random seed", 0, 2**31 - 1, step=1, key=keep_widget("w_k_seed", int(saved["seed"]))
)
if method == "gmm":
    cov_types = st.multiselect(
        "Covariance types",
        COVARIANCE_TYPES,
        key=keep_widget("w_k_cov", list(COVARIANCE_TYPES)),
        help="BIC is compared across every type ticked; the lowest wins.",
    )
else:
    cov_types = list(COVARIANCE_TYPES)
min_share_pct = st.columns(3)[0].number_input(
    "Smallest segment worth recommending (% of customers)",
    0.0,
    49.0,
    step=0.5,
    key=keep_widget("w_k_min_share", 2.0),
    help="A k whose fit has a segment smaller than this is still shown on the charts, "
    "but not recommended: too few customers to act on. 0 turns the check off.",
)
params: dict = {"fcm": {"m": float(saved["m"])}, "gmm": {"covariance_type": cov_types}}.get(
    method, {}
)
params = {**params, "min_share": round(float(min_share_pct) / 100.0, 6)}
ks = tuple(range(int(k_lo), int(k_hi) + 1))
settings = {"method": method, "ks": ks, "seed": int(seed), **params}
key = inputs_key(settings)

params_key = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in {**prep_options(), **params}.items()))  # fmt: skip
method_key = inputs_key({k: v for k, v in settings.items() if k != "ks"})
work = cost.job("sweep", len(ds.df), cost.prepared_width(cache.profile_cached(ds.key, ds.df), feats),
                ks, method, cov_types or ["full"])  # fmt: skip
expected = cost.seconds(work)
too_big = cost.check(work)  # above the session's limits: explained, never started


def _fit_row(k: int):
    return cache.sweep_row_cached(method_key, method, k, int(seed), params_key, ds.df, feats)


def _fit_all(done: list[int]):
    return cache.sweep_cached(method_key, method, tuple(done), int(seed), params_key, ds.df, feats)


def _start() -> None:
    if too_big:
        st.session_state["k_error"] = too_big
        return
    st.session_state[SWEEP_JOB] = SweepJob(
        key=key, settings=settings, ks=list(ks), stepwise=not cost.is_quick(expected)
    )


def _stop() -> None:
    job = st.session_state.get(SWEEP_JOB)
    if job is not None:
        job.stop = True


runnable = bool(feats) and not (method == "gmm" and not cov_types)
st.button("Run sweep", type="primary", key="k_run", disabled=not runnable, on_click=_start)
if not cost.is_quick(expected):
    st.caption(f"Expected time: {cost.in_words(expected)}.")
if (
    runnable
    and st.session_state.get(SWEEP) is None
    and st.session_state.get(SWEEP_JOB) is None
    and cost.is_quick(expected)
    and not too_big
):
    _start()  # first visit on a quick table: show the results without a click

error: str | None = None


def _advance(job: SweepJob) -> None:
    """One step of the running sweep; the finished result goes to session state."""
    result = sweep_step(job, _fit_row, _fit_all)
    if result is not None or job.error is not None:
        st.session_state[SWEEP_JOB] = None
        if result is not None:
            st.session_state[SWEEP] = result
        else:
            st.session_state["k_error"] = job.error


@st.fragment(run_every=0.1)
def _stepwise(job: SweepJob) -> None:
    """A slow sweep: one k per fragment run, so the Stop click is seen between ks."""
    if st.session_state.get(SWEEP_JOB) is not job:
        return
    k = job.next_k
    label = "Comparing the ks fitted" if k is None or job.stop else f"k = {k}"
    st.progress(job.fraction, text=f"{METHOD_NAMES[method]}: {label}…")
    st.button("Stop", key="k_stop", on_click=_stop, help="Keep the ks fitted so far.")
    if len(job.rows):
        st.dataframe(job.partial_table(), key="k_partial")
    _advance(job)
    if st.session_state.get(SWEEP_JOB) is None:
        st.rerun()  # the whole page shows the finished sweep


job = st.session_state.get(SWEEP_JOB)
if job is not None and job.key != key:
    # The data or settings changed under a running sweep: its ks so far mean nothing now.
    st.session_state[SWEEP_JOB] = job = None
if job is not None and job.stepwise:
    _stepwise(job)
    st.stop()
elif job is not None:
    with st.spinner(f"Trying k = {k_lo}..{k_hi} with {METHOD_NAMES[method]}…"):
        _advance(job)
error = st.session_state.pop("k_error", None)

if error:
    st.error(md(error))

result = st.session_state.get(SWEEP)
if result is None:
    st.info("Choose a method and a range of k, then press **Run sweep**.")
    st.stop()

sweep = result["sweep"]
if result["key"] != key:
    s = result["settings"]
    st.caption(
        f"Showing the last sweep ({METHOD_NAMES[s['method']]}, k = {s['ks'][0]}..{s['ks'][-1]}); "
        "the data or settings have changed since. Run the sweep again to update it."
    )

# ---- recommendation ---------------------------------------------------------------------
if sweep.recommended_k is None:
    st.warning(md(sweep.reason))
    st.stop()
m1, m2, m3 = st.columns(3)
m1.metric("Recommended k", sweep.recommended_k)
if sweep.method == "kmeans":
    m2.metric("Elbow", sweep.knee_k if sweep.knee_k is not None else "none")
elif sweep.method == "gmm":
    m2.metric("Best covariance", str(sweep.table.at[sweep.recommended_k, "best_covariance"]))
sil = sweep.table.at[sweep.recommended_k, "silhouette"]
m3.metric("Silhouette", "none (one group)" if sweep.recommended_k == 1 else f"{sil:.2f}")
st.success(sweep.reason)
if sweep.warning:
    st.warning(md(sweep.warning))
for note in sweep.notes:
    st.caption(md(note))

# ---- one view per criterion ---------------------------------------------------------------
first = {
    "kmeans": ("Elbow", elbow_figure),
    "gmm": ("ICL / BIC", bic_figure),
    "fcm": ("Fuzzy c-means objective and indices", fcm_indices_figure),
}[sweep.method]
views = [first[0], "Silhouette", "Table"]
if sweep.method == "kmeans" and "gap" in sweep.table:
    views.insert(1, "Gap statistic")
tabs = dict(zip(views, st.tabs(views), strict=True))
tabs[first[0]].plotly_chart(first[1](sweep), key="k_chart_main")
if "Gap statistic" in tabs:
    tabs["Gap statistic"].plotly_chart(gap_figure(sweep), key="k_chart_gap")
tabs["Silhouette"].plotly_chart(silhouette_figure(sweep), key="k_chart_sil")
tabs["Table"].dataframe(sweep.table, key="k_table")
vetoed = sorted(sweep.recommendation.vetoed) if sweep.recommendation else []
if vetoed:
    st.caption(
        f"Shaded on the charts, not recommended: k = {', '.join(map(str, vetoed))} (the "
        f"smallest segment holds under {sweep.min_share:.0%} of the customers; see the "
        "'smallest_share' column of the table)."
    )

# ---- silhouette of each row, and use this k -----------------------------------------------
st.subheader("Silhouette plot")
chosen = st.selectbox(
    "k for the silhouette plot",
    sweep.ks,
    index=sweep.ks.index(sweep.recommended_k),
    key=f"w_k_rows_{result['key'][:8]}",
)
if int(chosen) < 2:
    st.info(
        "One group has no silhouette: it compares each customer's own segment with the next one."
    )
else:
    rows = cache.silhouette_rows_cached(result["key"], int(chosen), sweep)
    caption = "" if rows.sample_size is None else f" (a random sample of {rows.sample_size:,} rows)"
    st.plotly_chart(
        silhouette_rows_figure(rows, title=f"Silhouette of each customer, k = {chosen}{caption}"),
        key="k_chart_rows",
    )  # fmt: skip


def _use_k(k: int, method: str, cov: str | None, seed: int) -> None:
    st.session_state[CHOSEN_K] = k
    # The sweep's seed, and for mixtures its covariance type and number of starts, so the
    # Segments page fits the very model the sweep scored (the same starts, the same BIC).
    extra = {"covariance_type": cov, "n_init": SWEEP_STARTS} if cov else {}
    st.session_state[SEG_SETTINGS] = {
        **st.session_state[SEG_SETTINGS],
        "method": method,
        "seed": seed,
        **extra,
    }
    # The Segments page restores its controls from CHOSEN_K / SEG_SETTINGS when its own
    # widget values are gone; drop any left over so the new k shows there.
    for widget in ("w_seg_k", "w_seg_method", "w_seg_cov", "w_seg_seed", "w_seg_n_init"):
        st.session_state.pop(widget, None)
    # The chosen k and method become the current analysis: the Segments page fits them
    # (at once when quick), and Anomalies and Synthetic data follow that fit.
    st.session_state[SEGMENTATION] = None


cov = str(sweep.table.at[int(chosen), "best_covariance"]) if sweep.method == "gmm" else None
st.button(
    f"Use {METHOD_NAMES[sweep.method]} with k = {chosen} on the Segments page",
    key="k_use",
    on_click=_use_k,
    args=(int(chosen), sweep.method, cov, int(sweep.random_state)),
    disabled=int(chosen) < 2,
    help="One group is not a segmentation: choose 2 or more to segment."
    if int(chosen) < 2
    else None,
)
if st.session_state[CHOSEN_K] == int(chosen) and st.session_state.get("k_use"):
    st.success(f"k = {chosen} ({METHOD_NAMES[sweep.method]}) will be used on the Segments page.")
    st.page_link("views/segments.py", label="Go to Segments", icon=":material/category:")

# ---- stability on demand ------------------------------------------------------------------
# A bordered box, not an expander: the panel stays open while the check runs and after.
with st.container(border=True):
    st.markdown("**Is this segmentation reproducible?**")
    st.write(
        "Refits on five random 80% samples of the customers for the recommended k and its "
        "neighbours, and checks whether customers land in the same segments each time."
    )
    if st.button(
        "Check stability",
        key="k_stability",
        help="Compares every pair of refits on the customers they share with the adjusted "
        "Rand index (1 = the same segments, 0 = no better than chance).",
    ):
        with st.spinner("Refitting on samples of the customers…"):
            try:
                result["stability"] = cache.stability_cached(result["key"], sweep)
            except InputError as exc:
                st.error(md(exc.message))
    if result.get("stability") is not None:
        st.dataframe(
            result["stability"],
            column_config={
                "_index": st.column_config.NumberColumn("Segments (k)"),
                "mean_ari": st.column_config.NumberColumn(
                    "Agreement, average",
                    format="%.2f",
                    help="Average adjusted Rand index over pairs of refits (1 = identical).",
                ),
                "min_ari": st.column_config.NumberColumn(
                    "Agreement, worst pair",
                    format="%.2f",
                    help="Lowest adjusted Rand index of any pair of refits.",
                ),
                "n_resamples": st.column_config.NumberColumn("Refits"),
                "rows_per_resample": st.column_config.NumberColumn("Customers per refit"),
                "verdict": st.column_config.TextColumn("Verdict", width="large"),
            },  # fmt: skip
            key="k_stability_table",
        )
