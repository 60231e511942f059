"""AppTest of the Segments page: fit each method, keep the fit across pages, target, errors."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analytics.studies.profiles import target_mask
from tests.apptest_support import open_page
from ui.state import DATASET, PREP, SEGMENTATION

TINY = b"income,score\n10,1\n20,5\n30,2\n"


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def markdown_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def fit(at: AppTest, method: str, k: int = 3) -> AppTest:
    at.selectbox(key="w_seg_method").set_value(method)
    at.number_input(key="w_seg_k").set_value(k)
    at.run()
    at.button(key="seg_fit").click()
    at.run()
    assert not at.exception
    return at


@pytest.fixture
def at() -> AppTest:
    return open_page("views/segments.py", "Segments", timeout=60)


@pytest.mark.parametrize("method", ["kmeans", "fcm", "gmm"])
def test_each_method_fits_and_shows_results(at: AppTest, method: str) -> None:
    fit(at, method)
    assert not at.error
    result = at.session_state[SEGMENTATION]
    assert result.seg.method == method and result.seg.k == 3
    assert result.settings["method"] == method
    text = markdown_text(at)
    assert "segments** found with" in text
    if method == "gmm":
        assert "BIC" in text and "log-likelihood" in text
    assert metric(at, "Customers") == f"{len(at.session_state[DATASET].df):,}"
    assert metric(at, "Segments") == "3"
    # map, sizes, heatmap, certainty, and one profile chart per segment card
    assert len(at.get("plotly_chart")) == 4 + 3
    labels = [b.label for b in at.get("download_button")]
    assert any(lab.startswith("Labelled table") for lab in labels)
    assert any(lab.startswith("Segment centres") for lab in labels)


def test_fit_survives_page_switch_and_targeting_counts(at: AppTest) -> None:
    fit(at, "gmm", 3)
    result = at.session_state[SEGMENTATION]
    at.switch_page("views/data.py")
    at.run()
    assert not at.exception and at.title[0].value == "Data"
    at.switch_page("views/segments.py")
    at.run()
    assert not at.exception
    assert at.session_state[SEGMENTATION] is result
    assert at.selectbox(key="w_seg_method").value == "gmm"  # the controls came back too
    assert "segments** found with" in markdown_text(at)

    seg = result.seg
    for segment, p in [(1, 0.8), (2, 0.95), (3, 0.0)]:
        at.selectbox(key="w_seg_target_3").set_value(segment)
        at.slider(key="w_seg_min_p").set_value(p)
        at.run()
        assert not at.exception
        want = int(target_mask(seg, segment, p).sum())
        assert metric(at, "Customers who qualify") == f"{want:,}"


def test_changed_preparation_asks_for_a_refit(at: AppTest) -> None:
    fit(at, "kmeans", 2)
    assert not any("changed since this fit" in i.value for i in at.info)
    at.session_state[PREP] = {"scaling": "robust", "log_transform": [], "impute": "median"}
    at.run()
    assert any("changed since this fit" in i.value for i in at.info)


def test_too_many_segments_for_a_tiny_upload_is_a_plain_error(at: AppTest) -> None:
    at.switch_page("views/data.py")
    at.run()
    at.file_uploader[0].set_value(("tiny.csv", TINY, "text/csv"))
    at.run()
    assert not at.exception and len(at.session_state[DATASET].df) == 3
    at.switch_page("views/segments.py")
    at.run()
    fit(at, "gmm", 5)
    assert at.error and "only 3 row(s)" in at.error[0].value
    assert at.session_state[SEGMENTATION] is None
    assert len(at.session_state[DATASET].df) == 3  # the data stays loaded


def test_first_load_on_the_sample_fits_without_a_click() -> None:
    at = open_page("views/segments.py", "Segments")
    assert at.session_state[SEGMENTATION] is not None
    assert len(at.get("plotly_chart")) >= 1


def test_kmeans_targeting_is_by_margin_and_says_so(at: AppTest) -> None:
    fit(at, "kmeans", 3)
    seg = at.session_state[SEGMENTATION].seg
    slider = at.slider(key="w_seg_min_p")
    assert slider.label == "Minimum margin"
    assert "closer" in slider.help
    assert any("no probabilities" in c.value for c in at.caption)
    slider.set_value(0.5)
    at.run()
    assert not at.exception
    assert metric(at, "Customers who qualify") == f"{int(target_mask(seg, 1, 0.5).sum()):,}"
