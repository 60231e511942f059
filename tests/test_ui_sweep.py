"""The sweep state machine (ui/sweep.py) and the cost estimate (ui/cost.py), without Streamlit."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from analytics import InputError
from ui import cost
from ui.sweep import SweepJob, finished, step


def fake_row(k: int) -> pd.DataFrame:
    return pd.DataFrame({"silhouette": [1.0 / k]}, index=pd.Index([k], name="k"))


def fake_all(ks: list[int]) -> SimpleNamespace:
    return SimpleNamespace(ks=ks, notes=[], stopped=False)


def test_stepwise_job_fits_one_k_per_step_then_compares() -> None:
    job = SweepJob(key="x", settings={}, ks=[2, 3, 4], stepwise=True)
    assert step(job, fake_row, fake_all) is None and list(job.rows) == [2]
    assert step(job, fake_row, fake_all) is None
    assert step(job, fake_row, fake_all) is None and job.fraction == 1.0
    assert list(job.partial_table().index) == [2, 3, 4]
    result = step(job, fake_row, fake_all)
    assert result["sweep"].ks == [2, 3, 4] and not result["sweep"].stopped


def test_stop_compares_the_ks_done() -> None:
    job = SweepJob(key="x", settings={}, ks=[2, 3, 4, 5], stepwise=True)
    step(job, fake_row, fake_all)
    step(job, fake_row, fake_all)
    job.stop = True
    result = step(job, fake_row, fake_all)
    assert result["sweep"].ks == [2, 3] and result["sweep"].stopped
    assert "not tried: k = 4, 5" in result["sweep"].notes[-1]


def test_quick_job_is_one_step_and_errors_end_it() -> None:
    job = SweepJob(key="x", settings={}, ks=[2, 3], stepwise=False)
    assert step(job, fake_row, fake_all)["sweep"].ks == [2, 3] and not job.rows

    def bad(ks: list[int]) -> None:
        raise InputError("No usable column.", code="no_columns")

    job = SweepJob(key="x", settings={}, ks=[2], stepwise=False)
    assert step(job, fake_row, bad) is None and job.error == "No usable column."
    assert finished(job)
    stopped_early = SweepJob(key="x", settings={}, ks=[2], stepwise=True, stop=True)
    assert step(stopped_early, fake_row, fake_all) is None and stopped_early.error


def test_cost_counts_the_sample_and_20k_by_10_as_quick() -> None:
    sweep_sample = cost.expected_seconds(2_000, 8, range(2, 11), 4)
    sweep_20k = cost.expected_seconds(20_000, 10, range(2, 11), 4)
    assert cost.is_quick(sweep_sample) and cost.is_quick(sweep_20k)
    assert not cost.is_quick(cost.expected_seconds(1_000_000, 20, range(2, 11), 4))
    assert cost.in_words(0.2) == "under a second"
    assert cost.in_words(44) == "about 45 seconds"
    assert cost.in_words(600) == "about 10 minutes"
