"""AppTest of the Data page's purchase-log flow: recognise the log, build one row per
customer (RFM), see what was left out, segment customers, go back to the log."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from analytics import read_table, rfm
from bench.case_rfm import LOG_COLUMNS, make_log
from tests.apptest_support import open_page
from ui.state import DATASET, FEATURES, RFM_SOURCE

BUILD = "Build one row per customer (RFM)"
BACK = "Back to the transaction log"
LOG = make_log(3_000, random_state=11)
LOG_CSV = LOG.to_csv(index=False).encode("utf-8")


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def selectbox(at: AppTest, label: str):
    return next(s for s in at.selectbox if s.label == label)


@pytest.fixture
def at() -> AppTest:
    at = open_page(timeout=120)
    at.file_uploader[0].set_value(("orders.csv", LOG_CSV, "text/csv"))
    at.run()
    assert not at.exception
    return at


def test_a_purchase_log_is_recognised_and_its_columns_preselected(at: AppTest) -> None:
    assert any("purchase log" in i.value for i in at.info)
    assert selectbox(at, "Customer").value == "CustomerID"
    assert selectbox(at, "Purchase date").value == "InvoiceDate"
    assert selectbox(at, "Quantity").value == "Quantity"
    assert selectbox(at, "Price per unit").value == "UnitPrice"
    assert selectbox(at, "Order (invoice) number").value == "InvoiceNo"


def test_the_sample_customer_table_is_not_offered_rfm() -> None:
    at = open_page(timeout=120)
    assert not any("purchase log" in i.value for i in at.info)
    assert not any(b.label == BUILD for b in at.button)


def test_build_go_on_with_customers_and_go_back(at: AppTest) -> None:
    log_rows = len(at.session_state[DATASET].df)
    button(at, BUILD).click()
    at.run()
    assert not at.exception and not at.error
    ds = at.session_state[DATASET]
    expected = rfm(read_table(LOG_CSV), **LOG_COLUMNS)
    assert len(ds.df) == len(expected)
    assert ds.df["CustomerID"].tolist() == expected["CustomerID"].tolist()
    assert (ds.df["monetary"].to_numpy() == expected["monetary"].to_numpy()).all()
    # The page now shows the customer table and says where it came from and what was dropped.
    assert any("One row per customer" in s.value for s in at.success)
    shown = " ".join(m.value for m in at.markdown)
    n_missing = int(LOG["CustomerID"].isna().sum())
    assert f"{n_missing:,} line(s) left out: no customer" in shown
    assert "returns or cancellations" in shown
    assert next(m.value for m in at.metric if m.label == "Rows") == f"{len(expected):,}"
    # Features by default: the five measures (not the ID, the scores or the dates).
    feats = at.session_state[FEATURES]
    for c in ("recency_days", "frequency", "monetary", "tenure_days", "avg_order_value"):
        assert c in feats
    assert not {"CustomerID", "r_score", "rfm_group", "first_purchase"} & set(feats)
    # Segments work on the customer table.
    at.switch_page("views/segments.py")
    at.run()
    assert not at.exception
    at.switch_page("views/data.py")
    at.run()
    button(at, BACK).click()
    at.run()
    assert not at.exception
    back = at.session_state[DATASET]
    assert len(back.df) == log_rows and back.name == "orders.csv"
    assert any("purchase log" in i.value for i in at.info)
    assert at.session_state[RFM_SOURCE] is not None  # the way forward is a cached rebuild


def test_a_bad_choice_shows_an_error_and_keeps_the_log(at: AppTest) -> None:
    at.date_input[0].set_value(dt.date(2011, 1, 1))  # before the log's last purchases
    at.run()
    button(at, BUILD).click()
    at.run()
    assert not at.exception
    assert at.error and "before some lines" in at.error[0].value
    assert "still loaded" in at.error[0].value
    assert len(at.session_state[DATASET].df) == len(LOG)
