"""AppTest of the Choose k page: first load, run a sweep, see every view, use the k."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from analytics.studies.choose_k import SWEEP_STARTS
from tests.apptest_support import open_page
from ui import cost
from ui.state import CHOSEN_K, SEG_SETTINGS, SWEEP, SWEEP_JOB


@pytest.fixture
def at() -> AppTest:
    return open_page("views/choose_k.py", "Choose k", timeout=120)


def run_sweep(at: AppTest, method: str, lo: int = 2, hi: int = 6) -> AppTest:
    at.selectbox(key="w_k_method").set_value(method)
    at.slider(key="w_k_range").set_value((lo, hi))
    at.run()
    at.button(key="k_run").click()
    at.run()
    assert not at.exception
    assert not at.error
    return at


def test_first_load_on_the_sample_shows_the_sweep(at: AppTest) -> None:
    # The sample is quick, so the default sweep runs without a click (issue 14).
    assert at.session_state[SWEEP] is not None
    assert at.session_state[SWEEP_JOB] is None
    assert len(at.get("plotly_chart")) == 3


def test_same_sweep_twice_then_reload(at: AppTest) -> None:
    # The second run of the same settings is a cache hit; it used to replay a progress
    # bar created outside the cached function (CacheReplayClosureError).
    for _ in range(2):
        run_sweep(at, "gmm", 2, 5)
        assert len(at.get("plotly_chart")) == 3
    reloaded = open_page("views/choose_k.py", "Choose k")
    run_sweep(reloaded, "gmm", 2, 5)
    assert len(reloaded.get("plotly_chart")) == 3
    assert reloaded.session_state[SWEEP]["sweep"].table.equals(
        at.session_state[SWEEP]["sweep"].table
    )


def test_slow_sweep_runs_one_k_per_run_and_stops(at: AppTest, monkeypatch) -> None:
    # Pretend every sweep is slow: one k per run, a Stop button, the rows so far shown.
    monkeypatch.setattr(cost, "QUICK_SECONDS", -1.0)
    at.selectbox(key="w_k_method").set_value("kmeans")
    at.slider(key="w_k_range").set_value((2, 7))
    at.run()
    assert any("Expected time" in c.value for c in at.caption)
    at.button(key="k_run").click()
    at.run()
    at.run()
    assert not at.exception
    job = at.session_state[SWEEP_JOB]
    assert job is not None and job.stepwise and len(job.rows) == 2
    assert len(at.dataframe) >= 1  # the partial table
    at.button(key="k_stop").click()
    at.run()
    assert not at.exception
    assert at.session_state[SWEEP_JOB] is None
    sweep = at.session_state[SWEEP]["sweep"]
    assert sweep.stopped and sweep.ks == [2, 3]  # Stop is seen before the next k
    assert any("stopped" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 4  # k-means: elbow, gap, silhouette, rows


def test_kmeans_sweep_then_use_k(at: AppTest) -> None:
    run_sweep(at, "kmeans")
    sweep = at.session_state[SWEEP]["sweep"]
    assert sweep.method == "kmeans" and sweep.ks == [2, 3, 4, 5, 6]
    rec = sweep.recommended_k
    assert next(m.value for m in at.metric if m.label == "Recommended k") == str(rec)
    assert at.success[0].value == sweep.reason
    assert "silhouette" in sweep.reason
    # elbow, gap statistic, silhouette, per-row silhouette
    assert len(at.get("plotly_chart")) == 4
    assert [t.label for t in at.tabs] == ["Elbow", "Gap statistic", "Silhouette", "Table"]

    at.selectbox(key=next(s.key for s in at.selectbox if s.key.startswith("w_k_rows_"))).set_value(
        3
    )
    at.run()
    at.button(key="k_use").click()
    at.run()
    assert not at.exception
    assert at.session_state[CHOSEN_K] == 3
    assert at.session_state[SEG_SETTINGS]["method"] == "kmeans"
    assert any("k = 3" in s.value for s in at.success)

    at.switch_page("views/segments.py")
    at.run()
    assert not at.exception
    assert at.number_input(key="w_seg_k").value == 3
    assert at.selectbox(key="w_seg_method").value == "kmeans"


def test_gmm_sweep_shows_bic_and_carries_covariance(at: AppTest) -> None:
    run_sweep(at, "gmm", 2, 5)
    sweep = at.session_state[SWEEP]["sweep"]
    assert "BIC" in sweep.reason
    assert "BIC (full)" in trace_names(at, 0) and "ICL (lowest over types)" in trace_names(at, 0)
    at.button(key="k_use").click()
    at.run()
    cov = sweep.table.at[sweep.recommended_k, "best_covariance"]
    assert at.session_state[SEG_SETTINGS]["covariance_type"] == cov
    assert at.session_state[SEG_SETTINGS]["n_init"] == SWEEP_STARTS
    assert at.session_state[SEG_SETTINGS]["seed"] == sweep.random_state
    assert at.session_state[CHOSEN_K] == sweep.recommended_k

    at.button(key="k_stability").click()
    at.run()
    assert not at.exception
    table = at.session_state[SWEEP]["stability"]
    assert sweep.recommended_k in table.index and table["mean_ari"].between(-1, 1).all()


def trace_names(at: AppTest, i: int) -> list[str]:
    spec = json.loads(at.get("plotly_chart")[i].proto.spec)
    return [d.get("name") for d in spec["data"]]


def test_min_share_setting_rules_out_ks_and_says_why(at: AppTest) -> None:
    run_sweep(at, "kmeans", 2, 8)
    at.number_input(key="w_k_min_share").set_value(20.0)
    at.run()
    at.button(key="k_run").click()
    at.run()
    assert not at.exception and not at.error
    sweep = at.session_state[SWEEP]["sweep"]
    assert sweep.min_share == pytest.approx(0.2)
    vetoed = sorted(sweep.recommendation.vetoed)
    small = sweep.table.index[sweep.table["smallest_share"] < 0.2].tolist()
    assert vetoed == small and vetoed  # the sample has segments under 20% at large k
    assert sweep.recommended_k not in vetoed
    assert f"k = {', '.join(map(str, vetoed))}" in next(
        c.value for c in at.caption if c.value.startswith("Shaded on the charts")
    )
    assert "Not recommended" in at.success[0].value and "less than 20%" in at.success[0].value
    crosses = [n for n in trace_names(at, 0) if n and n.startswith("not recommended")]
    assert crosses == ["not recommended: a segment too small (under 20% of rows)"]


def test_one_group_can_be_tried_but_not_used(at: AppTest) -> None:
    run_sweep(at, "gmm", 1, 3)
    sweep = at.session_state[SWEEP]["sweep"]
    assert sweep.ks == [1, 2, 3]
    rows_key = next(s.key for s in at.selectbox if s.key.startswith("w_k_rows_"))
    at.selectbox(key=rows_key).set_value(1)
    at.run()
    assert not at.exception
    assert any("One group has no silhouette" in i.value for i in at.info)
    assert at.button(key="k_use").disabled
