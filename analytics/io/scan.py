"""Row validation: every record must have the header's number of fields.

pandas pads a short row with missing values without a word, which would shift
nothing but silently invent gaps, and an extra delimiter in a value shifts the rest
of its row. The checks, fastest first:

* :func:`may_have_leading_zeros`: a few numpy passes over the bytes (they release the
  GIL, so this runs beside pandas' parser) that find fields such as ``0001``, whose
  columns must be read as text.
* :func:`scan_rows`: Arrow's CSV parser (multithreaded C++) counts the fields of
  every record with its own row validation (``invalid_row_handler``) and names the
  columns holding zero-led numbers; it runs only when the cheap checks say it must.
* :func:`raise_bad_rows`: the exact, line-numbered report, from Python's csv module,
  only on the error path (it raises with every bad line, or returns when the
  suspicion was wrong).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import numpy as np

from analytics.errors import FileFormatError
from analytics.io.dialect import DELIMITER_NAMES

__all__ = ["RowScan", "may_have_leading_zeros", "raise_bad_rows", "scan_rows"]

_MAX_LISTED_LINES = 5
_MAX_PROBLEMS = 1000

# The leading-zero search works on slices of this many bytes, which stay in
# the CPU cache between its few vectorised passes.
_ZERO_SCAN_CHUNK = 256 * 1024
_RE_DIGITS = re.compile(rb"[0-9]*")
# A zero-led number as Arrow gives a field (quotes already removed).
_ZERO_LED = r"^[+-]?0[0-9]"


@dataclass
class RowScan:
    """What :func:`scan_rows` found.

    Attributes
    ----------
    suspect : bool
        Some record has the wrong number of fields, or the quoting is broken: the
        exact scan (:func:`raise_bad_rows`) must decide.
    n_lines : int
        Non-blank records, the header included (-1 when the quoting is broken).
    zero_columns : set of int
        Columns where a value starts with ``0`` and a digit (``0001``, ``-007``),
        which must be read as text before pandas turns them into numbers.
    """

    suspect: bool
    n_lines: int
    zero_columns: set[int] = field(default_factory=set)


def scan_rows(buf: bytes, delim: str, n_fields: int) -> RowScan:
    """Check every record's field count and find zero-led columns, in one Arrow pass.

    Parameters
    ----------
    buf : bytes
        The file as UTF-8 (not necessarily validated: fields are read as bytes),
        header first.
    delim : str
    n_fields : int
        Fields in the header.

    Returns
    -------
    RowScan
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pa_csv

    n_bad = 0

    def count_bad(row: object) -> str:
        nonlocal n_bad
        n_bad += 1
        return "skip"

    try:
        table = pa_csv.read_csv(
            io.BytesIO(buf),
            # The header is read as the first row, so names never clash.
            read_options=pa_csv.ReadOptions(autogenerate_column_names=True),
            parse_options=pa_csv.ParseOptions(
                delimiter=delim,
                quote_char='"',
                double_quote=True,
                newlines_in_values=True,
                invalid_row_handler=count_bad,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={f"f{i}": pa.binary() for i in range(n_fields)}
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowKeyError):
        # A quote opened and never closed (or a header Arrow reads differently).
        return RowScan(True, -1, _zero_columns_by_pandas(buf, delim, n_fields))
    zero_columns = {
        i
        for i in range(min(table.num_columns, n_fields))
        if pc.any(pc.match_substring_regex(table.column(i).slice(1), _ZERO_LED)).as_py()
    }
    return RowScan(n_bad > 0 or table.num_columns != n_fields, table.num_rows + n_bad, zero_columns)


def _zero_columns_by_pandas(buf: bytes, delim: str, n_fields: int) -> set[int]:
    """Zero-led columns when Arrow cannot parse the file (rare: broken quoting)."""
    import pandas as pd

    try:
        text = pd.read_csv(
            io.BytesIO(buf), sep=delim, header=0, dtype=str, engine="python",
            on_bad_lines="skip", encoding="utf-8", encoding_errors="replace",
        )  # fmt: skip
    except (ValueError, csv.Error):
        return set()
    found = set()
    for i in range(min(text.shape[1], n_fields)):
        col = text.iloc[:, i]
        if bool(col.str.match(_ZERO_LED).fillna(False).any()):
            found.add(i)
    return found


def may_have_leading_zeros(buf: bytes, delim: str) -> bool:
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


def _scan(buf: bytes, delim: str) -> csv.reader:
    text = io.TextIOWrapper(io.BytesIO(buf), encoding="utf-8", newline="")
    return csv.reader(text, delimiter=delim, quotechar='"')


def raise_bad_rows(buf: bytes, delim: str, n_expected: int, line_offset: int = 0) -> None:
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
    dname = DELIMITER_NAMES[delim]
    problems = [
        f"line {ln}: {n} field{'s' if n != 1 else ''} instead of {n_expected}"
        f" (starts {shorten(delim.join(rec), 40)!r})"
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


def raise_unclosed_quote(buf: bytes, delim: str, line_offset: int = 0) -> None:
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


def shorten(text: str, n: int) -> str:
    """``text`` on one line, cut to ``n`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"
