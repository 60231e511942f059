"""Reading uploaded tables: :func:`read_table` and :func:`read_table_with_report`.

:func:`read_table` turns whatever an analyst uploads (a path, bytes or a file
object) into a DataFrame: :func:`~analytics.io.dialect` decides the encoding, the
delimiter and the number format, :mod:`analytics.io.scan` refuses files whose rows
would shift columns, and :mod:`analytics.io.numbers` keeps identifier-like
columns (``0001``) as text. Every problem surfaces as a
:class:`~analytics.errors.FileFormatError` with a plain message and a ``code``.

Performance: the encoding and dialect are sniffed on a sample (the first
64 KB); the whole file is then parsed once by pandas' C engine. A file given as
a path is parsed from that path, which lets pandas split it over threads. The
whole-file leading-zero check runs in numpy (which releases the GIL) in a
second thread while pandas parses; the field-count check (Arrow) runs only when
that check or pandas' result calls for it. Python-level loops over every row
only run on the error path, to name the bad lines.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import stat
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pandas as pd

from analytics.errors import FileFormatError, InputError
from analytics.io.dialect import (
    SAMPLE_BYTES,
    check_magic,
    decode,
    decode_legacy,
    has_bom,
    sniff_utf8,
)
from analytics.io.excel import read_workbook, workbook_format
from analytics.io.numbers import convert_columns
from analytics.io.scan import (
    RowScan,
    may_have_leading_zeros,
    raise_bad_rows,
    raise_unclosed_quote,
    scan_rows,
    shorten,
)

__all__ = ["DEFAULT_MAX_BYTES", "ReadReport", "read_table", "read_table_with_report"]

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
"""The upload limit, 200 MB (``.streamlit/config.toml``'s ``maxUploadSize`` is the same)."""


@dataclass
class ReadReport:
    """What :func:`read_table` detected and changed while reading a file.

    Attributes
    ----------
    encoding : str
        Codec the bytes were decoded with (``"utf-8"``, ``"utf-8-sig"`` for UTF-8
        with a BOM, ``"utf-16-le"``, ``"cp1252"``, ...).
    delimiter : str
        Field separator used: one of ``","``, ``";"``, ``"\\t"``, ``"|"``.
    delimiter_name : str
        The delimiter in words (``"semicolon"``; ``"none (one column)"``).
    decimal : str
        Decimal mark of the numbers: ``"."`` or ``","``.
    thousands : str or None
        Thousands separator found in numeric columns, if any.
    n_rows, n_columns : int
        Shape of the returned frame.
    warnings : list of str
        Plain sentences about anything changed or suspicious.
    filename : str or None
        The name the file was uploaded with, if given.
    id_columns : list of str
        Number-like columns kept as text (leading zeros or too many digits).
    mixed_columns : dict of str to int
        Mostly-numeric columns kept as text, with how many values are not numbers.
    dropped_blank_rows : int
        Rows dropped because every field in them was empty.
    format : str
        ``"csv"`` (any delimited text), or the workbook format: ``"xlsx"``, ``"xls"``, ``"ods"``.
    sheet : str or None
        The worksheet read (workbooks only).
    sheets : list of str
        Every worksheet of the workbook, in order (workbooks only).
    """

    encoding: str
    delimiter: str
    delimiter_name: str
    decimal: str
    thousands: str | None
    n_rows: int
    n_columns: int
    warnings: list[str] = field(default_factory=list)
    filename: str | None = None
    id_columns: list[str] = field(default_factory=list)
    mixed_columns: dict[str, int] = field(default_factory=dict)
    dropped_blank_rows: int = 0
    format: str = "csv"
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The report as a plain dict (what ``df.attrs["read_report"]`` holds)."""
        return dataclasses.asdict(self)


Source = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | IO[str]


def read_table(
    source: Source,
    filename: str | None = None,
    sheet: str | int | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> pd.DataFrame:
    """Read a table: delimited text (sniffing its encoding, delimiter and number format)
    or a spreadsheet workbook (.xlsx, .xlsm, .xls, .ods).

    Parameters
    ----------
    source : str, path-like, bytes or file-like
        A path to a file, the file's bytes, or a binary or text file object
        (read from its start when it is seekable, e.g. a Streamlit upload).
    filename : str, optional
        The file's name, used only for messages and format hints.
    sheet : str or int, optional
        Workbooks only: the worksheet to read, by name or 0-based position; default
        the first. Ignored for delimited text. :func:`~analytics.io.excel_sheets`
        lists them.
    max_bytes : int, default 200 MB
        Larger inputs raise ``FileFormatError`` with code ``"too_large"``.

    Returns
    -------
    DataFrame of shape (n_rows, n_columns)
        Numeric columns as int64/float64, others as text (workbook dates as
        datetimes). What was detected is in ``df.attrs["read_report"]`` (a dict;
        see :class:`ReadReport`).

    Raises
    ------
    FileFormatError
        With ``code`` one of ``"empty_file"``, ``"no_rows"``, ``"binary"``,
        ``"bad_rows"``, ``"unreadable"``, ``"too_large"``, ``"not_found"``,
        ``"no_sheet"``.
    """
    df, report = read_table_with_report(source, filename, sheet, max_bytes=max_bytes)
    df.attrs["read_report"] = report.as_dict()
    return df


def read_table_with_report(
    source: Source,
    filename: str | None = None,
    sheet: str | int | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> tuple[pd.DataFrame, ReadReport]:
    """Like :func:`read_table`, but return the report beside the frame.

    ``DataFrame.attrs`` does not survive every pandas operation, so callers that
    keep the report (the app) use this tuple form.

    Returns
    -------
    df : DataFrame of shape (n_rows, n_columns)
    report : ReadReport
    """
    origin = _file_origin(source)
    raw = _read_source(source, max_bytes)
    if origin is not None and len(raw) != origin.key[1]:
        origin = None
    if filename is None and isinstance(source, str | os.PathLike):
        filename = Path(source).name
    fmt = workbook_format(raw, filename) if isinstance(raw, bytes) else None
    if fmt is not None:
        return _read_workbook(raw, fmt, filename, sheet)
    try:
        return _read(raw, filename, origin)
    except InputError:
        raise
    except MemoryError as exc:
        raise FileFormatError(
            "The file is too large to read into memory here; upload a smaller extract.",
            code="too_large",
        ) from exc
    except (ValueError, csv.Error, UnicodeError, OverflowError, IndexError, KeyError) as exc:
        # pandas' ParserError/EmptyDataError are ValueErrors. Whatever the bytes,
        # the caller gets an InputError, never a parser traceback.
        raise FileFormatError(
            f"The file could not be read as a table ({shorten(str(exc), 200)}). "
            "Check that it is a CSV or other delimited text file.",
            code="unreadable",
        ) from exc


# --------------------------------------------------------------------------- input


def _read_source(source: Source, max_bytes: int) -> bytes | str:
    """Return the raw content (bytes, or str for a text file object), size-checked."""
    if isinstance(source, bytes | bytearray | memoryview):
        raw: bytes | str = bytes(source)
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            size = path.stat().st_size
            _check_size(size, max_bytes)
            raw = path.read_bytes()
        except FileNotFoundError as exc:
            raise FileFormatError(f"No file was found at {str(path)!r}.", code="not_found") from exc
        except IsADirectoryError as exc:
            raise FileFormatError(
                f"{str(path)!r} is a folder, not a file.", code="not_found"
            ) from exc
        except OSError as exc:
            raise FileFormatError(
                f"The file {str(path)!r} could not be opened ({exc.strerror or exc}).",
                code="unreadable",
            ) from exc
    elif hasattr(source, "read"):
        # Uploads are often read once already (a rerun), so start from the top.
        if getattr(source, "seekable", lambda: False)():
            source.seek(0)
        raw = source.read(max_bytes + 1)
        if not isinstance(raw, bytes | str):
            raise TypeError(f"source.read() returned {type(raw).__name__}, expected bytes or str")
    else:
        raise TypeError(
            "source must be a path, bytes or a file object, got " + type(source).__name__
        )
    _check_size(len(raw), max_bytes)
    return raw


@dataclass(frozen=True)
class _Origin:
    """A regular file the raw bytes were read from, and its identity at that time."""

    path: str
    key: tuple[int, int, int, int]  # (device, size, inode, mtime_ns)


def _file_key(path: str) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(st.st_mode):
        return None  # a pipe or device would not give the same bytes twice
    return (st.st_dev, st.st_size, st.st_ino, st.st_mtime_ns)


def _file_origin(source: Source) -> _Origin | None:
    """The file behind a path source, so pandas can parse it from disk.

    pandas reads a large local file with several threads, but a buffer with
    one; parsing from the path is about twice as fast on two cores.
    """
    if not isinstance(source, str | os.PathLike):
        return None
    try:
        path = os.fspath(source)
    except TypeError:
        return None
    if not isinstance(path, str):
        return None
    key = _file_key(path)
    return None if key is None else _Origin(path, key)


def _check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise FileFormatError(
            f"The file is larger than the {_format_bytes(max_bytes)} limit"
            f"{'' if size == max_bytes + 1 else f' ({_format_bytes(size)})'}. "
            "Upload a smaller extract or a sample of the rows.",
            code="too_large",
        )


def _format_bytes(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.0f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"


# --------------------------------------------------------------------------- parsing


def _read_workbook(
    raw: bytes, fmt: str, filename: str | None, sheet: str | int | None
) -> tuple[pd.DataFrame, ReadReport]:
    try:
        df, bits = read_workbook(raw, fmt, filename, sheet)
    except MemoryError as exc:
        raise FileFormatError(
            "The workbook is too large to read into memory here; upload a smaller extract.",
            code="too_large",
        ) from exc
    report = ReadReport(
        encoding="",  # a workbook stores its text itself: no encoding to detect
        delimiter=",",  # downloads of a workbook's table are plain comma CSV
        delimiter_name="none (workbook)",
        decimal=".",
        thousands=None,
        n_rows=int(df.shape[0]),
        n_columns=int(df.shape[1]),
        filename=filename,
        **bits,
    )
    return df, report


def _read(
    raw: bytes | str, filename: str | None, origin: _Origin | None = None
) -> tuple[pd.DataFrame, ReadReport]:
    if isinstance(raw, str):
        buf = raw.removeprefix("\ufeff").encode("utf-8")
        return _read_utf8(buf, "text", [], filename)
    if not raw:
        raise FileFormatError("The file is empty (0 bytes).", code="empty_file")
    check_magic(raw, filename)
    buf, encoding, notes = decode(raw)
    bom = has_bom(raw)
    # pandas can parse the file itself only when its bytes are the UTF-8 we
    # parse (it drops a UTF-8 BOM at the start of a file as _decode does).
    same_bytes = encoding in ("utf-8", "utf-8-sig")
    try:
        return _read_utf8(buf, encoding, notes, filename, origin if same_bytes else None, bom)
    except UnicodeDecodeError as exc:
        if encoding != "utf-8":
            raise FileFormatError(
                "The file starts with a UTF-8 marker but contains bytes that are not UTF-8. "
                "Save it again as UTF-8 CSV.",
                code="unreadable",
            ) from exc
    # An invalid byte after the first 64 KB: the file is in a legacy encoding.
    buf, encoding, notes = decode_legacy(raw)
    return _read_utf8(buf, encoding, notes, filename)


def _read_utf8(
    buf: bytes,
    encoding: str,
    notes: list[str],
    filename: str | None,
    origin: _Origin | None = None,
    bom: bool = False,
) -> tuple[pd.DataFrame, ReadReport]:
    """Read UTF-8 bytes (possibly not yet validated: may raise UnicodeDecodeError).

    ``origin`` is the file ``buf`` came from unchanged, if any; pandas then
    parses the file from its path (in parallel) instead of from ``buf``.
    """
    dialect, body = sniff_utf8(buf, encoding, notes, bom=bom)
    if len(body) != len(buf):
        origin = None  # pandas must parse the trimmed bytes, not the file
    buf = body
    notes = list(dialect.warnings)
    delim, decimal, sample_thousands = dialect.delimiter, dialect.decimal, dialect.thousands
    header_row = list(dialect.header)
    n_fields = len(header_row)
    line_offset = dialect.line_offset

    # Full row scan only when needed: a field may start with a
    # leading zero (must be read as text), or pandas' result hints at short or
    # long rows (it pads short rows with missing values silently).
    scan: RowScan | None = None
    table: pd.DataFrame | None = None
    parse = (buf, delim, n_fields, decimal, sample_thousands)
    if may_have_leading_zeros(buf[:SAMPLE_BYTES], delim):
        # Codes such as 0001 near the top: find their columns before parsing.
        zero_led = may_have_leading_zeros(buf, delim)
    elif len(buf) <= SAMPLE_BYTES:
        zero_led = False
    else:
        # Usually nothing is found: look while pandas parses (both release
        # the GIL), and parse again only in the rare file where it is found.
        with ThreadPoolExecutor(max_workers=1) as pool:
            look = pool.submit(may_have_leading_zeros, buf, delim)
            try:
                table = _parse(*parse, set(), line_offset, origin)
            except Exception:
                # Report as if the scan had come first (it can name bad rows).
                if not look.result():
                    raise
            zero_led = look.result()
    if zero_led:
        scan = scan_rows(buf, delim, n_fields)
        if scan.suspect:
            raise_bad_rows(buf, delim, n_fields, line_offset)
        if scan.zero_columns:
            table = None
    if table is None:
        text_columns = scan.zero_columns if scan else set()
        table = _parse(*parse, text_columns, line_offset, origin)
    shape_ok = table.shape[1] == n_fields and isinstance(table.index, pd.RangeIndex)
    if scan is None and (not shape_ok or bool(table.iloc[:, -1].isna().any())):
        scan = scan_rows(buf, delim, n_fields)
    if scan is not None and (not shape_ok or scan.suspect or len(table) + 1 != scan.n_lines):
        # Let the exact scan decide (stray quotes can make pandas and Arrow
        # disagree); never return shifted columns.
        raise_bad_rows(buf, delim, n_fields, line_offset)
        if not shape_ok:
            raise FileFormatError(
                "The file's rows could not be matched to its header; check its quoting.",
                code="unreadable",
            )
    if table.empty:
        raise FileFormatError(
            "The file has a header row but no data rows below it.", code="no_rows"
        )

    table.columns = list(dialect.columns)
    df, report_bits = convert_columns(table, decimal, buf, delim)
    notes += report_bits["warnings"]
    thousands = sample_thousands or report_bits["thousands"]

    # A trailing unnamed empty column comes from a delimiter at the end of
    # every line; rows whose every field is empty (",,,") carry nothing.
    empty_unnamed = [
        c
        for c, h in zip(df.columns, header_row, strict=True)
        if not h.strip() and df[c].isna().all()
    ]
    if empty_unnamed:
        df = df.drop(columns=empty_unnamed)
        notes.append(
            f"Dropped {len(empty_unnamed)} column(s) with no name and no values "
            "(usually a delimiter at the end of every line)."
        )
    blank = df.isna().all(axis=1)
    n_blank = int(blank.sum())
    if n_blank and n_blank == len(df) and df.shape[1]:
        raise FileFormatError(
            f"The file has a header and {n_blank:,} row(s), but every value is empty or a "
            "missing-value marker (such as NA, NaN or null): there is no data to use.",
            code="no_values",
        )
    if n_blank:
        df = df.loc[~blank].reset_index(drop=True)
        notes.append(f"Dropped {n_blank} row(s) that were entirely blank.")
    if df.empty or df.shape[1] == 0:
        raise FileFormatError(
            "The file has a header row but no data rows below it.", code="no_rows"
        )

    report = ReadReport(
        encoding=encoding,
        delimiter=delim,
        delimiter_name=dialect.delimiter_name,
        decimal=decimal,
        thousands=thousands,
        n_rows=int(df.shape[0]),
        n_columns=int(df.shape[1]),
        warnings=notes,
        filename=filename,
        id_columns=[c for c in report_bits["id_columns"] if c in df.columns],
        mixed_columns={k: v for k, v in report_bits["mixed_columns"].items() if k in df.columns},
        dropped_blank_rows=n_blank,
    )
    return df, report


def _parse(
    buf: bytes,
    delim: str,
    n_fields: int,
    decimal: str,
    thousands: str | None,
    text_columns: set[int],
    line_offset: int,
    origin: _Origin | None = None,
) -> pd.DataFrame:
    """Parse the whole file once with pandas' C engine.

    Columns where a value starts with a leading zero are read as text so codes
    such as ``0001`` survive; the others use pandas' fast type inference.
    With ``origin`` (the file holding exactly ``buf``) pandas reads the path,
    which it can split over threads; if the file changed meanwhile, ``buf``
    is parsed instead.
    """
    args = (buf, delim, n_fields, decimal, thousands, text_columns, line_offset)
    if origin is not None:
        try:
            table = _read_csv(origin.path, *args)
        except Exception:
            if _file_key(origin.path) == origin.key:
                raise
        else:
            if _file_key(origin.path) == origin.key:
                return table
        # The file changed after it was read: parse the bytes that were sniffed.
    return _read_csv(io.BytesIO(buf), *args)


def _read_csv(
    source: str | IO[bytes],
    buf: bytes,
    delim: str,
    n_fields: int,
    decimal: str,
    thousands: str | None,
    text_columns: set[int],
    line_offset: int,
) -> pd.DataFrame:
    """pd.read_csv of ``source`` (``buf`` itself or the file holding it)."""
    try:
        with warnings.catch_warnings():
            # Chunked inference may see a column as numbers then text; the
            # column then holds both and is settled in _convert_columns.
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            return pd.read_csv(
                source,
                sep=delim,
                header=0,
                dtype={i: str for i in text_columns if i < n_fields} or None,
                keep_default_na=True,
                skip_blank_lines=True,
                quotechar='"',
                doublequote=True,
                decimal=decimal,
                thousands=thousands,
                engine="c",
                encoding="utf-8",
            )
    except pd.errors.EmptyDataError as exc:
        raise FileFormatError(
            "The file has a header row but no data rows below it.", code="no_rows"
        ) from exc
    except pd.errors.ParserError as exc:
        message = str(exc)
        if "Expected" in message and "fields" in message:
            raise_bad_rows(buf, delim, n_fields, line_offset)
        if "EOF inside string" in message:
            raise_unclosed_quote(buf, delim, line_offset)
        raise
