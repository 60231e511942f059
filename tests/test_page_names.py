"""AppTest of one analysis across pages: the shared mixture, "Use this k", segment names,
card formatting and user text shown as typed."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics.studies.profiles import suggest_names
from tests.apptest_support import open_page
from ui.segment_names import labelled_table
from ui.state import ANOMALIES, DATASET, SEGMENTATION, SWEEP, SYNTHETIC

TRICKY = "**bold** $x$ [a](http://x)"


def _spec(at: AppTest, key_part: str) -> dict:
    """The Plotly figure of the chart whose element id contains ``key_part``."""
    chart = next(c for c in at.get("plotly_chart") if key_part in c.proto.id)
    return json.loads(chart.proto.spec)


def _trace_names(spec: dict) -> list[str]:
    return [d.get("name") for d in spec["data"]]


def _all_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += (
        [e.value for e in at.info] + [e.value for e in at.warning] + [e.value for e in at.error]
    )
    return "\n".join(parts)


def _upload(at: AppTest, name: str, df: pd.DataFrame) -> None:
    at.switch_page("views/data.py")
    at.run()
    at.file_uploader[0].set_value((name, df.to_csv(index=False).encode(), "text/csv"))
    at.run()
    assert not at.exception


def _fit(at: AppTest, method: str, k: int) -> None:
    at.selectbox(key="w_seg_method").set_value(method)
    at.number_input(key="w_seg_k").set_value(k)
    at.run()
    at.button(key="seg_fit").click()
    at.run()
    assert not at.exception and not at.error


def test_anomalies_and_synthetic_use_the_segments_mixture() -> None:
    at = open_page("views/segments.py", "Segments")
    current = at.session_state[SEGMENTATION]
    assert current.seg.method == "gmm"  # the default fit on first visit

    at.switch_page("views/anomalies.py")
    at.run()
    assert not at.exception
    result = at.session_state[ANOMALIES].seg
    assert result.segmentation is current.seg  # the same model, not a refit
    assert at.radio(key="w_anom_source").value == "segments"
    assert any("Gaussian mixture of the Segments page" in c.value for c in at.caption)
    # Its densities are the current model's own.
    np.testing.assert_allclose(
        result.scores["log_density"].to_numpy(), current.seg.log_density(), rtol=1e-12
    )

    at.switch_page("views/synthetic.py")
    at.run()
    assert not at.exception
    synth = at.session_state[SYNTHETIC]
    assert synth.seg.segmentation is current.seg
    assert any("Gaussian mixture of the Segments page" in c.value for c in at.caption)
    assert len(synth.extra["sample"]) == min(len(at.session_state[DATASET].df), 10_000)


def test_kmeans_on_segments_means_a_mixture_of_the_same_k_is_fitted_here() -> None:
    at = open_page("views/segments.py", "Segments")
    _fit(at, "kmeans", 3)
    # The sidebar tells the new fit on the run that made it.
    assert any(m.value == "k-means, 3 segments" for m in at.sidebar.markdown)
    at.switch_page("views/anomalies.py")
    at.run()
    assert not at.exception
    assert any("uses k-means" in i.value and "Gaussian mixture" in i.value for i in at.info)
    scored = at.session_state[ANOMALIES].seg.segmentation
    assert scored.method == "gmm" and scored.k == 3
    assert scored is not at.session_state[SEGMENTATION].seg

    at.switch_page("views/synthetic.py")
    at.run()
    assert not at.exception
    assert any("uses k-means" in i.value for i in at.info)
    assert at.session_state[SYNTHETIC].seg.segmentation.method == "gmm"


def test_use_this_k_carries_the_method_and_the_segments_page_fits_it() -> None:
    at = open_page("views/choose_k.py", "Choose k")
    at.selectbox(key="w_k_method").set_value("fcm")
    at.slider(key="w_k_range").set_value((2, 4))
    at.run()
    at.button(key="k_run").click()
    at.run()
    assert not at.exception
    sweep = at.session_state[SWEEP]["sweep"]
    assert sweep.method == "fcm"
    assert "fuzzy c-means" in at.button(key="k_use").label.lower()
    at.button(key="k_use").click()
    at.run()
    assert at.session_state[SEGMENTATION] is None  # the old analysis gives way

    at.switch_page("views/segments.py")
    at.run()
    assert not at.exception
    fit = at.session_state[SEGMENTATION]
    assert fit.seg.method == "fcm" and fit.seg.k == sweep.recommended_k


def test_a_renamed_segment_reaches_charts_cards_and_tables() -> None:
    at = open_page("views/segments.py", "Segments")
    fit = at.session_state[SEGMENTATION]
    suggested = suggest_names(fit.seg)
    assert at.text_input(key=f"w_seg_name_{fit.inputs_key[:12]}_2").value == suggested[2]
    assert _trace_names(_spec(at, "seg_map"))[1] == suggested[2]

    at.text_input(key=f"w_seg_name_{fit.inputs_key[:12]}_1").set_value("Big spenders")
    at.run()
    assert not at.exception
    names = at.session_state[SEGMENTATION].extra["names"]
    assert names[1] == "Big spenders" and names[2] == suggested[2]
    assert _trace_names(_spec(at, "seg_map"))[0] == "Big spenders"
    assert _spec(at, "seg_sizes")["data"][0]["x"][0] == "Big spenders"
    assert "Big spenders" in _spec(at, "seg_heatmap")["data"][0]["x"]
    assert "Big spenders" in _spec(at, "seg_card_chart_1")["layout"]["title"]["text"]
    assert any("**Big spenders**" in m.value for m in at.markdown)  # the card's title
    profiles = next(d.value for d in at.dataframe if "name" in d.value.columns)
    assert profiles.loc[1, "name"] == "Big spenders"

    # The labelled download: segment_name right after segment.
    table = labelled_table(fit.seg, names, 6)
    cols = list(table.columns)
    assert cols.index("segment_name") == cols.index("segment") + 1
    assert set(table.loc[table["segment"] == 1, "segment_name"]) == {"Big spenders"}

    # A name typed twice is kept distinct.
    at.text_input(key=f"w_seg_name_{fit.inputs_key[:12]}_2").set_value("Big spenders")
    at.run()
    names = at.session_state[SEGMENTATION].extra["names"]
    assert len(set(names.values())) == fit.seg.k

    # Anomalies, on the same model, name the nearest segment the same way.
    at.switch_page("views/anomalies.py")
    at.run()
    assert not at.exception
    flagged = next(d.value for d in at.dataframe if "explanation" in d.value.columns)
    by_number = dict(zip(flagged["nearest_segment"], flagged["nearest_segment_name"], strict=True))
    assert all(names[int(j)] == n for j, n in by_number.items())


def _formatting_table() -> pd.DataFrame:
    """50 ordinary customers and one far away (a segment of 1); 'balance' averages
    exactly 12,510 and 'centred' averages 0 (up to rounding error)."""
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 1, 25)
    centred = np.r_[noise, -noise, 0.0]
    balance = 12_510 + np.r_[noise * 40, -noise * 40, 0.0]
    spend = np.r_[rng.normal(100, 5, 50), 5_000.0]
    return pd.DataFrame({"balance": balance, "centred": centred * 1e-3, "spend": spend})


def test_cards_use_original_units_separators_zero_and_singular() -> None:
    df = _formatting_table()
    assert abs(df["centred"].mean()) < 1e-15  # the mean a card must show as 0
    at = open_page()
    _upload(at, "formatting.csv", df)
    at.switch_page("views/segments.py")
    at.run()
    _fit(at, "kmeans", 2)
    assert "1 customer (" in _all_text(at)  # the far-away customer's segment, singular
    assert not re.search(r"\b1 customers", _all_text(at))
    cards = [d.value for d in at.dataframe if "average_text" in d.value.columns]
    assert len(cards) == 2
    card = pd.concat(cards).set_index("label")
    averages = card.groupby(level=0)["average_text"].first()
    assert averages["Balance"] == "12,510"
    assert averages["Centred"] == "0"
    text = " ".join(card.to_numpy(dtype=str).ravel())
    assert "e+" not in text and "e-" not in text  # never scientific notation
    assert any("× the average" in d for d in card["difference"])


def test_user_text_is_shown_as_typed() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            TRICKY: np.r_[rng.normal(10, 1, 60), rng.normal(40, 1, 60)],
            "plain": np.r_[rng.normal(0, 1, 60), rng.normal(5, 1, 60)],
            "kind": ["[c](http://y)"] * 60 + ["_under_"] * 60,
        }
    )
    at = open_page()
    _upload(at, "**file** $1$.csv", df)
    assert any("\\*\\*file\\*\\* \\$1\\$.csv" in m.value for m in at.markdown)  # the sidebar
    at.switch_page("views/segments.py")
    at.run()
    _fit(at, "gmm", 2)
    text = _all_text(at)
    assert "\\*\\*bold\\*\\* \\$x\\$ \\[a\\](http\\://x)" in text  # a description names it
    # Nowhere does the name appear unescaped, where Markdown would render it.
    for element in [*at.markdown, *at.caption, *at.info, *at.warning]:
        assert TRICKY not in element.value
        assert "[c](http://y)" not in element.value
    for m in at.metric:
        assert TRICKY not in m.label


@pytest.mark.parametrize("name", ["new.csv"])
def test_new_data_resets_what_depends_on_it_and_says_so(name: str) -> None:
    at = open_page("views/segments.py", "Segments")
    assert at.session_state[SEGMENTATION] is not None
    _upload(at, name, _formatting_table())
    assert at.session_state[SEGMENTATION] is None
    assert any("were cleared" in i.value for i in at.sidebar.info)
    at.switch_page("views/segments.py")
    at.run()
    fit = at.session_state[SEGMENTATION]  # the new table is fitted on arrival (quick)
    assert fit is not None and fit.seg.data.shape == (51, 3)


def test_the_sidebar_is_drawn_even_when_a_page_stops_early(monkeypatch) -> None:
    from ui import cost

    monkeypatch.setattr(cost, "QUICK_SECONDS", -1.0)  # big table: pages stop at their button
    at = open_page("views/segments.py", "Segments")
    assert at.session_state[SEGMENTATION] is None  # the page stopped before any result
    sidebar = "\n".join(m.value for m in at.sidebar.markdown)
    assert "Sample customers" in sidebar and "2,000 rows" in sidebar
