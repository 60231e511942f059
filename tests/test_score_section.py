"""AppTest of the Segments page's model download and "score new data" section (ui/score.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from analytics import segment
from analytics.io import read_table
from analytics.model.segment_model import model_bytes, shares_comparison
from ui.data import SAMPLE_PATH
from ui.score import DATA_UPLOAD, MODEL_UPLOAD


def _app(with_fit: bool = True) -> None:
    import streamlit as st

    from analytics import segment
    from analytics.io import read_table
    from ui.data import SAMPLE_PATH, FitResult
    from ui.score import render_model_download, render_score_section

    if with_fit and "fit" not in st.session_state:
        seg = segment(read_table(SAMPLE_PATH), "kmeans", 3, n_init=1)
        st.session_state["fit"] = FitResult(
            inputs_key="test-fit", settings={}, seg=seg, seconds=0.0,
            extra={"dataset": "Sample customers (customers.csv)"},
        )  # fmt: skip
    fit = st.session_state.get("fit")
    if fit is not None:
        render_model_download(fit)
    render_score_section(fit)


@pytest.fixture(scope="module")
def sample():
    return read_table(SAMPLE_PATH)


@pytest.fixture(scope="module")
def seg(sample):
    # The same deterministic fit the app script makes.
    return segment(sample, "kmeans", 3, n_init=1)


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_function(_app, default_timeout=90)
    app.run()
    assert not app.exception
    return app


def _upload(at: AppTest, key: str, name: str, data: bytes, mime: str = "text/csv") -> None:
    at.file_uploader(key=key).set_value((name, data, mime))
    at.run()
    assert not at.exception


def test_model_download_and_empty_section(at: AppTest) -> None:
    buttons = at.get("download_button")
    assert len(buttons) == 1
    assert buttons[0].proto.label.startswith("Model file")
    assert buttons[0].proto.ignore_rerun  # on_click="ignore": built on click, no rerun
    assert not at.error
    assert any(
        "Scoring with the current segments: 3 segments (k-means)" in c.value for c in at.caption
    )


def test_scoring_a_new_csv_shows_shares_beside_training(at: AppTest, sample, seg) -> None:
    new = sample[seg.labels == 1].head(150)  # one segment only: the mix has moved
    _upload(at, DATA_UPLOAD, "next_month.csv", new.to_csv(index=False).encode())
    assert not at.error
    assert at.metric[0].value == "150"
    comp = at.dataframe[0].value
    expected = shares_comparison(seg, seg.predict(new)["segment"].to_numpy())
    np.testing.assert_allclose(comp["new_share"], expected["new_share"])
    np.testing.assert_allclose(comp["training_share"], seg.sizes / seg.sizes.sum())
    assert comp["new_share"].tolist() == [1.0, 0.0, 0.0]
    assert any("Largest shift" in w.value and "consider refitting" in w.value for w in at.warning)
    preview = at.dataframe[1].value
    assert preview["segment"].tolist() == seg.predict(new)["segment"].tolist()
    assert len(at.get("plotly_chart")) == 1
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Labelled new data, 150 rows (CSV)" in labels and "Excel" in labels


def test_an_uploaded_model_file_is_used_instead_of_the_fit(at: AppTest, sample) -> None:
    other = segment(sample, "gmm", 2, n_init=1, covariance_type="diag")
    _upload(at, MODEL_UPLOAD, "model.json", model_bytes(other), "application/json")
    assert any("the model file 'model.json': 2 segments" in c.value for c in at.caption)
    new = sample.iloc[:80]
    _upload(at, DATA_UPLOAD, "new.csv", new.to_csv(index=False).encode())
    assert not at.error
    assert len(at.dataframe[0].value) == 2
    assert at.dataframe[1].value["segment"].tolist() == other.predict(new)["segment"].tolist()


@pytest.mark.parametrize(
    "content, words",
    [
        (b"not json at all", "not a segmentation model"),
        (json.dumps({"format": "segmentation-workbench/model", "version": 99}).encode(), "version"),
    ],
)
def test_a_bad_model_file_is_an_error_not_a_crash(at: AppTest, content, words) -> None:
    _upload(at, MODEL_UPLOAD, "model.json", content, "application/json")
    assert len(at.error) == 1
    assert "Could not open 'model.json'" in at.error[0].value and words in at.error[0].value


def test_bad_or_mismatched_csv_is_an_error(at: AppTest, sample) -> None:
    _upload(at, DATA_UPLOAD, "wrong.csv", b"a,b\n1,2\n3,4\n")
    assert len(at.error) == 1 and "missing column" in at.error[0].value
    _upload(at, DATA_UPLOAD, "photo.csv", b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert len(at.error) == 1 and "Could not read 'photo.csv'" in at.error[0].value


def test_unseen_categories_are_reported(at: AppTest, sample) -> None:
    new = sample.iloc[:50].copy()
    new.loc[:4, "region"] = "Atlantis"
    _upload(at, DATA_UPLOAD, "new.csv", new.to_csv(index=False).encode())
    assert any("'region': 5 row(s)" in w.value for w in at.warning)


def test_without_a_fit_the_section_asks_for_a_model() -> None:
    at = AppTest.from_function(_app, kwargs={"with_fit": False}, default_timeout=60)
    at.run()
    assert not at.exception
    assert "upload a model file" in at.info[0].value
    assert not at.get("download_button")
