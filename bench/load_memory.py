"""Server memory over many sessions, and one wide job beside another session's work (issue 17).

``memory``: ``--sessions`` browser sessions, one after another, each upload the
same ``--mb`` MB CSV, let the Segments page fit it, score the same file with that fit
("Score new data"), and leave (their tab closes). Prints the server's peak RSS, its RSS
when the last session has left, ``--wait`` seconds later, and after one new visitor.

``isolation``: session B fits a Gaussian mixture (k = 6) on the bundled sample alone, then again while
session A runs a wide job (200 rows x 2,000 columns, a Gaussian mixture with the tied
covariance, k = 10, within the limits); prints B's fit time both ways.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python -m bench.load_memory memory
    OPENBLAS_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python -m bench.load_memory isolation

Run from the checkout to measure (its ``serve.py`` is started).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
import threading
import time
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np
import pandas as pd

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, running_app, wait_idle

ROOT = Path.cwd()


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` now, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Sampler(threading.Thread):
    """Samples a process's RSS every ``every`` seconds; ``peak`` is the largest seen."""

    def __init__(self, pid: int, every: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak, self.stopped = pid, every, 0.0, False

    def run(self) -> None:
        while not self.stopped:
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(self.every)


def server(log: Path) -> AbstractContextManager[tuple[str, subprocess.Popen]]:
    """``streamlit run serve.py`` on a free port, output to ``log``; yields (URL, process)."""
    return running_app(timeout=120, with_process=True, log=log)


def customers_csv(path: Path, mb: float, seed: int = 0) -> int:
    """A customer table of about ``mb`` MB; returns its row count."""
    rng = np.random.default_rng(seed)
    n = int(mb * 1024 * 1024 / 30)
    df = pd.DataFrame(
        {
            "customer_id": [f"C{j:07d}" for j in range(n)],
            "spend": np.round(rng.lognormal(6, 1, n), 2),
            "visits": rng.integers(0, 50, n),
            "tenure_months": rng.integers(1, 120, n),
            "age": rng.integers(18, 90, n),
            "region": rng.choice(["north", "south", "east", "west"], n),
        }
    )
    df.to_csv(path, index=False)
    return n


def one_session(browser, url: str, csv: Path, rows: int) -> None:
    """Upload, fit (the page's first-visit fit), score the same file, leave."""
    ctx = browser.new_context()
    page = ctx.new_page()
    page.set_default_timeout(900_000)
    page.goto(url)
    wait_idle(page, 900_000)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(csv))
    page.get_by_test_id("stMetric").filter(has_text="Rows").get_by_text(f"{rows:,}", exact=True).wait_for()  # fmt: skip
    wait_idle(page, 900_000)
    page.get_by_test_id("stSidebarNav").get_by_text("Segments").click()
    page.get_by_role("heading", name="Downloads").wait_for()
    wait_idle(page, 900_000)
    page.get_by_test_id("stFileUploaderDropzoneInput").last.set_input_files(str(csv))
    page.get_by_test_id("stMetric").filter(has_text="Rows scored").wait_for()
    wait_idle(page, 900_000)
    ctx.close()  # the tab closes: the session ends


def memory(args: argparse.Namespace) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "customers.csv"
        rows = customers_csv(csv, args.mb)
        size = csv.stat().st_size / 1024**2
        with server(Path(tmp) / "server.log") as (url, proc), sync_playwright() as p:
            sampler = Sampler(proc.pid)
            sampler.start()
            start_rss = rss_mb(proc.pid)
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            t0 = time.perf_counter()
            errors = 0
            for i in range(args.sessions):  # one after another, each leaves before the next
                try:
                    one_session(browser, url, csv, rows)
                except Exception as exc:  # report, keep measuring
                    errors += 1
                    print(f"session {i + 1} failed: {exc}", flush=True)
                print(f"{i + 1} sessions done ({time.perf_counter() - t0:.0f} s), "
                      f"RSS {rss_mb(proc.pid):.0f} MB", flush=True)  # fmt: skip
            browser.close()
            at_end = rss_mb(proc.pid)
            time.sleep(args.wait)
            after = rss_mb(proc.pid)
            # One new visitor (touches the session store, as the red team saw).
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(url)
            wait_idle(page)
            browser.close()
            time.sleep(5)
            visitor = rss_mb(proc.pid)
            sampler.stopped = True
            peak = max(sampler.peak, at_end)
        print(
            f"{args.sessions} sessions x {size:.0f} MB CSV ({rows:,} rows): server RSS at "
            f"start {start_rss:.0f} MB, peak {peak:.0f} MB, when the last left {at_end:.0f} MB, "
            f"{args.wait:.0f} s later {after:.0f} MB, after one new visitor {visitor:.0f} MB"
        )


def _b_fit(page) -> float:
    """Session B: a Gaussian mixture (k = 6, 4 starts) on the sample; wall seconds from the
    click until the page shows the new fit."""
    page.get_by_test_id("stSidebarNav").get_by_text("Segments").click()
    wait_idle(page)
    page.get_by_role("combobox", name="Method").click()
    page.get_by_role("option", name="Gaussian mixture").click()
    wait_idle(page)
    page.get_by_role("spinbutton", name="Segments (k)").fill("6")
    page.keyboard.press("Enter")
    wait_idle(page)
    started = time.perf_counter()
    page.get_by_role("button", name="Fit", exact=True).click()
    page.locator('[data-testid="stApp"][data-test-script-state="running"]').wait_for()
    wait_idle(page)
    page.get_by_text(re.compile(r"Fitted in [0-9.]+ s")).first.wait_for()
    return time.perf_counter() - started


def isolation(args: argparse.Namespace) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        wide = Path(tmp) / "wide.csv"
        x = np.random.default_rng(0).normal(size=(200, 2000)).round(3)
        pd.DataFrame(x, columns=[f"c{j}" for j in range(2000)]).to_csv(wide, index=False)
        with server(Path(tmp) / "server.log") as (url, proc), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            b = browser.new_context().new_page()
            b.set_default_timeout(900_000)
            b.goto(url)
            wait_idle(b)
            alone = [_b_fit(b) for _ in range(args.repeats)]
            a = browser.new_context().new_page()
            a.set_default_timeout(900_000)
            a.goto(url)
            wait_idle(a)
            a.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(wide))
            a.get_by_test_id("stMetric").filter(has_text="Rows").get_by_text("200", exact=True).wait_for()  # fmt: skip
            wait_idle(a, 900_000)
            a.get_by_test_id("stSidebarNav").get_by_text("Segments").click()
            wait_idle(a, 900_000)
            a.get_by_role("spinbutton", name="Segments (k)").fill("10")
            a.keyboard.press("Enter")
            wait_idle(a, 900_000)
            a.get_by_role("combobox", name="Covariance type").click()
            a.get_by_role("option", name="tied").click()
            wait_idle(a, 900_000)
            a.get_by_role("button", name="Fit", exact=True).click()  # A's wide job starts
            time.sleep(2)
            a_running = a.locator('[data-testid="stApp"][data-test-script-state="running"]')
            beside = []
            for _ in range(args.repeats):
                beside.append(_b_fit(b))
            a_still = a_running.count() > 0
            wait_idle(a, 900_000)
            browser.close()
        print(
            f"Session B's Gaussian-mixture fit (sample, k = 6, click to result): alone {np.median(alone):.2f} s "
            f"(runs {', '.join(f'{s:.2f}' for s in alone)}); beside session A's wide job "
            f"(200 x 2,000, tied, k = 10) {np.median(beside):.2f} s "
            f"(runs {', '.join(f'{s:.2f}' for s in beside)}); A still running after B: {a_still}; "
            f"ratio {np.median(beside) / np.median(alone):.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    m = sub.add_parser("memory")
    m.add_argument("--sessions", type=int, default=20)
    m.add_argument("--mb", type=float, default=20.0)
    m.add_argument("--wait", type=float, default=120.0)
    i = sub.add_parser("isolation")
    i.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    {"memory": memory, "isolation": isolation}[args.what](args)


if __name__ == "__main__":
    main()
