"""The cost model: jobs above the per-session limits are refused in words before they start."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.mixture import GaussianMixture
from streamlit.testing.v1 import AppTest

from analytics.cost import (
    MAX_BYTES,
    Job,
    JobTooBigError,
    estimate,
    fits,
    problem,
    require,
    suggestions,
)
from tests.apptest_support import open_page
from ui.state import DATASET, SEGMENTATION, SWEEP, SWEEP_JOB

REPORTED = Job.of("fit", 200, 2000, 50, "gmm", "full")


def wide_csv(rows: int = 200, cols: int = 2000, seed: int = 0) -> bytes:
    """The reported upload: 200 rows x 2,000 numeric columns (about 2.6 MB)."""
    x = np.random.default_rng(seed).normal(size=(rows, cols)).round(3)
    head = ",".join(f"c{j}" for j in range(cols))
    return (head + "\n" + "\n".join(",".join(map(str, r)) for r in x) + "\n").encode()


def test_the_reported_case_is_refused_in_words() -> None:
    text = problem(REPORTED)
    assert text is not None
    assert "200 rows × 2,000 features, k = 50, full covariance" in text
    assert "GB of memory" in text and "a session may use 2.0 GB" in text
    assert "It was not started" in text
    # Concrete changes, each enough on its own.
    assert "choose the tied covariance type" in text
    assert "columns" in text and "segments" in text
    with pytest.raises(JobTooBigError) as err:
        require(REPORTED)
    assert err.value.code == "job_too_big" and err.value.message == text


def test_memory_of_the_reported_case_is_the_covariance_arrays() -> None:
    # Hand count: scikit-learn holds ~5 arrays of k x d x d floats (covariances,
    # precisions, their Cholesky factors, the best start's copies): 5 * 50 * 2000^2 * 8.
    c = estimate(REPORTED)
    assert c.bytes >= 5 * 50 * 2000**2 * 8
    assert c.bytes < 1.1 * 5 * 50 * 2000**2 * 8 + 50e6
    assert c.bytes > MAX_BYTES


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("cov", ["full", "tied", "diag", "spherical"])
def test_memory_estimate_bounds_a_real_scikit_learn_fit(cov: str) -> None:
    """The estimate is at least the measured peak and within a few times of it."""
    n, d, k = 300, 120, 8
    X = np.random.default_rng(1).normal(size=(n, d))
    tracemalloc.start()
    try:
        GaussianMixture(k, covariance_type=cov, max_iter=5, tol=0, random_state=0).fit(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    est = estimate(Job.of("fit", n, d, k, "gmm", cov)).bytes
    assert peak <= est <= 8 * peak, (peak, est)


def test_every_suggestion_is_enough_on_its_own() -> None:
    cases = [
        REPORTED,
        Job.of("sweep", 200, 2000, range(2, 11), "gmm", ["full", "tied", "diag", "spherical"]),
        Job.of("fit", 2_000_000, 40, 50, "kmeans", starts=20),
        Job.of("fit", 200, 2000, 50, "gmm", "full", starts=3),
    ]
    for job in cases:
        tips = suggestions(job)
        assert tips, job
        for tip in tips:
            if tip.startswith("choose the "):
                cov = tip.split()[2]
                assert fits(
                    Job.of(job.kind, job.rows, job.features, job.ks, "gmm", cov, job.starts)
                )
            elif tip.startswith("use at most "):
                f = int(tip.split()[3].replace(",", ""))
                assert fits(Job.of(job.kind, job.rows, f, job.ks, job.method, job.covariance_types, job.starts))  # fmt: skip
                assert not fits(Job.of(job.kind, job.rows, f + 1, job.ks, job.method, job.covariance_types, job.starts))  # fmt: skip
            elif tip.startswith("ask for at most "):
                top = int(tip.split()[4])
                ks = [k for k in job.ks if k <= top] or [top]
                assert fits(Job.of(job.kind, job.rows, job.features, ks, job.method, job.covariance_types, job.starts))  # fmt: skip
            elif tip.startswith("fit a random sample"):
                r = int(tip.split()[7].replace(",", ""))
                assert fits(Job.of(job.kind, r, job.features, job.ks, job.method, job.covariance_types, job.starts))  # fmt: skip
            elif tip.startswith("untick the "):
                dropped = {"full", "tied", "diag"} & set(tip.split("(")[0].split())
                left = [c for c in job.covariance_types if c not in dropped]
                assert fits(Job.of(job.kind, job.rows, job.features, job.ks, "gmm", left))
            elif tip == "use one start":
                assert fits(Job.of(job.kind, job.rows, job.features, job.ks, job.method, job.covariance_types, 1))  # fmt: skip
            else:
                pytest.fail(f"unexpected suggestion {tip!r}")


def test_everyday_jobs_pass() -> None:
    assert problem(Job.of("fit", 2000, 10, 4, "gmm", "full", 1)) is None
    assert problem(Job.of("sweep", 20_000, 10, range(2, 11), "gmm", ["full", "tied", "diag", "spherical"])) is None  # fmt: skip
    assert problem(Job.of("fit", 1_000_000, 10, 10, "kmeans", starts=10)) is None
    assert problem(Job.of("synthetic", 2000, 10, range(1, 9), "gmm", "full", 2)) is None
    assert problem(Job.of("image", 100_000, 3, 8, "gmm", "full", score_rows=12_000_000)) is None


sizes = st.integers(1, 5000)


@settings(max_examples=60, deadline=None)
@given(n=sizes, d=st.integers(1, 3000), k=st.integers(1, 50), dn=sizes, dd=st.integers(0, 500), dk=st.integers(0, 20))  # fmt: skip
def test_cost_grows_with_rows_features_and_k(n, d, k, dn, dd, dk) -> None:
    for method, cov in (("gmm", "full"), ("gmm", "tied"), ("gmm", "diag"), ("kmeans", "full")):
        small = estimate(Job.of("fit", n, d, k, method, cov))
        big = estimate(Job.of("fit", n + dn, d + dd, k + dk, method, cov))
        assert big.units >= small.units and big.bytes >= small.bytes


@settings(max_examples=60, deadline=None)
@given(n=sizes, d=st.integers(1, 3000), k=st.integers(1, 50))
def test_simpler_covariance_is_never_dearer(n, d, k) -> None:
    full, tied, diag, sph = (
        estimate(Job.of("fit", n, d, k, "gmm", c)) for c in ("full", "tied", "diag", "spherical")
    )
    # full >= tied, full >= diag >= spherical (tied vs diag depends on d vs k: d*d vs k*d).
    assert full.bytes >= tied.bytes and full.bytes >= diag.bytes >= sph.bytes
    assert full.units >= tied.units >= diag.units >= sph.units


def test_job_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="kind"):
        Job.of("nap", 1, 1, 1)
    with pytest.raises(ValueError, match="covariance"):
        Job.of("fit", 1, 1, 1, "gmm", "round")


# ---- pages ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wide() -> bytes:
    return wide_csv()


def _upload_wide(at: AppTest, data: bytes) -> None:
    at.switch_page("views/data.py")
    at.run()
    at.file_uploader[0].set_value(("wide.csv", data, "text/csv"))
    at.run()
    assert not at.exception and at.session_state[DATASET].df.shape == (200, 2000)


def test_segments_page_refuses_the_reported_fit(wide: bytes) -> None:
    at = open_page("views/segments.py", "Segments", timeout=120)
    _upload_wide(at, wide)
    at.switch_page("views/segments.py")
    at.run()
    at.selectbox(key="w_seg_method").set_value("gmm")
    at.number_input(key="w_seg_k").set_value(50)
    at.run()
    at.selectbox(key="w_seg_cov").set_value("full")
    at.run()
    # The wide table's first visit did not start the default fit by itself (k = 4, full,
    # 4 starts: over two minutes here), as the old rows x features estimate did.
    assert at.session_state[SEGMENTATION] is None
    at.button(key="seg_fit").click()
    at.run(timeout=30)  # refused at once: nothing is fitted
    assert not at.exception
    assert at.session_state[SEGMENTATION] is None
    text = at.error[0].value
    assert "200 rows × 2,000 features, k = 50, full covariance" in text
    assert "not started" in text and "The data stays loaded" in text
    assert at.session_state[DATASET].df.shape == (200, 2000)


def test_choose_k_page_refuses_a_sweep_above_the_limits(wide: bytes) -> None:
    at = open_page("views/choose_k.py", timeout=120)
    _upload_wide(at, wide)
    at.switch_page("views/choose_k.py")
    at.run()
    at.selectbox(key="w_k_method").set_value("gmm")
    at.run()
    at.slider(key="w_k_range").set_value((2, 30))
    at.run()
    at.button(key="k_run").click()
    at.run(timeout=30)
    assert not at.exception
    assert at.session_state[SWEEP_JOB] is None and at.session_state[SWEEP] is None
    assert any("This sweep would" in e.value and "not started" in e.value for e in at.error)
