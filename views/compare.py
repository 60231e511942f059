"""Compare methods page: k-means, fuzzy c-means and a Gaussian mixture side by side."""

from __future__ import annotations

import time

import streamlit as st

from analytics import InputError, compare_methods
from analytics.model.fit import MAX_K, METHOD_NAMES, METHODS
from ui import cost
from ui.data import ensure_dataset, features, inputs_key, prep_options
from ui.state import CHOSEN_K, COMPARISON, SEG_SETTINGS, keep_widget
from ui.widgets import download_table, file_stem

st.title("Compare methods")
st.write(
    "Fit k-means, fuzzy c-means and a Gaussian mixture on the same data and preparation, "
    "see how far they agree, and find the customers they place differently."
)

ds = ensure_dataset()
feats = features()
saved = st.session_state[SEG_SETTINGS]

c1, c2 = st.columns([1, 3])
k = c1.number_input(
    "Segments (k)",
    min_value=2,
    max_value=MAX_K,
    step=1,
    key=keep_widget("w_cmp_k", max(2, int(st.session_state[CHOSEN_K]))),
    help="The same number of segments for every method (the Segments page's k).",
)
seed = int(saved["seed"])
settings = {"k": int(k), "seed": seed, "m": float(saved["m"]), "cov": saved["covariance_type"]}
key = inputs_key("compare", settings)
expected = cost.expected_seconds(len(ds.df), len(feats), int(k), starts=3 * 4)
c2.caption(
    f"Fuzzifier m = {settings['m']:g} and the '{settings['cov']}' covariance type, as on "
    f"the Segments page; random seed {seed}. Expected time: {cost.in_words(expected)}."
)

done = st.session_state[COMPARISON]
fresh = done is not None and done["key"] == key
auto = bool(feats) and not fresh and cost.is_quick(expected)
error: str | None = None
if st.button("Compare", type="primary", disabled=not feats, key="cmp_run") or auto:
    with st.spinner(f"Fitting three methods with {k} segments…"):
        started = time.perf_counter()
        try:
            result = compare_methods(
                ds.df,
                int(k),
                METHODS,
                columns=feats,
                random_state=seed,
                m=settings["m"],
                covariance_type=settings["cov"],
                **prep_options(),
            )
        except InputError as exc:
            error = exc.message
        else:
            done = {"key": key, "result": result, "seconds": time.perf_counter() - started}
            st.session_state[COMPARISON] = done
            fresh = True
if not feats:
    st.warning("No feature columns are chosen: pick some on the Data page.")
if error:
    st.error(error + " The data stays loaded; change the settings and press Compare again.")
if done is None:
    st.info("Press **Compare** to fit the three methods.")
    st.stop()
if not fresh:
    st.info(
        "The data, features, preparation or k changed since this comparison. Press "
        "**Compare** to run it again; the results below are from the previous choices."
    )

res = done["result"]
n = len(res.disagree)
n_dis = int(res.disagree.sum())
m1, m2, m3 = st.columns(3)
m1.metric("Customers", f"{n:,}")
m2.metric(
    "Placed alike by all three",
    f"{1 - n_dis / n:.1%}",
    help="Share of customers whose segments match under every method, once segment "
    "numbers are lined up (each method's segments are matched to k-means' segments so "
    "that as many customers as possible fall in matched segments: the Hungarian assignment).",
)
m3.metric("Worst pairwise agreement", f"{res.agreement.to_numpy().min():.2f}",
          help="Lowest adjusted Rand index of any pair: 1 = the same segments, "
          "about 0 = no more alike than chance.")  # fmt: skip
for w in res.warnings:
    st.caption(w)

st.subheader("Agreement between each pair")
pairs = res.pairs.assign(
    method_a=res.pairs["method_a"].map(METHOD_NAMES),
    method_b=res.pairs["method_b"].map(METHOD_NAMES),
)
st.dataframe(
    pairs,
    hide_index=True,
    column_config={
        "method_a": "Method",
        "method_b": "Compared with",
        "adjusted_rand": st.column_config.NumberColumn(
            "Agreement (adjusted Rand)",
            format="%.3f",
            help="1 = the same segments; about 0 = no more alike than chance.",
        ),
        "same_segment": st.column_config.NumberColumn(
            "Customers in matched segments", format="percent"
        ),
    },
    key="cmp_pairs",
)

st.subheader("Where the segments go")
st.caption(
    "Customers by the segment each method gives them. Columns are ordered to line up "
    "with the rows, so the diagonal counts the customers both methods place alike."
)
names = [f"{METHOD_NAMES[a]} vs {METHOD_NAMES[b]}" for a, b in zip(res.pairs["method_a"], res.pairs["method_b"], strict=True)]  # fmt: skip
for tab, (a, b) in zip(st.tabs(names), zip(res.pairs["method_a"], res.pairs["method_b"], strict=True), strict=True):  # fmt: skip
    with tab:
        table = res.crosstab(a, b)
        table.columns = [f"{METHOD_NAMES[b]} {j}" for j in table.columns]
        table.index = [f"{METHOD_NAMES[a]} {i}" for i in table.index]
        st.dataframe(table, key=f"cmp_cross_{a}_{b}")

st.subheader("Customers the methods place differently")
if n_dis == 0:
    st.success("All three methods put every customer in matching segments.")
else:
    dis = res.disagreements()
    st.write(
        f"{n_dis:,} customer(s) ({n_dis / n:.1%}) are placed differently by at least one method."
    )
    st.dataframe(dis.head(200), key="cmp_disagree")
    if n_dis > 200:
        st.caption(f"Showing the first 200 of {n_dis:,}; download them all.")
download_table(
    f"The {n_dis:,} customers placed differently",
    lambda res=res: res.disagreements(),
    f"{file_stem(ds.name)}_methods_disagree_k{res.k}",
    "cmp_dl_disagree",
    disabled=n_dis == 0,
    n_rows=n_dis,
    help="Every original column, each method's segment (its own numbering) and whether they agree.",
)
download_table(
    "Every customer with the three segments",
    lambda res=res: res.table(),
    f"{file_stem(ds.name)}_methods_k{res.k}",
    "cmp_dl_all",
    n_rows=n,
)
st.caption(f"Compared in {done['seconds']:.1f} s.")
