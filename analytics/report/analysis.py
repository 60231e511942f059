"""The analysis file: every choice of a session in one small, versioned JSON document.

An :class:`Analysis` holds the data's fingerprint (sha256 of the file and of the
table, rows, columns, file name), the feature columns and their roles, the
preparation, the method, k and its settings, the seed, the segment names, and the
anomaly, synthetic-data and Choose k settings when those were run. The fits are
deterministic given the settings and the seed, so :func:`run_analysis` on the same
data reproduces the session: the same segments, names and charts.

::

    from analytics import read_table
    from analytics.report import load_analysis, run_analysis

    a = load_analysis("analysis.json")
    results = run_analysis(read_table("customers.csv"), a)
    results.seg.labels            # the segments of the session, row by row

The file is validated like the model file: a format name and version, strict JSON
(no NaN, no duplicate entries, a size cap), every entry checked with a sentence
naming what is wrong; a file for other data is refused with the reason.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import pandas as pd

from analytics.constants import COVARIANCE_TYPES, MAX_K, METHOD_NAMES, METHODS
from analytics.errors import FileFormatError, InputError
from analytics.io.strict_json import parse_strict_json
from analytics.preparation import (
    ROLE_CATEGORICAL,
    ROLE_CODE,
    ROLE_CONSTANT,
    ROLE_DATE,
    ROLE_EMPTY,
    ROLE_IDENTIFIER,
    ROLE_MOSTLY_MISSING,
    ROLE_NUMERIC,
    ROLE_TEXT,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Analysis",
    "AnalysisError",
    "AnalysisResults",
    "DataFingerprint",
    "DataMismatchError",
    "check_data",
    "choose_k_sweep",
    "describe_method",
    "fingerprint",
    "from_compact",
    "load_analysis",
    "method_params",
    "parse_analysis",
    "run_analysis",
    "table_sha256",
    "to_compact",
]

FORMAT = "segmentation-workbench/analysis"
FORMAT_VERSION = 1
#: An analysis file is a few kilobytes; anything above this is not one.
MAX_FILE_BYTES = 2 * 1024 * 1024
#: Longest segment name kept (a name is a label, not a description).
MAX_NAME_CHARS = 200
#: ks of the quick Choose k sweep a report runs when the session ran none.
QUICK_KS = tuple(range(2, 9))

SCALINGS = ("standard", "robust", "none")
IMPUTES = ("median", "mean")
#: Column roles (``profile_columns``' words) a feature may have.
ROLES = (
    ROLE_NUMERIC, ROLE_CATEGORICAL, ROLE_IDENTIFIER, ROLE_DATE, ROLE_CONSTANT, ROLE_EMPTY,
    ROLE_MOSTLY_MISSING, ROLE_TEXT, ROLE_CODE,
)  # fmt: skip


class AnalysisError(FileFormatError):
    """The analysis file cannot be read: not JSON, another format or version, a bad entry."""


class DataMismatchError(InputError):
    """The analysis file was made for another table (rows, columns or content differ)."""


# --------------------------------------------------------------------------- the document


@dataclass(frozen=True)
class DataFingerprint:
    """What identifies a table.

    Attributes
    ----------
    rows, columns : the table's size and column names, in order
    sha256 : hex sha256 of the file's bytes (None when only a DataFrame was seen)
    table_sha256 : hex sha256 of the table's content (:func:`table_sha256`), which is
        the same for the same table read from a file or handed over as a DataFrame
    file_name : the file's name as uploaded (None for a DataFrame)
    """

    rows: int
    columns: list[str]
    sha256: str | None = None
    table_sha256: str | None = None
    file_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The fingerprint as the ``data`` entry of the file."""
        return {
            "file_name": self.file_name,
            "sha256": self.sha256,
            "table_sha256": self.table_sha256,
            "rows": self.rows,
            "columns": list(self.columns),
        }

    def describe(self) -> str:
        """``'customers.csv' (2,000 rows, 9 columns)`` for messages."""
        name = f"'{self.file_name}' " if self.file_name else "a table "
        return f"{name}({self.rows:,} rows, {len(self.columns):,} columns)"


@dataclass(frozen=True)
class Analysis:
    """Every choice of a session (see the module docstring).

    Attributes
    ----------
    data : the fingerprint of the table the analysis was made on
    features : the feature columns, in the order chosen
    roles : role of each feature column (``profile_columns``' words: numeric, categorical, ...)
    preparation : ``scaling``, ``impute`` and ``log_transform`` (a list of columns)
    method : "kmeans", "fcm" or "gmm"; k : number of segments; seed : the random seed
    settings : the method's settings: ``m``, ``covariance_type``, ``n_init``, ``max_iter``
        (all four kept, as the app does; :func:`method_params` picks the method's own)
    segment_names : ``{segment: name}`` for the segments the analyst named
    anomalies : None, or ``k``, ``covariance_type``, ``n_init``, ``seed`` and ``rate``
        (share of rows flagged) or ``cutoff`` (a log-density cutoff) when scored
    synthetic : None, or ``k`` (None = by BIC), ``seed``, ``log``, ``n``, ``segments``
    choose_k : None, or ``method``, ``ks``, ``seed`` (and ``covariance_types`` for a
        mixture) of the Choose k sweep
    """

    data: DataFingerprint
    features: list[str]
    method: str
    k: int
    seed: int = 0
    roles: dict[str, str] = field(default_factory=dict)
    preparation: dict[str, Any] = field(
        default_factory=lambda: {"scaling": "standard", "impute": "median", "log_transform": []}
    )
    settings: dict[str, Any] = field(
        default_factory=lambda: {"m": 2.0, "covariance_type": "full", "n_init": 4, "max_iter": 200}
    )
    segment_names: dict[int, str] = field(default_factory=dict)
    anomalies: dict[str, Any] | None = None
    synthetic: dict[str, Any] | None = None
    choose_k: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (plain types only)."""
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "data": self.data.to_dict(),
            "features": list(self.features),
            "roles": dict(self.roles),
            "preparation": {
                "scaling": self.preparation["scaling"],
                "impute": self.preparation["impute"],
                "log_transform": list(self.preparation.get("log_transform") or []),
            },
            "method": self.method,
            "k": int(self.k),
            "seed": int(self.seed),
            "settings": dict(self.settings),
            "segment_names": {str(j): n for j, n in sorted(self.segment_names.items())},
            "anomalies": None if self.anomalies is None else dict(self.anomalies),
            "synthetic": None if self.synthetic is None else dict(self.synthetic),
            "choose_k": None if self.choose_k is None else dict(self.choose_k),
        }

    def to_json(self) -> str:
        """The analysis file's text (indented, keys in a fixed order)."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    def to_bytes(self) -> bytes:
        """:meth:`to_json` as UTF-8 bytes (for a download)."""
        return self.to_json().encode("utf-8")

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the analysis file to ``path``."""
        Path(path).write_bytes(self.to_bytes())

    def with_names(self, names: Mapping[int, str]) -> Analysis:
        """A copy with these segment names (validated)."""
        return replace(self, segment_names=_names(dict(names), self.k))

    def segment_params(self) -> dict[str, Any]:
        """Keyword arguments of :func:`analytics.segment` beyond df, method and k."""
        return {
            "columns": list(self.features),
            "random_state": int(self.seed),
            "roles": dict(self.roles) or None,
            **self.preparation_params(),
            **method_params(self.method, self.settings),
        }

    def preparation_params(self) -> dict[str, Any]:
        """``scaling``, ``impute``, ``log_transform`` as keyword arguments."""
        p = self.preparation
        return {
            "scaling": p["scaling"],
            "impute": p["impute"],
            "log_transform": list(p.get("log_transform") or []),
        }


def method_params(method: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings the Segments page passes to ``segment`` for ``method``.

    k-means: ``n_init``, ``max_iter``; fuzzy c-means: ``m``, ``max_iter``; Gaussian
    mixture: ``covariance_type``, ``n_init``, ``max_iter``.
    """
    keys = {
        "kmeans": ("n_init", "max_iter"),
        "fcm": ("m", "max_iter"),
        "gmm": ("covariance_type", "n_init", "max_iter"),
    }[method]
    return {key: settings[key] for key in keys}


# --------------------------------------------------------------------------- fingerprints


def table_sha256(df: pd.DataFrame) -> str:
    """Hex sha256 of a table's content: column names, dtypes and every value, in order.

    pandas' ``hash_pandas_object`` hashes each row with a fixed key (the same in every
    process), so the same table read twice gives the same digest.
    """
    h = hashlib.sha256()
    h.update(json.dumps([[str(c), str(t)] for c, t in df.dtypes.items()]).encode())
    h.update(str(len(df)).encode())
    if df.shape[1]:
        h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()


def fingerprint(
    source: pd.DataFrame | bytes,
    df: pd.DataFrame | None = None,
    file_name: str | None = None,
) -> DataFingerprint:
    """The fingerprint of a table.

    Parameters
    ----------
    source : the file's bytes (hashed as they are), or the table itself
    df : the table read from ``source`` when ``source`` is bytes (read with
        :func:`analytics.read_table` if not given)
    file_name : the file's name, kept for messages

    Returns
    -------
    DataFingerprint
    """
    if isinstance(source, pd.DataFrame):
        df, digest = source, None
    elif isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        digest = hashlib.sha256(data).hexdigest()
        if df is None:
            from analytics.io import read_table

            df = read_table(data, filename=file_name)
    else:
        raise InputError(
            f"A fingerprint is made from a file's bytes or a table, got {type(source).__name__}.",
            code="not_a_table",
        )
    return DataFingerprint(
        rows=int(len(df)),
        columns=[str(c) for c in df.columns],
        sha256=digest,
        table_sha256=table_sha256(df),
        file_name=file_name,
    )


def check_data(analysis: Analysis, found: DataFingerprint) -> None:
    """Refuse data the analysis was not made on, naming every difference.

    The table matches when the file's sha256 is equal, or else the table's content
    hash is equal (the same table saved differently), or, when neither hash can be
    compared, rows and columns are equal.

    Raises
    ------
    DataMismatchError
        With the rows, columns and hashes that differ.
    """
    want = analysis.data
    if want.sha256 and found.sha256 and want.sha256 == found.sha256:
        return
    if want.table_sha256 and found.table_sha256 and want.table_sha256 == found.table_sha256:
        return
    problems: list[str] = []
    if want.rows != found.rows:
        problems.append(f"it has {found.rows:,} rows, the analysis {want.rows:,}")
    if list(want.columns) != list(found.columns):
        missing = [c for c in want.columns if c not in set(found.columns)]
        extra = [c for c in found.columns if c not in set(want.columns)]
        bits = []
        if missing:
            bits.append("missing " + _quote_list(missing))
        if extra:
            bits.append("extra " + _quote_list(extra))
        if not bits:
            bits.append("in another order")
        problems.append("its columns differ (" + "; ".join(bits) + ")")
    comparable = (want.table_sha256 and found.table_sha256) or (want.sha256 and found.sha256)
    if comparable and not problems:
        w = want.table_sha256 or want.sha256 or ""
        f = found.table_sha256 if want.table_sha256 and found.table_sha256 else found.sha256
        problems.append(
            f"the same rows and columns hold other values (content sha256 {str(f)[:12]}…, "
            f"the analysis expects {w[:12]}…)"
        )
    if not problems:
        return
    raise DataMismatchError(
        f"This analysis was made on {want.describe()}; the loaded data is {found.describe()}: "
        + "; ".join(problems)
        + ". Load the table the analysis was made on.",
        code="other_data",
        problems=problems,
    )


def _quote_list(names: Sequence[str], n: int = 5) -> str:
    shown = ", ".join(f"'{c}'" for c in names[:n])
    return shown + (f" and {len(names) - n:,} more" if len(names) > n else "")


# --------------------------------------------------------------------------- reading


def _bad(message: str) -> AnalysisError:
    return AnalysisError(f"This is not a valid analysis file: {message}", code="bad_analysis_file")


def _read_source(source: Any) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    if isinstance(source, str) and source.lstrip().startswith("{"):
        return source.encode("utf-8")
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if path.is_dir():
            raise AnalysisError(
                f"{str(path)!r} is a folder, not an analysis file.", code="not_a_file"
            )
        try:
            size = path.stat().st_size
        except FileNotFoundError as exc:
            raise AnalysisError(f"No file was found at {str(path)!r}.", code="not_found") from exc
        if size > MAX_FILE_BYTES:
            raise _bad(f"it is {size / 1e6:,.1f} MB; an analysis file is a few kilobytes.")
        return path.read_bytes()
    if hasattr(source, "read"):
        data = source.read(MAX_FILE_BYTES + 1)
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    raise AnalysisError(
        f"An analysis is read from a path, bytes or a file, got {type(source).__name__}.",
        code="bad_analysis_file",
    )


def _parse_json(raw: bytes) -> Any:
    if len(raw) > MAX_FILE_BYTES:
        raise _bad(f"it is {len(raw) / 1e6:,.1f} MB; an analysis file is a few kilobytes.")
    if raw.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] != b"{":
        raise AnalysisError(
            "This is not an analysis file (it is not a JSON document). Use the .json "
            "analysis file downloaded from the Segments page.",
            code="bad_analysis_file",
        )

    return parse_strict_json(raw, _bad, "an analysis")


def _show(v: Any, n: int = 40) -> str:
    text = type(v).__name__ if isinstance(v, list | dict) else repr(v)
    return text if len(text) <= n else text[: n - 1] + "…"


def _obj(v: Any, name: str, required: Sequence[str], optional: Sequence[str] = ()) -> dict:
    if not isinstance(v, dict):
        raise _bad(f"{name} must be an object, got {_show(v)}.")
    missing = [key for key in required if key not in v]
    if missing:
        raise _bad(f"{name} has no {', '.join(repr(m) for m in missing)} entry.")
    unknown = sorted(set(v) - set(required) - set(optional))
    if unknown:
        raise _bad(f"{name} has unknown entries {', '.join(repr(u) for u in unknown)}.")
    return v


def _int(v: Any, name: str, low: int, high: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
        raise _bad(f"{name} must be a whole number from {low:,} to {high:,}, got {_show(v)}.")
    return int(v)


def _real(v: Any, name: str, low: float, high: float, low_open: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(float(v)):
        raise _bad(f"{name} must be a number, got {_show(v)}.")
    f = float(v)
    if f < low or f > high or (low_open and f == low):
        side = "above" if low_open else "at least"
        raise _bad(f"{name} must be {side} {low:g} and at most {high:g}, got {f:g}.")
    return f


def _choice(v: Any, name: str, allowed: Sequence[str]) -> str:
    if v not in allowed:
        raise _bad(f"{name} must be one of {', '.join(allowed)}, got {_show(v)}.")
    return str(v)


def _names_list(v: Any, name: str) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise _bad(f"{name} must be a list of column names.")
    if len(set(v)) != len(v):
        raise _bad(f"{name} names a column twice.")
    return list(v)


def _hex(v: Any, name: str) -> str | None:
    if v is None:
        return None
    if not isinstance(v, str) or len(v) != 64 or any(c not in "0123456789abcdef" for c in v):
        raise _bad(f"{name} must be 64 hexadecimal digits (a sha256), got {_show(v)}.")
    return v


def _names(v: Any, k: int) -> dict[int, str]:
    if not isinstance(v, dict):
        raise _bad("'segment_names' must be an object {segment number: name}.")
    out: dict[int, str] = {}
    for key, name in v.items():
        try:
            j = int(key)
        except (TypeError, ValueError):
            j = 0
        if str(j) != str(key).strip() or not 1 <= j <= k:
            raise _bad(f"segment names are keyed by segment number 1..{k}, got {_show(key)}.")
        if not isinstance(name, str) or len(name) > MAX_NAME_CHARS:
            raise _bad(
                f"the name of segment {j} must be a text of at most {MAX_NAME_CHARS} characters."
            )
        if name.strip():
            out[j] = name.strip()
    return out


def _parse_data(v: Any) -> DataFingerprint:
    d = _obj(v, "'data'", ("rows", "columns"), ("file_name", "sha256", "table_sha256"))
    name = d.get("file_name")
    if name is not None and not isinstance(name, str):
        raise _bad("the data's 'file_name' must be a text.")
    return DataFingerprint(
        rows=_int(d["rows"], "the data's 'rows'", 0, 2**62),
        columns=_names_list(d["columns"], "the data's 'columns'"),
        sha256=_hex(d.get("sha256"), "the data's 'sha256'"),
        table_sha256=_hex(d.get("table_sha256"), "the data's 'table_sha256'"),
        file_name=name,
    )


def _parse_anomalies(v: Any) -> dict[str, Any] | None:
    if v is None:
        return None
    d = _obj(v, "'anomalies'", ("k", "covariance_type", "n_init", "seed"), ("rate", "cutoff"))
    out: dict[str, Any] = {
        "k": _int(d["k"], "the anomalies' 'k'", 1, MAX_K),
        "covariance_type": _choice(
            d["covariance_type"], "the anomalies' 'covariance_type'", COVARIANCE_TYPES
        ),
        "n_init": _int(d["n_init"], "the anomalies' 'n_init'", 1, 100),
        "seed": _int(d["seed"], "the anomalies' 'seed'", 0, 2**32 - 1),
    }
    if d.get("cutoff") is not None:
        out["cutoff"] = _real(d["cutoff"], "the anomalies' 'cutoff'", -1e300, 1e300)
    else:
        out["rate"] = _real(d.get("rate", 0.01), "the anomalies' 'rate'", 0.0, 0.5, low_open=True)
    return out


def _parse_synthetic(v: Any) -> dict[str, Any] | None:
    if v is None:
        return None
    d = _obj(v, "'synthetic'", ("k", "seed", "log", "n"), ("segments",))
    k = None if d["k"] is None else _int(d["k"], "the synthetic 'k'", 1, MAX_K)
    if not isinstance(d["log"], bool):
        raise _bad("the synthetic 'log' must be true or false.")
    segments = d.get("segments") or []
    if not isinstance(segments, list):
        raise _bad("the synthetic 'segments' must be a list of segment numbers.")
    return {
        "k": k,
        "seed": _int(d["seed"], "the synthetic 'seed'", 0, 2**32 - 1),
        "log": d["log"],
        "n": _int(d["n"], "the synthetic 'n'", 1, 1_000_000),
        "segments": [_int(s, "a synthetic segment", 1, k or MAX_K) for s in segments],
    }


def _parse_choose_k(v: Any) -> dict[str, Any] | None:
    if v is None:
        return None
    d = _obj(v, "'choose_k'", ("method", "ks", "seed"), ("covariance_types",))
    ks = d["ks"]
    if not isinstance(ks, list) or not ks:
        raise _bad("the Choose k 'ks' must be a list of numbers of segments.")
    out: dict[str, Any] = {
        "method": _choice(d["method"], "the Choose k 'method'", METHODS),
        "ks": [_int(k, "a Choose k 'ks' entry", 1, MAX_K) for k in ks],
        "seed": _int(d["seed"], "the Choose k 'seed'", 0, 2**32 - 1),
    }
    if "covariance_types" in d:
        types = d["covariance_types"]
        if not isinstance(types, list) or not types:
            raise _bad("the Choose k 'covariance_types' must be a non-empty list.")
        out["covariance_types"] = [
            _choice(t, "a Choose k covariance type", COVARIANCE_TYPES) for t in types
        ]
    return out


def parse_analysis(doc: Any) -> Analysis:
    """An :class:`Analysis` from a parsed JSON document; raises :class:`AnalysisError`."""
    if not isinstance(doc, dict):
        raise _bad("its top level must be an object with a format name and version.")
    if doc.get("format") != FORMAT:
        raise AnalysisError(
            f"This file is not an analysis file (format {_show(doc.get('format'))}, "
            f"expected {FORMAT!r}). A model file is opened on the Segments page under "
            "'Score new customers', not here.",
            code="wrong_format",
        )
    version = doc.get("version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise AnalysisError(
            f"This analysis file has format version {_show(version)}; this version of the "
            f"workbench reads version {FORMAT_VERSION} only.",
            code="wrong_version",
        )
    d = _obj(
        doc,
        "the file",
        ("format", "version", "data", "features", "method", "k"),
        (
            "seed",
            "roles",
            "preparation",
            "settings",
            "segment_names",
            "anomalies",
            "synthetic",
            "choose_k",
        ),
    )
    data = _parse_data(d["data"])
    features = _names_list(d["features"], "'features'")
    if not features:
        raise _bad("'features' names no column; an analysis segments on at least one.")
    unknown = [c for c in features if c not in set(data.columns)]
    if unknown:
        raise _bad(f"the features {_quote_list(unknown)} are not columns of its data.")
    method = _choice(d["method"], "'method'", METHODS)
    k = _int(d["k"], "'k' (the number of segments)", 1, MAX_K)
    roles_raw = d.get("roles", {})
    if not isinstance(roles_raw, dict):
        raise _bad("'roles' must be an object {column: role}.")
    roles = {}
    for c, r in roles_raw.items():
        if c not in set(features):
            raise _bad(f"'roles' names {c!r}, which is not a feature.")
        roles[c] = _choice(r, f"the role of {c!r}", ROLES)
    prep = _obj(
        d.get("preparation", {"scaling": "standard", "impute": "median"}),
        "'preparation'",
        ("scaling", "impute"),
        ("log_transform",),
    )
    log_cols = _names_list(prep.get("log_transform", []), "the preparation's 'log_transform'")
    if any(c not in set(features) for c in log_cols):
        raise _bad("the preparation's 'log_transform' names a column that is not a feature.")
    settings_raw = _obj(
        d.get("settings", {}), "'settings'", (), ("m", "covariance_type", "n_init", "max_iter")
    )
    settings = {
        "m": _real(settings_raw.get("m", 2.0), "the fuzzifier 'm'", 1.0, 1e6, low_open=True),
        "covariance_type": _choice(
            settings_raw.get("covariance_type", "full"), "'covariance_type'", COVARIANCE_TYPES
        ),
        "n_init": _int(settings_raw.get("n_init", 4), "'n_init' (starts)", 1, 100),
        "max_iter": _int(settings_raw.get("max_iter", 200), "'max_iter'", 1, 100_000),
    }
    return Analysis(
        data=data,
        features=features,
        method=method,
        k=k,
        seed=_int(d.get("seed", 0), "'seed'", 0, 2**32 - 1),
        roles=roles,
        preparation={
            "scaling": _choice(prep["scaling"], "the preparation's 'scaling'", SCALINGS),
            "impute": _choice(prep["impute"], "the preparation's 'impute'", IMPUTES),
            "log_transform": log_cols,
        },
        settings=settings,
        segment_names=_names(d.get("segment_names", {}), k),
        anomalies=_parse_anomalies(d.get("anomalies")),
        synthetic=_parse_synthetic(d.get("synthetic")),
        choose_k=_parse_choose_k(d.get("choose_k")),
    )


def load_analysis(source: str | os.PathLike[str] | bytes | IO[bytes]) -> Analysis:
    """Read and validate an analysis file.

    Parameters
    ----------
    source : a path, the file's bytes or text, or a binary file object

    Raises
    ------
    AnalysisError
        An :class:`~analytics.InputError` saying in words what is wrong.
    """
    return parse_analysis(_parse_json(_read_source(source)))


def to_compact(analysis: Analysis) -> str:
    """The analysis as a short URL-safe text (zlib-compressed JSON, base64url)."""
    raw = json.dumps(analysis.to_dict(), separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode("ascii").rstrip("=")


def from_compact(text: str) -> Analysis:
    """The analysis of :func:`to_compact`'s text; raises :class:`AnalysisError`."""
    if not isinstance(text, str) or len(text) > MAX_FILE_BYTES:
        raise _bad("the address holds no readable analysis.")
    try:
        packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        d = zlib.decompressobj()
        raw = d.decompress(packed, MAX_FILE_BYTES + 1)
    except (ValueError, zlib.error) as exc:
        raise _bad("the address holds no readable analysis (it was cut or changed).") from exc
    return load_analysis(raw)


# --------------------------------------------------------------------------- running


@dataclass
class AnalysisResults:
    """What :func:`run_analysis` computed.

    Attributes
    ----------
    analysis : the analysis run
    seg : the :class:`~analytics.Segmentation` of the session
    names : ``{segment: name}`` (the analysis' names)
    sweep : the Choose k :class:`~analytics.KSweep` (the session's settings, or a
        quick sweep over ``QUICK_KS``), None when not run
    sweep_is_quick : True when the sweep was a quick one the session did not run
    anomalies : the :class:`~analytics.studies.anomaly.AnomalyResult`, when scored
    synthetic : the synthetic rows, shape (n, n_columns), when the session made some
    fingerprint : the fingerprint of the data run on
    """

    analysis: Analysis
    seg: Any
    names: dict[int, str]
    sweep: Any = None
    sweep_is_quick: bool = False
    anomalies: Any = None
    synthetic: pd.DataFrame | None = None
    fingerprint: DataFingerprint | None = None


def run_analysis(
    df: pd.DataFrame,
    analysis: Analysis,
    *,
    data: bytes | None = None,
    data_name: str | None = None,
    check: bool = True,
    sweep: bool = True,
    anomalies: bool = True,
    synthetic: bool = True,
    progress: Callable[[float, str], None] | None = None,
) -> AnalysisResults:
    """Reproduce a session on ``df`` through the public API.

    Parameters
    ----------
    df : DataFrame of shape (n_rows, n_columns), the table the analysis was made on
    analysis : the analysis (from :func:`load_analysis` or the app)
    data : the file's bytes, so the file's sha256 is compared too
    data_name : the file's name, for messages
    check : refuse other data (:func:`check_data`); False skips the check
    sweep : run the Choose k sweep (the session's, else a quick one)
    anomalies, synthetic : recompute these when the analysis holds their settings
    progress : optional callback ``(fraction, text)``

    Returns
    -------
    AnalysisResults

    Raises
    ------
    DataMismatchError
        ``df`` is not the analysis' table.
    """
    from analytics.model.fit import segment

    report = progress or (lambda fraction, text: None)
    fp = fingerprint(data, df, data_name) if data is not None else fingerprint(df)
    if data is None and data_name:
        fp = replace(fp, file_name=data_name)
    if check:
        check_data(analysis, fp)
    report(0.0, "Segmenting")
    seg = segment(df, analysis.method, analysis.k, **analysis.segment_params())
    if analysis.segment_names:
        # The names travel with the segmentation: its table(), predict() and model file.
        seg.names = {j: n for j, n in analysis.segment_names.items() if 1 <= j <= seg.k}
    out = AnalysisResults(analysis, seg, dict(analysis.segment_names), fingerprint=fp)
    if sweep:
        report(0.3, "Choosing k")
        out.sweep, out.sweep_is_quick = choose_k_sweep(df, analysis)
    if anomalies and analysis.anomalies is not None:
        report(0.6, "Scoring anomalies")
        out.anomalies = _anomalies(df, analysis)
    if synthetic and analysis.synthetic is not None:
        report(0.8, "Drawing synthetic rows")
        out.synthetic = _synthetic(df, analysis)
    report(1.0, "Done")
    return out


def choose_k_sweep(df: pd.DataFrame, a: Analysis) -> tuple[Any, bool]:
    """The Choose k sweep of the analysis, or a quick one when the session ran none.

    Returns
    -------
    (KSweep, is_quick) : the sweep, and True when it is the quick one (``QUICK_KS``,
        the analysis' own method; a mixture's own covariance type only)
    """
    from analytics.studies.choose_k import sweep_k

    if a.choose_k is not None:
        ck = a.choose_k
        params: dict[str, Any] = {}
        if ck["method"] == "fcm":
            params["m"] = a.settings["m"]
        if ck["method"] == "gmm":
            params["covariance_type"] = ck.get("covariance_types", list(COVARIANCE_TYPES))
        ks = [k for k in ck["ks"] if k >= 2]
        sweep = sweep_k(
            df, ks, ck["method"], columns=a.features, random_state=ck["seed"],
            **a.preparation_params(), **params,
        )  # fmt: skip
        return sweep, False
    # No sweep in the session: a quick one with the analysis' own method and settings
    # (for a mixture, its covariance type only, so the report stays quick).
    params = {"m": a.settings["m"]} if a.method == "fcm" else {}
    if a.method == "gmm":
        params["covariance_type"] = [a.settings["covariance_type"]]
    ks = [k for k in QUICK_KS if k < max(len(df), 3)]
    sweep = sweep_k(
        df,
        ks,
        a.method,
        columns=a.features,
        random_state=a.seed,
        **a.preparation_params(),
        **params,
    )
    return sweep, True


def _anomalies(df: pd.DataFrame, a: Analysis) -> Any:
    from analytics.studies.anomaly import fit_anomaly_model

    s = a.anomalies or {}
    base = fit_anomaly_model(
        df, s["k"], columns=a.features, random_state=s["seed"],
        covariance_type=s["covariance_type"], n_init=s["n_init"], **a.preparation_params(),
    )  # fmt: skip
    if s.get("cutoff") is not None:
        return base.recut(threshold=s["cutoff"])
    return base.recut(contamination=s["rate"])


def _synthetic(df: pd.DataFrame, a: Analysis) -> pd.DataFrame:
    from analytics.studies.synthetic import fit_synthesizer

    s = a.synthetic or {}
    params = {**a.preparation_params(), **({"log_transform": True} if s["log"] else {})}
    synth = fit_synthesizer(df, s["k"], a.features, s["seed"], n_init=2, **params)
    return synth.sample(s["n"], s["segments"] or None, s["seed"])


def describe_method(a: Analysis) -> str:
    """``Gaussian mixture, k = 4, full covariance, 4 starts, ...`` in words."""
    s = a.settings
    bits = [f"{METHOD_NAMES[a.method]}, k = {a.k}"]
    if a.method == "gmm":
        bits.append(f"{s['covariance_type']} covariance")
    if a.method == "fcm":
        bits.append(f"fuzzifier m = {s['m']:g}")
    if a.method != "fcm":
        bits.append(f"{s['n_init']} start(s)")
    bits.append(f"at most {s['max_iter']} iterations")
    bits.append(f"random seed {a.seed}")
    return ", ".join(bits)
