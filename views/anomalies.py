"""Anomalies page: the customers unlike any segment, from the current Gaussian mixture."""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from analytics import InputError
from analytics.charts.anomaly import MAX_POINTS, density_histogram
from analytics.model.fit import COVARIANCE_TYPES, MAX_K, METHOD_NAMES
from analytics.studies.anomaly import fit_anomaly_model, score_segmentation
from ui import cache, cost
from ui.data import FitResult, ensure_dataset, features, inputs_key, prep_options, roles
from ui.segment_names import names_of
from ui.state import ANOMALIES, CHOSEN_K, SEGMENTATION, keep_widget
from ui.text import md
from ui.widgets import download_table

#: Flagged rows listed on the page at most (the download has every row).
MAX_LISTED = 1_000
#: The two ways to get a mixture: the Segments page's, or one fitted here.
SHARED, OWN = "segments", "own"

st.title("Anomalies")
st.write(
    "Find the customers who look like no one else: the model knows where customers are "
    "common and where they are rare, and flags the rarest. Each one comes with the "
    "columns that make it unusual."
)

ds = ensure_dataset()
feats = features()

# ---- which model -------------------------------------------------------------------------
current: FitResult | None = st.session_state[SEGMENTATION]
# The Segments page's fit counts only while it is on the current data, columns and preparation.
current_ok = current is not None and current.inputs_key == inputs_key(current.settings)
shared_ok = current_ok and current.seg.method == "gmm"
if shared_ok:
    seg_k = current.seg.k
    source = st.radio(
        "Model",
        [SHARED, OWN],
        format_func={
            SHARED: f"The Segments page's Gaussian mixture ({seg_k} segments)",
            OWN: "A Gaussian mixture with other settings, fitted here",
        }.get,
        key=keep_widget("w_anom_source", SHARED),
        horizontal=True,
        help="Using the Segments page's model keeps one analysis: the segments named "
        "here are the ones on the Segments page.",
    )
else:
    source = OWN
    if current_ok:
        st.info(
            f"The Segments page uses {METHOD_NAMES[current.seg.method]}, which does not say "
            "how common a customer is. Finding unusual customers needs a Gaussian mixture, "
            f"so one with the same number of segments ({current.seg.k}) and the same columns "
            "is fitted here. Choose *Gaussian mixture* on the Segments page to share one model.",
            icon=":material/info:",
        )
    else:
        st.caption(
            "No segments are fitted on the current data yet, so a Gaussian mixture is fitted "
            "here. Fit a Gaussian mixture on the Segments page to use the same model on both."
        )

default_k = current.seg.k if current_ok else int(st.session_state[CHOSEN_K])
error: str | None = None
if source == SHARED:
    settings = {"source": SHARED, "fit": current.inputs_key}
    key = inputs_key("anomalies", settings)
    stored: FitResult | None = st.session_state[ANOMALIES]
    if stored is None or stored.inputs_key != key:
        # No fit: the mixture's densities are read off the current model (fast).
        started = time.perf_counter()
        try:
            result = score_segmentation(current.seg)
        except InputError as exc:
            error = exc.message
        else:
            st.session_state[ANOMALIES] = FitResult(
                inputs_key=key, settings=settings, seg=result,
                seconds=time.perf_counter() - started, extra={"dataset": ds.name},
            )  # fmt: skip
    st.caption(
        f"Using the Gaussian mixture of the Segments page: {seg_k} segments, "
        f"{md(current.seg.summary['params']['covariance_type'])} shapes, "
        "with the segment names given there."
    )
    names = names_of(current)
else:
    names = {}
    c1, c2, c3, c4 = st.columns(4)
    k = c1.number_input(
        "Segments (k)", 1, MAX_K, step=1, key=keep_widget("w_anom_k", default_k),
        help="Components of the mixture; the Choose k page suggests a value.",
    )  # fmt: skip
    cov = c2.selectbox(
        "Segment shapes", COVARIANCE_TYPES, key=keep_widget("w_anom_cov", "full"),
        help="The covariance type. full: any oval; tied: one shared shape; diag: ovals "
        "along the columns' axes; spherical: round.",
    )  # fmt: skip
    n_init = c3.number_input(
        "Attempts", 1, 20, step=1, key=keep_widget("w_anom_n_init", 2),
        help="Independent starts (n_init); the best is kept.",
    )  # fmt: skip
    seed = c4.number_input("Random seed", 0, 2**31 - 1, step=1, key=keep_widget("w_anom_seed", 0))
    settings = {"source": OWN, "k": int(k), "covariance_type": cov, "n_init": int(n_init),
                "seed": int(seed)}  # fmt: skip
    key = inputs_key("anomalies", settings)
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
    stored = st.session_state[ANOMALIES]
    # First visit on a quick table: score with the default settings without a click.
    auto = (
        bool(feats)
        and cost.is_quick(expected)
        and not too_big
        and (stored is None or stored.settings.get("source") != OWN)
    )
    pressed = (
        st.button("Find unusual customers", type="primary", disabled=not feats, key="anom_fit")
        or auto
    )
    if pressed and too_big:
        error = too_big
    elif pressed:
        with st.status(f"Fitting a Gaussian mixture with {k} segments…", expanded=False) as status:
            started = time.perf_counter()
            try:
                result = fit_anomaly_model(
                    ds.df, int(k), columns=feats, random_state=int(seed), covariance_type=cov,
                    n_init=int(n_init), **prep_options(),
                )  # fmt: skip
            except InputError as exc:
                status.update(label="Nothing was scored", state="error")
                error = exc.message
            else:
                seconds = time.perf_counter() - started
                st.session_state[ANOMALIES] = FitResult(
                    inputs_key=key, settings=settings, seg=result, seconds=seconds,
                    extra={"dataset": ds.name},
                )  # fmt: skip
                status.update(label=f"Scored in {seconds:.1f} s", state="complete")
    if st.session_state[ANOMALIES] is None:
        st.info(
            "Choose the number of segments, then press **Find unusual customers** "
            f"(expected time: {cost.in_words(expected)})."
        )

if not feats:
    st.warning("No feature columns are chosen: pick some on the Data page.")
if error:
    st.error(md(error) + " Change the settings and try again.")

fit: FitResult | None = st.session_state[ANOMALIES]
if fit is None:
    st.stop()
if fit.inputs_key != key:
    st.info("The data, columns or settings changed since scoring; press the button to rescore.")
base = fit.seg
# The Segments page already showed its own fit's notes; repeat only the new ones here.
said = set(current.seg.warnings) if source == SHARED else set()
notes = [w for w in base.warnings if w not in said]
if notes:
    st.warning("  \n".join(md(w) for w in notes))

# ---- threshold ---------------------------------------------------------------------------
ld = base.scores["log_density"].to_numpy()
t1, t2 = st.columns([1, 3])
BY_SHARE, BY_CUTOFF = "share of customers", "typicality cutoff"
mode = t1.radio(
    "Flag by",
    [BY_SHARE, BY_CUTOFF],
    key=keep_widget("w_anom_mode", BY_SHARE),
    help="Typicality is the log density of the mixture at the customer: how crowded "
    "their neighbourhood is. Lower = more unusual.",
)
if mode == BY_SHARE:
    pct = t2.slider(
        "Share of customers to flag (%)", 0.1, 20.0, step=0.1, key=keep_widget("w_anom_pct", 1.0),
        help="The least typical customers, this share of all of them.",
    )  # fmt: skip
    res = base.recut(contamination=pct / 100.0)
else:
    lo, hi = float(np.floor(ld.min() * 100) / 100), float(np.ceil(np.median(ld) * 100) / 100)
    default = float(min(max(base.cutoff, lo), hi))
    cutoff = t2.slider(
        "Typicality cutoff", lo, hi, step=max((hi - lo) / 200, 0.01),
        key=keep_widget(f"w_anom_cut_{fit.inputs_key[:12]}", default),
        help="Customers at or below this log density are flagged.",
    )  # fmt: skip
    res = base.recut(threshold=float(cutoff))

flags = res.scores["is_anomaly"].to_numpy()
m1, m2, m3 = st.columns(3)
m1.metric("Customers", f"{len(ld):,}")
m2.metric(
    "Flagged", f"{int(flags.sum()):,}",
    help=f"{flags.mean():.1%} of all customers are at or below the cutoff.",
)  # fmt: skip
m3.metric(
    "Typicality cutoff", f"{res.cutoff:.2f}",
    help="Log density at the cutoff: customers at or below it are flagged.",
)  # fmt: skip
st.caption(f"{int(flags.sum()):,} of {len(ld):,} customers ({flags.mean():.1%}) are flagged.")

# ---- charts --------------------------------------------------------------------------------
h, mp = st.tabs(["How typical", "Map"])
with h:
    st.plotly_chart(density_histogram(ld, res.cutoff), key="anom_hist")
with mp:
    st.plotly_chart(
        cache.anomaly_map_cached(
            fit.inputs_key, float(res.cutoff), MAX_POINTS, tuple(sorted(names.items())), base
        ),
        key="anom_map",
    )
    st.caption("Hover a point to read why it is unusual.")

# ---- flagged rows --------------------------------------------------------------------------
st.subheader("Flagged customers")
table = res.table()
flagged = table[flags].sort_values("log_density")
if names:
    flagged = flagged.assign(
        nearest_segment_name=flagged["nearest_segment"].map(lambda j: names.get(int(j), ""))
    )
original = set(map(str, ds.df.columns))
ids = [c for c, role in roles().items() if role == "identifier" and c in original]
scores_shown = ["explanation", "nearest_segment"] + (["nearest_segment_name"] if names else [])
scores_shown += ["anomaly_score", "log_density"]
rest = [c for c in flagged.columns if c in original and c not in ids]
listed = flagged[ids + scores_shown + rest].head(MAX_LISTED)
# Wide enough for the longest explanation listed (about 7 pixels a character), so the
# reasons are read in full; the table scrolls sideways with the IDs pinned on the left.
longest = int(listed["explanation"].astype(str).str.len().max()) if len(listed) else 40
st.dataframe(
    listed,
    hide_index=True,
    column_config={
        **{
            c: st.column_config.Column(
                width=max(90, 9 * int(listed[c].astype(str).str.len().max() if len(listed) else 8)),
                pinned=True,
            )
            for c in ids
        },
        "explanation": st.column_config.TextColumn(
            "Why it is unusual", width=min(max(7 * longest, 300), 1400)
        ),
        "nearest_segment": st.column_config.NumberColumn(
            "Segment", width="small", help="The nearest segment."
        ),
        "nearest_segment_name": st.column_config.TextColumn("Segment name", width="medium"),
        "anomaly_score": st.column_config.NumberColumn(
            "Unusualness (0-100)",
            format="%.1f",
            help="Percentile: 100 = the least typical customer of all.",
        ),
        "log_density": st.column_config.NumberColumn(
            "Typicality", format="%.2f", help="Log density under the mixture (lower = rarer)."
        ),
    },  # fmt: skip
    key="anom_flagged",
)
if len(flagged) > MAX_LISTED:
    st.caption(f"Listing the {MAX_LISTED:,} most unusual of {len(flagged):,}; download them all.")

d1, d2 = st.columns(2)
download_table(
    "Every customer with their scores",
    lambda res=res: res.table(),
    "anomaly_scores",
    "anom_dl_all",
    where=d1,
    n_rows=len(res.scores),
)
download_table(
    f"The {len(flagged):,} flagged customers",
    lambda res=res: res.table()[res.scores["is_anomaly"].to_numpy()],
    "anomalies",
    "anom_dl_flagged",
    where=d2,
    disabled=len(flagged) == 0,
    n_rows=len(flagged),
)
