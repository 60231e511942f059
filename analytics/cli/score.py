"""``python -m analytics score``: label every row of a file with a saved model, in chunks.

``score`` streams: it reads the input in chunks of ``--chunksize`` rows (CSV
through pandas' chunked reader, Parquet batch by batch through pyarrow), scores
each chunk and appends it to the output, so memory stays near one chunk whatever
the file's size. The output is written to a new temporary file beside it (a unique
name) and renamed when complete, so a failed run never leaves a half-written file
under the real name and never deletes a file it did not create. An output that is
the model or the input, or resolves to one through links, is refused before any work.

A CSV input is sniffed with :func:`analytics.io.dialect` on its first bytes, the
same decisions :func:`~analytics.io.read_table` makes on a whole file; its
columns are kept as text (copied verbatim into a CSV output) and the model's
numeric columns parsed with :func:`analytics.io.parse_numbers`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analytics.cli.common import (
    PARQUET_SUFFIXES,
    ProgressBar,
    atomic_output,
    check_delimiter,
    check_input_file,
    check_paths,
    say,
    short,
)
from analytics.errors import FileFormatError, InputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from analytics.io import Dialect
    from analytics.model.segment_model import SegmentModel

__all__ = ["DEFAULT_CHUNKSIZE", "run", "sniff_file"]

DEFAULT_CHUNKSIZE = 100_000


def run(args: argparse.Namespace) -> int:
    """Run ``score`` with parsed arguments; returns the exit code."""
    # Imported here, not at the top, so ``--help`` does not load numpy or the model.
    import numpy as np

    from analytics.model.segment_model import align_categories, load_model

    if args.chunksize < 1:
        raise InputError(
            f"--chunksize must be at least 1, got {args.chunksize}.", code="bad_option"
        )
    sep = check_delimiter(args.sep)
    model_path, src, out = Path(args.model), Path(args.input), Path(args.output)
    check_input_file(model_path, "model file")
    check_input_file(src)
    check_paths([("model file", model_path), ("input", src)], out)
    # The whole model is validated here, before any output exists.
    model = load_model(model_path)
    in_parquet = src.suffix.lower() in PARQUET_SUFFIXES
    out_parquet = out.suffix.lower() in PARQUET_SUFFIXES
    bar = ProgressBar("score", enabled=not args.quiet)
    originals: Callable[[pd.DataFrame], pd.DataFrame] | None
    if in_parquet:
        chunks, progress, arrow_schema = _parquet_chunks(src, args.chunksize)
        originals, decimal = None, "."
    else:
        chunks, progress, originals, dialect = _csv_chunks(src, args.chunksize, sep, model)
        arrow_schema, decimal = None, dialect.decimal
    counts = np.zeros(model.k, dtype="int64")
    unseen: dict[str, int] = {}
    n_rows = 0
    try:
        with atomic_output(out) as tmp:
            writer: _ParquetOut | _CsvOut
            if out_parquet:
                writer = _ParquetOut(tmp, arrow_schema)
            else:
                # A CSV input's values are copied as written, so the output keeps its
                # delimiter and decimal mark (a semicolon file with decimal commas stays one).
                writer = _CsvOut(tmp, dialect.delimiter if not in_parquet else ",", decimal)
            try:
                for chunk in chunks:
                    # CSV columns arrive as text (kept verbatim in a CSV output); the
                    # model's numeric columns are parsed the way read_table parses them.
                    features = originals(chunk) if originals is not None else chunk
                    features, missing = align_categories(features, model)
                    for c, n in missing.items():
                        unseen[c] = unseen.get(c, 0) + n
                    scored = model.predict(features)
                    # Write the input's own values: parsed numbers only into a typed
                    # (Parquet) output, never the aligned category spellings.
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
            finally:
                writer.close()
            bar.update(1.0, f"{n_rows:,} rows", force=True)
            # The summary is computed before the rename, so nothing fails after it.
            lines = _report(model, counts, n_rows, unseen, out)
    finally:
        bar.close()
    if not args.quiet:
        for line in lines:
            say(line)
    return 0


def _report(
    model: SegmentModel, counts: np.ndarray, n_rows: int, unseen: dict[str, int], out: Path
) -> list[str]:
    """The summary lines printed after scoring: shares beside training, unseen values."""
    import numpy as np

    from analytics.model.segment_model import shares_comparison

    labels = np.repeat(np.arange(1, model.k + 1), counts)
    comp = shares_comparison(model, labels)
    lines = [f"Scored {n_rows:,} rows into {out}.", "Segment shares, training -> new data:"]
    for j, row in comp.iterrows():
        lines.append(
            f"  segment {j}: {row['training_share']:6.1%} -> {row['new_share']:6.1%} "
            f"({100 * row['change']:+.1f} points)"
        )
    for c, n in unseen.items():
        lines.append(
            f"note: '{c}': {n:,} row(s) have a value the model never saw; no category was set."
        )
    return lines


# --------------------------------------------------------------------------- CSV input


def sniff_file(path: Path, sep: str | None = None) -> Dialect:
    """The dialect of the CSV at ``path``, sniffed from its first bytes as read_table would.

    Parameters
    ----------
    path : Path
    sep : str, optional
        The delimiter to use instead of sniffing one (``"\\t"`` or ``"tab"`` for tab).

    Returns
    -------
    Dialect
    """
    from analytics.io import SAMPLE_BYTES, sniff

    size = path.stat().st_size
    # Four samples' worth: a UTF-32 file needs four bytes per character of the sample.
    with path.open("rb") as f:
        head = f.read(4 * SAMPLE_BYTES)
    if not head.strip():
        raise FileFormatError(f"{path.name} is empty.", code="empty_file")
    delimiter = check_delimiter(sep)
    return sniff(head, path.name, complete=len(head) >= size, delimiter=delimiter)


def _csv_chunks(
    path: Path, chunksize: int, sep: str | None, model: SegmentModel
) -> tuple[
    Iterator[pd.DataFrame],
    Callable[[], float],
    Callable[[pd.DataFrame], pd.DataFrame],
    Dialect,
]:
    """Chunks of a CSV as text columns, a progress reader, the numeric parser and the
    dialect."""
    import pandas as pd

    from analytics.io import parse_numbers

    size = max(path.stat().st_size, 1)
    dialect = sniff_file(path, sep)
    names = list(dialect.columns)
    handle = path.open("rb")
    try:
        reader = pd.read_csv(
            handle, sep=dialect.delimiter, header=0, dtype=str, keep_default_na=True,
            skip_blank_lines=True, quotechar='"', doublequote=True, chunksize=chunksize,
            encoding=dialect.codec, engine="c",
        )  # fmt: skip
    except (ValueError, UnicodeError) as exc:
        handle.close()
        raise FileFormatError(f"{path.name} could not be read as CSV ({short(exc)}).") from exc

    def chunks() -> Iterator[pd.DataFrame]:
        with handle, reader:
            while True:
                try:
                    chunk = next(reader)
                except StopIteration:
                    return
                except (ValueError, UnicodeError) as exc:  # pandas ParserError is a ValueError
                    raise FileFormatError(
                        f"{path.name} could not be read as CSV ({short(exc)}). "
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
                out[c] = parse_numbers(out[c], dialect.decimal)
        return out

    return chunks(), progress, parse, dialect


# --------------------------------------------------------------------------- Parquet input


def _parquet_chunks(
    path: Path, chunksize: int
) -> tuple[Iterator[pd.DataFrame], Callable[[], float], Any]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # ArrowInvalid and friends
        raise FileFormatError(
            f"{path.name} could not be read as Parquet ({short(exc)}).", code="unreadable"
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

    def __init__(self, path: Path, sep: str = ",", decimal: str = ".") -> None:
        self.file = path.open("wb")
        self.header = True
        self.sep, self.decimal = sep, decimal

    def write(self, df: pd.DataFrame) -> None:
        import pandas as pd

        from analytics.io import neutralise_formulas

        out = df.copy(deep=False)
        for i in range(out.shape[1]):
            s = out.iloc[:, i]
            if pd.api.types.is_string_dtype(s.dtype) or pd.api.types.is_object_dtype(s.dtype):
                # Text copied from the input: "-5" is a number there, not a formula.
                out.isetitem(i, neutralise_formulas(s, decimal=self.decimal))
        out.columns = [neutralise_formulas(c) for c in out.columns]
        text = out.to_csv(
            index=False, header=self.header, sep=self.sep, decimal=self.decimal,
            lineterminator="\r\n",
        )  # fmt: skip
        self.file.write(text.encode("utf-8"))
        self.header = False

    def close(self) -> None:
        self.file.close()


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
                f"A chunk's column types differ from the first chunk's ({short(exc)}); "
                "write a CSV output instead.",
                code="unreadable",
            ) from exc
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
