"""Time the analyst's whole flow in real Chromium on a big file (issue 7).

Generates a ~100 MB, 1.6M-row customer CSV, starts the app, and with Playwright:
uploads it on Data, opens Segments, fits (default Gaussian mixture, k=4), and
downloads the labelled table. Prints the time of each stage, the total from the
upload click to the saved download, and the server's peak memory (VmHWM).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m bench.browser_flow [--rows N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.case_read import make_csv
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, running_app, wait_idle


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_600_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "big_customers.csv"
        make_csv(csv, args.rows)
        mb = csv.stat().st_size / 2**20
        stages: list[tuple[str, float]] = []
        with running_app(with_process=True) as (url, proc), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(accept_downloads=True)
            page.set_default_timeout(600_000)
            page.goto(url)
            wait_idle(page)
            t0 = time.perf_counter()
            page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(csv))
            rows = page.get_by_test_id("stMetric").filter(has_text="Rows")
            rows.get_by_text(f"{args.rows:,}", exact=True).wait_for()
            wait_idle(page)
            stages.append(("upload + read + profile", time.perf_counter() - t0))
            t = time.perf_counter()
            page.get_by_test_id("stSidebarNav").get_by_text("Segments").click()
            wait_idle(page)
            page.get_by_role("button", name="Fit", exact=True).click()
            page.get_by_role("heading", name="Downloads").wait_for()
            wait_idle(page)
            stages.append(("fit + charts", time.perf_counter() - t))
            t = time.perf_counter()
            with page.expect_download() as info:
                page.get_by_role("button", name="Labelled table").click()
            out = Path(tmp) / "labelled.csv"
            info.value.save_as(out)
            stages.append(("build + download labelled CSV", time.perf_counter() - t))
            total = time.perf_counter() - t0
            browser.close()
            peak = _peak_rss_mb(proc.pid)
        lines = sum(1 for _ in out.open("rb")) - 1
        print(f"file: {args.rows:,} rows, {mb:.0f} MB; downloaded {lines:,} rows")
        for name, sec in stages:
            print(f"{name:32s} {sec:7.1f} s")
        print(f"{'total (upload to saved file)':32s} {total:7.1f} s")
        print(f"server peak memory (VmHWM)       {peak:7.0f} MB")


if __name__ == "__main__":
    main()
