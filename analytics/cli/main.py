"""Command line: fit a model file, and score files larger than memory with it.

::

    python -m analytics fit customers.csv --method gmm --k 5 -o model.json
    python -m analytics score model.json next_month.parquet -o scored.parquet

``score`` streams: it reads the input in chunks of ``--chunksize`` rows (CSV
through pandas' chunked reader, Parquet batch by batch through pyarrow), scores
each chunk and appends it to the output, so memory stays near one chunk whatever
the file's size. The output is written to ``OUTPUT.part`` and renamed when
complete, so a failed run never leaves a half-written file under the real name.
A progress bar goes to stderr. Bad input ends with exit code 2 and one plain line.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from analytics.errors import FileFormatError, InputError
from analytics.io import read as aio
from analytics.model.fit import COVARIANCE_TYPES, METHOD_NAMES, METHODS, segment
from analytics.model.segment_model import (
    SegmentModel,
    align_categories,
    load_model,
    shares_comparison,
)

__all__ = ["build_parser", "main"]

PARQUET_SUFFIXES = (".parquet", ".pq")
DEFAULT_CHUNKSIZE = 100_000

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


# --------------------------------------------------------------------------- progress


class ProgressBar:
    """A plain-text progress bar on stderr, redrawn in place with ``\\r``."""

    def __init__(self, label: str, stream: IO[str] | None = None, enabled: bool = True) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self._last = 0.0
        self._drawn = False

    def update(self, fraction: float, text: str = "", force: bool = False) -> None:
        """Draw ``fraction`` (0..1) done; redraws at most every 0.2 s unless ``force``."""
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and self._drawn and now - self._last < 0.2:
            return
        self._last, self._drawn = now, True
        f = min(max(float(fraction), 0.0), 1.0)
        filled = int(round(f * 30))
        bar = "#" * filled + "." * (30 - filled)
        self.stream.write(f"\r{self.label} [{bar}] {f:4.0%} {text}".ljust(100)[:100])
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line (only if something was drawn)."""
        if self.enabled and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


# --------------------------------------------------------------------------- parser


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
        metavar="auto|A,B,...",
        help="log1p-transform skewed columns: 'auto' or a comma-separated list",
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
    fit.set_defaults(func=_cmd_fit)

    score = sub.add_parser(
        "score",
        help="label every row of a file with a saved model (chunked)",
        description=(
            "Score INPUT with MODEL and write OUTPUT: every input row and column plus segment, "
            "segment_probability and prob_segment_1..k. CSV or Parquet in and out (chosen by "
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
    score.set_defaults(func=_cmd_score)
    return parser  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad input, 1 other failure)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except InputError as exc:
        _fail(exc.message)
        return 2
    except KeyboardInterrupt:
        _fail("interrupted.")
        return 130
    except OSError as exc:
        _fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        return 1


def _fail(message: str) -> None:
    sys.stderr.write("error: " + " ".join(str(message).split()) + "\n")


# --------------------------------------------------------------------------- fit


def _cmd_fit(args: argparse.Namespace) -> int:
    src = Path(args.input)
    df = _read_whole(src)
    params: dict[str, Any] = {}
    for name in ("scaling", "impute", "covariance_type", "m", "n_init", "max_iter"):
        value = getattr(args, name)
        if value is not None:
            params[name] = value
    if args.log_transform is not None:
        lt = args.log_transform.strip()
        params["log_transform"] = True if lt.lower() == "auto" else _split(lt)
    columns = _split(args.columns) if args.columns else None
    bar = ProgressBar("fit  ", enabled=not args.quiet)
    try:
        seg = segment(
            df, args.method, args.k, columns=columns, random_state=args.seed,
            progress=lambda f, text: bar.update(f, text), **params,
        )  # fmt: skip
        bar.update(1.0, "done", force=True)
    finally:
        bar.close()
    out = Path(args.output)
    _check_writable(out)
    tmp = out.with_name(out.name + ".part")
    seg.save(tmp)
    os.replace(tmp, out)
    if not args.quiet:
        sizes = ", ".join(f"{s:,}" for s in seg.sizes)
        _say(
            f"Fitted {METHOD_NAMES[seg.method]} with {seg.k} segments on {len(df):,} rows "
            f"({len(seg.feature_names)} features); sizes {sizes}."
        )
        for note in seg.warnings:
            _say(f"note: {note}")
        _say(f"Model written to {out}")
    return 0


def _read_whole(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in PARQUET_SUFFIXES:
        try:
            return pd.read_parquet(path)
        except FileNotFoundError as exc:
            raise FileFormatError(f"No file was found at {str(path)!r}.", code="not_found") from exc
        except Exception as exc:  # pyarrow raises ArrowInvalid / OSError subclasses
            raise FileFormatError(
                f"{path.name} could not be read as Parquet ({_short(exc)}).", code="unreadable"
            ) from exc
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise FileFormatError(f"No file was found at {str(path)!r}.", code="not_found") from exc
    # The app's 200 MB upload limit does not apply on the command line.
    return aio.read_table(path, max_bytes=max(size, 1))


# --------------------------------------------------------------------------- score


def _cmd_score(args: argparse.Namespace) -> int:
    if args.chunksize < 1:
        raise InputError(
            f"--chunksize must be at least 1, got {args.chunksize}.", code="bad_option"
        )
    model = load_model(args.model)
    src, out = Path(args.input), Path(args.output)
    if not src.exists():
        raise FileFormatError(f"No file was found at {str(src)!r}.", code="not_found")
    if src.resolve() == out.resolve():
        raise InputError("The output must be a different file from the input.", code="bad_option")
    _check_writable(out)
    in_parquet = src.suffix.lower() in PARQUET_SUFFIXES
    out_parquet = out.suffix.lower() in PARQUET_SUFFIXES
    bar = ProgressBar("score", enabled=not args.quiet)
    if in_parquet:
        chunks, progress, arrow_schema = _parquet_chunks(src, args.chunksize)
        originals: Callable[[pd.DataFrame], pd.DataFrame] | None = None
    else:
        chunks, progress, parse, dialect = _csv_chunks(src, args.chunksize, args.sep, model)
        arrow_schema = None
        originals = parse
    tmp = out.with_name(out.name + ".part")
    writer: _ParquetOut | _CsvOut
    if out_parquet:
        writer = _ParquetOut(tmp, arrow_schema)
    else:
        # A CSV input's values are copied as written, so the output keeps its delimiter
        # and decimal mark (a semicolon file with decimal commas stays one).
        writer = _CsvOut(tmp, *(dialect if not in_parquet else (",", ".", None)))
    counts = np.zeros(model.k, dtype="int64")
    unseen: dict[str, int] = {}
    n_rows = 0
    try:
        for chunk in chunks:
            # CSV columns arrive as text (kept verbatim in a CSV output); the model's
            # numeric columns are parsed the way read_table parses them.
            features = originals(chunk) if originals is not None else chunk
            features, missing = align_categories(features, model)
            for c, n in missing.items():
                unseen[c] = unseen.get(c, 0) + n
            scored = model.predict(features)
            # Write the input's own values: parsed numbers only into a typed (Parquet)
            # output, never the aligned category spellings.
            keep = list(model.preparer.categorical)
            if originals is not None and not out_parquet:
                keep += model.preparer.numeric
            for c in keep:
                if c in chunk.columns:
                    scored[c] = chunk[c]
            writer.write(scored)
            seg_col = model.output_names(chunk.columns)["segment"]
            counts += np.bincount(scored[seg_col].to_numpy(), minlength=model.k + 1)[1:]
            n_rows += len(scored)
            bar.update(progress(), f"{n_rows:,} rows")
        if n_rows == 0:
            raise FileFormatError(f"{src.name} has no data rows to score.", code="no_rows")
        writer.close()
        bar.update(1.0, f"{n_rows:,} rows", force=True)
    except BaseException:
        writer.close()
        tmp.unlink(missing_ok=True)
        raise
    finally:
        bar.close()
    os.replace(tmp, out)
    if not args.quiet:
        _report(model, counts, n_rows, unseen, out)
    return 0


def _report(
    model: SegmentModel, counts: np.ndarray, n_rows: int, unseen: dict[str, int], out: Path
) -> None:
    labels = np.repeat(np.arange(1, model.k + 1), counts)
    comp = shares_comparison(model, labels)
    _say(f"Scored {n_rows:,} rows into {out}.")
    _say("Segment shares, training -> new data:")
    for j, row in comp.iterrows():
        _say(
            f"  segment {j}: {row['training_share']:6.1%} -> {row['new_share']:6.1%} "
            f"({100 * row['change']:+.1f} points)"
        )
    for c, n in unseen.items():
        _say(f"note: '{c}': {n:,} row(s) have a value the model never saw; no category was set.")


def _check_writable(out: Path) -> None:
    if out.is_dir():
        raise InputError(f"{str(out)!r} is a folder; give a file name to write.", code="bad_option")
    if not out.parent.exists():
        raise InputError(f"The folder {str(out.parent)!r} does not exist.", code="bad_option")


# --------------------------------------------------------------------------- CSV input


def _csv_chunks(
    path: Path, chunksize: int, sep: str | None, model: SegmentModel
) -> tuple[
    Iterator[pd.DataFrame],
    Callable[[], float],
    Callable[[pd.DataFrame], pd.DataFrame],
    tuple[str, str, str | None],
]:
    """Chunks of a CSV as text columns, a progress reader, the numeric parser and the
    dialect (delimiter, decimal mark, thousands separator)."""
    size = max(path.stat().st_size, 1)
    with path.open("rb") as f:
        head = f.read(aio._SAMPLE_BYTES)
    if not head.strip():
        raise FileFormatError(f"{path.name} is empty.", code="empty_file")
    aio._check_magic(head, path.name)
    encoding, text = _sniff_encoding(head)
    sample, complete = aio._sample_text(text.encode("utf-8"))
    delim, records = aio._sniff_delimiter(sample, complete)
    if sep is not None:
        delim = "\t" if sep in ("\\t", "tab") else sep
        records = list(csv.reader(sample.splitlines()[:200], delimiter=delim))
    decimal, thousands = (
        aio._sniff_decimal(records, delim) if delim in aio._DELIMITER_NAMES else (".", None)
    )
    header = records[0] if records else []
    names, _ = aio._column_names(header)
    handle = path.open("rb")
    try:
        reader = pd.read_csv(
            handle, sep=delim, header=0, dtype=str, keep_default_na=True,
            skip_blank_lines=True, quotechar='"', doublequote=True, chunksize=chunksize,
            encoding=encoding, engine="c",
        )  # fmt: skip
    except (ValueError, UnicodeError) as exc:
        handle.close()
        raise FileFormatError(f"{path.name} could not be read as CSV ({_short(exc)}).") from exc

    def chunks() -> Iterator[pd.DataFrame]:
        with handle, reader:
            while True:
                try:
                    chunk = next(reader)
                except StopIteration:
                    return
                except (ValueError, UnicodeError) as exc:  # pandas ParserError is a ValueError
                    raise FileFormatError(
                        f"{path.name} could not be read as CSV ({_short(exc)}). "
                        "Check that every row has as many fields as the header.",
                        code="unreadable",
                    ) from exc
                if len(names) == chunk.shape[1]:
                    chunk.columns = names
                # read_table drops rows whose every field is empty; so does scoring.
                blank = chunk.isna().all(axis=1)
                if blank.any():
                    chunk = chunk.loc[~blank]
                if len(chunk):
                    yield chunk

    def progress() -> float:
        try:
            return handle.tell() / size
        except (ValueError, OSError):
            return 1.0

    def parse(chunk: pd.DataFrame) -> pd.DataFrame:
        out = chunk.copy(deep=False)
        for c in model.preparer.numeric:
            if c in out.columns:
                out[c] = _parse_numbers(out[c], decimal, thousands)
        return out

    return chunks(), progress, parse, (delim, decimal, thousands)


def _sniff_encoding(head: bytes) -> tuple[str, str]:
    """The encoding of a CSV from its first bytes, and the head decoded."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", head[3:].decode("utf-8", errors="ignore")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head:
        raise FileFormatError(
            "This file is UTF-16 or binary; the command line streams UTF-8 or Windows-1252 "
            "CSV only. Save it as UTF-8 CSV (or convert it to Parquet).",
            code="unreadable",
        )
    try:
        return "utf-8", codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1252", head.decode("cp1252", errors="replace")


def _parse_numbers(s: pd.Series, decimal: str, thousands: str | None) -> pd.Series:
    """Numbers from text as read_table reads them (decimal comma, thousands separators)."""
    t = s.str.strip()
    if decimal == ",":
        fits = t.str.fullmatch(aio._DECIMAL_COMMA).fillna(False)
        t = t.where(~fits, t.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    else:
        grouped = t.str.fullmatch(aio._COMMA_THOUSANDS).fillna(False)
        t = t.where(~grouped, t.str.replace(",", "", regex=False))
    return pd.to_numeric(t, errors="coerce").astype("float64")


# --------------------------------------------------------------------------- Parquet input


def _parquet_chunks(
    path: Path, chunksize: int
) -> tuple[Iterator[pd.DataFrame], Callable[[], float], Any]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # ArrowInvalid and friends
        raise FileFormatError(
            f"{path.name} could not be read as Parquet ({_short(exc)}).", code="unreadable"
        ) from exc
    total = max(pf.metadata.num_rows, 1)
    done = [0]

    def chunks() -> Iterator[pd.DataFrame]:
        with pf:
            for batch in pf.iter_batches(batch_size=chunksize):
                done[0] += batch.num_rows
                if batch.num_rows:
                    yield batch.to_pandas()

    return chunks(), lambda: done[0] / total, pf.schema_arrow  # fmt: skip


# --------------------------------------------------------------------------- writers


class _CsvOut:
    """Append scored chunks to a CSV (header once), formula-safe like ``to_csv_bytes``."""

    def __init__(
        self, path: Path, sep: str = ",", decimal: str = ".", thousands: str | None = None
    ) -> None:
        self.file = path.open("wb")
        self.header = True
        self.sep, self.decimal, self.thousands = sep, decimal, thousands

    def write(self, df: pd.DataFrame) -> None:
        out = df.copy(deep=False)
        for i in range(out.shape[1]):
            s = out.iloc[:, i]
            if pd.api.types.is_string_dtype(s.dtype) or pd.api.types.is_object_dtype(s.dtype):
                out.isetitem(i, _neutralise_text(s, self.decimal, self.thousands))
        out.columns = [aio._neutralise(c) for c in out.columns]
        text = out.to_csv(
            index=False, header=self.header, sep=self.sep, decimal=self.decimal,
            lineterminator="\r\n",
        )  # fmt: skip
        self.file.write(text.encode("utf-8"))
        self.header = False

    def close(self) -> None:
        self.file.close()


def _neutralise_text(s: pd.Series, decimal: str = ".", thousands: str | None = None) -> pd.Series:
    """Prefix ``'`` to text that a spreadsheet would run as a formula.

    Unlike :func:`~analytics.io.to_csv_bytes` this sees CSV columns as text, so text
    that is a plain number (``-5``) is left alone: a spreadsheet reads it as a number.
    """
    text = s.astype("string")
    risky = text.str.startswith(aio._FORMULA_PREFIXES).fillna(False)
    if not risky.any():
        return s
    number = _parse_numbers(text.where(risky), decimal, thousands).notna()
    risky &= ~number
    return text.where(~risky, "'" + text)


class _ParquetOut:
    """Append scored chunks to one Parquet file (one row group per chunk)."""

    def __init__(self, path: Path, input_schema: Any = None) -> None:
        self.path = path
        self.input_schema = input_schema
        self.writer: Any = None
        self.schema: Any = None

    def write(self, df: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.writer is None:
            schema = pa.Table.from_pandas(df, preserve_index=False).schema
            if self.input_schema is not None:
                # The input's own types, so a column with gaps in only some chunks
                # (int64 in one, float64 in another after pandas) keeps one type.
                for name in self.input_schema.names:
                    i = schema.get_field_index(name)
                    if i >= 0:
                        schema = schema.set(i, self.input_schema.field(name))
            self.schema = schema.remove_metadata()
            self.writer = pq.ParquetWriter(self.path, self.schema)
        try:
            table = pa.Table.from_pandas(df, schema=self.schema, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise FileFormatError(
                f"A chunk's column types differ from the first chunk's ({_short(exc)}); "
                "write a CSV output instead.",
                code="unreadable",
            ) from exc
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


# --------------------------------------------------------------------------- small helpers


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _short(exc: BaseException, n: int = 160) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
