"""Segments page: fit k-means / fuzzy c-means / a Gaussian mixture, explore, target, download."""

from __future__ import annotations

import time

import streamlit as st

from analytics import InputError, segment
from analytics.charts.base import segment_colour
from analytics.charts.segments import (
    profile_heatmap_figure,
    segment_map_figure,
    segment_profile_figure,
    sizes_figure,
    top_probability_figure,
)
from analytics.model.fit import COVARIANCE_TYPES, MAX_K, METHOD_NAMES
from analytics.studies.profiles import (
    STRENGTH_NAMES,
    ambiguous_rows,
    assignment_strength,
    centres_and_profiles,
    count_phrase,
    format_share,
    readable_name,
    strength_name,
    target_mask,
    target_rows,
)
from ui import cache, cost
from ui.analysis import render_downloads
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
from ui.segment_names import clean_names, labelled_table, names_of, set_names, with_names
from ui.state import CHOSEN_K, SEG_SETTINGS, SEGMENTATION, keep_widget
from ui.text import md
from ui.widgets import download_table, file_stem, method_select

#: Points drawn on the maps at most (a random sample beyond this, every segment kept visible).
MAP_SAMPLE = 5000
#: Top-two probabilities closer than this make a row "ambiguous".
AMBIGUITY_MARGIN = 0.1
#: The covariance types in words (the select box shows these).
SHAPE_WORDS = {
    "full": "any oval (full)",
    "tied": "one shared shape (tied)",
    "diag": "ovals along the axes (diag)",
    "spherical": "round (spherical)",
}


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
            "How soft the memberships are",
            1.1,
            3.0,
            step=0.1,
            key=keep_widget("w_seg_m", float(saved["m"])),
            help="The fuzzifier m of fuzzy c-means. Near 1: almost every customer "
            "belongs to one segment; larger: customers share their membership between "
            "segments. 2 is the usual choice.",
        )
    else:
        m = float(saved["m"])
    if method == "gmm":
        cov = st.selectbox(
            "Segment shapes",
            COVARIANCE_TYPES,
            format_func=SHAPE_WORDS.get,
            key=keep_widget("w_seg_cov", saved["covariance_type"]),
            help="The mixture's covariance type. full: each segment any oval shape; "
            "tied: one shared shape; diag: ovals along the columns' axes; "
            "spherical: round, like k-means.",
        )
    else:
        cov = saved["covariance_type"]
with st.expander("More settings"):
    a1, a2, a3 = st.columns(3)
    n_init = a1.number_input(
        "Attempts", 1, 20, step=1, key=keep_widget("w_seg_n_init", int(saved["n_init"])),
        help="Independent starts (n_init); the best is kept (k-means, Gaussian mixture).",
    )  # fmt: skip
    max_iter = a2.number_input(
        "Most refining steps", 10, 5000, step=10,
        key=keep_widget("w_seg_max_iter", int(saved["max_iter"])),
        help="Maximum iterations of the fit (max_iter).",
    )  # fmt: skip
    seed = a3.number_input(
        "Random seed", 0, 2**31 - 1, step=1, key=keep_widget("w_seg_seed", int(saved["seed"])),
        help="The same seed on the same data gives the same segments.",
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
    with st.status(f"Finding {k} segments with {METHOD_NAMES[method]}…", expanded=True) as status:
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
            status.update(label="No segments were found", state="error", expanded=False)
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
            status.update(label=f"Done in {seconds:.1f} s", state="complete", expanded=False)
if not feats:
    st.warning("No feature columns are chosen: pick some on the Data page.")
if fit_error:
    st.error(md(fit_error) + " The data stays loaded; change the settings and press **Fit** again.")

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
if seg.warnings:  # one box: several notes would push the results down the page
    st.warning("  \n".join(md(w) for w in seg.warnings))

# ---- summary -------------------------------------------------------------------------------
iterations = s.get("n_iter", "?")
settled = "settled" if s.get("converged") else "had not settled"
st.markdown(
    f"**{s['k']} segments** found with {s['method_name']} on "
    f"{count_phrase(s['n_rows'])} in {fit.seconds:.1f} s ({settled} after {iterations} steps)."
)
with st.expander("About the method"):
    lines = [
        f"- Method: {s['method_name']}, k = {s['k']}, random seed {fit.settings['seed']}.",
        f"- {'Converged' if s.get('converged') else 'Did not converge'} after {iterations} "
        "iterations.",
    ]
    if s["method"] == "gmm":
        lines.append(
            f"- Covariance type: {s['params']['covariance_type']}. BIC {s['bic']:,.0f}, "
            f"log-likelihood {s['log_likelihood']:,.0f} (lower BIC: a better trade-off "
            "between fit and complexity). Probabilities are the posterior probabilities "
            "of the mixture components."
        )
    elif s["method"] == "fcm":
        lines.append(
            f"- Fuzzifier m = {fit.settings['m']:.1f}; partition coefficient "
            f"{s['partition_coefficient']:.2f} (1 = every customer fully in one segment, "
            f"1/k = no structure). Probabilities are the fuzzy memberships."
        )
    else:
        lines.append(
            f"- Inertia (within-segment sum of squared distances) {s['inertia']:,.1f}. "
            "k-means gives hard labels: every probability is 1."
        )
    if s.get("strategy"):
        lines.append(f"- {md(s['strategy'])}")
    lines.append(
        "- Differences on the cards: numbers as the ratio of the segment's average to the "
        "average customer's (or the difference, for columns that can be negative), "
        "ranked by Cohen's d (0.5 medium, 1 large); category values as the difference in "
        "share, in percentage points. The heatmap shows how many standard deviations each "
        "segment's average is from the overall average."
    )
    st.markdown("\n".join(lines))

key = fit.inputs_key
report = cache.segment_report_cached(key, seg)
if "names" not in fit.extra:
    fit.extra["names"] = dict(report["suggested_names"])

# ---- names ---------------------------------------------------------------------------------
st.subheader("Segment names")
st.caption(
    "Each segment has a name suggested from what sets it apart. Type over it to use your "
    "own words: the names appear on every chart, card and download."
)
current = names_of(fit)
typed: dict[int, str] = {}
name_cols = st.columns(min(seg.k, 4))
for j in range(1, seg.k + 1):
    typed[j] = name_cols[(j - 1) % len(name_cols)].text_input(
        f"Segment {j}",
        key=keep_widget(f"w_seg_name_{key[:12]}_{j}", current[j]),
        max_chars=60,
    )
names = clean_names(typed, seg.k, report["suggested_names"])
if names != current:
    set_names(fit, names)

ambiguous = ambiguous_rows(seg, AMBIGUITY_MARGIN)
strength = strength_name(seg)  # probability (GMM), membership (FCM) or margin (k-means)
m1, m2, m3, m4 = st.columns(4)
m1.metric("Customers", f"{s['n_rows']:,}")
m2.metric("Segments", s["k"])
m3.metric("Columns used", len(s["columns"]), help=f"{s['n_features']} prepared features.")
m4.metric(
    "Unsure assignments",
    f"{int(ambiguous.sum()):,}",
    help=(
        f"Margin to the next centre at most {AMBIGUITY_MARGIN:.2f}."
        if seg.method == "kmeans"
        else f"Top two segment {strength}s within {AMBIGUITY_MARGIN:.2f} of each other."
    ),
)
if s["method"] == "kmeans":
    st.caption(
        "k-means gives hard labels and no probabilities; how firmly a customer belongs is "
        "shown as the margin: how much closer it is to its own segment's centre than to the "
        "next one (0 on the border, 1 at the centre)."
    )
elif s["method"] == "fcm":
    st.caption("Fuzzy c-means gives memberships (they sum to 1 but are not probabilities).")

# ---- charts --------------------------------------------------------------------------------
t_map, t_sizes, t_prof, t_cert = st.tabs(["Map", "Sizes", "Profiles", "Certainty"])
with t_map:
    v1, v2, v3 = st.columns([2, 2, 2])
    numeric = list(seg.preparer.numeric)
    views = ["Summary of all columns (PCA)"] + (["Two columns"] if len(numeric) >= 2 else [])
    view = v1.radio(
        "View",
        views,
        key=keep_widget(f"w_seg_view_{len(views)}", views[0]),
        help="PCA squeezes every column into the two directions along which customers differ most.",
    )
    encode = v2.radio(
        "Certainty shown by",
        ["size", "opacity"],
        key=keep_widget("w_seg_encode", "size"),
        help="Small or faint points are customers the model is unsure about.",
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
        x = a.selectbox(
            "Horizontal", numeric, format_func=readable_name,
            key=keep_widget(f"w_seg_x_{key[:12]}", numeric[0]),
        )  # fmt: skip
        y = b.selectbox(
            "Vertical", numeric, format_func=readable_name,
            key=keep_widget(f"w_seg_y_{key[:12]}", numeric[1]),
        )  # fmt: skip
    proj = cache.projection_cached(key, x, y, MAP_SAMPLE, seg)
    st.plotly_chart(
        segment_map_figure(proj, names=names, encode=encode, ellipses=show_shapes),
        key="seg_map",
    )
    if proj.sampled:
        st.caption(
            f"Drawing {len(proj.points):,} of {proj.n_total:,} customers (a random sample; "
            "every segment keeps some points) so the chart stays fast."
        )
    if proj.note:
        st.caption(md(proj.note))
with t_sizes:
    st.plotly_chart(sizes_figure(seg.sizes, names=names), key="seg_sizes")
with t_prof:
    if report["z"].shape[1]:
        st.plotly_chart(
            profile_heatmap_figure(report["z"], report["means"], names=names),
            key="seg_heatmap",
        )
        st.caption(
            "Red: the segment's average is above the average customer's; blue: below. "
            "Category rows compare the share of customers with that value."
        )
    profiles = report["profiles"]
    shown = profiles[[c for c in profiles.columns if not str(c).endswith(" z-score")]].copy()
    shown.insert(0, "name", [names[j] for j in shown.index])
    st.dataframe(
        shown,
        column_config={
            "share": st.column_config.NumberColumn("share", format="percent"),
            **{
                c: st.column_config.NumberColumn(readable_name(c[: -len(" mean")]) + " (average)")
                for c in shown.columns
                if str(c).endswith(" mean")
            },
        },
        key="seg_profiles_table",
    )
with t_cert:
    st.plotly_chart(
        top_probability_figure(
            assignment_strength(seg), int(ambiguous.sum()), margin=AMBIGUITY_MARGIN
        ),
        key="seg_topprob",
    )

# ---- segment cards -------------------------------------------------------------------------
st.subheader("Segment cards")
profiles = report["profiles"]
for j in range(1, seg.k + 1):
    with st.container(border=True):
        size = int(profiles.loc[j, "size"])
        description = report["descriptions"][j - 1]
        st.markdown(
            f"<span style='color:{segment_colour(j)}'>■</span> **{md(names[j])}** · "
            f"segment {j}: {count_phrase(size)} ({format_share(profiles.loc[j, 'share'])})  \n"
            + md(description[:1].upper() + description[1:]),
            unsafe_allow_html=True,
        )
        comp = report["comparisons"][j - 1]
        if len(comp):
            left, right = st.columns([6, 4])
            left.dataframe(
                comp[["label", "segment_text", "average_text", "difference"]],
                hide_index=True,
                column_config={
                    "label": st.column_config.TextColumn("What", width="medium"),
                    "segment_text": st.column_config.TextColumn("This segment", width="small"),
                    "average_text": st.column_config.TextColumn("Average customer", width="small"),
                    "difference": st.column_config.TextColumn(
                        "Difference",
                        width="medium",
                        help="Numbers: the segment's average against the average "
                        "customer's. Category values: the difference in share, in "
                        "percentage points.",
                    ),
                },
                key=f"seg_card_{j}",
            )
            right.plotly_chart(
                segment_profile_figure(comp, j, names=names), key=f"seg_card_chart_{j}"
            )

# ---- targeting -----------------------------------------------------------------------------
st.subheader("Target customers")
st.write(
    "Pick a segment and how sure the model must be: a campaign can go to the customers "
    "most likely to belong to it, rather than to everyone the model put there."
)
g1, g2, g3 = st.columns([2, 2, 1])
target = g1.selectbox(
    "Segment",
    list(range(1, seg.k + 1)),
    format_func=lambda j: f"{j}. {names[j]}",
    key=keep_widget(f"w_seg_target_{seg.k}", 1),
)
min_p = g2.slider(
    f"Minimum {strength}", 0.0, 1.0, step=0.01, key=keep_widget("w_seg_min_p", 0.8),
    help=STRENGTH_NAMES[seg.method][1].capitalize() + ".",
)  # fmt: skip
qualify = int(target_mask(seg, target, min_p).sum())
g3.metric("Customers who qualify", f"{qualify:,}")
stem = file_stem(fit.extra.get("dataset", ds.name))
download_table(
    f"Download these {qualify:,} customers",
    lambda seg=seg, target=target, min_p=min_p, names=names: with_names(
        target_rows(seg, target, min_p), seg.output_names(seg.data.columns)["segment"], names
    ),
    f"{stem}_segment{target}_p{min_p:.2f}",
    "seg_dl_target",
    disabled=qualify == 0,
    n_rows=qualify,
)

# ---- downloads -----------------------------------------------------------------------------
st.subheader("Downloads")
d1, d2 = st.columns(2)
download_table(
    "Labelled table (every row, with segment and "
    + {"gmm": "probabilities", "fcm": "memberships", "kmeans": "distances to centres"}[seg.method]
    + ")",
    lambda seg=seg, names=names: labelled_table(seg, names, PROBABILITY_DECIMALS),
    f"{stem}_segments",
    "seg_dl_table",
    where=d1,
    help="Every original row and column, unchanged, plus the segment, its name and the "
    + {
        "gmm": "probability of each segment",
        "fcm": "membership of each segment",
        "kmeans": "distance to each segment's centre (in standard deviations of the "
        "prepared columns)",
    }[seg.method]
    + f" (rounded to {PROBABILITY_DECIMALS} decimals).",
    n_rows=len(seg.labels),
)
download_table(
    "Segment centres and profiles",
    lambda seg=seg, names=names: with_names(centres_and_profiles(seg), "segment", names),
    f"{stem}_segment_profiles",
    "seg_dl_profiles",
    where=d2,
)
render_model_download(fit)
render_downloads(fit)  # analysis file, HTML report, map PNG
render_score_section(fit)
