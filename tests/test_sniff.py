"""analytics.io.dialect: the command line sniffs a file exactly as read_table reads it."""

from __future__ import annotations

import codecs
import subprocess
import sys
import tomllib

import pandas as pd
import pytest

from analytics.cli import common
from analytics.cli.score import sniff_file
from analytics.io import (
    DEFAULT_MAX_BYTES,
    SAMPLE_BYTES,
    Dialect,
    neutralise_formulas,
    parse_numbers,
    read_table_with_report,
    sniff,
)
from tests.browser_support import ROOT


def _rows(n: int, sep: str = ",", decimal: str = ".") -> str:
    lines = [sep.join(["id", "name", "amount", "visits"])]
    for i in range(n):
        amount = f"{1000 + i * 7.25:.2f}"
        if decimal == ",":
            amount = amount.replace(".", ",")
        lines.append(sep.join([f"C{i:05d}", f"n{i % 7}", amount, str(i % 13)]))
    return "\n".join(lines) + "\n"


def _big_semicolon() -> bytes:
    # Past four samples, so the command line sniffs only the start of the file.
    text = _rows(60_000, ";", ",")
    assert len(text) > 4 * SAMPLE_BYTES
    return text.encode("cp1252")


DIALECT_FILES: dict[str, bytes] = {
    "comma": _rows(50).encode(),
    "semicolon_decimal_comma": _rows(50, ";", ",").encode(),
    "semicolon_thousands": (
        "id;amount;visits\n" + "".join(f"{i};1.{i:03d},5;{i}\n" for i in range(100, 160))
    ).encode(),
    "tab": _rows(50, "\t").encode(),
    "pipe": _rows(50, "|").encode(),
    "crlf": _rows(50, ";", ",").replace("\n", "\r\n").encode(),
    "utf8_bom": codecs.BOM_UTF8 + _rows(50, ";", ",").encode(),
    "utf16_le_bom": codecs.BOM_UTF16_LE + _rows(50, "\t").encode("utf-16-le"),
    "utf16_be_bom": codecs.BOM_UTF16_BE + _rows(50, ";", ",").encode("utf-16-be"),
    "utf16_le_no_bom": _rows(50, ";").encode("utf-16-le"),
    "utf32_bom": codecs.BOM_UTF32_LE + _rows(50, ",").encode("utf-32-le"),
    "cp1252": ("ville;prix\n" + "".join(f"Bézier {i};{i},5 £\n" for i in range(40))).encode(
        "cp1252"
    ),
    "quoted_newlines": (
        b'id,comment,amount\n1,"two\nlines",1.5\n2,"a, b",2.5\n3,"say ""hi""\r\nbye",3.5\n'
    ),
    "blank_lines_above": b"\n  \n" + _rows(20, ";", ",").encode(),
    "repeated_and_blank_names": b"a;a;;b\n1;2;3;4\n5;6;7;8\n",
    "one_column": b"amount\n1.5\n2.5\n",
    "big_prefix_only": _big_semicolon(),
}


@pytest.mark.parametrize("name", sorted(DIALECT_FILES))
def test_cli_sniffing_equals_read_table(tmp_path, name) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_bytes(DIALECT_FILES[name])
    df, report = read_table_with_report(path)
    dialect = sniff_file(path)
    assert dialect.encoding == report.encoding
    assert dialect.delimiter == report.delimiter
    assert dialect.delimiter_name == report.delimiter_name
    assert dialect.decimal == report.decimal
    assert list(dialect.columns) == list(df.columns)
    if dialect.thousands is not None:
        assert dialect.thousands == report.thousands
    # The warnings read_table gives about the encoding and the header are sniff's.
    assert set(dialect.warnings) <= set(report.warnings)
    # And sniffing the whole file gives the same answer as its start.
    assert sniff(DIALECT_FILES[name], path.name) == dialect


def test_the_codec_streams_the_file_as_read_table_reads_it(tmp_path) -> None:
    for name in ("utf16_le_bom", "utf16_be_bom", "utf8_bom", "cp1252", "utf32_bom"):
        path = tmp_path / f"{name}.csv"
        path.write_bytes(DIALECT_FILES[name])
        dialect = sniff_file(path)
        streamed = pd.read_csv(path, sep=dialect.delimiter, dtype=str, encoding=dialect.codec)
        assert list(streamed.columns) == list(dialect.columns), name


def test_sniff_of_a_prefix_ignores_a_cut_character() -> None:
    data = DIALECT_FILES["utf16_le_bom"]
    whole = sniff(data)
    assert sniff(data[:-1], complete=False).columns == whole.columns
    assert sniff("é;x\n1,5;2\n".encode()[:1], complete=False).encoding == "utf-8"


def test_sniff_with_a_forced_delimiter() -> None:
    d = sniff(b"a:b\n1,5:2,5\n3,5:4\n", delimiter=":")
    assert isinstance(d, Dialect)
    assert (d.delimiter, d.decimal, d.columns) == (":", ",", ("a", "b"))


def test_sniff_refuses_what_read_table_refuses() -> None:
    from analytics.errors import FileFormatError

    for data, code in [
        (b"", "empty_file"),
        (b"\x1f\x8b\x08rest", "binary"),
        (b"\n \n", "empty_file"),
    ]:
        with pytest.raises(FileFormatError) as err:
            sniff(data)
        assert err.value.code == code


def test_parse_numbers_reads_both_number_styles() -> None:
    s = pd.Series([" 1.234,5", "-2", "x", None, "7,25"], dtype="str")
    got = parse_numbers(s, ",")
    assert got.dtype == "float64"
    assert got[0] == 1234.5 and got[1] == -2.0 and got[4] == 7.25
    assert pd.isna(got[2]) and pd.isna(got[3])
    assert parse_numbers(pd.Series(["1,234.5", "3"], dtype="str")).tolist() == [1234.5, 3.0]


def test_neutralise_formulas_leaves_numbers_written_as_text() -> None:
    s = pd.Series(["=1+1", "-5", "-1,5", "@x", "plain", None], dtype="str")
    # Issue 17: plain numbers written as text are left alone on every path.
    assert neutralise_formulas(s).tolist()[:5] == ["'=1+1", "-5", "-1,5", "'@x", "plain"]
    kept = neutralise_formulas(s, decimal=",").tolist()
    assert kept[:5] == ["'=1+1", "-5", "-1,5", "'@x", "plain"]
    assert neutralise_formulas("+cmd") == "'+cmd" and neutralise_formulas(5) == 5


# --------------------------------------------------------------------------- one constant per limit


def test_streamlit_upload_limit_is_the_reader_limit() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    # Streamlit's maxUploadSize is in megabytes of 2**20 bytes.
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == DEFAULT_MAX_BYTES


def test_cli_choices_are_the_model_names() -> None:
    from analytics.model.fit import COVARIANCE_TYPES, METHODS

    assert common.METHODS == METHODS
    assert common.COVARIANCE_TYPES == COVARIANCE_TYPES


# --------------------------------------------------------------------------- start-up


@pytest.mark.parametrize("command", [[], ["fit"], ["score"]])
def test_help_exits_0_without_loading_pandas_or_sklearn(command) -> None:
    code = (
        "import sys\n"
        "from analytics.cli.main import main\n"
        "try:\n"
        f"    main({command + ['--help']!r})\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "heavy = [m for m in ('pandas', 'numpy', 'sklearn', 'scipy') if m in sys.modules]\n"
        "print('heavy:', heavy)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "usage:" in proc.stdout
    assert proc.stdout.strip().endswith("heavy: []")
