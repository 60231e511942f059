"""AppTest of the Synthetic data page: first load, generating from the sample, segments, download."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_support import open_page
from ui import cost
from ui.state import DATASET, FEATURES, SYNTHETIC


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.fixture
def at() -> AppTest:
    return open_page("views/synthetic.py", "Synthetic data", timeout=90)


def generate(at: AppTest, n: int = 500, k: int | str = 3) -> AppTest:
    at.number_input(key="w_syn_n").set_value(n)
    at.selectbox(key="w_syn_k").set_value(k)
    at.run()
    at.button(key="syn_go").click()
    at.run()
    assert not at.exception
    return at


def test_first_load_on_the_sample_generates_without_a_click(at: AppTest) -> None:
    assert at.session_state[SYNTHETIC] is not None
    assert len(at.get("plotly_chart")) >= 1


def test_first_load_of_a_slow_table_asks_to_generate(monkeypatch) -> None:
    monkeypatch.setattr(cost, "QUICK_SECONDS", -1.0)  # pretend the table is big
    at = open_page("views/synthetic.py", "Synthetic data")
    assert at.session_state[SYNTHETIC] is None
    assert any("Generate" in i.value and "expected time" in i.value for i in at.info)
    assert not at.get("download_button")


def test_generating_from_the_sample(at: AppTest) -> None:
    generate(at)
    assert not at.error
    real = at.session_state[DATASET].df
    sample = at.session_state[SYNTHETIC].extra["sample"]
    assert len(sample) == 500
    assert list(sample.columns) == list(real.columns)
    assert (sample.dtypes == real.dtypes).all()
    assert metric(at, "Rows generated") == "500"
    assert metric(at, "Segments") == "3"
    assert len(at.get("plotly_chart")) == 4  # histograms, scatter, correlations, distances
    tables = [d.value for d in at.dataframe]
    privacy = next(t for t in tables if "measure" in t.columns and "note" in t.columns)
    near = privacy.set_index("measure").at["near-copies", "value"]
    assert near < 0.05 * 500
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download the 500 synthetic rows (CSV)", "Excel"]


def test_sampling_from_one_segment_reuses_the_fit(at: AppTest) -> None:
    generate(at, n=300)
    fitted = at.session_state[SYNTHETIC].seg
    at.multiselect(key="w_syn_segments_3").set_value([2])
    at.run()
    at.button(key="syn_go").click()
    at.run()
    assert not at.exception
    state = at.session_state[SYNTHETIC]
    assert state.seg is fitted  # same settings: no refit
    assert set(state.extra["sample"]["segment"]) == {2}


def test_bad_setting_shows_a_plain_error(at: AppTest) -> None:
    # More components than distinct rows cannot be fitted on a tiny feature set.
    at.session_state[FEATURES] = ["channel"]
    at.run()
    generate(at, n=10, k=20)
    assert at.error
    assert "Traceback" not in at.error[0].value
