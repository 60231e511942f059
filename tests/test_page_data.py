"""AppTest of the Data page: first load on the sample, uploads good and bad, feature choice."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics.io import read_table
from tests.apptest_support import open_page
from ui.data import SAMPLE_PATH
from ui.state import DATASET, FEATURES, PREP

GOOD = (
    "kunden_id;stadt;umsatz;besuche\n"
    + "\n".join(
        f"K{i:04d};{'Zürich' if i % 3 else 'Genève'};{100 + i},{i % 10};{i % 7}" for i in range(60)
    )
    + "\n"
).encode("utf-8")


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.fixture
def at() -> AppTest:
    return open_page(timeout=90)


def test_first_load_shows_the_sample(at: AppTest) -> None:
    sample = read_table(SAMPLE_PATH)
    assert at.title[0].value == "Data"
    assert metric(at, "Rows") == f"{len(sample):,}"
    assert metric(at, "Columns") == str(sample.shape[1])
    assert at.session_state[DATASET].is_sample
    # The roles table explains why customer_id is not a feature.
    roles = at.dataframe[1].value
    row = roles.set_index("column").loc["customer_id"]
    assert row["role"] == "identifier" and not row["use"]
    assert "customer_id" not in at.session_state[FEATURES]


def test_good_upload_replaces_the_data_and_reports_the_dialect(at: AppTest) -> None:
    at.file_uploader[0].set_value(("kunden.csv", GOOD, "text/csv"))
    at.run()
    assert not at.exception
    assert not at.error
    assert metric(at, "Rows") == "60"
    assert metric(at, "Delimiter").lower().startswith("semicolon")
    df = at.session_state[DATASET].df
    assert df["umsatz"].dtype.kind == "f"  # decimal commas became numbers
    assert df["umsatz"].iloc[1] == pytest.approx(101.1)
    assert set(df["stadt"]) == {"Zürich", "Genève"}


def test_bad_upload_shows_a_plain_error_and_keeps_the_previous_data(at: AppTest) -> None:
    rows_before = metric(at, "Rows")
    at.file_uploader[0].set_value(("sales.csv", gzip.compress(b"a,b\n1,2\n"), "text/csv"))
    at.run()
    assert not at.exception
    assert at.error, "a bad file must produce st.error"
    msg = at.error[0].value
    assert "sales.csv" in msg and "Traceback" not in msg
    assert metric(at, "Rows") == rows_before
    assert at.session_state[DATASET].is_sample


def test_feature_and_preparation_choices_persist_across_pages(at: AppTest) -> None:
    ms = at.multiselect[0]
    keep = ms.value[:2]
    ms.set_value(keep)
    at.radio[0].set_value("robust")
    at.run()
    assert at.session_state[FEATURES] == keep
    assert at.session_state[PREP]["scaling"] == "robust"
    at.switch_page("views/segments.py")
    at.run()
    at.switch_page("views/data.py")
    at.run()
    assert not at.exception
    assert at.multiselect[0].value == keep
    assert at.radio[0].value == "robust"


def test_sample_button_restores_the_sample(at: AppTest) -> None:
    at.file_uploader[0].set_value(("kunden.csv", GOOD, "text/csv"))
    at.run()
    at.file_uploader[0].clear()
    at.button[0].click()
    at.run()
    assert at.session_state[DATASET].is_sample
    assert metric(at, "Rows") == f"{len(pd.read_csv(SAMPLE_PATH)):,}"
