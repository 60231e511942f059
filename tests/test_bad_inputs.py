"""The catalogue of bad inputs (issue 8): every one gives InputError or a reported
warning from the public API, and a plain st.error in the app with the data kept."""

from __future__ import annotations

import gzip
import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from analytics import InputError, read_table, segment
from tests.apptest_support import open_page
from ui.state import DATASET


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buf, format="PNG")
    return buf.getvalue()


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.csv", "a,b\n1,2\n")
    return buf.getvalue()


#: Files that must be refused, with the words the message must contain.
BAD_FILES = {
    "empty": (b"", "empty"),
    "blank lines only": (b"\n\n \r\n\n", "empty"),
    "header only": (b"id,age,income\n", "no data rows"),
    "gzip renamed .csv": (gzip.compress(b"a,b\n1,2\n"), "compressed"),
    "zip renamed .csv": (_zip(), "zip"),
    "png renamed .csv": (_png(), "image"),
    "binary": (bytes(range(256)) * 8, "binary data"),
    "extra field": (b"a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n", "line 3"),
    "missing field": (b"a,b,c\n1,2,3\n4,5\n8,9,10\n", "line 3"),
    # Issue 17: an all-missing file says what it is, not "no data rows".
    "every value missing": (b"a,b\nNaN,NA\n,null\n,\n", "every value is empty"),
}

#: Files that must be read, with what must come out.
ODD_BUT_FINE = {
    "utf-16": ("name,spend\nZoë,1.5\nRenée,2.5\n".encode("utf-16"), ("spend", [1.5, 2.5])),
    "cp1252": ("name;spend\nCafé £;3\nNaïve;4\n".encode("cp1252"), ("spend", [3, 4])),
    "decimal comma": (b"name;spend\na;1,5\nb;2,25\n", ("spend", [1.5, 2.25])),
    "quoted newline": (b'note,spend\n"two\nlines",1\nx,2\n', ("spend", [1, 2])),
    "duplicate names": (b"spend,spend\n1,2\n3,4\n", ("spend.1", [2, 4])),
    # Issue 17: non-Western encodings are found (charset-normalizer), not "binary data".
    "shift-jis": ("名前,都市,金額\n山田太郎,東京,1200\n佐藤花子,大阪,3400\n".encode("shift_jis"), ("名前", ["山田太郎", "佐藤花子"])),
    "gb18030": ("姓名,城市,金额\n张三,北京,1200\n李四,上海,3400\n".encode("gb18030"), ("城市", ["北京", "上海"])),
    "windows-1251": ("имя,город,сумма\nИванов,Москва,1200\nПетров,Казань,3400\n".encode("cp1251"), ("город", ["Москва", "Казань"])),
    "euc-kr": ("이름,도시,금액\n김철수,서울,1200\n이영희,부산,3400\n".encode("euc_kr"), ("도시", ["서울", "부산"])),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_is_a_plain_input_error(name: str) -> None:
    data, words = BAD_FILES[name]
    with pytest.raises(InputError) as err:
        read_table(data, filename="upload.csv")
    assert words.lower() in str(err.value).lower()
    assert "Traceback" not in str(err.value)


@pytest.mark.parametrize("name", sorted(ODD_BUT_FINE))
def test_awkward_but_valid_files_are_read(name: str) -> None:
    data, (col, values) = ODD_BUT_FINE[name]
    df = read_table(data, filename="upload.csv")
    assert df[col].tolist() == values


def test_duplicate_column_names_are_kept_with_a_warning() -> None:
    from analytics.io import read_table_with_report

    df, report = read_table_with_report(b"spend,spend\n1,2\n3,4\n")
    assert list(df.columns) == ["spend", "spend.1"]
    assert any("spend" in w for w in report.warnings)


def _frame(n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {"a": rng.normal(size=n), "b": rng.normal(size=n), "c": ["x", "y"] * (n // 2)}
    )


BAD_FRAMES = {
    "no usable column": (pd.DataFrame({"id": [f"u{i}" for i in range(50)]}), {}),
    "constant column only": (pd.DataFrame({"a": [1.0] * 30}), {}),
    "entirely empty column only": (pd.DataFrame({"a": [np.nan] * 30}), {}),
    "fewer rows than k": (_frame(4), {"k": 6}),
    "k above distinct rows": (pd.DataFrame({"a": [1.0, 2.0] * 20}), {"k": 3}),
    "one row": (_frame(2).iloc[:1], {"k": 2}),
    "fcm m <= 1": (_frame(), {"method": "fcm", "m": 1.0}),
    "unknown method": (_frame(), {"method": "dbscan"}),
    "huge magnitudes": (pd.DataFrame({"a": [1e308, -1e308, 5e307, 0.0] * 10}), {}),
    # Issue 17: nothing of scikit-learn's or SciPy's wording reaches the analyst.
    "n_init 0": (_frame(), {"n_init": 0}),
    "n_init 0 mixture": (_frame(), {"method": "gmm", "n_init": 0}),
    "huge values unscaled mixture": (
        pd.DataFrame({"a": [1e200, -1e200, 1e199, 5, 3, 2, 1, 0] * 4, "b": np.arange(32.0)}),
        {"method": "gmm", "scaling": "none"},
    ),
}

#: Words of library internals that must never appear in a message.
INTERNALS = ("infs or NaNs", "parameter of", "Got ", "instead", "ndarray", "sklearn", "scipy")


@pytest.mark.parametrize("name", sorted(BAD_FRAMES))
def test_bad_frames_raise_input_error_or_succeed_with_warnings(name: str) -> None:
    df, kw = BAD_FRAMES[name]
    kw = {"method": "kmeans", "k": 2} | kw
    method, k = kw.pop("method"), kw.pop("k")
    before = df.copy()
    try:
        seg = segment(df, method, k, **kw)
    except InputError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        assert not any(w in str(exc) for w in INTERNALS), str(exc)
    else:
        assert len(seg.labels) == len(df)
    pd.testing.assert_frame_equal(df, before)  # never modified


def test_inf_and_text_in_numbers_are_reported_not_lost() -> None:
    df = pd.DataFrame(
        {
            "spend": ["abc", "1e309", "n/a"] + [f"{v:.1f}" for v in np.linspace(1, 50, 57)],
            "visits": np.arange(60, dtype=float),
        }
    )
    seg = segment(df, "kmeans", 2)
    text = " ".join(seg.warnings)
    assert "'spend'" in text and "infinite" in text and "missing" in text
    assert seg.table()["spend"].tolist() == df["spend"].tolist()  # the export keeps the originals


def test_a_mixture_that_does_not_converge_says_so() -> None:
    seg = segment(_frame(), "gmm", 3, max_iter=1, n_init=1)
    assert seg.summary["converged"] is False
    assert any("max_iter" in w for w in seg.warnings)


@pytest.mark.parametrize(
    "name", ["gzip renamed .csv", "extra field", "header only", "every value missing"]
)
def test_app_shows_bad_files_as_errors_and_keeps_the_data(name: str) -> None:
    at = open_page(timeout=90)
    before = at.session_state[DATASET].key
    at.file_uploader[0].set_value(("bad.csv", BAD_FILES[name][0], "text/csv"))
    at.run()
    assert not at.exception
    assert at.error and "bad.csv" in at.error[0].value
    assert at.session_state[DATASET].key == before


def test_app_caps_a_ten_thousand_column_file() -> None:
    rng = np.random.default_rng(0)
    wide = pd.DataFrame(
        rng.integers(0, 100, size=(30, 10_000)), columns=[f"c{i}" for i in range(10_000)]
    )
    at = open_page(timeout=180)
    at.file_uploader[0].set_value(("wide.csv", wide.to_csv(index=False).encode(), "text/csv"))
    at.run()
    assert not at.exception
    assert any("10,000 columns" in w.value for w in at.warning)


# --------------------------------------------------------------------------- model files
# (issue 17) Every malformed model file is an InputError in words, and parsing never
# builds more than the file's shapes allow.


def _model_doc() -> dict:
    """A full-covariance mixture's document: k = 2, p = 2 (features a and b)."""
    import json

    seg = segment(_frame(), "gmm", 2, n_init=1, covariance_type="full")
    return json.loads(seg.model.to_bytes())


def _edit(path: tuple, value: object):
    def apply(doc: dict) -> dict:
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return doc

    return apply


#: Model documents (edited from a real one) or raw bytes, with the words of the refusal.
BAD_MODELS = {
    "int of 5,000 digits": (b'{"format": ' + b"9" * 5000 + b"}", "5,000 digits"),
    "10**400 as a weight": (_edit(("model", "weights"), [10**400, 0.0]), "digits"),
    "10**400 as a centre": (_edit(("preparation", "center", "a"), 10**400), "digits"),
    "1e400 as a mean": (b"1e400", "too large"),
    "sizes of 10**20": (_edit(("summary", "sizes"), [10**20, 1]), "digits"),
    "sizes beyond int64": (_edit(("summary", "sizes"), [2**62, 2**62]), "'sizes'"),
    "empty covariance rows": (_edit(("model", "covariances"), [[[], []]] * 2), "shape"),
    "covariances nested deeper": (
        _edit(("model", "covariances"), [[[[1.0]] * 2] * 2] * 2),
        "numbers with shape",
    ),
    "a boolean mean": (_edit(("model", "means"), [[True, 1.0]] * 2), "True"),
    "unknown scaling": (_edit(("preparation", "options", "scaling"), "zscore"), "scaling"),
    "a list as covariance type": (_edit(("model", "covariance_type"), ["full"] * 1000), "list"),
    "empty lists (amplification)": (
        b'{"format": "segmentation-workbench/model", "x": [' + b"[]," * 2_000_000 + b"[]]}",
        "lists and objects",
    ),
    "deep nesting": (b'{"a": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "lists and objects"),
    "over the size cap": (b"{" + b" " * (64 * 1024 * 1024) + b"}", "64 MB"),
}


@pytest.mark.parametrize("name", sorted(BAD_MODELS))
def test_bad_model_file_is_a_plain_input_error(name: str) -> None:
    import json

    from analytics import load_model

    source, words = BAD_MODELS[name]
    if callable(source):
        raw = json.dumps(source(_model_doc())).encode()
    elif source == b"1e400":
        doc = _model_doc()
        text = json.dumps(doc)
        raw = text.replace(json.dumps(doc["model"]["means"][0][0]), "1e400", 1).encode()
    else:
        raw = source
    with pytest.raises(InputError) as err:
        load_model(raw)
    assert words in err.value.message, err.value.message
    assert "\n" not in err.value.message and len(err.value.message) < 300


def test_model_values_built_in_python_are_checked_too() -> None:
    from analytics.model.segment_model import SegmentModel

    seg = segment(_frame(), "fcm", 2, n_init=1)
    doc = seg.model.to_dict()
    doc["model"]["m"] = 10**400  # float() of it overflows: no OverflowError escapes
    with pytest.raises(InputError, match="finite number"):
        SegmentModel.from_dict(doc)


def test_a_model_stream_is_read_no_further_than_the_cap() -> None:
    from analytics import load_model
    from analytics.model.segment_model import MAX_MODEL_BYTES

    class Endless(io.RawIOBase):
        asked: list[int] = []

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            self.asked.append(n)
            return b" " * (n if n >= 0 else 10 * MAX_MODEL_BYTES)

    stream = Endless()
    with pytest.raises(InputError, match="larger than 64 MB"):
        load_model(stream)
    assert stream.asked == [MAX_MODEL_BYTES + 1]


def test_a_large_model_file_on_disk_is_refused_unread(tmp_path) -> None:
    from analytics import load_model
    from analytics.model.segment_model import MAX_MODEL_BYTES

    path = tmp_path / "huge.json"
    with path.open("wb") as f:
        f.truncate(4 * MAX_MODEL_BYTES)  # sparse: no disk used
    with pytest.raises(InputError, match="larger than 64 MB"):
        load_model(path)
    with pytest.raises(InputError, match="is a folder"):
        load_model(tmp_path)


def test_shift_jis_is_named_in_the_read_report() -> None:
    from analytics.io import read_table_with_report

    data = "名前,金額\n山田太郎,1200\n佐藤花子,3400\n".encode("shift_jis")
    df, report = read_table_with_report(data, filename="kunden.csv")
    assert df["金額"].tolist() == [1200, 3400]
    assert any("Shift-JIS (Japanese)" in w for w in report.warnings)
    assert "binary" not in " ".join(report.warnings)


def test_western_files_keep_the_windows_1252_reading() -> None:
    from analytics.io import read_table_with_report

    data = "name,city\nMüller,Köln\nJosé,Málaga\nBjörn,Århus £\n".encode("cp1252")
    df, report = read_table_with_report(data, filename="x.csv")
    assert df["city"].tolist() == ["Köln", "Málaga", "Århus £"]
    assert any("Windows-1252" in w for w in report.warnings)


def test_the_median_of_huge_values_is_written_short() -> None:
    df = pd.DataFrame({"a": [1e308, 2e307, np.nan, 3e307] * 10, "b": np.arange(40.0)})
    try:
        seg = segment(df, "kmeans", 2, scaling="none")
    except InputError as exc:  # refused in words is fine too, never a 309-digit number
        text = str(exc)
    else:
        text = " ".join(seg.warnings)
        assert "filled with the median" in text
    assert not any(len(tok.replace(",", "")) > 20 for tok in text.split()), text
    # Ordinary large amounts keep their digits.
    ok = pd.DataFrame({"a": [123456.0, 234567.0, np.nan, 345678.0] * 10, "b": np.arange(40.0)})
    assert "(234,567)" in " ".join(segment(ok, "kmeans", 2).warnings)
