"""``python -m analytics report``: the self-contained HTML report of an analysis.

Either ``--analysis analysis.json`` (the file the app downloads: reproduce a session
exactly) or ``--method M --k K [--seed S]`` (a new analysis with the default columns
and preparation). ``--table`` also writes the labelled table, the same as the app's
"Labelled table" download for the same analysis.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from analytics.cli.common import (
    PARQUET_SUFFIXES,
    ProgressBar,
    atomic_output,
    check_input_file,
    check_paths,
    say,
)
from analytics.errors import InputError

__all__ = ["run"]

#: Probabilities in the labelled table are rounded as in the app's download.
PROBABILITY_DECIMALS = 6


def run(args: argparse.Namespace) -> int:
    """Run ``report`` with parsed arguments; returns the exit code."""
    src, out = Path(args.input), Path(args.output)
    table_out = Path(args.table) if args.table else None
    analysis_path = Path(args.analysis) if args.analysis else None
    if analysis_path is None and (args.method is None or args.k is None):
        raise InputError(
            "Give either --analysis FILE (an analysis file from the app) or --method and --k.",
            code="bad_option",
        )
    if analysis_path is not None and (args.method is not None or args.k is not None):
        raise InputError(
            "--analysis already holds the method and k; leave out --method/--k (or --analysis).",
            code="bad_option",
        )
    # Before any work: no output may be an input or the other output; folders writable.
    check_input_file(src)
    inputs = [("input", src)]
    if analysis_path is not None:
        check_input_file(analysis_path, "analysis file")
        inputs.append(("analysis file", analysis_path))
    check_paths(inputs, out)
    if table_out is not None:
        check_paths([*inputs, ("report", out)], table_out)

    from analytics.report.analysis import load_analysis, run_analysis

    analysis = load_analysis(analysis_path) if analysis_path is not None else None
    data, df = _read(src)
    if analysis is None:
        analysis = _new_analysis(df, data, src.name, args)
    bar = ProgressBar("report", enabled=not args.quiet)
    try:
        results = run_analysis(
            df, analysis, data=data, data_name=src.name, sweep=not args.no_sweep, synthetic=False,
            progress=lambda f, text: bar.update(f, text),
        )  # fmt: skip
        from analytics.report.html import report_html

        bar.update(0.95, "Writing the report", force=True)
        text = report_html(results).encode("utf-8")
        table = None
        if table_out is not None:
            table = _table_bytes(results.seg, table_out)
        bar.update(1.0, "done", force=True)
    finally:
        bar.close()
    with atomic_output(out) as tmp:
        tmp.write_bytes(text)
    if table_out is not None and table is not None:
        with atomic_output(table_out) as tmp:
            tmp.write_bytes(table)
    if not args.quiet:
        seg = results.seg
        sizes = ", ".join(f"{s:,}" for s in seg.sizes)
        say(f"{seg.k} segments of {len(df):,} rows; sizes {sizes}.")
        say(f"Report written to {out} ({len(text) / 1e6:.1f} MB)")
        if table_out is not None:
            say(f"Labelled table written to {table_out}")
    return 0


def _read(src: Path) -> tuple[bytes | None, Any]:
    """The file's bytes (for its fingerprint) and its table."""
    from analytics.cli.fit import read_whole

    if src.suffix.lower() in PARQUET_SUFFIXES:
        return src.read_bytes(), read_whole(src)
    from analytics.io import read_table

    data = src.read_bytes()
    # The app's upload limit does not apply on the command line.
    return data, read_table(data, filename=src.name, max_bytes=max(len(data), 1))


def _new_analysis(df: Any, data: bytes | None, name: str, args: argparse.Namespace) -> Any:
    """An analysis with the app's defaults: the profiled feature columns, standard scaling."""
    from analytics.preparation import Preparer, PrepOptions, profile_columns
    from analytics.report.analysis import Analysis, fingerprint

    prof = profile_columns(df)
    features = prof.loc[prof["use"], "column"].tolist()
    roles = {c: r for c, r in zip(prof["column"], prof["role"], strict=True) if c in set(features)}
    fp = fingerprint(data, df, name) if data is not None else fingerprint(df)
    if not features:
        raise InputError(
            f"{name} has no numeric or category column to segment on.", code="no_features"
        )
    # The library's default preparation, spelled out: the skewed columns it logs itself
    # (the app starts a table with the same list).
    numeric = [c for c in features if roles.get(c) == "numeric"]
    logged: list[str] = []
    if numeric:
        prep = Preparer(columns=numeric, options=PrepOptions(log_transform=True))
        logged = list(prep.fit(df, dict.fromkeys(numeric, "numeric")).log_columns)
    preparation = {"scaling": "standard", "impute": "median", "log_transform": logged}
    return Analysis(data=fp, features=features, roles=roles, method=args.method, k=args.k,
                    seed=args.seed, preparation=preparation)  # fmt: skip


def _table_bytes(seg: Any, path: Path) -> bytes:
    """The labelled table (every row and column, plus segment and probabilities)."""
    table = seg.table(probability_decimals=PROBABILITY_DECIMALS)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        import io

        buf = io.BytesIO()
        table.to_parquet(buf, index=False)
        return buf.getvalue()
    from analytics.io import to_csv_bytes

    return to_csv_bytes(table)
