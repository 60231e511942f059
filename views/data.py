"""Data page: load a CSV or the sample, see what was read, choose features and preparation."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics.io import WORKBOOK_SUFFIXES
from ui import cache
from ui.analysis import render_open_analysis
from ui.data import (
    MAX_UPLOAD_MB,
    SAMPLE_NAME,
    SAMPLE_PATH,
    ensure_dataset,
    features,
    load_bytes,
    reset_results,
    set_dataset,
    sha256,
    try_load_upload,
)
from ui.rfm import rfm_section
from ui.state import FEATURES, LAST_UPLOAD, LOAD_ERROR, PREP, keep_widget
from ui.text import md

UPLOAD = "w_upload"


def _take_upload() -> None:
    """Read a newly chosen file before the page runs, so the sidebar and every page of
    this run already show it (a callback runs ahead of the script)."""
    upload = st.session_state.get(UPLOAD)
    if upload is None:
        return
    data = upload.getvalue()
    digest = sha256(data)
    # Re-read only when a different file arrives; reruns keep what is loaded.
    if st.session_state[LAST_UPLOAD] != digest:
        st.session_state[LAST_UPLOAD] = digest
        try_load_upload(data, upload.name)


def _use_sample() -> None:
    set_dataset(load_bytes(SAMPLE_PATH.read_bytes(), SAMPLE_NAME, is_sample=True))
    st.session_state[LAST_UPLOAD] = None


st.title("Data")
st.write(
    "Load your customer table (a CSV or an Excel workbook) or explore the sample. "
    "Then choose which columns describe your customers."
)

left, right = st.columns([3, 1])
with left:
    upload = st.file_uploader(
        "Upload a CSV file or an Excel workbook",
        type=["csv", "txt", "tsv", *(s.lstrip(".") for s in WORKBOOK_SUFFIXES)],
        key=UPLOAD,
        on_change=_take_upload,
        help="CSV: comma, semicolon, tab or pipe separated; any common encoding. "
        f"Workbooks: .xlsx, .xlsm, .xls or .ods, first sheet unless you choose another. "
        f"Up to {MAX_UPLOAD_MB} MB.",
    )
with right:
    st.write("")
    st.button("Use the sample data", help="About 2,000 made-up customers", on_click=_use_sample)

_take_upload()  # a file already chosen before this page was drawn (the callback missed it)

ds = ensure_dataset()
data = upload.getvalue() if upload is not None else b""
digest = sha256(data) if upload is not None else ""
sheets = ds.report.get("sheets") or []
same_file = upload is not None and ds.report.get("filename") == upload.name and not ds.is_sample
if same_file and len(sheets) > 1 and st.session_state[LAST_UPLOAD] == digest:
    chosen_sheet = st.selectbox(
        "Sheet",
        sheets,
        index=sheets.index(ds.report["sheet"]),
        key=f"w_sheet_{digest[:12]}",
        help="The workbook has several sheets; the table is read from this one.",
    )
    if chosen_sheet != ds.report["sheet"]:
        with st.spinner(f"Reading the sheet {chosen_sheet!r}…"):
            try_load_upload(data, upload.name, chosen_sheet)
        ds = ensure_dataset()

if st.session_state[LOAD_ERROR]:
    st.error(st.session_state[LOAD_ERROR] + " The previously loaded data is still in use.")
render_open_analysis()  # open a saved analysis; restores a waiting one when its data arrives

df = ds.df
rep = ds.report

st.subheader(md(ds.name))
c1, c2, c3, c4 = st.columns(4)
c1.metric("Rows", f"{len(df):,}")
c2.metric("Columns", f"{df.shape[1]:,}")
if rep.get("sheets"):
    kinds = {"xlsx": "Excel", "xls": "Excel 97", "ods": "OpenDocument"}
    c3.metric("Format", kinds.get(rep.get("format"), "Workbook"))
    c4.metric("Sheet", str(rep.get("sheet")))
else:
    c3.metric("Encoding", str(rep.get("encoding", "?")))
    delim = rep.get("delimiter_name") or repr(rep.get("delimiter", "?"))
    c4.metric("Delimiter", str(delim))
extras = []
if rep.get("decimal") and rep.get("decimal") != ".":
    extras.append(f"decimal comma ('{md(rep['decimal'])}')")
if rep.get("thousands"):
    extras.append(f"thousands separator '{md(rep['thousands'])}'")
if extras:
    st.caption("Detected " + " and ".join(extras) + ".")
for w in rep.get("warnings") or []:
    st.warning(md(w))

st.dataframe(df.head(200), height=260)
st.caption(f"Showing the first {min(200, len(df))} of {len(df):,} rows.")
rfm_section(ds)  # a purchase log: offer one row per customer; an RFM table: the way back

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
if chosen != features():
    reset_results(
        "The feature columns changed: the segments, the comparison of k, the anomalies "
        "and the synthetic rows were cleared and are worked out again from the new columns."
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
    help="How columns with different units are put on one footing. Standard: subtract "
    "the mean, divide by the standard deviation (z-scores). Robust: median and "
    "interquartile range, less swayed by extreme values. None: as they are.",
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
new_prep = {"scaling": scaling, "impute": impute, "log_transform": log_cols}
if new_prep != {**prep, "log_transform": list(prep.get("log_transform") or [])}:
    reset_results(
        "The preparation changed: the segments, the comparison of k, the anomalies and "
        "the synthetic rows were cleared and are worked out again with the new preparation."
    )
st.session_state[PREP] = new_prep
st.success(
    f"Ready: {len(chosen)} {'column' if len(chosen) == 1 else 'columns'}, {scaling} scaling. "
    "Go to **Choose k** or **Segments**."
)
