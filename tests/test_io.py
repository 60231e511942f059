"""Tests for analytics.io.read_table: dialects, encodings, types and every bad file."""

from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.errors import FileFormatError, InputError
from analytics.io import ReadReport, read_table, read_table_with_report

SIMPLE = "id,name,score\n1,Ann,1.5\n2,Bob,2.5\n3,Cy,3.0\n"


def _expected_simple(df: pd.DataFrame) -> None:
    assert list(df.columns) == ["id", "name", "score"]
    assert df["id"].tolist() == [1, 2, 3]
    assert df["name"].tolist() == ["Ann", "Bob", "Cy"]
    assert df["score"].tolist() == [1.5, 2.5, 3.0]
    assert df["id"].dtype == np.int64
    assert df["score"].dtype == np.float64


def _raises(data: bytes | str, code: str, **kwargs) -> FileFormatError:
    with pytest.raises(FileFormatError) as info:
        read_table(data.encode() if isinstance(data, str) else data, **kwargs)
    assert info.value.code == code, info.value.message
    assert isinstance(info.value, InputError)
    return info.value


# ----------------------------------------------------------------- sources


def test_path_bytes_and_file_objects_agree(tmp_path):
    path = tmp_path / "simple.csv"
    path.write_text(SIMPLE, encoding="utf-8")
    frames = [
        read_table(path),
        read_table(str(path)),
        read_table(SIMPLE.encode()),
        read_table(io.BytesIO(SIMPLE.encode())),
        read_table(io.StringIO(SIMPLE)),
    ]
    for df in frames:
        _expected_simple(df)
    assert frames[0].attrs["read_report"]["filename"] == "simple.csv"


def test_file_object_read_again_from_start():
    buffer = io.BytesIO(SIMPLE.encode())
    read_table(buffer)
    _expected_simple(read_table(buffer))  # a Streamlit rerun reads the same upload twice


def test_report_attrs_and_tuple_form():
    df, report = read_table_with_report(SIMPLE.encode(), filename="x.csv")
    assert isinstance(report, ReadReport)
    attrs = read_table(SIMPLE.encode(), filename="x.csv").attrs["read_report"]
    assert attrs == report.as_dict()
    assert report.encoding == "utf-8"
    assert (report.delimiter, report.delimiter_name) == (",", "comma")
    assert (report.decimal, report.thousands) == (".", None)
    assert (report.n_rows, report.n_columns) == df.shape == (3, 3)
    assert report.warnings == []


def test_missing_path_is_input_error(tmp_path):
    with pytest.raises(FileFormatError) as info:
        read_table(tmp_path / "nope.csv")
    assert info.value.code == "not_found"


# ----------------------------------------------------------------- dialects


@pytest.mark.parametrize(
    ("delimiter", "name"), [(",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "pipe")]
)
def test_delimiters(delimiter, name):
    text = SIMPLE.replace(",", delimiter)
    df, report = read_table_with_report(text.encode(), filename="data.csv")
    _expected_simple(df)
    assert (report.delimiter, report.delimiter_name) == (delimiter, name)


def test_tab_separated_file_named_csv_with_commas_in_text(tmp_path):
    text = "id\tnote\tvalue\n1\tred, big\t3\n2\tblue\t4\n3\tsmall, green, round\t5\n"
    path = tmp_path / "looks_like_comma.csv"
    path.write_bytes(text.encode())
    df, report = read_table_with_report(path)
    assert report.delimiter == "\t"
    assert df["note"].tolist() == ["red, big", "blue", "small, green, round"]
    assert df["value"].tolist() == [3, 4, 5]


def test_semicolon_with_decimal_comma_and_thousands():
    text = "name;amount;rate\nA;1.234,5;0,25\nB;12,75;1,5\nC;1.000.000,0;2\n"
    df, report = read_table_with_report(text.encode())
    assert report.decimal == ","
    assert report.thousands == "."
    assert df["amount"].tolist() == [1234.5, 12.75, 1_000_000.0]
    assert df["rate"].tolist() == [0.25, 1.5, 2.0]


def test_quoted_thousands_in_comma_file():
    text = 'name,amount\nA,"1,234.5"\nB,"12,000"\nC,7\n'
    df, report = read_table_with_report(text.encode())
    assert df["amount"].tolist() == [1234.5, 12000.0, 7.0]
    assert report.thousands == ","


def test_quoted_newlines_crlf_no_final_newline():
    text = 'id,comment,x\r\n1,"line one\r\nline two",5\r\n2,"say ""hi""",6'
    df = read_table(text.encode())
    assert df["comment"].tolist() == ["line one\r\nline two", 'say "hi"']
    assert df["x"].tolist() == [5, 6]


def test_trailing_blank_lines_and_blank_rows():
    text = "a,b\n1,2\n\n3,4\n,\n\n   \n\n"
    df, report = read_table_with_report(text.encode())
    assert df.to_numpy().tolist() == [[1, 2], [3, 4]]
    assert report.dropped_blank_rows >= 1
    assert any("entirely blank" in w for w in report.warnings)


def test_old_mac_line_endings():
    df = read_table(b"a;b\r1;2\r3;4")
    assert df.to_numpy().tolist() == [[1, 2], [3, 4]]


def test_single_column():
    df, report = read_table_with_report(b"value\n1\n2\n3\n")
    assert df["value"].tolist() == [1, 2, 3]
    assert report.n_columns == 1


# ----------------------------------------------------------------- encodings


def test_utf8_bom():
    df, report = read_table_with_report(b"\xef\xbb\xbf" + SIMPLE.encode())
    _expected_simple(df)
    assert report.encoding == "utf-8-sig"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom(codec):
    bom = b"\xff\xfe" if codec.endswith("le") else b"\xfe\xff"
    text = "name,city,n\nZoë,Kraków,1\nJosé,Zürich,2\n"
    df, report = read_table_with_report(bom + text.encode(codec))
    assert report.encoding == codec
    assert df["name"].tolist() == ["Zoë", "José"]
    assert df["city"].tolist() == ["Kraków", "Zürich"]


def test_cp1252_pound_and_accent():
    text = "item;price;note\nTea;£3,50;café\nCake;£2,00;crème\n"
    df, report = read_table_with_report(text.encode("cp1252"))
    assert report.encoding == "cp1252"
    assert df["price"].tolist() == ["£3,50", "£2,00"]
    assert df["note"].tolist() == ["café", "crème"]
    assert any("not UTF-8" in w for w in report.warnings)


def test_single_latin1_byte_late_in_a_large_utf8_file():
    # The invalid byte sits after the 64 KB sample: pandas finds it, we fall back.
    rows = "".join(f"{i},item {i},1.5\n" for i in range(6000))
    data = ("id,desc,price\n" + rows).encode() + b"9999,Gift \xa340,2.0\n"
    df, report = read_table_with_report(data)
    assert report.encoding == "cp1252"
    assert df["desc"].iloc[-1] == "Gift £40"
    assert len(df) == 6001


# ----------------------------------------------------------------- column types


def test_leading_zero_ids_stay_text():
    text = "CustomerID,zip,age\r\n0001,02134,19\r\n0002,90210,21\r\n0010,10001,35"
    df, report = read_table_with_report(text.encode())
    assert df["CustomerID"].tolist() == ["0001", "0002", "0010"]
    assert df["zip"].tolist() == ["02134", "90210", "10001"]
    assert df["age"].dtype == np.int64
    assert set(report.id_columns) == {"CustomerID", "zip"}


def test_leading_zero_far_down_the_file_is_still_kept():
    rows = "".join(f"{1000 + i},{i}\n" for i in range(20000)) + "0042,1\n"
    df = read_table(("code,n\n" + rows).encode())
    assert df["code"].iloc[-1] == "0042"
    assert df["code"].iloc[0] == "1000"


def test_long_digit_ids_with_gaps_stay_exact():
    text = "card,n\n4111111111111111,1\n,2\n5500005555555559,3\n"
    df = read_table(text.encode())
    assert df["card"].tolist()[0] == "4111111111111111"
    assert df["card"].tolist()[2] == "5500005555555559"


def test_int_and_float_rules():
    text = "a,b,c,d\n1,1.0,1.5,\n2,2.0,,x\n3,3.0,2.5,y\n"
    df = read_table(text.encode())
    assert df["a"].dtype == np.int64
    assert df["b"].dtype == np.int64  # whole numbers, nothing missing
    assert df["c"].dtype == np.float64 and np.isnan(df["c"].iloc[1])
    assert df["d"].isna().iloc[0] and df["d"].iloc[1] == "x"


def test_mixed_column_stays_text_with_count():
    text = "code,n\n1,1\n2,2\n3,3\nA7,4\n5,5\n"
    df, report = read_table_with_report(text.encode())
    assert df["code"].tolist() == ["1", "2", "3", "A7", "5"]
    assert report.mixed_columns == {"code": 1}
    assert any("'code'" in w and "1 value" in w for w in report.warnings)


def test_na_tokens_and_whitespace_are_missing():
    text = "x,y\n1,NA\n2, \n3,null\n4,5\n"
    df = read_table(text.encode())
    assert df["y"].isna().sum() == 3
    assert df["y"].iloc[3] == 5


def test_duplicate_and_blank_column_names():
    text = "x,x,,y\n1,2,3,4\n5,6,7,8\n"
    df, report = read_table_with_report(text.encode())
    assert list(df.columns) == ["x", "x.1", "Unnamed: 2", "y"]
    assert df["x.1"].tolist() == [2, 6]
    assert any("'x' appears 2 times" in w for w in report.warnings)


def test_trailing_delimiter_column_dropped():
    df, report = read_table_with_report(b"a,b,\n1,2,\n3,4,\n")
    assert list(df.columns) == ["a", "b"]
    assert any("no name and no values" in w for w in report.warnings)


# ----------------------------------------------------------------- bad files


def test_empty_file():
    _raises(b"", "empty_file")


def test_blank_lines_only():
    _raises("\n\r\n  \n\t\n", "empty_file")


def test_header_only():
    _raises("a,b,c\n", "no_rows")
    _raises("a,b,c", "no_rows")


def test_gzip():
    err = _raises(gzip.compress(SIMPLE.encode()), "binary")
    assert "gzip" in err.message


def test_zip_and_xlsx():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", SIMPLE)
    assert "ZIP" in _raises(buffer.getvalue(), "binary").message
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    # Workbooks are read since issue 16: a broken one is refused as a damaged workbook.
    err = _raises(buffer.getvalue(), "unreadable", filename="book.xlsx")
    assert "Excel workbook" in err.message and "damaged" in err.message


@pytest.mark.parametrize(
    "magic",
    [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"%PDF-1.7\n"],
)
def test_images_and_pdf(magic):
    _raises(magic + bytes(range(256)), "binary")


def test_nul_bytes_and_random_binary():
    _raises(b"a,b\n1,\x002\n", "binary")
    rng = np.random.default_rng(0)
    with pytest.raises(InputError):
        read_table(rng.integers(0, 256, 5000, dtype=np.uint8).tobytes())


def test_extra_field_names_the_line():
    text = "a,b,c\n1,2,3\n4,5,6\n7,8,9,10\n11,12,13\n"
    err = _raises(text, "bad_rows")
    assert "line 4" in err.message
    assert err.problems == ["line 4: 4 fields instead of 3 (starts '7,8,9,10')"]


def test_missing_field_names_the_line_with_quoted_newline_before_it():
    # Line numbers are text-editor lines: the quoted newline counts.
    text = 'a,b,c\n1,"two\nlines",3\n\n4,5\n6,7,8\n'
    err = _raises(text, "bad_rows")
    assert "line 5" in err.message
    assert len(err.problems) == 1


def test_many_bad_lines_listed_up_to_five():
    rows = ["1,2"] * 3 + ["1,2,3"] * 8
    err = _raises("a,b\n" + "\n".join(rows) + "\n", "bad_rows")
    assert "lines 5, 6, 7, 8, 9 and 3 more" in err.message
    assert len(err.problems) == 8


def test_truncated_last_line_is_named_helpfully():
    text = "a,b,c,d\n1,2,3,4\n5,6,7,8\n9,10"
    err = _raises(text, "bad_rows")
    assert "line 4" in err.message
    assert "cut off" in err.message


def test_whole_row_quoted_rows():
    text = 'a,b,c\n1,x,3\n"2,""y,z"",4"\n5,w,6\n'
    err = _raises(text, "bad_rows")
    assert "line 3" in err.message
    assert "one quoted value" in err.message


def test_unclosed_quote():
    err = _raises('a,b\n1,"open\n2,3\n', "unreadable")
    assert "line 2" in err.message


def test_too_large(tmp_path):
    err = _raises(SIMPLE, "too_large", max_bytes=10)
    assert "10 bytes" in err.message
    path = tmp_path / "big.csv"
    path.write_text(SIMPLE)
    with pytest.raises(FileFormatError) as info:
        read_table(path, max_bytes=10)
    assert info.value.code == "too_large"


def test_wrong_source_type_is_a_programming_error():
    with pytest.raises(TypeError):
        read_table(42)


# ----------------------------------------------------------------- properties


def _only_frame_or_input_error(data: bytes | str) -> None:
    try:
        df = read_table(data)
    except InputError:
        return
    assert isinstance(df, pd.DataFrame)
    assert df.shape[0] > 0 and df.shape[1] > 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes_give_frame_or_input_error(data):
    _only_frame_or_input_error(data)


CSV_ALPHABET = 'abcXYZ019,;\t|"\n\r .-'


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=CSV_ALPHABET, max_size=300))
def test_random_csv_like_text_gives_frame_or_input_error(text):
    _only_frame_or_input_error(text.encode())


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.text(alphabet='ab 01,;"\n', max_size=6), min_size=3, max_size=3),
        min_size=1,
        max_size=8,
    )
)
def test_well_formed_csv_keeps_every_row(rows):
    # Whatever the cells hold, a file written by the csv module reads back with
    # every non-blank row and the cells in their columns.
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["p", "q", "r"])
    writer.writerows(rows)
    non_blank = [r for r in rows if any(c.strip() for c in r)]
    if not non_blank:
        return
    df = read_table(buffer.getvalue().encode())
    assert df.shape == (len(non_blank), 3)


# ----------------------------------------------------------------- fast paths (issue #7)


def _zero_field_oracle(buf: bytes, delim: str) -> bool:
    # The regex the numpy search replaced: map bytes to classes (S field start
    # or end, Z "0", D other digit, P "."), then look for S Z [ZD]+ (S|P|end).
    table = bytearray(b"x" * 256)
    for c in delim.encode() + b'\n\r"':
        table[c] = ord("S")
    table[ord("0")] = ord("Z")
    for c in b"123456789":
        table[c] = ord("D")
    table[ord(".")] = ord("P")
    return re.search(rb"SZ[ZD]+(?:[SP]|\Z)", buf.translate(bytes(table))) is not None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from([b",", b";", b"\t", b"|", b"\n", b"\r", b'"', b"0", b"7", b".", b"x", b" "])
        | st.sampled_from([b"0" * 40, b"0" + b"9" * 45]),
        max_size=40,
    ),
    st.sampled_from([",", ";", "\t", "|"]),
)
def test_leading_zero_search_matches_the_regex_it_replaced(pieces, delim):
    from analytics.io.scan import may_have_leading_zeros

    buf = b"".join(pieces)
    assert may_have_leading_zeros(buf, delim) == _zero_field_oracle(buf, delim)


def _big_csv(n: int) -> list[str]:
    # Past the 64 KB sample, so the leading-zero search runs beside the parse.
    return [f"{i},{i % 97}.5,{'ab'[i % 2]}" for i in range(n)]


def test_path_read_equals_bytes_read(tmp_path):
    lines = _big_csv(20_000)
    lines[-7] = "0042,1.5,a"  # a code with a leading zero far past the sample
    lines[-3] = "12,x,b"  # one non-number in a number column
    data = ("id,amount,flag\n" + "\n".join(lines) + "\n").encode()
    path = tmp_path / "big.csv"
    path.write_bytes(data)
    from_path, report_path = read_table_with_report(path)
    from_bytes, report_bytes = read_table_with_report(data, filename="big.csv")
    pd.testing.assert_frame_equal(from_path, from_bytes, check_exact=True)
    assert report_path == report_bytes
    assert from_path["id"].iloc[-7] == "0042"
    assert report_path.id_columns == ["id"] and report_path.mixed_columns == {"amount": 1}


def test_bad_row_far_down_a_path_is_reported(tmp_path):
    lines = _big_csv(20_000)
    lines[-11] = "0042,1.5,a"
    lines[-5] = "1,2.5,a,extra"
    path = tmp_path / "bad.csv"
    path.write_text("id,amount,flag\n" + "\n".join(lines) + "\n")
    with pytest.raises(FileFormatError) as err:
        read_table(path)
    assert err.value.code == "bad_rows"
    assert "line 19997" in str(err.value)


def test_file_changed_after_reading_gives_the_bytes_that_were_read(tmp_path, monkeypatch):
    import analytics.io.read as io_module

    path = tmp_path / "t.csv"
    path.write_bytes(b"a,b\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(20000)))
    real = io_module._read_csv

    def rewrite_then_read(source, *args):
        if isinstance(source, str):  # pandas was about to parse the path
            path.write_bytes(b"a,b\n9,9\n")
        return real(source, *args)

    monkeypatch.setattr(io_module, "_read_csv", rewrite_then_read)
    df = read_table(path)
    assert len(df) == 20000 and df["a"].iloc[-1] == 19999
