"""AppTest of the Compare methods page and of an Excel upload on the Data page."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import xlsxwriter
from sklearn.metrics import adjusted_rand_score

from analytics import to_xlsx_bytes
from tests.apptest_support import open_page
from ui.state import COMPARISON, DATASET, LOAD_ERROR


def test_compare_page_runs_on_the_sample_and_offers_the_disagreements() -> None:
    at = open_page("views/compare.py", title="Compare methods", timeout=180)
    res = at.session_state[COMPARISON]["result"]
    assert res.methods == ("kmeans", "fcm", "gmm") and res.k == 4
    pairs = next(d.value for d in at.dataframe if "adjusted_rand" in d.value.columns)
    labels = res.labels
    for (_, row), (a, b) in zip(pairs.iterrows(), [("kmeans", "fcm"), ("kmeans", "gmm"), ("fcm", "gmm")], strict=True):  # fmt: skip
        assert row["adjusted_rand"] == adjusted_rand_score(labels[a], labels[b])
    n_dis = int(res.disagree.sum())
    buttons = [b.label for b in at.get("download_button")]
    assert f"The {n_dis:,} customers placed differently (CSV)" in buttons
    assert buttons.count("Excel") == 2
    if n_dis:
        shown = next(d.value for d in at.dataframe if "methods_agree" in d.value.columns)
        assert len(shown) == min(n_dis, 200) and not shown["methods_agree"].any()
    # A new k re-runs the comparison.
    at.number_input(key="w_cmp_k").set_value(3)
    at.run()
    assert not at.exception
    assert at.session_state[COMPARISON]["result"].k == 3


def _book() -> bytes:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"strings_to_formulas": False})
    about = book.add_worksheet("About")
    about.write_row(0, 0, ["about"])
    about.write_row(1, 0, ["made for a test"])
    rng = np.random.default_rng(1)
    sheet = book.add_worksheet("Customers")
    sheet.write_row(0, 0, ["customer", "spend", "visits"])
    for i in range(40):
        sheet.write_row(i + 1, 0, [f"C{i:03d}", float(rng.gamma(2, 50)), int(rng.integers(1, 9))])
    book.close()
    return buf.getvalue()


def test_xlsx_upload_with_a_sheet_choice_and_a_broken_one() -> None:
    at = open_page()
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    at.file_uploader[0].set_value(("shop.xlsx", _book(), xlsx))
    at.run()
    assert not at.exception and not at.error
    ds = at.session_state[DATASET]
    assert ds.report["sheet"] == "About" and list(ds.df.columns) == ["about"]
    sheet = next(s for s in at.selectbox if s.label == "Sheet")
    assert sheet.options == ["About", "Customers"]
    sheet.set_value("Customers")
    at.run()
    assert not at.exception and not at.error
    ds = at.session_state[DATASET]
    assert ds.report["sheet"] == "Customers" and ds.df.shape == (40, 3)
    assert ds.df["spend"].dtype == np.float64 and ds.df["visits"].dtype == np.int64
    assert next(m.value for m in at.metric if m.label == "Sheet") == "Customers"
    # A damaged workbook: a plain error, the table stays loaded.
    broken = to_xlsx_bytes(pd.DataFrame({"a": range(50)}))[:1200]
    at.file_uploader[0].set_value(("broken.xlsx", broken, xlsx))
    at.run()
    assert not at.exception
    assert "damaged" in at.session_state[LOAD_ERROR]
    assert any("still in use" in e.value for e in at.error)
    assert at.session_state[DATASET].df.shape == (40, 3)
