"""AppTest of the Anomalies page: first load, scoring the sample, moving the cutoff, downloads."""

from __future__ import annotations

import math

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_support import open_page
from ui import cost
from ui.state import ANOMALIES, DATASET


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.fixture
def at() -> AppTest:
    return open_page("views/anomalies.py", "Anomalies", timeout=90)


def score(at: AppTest, k: int = 4) -> AppTest:
    at.number_input(key="w_anom_k").set_value(k)
    at.run()
    at.button(key="anom_fit").click()
    at.run()
    assert not at.exception
    return at


def test_first_load_on_the_sample_scores_without_a_click(at: AppTest) -> None:
    assert at.session_state[ANOMALIES] is not None
    assert len(at.get("plotly_chart")) >= 1


def test_first_load_of_a_slow_table_asks_to_score(monkeypatch) -> None:
    monkeypatch.setattr(cost, "QUICK_SECONDS", -1.0)  # pretend the table is big
    at = open_page("views/anomalies.py", "Anomalies")
    assert at.session_state[ANOMALIES] is None
    assert any("Find unusual customers" in i.value and "expected time" in i.value for i in at.info)
    assert not at.get("download_button")


def test_scoring_the_sample_flags_the_lowest_share(at: AppTest) -> None:
    score(at)
    assert not at.error
    n = len(at.session_state[DATASET].df)
    result = at.session_state[ANOMALIES].seg
    assert result.segmentation.k == 4
    assert metric(at, "Customers") == f"{n:,}"
    assert metric(at, "Flagged") == f"{math.ceil(0.01 * n):,}"
    assert len(at.get("plotly_chart")) == 2  # histogram and map
    flagged = next(d.value for d in at.dataframe if "explanation" in d.value.columns)
    assert len(flagged) == math.ceil(0.01 * n)
    assert flagged["explanation"].str.contains("sd").all()
    labels = [b.label for b in at.get("download_button")]
    assert any(lab.startswith("Every customer with their scores") for lab in labels)


def test_moving_the_share_and_the_cutoff(at: AppTest) -> None:
    score(at)
    n = len(at.session_state[DATASET].df)
    at.slider(key="w_anom_pct").set_value(5.0)
    at.run()
    assert not at.exception
    assert metric(at, "Flagged") == f"{math.ceil(0.05 * n):,}"
    at.radio(key="w_anom_mode").set_value("typicality cutoff")
    at.run()
    assert not at.exception
    slider = at.slider[0]
    slider.set_value(slider.max)  # the median: about half the rows
    at.run()
    flagged = int(metric(at, "Flagged").replace(",", ""))
    assert 0.45 * n < flagged < 0.55 * n
    # The scored result in state is never modified by moving the cutoff.
    assert at.session_state[ANOMALIES].seg.n_anomalies == math.ceil(0.01 * n)
