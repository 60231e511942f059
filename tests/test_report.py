"""The HTML report (contents, escaping, embedded analysis), PNG export, and ``python -m analytics report``."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pandas as pd
import pytest

from analytics import profile_columns, read_table, segment
from analytics.cli.main import main
from analytics.io import to_csv_bytes
from analytics.report.analysis import Analysis, fingerprint, load_analysis, run_analysis
from analytics.report.html import analysis_from_report, figure_png, png_available, report_html
from ui.data import SAMPLE_PATH

SAMPLE = SAMPLE_PATH.read_bytes()
EVIL = '<script>alert("x")</script>'


def tricky_table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Three well-separated groups, with a column and a category named like HTML."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 3, n)
    return pd.DataFrame(
        {
            "id": [f"C{i:05d}" for i in range(n)],
            "spend": rng.normal(0, 1, n) + 6 * g,
            EVIL: rng.normal(0, 1, n) - 5 * g,
            "channel": np.where(g == 0, "<b>web</b>", np.where(g == 1, "store", "phone")),
        }
    )


def analysis_for(
    df: pd.DataFrame, data: bytes | None = None, name: str = "t.csv", **kw
) -> Analysis:
    prof = profile_columns(df)
    feats = prof.loc[prof["use"], "column"].tolist()
    roles = {c: r for c, r in zip(prof["column"], prof["role"], strict=True) if c in feats}
    fp = fingerprint(data, df, name) if data is not None else fingerprint(df)
    return Analysis(data=fp, features=feats, roles=roles, **{"method": "kmeans", "k": 3, **kw})


@pytest.fixture(scope="module")
def gmm_report() -> tuple[Analysis, str]:
    df = tricky_table()
    a = analysis_for(
        df, method="gmm", k=3, segment_names={1: EVIL, 2: "Big & loyal"},
        anomalies={"k": 3, "covariance_type": "full", "n_init": 1, "seed": 0, "rate": 0.02},
    )  # fmt: skip
    return a, report_html(run_analysis(df, a))


def test_plotly_is_inlined_exactly_once_and_nothing_is_fetched(gmm_report) -> None:
    _, text = gmm_report
    # The library's own banner appears once (inlined with the first chart only).
    assert len(re.findall(r"plotly\.js v\d", text)) == 1
    assert not re.search(r"<script[^>]+src=", text)  # no external script
    # Outside the scripts (the library's code names web addresses it never loads here;
    # the browser test proves no request is made), the page links nothing external.
    markup = re.sub(r"<script[^>]*>.*?</script>", "", text, flags=re.S)
    assert not re.search(r"""(?:src|href)=["']?https?://""", markup)
    # One chart per section: k main + silhouette, sizes, map, profiles, certainty, anomalies.
    charts = re.findall(r'data-chart="([^"]+)"', text)
    assert charts == [
        "chart-k-main", "chart-k-silhouette", "chart-sizes", "chart-map",
        "chart-profiles", "chart-certainty", "chart-anomalies",
    ]  # fmt: skip


def test_user_text_is_escaped_everywhere(gmm_report) -> None:
    _, text = gmm_report
    assert EVIL not in text  # neither the column nor the segment name runs
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    assert "<b>web</b>" not in text and "Big &amp; loyal" in text


def test_the_embedded_analysis_is_the_analysis(gmm_report) -> None:
    a, text = gmm_report
    assert text.count('<script type="application/json" id="analysis">') == 1
    assert load_analysis(analysis_from_report(text).encode()) == a


def test_the_report_says_what_the_manager_needs(gmm_report) -> None:
    a, text = gmm_report
    assert "400</b> rows" in text  # the data
    assert "robust" not in text and "z-scores" in text  # preparation in words
    assert "quick one" in text and "k = 2, 3, 4, 5, 6, 7, 8" in text  # how k was chosen
    assert "ambiguous customers" in text  # certainty
    assert "Unusual customers" in text and "8</b>" in text  # 2% of 400 flagged
    assert "Gaussian mixture, k = 3, full covariance" in text  # method and settings


def test_kmeans_report_says_there_is_no_uncertainty_and_no_anomaly_section() -> None:
    df = tricky_table(200, seed=3)
    text = report_html(run_analysis(df, analysis_for(df), sweep=False))
    assert "hard labels" in text and "Unusual customers" not in text
    assert "No comparison of numbers of segments was run" in text
    assert len(re.findall(r"plotly\.js v\d", text)) == 1  # still inlined with the first chart


@pytest.mark.skipif(not png_available(), reason="kaleido or Chromium missing")
def test_figure_png_is_a_real_image_of_the_requested_size() -> None:
    from PIL import Image

    from analytics.charts.segments import sizes_figure

    png = figure_png(sizes_figure([30, 20, 10]), width=500, height=300, scale=1)
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG" and img.size == (500, 300)
    # Not blank: the three bars are drawn in more than one colour.
    assert len(set(map(tuple, np.asarray(img.convert("RGB")).reshape(-1, 3).tolist()))) > 10


# ---- the command line -----------------------------------------------------------------------


def test_cli_with_method_and_k_writes_the_report_and_the_table(tmp_path, capsys) -> None:
    src = tmp_path / "customers.csv"
    src.write_bytes(SAMPLE)
    out, table = tmp_path / "report.html", tmp_path / "labelled.csv"
    code = main([
        "report", str(src), "--method", "kmeans", "--k", "4", "--seed", "3", "-o", str(out),
        "--table", str(table), "--no-sweep", "-q",
    ])  # fmt: skip
    assert code == 0
    df = read_table(SAMPLE)
    prof = profile_columns(df)
    feats = prof.loc[prof["use"], "column"].tolist()
    # The app's defaults (ui/state.py): standard scaling, median, 4 starts, 200 iterations.
    ref = segment(df, "kmeans", 4, columns=feats, random_state=3, n_init=4, max_iter=200)
    assert table.read_bytes() == to_csv_bytes(ref.table(probability_decimals=6))
    a = load_analysis(analysis_from_report(out.read_text(encoding="utf-8")).encode())
    assert (a.method, a.k, a.seed, a.data.sha256) == (
        "kmeans",
        4,
        3,
        fingerprint(SAMPLE, df).sha256,
    )


def test_cli_analysis_for_other_data_is_refused_before_writing(tmp_path, capsys) -> None:
    df = tricky_table()
    analysis = tmp_path / "analysis.json"
    analysis.write_bytes(analysis_for(df).to_bytes())
    src = tmp_path / "customers.csv"
    src.write_bytes(SAMPLE)
    out = tmp_path / "report.html"
    assert main(["report", str(src), "--analysis", str(analysis), "-o", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert "made on a table (400 rows, 4 columns)" in err
    assert "'customers.csv' (2,000 rows, 8 columns)" in err and "missing 'id', 'spend'" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--method", "kmeans"], "Give either --analysis FILE"),
        (["--analysis", "{A}", "--k", "3"], "leave out --method/--k"),
        (["--analysis", "{BAD}"], "not a valid analysis file"),
        (["--analysis", "{MISSING}"], "No file was found"),
        (["--method", "kmeans", "--k", "3", "-o", "{SRC}"], "same file as the input"),
        (["--method", "kmeans", "--k", "3", "--table", "{OUT}"], "same file as the report"),
    ],
)
def test_cli_bad_options_exit_2_in_words(tmp_path, capsys, args, words) -> None:
    src = tmp_path / "c.csv"
    src.write_bytes(SAMPLE)
    good = tmp_path / "a.json"
    good.write_bytes(analysis_for(read_table(SAMPLE), SAMPLE).to_bytes())
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "segmentation-workbench/analysis", "version": 1, "data": 3}')
    out = tmp_path / "r.html"
    subs = {
        "{A}": good,
        "{BAD}": bad,
        "{MISSING}": tmp_path / "none.json",
        "{SRC}": src,
        "{OUT}": out,
    }
    argv = ["report", str(src), *[str(subs.get(x, x)) for x in args]]
    if "-o" not in args:
        argv += ["-o", str(out)]
    assert main([*argv, "-q"]) == 2
    assert words in capsys.readouterr().err
    assert json.loads(good.read_text())["format"] == "segmentation-workbench/analysis"
    assert src.read_bytes() == SAMPLE  # the input is never touched
