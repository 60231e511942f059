"""Writing tables for download: :func:`to_csv_bytes`, :func:`to_xlsx_bytes` and the
formula guard.

Every table download goes through one of these two; :func:`neutralise_formulas` is the
CSV guard against formula injection, public so the command line's streamed CSV output
uses the same rule. A workbook needs no such prefix: its text cells are written as
text cells, which a spreadsheet never runs.
"""

from __future__ import annotations

import io
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd

from analytics.errors import InputError
from analytics.io.numbers import parse_numbers

__all__ = [
    "EXCEL_MAX_COLUMNS",
    "EXCEL_MAX_ROWS",
    "FORMULA_PREFIXES",
    "PLAIN_NUMBER",
    "neutralise_formulas",
    "to_csv_bytes",
    "to_xlsx_bytes",
]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters that make a spreadsheet run a cell as a formula (OWASP)."""

EXCEL_MAX_ROWS = 1_048_576
"""Rows of an Excel worksheet, the header row included."""
EXCEL_MAX_COLUMNS = 16_384
"""Columns of an Excel worksheet."""
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")
"""A whole cell that is only a number: an optional sign, digits with at most one decimal
mark (``.`` or ``,``) and an optional exponent; ``-12.5``, ``+3``, ``-1,5``, ``-2e-3``.
No spaces, thousands separators, currency signs or anything else."""


def _formula(text: str) -> bool:
    """Whether a spreadsheet could run ``text`` as a formula: it starts with one of
    :data:`FORMULA_PREFIXES` and is not a plain number (OWASP allows leaving those)."""
    return text.startswith(FORMULA_PREFIXES) and PLAIN_NUMBER.fullmatch(text) is None


def neutralise_formulas(values: Any, *, decimal: str | None = None) -> Any:
    """Prefix ``'`` to text a spreadsheet would run as a formula; leave everything else.

    The rule (OWASP's CSV-injection guidance): a text cell, category label or column
    name that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
    leading ``'``, unless the whole text is a plain number (:data:`PLAIN_NUMBER`:
    ``-12.5``, ``+3``, ``-1,5``, ``-2e-3``), which a spreadsheet reads as a number and
    never runs. So ``=SUM(A1)``, ``-cmd``, ``+1+1``, ``-12.5 kg`` and ``@x`` become
    ``'=SUM(A1)``, ``'-cmd``, ``'+1+1``, ``'-12.5 kg`` and ``'@x``; ``-12.5`` stays
    ``-12.5`` in a text or mixed column. Numeric columns, missing values and any text
    not starting with those characters are never changed.

    Parameters
    ----------
    values : Series of shape (n,), or one value (a cell or a column name)
    decimal : {".", ","}, optional
        For text copied verbatim from a CSV (the command line's output): text that
        also reads as a number with this decimal mark under the reader's own rules
        (``-1.234,5`` with ``","``) is left alone too. The values are then returned as
        pandas' ``string`` dtype.

    Returns
    -------
    Series of shape (n,), or the one value
    """
    if not isinstance(values, pd.Series):
        if isinstance(values, str) and _formula(values):
            return "'" + values
        return values
    s = values
    if decimal is not None:
        text = s.astype("string")
        risky = text.str.startswith(FORMULA_PREFIXES).fillna(False)
        if not risky.any():
            return s
        risky &= ~text.str.fullmatch(PLAIN_NUMBER.pattern).fillna(False)
        risky &= parse_numbers(text.where(risky), decimal).isna()
        return text.where(~risky, "'" + text)
    if isinstance(s.dtype, pd.CategoricalDtype):
        categories = s.cat.categories
        if categories.dtype.kind in "OU" or pd.api.types.is_string_dtype(categories.dtype):
            return s.cat.rename_categories([neutralise_formulas(c) for c in categories])
        return s
    if pd.api.types.is_object_dtype(s.dtype):
        return s.map(neutralise_formulas)
    if pd.api.types.is_string_dtype(s.dtype):
        risky = s.str.startswith(FORMULA_PREFIXES).fillna(False)
        if not risky.any():
            return s
        risky &= ~s.str.fullmatch(PLAIN_NUMBER.pattern).fillna(False)
        return s.where(~risky, "'" + s)
    return s


def to_csv_bytes(df: pd.DataFrame, *, delimiter: str = ",", decimal: str = ".") -> bytes:
    """Write a frame as UTF-8 CSV bytes (CRLF line ends), safe to open in a spreadsheet.

    Every row is kept and the index is not written; every line, the header's included,
    ends with CRLF (``\r\n``, as RFC 4180 asks) on both writers. Text cells, category
    labels and column names that start with ``=``, ``+``, ``-``, ``@``, tab or carriage
    return get a leading ``'`` so spreadsheets do not run them as formulas (OWASP CSV
    injection advice), except text that is a plain number such as ``-12.5``
    (:func:`neutralise_formulas` gives the exact rule). Numeric columns, negative
    numbers included, are written unchanged; floats use their shortest round-trip
    form, so :func:`read_table` gives back the same values.

    Parameters
    ----------
    df : DataFrame of shape (n_rows, n_columns)
    delimiter : {",", ";", "\\t", "|"}, default ","
        Field separator; pass the uploaded file's (``ReadReport.delimiter``) so the
        download opens the same way in the analyst's spreadsheet.
    decimal : {".", ","}, default "."
        Decimal mark of the numbers (``ReadReport.decimal``); ``","`` needs a
        delimiter other than ``","``.

    Returns
    -------
    bytes

    Raises
    ------
    InputError
        For a decimal comma with a comma delimiter, or an unsupported delimiter.
    """
    if delimiter not in (",", ";", "\t", "|"):
        raise InputError(
            f"The delimiter must be a comma, semicolon, tab or pipe, got {delimiter!r}.",
            code="bad_option",
        )
    if decimal not in (".", ","):
        raise InputError(
            f"The decimal mark must be '.' or ',', got {decimal!r}.", code="bad_option"
        )
    if decimal == delimiter:
        raise InputError(
            "A decimal comma needs another delimiter (a semicolon, say).", code="bad_option"
        )
    out = df.copy(deep=False)
    for i in range(out.shape[1]):
        s = out.iloc[:, i]
        safe = neutralise_formulas(s)
        if safe is not s:
            out.isetitem(i, safe)
    out.columns = [neutralise_formulas(c) for c in out.columns]
    if delimiter == "," and decimal == ".":
        fast = _arrow_csv(out)
        if fast is not None:
            return fast
    else:
        for i in range(out.shape[1]):
            s = out.iloc[:, i]
            if s.dtype.kind == "f":
                # The same shortest round-trip text as the comma writer, with the mark swapped.
                out.isetitem(i, _float_text(s, decimal))
    # CRLF as RFC 4180 asks; it also makes the csv writer quote cells holding a
    # bare "\r", which with "\n" endings it would leave unquoted (a row break).
    text = out.to_csv(
        index=False, sep=delimiter, decimal=decimal, lineterminator="\r\n", encoding="utf-8"
    )
    return text.encode("utf-8")


def _float_text(s: pd.Series, decimal: str) -> pd.Series:
    """Floats as Arrow writes them in CSV (shortest round trip; missing -> missing)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.cast(pa.array(s.to_numpy(), from_pandas=True), pa.string())
    if decimal != ".":
        text = pc.replace_substring(text, ".", decimal)
    return pd.Series(text.to_pandas(), index=s.index, dtype=object, name=s.name)


def to_xlsx_bytes(df: pd.DataFrame, sheet_name: str = "data") -> bytes:
    """Write a frame as an Excel workbook (.xlsx) with one sheet, formula-safe.

    Text cells and column names are written as text cells, never as formulas, so
    ``=1+1``, ``+A1``, ``-cmd`` or ``@x`` show as typed and nothing runs; nor are
    they turned into numbers or links. Numbers are number cells, true/false are
    booleans, dates and times are dates (``yyyy-mm-dd hh:mm:ss``), missing values
    are empty cells. Written by XlsxWriter, which keeps 16 significant digits of a
    number (Excel shows 15): a value typed or read from a CSV with up to 15 digits
    reads back identical.

    Parameters
    ----------
    df : DataFrame of shape (n_rows, n_columns)
        At most 1,048,575 rows and 16,384 columns (an Excel sheet's limits).
    sheet_name : str, default "data"

    Returns
    -------
    bytes

    Raises
    ------
    InputError
        When the table does not fit on one Excel sheet (``code="too_large"``).
    """
    import xlsxwriter

    n_rows, n_cols = df.shape
    if n_rows + 1 > EXCEL_MAX_ROWS or n_cols > EXCEL_MAX_COLUMNS:
        raise InputError(
            f"The table has {n_rows:,} rows and {n_cols:,} columns; an Excel sheet holds at "
            f"most {EXCEL_MAX_ROWS - 1:,} rows below its header and {EXCEL_MAX_COLUMNS:,} "
            "columns. Download it as CSV instead.",
            code="too_large",
        )
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(
        buf,
        {
            # Text stays text: the formula guard, and no number or link guessing.
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            # Rows are streamed to a temporary file in order, not held as cell objects.
            "constant_memory": True,
            "nan_inf_to_errors": False,
        },
    )
    sheet = book.add_worksheet(sheet_name[:31])
    date_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for j, name in enumerate(df.columns):
        sheet.write_string(0, j, str(name))
    writers = [_column_writer(sheet, df.iloc[:, j], j, date_format) for j in range(n_cols)]
    for i in range(n_rows):
        for write in writers:
            write(i)
    book.close()
    return buf.getvalue()


def _column_writer(sheet: Any, s: pd.Series, j: int, date_format: Any) -> Any:
    """A function writing row ``i`` of column ``s`` into column ``j`` (row ``i + 1``)."""
    kind = s.dtype.kind
    if kind == "M" or isinstance(s.dtype, pd.DatetimeTZDtype):
        values = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        cells = [None if pd.isna(v) else v.to_pydatetime() for v in values]
        return lambda i: cells[i] is None or sheet.write_datetime(i + 1, j, cells[i], date_format)
    if kind in "iu":
        ints = s.tolist()
        return lambda i: sheet.write_number(i + 1, j, ints[i])
    if kind == "f":
        floats = s.tolist()
        return lambda i: (
            (floats[i] != floats[i] or floats[i] in _INF) or sheet.write_number(i + 1, j, floats[i])
        )
    if kind == "b":
        bools = s.tolist()
        return lambda i: sheet.write_boolean(i + 1, j, bools[i])
    cells = s.astype(object).tolist()
    return lambda i: _write_cell(sheet, i + 1, j, cells[i])


_INF = (float("inf"), float("-inf"))


def _write_cell(sheet: Any, row: int, col: int, v: Any) -> None:
    """One cell of a text, category or mixed column, by the type of its value."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
        return
    if isinstance(v, bool):
        sheet.write_boolean(row, col, v)
    elif isinstance(v, int | float) and v not in _INF:
        sheet.write_number(row, col, v)
    else:
        sheet.write_string(row, col, str(v))


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
            options = pa_csv.WriteOptions(quoting_style="needed", include_header=i == 0, eol="\r\n")
            pa_csv.write_csv(table.slice(*parts[i]), sink, options)
            return sink.getvalue().to_pybytes()

        with ThreadPoolExecutor(max_workers=len(parts)) as pool:
            chunks = list(pool.map(write, range(len(parts))))
    except (pa.ArrowException, TypeError, ValueError):
        return None
    return b"".join(chunks)
