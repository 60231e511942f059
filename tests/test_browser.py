"""The main analyst flow in real Chromium: upload, choose k, fit, download, check the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, running_app, wait_idle

pytestmark = pytest.mark.browser

#: A column name that Markdown would make bold, a formula and a link.
TRICKY = "**bold** $x$ [a](http://x)"
#: The analyst's own name for segment 1 (Markdown characters included on purpose).
RENAMED = "Stammkunden *VIP*"


def _customers(path: Path) -> pd.DataFrame:
    """Three clear groups, an ID column, a non-ASCII text column and a column whose
    name is Markdown, LaTeX and a link (it must show as typed)."""
    rng = np.random.default_rng(7)
    centres = np.array([[25, 20.0, 80], [45, 70.0, 20], [65, 40.0, 50]])
    g = rng.integers(0, 3, 300)
    x = centres[g] + rng.normal(0, [3, 5, 6], (300, 3))
    df = pd.DataFrame(
        {
            "kunden_nr": [f"K-{i:05d}" for i in range(300)],
            "alter": np.round(x[:, 0]).astype(int),
            "einkommen_tsd": np.round(x[:, 1], 1),
            TRICKY: np.round(x[:, 2], 1),
            "stadt": rng.choice(["Zürich", "Genève", "Bern"], 300),
        }
    )
    df.to_csv(path, index=False, sep=";", decimal=",", encoding="utf-8")
    return df


def test_upload_choose_k_fit_and_download(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")  # installed by requirements-dev.txt
    assert Path(CHROMIUM).exists(), "scripts/test.sh installs Debian's chromium"
    csv_path = tmp_path / "kunden.csv"
    original = _customers(csv_path)

    with running_app() as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(accept_downloads=True)
            page.set_default_timeout(120_000)
            page.goto(url)
            wait_idle(page)
            page.get_by_role("heading", name="Data").first.wait_for()

            # Upload on the Data page.
            page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(csv_path))
            page.get_by_text("kunden.csv").first.wait_for()
            wait_idle(page)
            rows = page.get_by_test_id("stMetric").filter(has_text="Rows")
            rows.get_by_text("300", exact=True).wait_for()
            assert not page.get_by_test_id("stException").count()
            # The sidebar names the new table on the same run, not a page later.
            sidebar = page.get_by_test_id("stSidebar")
            sidebar.get_by_text("kunden.csv").wait_for()
            wait_idle(page)
            assert sidebar.get_by_text("Sample customers").count() == 0

            # Segments: choose k = 3, fit.
            page.get_by_test_id("stSidebarNav").get_by_text("Segments").click()
            wait_idle(page)
            k_input = page.get_by_role("spinbutton", name="Segments (k)")
            k_input.fill("3")
            k_input.press("Enter")
            wait_idle(page)
            page.get_by_role("button", name="Fit", exact=True).click()
            # The page fits its default on arrival, so "Downloads" may already show: wait
            # until the results are the ones asked for (the page says while they differ).
            page.get_by_text("settings above differ").wait_for(state="hidden")
            wait_idle(page)
            page.get_by_role("heading", name="Downloads").wait_for()
            wait_idle(page)
            assert not page.get_by_test_id("stException").count()

            # The tricky column name shows as typed in the cards: no bold, link or formula.
            main = page.get_by_test_id("stMain")
            assert main.get_by_text("**bold**", exact=False).count() >= 1
            assert main.locator('a[href="http://x"]').count() == 0
            assert main.locator(".katex").count() == 0

            # Rename segment 1; the map's legend and the download carry the new name.
            name_box = page.get_by_role("textbox", name="Segment 1", exact=True)
            name_box.fill(RENAMED)
            name_box.press("Enter")
            wait_idle(page)
            page.locator(".legendtext", has_text=RENAMED).first.wait_for()

            # Download the labelled table and check every row, column and probability.
            with page.expect_download() as info:
                page.get_by_role("button", name="Labelled table").click()
            target = tmp_path / "labelled.csv"
            info.value.save_as(target)
        finally:
            browser.close()

    # The upload was semicolon-separated with decimal commas: so is the download (issue 16).
    assert target.read_bytes().split(b"\r\n", 1)[0].count(b";") >= 4
    got = pd.read_csv(target, sep=";", decimal=",")
    assert len(got) == len(original)
    assert list(got.columns[: original.shape[1]]) == list(original.columns)
    pd.testing.assert_frame_equal(
        got[original.columns], original, check_dtype=False, check_exact=False, rtol=1e-12
    )
    prob = got[[f"prob_segment_{j}" for j in (1, 2, 3)]].to_numpy()
    # Probabilities are downloaded rounded to 6 decimals.
    np.testing.assert_allclose(prob.sum(axis=1), 1.0, atol=3 * 5e-7 + 1e-12)
    assert set(got["segment"]) == {1, 2, 3}
    # The name sits right beside the segment, and segment 1 carries the analyst's name.
    assert list(got.columns).index("segment_name") == list(got.columns).index("segment") + 1
    assert set(got.loc[got["segment"] == 1, "segment_name"]) == {RENAMED}
    assert got.groupby("segment")["segment_name"].nunique().eq(1).all()
    assert got["segment_name"].nunique() == 3
    np.testing.assert_allclose(got["segment_probability"], prob.max(axis=1))
    assert (prob[np.arange(len(got)), got["segment"].to_numpy() - 1] == prob.max(axis=1)).all()


def test_every_page_opens_directly_by_its_address_on_a_fresh_server() -> None:
    """A bookmarked page must work as the first visit (the router sets up the session)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    pages = {
        "segments": "Segments",
        "choose_k": "Choose k",
        "anomalies": "Anomalies",
        "synthetic": "Synthetic data",
        "image": "Image segmentation",
        "data": "Data",
    }
    with running_app() as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(120_000)
            for path, title in pages.items():
                page.goto(f"{url}/{path}")
                wait_idle(page)
                page.get_by_role("heading", name=title).first.wait_for()
                assert not page.get_by_test_id("stException").count(), path
                nav = page.get_by_test_id("stSidebarNav")
                assert nav.get_by_text("Image segmentation").count() == 1
        finally:
            browser.close()


def test_every_analysis_page_shows_a_chart_on_its_first_visit() -> None:
    """On the sample, each analysis page runs its default analysis itself (no click)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    pages = {
        "choose_k": "Choose k",
        "segments": "Segments",
        "anomalies": "Anomalies",
        "synthetic": "Synthetic data",
    }
    with running_app() as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for path, title in pages.items():
                page = browser.new_page()  # a new session: this is its first visit
                page.set_default_timeout(120_000)
                page.goto(f"{url}/{path}")
                page.get_by_role("heading", name=title).first.wait_for()
                page.get_by_test_id("stPlotlyChart").first.wait_for()
                wait_idle(page)
                assert not page.get_by_test_id("stException").count(), path
                # Navigation icons are Material icons (a font), not emoji.
                nav = page.get_by_test_id("stSidebarNav")
                assert nav.get_by_test_id("stIconMaterial").count() >= 6, path
                page.close()
        finally:
            browser.close()
