"""Router of the segmentation workbench: page config, navigation, shared sidebar."""

from __future__ import annotations

import os

# One BLAS thread per process: OpenBLAS's spinning worker threads make small matrix
# products (Gaussian mixtures do many) up to 100x slower when sessions share 2 cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import streamlit as st

from analytics.parallel import limit_blas_threads
from ui.auth import require_login
from ui.data import ensure_dataset, features
from ui.state import SEGMENTATION, init_state


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
dataset = ensure_dataset()

PAGES = [
    st.Page("views/data.py", title="Data", icon=":material/table_chart:", default=True),
    st.Page("views/choose_k.py", title="Choose k", icon=":material/query_stats:"),
    st.Page("views/segments.py", title="Segments", icon=":material/category:"),
    st.Page("views/anomalies.py", title="Anomalies", icon=":material/warning:"),
    st.Page("views/synthetic.py", title="Synthetic data", icon=":material/science:"),
    st.Page("views/image.py", title="Image segmentation", icon=":material/image:"),
]
nav = st.navigation(PAGES)

with st.sidebar:
    st.caption("Current data")
    st.markdown(f"**{dataset.name}**  \n{len(dataset.df):,} rows · {len(features())} features")
    fit = st.session_state.get(SEGMENTATION)
    if fit is not None:
        s = fit.seg.summary
        st.caption("Latest segmentation")
        st.markdown(f"{s['method_name']}, k = {s['k']}")

nav.run()
