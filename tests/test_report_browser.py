"""The HTML report in real Chromium with the network cut off: every chart draws, nothing is
fetched; and the analyst's flow: download the report and the analysis file from the app,
reload the page (the analysis is kept), open the report offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analytics import read_table
from analytics.report.analysis import load_analysis, run_analysis
from analytics.report.html import analysis_from_report, report_html
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, running_app, wait_idle
from tests.test_report import EVIL, analysis_for, tricky_table
from ui.data import SAMPLE_PATH

pytestmark = pytest.mark.browser


def open_offline(p, path: Path) -> dict:
    """Open ``path`` with every non-file request blocked and counted; return what drew."""
    browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        page = browser.new_page()
        blocked: list[str] = []
        errors: list[str] = []

        def route(r) -> None:
            if r.request.url.startswith("file:"):
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(path.as_uri())
        n_charts = page.locator("div.chart").count()
        # Plotly marks a drawn chart with .js-plotly-plot and an SVG with its traces.
        page.wait_for_function(
            f"document.querySelectorAll('div.chart .js-plotly-plot .main-svg').length >= {n_charts}",
            timeout=60_000,
        )
        drawn = page.evaluate(
            "[...document.querySelectorAll('div.chart')].map(d => {"
            "  const g = d.querySelector('.js-plotly-plot');"
            "  return g ? g.querySelectorAll('.trace, .hm, .point, path.point, .bars').length : 0;"
            "})"
        )
        embedded = page.evaluate("document.getElementById('analysis').textContent")
        title = page.title()
        return {"blocked": blocked, "errors": errors, "charts": n_charts, "drawn": drawn,
                "embedded": embedded, "title": title}  # fmt: skip
    finally:
        browser.close()


def test_report_draws_every_chart_with_the_network_cut_off(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    df = tricky_table()
    a = analysis_for(
        df, method="gmm", k=3, segment_names={1: EVIL},
        anomalies={"k": 3, "covariance_type": "full", "n_init": 1, "seed": 0, "rate": 0.02},
    )  # fmt: skip
    path = tmp_path / "report.html"
    path.write_text(report_html(run_analysis(df, a)), encoding="utf-8")
    with sync_api.sync_playwright() as p:
        got = open_offline(p, path)
    assert got["blocked"] == []  # not one request left the file
    assert got["errors"] == []  # no script error (and the escaped names ran nothing)
    assert got["charts"] == 7
    assert all(n > 0 for n in got["drawn"]), got["drawn"]
    assert load_analysis(got["embedded"].encode()) == a


def test_app_report_and_analysis_downloads_and_a_reload_keeps_the_analysis(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with running_app() as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(accept_downloads=True)
            page.set_default_timeout(180_000)
            page.goto(url)
            wait_idle(page)
            page.get_by_test_id("stSidebarNav").get_by_text("Segments").click()
            wait_idle(page)
            k_input = page.get_by_role("spinbutton", name="Segments (k)")
            k_input.fill("3")
            k_input.press("Enter")
            wait_idle(page)
            page.get_by_role("button", name="Fit", exact=True).click()
            page.get_by_role("heading", name="Keep and share this analysis").wait_for()
            wait_idle(page)
            with page.expect_download() as info:
                page.get_by_role("button", name="Analysis file (JSON)").click()
            analysis_path = tmp_path / "analysis.json"
            info.value.save_as(analysis_path)
            with page.expect_download() as info:
                page.get_by_role("button", name="Report (HTML, opens offline)").click()
            report_path = tmp_path / "report.html"
            info.value.save_as(report_path)
            png = page.get_by_role("button", name="Map as an image (PNG)")
            if png.count():
                with page.expect_download() as info:
                    png.click()
                png_path = tmp_path / "map.png"
                info.value.save_as(png_path)
                assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

            # A reload keeps the analysis: the address holds it, the same k comes back.
            assert "analysis=" in page.url
            page.reload()
            wait_idle(page)
            page.get_by_role("heading", name="Segments").first.wait_for()
            wait_idle(page)
            assert page.get_by_role("spinbutton", name="Segments (k)").input_value() == "3"
            assert not page.get_by_test_id("stException").count()
        finally:
            browser.close()
        got = open_offline(p, report_path)

    a = load_analysis(analysis_path)
    assert (a.method, a.k) == ("gmm", 3)
    assert got["blocked"] == [] and got["errors"] == []
    assert got["charts"] >= 6 and all(n > 0 for n in got["drawn"])
    # The report embeds the same analysis, and reproduces the app's segments.
    assert json.loads(got["embedded"]) == json.loads(analysis_path.read_text())
    df = read_table(SAMPLE_PATH)
    r = run_analysis(df, a, data=SAMPLE_PATH.read_bytes(), sweep=False, anomalies=False)
    text = report_path.read_text(encoding="utf-8")
    for j, size in enumerate(r.seg.sizes, start=1):
        assert f"{int(size):,} customers ({size / len(df):.0%})" in text, j
    assert load_analysis(analysis_from_report(text).encode()) == a
