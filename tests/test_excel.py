"""Excel in and out: workbooks read like CSV, .xlsx downloads keep every value and
never turn text into formulas, CSV downloads keep the upload's delimiter and decimal mark."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics import FileFormatError, InputError, excel_sheets, read_table, to_xlsx_bytes
from analytics.io import read_table_with_report, to_csv_bytes

FORMULA_LIKE = ["=1+1", "+A1", "-cmd", "@x", '=HYPERLINK("http://x")', "-", "=", "+"]


def _sheet_xml(xlsx: bytes, name: str = "xl/worksheets/sheet1.xml") -> str:
    return zipfile.ZipFile(io.BytesIO(xlsx)).read(name).decode("utf-8")


def _two_sheet_book() -> bytes:
    """A workbook written independently of our writer, cell by cell (XlsxWriter)."""
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"strings_to_formulas": False})
    first = book.add_worksheet("Notes")
    first.write_row(0, 0, ["note", "value"])
    first.write_row(1, 0, ["read me", 1])
    second = book.add_worksheet("Customers")
    second.write_row(0, 0, ["id", "spend", "visits"])
    for i in range(5):
        second.write_row(i + 1, 0, [f"{i:04d}", 10.5 * i, i])
    book.close()
    return buf.getvalue()


def test_round_trip_keeps_every_value_and_type() -> None:
    df = pd.DataFrame(
        {
            "id": ["0012", "0013", "0100", "7", "0001"],
            "spend": [116.0, 1.5, np.nan, -3.25, 1e-7],
            "visits": [1, 2, 3, -4, 0],
            "city": ["Zürich", "a;b", 'quote "x"', "  spaced  ", "multi\nline"],
            "formula": FORMULA_LIKE[:5],
            "joined": pd.to_datetime(
                [
                    "2024-01-02 00:00:00",
                    "2024-03-04 05:06:07",
                    None,
                    "1999-12-31 12:00:00",
                    "2030-06-30 23:59:59",
                ]
            ),
            "active": [True, False, True, True, False],
        }
    )
    back = read_table(to_xlsx_bytes(df), "out.xlsx")
    assert list(back.columns) == list(df.columns)
    assert back["id"].tolist() == df["id"].tolist()  # codes stay text, zeros kept
    assert back["spend"].dtype == np.float64
    np.testing.assert_array_equal(back["spend"].to_numpy(), df["spend"].to_numpy())
    assert back["visits"].dtype == np.int64 and back["visits"].tolist() == df["visits"].tolist()
    assert back["city"].tolist() == df["city"].tolist()
    assert back["formula"].tolist() == df["formula"].tolist()
    assert back["joined"].isna().tolist() == df["joined"].isna().tolist()
    assert (back["joined"].dropna() == df["joined"].dropna()).all()
    assert back["active"].tolist() == df["active"].tolist()


def test_formula_like_text_is_written_as_text_cells() -> None:
    df = pd.DataFrame({"=name": FORMULA_LIKE, "n": range(len(FORMULA_LIKE))})
    xlsx = to_xlsx_bytes(df)
    xml = _sheet_xml(xlsx)
    assert "<f>" not in xml  # not one formula in the sheet
    back = read_table(xlsx, "x.xlsx")
    assert list(back.columns) == ["=name", "n"]
    assert back["=name"].tolist() == FORMULA_LIKE
    assert back["n"].tolist() == list(range(len(FORMULA_LIKE)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
        min_size=1,
        max_size=20,
    ),
    st.lists(st.text(min_size=1, max_size=12).filter(lambda s: s.strip()), min_size=1, max_size=20),
)
def test_round_trip_property(numbers: list[float], words: list[str]) -> None:
    # 15 significant digits, as typed in a spreadsheet or read from a CSV: kept exactly.
    nums = [float(f"{x:.15g}") for x in numbers]
    n = min(len(nums), len(words))
    df = pd.DataFrame({"x": nums[:n], "w": ["t" + w for w in words[:n]]})
    back = read_table(to_xlsx_bytes(df), "p.xlsx")
    np.testing.assert_array_equal(back["x"].astype(float).to_numpy(), df["x"].to_numpy())
    # XML cannot hold most control characters; XlsxWriter escapes them and calamine
    # gives them back.
    assert back["w"].tolist() == df["w"].tolist()


def test_the_first_sheet_by_default_and_a_chosen_one() -> None:
    book = _two_sheet_book()
    assert excel_sheets(book) == ["Notes", "Customers"]
    first, report = read_table_with_report(book, "book.xlsx")
    assert list(first.columns) == ["note", "value"] and report.sheet == "Notes"
    assert report.sheets == ["Notes", "Customers"] and report.format == "xlsx"
    assert any("2 sheets" in w for w in report.warnings)
    chosen = read_table(book, "book.xlsx", sheet="Customers")
    assert chosen["id"].tolist() == ["0000", "0001", "0002", "0003", "0004"]
    assert chosen["spend"].tolist() == [0.0, 10.5, 21.0, 31.5, 42.0]
    assert chosen["visits"].dtype == np.int64
    assert read_table(book, sheet=1).equals(chosen)
    with pytest.raises(FileFormatError) as info:
        read_table(book, "book.xlsx", sheet="Orders")
    assert info.value.code == "no_sheet"
    assert "'Notes', 'Customers'" in info.value.message


def test_workbook_columns_get_the_csv_profiling_rules() -> None:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"strings_to_formulas": False, "strings_to_numbers": False})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["as_text", "mostly", "blank", ""])
    for i in range(20):
        sheet.write_row(i + 1, 0, [str(i * 3), i if i != 4 else "oops", None])
    sheet.write_row(22, 0, [None, None, None])  # a blank row
    book.close()
    df, report = read_table_with_report(buf.getvalue(), "types.xlsx")
    csv = read_table(
        (
            "as_text,mostly\n" + "\n".join(f"{i * 3},{i if i != 4 else 'oops'}" for i in range(20))
        ).encode()
    )
    assert df["as_text"].dtype == csv["as_text"].dtype == np.int64  # numbers typed as text
    assert df["mostly"].dtype == csv["mostly"].dtype  # mixed: kept as text, said
    assert report.mixed_columns == {"mostly": 1}
    assert len(df) == 20  # the blank row is dropped, as in a CSV


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04" + b"\x00" * 200,  # a ZIP header with nothing behind it
        b"",  # replaced below by a truncated workbook
    ],
)
def test_a_damaged_workbook_is_refused_in_words(data: bytes) -> None:
    if not data:
        data = to_xlsx_bytes(pd.DataFrame({"a": range(100)}))[:1500]
    with pytest.raises(InputError) as info:
        read_table(data, "broken.xlsx")
    assert isinstance(info.value, FileFormatError)
    assert info.value.code == "unreadable"
    assert "Excel workbook" in info.value.message and "damaged" in info.value.message
    assert "Traceback" not in info.value.message


def test_an_empty_sheet_is_refused_in_words() -> None:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf)
    book.add_worksheet("Empty")
    book.close()
    with pytest.raises(FileFormatError) as info:
        read_table(buf.getvalue(), "e.xlsx")
    assert info.value.code == "no_rows" and "'Empty'" in info.value.message


def test_a_header_only_sheet_is_refused_in_words() -> None:
    with pytest.raises(FileFormatError) as info:
        read_table(to_xlsx_bytes(pd.DataFrame({"a": [], "b": []})), "h.xlsx")
    assert info.value.code == "no_rows" and "no data rows" in info.value.message


def test_a_plain_zip_is_still_refused_as_an_archive() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("data.csv", "a,b\n1,2\n")
    with pytest.raises(FileFormatError) as info:
        read_table(buf.getvalue(), "data.zip")
    assert info.value.code == "binary" and "ZIP" in info.value.message


def test_too_many_rows_for_excel_is_refused_in_words(monkeypatch) -> None:
    from analytics.io import export

    monkeypatch.setattr(export, "EXCEL_MAX_ROWS", 10)
    with pytest.raises(InputError) as info:
        to_xlsx_bytes(pd.DataFrame({"a": range(10)}))
    assert info.value.code == "too_large" and "CSV" in info.value.message


def test_csv_keeps_a_semicolon_and_decimal_comma() -> None:
    text = "kunde;umsatz;stadt;code\nK1;116,0;Zürich;=1+1\nK2;1,5;Genève;0012\nK3;-3,25;Bern;x;y\n"
    text = text.replace(";x;y", ";x")
    df, report = read_table_with_report(text.encode("utf-8"))
    assert (report.delimiter, report.decimal) == (";", ",")
    out = to_csv_bytes(df, delimiter=report.delimiter, decimal=report.decimal).decode("utf-8")
    lines = out.splitlines()
    assert lines[0] == "kunde;umsatz;stadt;code"
    assert lines[1] == "K1;116;Zürich;'=1+1"  # 116.0 -> 116: the float's shortest form
    assert lines[2] == "K2;1,5;Genève;0012"
    assert lines[3] == "K3;-3,25;Bern;x"
    again, report2 = read_table_with_report(out.encode("utf-8"))
    assert (report2.delimiter, report2.decimal) == (";", ",")
    np.testing.assert_array_equal(again["umsatz"].to_numpy(), df["umsatz"].to_numpy())
    assert again["code"].tolist()[1:] == df["code"].tolist()[1:]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_csv_with_other_delimiters_reads_back_the_same(delimiter: str) -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "x": rng.normal(size=50) * 1e3,
            "n": rng.integers(-5, 5, 50),
            "t": [f"a{delimiter}b" if i % 7 == 0 else f"w{i}" for i in range(50)],
        }
    )
    for decimal in (".", ","):
        out = to_csv_bytes(df, delimiter=delimiter, decimal=decimal)
        back, report = read_table_with_report(out)
        assert (report.delimiter, report.decimal) == (delimiter, decimal)
        np.testing.assert_array_equal(back["x"].to_numpy(), df["x"].to_numpy())
        assert back["n"].tolist() == df["n"].tolist() and back["t"].tolist() == df["t"].tolist()


def test_csv_refuses_a_decimal_comma_with_comma_delimiter() -> None:
    with pytest.raises(InputError):
        to_csv_bytes(pd.DataFrame({"a": [1.5]}), delimiter=",", decimal=",")


def test_dates_typed_as_text_are_not_taken_for_codes() -> None:
    df = pd.DataFrame({"joined": ["04-09-2012", "21-08-2013"], "code": ["0012", "7"]})
    back, report = read_table_with_report(to_xlsx_bytes(df), "d.xlsx")
    assert back["joined"].tolist() == df["joined"].tolist()
    assert back["code"].tolist() == ["0012", "7"]
    assert report.id_columns == ["code"]
    assert not any("'joined'" in w for w in report.warnings)
