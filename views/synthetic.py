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
from analytics.model.fit import MAX_K, METHOD_NAMES
from analytics.studies.mixture import BIC_KS
from analytics.studies.profiles import readable_name
from analytics.studies.synthetic import MAX_ROWS, fit_synthesizer, synthesizer_from
from ui import cache, cost
from ui.data import FitResult, ensure_dataset, features, inputs_key, prep_options
from ui.segment_names import names_of
from ui.state import SEGMENTATION, SYNTHETIC, keep_widget
from ui.text import md
from ui.widgets import download_table

BIC = "choose by BIC"
#: The two ways to get a mixture: the Segments page's, or one fitted here.
SHARED, OWN = "segments", "own"
#: Largest KS statistic (0..1) up to which the columns "follow the real ones closely",
#: and up to which "roughly"; above it they differ noticeably.
KS_CLOSE, KS_ROUGH = 0.1, 0.2
#: Expected share of near-copies by chance (the privacy report's default quantile);
#: up to twice that is "no sign of copying".
NEAR_COPY_CHANCE = 0.01

st.title("Synthetic data")
st.write(
    "Make up new customers that look like the real ones, with the same spread of values "
    "and the same relationships between columns, without being any of them: for "
    "testing, training or sharing. Check the verdicts below before sharing the result."
)

ds = ensure_dataset()
feats = features()
fit: FitResult | None = st.session_state[SYNTHETIC]

# ---- which model -------------------------------------------------------------------------
current: FitResult | None = st.session_state[SEGMENTATION]
current_ok = current is not None and current.inputs_key == inputs_key(current.settings)
shared_ok = current_ok and current.seg.method == "gmm"
if shared_ok:
    source = st.radio(
        "Model",
        [SHARED, OWN],
        format_func={
            SHARED: f"The Segments page's Gaussian mixture ({current.seg.k} segments)",
            OWN: "A Gaussian mixture fitted here for generating",
        }.get,
        key=keep_widget("w_syn_source", SHARED),
        horizontal=True,
        help="The Segments page's model keeps one analysis (the same segments and names). "
        "A mixture fitted here can model skewed amounts on a log scale, which often "
        "reproduces them more closely.",
    )
else:
    source = OWN
    if current_ok:
        st.info(
            f"The Segments page uses {METHOD_NAMES[current.seg.method]}, which cannot make up "
            "new customers. Drawing new rows needs a Gaussian mixture, so one is fitted here "
            "on the same columns. Choose *Gaussian mixture* on the Segments page to share one "
            "model.",
            icon=":material/info:",
        )
    else:
        st.caption(
            "No segments are fitted on the current data yet, so a Gaussian mixture is fitted "
            "here. Fit a Gaussian mixture on the Segments page to use the same model on both."
        )

# ---- controls ---------------------------------------------------------------------------
c1, c2, c3 = st.columns(3)
n = c1.number_input(
    "Rows to generate", 1, MAX_ROWS, step=100,
    key=keep_widget("w_syn_n", int(min(len(ds.df), MAX_ROWS))),
)  # fmt: skip
seed = c3.number_input(
    "Random seed", 0, 2**31 - 1, step=1, key=keep_widget("w_syn_seed", 0),
    help="The same seed gives the same made-up rows.",
)  # fmt: skip
if source == SHARED:
    fit_settings = {"source": SHARED, "fit": current.inputs_key}
    names = names_of(current)
    st.caption(
        f"Drawing from the Gaussian mixture of the Segments page ({current.seg.k} segments, "
        "its preparation and segment names)."
    )
else:
    names = {}
    k_choice = c2.selectbox(
        "Segments (k)", [BIC, *range(1, MAX_K + 1)],
        key=keep_widget("w_syn_k", BIC),
        help="'choose by BIC' tries 1 to 8 and keeps the best trade-off between fit and "
        "complexity (the lowest Bayesian information criterion).",
    )  # fmt: skip
    log_skewed = st.checkbox(
        "Model skewed amounts on a log scale (recommended)", key=keep_widget("w_syn_log", True),
        help="Right-skewed, non-negative columns such as income are reproduced much more "
        "closely.",
    )  # fmt: skip
    fit_settings = {
        "source": OWN, "k": None if k_choice == BIC else int(k_choice), "seed": int(seed),
        "log": bool(log_skewed),
    }  # fmt: skip
fit_key = inputs_key("synthetic", fit_settings)
known_k = (
    fit.seg.k
    if fit is not None and fit.inputs_key == fit_key
    else (current.seg.k if source == SHARED else fit_settings["k"])
)
segments: list[int] = []
if known_k:
    segments = st.multiselect(
        "Only from these segments (empty: all)", list(range(1, known_k + 1)),
        format_func=lambda j: f"{j}. {names[j]}" if j in names else f"Segment {j}",
        key=keep_widget(f"w_syn_segments_{known_k}", []),
        help="Segment 1 is the largest, as on the Segments page; a segment column is added.",
    )  # fmt: skip
else:
    st.caption("Generate once to choose segments to sample from.")

too_big: str | None = None
if source == SHARED:
    expected = 0.0  # no fit: drawing rows from the current model
else:
    # BIC tries every k of BIC_KS; two starts each.
    work = cost.job(
        "synthetic",
        len(ds.df),
        cost.prepared_width(cache.profile_cached(ds.key, ds.df), feats),
        fit_settings["k"] or BIC_KS,
        "gmm",
        "full",
        2,
    )
    expected = cost.seconds(work)
    too_big = cost.check(work)  # above the session's limits: explained, never started
# First visit on a quick table (or a new current model): draw without a click.
auto = (
    bool(feats)
    and cost.is_quick(expected)
    and not too_big
    and (fit is None or (source == SHARED and fit.inputs_key != fit_key))
)
error: str | None = None
pressed = st.button("Generate", type="primary", disabled=not feats, key="syn_go") or auto
if pressed and too_big:
    error = too_big
elif pressed:
    with st.status("Drawing made-up customers…", expanded=False) as status:
        started = time.perf_counter()
        try:
            if fit is not None and fit.inputs_key == fit_key:
                synth = fit.seg
            elif source == SHARED:
                synth = synthesizer_from(current.seg)
            else:
                synth = fit_synthesizer(
                    ds.df,
                    fit_settings["k"],
                    feats,
                    int(seed),
                    n_init=2,
                    **{**prep_options(), **({"log_transform": True} if fit_settings["log"] else {})},
                )  # fmt: skip
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
    st.error(md(error) + " Change the settings and press **Generate** again.")
if fit is None or "sample" not in fit.extra:
    st.info(
        "Choose how many rows to draw, then press **Generate** "
        f"(expected time: {cost.in_words(expected)})."
    )
    st.stop()
if fit.inputs_key != fit_key:
    st.info("The data, columns or settings changed; press **Generate** to apply them.")

synth = fit.seg
sample = fit.extra["sample"]
# The Segments page already showed its own fit's notes; repeat only the new ones here.
said = set(current.seg.warnings) if fit.settings.get("source") == SHARED and current_ok else set()
notes = [w for w in synth.warnings if w not in said]
if notes:
    st.warning("  \n".join(md(w) for w in notes))
cols = list(synth.segmentation.columns)
reports = cache.synthetic_reports_cached(fit.extra["sample_key"], ds.df, sample, cols)
fid, priv = reports["fidelity"], reports["privacy"]
psum = priv["summary"].set_index("measure")["value"]
worst = fid["summary"].set_index("measure")
ks = float(worst.at["largest KS statistic", "value"])
ks_where = str(worst.at["largest KS statistic", "where"])
near = int(psum["near-copies"])
checked = max(int(psum["synthetic rows checked"]), 1)
exact = int(psum["exact copies"])

m1, m2, m3, m4 = st.columns(4)
m1.metric("Rows generated", f"{len(sample):,}")
m2.metric("Segments", synth.k, help="Chosen by BIC." if synth.bic is not None else "As set above.")
m3.metric(
    "Largest gap between distributions", f"{ks:.2f}" if ks == ks else "–",
    help="The largest Kolmogorov-Smirnov statistic over the numeric columns: the widest "
    "gap between the real and synthetic cumulative distributions (0 = identical, 1 = "
    "nothing in common).",
)  # fmt: skip
m4.metric(
    "Near-copies of real customers", f"{near:,}",
    help="Synthetic rows closer to a real customer than 99% of real customers are to their "
    "own closest neighbour (about 1% is expected by chance).",
)  # fmt: skip

# ---- verdicts in words --------------------------------------------------------------------
where = f" (the largest gap is {ks:.2f}, in {md(readable_name(ks_where))})" if ks_where else ""
if ks != ks:
    st.caption("There are no numeric columns to compare distributions on.")
elif ks <= KS_CLOSE:
    st.success(f"**Fidelity:** the synthetic columns follow the real ones closely{where}.")
elif ks <= KS_ROUGH:
    st.info(
        f"**Fidelity:** the synthetic columns follow the real ones roughly{where}; compare "
        "the distributions below before relying on details."
    )
else:
    st.warning(
        f"**Fidelity:** at least one column differs noticeably from the real one{where}. "
        "Try more segments or the log scale for skewed amounts."
    )
share_near = near / checked
if exact:
    st.warning(
        f"**Privacy:** {exact:,} synthetic rows repeat a real customer exactly in every "
        "column. Remove them (or generate again) before sharing."
    )
elif share_near <= 2 * NEAR_COPY_CHANCE:
    st.success(
        f"**Privacy:** no sign of copying: {share_near:.1%} of the synthetic rows are "
        f"near-copies of a real customer, about what chance gives ({NEAR_COPY_CHANCE:.0%})."
    )
else:
    st.warning(
        f"**Privacy:** {share_near:.1%} of the synthetic rows are near-copies of a real "
        f"customer, more than chance gives ({NEAR_COPY_CHANCE:.0%}): check the Privacy tab "
        "before sharing."
    )

# ---- charts --------------------------------------------------------------------------------
t_hist, t_scatter, t_corr, t_fid, t_priv = st.tabs(
    ["Distributions", "Scatter", "Correlations", "Fidelity", "Privacy"]
)
numeric = list(synth.segmentation.preparer.numeric)
with t_hist:
    show = st.multiselect(
        "Columns", cols, format_func=readable_name, key=keep_widget("w_syn_hist_cols", cols[:6])
    )
    if show:
        st.plotly_chart(overlay_histograms(ds.df, sample, columns=show), key="syn_hist")
with t_scatter:
    if len(numeric) >= 2:
        a, b = st.columns(2)
        x = a.selectbox(
            "Horizontal", numeric, format_func=readable_name,
            key=keep_widget(f"w_syn_x_{fit_key[:12]}", numeric[0]),
        )  # fmt: skip
        y = b.selectbox(
            "Vertical", numeric, format_func=readable_name,
            key=keep_widget(f"w_syn_y_{fit_key[:12]}", numeric[1]),
        )  # fmt: skip
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
download_table(
    f"Download the {len(sample):,} synthetic rows",
    lambda sample=sample: sample,
    "synthetic_customers",
    "syn_dl",
    n_rows=len(sample),
)
