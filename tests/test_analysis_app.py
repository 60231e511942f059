"""AppTest of the analysis file in the app: out, new session, same data in, same everything;
other data refused; malformed files in words; a reload keeps the analysis (query parameters)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics import read_table
from analytics.report.analysis import from_compact, load_analysis, run_analysis, to_compact
from tests.apptest_support import APP, open_page
from ui.analysis import URL_PARAM, analysis_from_state
from ui.state import ANALYSIS_PENDING, DATASET, FEATURES, PREP, SEGMENTATION


def customers_csv(n: int = 300, seed: int = 1) -> bytes:
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 3, n)
    df = pd.DataFrame(
        {
            "kunde": [f"K{i:04d}" for i in range(n)],
            "umsatz": np.round(np.exp(rng.normal(3 + g, 0.4)), 2),
            "besuche": rng.poisson(2 + 3 * g),
            "alter": np.round(rng.normal(30 + 10 * g, 4)),
            "kanal": np.where(g == 2, "laden", "web"),
        }
    )
    return df.to_csv(index=False).encode()


CSV = customers_csv()
NAMES = {1: "Stammkunden <b>", 3: "Schnäppchen"}


def fitted_session() -> tuple[AppTest, object, list[str]]:
    """Upload CSV, choose features and preparation, fit FCM k=3 with seed 7; name two segments."""
    at = open_page(timeout=120)
    at.file_uploader[0].set_value(("kunden.csv", CSV, "text/csv")).run()
    key = at.session_state[DATASET].key[:12]
    at.multiselect(key=f"w_features_{key}").set_value(["umsatz", "besuche", "alter"]).run()
    at.radio(key="w_scaling").set_value("robust").run()
    at.multiselect(key=f"w_log_{key}").set_value(["umsatz"]).run()
    at.switch_page("views/segments.py").run()
    at.selectbox(key="w_seg_method").set_value("fcm")
    at.number_input(key="w_seg_k").set_value(3)
    at.run()
    at.slider(key="w_seg_m").set_value(1.6)
    at.number_input(key="w_seg_seed").set_value(7)
    at.button(key="seg_fit").click().run()
    assert not at.exception
    fit = at.session_state[SEGMENTATION]
    assert fit.settings["method"] == "fcm" and fit.settings["seed"] == 7
    # Name two segments as an analyst does: type over the suggested names.
    for j, name in NAMES.items():
        [box] = [t for t in at.text_input if t.label == f"Segment {j}"]
        box.set_value(name)
    at.run()
    fit = at.session_state[SEGMENTATION]
    figures = [c.proto.spec for c in at.get("plotly_chart")]
    return at, fit, figures


@pytest.fixture(scope="module")
def session():
    return fitted_session()


def test_round_trip_restores_labels_names_settings_and_figures(session) -> None:
    at, fit, figures = session
    analysis = analysis_from_state(at.session_state, table_hash=True)
    # Every segment has a name: the two typed ones and the suggestion kept for the other.
    assert NAMES.items() <= analysis.segment_names.items() and len(analysis.segment_names) == 3
    raw = analysis.to_bytes()

    fresh = open_page(timeout=120)
    fresh.file_uploader[0].set_value(("kunden.csv", CSV, "text/csv")).run()
    fresh.toggle(key="analysis_open").set_value(True).run()
    fresh.file_uploader[1].set_value(("kunden_analysis.json", raw, "application/json")).run()
    assert not fresh.exception and not fresh.error
    assert any("Analysis restored" in s.value for s in fresh.success)
    assert fresh.session_state[FEATURES] == ["umsatz", "besuche", "alter"]
    assert fresh.session_state[PREP]["scaling"] == "robust"
    restored = fresh.session_state[SEGMENTATION]
    np.testing.assert_array_equal(restored.seg.labels, fit.seg.labels)
    np.testing.assert_allclose(restored.seg.proba, fit.seg.proba)
    assert NAMES.items() <= restored.extra["names"].items()

    fresh.switch_page("views/segments.py").run()
    assert not fresh.exception
    # The page's controls show the restored settings, and it shows the restored fit as current.
    assert fresh.selectbox(key="w_seg_method").value == "fcm"
    assert fresh.number_input(key="w_seg_k").value == 3
    assert fresh.slider(key="w_seg_m").value == pytest.approx(1.6)
    assert fresh.number_input(key="w_seg_seed").value == 7
    assert not any("press **Fit**" in c.value for c in fresh.caption)
    assert [c.proto.spec for c in fresh.get("plotly_chart")] == figures
    # And the restored session writes the same analysis file again.
    assert analysis_from_state(fresh.session_state, table_hash=True) == load_analysis(raw)


def test_analysis_for_other_data_is_refused_then_restored_when_its_data_arrives(session) -> None:
    at, fit, _ = session
    raw = analysis_from_state(at.session_state).to_bytes()
    other = open_page(timeout=120)  # the sample is loaded
    other.toggle(key="analysis_open").set_value(True).run()
    other.file_uploader[1].set_value(("kunden_analysis.json", raw, "application/json")).run()
    assert not other.exception
    errors = " ".join(e.value for e in other.error)
    assert "300 rows" in errors and "2,000 rows" in errors and "missing 'kunde', 'umsatz'" in errors
    assert other.session_state[DATASET].is_sample  # the data stays loaded
    assert any("Waiting for the data" in i.value for i in other.info)
    other.file_uploader[0].set_value(("kunden.csv", CSV, "text/csv")).run()
    assert other.session_state[ANALYSIS_PENDING] is None
    np.testing.assert_array_equal(other.session_state[SEGMENTATION].seg.labels, fit.seg.labels)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"not json at all", "not a JSON document"),
        (b'{"format": "segmentation-workbench/model", "version": 1}', "not an analysis file"),
        (b'{"format": "segmentation-workbench/analysis", "version": 1, "k": 3}', "has no 'data'"),
    ],
)
def test_malformed_analysis_upload_is_said_in_words_and_the_data_stays(raw, words) -> None:
    at = open_page(timeout=120)
    before = at.session_state[DATASET].key
    assert len(at.file_uploader) == 1  # the analysis uploader shows on request only
    at.toggle(key="analysis_open").set_value(True).run()
    at.file_uploader[1].set_value(("broken.json", raw, "application/json")).run()
    assert not at.exception
    msg = " ".join(e.value for e in at.error)
    assert "Could not open 'broken.json'" in msg and words in msg
    assert at.session_state[DATASET].key == before


def test_a_reload_keeps_the_sample_analysis_from_the_address() -> None:
    at = open_page("views/segments.py", timeout=120)
    at.selectbox(key="w_seg_method").set_value("kmeans")
    at.number_input(key="w_seg_k").set_value(5)
    at.button(key="seg_fit").click().run()
    text = at.query_params[URL_PARAM]
    text = text[0] if isinstance(text, list) else text
    a = from_compact(text)
    assert (a.method, a.k) == ("kmeans", 5)
    labels = at.session_state[SEGMENTATION].seg.labels

    reloaded = AppTest.from_file(APP, default_timeout=120)
    reloaded.query_params[URL_PARAM] = text
    reloaded.run()
    assert not reloaded.exception
    fit = reloaded.session_state[SEGMENTATION]
    assert fit.settings["method"] == "kmeans" and fit.settings["k"] == 5
    np.testing.assert_array_equal(fit.seg.labels, labels)


def test_a_reload_says_the_uploaded_data_was_not_kept_and_restores_it_on_re_upload(session) -> None:
    at, fit, _ = session
    text = to_compact(analysis_from_state(at.session_state))
    reloaded = AppTest.from_file(APP, default_timeout=120)
    reloaded.query_params[URL_PARAM] = text
    reloaded.run()
    assert not reloaded.exception
    warnings = " ".join(w.value for w in reloaded.warning)
    assert "was not kept" in warnings and "'kunden.csv' (300 rows, 5 columns)" in warnings
    assert "re-upload" in warnings.lower()
    assert reloaded.session_state[DATASET].is_sample  # shown, and said so
    reloaded.file_uploader[0].set_value(("kunden.csv", CSV, "text/csv")).run()
    restored = reloaded.session_state[SEGMENTATION]
    np.testing.assert_array_equal(restored.seg.labels, fit.seg.labels)
    assert NAMES.items() <= restored.extra["names"].items()


def test_the_address_analysis_reproduces_through_the_public_api(session) -> None:
    at, fit, _ = session
    a = from_compact(to_compact(analysis_from_state(at.session_state)))
    r = run_analysis(read_table(CSV, filename="kunden.csv"), a, data=CSV, sweep=False)
    np.testing.assert_array_equal(r.seg.labels, fit.seg.labels)


def test_cli_report_table_equals_the_apps_labelled_table_download(session, tmp_path) -> None:
    from analytics.cli.main import main
    from analytics.io import to_csv_bytes
    from ui.data import PROBABILITY_DECIMALS

    at, fit, _ = session
    analysis = tmp_path / "kunden_analysis.json"
    analysis.write_bytes(analysis_from_state(at.session_state, table_hash=True).to_bytes())
    src = tmp_path / "kunden.csv"
    src.write_bytes(CSV)
    table = tmp_path / "labelled.csv"
    code = main([
        "report", str(src), "--analysis", str(analysis), "-o", str(tmp_path / "r.html"),
        "--table", str(table), "--no-sweep", "-q",
    ])  # fmt: skip
    assert code == 0
    # The Segments page's "Labelled table" download (views/segments.py), from the app's fit.
    from ui.segment_names import labelled_table, names_of

    download = to_csv_bytes(labelled_table(fit.seg, names_of(fit), PROBABILITY_DECIMALS))
    assert table.read_bytes() == download
