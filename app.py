"""Router of the segmentation workbench: page config, navigation, shared sidebar."""

from __future__ import annotations

import os

# One BLAS thread per process: OpenBLAS's spinning worker threads make small matrix
# products (Gaussian mixtures do many) up to 100x slower when sessions share 2 cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import streamlit as st

from analytics.parallel import limit_blas_threads
from ui.analysis import keep_in_url, render_sidebar_notice, restore_from_url
from ui.auth import require_login
from ui.data import ensure_dataset, features
from ui.state import NOTICE, SEGMENTATION, init_state
from ui.text import md


@st.cache_resource
def _limit_blas_once() -> bool:
    """Streamlit loaded numpy before this script ran, so the variables above came too
    late for this process: limit the already-loaded BLAS library directly, once per
    process (the threading policy is set here, at the edge, not inside analytics)."""
    limit_blas_threads(1)
    return True


_limit_blas_once()

st.set_page_config(
    page_title="Segmentation workbench", page_icon=":material/explore:", layout="wide"
)
# With [auth] in .streamlit/secrets.toml, nothing below runs until the visitor logs in.
require_login()
init_state()
restore_from_url()  # a reload keeps the analysis (?analysis=...), never silently the sample
ensure_dataset()

PAGES = [
    st.Page("views/data.py", title="Data", icon=":material/table_chart:", default=True),
    st.Page("views/choose_k.py", title="Choose k", icon=":material/query_stats:"),
    st.Page("views/segments.py", title="Segments", icon=":material/category:"),
    st.Page("views/compare.py", title="Compare methods", icon=":material/compare_arrows:"),
    st.Page("views/anomalies.py", title="Anomalies", icon=":material/warning:"),
    st.Page("views/synthetic.py", title="Synthetic data", icon=":material/science:"),
    st.Page("views/image.py", title="Image segmentation", icon=":material/image:"),
]
nav = st.navigation(PAGES)


def _sidebar() -> None:
    """What is loaded and fitted now, with the latest reset notice."""
    ds = ensure_dataset()
    st.caption("Current data")
    st.markdown(f"**{md(ds.name)}**  \n{len(ds.df):,} rows · {len(features())} features")
    fit = st.session_state.get(SEGMENTATION)
    if fit is not None:
        s = fit.seg.summary
        st.caption("Current segments")
        st.markdown(f"{s['method_name']}, {s['k']} segments")
    notice = st.session_state.get(NOTICE)
    if notice:
        st.info(notice, icon=":material/restart_alt:")


# Drawn before the page (so it is there even when the page stops early with st.stop())
# and drawn again into the same place after it, so a fit or a change of columns made on
# this run shows at once. Uploads are read in a callback, before either drawing.
side = st.sidebar.empty()
with side.container():
    _sidebar()
analysis_notice = st.sidebar.empty()  # filled after the page ran (it may restore the analysis)
try:
    nav.run()
finally:  # also when a page ends early with st.stop()
    keep_in_url()
    with side.container():
        _sidebar()
    render_sidebar_notice(analysis_notice)
    st.session_state[NOTICE] = None  # said once the page has run to its end
