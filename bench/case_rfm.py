"""rfm() on a generated purchase log against the plain pandas recipe analysts write.

The reference is the usual tutorial code on the parsed log: drop lines without a
customer and cancellations, ``spend = quantity * price``, one ``groupby(...).agg``
(last date, distinct invoices, total spend) - less than ``rfm`` does (no returns
netting, no date detection, no scores or groups). Also timed: the command line on
the same log as CSV (chunked), with its peak memory (max RSS of the child process).

``make_log`` is also the tests' generator (tests/test_rfm*.py, tests/test_cli.py).
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.studies.rfm import rfm
from bench.common import Measurement, measure, row

#: Column names of the generated log (those of the UCI Online Retail data).
LOG_COLUMNS = dict(
    customer="CustomerID", date="InvoiceDate", quantity="Quantity", price="UnitPrice",
    invoice="InvoiceNo",
)  # fmt: skip


def make_log(
    n_lines: int,
    random_state: int = 0,
    date_format: str = "%d/%m/%Y %H:%M",
    missing_customers: float = 0.05,
    cancelled: float = 0.02,
    returns: float = 0.01,
) -> pd.DataFrame:
    """A purchase log like a web shop's: one row per order line, sorted by time.

    About 8 lines per invoice; customers' order counts are skewed (about half order
    once), unit prices log-normal, a share of invoices cancelled (``C`` + number,
    negative quantities), a share of lines returned (negative quantity) and a share
    of invoices without a customer.

    Parameters
    ----------
    n_lines : int
    random_state : int
    date_format : str
        ``strftime`` format of ``InvoiceDate`` (text), or ``""`` for datetime64 values.
    missing_customers, cancelled, returns : float
        Shares of invoices without a customer, of cancelled invoices, of returned lines.

    Returns
    -------
    DataFrame of shape (n_lines, 7)
        InvoiceNo, StockCode, Quantity, InvoiceDate, UnitPrice, CustomerID, Country.
    """
    rng = np.random.default_rng(random_state)
    n_invoices = max(1, n_lines // 8)
    n_customers = max(1, int(n_invoices * 0.35))
    # Skewed loyalty: a few customers place many orders, about half place one.
    weight = rng.pareto(1.5, n_customers) + 0.3
    inv_customer = rng.choice(n_customers, size=n_invoices, p=weight / weight.sum())
    start = np.datetime64("2010-12-01T08:00")
    minutes = np.sort(rng.integers(0, 365 * 24 * 60, size=n_invoices))
    inv_time = start + minutes.astype("timedelta64[m]")
    inv_number = np.arange(536365, 536365 + n_invoices)
    inv_cancelled = rng.random(n_invoices) < cancelled
    inv_no_customer = rng.random(n_invoices) < missing_customers
    # Lines per invoice: at least 1, about 8 on average; trimmed to n_lines exactly.
    per = rng.poisson(7, size=n_invoices) + 1
    line_invoice = np.repeat(np.arange(n_invoices), per)
    if len(line_invoice) < n_lines:
        extra = rng.integers(0, n_invoices, size=n_lines - len(line_invoice))
        line_invoice = np.sort(np.concatenate([line_invoice, extra]))
    line_invoice = line_invoice[:n_lines]
    n = len(line_invoice)
    quantity = rng.geometric(0.25, size=n)
    returned = rng.random(n) < returns
    sign = np.where(inv_cancelled[line_invoice] | returned, -1, 1)
    price = np.round(np.exp(rng.normal(1.0, 0.8, size=n)), 2)
    invoice_text = np.char.add(
        np.where(inv_cancelled[line_invoice], "C", ""), inv_number[line_invoice].astype(str)
    )
    customer = (12346 + inv_customer[line_invoice]).astype("float64")
    customer[inv_no_customer[line_invoice]] = np.nan
    times = pd.DatetimeIndex(inv_time[line_invoice])
    dates = times.strftime(date_format) if date_format else times
    return pd.DataFrame(
        {
            "InvoiceNo": invoice_text,
            "StockCode": rng.integers(10000, 90000, size=n).astype(str),
            "Quantity": sign * quantity,
            "InvoiceDate": dates,
            "UnitPrice": price,
            "CustomerID": customer,
            "Country": rng.choice(["United Kingdom", "France", "Germany", "EIRE"], size=n),
        }
    )


def reference_rfm(log: pd.DataFrame) -> pd.DataFrame:
    """The tutorial recipe: no cancellations, no missing customers, one groupby."""
    df = log[log["CustomerID"].notna() & ~log["InvoiceNo"].str.startswith("C")]
    df = df[df["Quantity"] > 0].copy()
    df["InvoiceDate"] = pd.to_datetime(df["InvoiceDate"], format="%d/%m/%Y %H:%M")
    df["spend"] = df["Quantity"] * df["UnitPrice"]
    snapshot = df["InvoiceDate"].max().normalize() + pd.Timedelta(days=1)
    return df.groupby("CustomerID").agg(
        recency=("InvoiceDate", lambda d: (snapshot - d.max().normalize()).days),
        frequency=("InvoiceNo", "nunique"),
        monetary=("spend", "sum"),
    )


def run_cli(log_path: Path, out: Path, chunksize: int = 200_000) -> Measurement:
    """Time ``python -m analytics rfm`` on ``log_path``; peak_mb is the child's max RSS."""
    cmd = [
        sys.executable, "-m", "analytics", "rfm", str(log_path), "--customer", "CustomerID",
        "--date", "InvoiceDate", "--quantity", "Quantity", "--price", "UnitPrice",
        "--invoice", "InvoiceNo", "-o", str(out), "-q", "--chunksize", str(chunksize),
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=Path(__file__).resolve().parent.parent)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return Measurement(seconds, peak, None)


def cases(quick: bool) -> list[dict]:
    n = 100_000 if quick else 1_000_000
    log = make_log(n)
    ours = measure(lambda: rfm(log, **LOG_COLUMNS))
    ref = measure(lambda: reference_rfm(log))
    rows = [
        row(
            f"rfm in memory, {n:,} lines",
            ours,
            ref,
            note=f"{len(ours.value):,} customers; reference: plain groupby recipe",
        )
    ]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "log.csv"
        log.to_csv(src, index=False)
        cli = run_cli(src, Path(tmp) / "customers.csv")
        read = measure(lambda: pd.read_csv(src), trace_memory=False)
    rows.append(
        row(
            f"rfm CLI (CSV, chunked), {n:,} lines",
            cli,
            read,
            note="peak = max RSS of the CLI process; reference: pd.read_csv of the log alone",
        )
    )
    return rows


if __name__ == "__main__":
    for r in cases("--quick" in sys.argv):
        print(r)
