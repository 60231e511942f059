"""Reading uploaded tables and writing formula-safe CSV downloads.

:func:`read_table` turns whatever an analyst uploads (a path, bytes or a file
object) into a DataFrame: it sniffs the encoding, the delimiter and the number
format, keeps identifier-like columns (``0001``) as text, and refuses files
whose rows would shift columns.  Every problem surfaces as a
:class:`~analytics.errors.FileFormatError` with a plain message and a ``code``.

:func:`to_csv_bytes` is the single CSV export used by every download.

Performance: the encoding and dialect are sniffed on a sample (the first
64 KB); the whole file is then parsed once by pandas' C engine, and the
field-count check runs vectorised over the bytes (numpy).  A file given as a
path is parsed from that path, which lets pandas split it over threads.  The
whole-file leading-zero check runs in numpy (which releases the GIL) in a
second thread while pandas parses.  Python-level loops over every row only
run on the error path, to name the bad lines.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import os
import re
import stat
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from analytics.errors import FileFormatError, InputError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "ReadReport",
    "read_table",
    "read_table_with_report",
    "to_csv_bytes",
]

DEFAULT_MAX_BYTES = 200 * 1024 * 1024

_SAMPLE_BYTES = 64 * 1024
_SNIFF_RECORDS = 200
_CHUNK_BYTES = 16 * 1024 * 1024
_MAX_LISTED_LINES = 5
_MAX_PROBLEMS = 1000

_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}

# pandas' default NA tokens (``keep_default_na``), so a reader of the docs for
# read_csv gets what they expect.
_NA_TOKENS = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)

# Magic numbers of formats people upload by mistake: (prefix, message).
_MAGIC = (
    (b"\x1f\x8b", "This is a gzip-compressed file, not a CSV. Decompress it and upload the CSV."),
    (b"BZh", None),  # checked with a stricter test below (text could start with "BZh")
    (b"\xfd7zXZ\x00", "This is an xz-compressed file, not a CSV. Decompress it first."),
    (b"7z\xbc\xaf\x27\x1c", "This is a 7-Zip archive, not a CSV. Extract the CSV first."),
    (b"\x28\xb5\x2f\xfd", "This is a zstd-compressed file, not a CSV. Decompress it first."),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "This looks like an old Excel workbook (.xls); save it as CSV and upload that.",
    ),
    (b"\x89PNG\r\n\x1a\n", "This is a PNG image, not a table. Upload a CSV file."),
    (b"\xff\xd8\xff", "This is a JPEG image, not a table. Upload a CSV file."),
    (b"GIF87a", "This is a GIF image, not a table. Upload a CSV file."),
    (b"GIF89a", "This is a GIF image, not a table. Upload a CSV file."),
    (b"%PDF-", "This is a PDF document, not a table. Export the table as CSV."),
    (b"PAR1", "This is a Parquet file; this reader accepts CSV or other delimited text."),
)

# Byte-order marks, longest first (the UTF-32 LE mark starts with the UTF-16 LE one).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Numbers as written with a decimal point and optional "," thousands, or with a
# decimal comma and optional "." thousands.
_COMMA_THOUSANDS = r"\s*[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?\s*"
_DECIMAL_COMMA = r"\s*[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?\s*"
_RE_DECIMAL_COMMA_TOKEN = re.compile(r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+")
_RE_DECIMAL_POINT_TOKEN = re.compile(r"[+-]?\d*\.\d+(?:[eE][+-]?\d+)?")
_RE_AMBIGUOUS_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+")
# Numeric-looking text that must stay text: leading zeros (codes such as 0001)
# or 16+ digits (account numbers that a float64 cannot hold exactly).
_ID_LIKE = r"\s*[+-]?0\d.*"
_LONG_DIGITS = r"\s*[+-]?\d{16,}\s*"

# Control characters that never occur in real delimited text (tab, newlines,
# form feed and vertical tab excluded); a sample full of them is binary.
_RE_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


# The leading-zero search works on slices of this many bytes, which stay in
# the CPU cache between its few vectorised passes.
_ZERO_SCAN_CHUNK = 256 * 1024
_RE_DIGITS = re.compile(rb"[0-9]*")

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


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

    def as_dict(self) -> dict[str, Any]:
        """The report as a plain dict (what ``df.attrs["read_report"]`` holds)."""
        return dataclasses.asdict(self)


Source = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | IO[str]


def read_table(
    source: Source, filename: str | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> pd.DataFrame:
    """Read a delimited text table, sniffing its encoding, delimiter and number format.

    Parameters
    ----------
    source : str, path-like, bytes or file-like
        A path to a file, the file's bytes, or a binary or text file object
        (read from its start when it is seekable, e.g. a Streamlit upload).
    filename : str, optional
        The file's name, used only for messages and format hints.
    max_bytes : int, default 200 MB
        Larger inputs raise ``FileFormatError`` with code ``"too_large"``.

    Returns
    -------
    DataFrame of shape (n_rows, n_columns)
        Numeric columns as int64/float64, others as text. What was detected is
        in ``df.attrs["read_report"]`` (a dict; see :class:`ReadReport`).

    Raises
    ------
    FileFormatError
        With ``code`` one of ``"empty_file"``, ``"no_rows"``, ``"binary"``,
        ``"bad_rows"``, ``"unreadable"``, ``"too_large"``, ``"not_found"``.
    """
    df, report = read_table_with_report(source, filename, max_bytes=max_bytes)
    df.attrs["read_report"] = report.as_dict()
    return df


def read_table_with_report(
    source: Source, filename: str | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES
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
            f"The file could not be read as a table ({_short(str(exc), 200)}). "
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


# --------------------------------------------------------------------------- decoding


def _check_magic(raw: bytes, filename: str | None) -> None:
    """Refuse archives, workbooks, images and documents with a useful message."""
    head = raw[:8]
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        name = (filename or "").lower()
        if name.endswith((".xlsx", ".xlsm", ".xls")) or b"xl/" in raw[:4096]:
            msg = "This looks like an Excel workbook; save it as CSV (File > Save As > CSV) and upload that."
        elif name.endswith(".ods") or b"opendocument" in raw[:4096]:
            msg = "This looks like an OpenDocument spreadsheet; save it as CSV and upload that."
        else:
            msg = "This is a ZIP archive, not a CSV. Extract the CSV from it and upload that."
        raise FileFormatError(msg, code="binary")
    for magic, msg in _MAGIC:
        if msg is not None and head.startswith(magic):
            raise FileFormatError(msg, code="binary")
    if re.match(rb"BZh[1-9]1AY&SY", raw[:10]):
        raise FileFormatError(
            "This is a bzip2-compressed file, not a CSV. Decompress it first.", code="binary"
        )


def _decode(raw: bytes) -> tuple[bytes, str, list[str]]:
    """Return (UTF-8 bytes without BOM, encoding name, notes).

    UTF-8 input is returned as-is, without a copy, and only its first 64 KB
    are validated here: pandas' parser decodes strictly, and a later invalid
    byte raises ``UnicodeDecodeError``, upon which :func:`_read` falls back to
    :func:`_decode_legacy`. This saves a full decoding pass.
    """
    for bom, name in _BOMS:
        if raw.startswith(bom):
            if name == "utf-8-sig":
                return raw[len(bom) :], name, []
            try:
                text = raw[len(bom) :].decode(name)
            except UnicodeDecodeError as exc:
                raise FileFormatError(
                    f"The file starts with a {name.upper()} marker but is not valid {name.upper()} "
                    "text. Save it again as UTF-8 CSV.",
                    code="unreadable",
                ) from exc
            if "\x00" in text:
                raise _binary_error()
            return text.encode("utf-8"), name, []
    if b"\x00" in raw:
        guess = _guess_bomless_utf16(raw)
        if guess is not None:
            try:
                text = raw.decode(guess)
            except UnicodeDecodeError:
                text = None
            if text is not None and "\x00" not in text:
                return text.encode("utf-8"), guess, []
        raise _binary_error()
    try:
        codecs.getincrementaldecoder("utf-8")().decode(raw[:_SAMPLE_BYTES], final=False)
    except UnicodeDecodeError:
        return _decode_legacy(raw)
    return raw, "utf-8", []


def _decode_legacy(raw: bytes) -> tuple[bytes, str, list[str]]:
    """Windows-1252, or Latin-1 for the 5 bytes cp1252 leaves undefined."""
    try:
        text, name = raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        text, name = raw.decode("latin-1"), "latin-1"
    warning = (
        f"The file is not UTF-8; it was read as {'Windows-1252' if name == 'cp1252' else 'Latin-1'} "
        "(Western European). Check that accented letters and symbols such as £ look right."
    )
    return text.encode("utf-8"), name, [warning]


def _guess_bomless_utf16(raw: bytes) -> str | None:
    """UTF-16 without a BOM: ASCII text has a zero in every other byte."""
    sample = raw[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def _binary_error() -> FileFormatError:
    return FileFormatError(
        "This file contains binary data (it is not text), so it cannot be read as a table. "
        "Upload a CSV or other delimited text file.",
        code="binary",
    )


# --------------------------------------------------------------------------- sniffing


def _sample_text(buf: bytes) -> tuple[str, bool]:
    """First ~64 KB of the text, cut at a line end; and whether it is the whole file."""
    if len(buf) <= _SAMPLE_BYTES:
        return buf.decode("utf-8"), True
    head = buf[:_SAMPLE_BYTES]
    cut = max(head.rfind(b"\n"), head.rfind(b"\r"))
    if cut > 0:
        head = head[: cut + 1]
    return head.decode("utf-8", errors="ignore"), False


def _records(sample: str, delim: str, limit: int, complete: bool) -> list[list[str]]:
    """Non-blank records of the sample, parsed with ``delim`` (at most ``limit``)."""
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delim, quotechar='"')
    out: list[list[str]] = []
    try:
        for rec in reader:
            # The header is the first non-empty line even if its names are blank.
            if rec and (not out or any(f.strip() for f in rec)):
                out.append(rec)
                if len(out) > limit:
                    break
    except csv.Error:
        pass
    if not complete and len(out) > 1 and len(out) <= limit:
        out.pop()  # the sample may end inside the last record
    return out[:limit]


def _sniff_delimiter(sample: str, complete: bool) -> tuple[str, list[list[str]]]:
    """Pick the delimiter whose field counts agree best with the header's.

    Returns the delimiter and the sample parsed with it (header first).
    """
    scored = []
    parsed: dict[str, list[list[str]]] = {}
    for delim in _DELIMITER_NAMES:
        recs = _records(sample, delim, _SNIFF_RECORDS, complete)
        parsed[delim] = recs
        if not recs or len(recs[0]) < 2:
            continue
        n = len(recs[0])
        body = recs[1:]
        consistency = sum(len(r) == n for r in body) / len(body) if body else 1.0
        scored.append((consistency, n, delim))
    if not scored:
        return ",", parsed[","]  # one column: any delimiter reads it the same
    best = max(s[0] for s in scored)
    tied = [s for s in scored if s[0] == best]
    if len(tied) > 1:
        # Equal consistency (e.g. "a;b,c"): let csv.Sniffer break the tie.
        try:
            guess = csv.Sniffer().sniff(sample[:8192], delimiters="".join(_DELIMITER_NAMES))
            for s in tied:
                if s[2] == guess.delimiter:
                    return s[2], parsed[s[2]]
        except csv.Error:
            pass
    delim = max(tied, key=lambda s: s[1])[2]
    return delim, parsed[delim]


def _sniff_decimal(records: list[list[str]], delim: str) -> tuple[str, str | None]:
    """Return (decimal mark, thousands separator) as the sample writes numbers.

    A decimal comma is only possible when commas do not separate fields.
    """
    if delim == ",":
        return ".", None
    comma = point = grouped = 0
    for rec in records[1:]:
        for value in rec:
            v = value.strip()
            if _RE_DECIMAL_COMMA_TOKEN.fullmatch(v):
                comma += 1
                grouped += "." in v
            elif _RE_DECIMAL_POINT_TOKEN.fullmatch(v) and not _RE_AMBIGUOUS_THOUSANDS.fullmatch(v):
                point += 1
    if comma > point:
        return ",", ("." if grouped else None)
    return ".", None


# --------------------------------------------------------------------------- parsing


def _read(
    raw: bytes | str, filename: str | None, origin: _Origin | None = None
) -> tuple[pd.DataFrame, ReadReport]:
    if isinstance(raw, str):
        buf = raw.removeprefix("\ufeff").encode("utf-8")
        return _read_utf8(buf, "text", [], filename)
    if not raw:
        raise FileFormatError("The file is empty (0 bytes).", code="empty_file")
    _check_magic(raw, filename)
    buf, encoding, notes = _decode(raw)
    # pandas can parse the file itself only when its bytes are the UTF-8 we
    # parse (it drops a UTF-8 BOM at the start of a file as _decode does).
    same_bytes = encoding in ("utf-8", "utf-8-sig")
    try:
        return _read_utf8(buf, encoding, notes, filename, origin if same_bytes else None)
    except UnicodeDecodeError as exc:
        if encoding != "utf-8":
            raise FileFormatError(
                "The file starts with a UTF-8 marker but contains bytes that are not UTF-8. "
                "Save it again as UTF-8 CSV.",
                code="unreadable",
            ) from exc
    # An invalid byte after the first 64 KB: the file is in a legacy encoding.
    buf, encoding, notes = _decode_legacy(raw)
    return _read_utf8(buf, encoding, notes, filename)


def _read_utf8(
    buf: bytes,
    encoding: str,
    notes: list[str],
    filename: str | None,
    origin: _Origin | None = None,
) -> tuple[pd.DataFrame, ReadReport]:
    """Read UTF-8 bytes (possibly not yet validated: may raise UnicodeDecodeError).

    ``origin`` is the file ``buf`` came from unchanged, if any; pandas then
    parses the file from its path (in parallel) instead of from ``buf``.
    """
    notes = list(notes)
    if buf.endswith(b"\x1a"):  # DOS end-of-file marker
        buf = buf.rstrip(b"\x1a")
        origin = None
    if not re.search(rb"\S", buf):
        raise FileFormatError(
            "The file is empty: it contains only blank lines." if buf else "The file is empty.",
            code="empty_file",
        )
    # Whitespace-only lines above the header would be taken as the header.
    lead = re.match(rb"(?:[ \t]*(?:\r\n|\n|\r))+", buf)
    line_offset = 0
    if lead:
        line_offset = len(re.findall(rb"\r\n|\n|\r", lead.group()))
        buf = buf[lead.end() :]
        origin = None
    sample, complete = _sample_text(buf)
    controls = len(_RE_CONTROL.findall(sample))
    if "\x00" in sample or controls > 0.01 * len(sample):
        raise _binary_error()

    delim, sample_records = _sniff_delimiter(sample, complete)
    decimal, sample_thousands = _sniff_decimal(sample_records, delim)
    header_row = sample_records[0]
    n_fields = len(header_row)

    # Full vectorised byte scan only when needed: a field may start with a
    # leading zero (must be read as text), or pandas' result hints at short or
    # long rows (it pads short rows with missing values silently).
    scan = None
    table: pd.DataFrame | None = None
    parse = (buf, delim, n_fields, decimal, sample_thousands)
    if _may_have_leading_zeros(buf[:_SAMPLE_BYTES], delim):
        # Codes such as 0001 near the top: find their columns before parsing.
        zero_led = _may_have_leading_zeros(buf, delim)
    elif len(buf) <= _SAMPLE_BYTES:
        zero_led = False
    else:
        # Usually nothing is found: look while pandas parses (both release
        # the GIL), and parse again only in the rare file where it is found.
        with ThreadPoolExecutor(max_workers=1) as pool:
            look = pool.submit(_may_have_leading_zeros, buf, delim)
            try:
                table = _parse(*parse, set(), line_offset, origin)
            except Exception:
                # Report as if the scan had come first (it can name bad rows).
                if not look.result():
                    raise
            zero_led = look.result()
    if zero_led:
        scan = _scan_bytes(buf, delim, n_fields)
        if scan.suspect:
            _raise_bad_rows(buf, delim, n_fields, line_offset)
        if scan.zero_columns:
            table = None
    if table is None:
        text_columns = scan.zero_columns if scan else set()
        table = _parse(*parse, text_columns, line_offset, origin)
    shape_ok = table.shape[1] == n_fields and isinstance(table.index, pd.RangeIndex)
    if scan is None and (not shape_ok or bool(table.iloc[:, -1].isna().any())):
        scan = _scan_bytes(buf, delim, n_fields)
    if scan is not None and (not shape_ok or scan.suspect or len(table) + 1 != scan.n_lines):
        # Let the exact scan decide (stray quotes can make pandas and the
        # quote-parity count disagree); never return shifted columns.
        _raise_bad_rows(buf, delim, n_fields, line_offset)
        if not shape_ok:
            raise FileFormatError(
                "The file's rows could not be matched to its header; check its quoting.",
                code="unreadable",
            )
    if table.empty:
        raise FileFormatError(
            "The file has a header row but no data rows below it.", code="no_rows"
        )

    names, name_warnings = _column_names(header_row)
    notes += name_warnings
    table.columns = names
    df, report_bits = _convert_columns(table, decimal, buf, delim)
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
        delimiter_name=_DELIMITER_NAMES[delim] if n_fields > 1 else "none (one column)",
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
            _raise_bad_rows(buf, delim, n_fields, line_offset)
        if "EOF inside string" in message:
            _raise_unclosed_quote(buf, delim, line_offset)
        raise


@dataclass
class _ByteScan:
    suspect: bool
    n_lines: int
    zero_columns: set[int]


def _may_have_leading_zeros(buf: bytes, delim: str) -> bool:
    """Whether any field may be a number written with leading zeros (``0001``).

    Looks for a field start (delimiter, line end or quote), ``0``, one or more
    digits, then a field end, ``.`` or the end of ``buf``. Written as a few
    numpy passes over cache-sized slices, which release the GIL, so it can run
    beside pandas' parser (a regex would hold it). False positives only cost
    the full scan.
    """
    arr = np.frombuffer(buf, dtype=np.uint8)
    n = arr.size
    d = ord(delim)
    for start in range(1, n - 1, _ZERO_SCAN_CHUNK):
        stop = min(start + _ZERO_SCAN_CHUNK, n - 1)
        prev = arr[start - 1 : stop - 1]
        # Superset of the field starts: every byte <= "," (tab, CR, LF, '"',
        # ",") and the delimiter; exact checks run on the few hits only.
        near = prev <= ord(",")
        if d > ord(","):
            near |= prev == d
        near &= arr[start:stop] == ord("0")
        hits = np.flatnonzero(near)
        if hits.size and _zero_led_field(arr, buf, hits + start, d):
            return True
    return False


def _zero_led_field(arr: np.ndarray, buf: bytes, zeros: np.ndarray, d: int) -> bool:
    """Whether any ``0`` at the sorted positions ``zeros`` starts a zero-led number."""
    n = arr.size
    before = arr[zeros - 1]
    zeros = zeros[(before == d) | (before == 10) | (before == 13) | (before == ord('"'))]
    after = arr[zeros + 1]  # zeros < n - 1
    pos = zeros[(after >= ord("0")) & (after <= ord("9"))] + 2
    # Walk the digit runs together for a few steps; long runs go to re.
    for _ in range(32):
        if not pos.size:
            return False
        if pos[-1] >= n:
            return True  # a run of digits ends the buffer
        c = arr[pos]
        if np.any((c == d) | (c == 10) | (c == 13) | (c == ord('"')) | (c == ord("."))):
            return True
        pos = pos[(c >= ord("0")) & (c <= ord("9"))] + 1
    for p in pos.tolist():
        end = _RE_DIGITS.match(buf, p).end()
        if end >= n or buf[end] in (d, 10, 13, ord('"'), ord(".")):
            return True
    return False


def _scan_bytes(buf: bytes, delim: str, n_fields: int) -> _ByteScan:
    """Vectorised pass over the bytes: field counts and leading-zero columns.

    A delimiter or line end is structural when an even number of quotes comes
    before it (RFC 4180 quoting; ``""`` inside quotes counts twice). pandas pads
    short rows silently, so this is how they are caught without a per-row
    loop. ``suspect`` is True when any non-blank line has the wrong number of
    fields or a quote is left open: the exact scan then decides. Also returns
    the columns where a value starts with ``0`` and a digit (``0001``), which
    must be read as text before pandas turns them into 1.
    """
    arr = np.frombuffer(buf, dtype=np.uint8)
    size = arr.size
    nl = ord("\n") if b"\n" in buf else ord("\r")
    d, quote, cr = ord(delim), ord('"'), ord("\r")
    quotes_before = carry = 0
    prev_end = header_end = -1
    n_lines = 0
    suspect = False
    zero_columns: set[int] = set()
    for start in range(0, size, _CHUNK_BYTES):
        a = arr[start : start + _CHUNK_BYTES]
        ends = np.flatnonzero(a == nl)
        delims = np.flatnonzero(a == d)
        qpos = np.flatnonzero(a == quote)
        if qpos.size or quotes_before % 2:
            ends = ends[(np.searchsorted(qpos, ends) + quotes_before) % 2 == 0]
            delims = delims[(np.searchsorted(qpos, delims) + quotes_before) % 2 == 0]
        quotes_before += qpos.size
        before = np.searchsorted(delims, ends)  # delimiters before each line end
        # Column of the field that starts after each delimiter / line end.
        line_of_delim = np.searchsorted(ends, delims)
        first_in_line = np.concatenate(([0], before))[line_of_delim]
        delim_col = np.arange(delims.size) - first_in_line + 1
        delim_col[line_of_delim == 0] += carry
        if header_end < 0 and ends.size:
            header_end = int(ends[0]) + start
        if header_end >= 0:
            starts = np.concatenate((delims + 1, ends + 1)) + start
            cols = np.concatenate((delim_col, np.zeros(ends.size, dtype=delim_col.dtype)))
            data = starts > header_end
            zero_columns |= _leading_zero_columns(arr, starts[data], cols[data])
        if ends.size == 0:
            carry += delims.size
            continue
        counts = np.diff(before, prepend=0)
        counts[0] += carry
        carry = delims.size - before[-1]
        ends = ends + start
        line_starts = np.concatenate(([prev_end + 1], ends[:-1] + 1))
        length = ends - line_starts
        blank = (length == 0) | ((length == 1) & (arr[np.maximum(ends - 1, 0)] == cr))
        nonblank = ~blank
        if np.any(counts[nonblank] + 1 != n_fields):
            suspect = True
        n_lines += int(nonblank.sum())
        prev_end = int(ends[-1])
    if quotes_before % 2:
        suspect = True
    if buf[prev_end + 1 :].strip():
        n_lines += 1
        if carry + 1 != n_fields:
            suspect = True
    return _ByteScan(suspect, n_lines, zero_columns)


def _leading_zero_columns(arr: np.ndarray, starts: np.ndarray, cols: np.ndarray) -> set[int]:
    """Columns of the fields at ``starts`` that begin with [quote][sign]0<digit>."""
    if not starts.size:
        return set()
    last = arr.size - 1
    p = starts.copy()
    p += arr[np.minimum(p, last)] == ord('"')
    b = arr[np.minimum(p, last)]
    p += (b == ord("+")) | (b == ord("-"))
    nxt = arr[np.minimum(p + 1, last)]
    hit = (
        (p + 1 <= last)
        & (arr[np.minimum(p, last)] == ord("0"))
        & (nxt >= ord("0"))
        & (nxt <= ord("9"))
    )
    return set(np.unique(cols[hit]).tolist())


def _scan(buf: bytes, delim: str) -> csv.reader:
    text = io.TextIOWrapper(io.BytesIO(buf), encoding="utf-8", newline="")
    return csv.reader(text, delimiter=delim, quotechar='"')


def _raise_bad_rows(buf: bytes, delim: str, n_expected: int, line_offset: int = 0) -> None:
    """Scan every record (exact line numbers) and raise if any has the wrong count.

    Rows made only of empty fields count as blank, not bad. Returns quietly if
    nothing is wrong (the fast check was only suspicious).
    """
    reader = _scan(buf, delim)
    bad: list[tuple[int, int, list[str]]] = []
    n_bad = 0
    line = final_start = line_offset
    try:
        for rec in reader:
            start, line = line + 1, reader.line_num + line_offset
            if not any(f.strip() for f in rec):
                continue
            final_start = start
            if len(rec) == n_expected:
                continue
            n_bad += 1
            if len(bad) < _MAX_PROBLEMS:
                bad.append((start, len(rec), rec))
    except csv.Error as exc:
        raise FileFormatError(
            f"The file could not be read near line {line + 1}: {exc}. "
            'Check for a quote (") that is opened but never closed.',
            code="unreadable",
        ) from exc
    if not n_bad:
        return
    dname = _DELIMITER_NAMES[delim]
    problems = [
        f"line {ln}: {n} field{'s' if n != 1 else ''} instead of {n_expected}"
        f" (starts {_short(delim.join(rec), 40)!r})"
        for ln, n, rec in bad
    ]
    listed = ", ".join(str(ln) for ln, _, _ in bad[:_MAX_LISTED_LINES])
    more = f" and {n_bad - _MAX_LISTED_LINES} more" if n_bad > _MAX_LISTED_LINES else ""
    rows = "row has" if n_bad == 1 else "rows have"
    message = (
        f"{n_bad} {rows} the wrong number of fields (the header has {n_expected} "
        f"{dname}-separated columns), so values would land in the wrong columns: "
        f"line{'s' if n_bad > 1 else ''} {listed}{more}."
    )
    last_line, last_n, _ = bad[-1]
    truncated = (
        last_line == final_start and last_n < n_expected and not buf.endswith((b"\n", b"\r"))
    )
    if truncated:
        message += (
            f" Line {last_line} is the last line and stops after {last_n} of {n_expected} "
            "fields without a line ending: the file looks cut off. Download or export it "
            "again, or delete that line."
        )
    elif all(n == 1 and delim in rec[0] for _, n, rec in bad):
        message += (
            " Each of these rows was written as one quoted value (the whole line is inside "
            "quotes), typically by a faulty export. Export the file again so that only "
            "values containing a delimiter are quoted."
        )
    elif all(n > n_expected for _, n, _ in bad):
        message += (
            f" A value probably contains a {dname} without quotes around it; quote such "
            "values or export with a different delimiter."
        )
    else:
        message += " Check those lines for missing or extra delimiters."
    raise FileFormatError(message, code="bad_rows", problems=problems)


def _raise_unclosed_quote(buf: bytes, delim: str, line_offset: int = 0) -> None:
    reader = _scan(buf, delim)
    line = start = line_offset
    try:
        for _ in reader:
            start, line = line + 1, reader.line_num + line_offset
    except csv.Error:
        start = line + 1
    raise FileFormatError(
        f'A quote (") opened on line {start} is never closed, so the rest of the file would '
        "read as one value. Check that line for a stray or missing quote.",
        code="unreadable",
        problems=[f"line {start}: unclosed quote"],
    )


def _column_names(header: list[str]) -> tuple[list[str], list[str]]:
    """Strip names, name blanks ``Unnamed: i`` and de-duplicate as ``x``, ``x.1``."""
    notes = []
    names = []
    for i, raw in enumerate(header):
        name = raw.strip()
        names.append(name if name else f"Unnamed: {i}")
    unnamed = [n for n, raw in zip(names, header, strict=True) if not raw.strip()]
    counts = Counter(names)
    used: set[str] = set()
    out = []
    seen: Counter[str] = Counter()
    for name in names:
        new = name
        if counts[name] > 1 and seen[name]:
            k = seen[name]
            while f"{name}.{k}" in used or f"{name}.{k}" in counts:
                k += 1
            new = f"{name}.{k}"
            seen[name] = k
        seen[name] += 1
        used.add(new)
        out.append(new)
    for name, count in counts.items():
        if count > 1:
            kept = [o for o, n in zip(out, names, strict=True) if n == name]
            notes.append(
                f"The column name {name!r} appears {count} times; all were kept, as "
                + ", ".join(repr(k) for k in kept)
                + "."
            )
    if unnamed:
        notes.append(
            f"{len(unnamed)} column(s) have no name in the header; they were named "
            + ", ".join(repr(u) for u in unnamed[:5])
            + ("..." if len(unnamed) > 5 else "")
            + "."
        )
    return out, notes


# --------------------------------------------------------------------------- column types


def _convert_columns(
    table: pd.DataFrame, decimal: str, buf: bytes, delim: str
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Settle each column's type after pandas' inference.

    Text columns whose values are all numbers become numeric unless they look
    like IDs (leading zeros); integral floats without gaps become int64; float
    columns that may hold long digit strings are re-read as text, since a
    float64 cannot store 16+ digits exactly.
    """
    notes: list[str] = []
    id_columns: list[str] = []
    mixed: dict[str, int] = {}
    thousands: str | None = None
    df = table.copy(deep=False)
    for i, name in enumerate(table.columns):
        s = original = table.iloc[:, i]
        kind, detail = "number", None
        if s.dtype == np.int64:
            result = s
        elif s.dtype.kind == "i":
            result = s.astype("int64")
        elif s.dtype.kind == "u":
            result, kind, detail = s.astype(str), "id", "its numbers are too large to store exactly"
        elif s.dtype.kind == "f":
            result = _settle_float(s)
            if result.dtype.kind == "f" and _maybe_long_digits(result):
                text = _reread_as_text(buf, delim, i)
                if bool(text.str.fullmatch(_LONG_DIGITS).any()):
                    result, kind = text, "id"
                    detail = "its numbers have too many digits to store exactly"
        elif s.dtype.kind == "b":
            result = s
        else:
            s = s.astype("str")
            blank = s.str.isspace().fillna(False)
            if blank.any():
                s = s.mask(blank)
            result, kind, detail = _convert_one(s, decimal)
        if result is not original:
            df.isetitem(i, result)
        if kind == "id":
            id_columns.append(name)
            notes.append(
                f"Column {name!r} looks numeric but was kept as text because {detail} "
                "(an ID or code)."
            )
        elif kind == "mixed":
            mixed[name] = detail
            notes.append(
                f"Column {name!r} is mostly numbers, but {detail} value{'s' if detail != 1 else ''} "
                "could not be read as numbers; it was kept as text."
            )
        elif kind in (",", "."):
            thousands = kind
    bits = {
        "warnings": notes,
        "id_columns": id_columns,
        "mixed_columns": mixed,
        "thousands": thousands,
    }
    return df, bits


def _settle_float(num: pd.Series) -> pd.Series:
    """int64 when every value is a whole number and none is missing, else float64."""
    if num.dtype == np.float64:
        values = num.to_numpy()
        head = values[:1024]
        # Most float columns show a fraction or a gap in their first values.
        if not np.all(head == np.trunc(head)):
            return num
    else:
        values = num.to_numpy(dtype="float64", na_value=np.nan)
    if (
        values.size
        and np.isfinite(values).all()
        and np.all(np.abs(values) < 2.0**63)
        and np.array_equal(values, np.trunc(values))
    ):
        return pd.Series(values.astype("int64"), index=num.index, name=num.name)
    if num.dtype == np.float64:
        return num
    return pd.Series(values, index=num.index, name=num.name)


def _maybe_long_digits(num: pd.Series) -> bool:
    """Whole numbers of 16+ digits may be IDs (card numbers) that belong in text."""
    values = num.to_numpy()
    # fmax/fmin skip NaN: one cheap pass rules out the usual column.
    if not values.size or not (np.fmax.reduce(values) >= 1e15 or np.fmin.reduce(values) <= -1e15):
        return False
    big = np.abs(values) >= 1e15
    return bool(np.any(big & np.isfinite(values) & (values == np.trunc(values))))


def _reread_as_text(buf: bytes, delim: str, i: int) -> pd.Series:
    """Column ``i`` as the text written in the file (rare path: one more C-engine pass)."""
    col = pd.read_csv(
        io.BytesIO(buf), sep=delim, header=0, usecols=[i], dtype=str, engine="c", encoding="utf-8"
    ).iloc[:, 0]
    return col.astype("str")


def _convert_one(s: pd.Series, decimal: str) -> tuple[pd.Series, str, Any]:
    """Convert one text column. Returns (series, kind, detail).

    kind is "text", "id" (detail: the reason), "mixed" (detail: count of
    non-numbers), "number", or the thousands separator used ("," or ".").
    """
    present = s.notna()
    n_present = int(present.sum())
    if n_present == 0:
        return pd.Series(np.nan, index=s.index, dtype="float64"), "number", None
    # Cheap look at the first values: skip free text without parsing it all.
    head = s[present].iloc[:1000]
    if pd.to_numeric(head, errors="coerce").notna().mean() < 0.5 and not (
        head.str.fullmatch(_DECIMAL_COMMA if decimal == "," else _COMMA_THOUSANDS).mean() >= 0.5
    ):
        return s, "text", None

    kind = "number"
    num = None
    if decimal == ",":
        fits = s.str.fullmatch(_DECIMAL_COMMA)
        if bool(fits[present].all()):
            had_dots = bool(s.str.contains(".", regex=False).any())
            text = s.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
            num = pd.to_numeric(text, errors="coerce")
            kind = "." if had_dots else "number"
    if num is None:
        num = pd.to_numeric(s, errors="coerce")
        n_bad = int((num.isna() & present).sum())
        if n_bad:
            with_thousands = s.str.fullmatch(_COMMA_THOUSANDS)
            failed = num.isna() & present
            if bool(with_thousands[failed].all()):
                num = pd.to_numeric(s.str.replace(",", "", regex=False), errors="coerce")
                kind = ","
            else:
                if n_present - n_bad >= 0.5 * n_present:
                    return s, "mixed", n_bad
                return s, "text", None

    if bool(s.str.fullmatch(_ID_LIKE).any()):
        example = s[s.str.fullmatch(_ID_LIKE).fillna(False)].iloc[0]
        return s, "id", f"it has leading zeros (e.g. {example.strip()!r})"
    if num.dtype.kind not in "if" or (
        num.dtype.kind == "f" and bool(s.str.fullmatch(_LONG_DIGITS).any())
    ):
        return s, "id", "its numbers have too many digits to store exactly"
    num = _settle_float(num) if num.dtype.kind == "f" else num.astype("int64")
    return num, kind, None


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


# --------------------------------------------------------------------------- export


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """Write a frame as UTF-8, comma-delimited, CRLF CSV bytes, safe to open in a spreadsheet.

    Every row is kept and the index is not written. Text cells (and column
    names) that start with ``=``, ``+``, ``-``, ``@``, tab or carriage return
    get a leading ``'`` so spreadsheets do not run them as formulas (OWASP CSV
    injection advice). Numeric columns, negative numbers included, are written
    unchanged; floats use Python's round-trip repr, so :func:`read_table` gives
    back the same values.

    Parameters
    ----------
    df : DataFrame of shape (n_rows, n_columns)

    Returns
    -------
    bytes
    """
    out = df.copy(deep=False)
    for i in range(out.shape[1]):
        s = out.iloc[:, i]
        if isinstance(s.dtype, pd.CategoricalDtype):
            if s.cat.categories.dtype.kind in "OU" or pd.api.types.is_string_dtype(
                s.cat.categories.dtype
            ):
                s = s.cat.rename_categories([_neutralise(c) for c in s.cat.categories])
                out.isetitem(i, s)
        elif pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype):
            out.isetitem(i, s.where(~s.str.startswith(_FORMULA_PREFIXES).fillna(False), "'" + s))
        elif pd.api.types.is_object_dtype(s.dtype):
            out.isetitem(i, s.map(_neutralise))
    out.columns = [_neutralise(c) for c in out.columns]
    fast = _arrow_csv(out)
    if fast is not None:
        return fast
    # CRLF as RFC 4180 asks; it also makes the csv writer quote cells holding a
    # bare "\r", which with "\n" endings it would leave unquoted (a row break).
    text = out.to_csv(index=False, lineterminator="\r\n", encoding="utf-8")
    return text.encode("utf-8")


def _arrow_csv(df: pd.DataFrame) -> bytes | None:
    """CSV bytes from Arrow's C++ writer (about 6x faster than pandas at a million rows),
    or None when Arrow cannot take the frame (mixed-type or duplicate-named columns).

    Arrow writes floats in their shortest round-trip form, quotes every text cell (so
    a bare carriage return inside a cell cannot break a row) and leaves missing
    values empty, like pandas.
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    names = [str(c) for c in df.columns]
    if len(set(names)) != len(names):
        return None
    try:
        table = pa.Table.from_pandas(df.set_axis(names, axis=1), preserve_index=False)
        fields = []
        for field in table.schema:
            t = field.type
            if pa.types.is_dictionary(t):  # categories: write their labels
                t = t.value_type
            fields.append(pa.field(field.name, t))
        table = table.cast(pa.schema(fields))
        # Arrow formats numbers without holding the GIL: on big tables, two halves are
        # written on two threads (both cores) and joined; only the first has the header.
        n = table.num_rows
        parts = [(0, n)] if n < 200_000 else [(0, n // 2), (n // 2, n - n // 2)]

        def write(i: int) -> bytes:
            sink = pa.BufferOutputStream()
            options = pa_csv.WriteOptions(quoting_style="needed", include_header=i == 0)
            pa_csv.write_csv(table.slice(*parts[i]), sink, options)
            return sink.getvalue().to_pybytes()

        with ThreadPoolExecutor(max_workers=len(parts)) as pool:
            chunks = list(pool.map(write, range(len(parts))))
    except (pa.ArrowException, TypeError, ValueError):
        return None
    return b"".join(chunks)


def _neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value
