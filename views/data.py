"""Data page: load a CSV or the sample, see what was read, choose features and preparation."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import cache
from ui.analysis import render_open_analysis
from ui.data import (
    MAX_UPLOAD_MB,
    SAMPLE_NAME,
    SAMPLE_PATH,
    ensure_dataset,
    features,
    load_bytes,
    set_dataset,
    sha256,
    try_load_upload,
)
from ui.state import FEATURES, LAST_UPLOAD, LOAD_ERROR, PREP, keep_widget

st.title("Data")
st.write(
    "Load your customer table (a CSV exported from any spreadsheet) or explore the sample. "
    "Then choose which columns describe your customers."
)

left, right = st.columns([3, 1])
with left:
    upload = st.file_uploader(
        "Upload a CSV file",
        type=["csv", "txt", "tsv"],
        help=f"Comma, semicolon, tab or pipe separated; any common encoding. Up to {MAX_UPLOAD_MB} MB.",
    )
with right:
    st.write("")
    if st.button("Use the sample data", help="About 2,000 made-up customers"):
        set_dataset(load_bytes(SAMPLE_PATH.read_bytes(), SAMPLE_NAME, is_sample=True))
        st.session_state[LAST_UPLOAD] = None

if upload is not None:
    data = upload.getvalue()
    digest = sha256(data)
    # Re-read only when a different file arrives; reruns keep what is loaded.
    if st.session_state[LAST_UPLOAD] != digest:
        st.session_state[LAST_UPLOAD] = digest
        with st.spinner(f"Reading {upload.name}…"):
            try_load_upload(data, upload.name)

if st.session_state[LOAD_ERROR]:
    st.error(st.session_state[LOAD_ERROR] + " The previously loaded data is still in use.")
render_open_analysis()  # open a saved analysis; restores a waiting one when its data arrives

ds = ensure_dataset()
df = ds.df
rep = ds.report

st.subheader(ds.name)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Rows", f"{len(df):,}")
c2.metric("Columns", f"{df.shape[1]:,}")
c3.metric("Encoding", str(rep.get("encoding", "?")))
delim = rep.get("delimiter_name") or repr(rep.get("delimiter", "?"))
c4.metric("Delimiter", str(delim))
extras = []
if rep.get("decimal") and rep.get("decimal") != ".":
    extras.append(f"decimal comma ('{rep['decimal']}')")
if rep.get("thousands"):
    extras.append(f"thousands separator '{rep['thousands']}'")
if extras:
    st.caption("Detected " + " and ".join(extras) + ".")
for w in rep.get("warnings") or []:
    st.warning(w)

st.dataframe(df.head(200), height=260)
st.caption(f"Showing the first {min(200, len(df))} of {len(df):,} rows.")

prof = cache.profile_cached(ds.key, df)
if prof.attrs.get("capped"):
    st.warning(
        f"The file has {df.shape[1]:,} columns; only the first {len(prof):,} are profiled and offered."
    )

tab_roles, tab_missing, tab_stats = st.tabs(
    ["Column roles", "Missing values", "Summary statistics"]
)
with tab_roles:
    st.dataframe(
        prof[["column", "role", "use", "reason", "missing", "distinct"]],
        hide_index=True,
        column_config={"use": st.column_config.CheckboxColumn("used by default")},
    )
with tab_missing:
    miss = pd.DataFrame(
        {"missing": df.isna().sum(), "share": (df.isna().mean() * 100).round(1)}
    ).rename_axis("column")
    st.dataframe(miss, column_config={"share": st.column_config.NumberColumn("share %")})
with tab_stats:
    stats = cache.describe_cached(ds.key, df)
    if stats.empty:
        st.info("No numeric columns to summarise.")
    else:
        st.dataframe(stats)

st.subheader("Features and preparation")
options = prof["column"].tolist()
chosen = st.multiselect(
    "Columns that describe customers (features)",
    options,
    key=keep_widget(f"w_features_{ds.key[:12]}", features()),
    help="IDs, dates, constant and mostly empty columns are left out by default; the table above says why.",
)
st.session_state[FEATURES] = chosen
if not chosen:
    st.warning("Choose at least one column to segment on.")

prep = st.session_state[PREP]
numeric_chosen = [c for c in chosen if c in set(prof.loc[prof["role"] == "numeric", "column"])]
p1, p2, p3 = st.columns(3)
scaling = p1.radio(
    "Scaling",
    ["standard", "robust", "none"],
    key=keep_widget("w_scaling", prep["scaling"]),
    help="Standard: z-scores. Robust: median and interquartile range (less swayed by extremes).",
)
impute = p2.radio(
    "Fill missing numbers with",
    ["median", "mean"],
    key=keep_widget("w_impute", prep["impute"]),
    help="Missing categories are filled with the most frequent value.",
)
log_cols = p3.multiselect(
    "Log-transform (skewed amounts)",
    numeric_chosen,
    key=keep_widget(
        f"w_log_{ds.key[:12]}", [c for c in prep["log_transform"] if c in numeric_chosen]
    ),
    help="log(1 + x) for right-skewed, non-negative amounts such as spend or income.",
)
st.session_state[PREP] = {"scaling": scaling, "impute": impute, "log_transform": log_cols}
st.success(
    f"Ready: {len(chosen)} feature(s), {scaling} scaling. Go to **Choose k** or **Segments**."
)
