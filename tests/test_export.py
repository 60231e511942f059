"""Tests for analytics.io.to_csv_bytes: formula-safe export that round-trips through read_table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.io import read_table, to_csv_bytes
from analytics.io.export import PLAIN_NUMBER

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def test_basic_bytes():
    df = pd.DataFrame({"a": [1, -2], "b": ["x", "y, z"], "c": [0.1, np.nan]})
    data = to_csv_bytes(df)
    lines = data.decode("utf-8").splitlines()
    assert len(lines) == 3  # header + 2 rows, no index column
    assert lines[1].split(",")[0] == "1" and lines[2].startswith("-2,")
    assert '"y, z"' in lines[2] and lines[1].endswith(",0.1") and lines[2].endswith(",")
    assert not data.startswith(b"\xef\xbb\xbf")  # plain UTF-8, no BOM


def test_formula_cells_neutralised_numbers_untouched():
    df = pd.DataFrame(
        {
            "text": ["=SUM(A1:A9)", "+1+1", "-cmd", "@x", "\tTab", "\rCR", "safe", None],
            "num": [-1.5, -2.0, 3.0, -4.25, 5.0, 6.0, -7.0, 8.0],
            "neg_int": [-1, -2, -3, -4, -5, -6, -7, -8],
        }
    )
    back = read_table(to_csv_bytes(df))
    assert back["text"].tolist()[:7] == [
        "'=SUM(A1:A9)",
        "'+1+1",  # issue 17: a plain number such as "+1" is left alone now
        "'-cmd",
        "'@x",
        "'\tTab",
        "'\rCR",
        "safe",
    ]
    assert pd.isna(back["text"].iloc[7])
    assert back["num"].tolist() == df["num"].tolist()
    assert back["neg_int"].tolist() == df["neg_int"].tolist()
    assert back["neg_int"].dtype == np.int64


def test_object_and_categorical_columns_and_header():
    df = pd.DataFrame(
        {
            "obj": pd.Series(["=1+1", 5, "ok"], dtype=object),
            "cat": pd.Categorical(["-a", "b", "-a"]),
            "=bad name": [1, 2, 3],
        }
    )
    text = to_csv_bytes(df).decode()
    header, *rows = text.split("\r\n")[:-1]
    assert header == "obj,cat,'=bad name"
    assert rows == ["'=1+1,'-a,1", "5,b,2", "ok,'-a,3"]
    assert df["obj"].iloc[0] == "=1+1"  # the input frame is not modified


def test_every_row_kept_and_index_not_written():
    df = pd.DataFrame({"v": range(1000)}, index=range(5000, 6000))
    back = read_table(to_csv_bytes(df))
    assert back["v"].tolist() == list(range(1000))
    assert list(back.columns) == ["v"]


def test_float_precision_round_trip():
    values = [0.1 + 0.2, 1 / 3, -1e-300, 1.7976931348623157e308, 5e-324, -123456.789]
    df = pd.DataFrame({"id": range(len(values)), "x": values})
    back = read_table(to_csv_bytes(df))
    assert back["x"].tolist() == values


# ----------------------------------------------------------------- round trip property

_SAFE_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"])
    | st.sampled_from(",;|\"\n\t'"),
    max_size=12,
).map(lambda s: "t" + s)  # a leading letter: never a number, NA token or blank
# Plain numbers such as "-1" are left alone and read back as numbers (issue 17); they are
# checked in tests/test_security_export.py, so this round trip keeps to formula text.
_FORMULA_TEXT = (
    st.sampled_from(FORMULA_STARTS)
    .flatmap(lambda p: st.text(alphabet="abc123()+=-@,", max_size=8).map(lambda s: p + s))
    .filter(lambda v: PLAIN_NUMBER.fullmatch(v) is None)
)


@st.composite
def frames(draw):
    n = draw(st.integers(min_value=1, max_value=15))
    columns = {"row_id": np.arange(n, dtype=np.int64)}  # never blank: no row is dropped
    for j in range(draw(st.integers(min_value=1, max_value=4))):
        kind = draw(st.sampled_from(["int", "float", "text"]))
        missing = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        if kind == "int":
            values = draw(st.lists(st.integers(-(2**62), 2**62), min_size=n, max_size=n))
            column = pd.Series(values, dtype="int64")
        elif kind == "float":
            values = draw(
                st.lists(
                    st.floats(allow_nan=False, allow_infinity=False, width=64),
                    min_size=n,
                    max_size=n,
                )
            )
            column = pd.Series(values, dtype="float64").mask(missing)
        else:
            values = draw(st.lists(_SAFE_TEXT | _FORMULA_TEXT, min_size=n, max_size=n))
            if not all(missing):
                column = pd.Series(values, dtype="str").mask(missing)
            else:
                column = pd.Series(values, dtype="str")
        columns[f"c{j}_{kind}"] = column.to_numpy() if kind == "int" else column
    return pd.DataFrame(columns)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_round_trip_through_read_table(df):
    back = read_table(to_csv_bytes(df))
    assert back.shape == df.shape
    assert list(back.columns) == list(df.columns)
    for name in df.columns:
        original, read = df[name], back[name]
        if pd.api.types.is_numeric_dtype(original):
            assert pd.api.types.is_numeric_dtype(read), name
            np.testing.assert_array_equal(
                read.to_numpy(dtype="float64", na_value=np.nan),
                original.to_numpy(dtype="float64", na_value=np.nan),
            )
            if original.dtype.kind == "i":
                assert read.tolist() == original.tolist()  # exact, no float rounding
        else:
            expected = [
                v
                if pd.isna(v) or not v.startswith(FORMULA_STARTS) or PLAIN_NUMBER.fullmatch(v)
                else "'" + v
                for v in original.tolist()
            ]
            got = read.tolist()
            assert [pd.isna(v) for v in got] == [pd.isna(v) for v in expected], name
            assert [v for v in got if not pd.isna(v)] == [v for v in expected if not pd.isna(v)]


@pytest.mark.parametrize("value", ["=1+2", "+44 20 7946 0000", "-x", "@SUM(1)", "\tx", "\rx"])
def test_every_formula_prefix_is_neutralised(value):
    text = to_csv_bytes(pd.DataFrame({"id": [1], "t": [value]})).decode()
    assert "'" + value in text


def test_big_tables_written_in_two_halves_keep_every_row_in_order():
    n = 250_001  # above the size where the two halves are written on two threads
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "id": [f"c{i}" for i in range(n)],
            "x": rng.normal(size=n),
            "k": np.arange(n),
        }
    )
    data = to_csv_bytes(df)
    assert data.count(b'"id"') == 1  # one header
    back = read_table(data)
    assert back["id"].tolist() == df["id"].tolist()
    np.testing.assert_array_equal(back["x"].to_numpy(), df["x"].to_numpy())
    np.testing.assert_array_equal(back["k"].to_numpy(), df["k"].to_numpy())
