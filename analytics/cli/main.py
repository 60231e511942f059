"""Command line: fit a model file, and score files larger than memory with it.

::

    python -m analytics fit customers.csv --method gmm --k 5 -o model.json
    python -m analytics score model.json next_month.parquet -o scored.parquet

This module holds the argument parser and the dispatch; the subcommands are
:mod:`analytics.cli.fit` and :mod:`analytics.cli.score`. They import pandas,
scikit-learn and the model only when they run, so ``--help`` answers at once.
A progress bar goes to stderr. Bad input ends with exit code 2 and one plain line.
"""

from __future__ import annotations

import argparse

from analytics.cli.common import COVARIANCE_TYPES, METHODS, fail
from analytics.cli.score import DEFAULT_CHUNKSIZE
from analytics.errors import InputError

__all__ = ["build_parser", "main"]

_DESCRIPTION = """\
Customer segmentation from the command line.

  fit    fit k-means, fuzzy c-means or a Gaussian mixture to a CSV or Parquet file
         and write the model as one JSON file (safe to open: no pickle)
  score  give every row of a CSV or Parquet file its segment with a saved model,
         reading and writing in chunks, so files larger than memory work

Examples:
  python -m analytics fit customers.csv --method gmm --k 5 -o model.json
  python -m analytics score model.json next_month.csv -o scored.csv
  python -m analytics score model.json big.parquet -o scored.parquet --chunksize 200000
"""


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m analytics`` argument parser (subcommands ``fit`` and ``score``)."""
    parser = argparse.ArgumentParser(
        prog="python -m analytics",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{fit,score}")

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
    return parser  # fmt: skip


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
