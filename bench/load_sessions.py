"""Ten concurrent browser sessions, each with its own data, against one server (issue 8).

Each session uploads a different CSV (session i has 500 + i rows and its own value
range), fits k-means on Segments at the same time as the others, and must then see
its own row count and its own labelled download. Prints per-session checks, the
wall time and the server's peak memory (VmHWM).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m bench.load_sessions [--sessions 10]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, running_app, wait_idle


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _csv(path: Path, i: int) -> pd.DataFrame:
    rng = np.random.default_rng(i)
    n = 500 + i
    df = pd.DataFrame(
        {
            "cid": [f"S{i}-{j:05d}" for j in range(n)],
            "spend": np.round(rng.normal(1000 * (i + 1), 50, n), 2),
            "visits": rng.integers(0, 20, n),
        }
    )
    df.to_csv(path, index=False)
    return df


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        frames = [_csv(Path(tmp) / f"s{i}.csv", i) for i in range(args.sessions)]
        with running_app(with_process=True) as (url, proc), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pages = []
            t0 = time.perf_counter()
            for _ in range(args.sessions):
                ctx = browser.new_context(accept_downloads=True)  # separate cookies: separate users
                page = ctx.new_page()
                page.set_default_timeout(600_000)
                page.goto(url)
                pages.append(page)
            for i, page in enumerate(pages):
                wait_idle(page)
                page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
                    str(Path(tmp) / f"s{i}.csv")
                )
            for i, page in enumerate(pages):
                page.get_by_test_id("stMetric").filter(has_text="Rows").get_by_text(
                    f"{500 + i:,}", exact=True
                ).wait_for()
                wait_idle(page)
                page.get_by_test_id("stSidebarNav").get_by_text("Segments").click()
            for page in pages:
                wait_idle(page)
                page.get_by_role("combobox", name="Method").click()
                page.get_by_role("option", name="k-means").click()
                wait_idle(page)
            for page in pages:  # all fits start together
                page.get_by_role("button", name="Fit", exact=True).click()
            ok = 0
            for i, page in enumerate(pages):
                page.get_by_role("heading", name="Downloads").wait_for()
                wait_idle(page)
                with page.expect_download() as info:
                    page.get_by_role("button", name="Labelled table").click()
                out = Path(tmp) / f"out{i}.csv"
                info.value.save_as(out)
                got = pd.read_csv(out)
                same = (
                    len(got) == len(frames[i]) and got["cid"].tolist() == frames[i]["cid"].tolist()
                )
                ok += same
                print(f"session {i}: {len(got)} rows, own data: {same}")
            wall = time.perf_counter() - t0
            browser.close()
            peak = _peak_rss_mb(proc.pid)
        print(f"{ok}/{args.sessions} sessions got their own results in {wall:.1f} s; "
              f"server peak memory (VmHWM) {peak:.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
