"""Numbers as files write them, and each column's type after parsing.

:func:`parse_numbers` reads text numbers the way :func:`~analytics.io.read_table`
does (decimal comma, ``.`` or ``,`` thousands); the command line uses it on the
text columns it streams. :func:`convert_columns` settles every column of a parsed
table: numbers to int64/float64, identifier-like numbers (``0001``, 16+ digits)
kept as text, mostly-numeric columns with a few words kept as text and reported.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["parse_numbers"]

# Numbers as written with a decimal point and optional "," thousands, or with a
# decimal comma and optional "." thousands.
COMMA_THOUSANDS = r"\s*[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?\s*"
DECIMAL_COMMA = r"\s*[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?\s*"
# Numeric-looking text that must stay text: leading zeros (codes such as 0001)
# or 16+ digits (account numbers that a float64 cannot hold exactly).
_ID_LIKE = r"\s*[+-]?0\d.*"
_LONG_DIGITS = r"\s*[+-]?\d{16,}\s*"


def parse_numbers(values: pd.Series, decimal: str = ".") -> pd.Series:
    """Numbers from text, as :func:`~analytics.io.read_table` reads them.

    Parameters
    ----------
    values : Series of str, shape (n,)
        Text cells; missing values stay missing.
    decimal : {".", ","}
        The file's decimal mark. With ``","``, ``1.234,5`` is 1234.5; with ``"."``,
        ``1,234.5`` is 1234.5.

    Returns
    -------
    Series of float64, shape (n,)
        NaN where a cell is not a number.
    """
    t = values.str.strip()
    if decimal == ",":
        fits = t.str.fullmatch(DECIMAL_COMMA).fillna(False)
        t = t.where(~fits, from_decimal_comma(t))
    else:
        grouped = t.str.fullmatch(COMMA_THOUSANDS).fillna(False)
        t = t.where(~grouped, without_comma_thousands(t))
    return pd.to_numeric(t, errors="coerce").astype("float64")


def from_decimal_comma(text: pd.Series) -> pd.Series:
    """``1.234,5`` -> ``1234.5`` (text matching :data:`DECIMAL_COMMA`)."""
    return text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)


def without_comma_thousands(text: pd.Series) -> pd.Series:
    """``1,234.5`` -> ``1234.5`` (text matching :data:`COMMA_THOUSANDS`)."""
    return text.str.replace(",", "", regex=False)


def convert_columns(
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
        head.str.fullmatch(DECIMAL_COMMA if decimal == "," else COMMA_THOUSANDS).mean() >= 0.5
    ):
        return s, "text", None

    kind = "number"
    num = None
    if decimal == ",":
        fits = s.str.fullmatch(DECIMAL_COMMA)
        if bool(fits[present].all()):
            had_dots = bool(s.str.contains(".", regex=False).any())
            num = pd.to_numeric(from_decimal_comma(s), errors="coerce")
            kind = "." if had_dots else "number"
    if num is None:
        num = pd.to_numeric(s, errors="coerce")
        n_bad = int((num.isna() & present).sum())
        if n_bad:
            with_thousands = s.str.fullmatch(COMMA_THOUSANDS)
            failed = num.isna() & present
            if bool(with_thousands[failed].all()):
                num = pd.to_numeric(without_comma_thousands(s), errors="coerce")
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
