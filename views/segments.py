"""Segments page: fit k-means / fuzzy c-means / a Gaussian mixture, explore, target, download."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from analytics import InputError, segment
from analytics.charts.base import segment_colour
from analytics.charts.segments import (
    profile_heatmap_figure,
    segment_map_figure,
    sizes_figure,
    top_probability_figure,
)
from analytics.io import to_csv_bytes
from analytics.model.fit import COVARIANCE_TYPES, MAX_K, METHOD_NAMES
from analytics.studies.profiles import (
    ambiguous_rows,
    centres_and_profiles,
    target_mask,
    target_rows,
    top_effects,
)
from ui import cache, cost
from ui.data import (
    PROBABILITY_DECIMALS,
    FitResult,
    ensure_dataset,
    features,
    inputs_key,
    prep_options,
    roles,
)
from ui.score import render_model_download, render_score_section
from ui.state import CHOSEN_K, SEG_SETTINGS, SEGMENTATION, keep_widget
from ui.widgets import file_stem, method_select

#: Points drawn on the maps at most (a random sample beyond this, every segment kept visible).
MAP_SAMPLE = 5000
#: Top-two probabilities closer than this make a row "ambiguous".
AMBIGUITY_MARGIN = 0.1


def _value(v: float, kind: str) -> str:
    """A mean (numbers) or a share (category levels), for the segment cards."""
    if v != v:  # NaN: no rows on that side
        return "–"
    return f"{v:.0%}" if kind == "category" else f"{v:,.4g}"


def _effect(v: float, kind: str) -> str:
    if v != v:
        return "–"
    return f"{v * 100:+.0f} pts" if kind == "category" else f"d = {v:+.2f}"


st.title("Segments")
st.write(
    "Split customers into segments, see what sets each apart, and pick the customers "
    "a campaign should target."
)

ds = ensure_dataset()
feats = features()
saved = st.session_state[SEG_SETTINGS]

# ---- controls ---------------------------------------------------------------------------
c1, c2, c3 = st.columns([2, 1, 2])
method = method_select(
    c1,
    "w_seg_method",
    saved["method"],
    help="k-means: hard labels. Fuzzy c-means: graded memberships. "
    "Gaussian mixture: probabilities and elliptical segments.",
)
k = c2.number_input(
    "Segments (k)",
    min_value=1,
    max_value=MAX_K,
    step=1,
    key=keep_widget("w_seg_k", int(st.session_state[CHOSEN_K])),
    help="The Choose k page suggests a value.",
)
with c3:
    if method == "fcm":
        m = st.slider(
            "Fuzzifier m",
            1.1,
            3.0,
            step=0.1,
            key=keep_widget("w_seg_m", float(saved["m"])),
            help="Near 1: almost hard labels; larger: softer memberships.",
        )
    else:
        m = float(saved["m"])
    if method == "gmm":
        cov = st.selectbox(
            "Covariance type",
            COVARIANCE_TYPES,
            key=keep_widget("w_seg_cov", saved["covariance_type"]),
            help="full: any ellipse; tied: one shared shape; diag: axis-aligned; "
            "spherical: round (like k-means).",
        )
    else:
        cov = saved["covariance_type"]
with st.expander("More settings"):
    a1, a2, a3 = st.columns(3)
    n_init = a1.number_input(
        "Starts", 1, 20, step=1, key=keep_widget("w_seg_n_init", int(saved["n_init"])),
        help="Independent starts; the best is kept (k-means, Gaussian mixture).",
    )  # fmt: skip
    max_iter = a2.number_input(
        "Max iterations", 10, 5000, step=10, key=keep_widget("w_seg_max_iter", int(saved["max_iter"]))
    )  # fmt: skip
    seed = a3.number_input(
        "Random seed", 0, 2**31 - 1, step=1, key=keep_widget("w_seg_seed", int(saved["seed"]))
    )  # fmt: skip

settings = {
    "method": method,
    "k": int(k),
    "m": float(m),
    "covariance_type": cov,
    "n_init": int(n_init),
    "max_iter": int(max_iter),
    "seed": int(seed),
}
st.session_state[SEG_SETTINGS] = {key: v for key, v in settings.items() if key != "k"}
st.session_state[CHOSEN_K] = int(k)
method_params = {
    "kmeans": {"n_init": settings["n_init"], "max_iter": settings["max_iter"]},
    "fcm": {"m": settings["m"], "max_iter": settings["max_iter"]},
    "gmm": {
        "covariance_type": cov,
        "n_init": settings["n_init"],
        "max_iter": settings["max_iter"],
    },
}[method]

work = cost.job(
    "fit",
    len(ds.df),
    cost.prepared_width(cache.profile_cached(ds.key, ds.df), feats),
    int(k),
    method,
    cov,
    int(n_init),
)
expected = cost.seconds(work)
too_big = cost.check(work)  # above the session's limits: explained, never started
# First visit on a quick table: fit the default settings without a click.
auto = (
    bool(feats)
    and st.session_state[SEGMENTATION] is None
    and cost.is_quick(expected)
    and not too_big
)
fit_error: str | None = None
pressed = st.button("Fit", type="primary", disabled=not feats, key="seg_fit") or auto
if pressed and too_big:
    fit_error = too_big
elif pressed:
    with st.status(f"Fitting {METHOD_NAMES[method]} with {k} segments…", expanded=True) as status:
        bar = st.progress(0.0, text="Starting")
        started = time.perf_counter()
        try:
            seg = segment(
                ds.df,
                method,
                int(k),
                columns=feats,
                random_state=int(seed),
                progress=lambda frac, text: bar.progress(min(max(frac, 0.0), 1.0), text=text),
                roles=roles(),
                **prep_options(),
                **method_params,
            )
        except InputError as exc:
            status.update(label="The fit did not run", state="error", expanded=False)
            fit_error = exc.message
        else:
            seconds = time.perf_counter() - started
            st.session_state[SEGMENTATION] = FitResult(
                inputs_key=inputs_key(settings),
                settings=settings,
                seg=seg,
                seconds=seconds,
                extra={"dataset": ds.name},
            )
            status.update(label=f"Fitted in {seconds:.1f} s", state="complete", expanded=False)
if not feats:
    st.warning("No feature columns are chosen: pick some on the Data page.")
if fit_error:
    st.error(fit_error + " The data stays loaded; change the settings and press Fit again.")

fit: FitResult | None = st.session_state[SEGMENTATION]
if fit is None:
    st.info(
        "Choose a method and the number of segments, then press **Fit** "
        f"(expected time: {cost.in_words(expected)})."
    )
    render_score_section(None)  # scoring with a saved model file needs no fit here
    st.stop()

seg = fit.seg
s = seg.summary
if fit.inputs_key != inputs_key(fit.settings):
    st.info(
        "The data, features or preparation changed since this fit. Press **Fit** to refit; "
        "the results below are from the previous choices."
    )
elif fit.settings != settings:
    st.caption(
        "The settings above differ from the ones of the results below; press **Fit** to apply."
    )
for w in seg.warnings:
    st.warning(w)

# ---- summary -------------------------------------------------------------------------------
parts = [f"**{s['method_name']}**, k = {s['k']}"]
if s["method"] == "gmm":
    parts.append(f"{s['params']['covariance_type']} covariance")
parts.append(
    f"{'converged' if s.get('converged') else 'did not converge'} after {s.get('n_iter', '?')} iterations"
)
if s["method"] == "gmm":
    parts.append(f"BIC {s['bic']:,.0f}, log-likelihood {s['log_likelihood']:,.0f}")
elif s["method"] == "fcm":
    parts.append(f"partition coefficient {s['partition_coefficient']:.2f}")
else:
    parts.append(f"inertia {s['inertia']:,.1f}")
if s.get("strategy"):
    parts.append(str(s["strategy"]))
st.markdown("Fitted: " + "; ".join(parts) + f" ({fit.seconds:.1f} s).")

key = fit.inputs_key
report = cache.segment_report_cached(key, seg)
ambiguous = ambiguous_rows(seg.proba, AMBIGUITY_MARGIN)
m1, m2, m3, m4 = st.columns(4)
m1.metric("Customers", f"{s['n_rows']:,}")
m2.metric("Segments", s["k"])
m3.metric("Columns used", len(s["columns"]), help=f"{s['n_features']} prepared features.")
m4.metric(
    "Ambiguous customers",
    f"{int(ambiguous.sum()):,}",
    help=f"Top two segment probabilities within {AMBIGUITY_MARGIN:.2f} of each other.",
)
if s["method"] == "kmeans":
    st.caption(
        "k-means gives hard labels: every customer's probability is 1 (no uncertainty shown)."
    )

# ---- charts --------------------------------------------------------------------------------
t_map, t_sizes, t_prof, t_cert = st.tabs(["Map", "Sizes", "Profiles", "Certainty"])
with t_map:
    v1, v2, v3 = st.columns([2, 2, 2])
    numeric = list(seg.preparer.numeric)
    views = ["PCA of the prepared features"] + (["Two columns"] if len(numeric) >= 2 else [])
    view = v1.radio("View", views, key=keep_widget(f"w_seg_view_{len(views)}", views[0]))
    encode = v2.radio(
        "Probability shown by",
        ["size", "opacity"],
        key=keep_widget("w_seg_encode", "size"),
        help="As in the PDSH chapter: small or faint points are uncertain assignments.",
    )
    show_shapes = False
    if seg.method == "gmm":
        show_shapes = v3.checkbox(
            "Show segment shapes", key=keep_widget("w_seg_ellipses", False),
            help="An outline around each segment holding about 86% of its customers.",
        )  # fmt: skip
    x = y = None
    if view == "Two columns":
        a, b = st.columns(2)
        # Keys carry the fit so a stored column from another fit is never out of the options.
        x = a.selectbox("Horizontal", numeric, key=keep_widget(f"w_seg_x_{key[:12]}", numeric[0]))
        y = b.selectbox("Vertical", numeric, key=keep_widget(f"w_seg_y_{key[:12]}", numeric[1]))
    proj = cache.projection_cached(key, x, y, MAP_SAMPLE, seg)
    st.plotly_chart(
        segment_map_figure(proj, encode=encode, ellipses=show_shapes),
        key="seg_map",
    )
    if proj.sampled:
        st.caption(
            f"Drawing {len(proj.points):,} of {proj.n_total:,} customers (a random sample; "
            "every segment keeps some points) so the chart stays fast."
        )
    if proj.note:
        st.caption(proj.note)
with t_sizes:
    st.plotly_chart(sizes_figure(seg.sizes), key="seg_sizes")
with t_prof:
    if report["z"].shape[1]:
        st.plotly_chart(profile_heatmap_figure(report["z"], report["means"]), key="seg_heatmap")
        st.caption(
            "Red: the segment's mean is above the overall mean; blue: below (in standard "
            "deviations). Category rows compare the share of customers with that value."
        )
    st.dataframe(report["profiles"], key="seg_profiles_table")
with t_cert:
    st.plotly_chart(
        top_probability_figure(
            seg.proba.max(axis=1), int(ambiguous.sum()), margin=AMBIGUITY_MARGIN
        ),
        key="seg_topprob",
    )

# ---- segment cards -------------------------------------------------------------------------
st.subheader("Segment cards")
effects = report["effects"]
profiles = report["profiles"]
per_row = 2
for start in range(0, seg.k, per_row):
    cols = st.columns(per_row)
    for j, col in zip(range(start + 1, min(start + per_row, seg.k) + 1), cols, strict=False):
        with col.container(border=True):
            st.markdown(
                f"<span style='color:{segment_colour(j)}'>■</span> **Segment {j}**: "
                f"{int(profiles.loc[j, 'size']):,} customers ({profiles.loc[j, 'share']:.0%})",
                unsafe_allow_html=True,
            )
            st.markdown(report["descriptions"][j - 1])
            top = top_effects(effects, j)
            st.dataframe(
                pd.DataFrame(
                    {
                        "feature": [
                            f"{r.feature} = {r.level}" if r.kind == "category" else r.feature
                            for r in top.itertuples()
                        ],
                        "segment": [_value(r.segment_value, r.kind) for r in top.itertuples()],
                        "others": [_value(r.rest_value, r.kind) for r in top.itertuples()],
                        "effect": [_effect(r.effect, r.kind) for r in top.itertuples()],
                    }
                ),
                hide_index=True,
                column_config={
                    "effect": st.column_config.TextColumn(
                        "effect",
                        help="Numbers: Cohen's d (0.5 medium, 1 large). "
                        "Categories: difference in share, in percentage points.",
                    )
                },
                key=f"seg_card_{j}",
            )

# ---- targeting -----------------------------------------------------------------------------
st.subheader("Target customers")
st.write(
    "Pick a segment and how sure the model must be. As in the car A / car B example, "
    "a campaign can go to the customers most likely to belong, not to everyone labelled so."
)
g1, g2, g3 = st.columns([2, 2, 1])
target = g1.selectbox(
    "Segment",
    list(range(1, seg.k + 1)),
    format_func=lambda j: f"Segment {j}: {report['descriptions'][j - 1]}",
    key=keep_widget(f"w_seg_target_{seg.k}", 1),
)
min_p = g2.slider(
    "Minimum probability", 0.0, 1.0, step=0.01, key=keep_widget("w_seg_min_p", 0.8)
)  # fmt: skip
qualify = int(target_mask(seg, target, min_p).sum())
g3.metric("Customers who qualify", f"{qualify:,}")
stem = file_stem(fit.extra.get("dataset", ds.name))
st.download_button(
    f"Download these {qualify:,} customers (CSV)",
    data=lambda seg=seg, target=target, min_p=min_p: to_csv_bytes(target_rows(seg, target, min_p)),
    file_name=f"{stem}_segment{target}_p{min_p:.2f}.csv",
    mime="text/csv",
    on_click="ignore",
    disabled=qualify == 0,
    key="seg_dl_target",
)

# ---- downloads -----------------------------------------------------------------------------
st.subheader("Downloads")
d1, d2 = st.columns(2)
d1.download_button(
    "Labelled table (every row, with segment and probabilities)",
    data=lambda seg=seg: to_csv_bytes(seg.table(probability_decimals=PROBABILITY_DECIMALS)),
    file_name=f"{stem}_segments.csv",
    help=f"Every original row and column, unchanged, plus the segment and the probability "
    f"of each segment (rounded to {PROBABILITY_DECIMALS} decimals).",
    mime="text/csv",
    on_click="ignore",
    key="seg_dl_table",
)
d2.download_button(
    "Segment centres and profiles",
    data=lambda seg=seg: to_csv_bytes(centres_and_profiles(seg)),
    file_name=f"{stem}_segment_profiles.csv",
    mime="text/csv",
    on_click="ignore",
    key="seg_dl_profiles",
)
render_model_download(fit)
render_score_section(fit)
