"""Choose k page: sweep k, one chart per criterion, the recommendation in words, use it."""

from __future__ import annotations

import time

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from analytics import InputError
from analytics.charts.choose_k import (
    bic_figure,
    elbow_figure,
    fcm_indices_figure,
    silhouette_figure,
    silhouette_rows_figure,
)
from analytics.model.fit import COVARIANCE_TYPES, MAX_K, METHOD_NAMES
from ui import cache
from ui.data import ensure_dataset, features, inputs_key, prep_options
from ui.state import CHOSEN_K, SEG_SETTINGS, SWEEP, SWEEP_RUNNING, SWEEP_STOP, keep_widget
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

b1, b2, _ = st.columns([1, 1, 4])
run = b1.button(
    "Run sweep",
    type="primary",
    key="k_run",
    disabled=not feats or (method == "gmm" and not cov_types),
)
# A click while the sweep runs ends that script run at its next Streamlit call (with
# fast reruns a new run starts at once, in parallel, and the old run may no longer
# write session state). The progress callback turns that into a clean stop after the
# current k and leaves the partial result in a job dict; the new run waits for it.
b2.button("Stop", key="k_stop", on_click=lambda: st.session_state.__setitem__(SWEEP_STOP, True))

error: str | None = None
if run:
    st.session_state[SWEEP_STOP] = False
    job: dict = {"done": False, "result": None}
    st.session_state[SWEEP_RUNNING] = job
    pending: list[BaseException] = []
    try:
        with st.status(
            f"Trying k = {k_lo}..{k_hi} with {METHOD_NAMES[method]}…", expanded=True
        ) as status:
            bar = st.progress(0.0, text="Starting")

            def progress(frac: float, text: str) -> None:
                if pending:
                    return
                try:
                    bar.progress(min(max(frac, 0.0), 1.0), text=text)
                except ScriptControlException as exc:  # Stop (or any click): end after this k
                    pending.append(exc)

            def should_stop() -> bool:
                return bool(pending) or bool(st.session_state.get(SWEEP_STOP))

            args = (key, method, ks, int(seed), tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in {**prep_options(), **params}.items())))  # fmt: skip
            started = time.perf_counter()
            try:
                sweep = cache.sweep_cached(
                    *args, _df=ds.df, _columns=feats, _progress=progress, _should_stop=should_stop
                )
            except InputError as exc:
                error = exc.message
            else:
                if sweep.stopped:
                    cache.sweep_cached.clear(*args, _df=ds.df, _columns=feats)
                seconds = time.perf_counter() - started
                job["result"] = {"key": key, "settings": settings, "sweep": sweep,
                                 "seconds": seconds, "stability": None}  # fmt: skip
            job["done"] = True
            if pending:
                raise pending[0]  # let Streamlit carry on with the click that stopped the sweep
            if job["result"] is not None:
                st.session_state[SWEEP] = job["result"]
            st.session_state[SWEEP_RUNNING] = None
            if error:
                status.update(label="The sweep did not run", state="error", expanded=False)
            else:
                label = "Stopped" if sweep.stopped else "Done"
                status.update(label=f"{label} in {seconds:.1f} s", state="complete", expanded=False)
    finally:
        job["done"] = True
elif isinstance(job := st.session_state.get(SWEEP_RUNNING), dict):
    # This run was started by a click during a sweep: the interrupted run finishes its
    # current k and leaves what it has in ``job``; wait for it (bounded) and show it.
    with st.spinner("Stopping the sweep after the current k…"):
        deadline = time.monotonic() + 60
        while not job["done"] and time.monotonic() < deadline:
            time.sleep(0.1)
    if job["done"]:
        if job["result"] is not None:
            st.session_state[SWEEP] = job["result"]
        st.session_state[SWEEP_RUNNING] = None

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
    st.page_link("views/segments.py", label="Go to Segments", icon="🧩")

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
