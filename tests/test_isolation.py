"""Two sessions with files that agree on their first 10,000 rows each get their own results.

``st.cache_data`` is shared by every user and hashes only a sample of a large
DataFrame; our caches are keyed by a sha256 of all the uploaded bytes, so two
files that differ only after row 10,000 must never share an entry.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from tests.apptest_support import open_page
from ui.state import DATASET, SEGMENTATION


def _files() -> tuple[bytes, bytes]:
    rng = np.random.default_rng(11)
    n = 60_000
    base = pd.DataFrame(
        {
            "customer_id": [f"C{i:06d}" for i in range(n)],
            "spend": np.round(rng.gamma(2.0, 50.0, n), 2),
            "visits": rng.integers(0, 30, n),
        }
    )
    other = base.copy()
    # Same first 10,000 rows; the rest of the second file is shifted far away.
    other.loc[10_000:, "spend"] += 10_000.0
    return base.to_csv(index=False).encode(), other.to_csv(index=False).encode()


def _session(data: bytes, name: str) -> AppTest:
    at = open_page(timeout=180)
    at.file_uploader[0].set_value((name, data, "text/csv"))
    at.run()
    assert not at.exception and not at.error
    at.switch_page("views/segments.py")
    at.run()
    at.selectbox(key="w_seg_method").set_value("kmeans")
    at.number_input(key="w_seg_k").set_value(2)
    at.run()
    at.button(key="seg_fit").click()
    at.run()
    assert not at.exception and not at.error
    return at


def test_two_sessions_with_similar_files_get_their_own_results() -> None:
    a_bytes, b_bytes = _files()
    a = _session(a_bytes, "a.csv")
    b = _session(b_bytes, "b.csv")
    da, db = a.session_state[DATASET], b.session_state[DATASET]
    assert da.key != db.key
    assert da.df["spend"].iloc[-1] + 10_000.0 == db.df["spend"].iloc[-1]
    assert da.df["spend"].iloc[:10_000].equals(db.df["spend"].iloc[:10_000])
    sa, sb = a.session_state[SEGMENTATION].seg, b.session_state[SEGMENTATION].seg
    # Each fit saw its own data: centres in original units differ by the shift.
    assert sa.table()["spend"].max() < 5_000 < sb.table()["spend"].max()
    assert sb.centers["spend"].max() > 5_000 > sa.centers["spend"].max()
    # And session A's page still shows A's data after B ran.
    a.switch_page("views/data.py")
    a.run()
    assert a.session_state[DATASET].key == da.key
