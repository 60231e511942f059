"""Command line: fit a model file, score files larger than memory with it, write a report.

::

    python -m analytics fit customers.csv --method gmm --k 5 -o model.json
    python -m analytics score model.json next_month.parquet -o scored.parquet
    python -m analytics rfm orders.csv --customer CustomerID --date InvoiceDate \
        --quantity Quantity --price UnitPrice --invoice InvoiceNo -o customers.csv
    python -m analytics report customers.csv --analysis analysis.json -o report.html

This module holds the argument parser and the dispatch; the subcommands are
:mod:`analytics.cli.fit`, :mod:`analytics.cli.score`, :mod:`analytics.cli.rfm` and :mod:`analytics.cli.report`. They import pandas,
scikit-learn and the model only when they run, so ``--help`` answers at once.
A progress bar goes to stderr. Bad input ends with exit code 2 and one plain line.
"""

from __future__ import annotations

import argparse
from typing import Any

from analytics.cli.common import COVARIANCE_TYPES, METHODS, fail
from analytics.cli.rfm import DATE_ORDERS
from analytics.cli.score import DEFAULT_CHUNKSIZE
from analytics.errors import InputError

__all__ = ["build_parser", "main"]

_DESCRIPTION = """\
Customer segmentation from the command line.

  fit    fit k-means, fuzzy c-means or a Gaussian mixture to a CSV or Parquet file
         and write the model as one JSON file (safe to open: no pickle)
  score  give every row of a CSV or Parquet file its segment with a saved model,
         reading and writing in chunks, so files larger than memory work
  rfm    turn a purchase log (one row per order line) into one row per customer:
         recency, frequency, spend, tenure, 1-5 scores and named groups (chunked)
  report write one HTML file (opens offline in any browser) describing the segments,
         from an analysis file saved in the app or from --method and --k

Examples:
  python -m analytics fit customers.csv --method gmm --k 5 -o model.json
  python -m analytics score model.json next_month.csv -o scored.csv
  python -m analytics score model.json big.parquet -o scored.parquet --chunksize 200000
  python -m analytics rfm orders.csv --customer CustomerID --date InvoiceDate \
      --quantity Quantity --price UnitPrice --invoice InvoiceNo -o customers.csv
  python -m analytics report customers.csv --analysis analysis.json -o report.html
  python -m analytics report customers.csv --method kmeans --k 4 -o report.html --table labelled.csv
"""


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m analytics`` argument parser (subcommands ``fit``, ``score``, ``rfm``, ``report``)."""
    parser = argparse.ArgumentParser(
        prog="python -m analytics",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{fit,score,rfm,report}")

    fit = sub.add_parser(
        "fit",
        help="fit a segmentation and write the model file",
        description=(
            "Fit a segmentation to INPUT (CSV, or Parquet when the name ends in .parquet/.pq) "
            "and write the model file. The whole input is read into memory; for data larger "
            "than memory fit on a sample (see README, 'Dask') and score the rest with 'score'."
        ),
    )
    fit.add_argument("input", metavar="INPUT", help="table to fit on (.csv or .parquet)")
    fit.add_argument(
        "-o", "--output", required=True, metavar="MODEL", help="model file to write (.json)"
    )
    fit.add_argument(
        "--method",
        choices=METHODS,
        default="gmm",
        help="kmeans, fcm (fuzzy c-means) or gmm (Gaussian mixture); default gmm",
    )
    fit.add_argument("--k", type=int, required=True, help="number of segments")
    fit.add_argument(
        "--columns",
        metavar="A,B,...",
        help="comma-separated feature columns; default: every numeric and category column",
    )
    fit.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    fit.add_argument(
        "--scaling",
        choices=("standard", "robust", "none"),
        help="feature scaling (default standard)",
    )
    fit.add_argument(
        "--impute",
        choices=("median", "mean"),
        help="fill missing numbers with the median (default) or mean",
    )
    fit.add_argument(
        "--log-transform",
        metavar="auto|none|A,B,...",
        help="log1p-transform columns: 'auto' (default: every non-negative column with "
        "skewness above 1), 'none', or a comma-separated list",
    )
    fit.add_argument(
        "--covariance-type",
        choices=COVARIANCE_TYPES,
        help="gmm only: covariance shape (default full)",
    )
    fit.add_argument("--m", type=float, help="fcm only: fuzzifier m > 1 (default 2)")
    fit.add_argument("--n-init", type=int, help="number of random starts")
    fit.add_argument("--max-iter", type=int, help="iteration limit per start")
    fit.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    fit.set_defaults(func=_run_fit)

    score = sub.add_parser(
        "score",
        help="label every row of a file with a saved model (chunked)",
        description=(
            "Score INPUT with MODEL and write OUTPUT: every input row and column plus segment, "
            "segment_name and the method's soft output (gmm: segment_probability and "
            "prob_segment_1..k; fcm: segment_membership and membership_segment_1..k; kmeans: "
            "distance_segment_1..k). CSV or Parquet in and out (chosen by "
            "the file names' endings .parquet/.pq, else CSV). Reads and writes in chunks, so "
            "files larger than memory work. CSV input: encoding, delimiter and decimal comma "
            "are detected from the start of the file; every column is kept as written."
        ),
    )
    score.add_argument("model", metavar="MODEL", help="model file from 'fit' or Segmentation.save")
    score.add_argument("input", metavar="INPUT", help="table to score (.csv or .parquet)")
    score.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUTPUT",
        help="labelled table to write (.csv or .parquet)",
    )
    score.add_argument(
        "--chunksize",
        type=int,
        default=DEFAULT_CHUNKSIZE,
        help=f"rows per chunk (default {DEFAULT_CHUNKSIZE:,})",
    )
    score.add_argument(
        "--sep", help="CSV delimiter, if detection picks the wrong one (use '\\t' for tab)"
    )
    score.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    score.set_defaults(func=_run_score)
    _add_rfm(sub)

    report = sub.add_parser(
        "report",
        help="write a self-contained HTML report of a segmentation",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Segment DATA and write one HTML file for a manager: the data and its preparation,\n"
            "how k was chosen (a Choose k comparison: the session's, or a quick k = 2..8 one),\n"
            "the segments (names, sizes, cards, profiles, the map), how certain they are, the\n"
            "anomalies when the analysis scored them, and every setting. Plotly's JavaScript is\n"
            "inside the file, so it opens offline in any browser; the analysis file is embedded.\n\n"
            "Either --analysis FILE (downloaded from the app's Segments page: reproduces that\n"
            "session exactly; refused, with the reason, for data other than the one it was made\n"
            "on) or --method and --k (default columns and preparation, as the app starts with)."
        ),
    )
    report.add_argument("input", metavar="DATA", help="the table (.csv or .parquet)")
    report.add_argument(
        "-o", "--output", required=True, metavar="REPORT", help="HTML file to write (.html)"
    )
    report.add_argument(
        "--analysis", metavar="FILE", help="analysis file (.json) saved from the app"
    )
    report.add_argument("--method", choices=METHODS, help="kmeans, fcm or gmm (without --analysis)")
    report.add_argument("--k", type=int, help="number of segments (without --analysis)")
    report.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    report.add_argument(
        "--table",
        metavar="TABLE",
        help="also write the labelled table (.csv or .parquet): every row and column plus "
        "segment and probabilities, as the app's 'Labelled table' download",
    )
    report.add_argument(
        "--no-sweep", action="store_true", help="leave out the Choose k comparison (faster)"
    )
    report.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    report.set_defaults(func=_run_report)
    return parser  # fmt: skip


def _add_rfm(sub: Any) -> None:
    rfm = sub.add_parser(
        "rfm",
        help="one row per customer (RFM) from a purchase log (chunked)",
        description=(
            "Read TRANSACTIONS (a purchase log: one row per order line; CSV, or Parquet when "
            "the name ends in .parquet/.pq) and write one row per customer: recency_days, "
            "frequency (distinct invoices, or distinct purchase days without --invoice), "
            "monetary (total spend: --amount, or --quantity x --price), tenure_days, "
            "avg_order_value, r_score/f_score/m_score (1-5 quintiles) and rfm_group "
            "(Champions, At risk, ...). Returns and cancellations (negative amounts or "
            "quantities, invoices starting with C and a digit) reduce spend and are not "
            "orders; lines without a customer are left out and counted. The log is read in "
            "chunks, so logs larger than memory work. Output: CSV, or Parquet by its name."
        ),
    )
    rfm.add_argument("input", metavar="TRANSACTIONS", help="purchase log (.csv or .parquet)")
    rfm.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUTPUT",
        help="customer table to write (.csv or .parquet)",
    )
    rfm.add_argument("--customer", required=True, metavar="C", help="customer column")
    rfm.add_argument("--date", required=True, metavar="D", help="purchase date column")
    spend = rfm.add_mutually_exclusive_group(required=True)
    spend.add_argument("--amount", metavar="A", help="spend column of each line")
    spend.add_argument("--quantity", metavar="Q", help="quantity column (with --price)")
    rfm.add_argument("--price", metavar="P", help="unit price column (with --quantity)")
    rfm.add_argument(
        "--invoice",
        metavar="I",
        help="order (invoice) column; without it each purchase day is one order",
    )
    rfm.add_argument(
        "--as-of",
        metavar="DATE",
        help="reference day of recency and tenure (default: the day after the last date)",
    )
    rfm.add_argument(
        "--dates",
        choices=tuple(DATE_ORDERS),
        default="auto",
        help="how to read 01/02/2010: auto (decided from the dates, and reported), "
        "day-first (1 February) or month-first (2 January)",
    )
    rfm.add_argument(
        "--cancelled-prefix",
        default="C",
        metavar="TEXT",
        help="invoices starting with TEXT and a digit are cancellations (default C; '' = none)",
    )
    rfm.add_argument(
        "--chunksize",
        type=int,
        default=DEFAULT_CHUNKSIZE,
        help=f"lines per chunk (default {DEFAULT_CHUNKSIZE:,})",
    )
    rfm.add_argument(
        "--sep", help="CSV delimiter, if detection picks the wrong one (use '\\t' for tab)"
    )
    rfm.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    rfm.set_defaults(func=_run_rfm)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad input, 1 other failure)."""
    args = build_parser().parse_args(argv)
    from analytics.parallel import limit_blas_threads

    # The threading policy is set here, at the edge, once: one BLAS thread (OpenBLAS's
    # spinning workers slow the many small products of a mixture fit); row-block work
    # still uses every core through n_jobs.
    limit_blas_threads(1)
    try:
        return int(args.func(args))
    except InputError as exc:
        fail(exc.message)
        return 2
    except KeyboardInterrupt:
        fail("interrupted.")
        return 130
    except OSError as exc:
        fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        return 1


def _run_fit(args: argparse.Namespace) -> int:
    from analytics.cli import fit

    return fit.run(args)


def _run_score(args: argparse.Namespace) -> int:
    from analytics.cli import score

    return score.run(args)


def _run_rfm(args: argparse.Namespace) -> int:
    from analytics.cli import rfm

    if (args.quantity is None) != (args.price is None):
        raise InputError("--quantity and --price go together (spend = quantity x price).")
    return rfm.run(args)


def _run_report(args: argparse.Namespace) -> int:
    from analytics.cli import report

    return report.run(args)
