"""Reading spreadsheet workbooks (.xlsx, .xlsm, .xls, .ods) into the same frames as CSV.

The cells are read by python-calamine through ``pandas.read_excel(engine="calamine")``
(Rust, no Python loop per cell). Excel already knows which cells are numbers, so the
only text-to-number decisions left are the CSV reader's own, applied to columns whose
cells are text or a mix: all-number text becomes numbers, codes with leading zeros
(``0012``) stay text, mostly-number columns with a few words stay text with a warning
(:func:`~analytics.io.numbers.convert_columns`). Blank rows and unnamed empty columns
are dropped as for CSV.
"""

from __future__ import annotations

import datetime
import io
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analytics.errors import FileFormatError, InputError
from analytics.io.numbers import convert_columns

__all__ = ["WORKBOOK_SUFFIXES", "excel_sheets", "read_workbook", "workbook_format"]

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
"""File name endings read as workbooks (the uploader accepts these too)."""

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the container of old .xls workbooks
_ZERO_LED = r"[+-]?0[0-9]+(?:\.[0-9]+)?"  # a number written with leading zeros: a code
_NUMBER_TEXT = r"[+-]?[0-9]+(?:\.[0-9]+)?"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


def workbook_format(raw: bytes, filename: str | None = None) -> str | None:
    """Which workbook format ``raw`` is: ``"xlsx"``, ``"xls"``, ``"ods"``, or None (not one).

    Decided by the bytes (a ZIP holding ``xl/`` parts or an OpenDocument spreadsheet
    mimetype; the OLE container of ``.xls``), with the file name as a hint for a ZIP
    whose first bytes do not tell.
    """
    name = (filename or "").lower()
    if raw.startswith(_OLE):
        return "xls"
    if not raw.startswith(_ZIP):
        return None
    head = raw[:4096]
    if b"opendocument.spreadsheet" in head or name.endswith(".ods"):
        return "ods"
    if b"xl/" in head or b"[Content_Types].xml" in head or name.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    try:  # the parts may be listed only in the central directory at the end
        names = zipfile.ZipFile(io.BytesIO(raw)).namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if any(n.startswith("xl/") for n in names):
        return "xlsx"
    return None


def _unreadable(kind: str, exc: BaseException) -> FileFormatError:
    detail = str(exc).strip() or type(exc).__name__
    if "password" in detail.lower() or "encrypt" in detail.lower():
        return FileFormatError(
            f"This {kind} is protected with a password, so it cannot be read. "
            "Open it, remove the password (or save the sheet as CSV) and upload it again.",
            code="unreadable",
        )
    return FileFormatError(
        f"This {kind} could not be read: it looks damaged or incomplete ({detail[:160]}). "
        "Open it in your spreadsheet program, save it again (or save the sheet as CSV) "
        "and upload that.",
        code="unreadable",
    )


_KIND = {
    "xlsx": "Excel workbook",
    "xls": "Excel workbook (.xls)",
    "ods": "OpenDocument spreadsheet",
}


def _workbook(raw: bytes, fmt: str) -> pd.ExcelFile:
    try:
        return pd.ExcelFile(io.BytesIO(raw), engine="calamine")
    except Exception as exc:  # calamine raises its own CalamineError, ZipError, XmlError, ...
        raise _unreadable(_KIND[fmt], exc) from exc


def excel_sheets(source: str | os.PathLike[str] | bytes) -> list[str]:
    """Names of the worksheets of a workbook, in the workbook's order.

    Parameters
    ----------
    source : path or bytes of an .xlsx, .xlsm, .xls or .ods file

    Returns
    -------
    list of str

    Raises
    ------
    FileFormatError
        When ``source`` is not a readable workbook.
    """
    raw = Path(source).read_bytes() if isinstance(source, str | os.PathLike) else bytes(source)
    fmt = workbook_format(raw)
    if fmt is None:
        raise FileFormatError("This file is not a spreadsheet workbook.", code="not_workbook")
    return list(map(str, _workbook(raw, fmt).sheet_names))


def read_workbook(
    raw: bytes, fmt: str, filename: str | None = None, sheet: str | int | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read one sheet of a workbook: the frame and the fields of its read report.

    Parameters
    ----------
    raw : bytes of the workbook
    fmt : ``"xlsx"``, ``"xls"`` or ``"ods"`` (from :func:`workbook_format`)
    filename : used only in messages
    sheet : sheet name, or 0-based position; default the first sheet

    Returns
    -------
    df : DataFrame of shape (n_rows, n_columns)
        The first row is the header.
    report : dict
        ``format``, ``sheet``, ``sheets``, ``warnings``, ``id_columns``,
        ``mixed_columns``, ``dropped_blank_rows`` (the keys of
        :class:`~analytics.io.ReadReport` that a workbook fills).

    Raises
    ------
    FileFormatError
        ``"unreadable"`` (damaged, password), ``"no_sheet"`` (no such sheet),
        ``"no_rows"`` (an empty sheet or a header with nothing below).
    """
    kind = _KIND[fmt]
    book = _workbook(raw, fmt)
    sheets = list(map(str, book.sheet_names))
    if not sheets:
        raise FileFormatError(f"This {kind} has no worksheets.", code="no_rows")
    if sheet is None:
        name = sheets[0]
    elif isinstance(sheet, int) and not isinstance(sheet, bool):
        if not 0 <= sheet < len(sheets):
            raise FileFormatError(
                f"The workbook has {len(sheets)} sheet(s); there is no sheet number {sheet + 1}.",
                code="no_sheet",
            )
        name = sheets[sheet]
    elif str(sheet) in sheets:
        name = str(sheet)
    else:
        raise FileFormatError(
            f"The workbook has no sheet named {str(sheet)!r}; its sheets are "
            + ", ".join(repr(s) for s in sheets)
            + ".",
            code="no_sheet",
        )
    try:
        # dtype=object: the cells as the workbook typed them (pandas would otherwise
        # turn the text "0012" into the number 12).
        table = pd.read_excel(book, sheet_name=name, header=0, dtype=object)
    except InputError:
        raise
    except Exception as exc:
        if "empty" in str(exc).lower() or isinstance(exc, pd.errors.EmptyDataError):
            table = pd.DataFrame()
        else:
            raise _unreadable(kind, exc) from exc
    where = f"The sheet {name!r}" + (f" of {filename}" if filename else "")
    if table.shape[1] == 0:
        raise FileFormatError(f"{where} is empty.", code="no_rows")
    notes: list[str] = []
    if len(sheets) > 1:
        notes.append(
            f"The workbook has {len(sheets)} sheets; the sheet {name!r} was read "
            "(choose another on the Data page)."
        )
    header = [str(c) for c in table.columns]
    table.columns = header
    unnamed = [c for c in header if c.startswith("Unnamed: ")]
    # Text and mixed columns get the CSV reader's text-to-number rules; number,
    # date and true/false columns are already typed by the workbook.
    df = table.copy(deep=False)
    text_like = []
    for i in range(table.shape[1]):
        typed = _typed_column(table.iloc[:, i])
        if typed is None:
            text_like.append(i)
            df.isetitem(i, table.iloc[:, i].map(_cell_text, na_action="ignore").astype(object))
        else:
            df.isetitem(i, typed)
    bits: dict[str, Any] = {"warnings": [], "id_columns": [], "mixed_columns": {}}
    # Codes such as 0012 typed as text stay text (the CSV reader's rule for leading zeros).
    zero_led = [i for i in text_like if _zero_led_codes(df.iloc[:, i])]
    for i in zero_led:
        df.isetitem(i, df.iloc[:, i].astype("str"))
        notes.append(
            f"Column {df.columns[i]!r} looks numeric but was kept as text because some values "
            "start with a zero (an ID or code)."
        )
    zero_names = [str(df.columns[i]) for i in zero_led]
    text_like = [i for i in text_like if i not in zero_led]
    if text_like:
        part = df.iloc[:, text_like]
        converted, bits = convert_columns(part, ".", b"", ",")
        for j, i in enumerate(text_like):
            df.isetitem(i, converted.iloc[:, j])
    notes += bits["warnings"]
    empty_unnamed = [c for c in unnamed if df[c].isna().all()]
    if empty_unnamed:
        df = df.drop(columns=empty_unnamed)
        notes.append(f"Dropped {len(empty_unnamed)} column(s) with no name and no values.")
    blank = df.isna().all(axis=1)
    n_blank = int(blank.sum())
    if n_blank:
        df = df.loc[~blank].reset_index(drop=True)
        notes.append(f"Dropped {n_blank} row(s) that were entirely blank.")
    if df.empty or df.shape[1] == 0:
        raise FileFormatError(
            f"{where} has a header row but no data rows below it.", code="no_rows"
        )
    report = {
        "format": fmt,
        "sheet": name,
        "sheets": sheets,
        "warnings": notes,
        "id_columns": [c for c in [*zero_names, *bits["id_columns"]] if c in df.columns],
        "mixed_columns": {k: v for k, v in bits["mixed_columns"].items() if k in df.columns},
        "dropped_blank_rows": n_blank,
    }
    return df, report


def _zero_led_codes(s: pd.Series) -> bool:
    """Whether a text column is numbers only, some written with leading zeros (``0012``)."""
    text = s.dropna().astype("string").str.strip()
    return bool(text.str.fullmatch(_NUMBER_TEXT).all() and text.str.fullmatch(_ZERO_LED).any())


def _typed_column(s: pd.Series) -> pd.Series | None:
    """A column whose cells are all numbers, all true/false or all dates, typed; else None.

    Numbers become int64 when every cell is a whole number and none is missing (as
    the CSV reader does), float64 otherwise.
    """
    cells = s.dropna()
    if cells.empty:
        return pd.Series(np.nan, index=s.index, name=s.name, dtype="float64")
    kinds = {type(v) for v in cells}
    if kinds <= {bool, np.bool_}:
        return s.astype("boolean") if len(cells) < len(s) else s.astype(bool)
    if kinds <= {int, float, np.int64, np.float64}:
        num = s.astype("float64")
        whole = len(cells) == len(s) and bool(np.all(np.mod(num.to_numpy(), 1) == 0))
        if whole and bool((num.abs() < 2**53).all()):
            return num.astype("int64")
        return num
    if all(isinstance(v, pd.Timestamp | datetime.datetime) for v in cells):
        return pd.to_datetime(s)
    if all(isinstance(v, datetime.date) and not isinstance(v, datetime.datetime) for v in cells):
        return pd.to_datetime(s)
    return None


def _cell_text(v: Any) -> Any:
    """A text-or-mixed column's cell as the text the CSV reader would have seen.

    Whole floats are written without ``.0`` (Excel stores every number as a float);
    dates and times by their ISO text.
    """
    if isinstance(v, str):
        return v
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, float | np.floating):
        return str(int(v)) if float(v).is_integer() and abs(v) < 2**53 else repr(float(v))
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)
