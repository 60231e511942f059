"""Formula-safe downloads that leave numbers written as text unchanged; CRLF on every writer."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.io import FORMULA_PREFIXES, neutralise_formulas, to_csv_bytes

NUMBERS_AS_TEXT = ["-12.5", "+3", "-1,5", "-2e-3", "-0", "+.5", "-7."]
FORMULAS = ["=SUM(A1)", "-cmd", "+1+1", "-12.5 kg", "@x", "\t1", "\r1", "-", "+", "-1e", "=1"]


def cells(data: bytes) -> list[list[str]]:
    """Rows of a CSV exactly as a spreadsheet receives them (no type guessing)."""
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


@pytest.mark.parametrize(
    "column",
    [
        pd.Series(NUMBERS_AS_TEXT + FORMULAS, dtype="string"),  # text column (Arrow path)
        pd.Series(NUMBERS_AS_TEXT + FORMULAS, dtype=object),
        pd.Series([*NUMBERS_AS_TEXT, *FORMULAS, 5, 2.5], dtype=object),  # mixed (pandas path)
        pd.Series(pd.Categorical(NUMBERS_AS_TEXT + FORMULAS)),
    ],
    ids=["string", "object", "mixed", "category"],
)
def test_numbers_as_text_stay_formulas_get_a_quote(column: pd.Series) -> None:
    out = cells(to_csv_bytes(pd.DataFrame({"v": column})))
    got = [row[0] for row in out[1:]]
    expected = [str(v) if isinstance(v, str) and v in NUMBERS_AS_TEXT else None for v in column]
    for value, cell, keep in zip(column, got, expected, strict=True):
        if keep is not None:
            assert cell == value  # "-12.5" stays "-12.5"
        elif isinstance(value, str):
            assert cell == "'" + value
        else:
            assert cell == str(value)


def test_the_reported_cell() -> None:
    df = pd.DataFrame({"note": pd.Series(["-12.5", "=HYPERLINK(1)"], dtype="string")})
    assert cells(to_csv_bytes(df))[1:] == [["-12.5"], ["'=HYPERLINK(1)"]]
    assert neutralise_formulas("-12.5") == "-12.5" and neutralise_formulas("-x") == "'-x"


def test_column_names_follow_the_same_rule() -> None:
    df = pd.DataFrame([[1, 2, 3]], columns=["-1", "=bad", "ok"])
    assert cells(to_csv_bytes(df))[0] == ["-1", "'=bad", "ok"]


@pytest.mark.parametrize(
    "df",
    [
        pd.DataFrame({"a": [1, -2], "b": pd.Series(["x", "y\nz"], dtype="string")}),  # Arrow
        pd.DataFrame({"a": pd.Series([1, "t"], dtype=object)}),  # mixed: pandas writer
        pd.DataFrame([[1, 2]], columns=["d", "d"]),  # duplicate names: pandas writer
        pd.DataFrame({"a": range(250_000)}),  # two Arrow halves joined
    ],
    ids=["arrow", "mixed", "duplicates", "two-halves"],
)
def test_every_line_ends_with_crlf_on_every_writer(df: pd.DataFrame) -> None:
    data = to_csv_bytes(df)
    assert data.endswith(b"\r\n")
    # Outside quoted cells every line break is CRLF: csv's strict parse of the rows with
    # "\r\n" as the only terminator gives back every row.
    lines = data.split(b"\r\n")
    assert lines[-1] == b""
    assert all(b"\n" not in line for line in lines if b'"' not in line)
    assert len(cells(data)) == len(df) + 1


text = st.text(alphabet=st.sampled_from(list("=+-@\t\r0123456789.,eEx ")), max_size=8)


@settings(max_examples=300, deadline=None)
@given(text)
def test_nothing_a_spreadsheet_would_run_is_left_and_nothing_else_changes(value: str) -> None:
    out = neutralise_formulas(value)
    if out != value:
        assert out == "'" + value and value.startswith(FORMULA_PREFIXES)
        assert not _is_plain_number(value)
    elif value.startswith(FORMULA_PREFIXES):
        assert _is_plain_number(value)  # only a plain number is left alone
    series = neutralise_formulas(pd.Series([value], dtype="string"))
    assert series.iloc[0] == out


def _is_plain_number(v: str) -> bool:
    """Independent check: Python's float() accepts it (after a decimal comma becomes a
    point) and it holds only a sign, digits, one mark and an exponent."""
    if any(ch not in "+-0123456789.,eE" for ch in v) or v.count(".") + v.count(",") > 1:
        return False
    if v[1:].lstrip("0123456789.,")[:1] in "+-" and v[1:].lstrip("0123456789.,"):
        return False  # a sign after the start is only allowed right after the exponent
    try:
        float(v.replace(",", "."))
    except ValueError:
        return False
    return "e" not in v.lower() or v.lower().split("e")[0].strip("+-") not in ("", ".", ",")
