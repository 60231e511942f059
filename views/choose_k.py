"""Choose k page: sweep k, one chart per criterion, the recommendation in words, use it."""

from __future__ import annotations

import streamlit as st

from analytics import InputError
from analytics.charts.choose_k import (
    bic_figure,
    elbow_figure,
    fcm_indices_figure,
    silhouette_figure,
    silhouette_rows_figure,
)
from analytics.model.fit import COVARIANCE_TYPES, MAX_K, METHOD_NAMES
from ui import cache, cost
from ui.data import ensure_dataset, features, inputs_key, prep_options
from ui.state import CHOSEN_K, SEG_SETTINGS, SWEEP, SWEEP_JOB, keep_widget
from ui.sweep import SweepJob
from ui.sweep import step as sweep_step
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
    "Numbers of segments to try", 2, MAX_K, key=keep_widget("w_k_range", (2, 10))
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
params: dict = {"fcm": {"m": float(saved["m"])}, "gmm": {"covariance_type": cov_types}}.get(
    method, {}
)
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
    st.error(error)

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
    st.warning(sweep.reason)
    st.stop()
m1, m2, m3 = st.columns(3)
m1.metric("Recommended k", sweep.recommended_k)
if sweep.method == "kmeans":
    m2.metric("Elbow", sweep.knee_k if sweep.knee_k is not None else "none")
elif sweep.method == "gmm":
    m2.metric("Best covariance", str(sweep.table.at[sweep.recommended_k, "best_covariance"]))
m3.metric("Silhouette", f"{sweep.table.at[sweep.recommended_k, 'silhouette']:.2f}")
st.success(sweep.reason)
if sweep.warning:
    st.warning(sweep.warning)
for note in sweep.notes:
    st.caption(note)

# ---- one view per criterion ---------------------------------------------------------------
first = {
    "kmeans": ("Elbow", elbow_figure),
    "gmm": ("BIC / AIC", bic_figure),
    "fcm": ("Fuzzy c-means indices", fcm_indices_figure),
}[sweep.method]
tab1, tab2, tab3 = st.tabs([first[0], "Silhouette", "Table"])
tab1.plotly_chart(first[1](sweep), key="k_chart_main")
tab2.plotly_chart(silhouette_figure(sweep), key="k_chart_sil")
tab3.dataframe(sweep.table, key="k_table")

# ---- silhouette of each row, and use this k -----------------------------------------------
st.subheader("Silhouette plot")
chosen = st.selectbox(
    "k for the silhouette plot",
    sweep.ks,
    index=sweep.ks.index(sweep.recommended_k),
    key=f"w_k_rows_{result['key'][:8]}",
)
rows = cache.silhouette_rows_cached(result["key"], int(chosen), sweep)
caption = "" if rows.sample_size is None else f" (a random sample of {rows.sample_size:,} rows)"
st.plotly_chart(
    silhouette_rows_figure(rows, title=f"Silhouette of each customer, k = {chosen}{caption}"),
    key="k_chart_rows",
)  # fmt: skip


def _use_k(k: int, method: str, cov: str | None) -> None:
    st.session_state[CHOSEN_K] = k
    st.session_state[SEG_SETTINGS] = {**st.session_state[SEG_SETTINGS], "method": method,
                                      **({"covariance_type": cov} if cov else {})}  # fmt: skip
    # The Segments page restores its controls from CHOSEN_K / SEG_SETTINGS when its own
    # widget values are gone; drop any left over so the new k shows there.
    for widget in ("w_seg_k", "w_seg_method", "w_seg_cov"):
        st.session_state.pop(widget, None)


cov = str(sweep.table.at[int(chosen), "best_covariance"]) if sweep.method == "gmm" else None
st.button(
    f"Use k = {chosen} on the Segments page",
    key="k_use",
    on_click=_use_k,
    args=(int(chosen), sweep.method, cov),
)
if st.session_state[CHOSEN_K] == int(chosen) and st.session_state.get("k_use"):
    st.success(f"k = {chosen} ({METHOD_NAMES[sweep.method]}) will be used on the Segments page.")
    st.page_link("views/segments.py", label="Go to Segments", icon=":material/category:")

# ---- stability on demand ------------------------------------------------------------------
with st.expander("Is this segmentation reproducible? (stability)"):
    st.write(
        "Refits on five random 80% subsamples for the recommended k and its neighbours, and "
        "compares every pair on the rows they share (adjusted Rand index: 1 = the same "
        "segments, 0 = chance)."
    )
    if st.button("Check stability", key="k_stability"):
        with st.spinner("Refitting on resamples…"):
            try:
                result["stability"] = cache.stability_cached(result["key"], sweep)
            except InputError as exc:
                st.error(exc.message)
    if result.get("stability") is not None:
        st.dataframe(result["stability"], key="k_stability_table")
