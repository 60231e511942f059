"""``python -m analytics rfm``: one row per customer (RFM) from a purchase log, in chunks.

The log is read ``--chunksize`` lines at a time (CSV through pandas' chunked
reader, only the needed columns; Parquet batch by batch through pyarrow) and
each chunk is aggregated per customer (:class:`analytics.studies.rfm.RFMBuilder`),
so memory follows the number of customers and orders, not of lines. The table
is written through a temporary file beside the output, renamed when complete;
an output that is the input (or links to it) is refused before any work.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from analytics.cli.common import (
    PARQUET_SUFFIXES,
    ProgressBar,
    atomic_output,
    check_input_file,
    check_paths,
    say,
    short,
)
from analytics.errors import FileFormatError, InputError

if TYPE_CHECKING:
    import pandas as pd

    from analytics.studies.rfm import RFMColumns

__all__ = ["DATE_ORDERS", "run"]

#: ``--dates`` choices and the ``dayfirst`` each means.
DATE_ORDERS = {"auto": None, "day-first": True, "month-first": False}


def run(args: argparse.Namespace) -> int:
    """Run ``rfm`` with parsed arguments; returns the exit code."""
    from analytics.studies.rfm import RFMColumns, rfm_from_chunks

    if args.chunksize < 1:
        raise InputError(
            f"--chunksize must be at least 1, got {args.chunksize}.", code="bad_option"
        )
    src, out = Path(args.input), Path(args.output)
    check_input_file(src)
    check_paths([("input", src)], out)
    columns = RFMColumns(
        args.customer, args.date, args.amount, args.quantity, args.price, args.invoice
    )
    bar = ProgressBar("rfm  ", enabled=not args.quiet)
    if src.suffix.lower() in PARQUET_SUFFIXES:
        names, chunks, decimal = _parquet_source(src, columns, args.chunksize, bar)
    else:
        names, chunks, decimal = _csv_source(src, columns, args.chunksize, args.sep, bar)
    columns.validate(names)  # before reading: a misspelt column fails at once
    try:
        table, report = rfm_from_chunks(
            chunks, columns, as_of=args.as_of, dayfirst=DATE_ORDERS[args.dates],
            decimal=decimal, cancelled_prefix=args.cancelled_prefix or None,
        )  # fmt: skip
        bar.update(1.0, f"{report.rows_read:,} lines", force=True)
    finally:
        bar.close()
    data = _encode(table, out)  # built before anything is written
    with atomic_output(out) as tmp:
        tmp.write_bytes(data)
    if not args.quiet:
        for line in report.lines():
            say(line)
        say(f"Wrote {len(table):,} customers to {out}.")
    return 0


def _encode(table: pd.DataFrame, out: Path) -> bytes:
    import io

    from analytics.io import to_csv_bytes

    if out.suffix.lower() in PARQUET_SUFFIXES:
        buf = io.BytesIO()
        table.to_parquet(buf, index=False)
        return buf.getvalue()
    out = table.copy(deep=False)
    for c in ("first_purchase", "last_purchase"):
        out[c] = out[c].dt.strftime("%Y-%m-%d")  # days, as 2010-12-31 (no midnight time)
    return to_csv_bytes(out)


def _wanted(columns: RFMColumns) -> list[str]:
    return [c for c in (columns.customer, columns.date, columns.amount, columns.quantity,
                        columns.price, columns.invoice) if c is not None]  # fmt: skip


def _csv_source(
    path: Path, columns: RFMColumns, chunksize: int, sep: str | None, bar: ProgressBar
) -> tuple[list[str], Callable[[], Iterator[pd.DataFrame]], str]:
    """The header's names, a function giving fresh chunks of the needed columns (text),
    and the decimal mark."""
    import pandas as pd

    from analytics.cli.score import sniff_file

    dialect = sniff_file(path, sep)
    names = list(dialect.columns)
    size = max(path.stat().st_size, 1)

    def chunks() -> Iterator[pd.DataFrame]:
        wanted = [c for c in _wanted(columns) if c in names]
        positions = sorted(names.index(c) for c in wanted)
        with path.open("rb") as handle:
            try:
                reader = pd.read_csv(
                    handle, sep=dialect.delimiter, header=0, dtype=str, usecols=positions,
                    keep_default_na=True, skip_blank_lines=True, quotechar='"',
                    doublequote=True, chunksize=chunksize, encoding=dialect.codec,
                    # The encoding is sniffed from the file's start; a stray byte further
                    # on (the Online Retail file has one in a description) must not stop
                    # a long run, so it is replaced.
                    encoding_errors="replace", engine="c",
                )  # fmt: skip
            except (ValueError, UnicodeError) as exc:
                raise FileFormatError(
                    f"{path.name} could not be read as CSV ({short(exc)}).", code="unreadable"
                ) from exc
            with reader:
                while True:
                    try:
                        chunk = next(reader)
                    except StopIteration:
                        return
                    except (ValueError, UnicodeError) as exc:
                        raise FileFormatError(
                            f"{path.name} could not be read as CSV ({short(exc)}). "
                            "Check that every row has as many fields as the header.",
                            code="unreadable",
                        ) from exc
                    chunk.columns = [names[i] for i in positions]
                    blank = chunk.isna().all(axis=1)
                    if blank.any():
                        chunk = chunk.loc[~blank]
                    bar.update(_tell(handle) / size)
                    yield chunk

    return names, chunks, dialect.decimal


def _tell(handle: object) -> float:
    try:
        return float(handle.tell())  # type: ignore[attr-defined]
    except (ValueError, OSError):
        return 0.0


def _parquet_source(
    path: Path, columns: RFMColumns, chunksize: int, bar: ProgressBar
) -> tuple[list[str], Callable[[], Iterator[pd.DataFrame]], str]:
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path)
    except Exception as exc:  # ArrowInvalid and friends
        raise FileFormatError(
            f"{path.name} could not be read as Parquet ({short(exc)}).", code="unreadable"
        ) from exc
    names = list(meta.schema_arrow.names)
    total = max(meta.metadata.num_rows, 1)
    meta.close()

    def chunks() -> Iterator[pd.DataFrame]:
        wanted = [c for c in _wanted(columns) if c in names]
        done = 0
        with pq.ParquetFile(path) as pf:
            for batch in pf.iter_batches(batch_size=chunksize, columns=wanted):
                done += batch.num_rows
                bar.update(done / total)
                if batch.num_rows:
                    yield batch.to_pandas()

    return names, chunks, "."
