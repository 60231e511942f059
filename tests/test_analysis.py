"""The analysis file: round trip, validation in words, fingerprints, and reproducing a session."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from analytics import InputError, profile_columns, read_table, sample_synthetic, segment, sweep_k
from analytics.report.analysis import (
    FORMAT,
    Analysis,
    AnalysisError,
    DataMismatchError,
    check_data,
    fingerprint,
    from_compact,
    load_analysis,
    run_analysis,
    table_sha256,
    to_compact,
)
from analytics.studies.anomaly import fit_anomaly_model
from ui.data import SAMPLE_PATH

SAMPLE = SAMPLE_PATH.read_bytes()


@pytest.fixture(scope="module")
def sample_df() -> pd.DataFrame:
    return read_table(SAMPLE, filename="customers.csv")


def make_analysis(df: pd.DataFrame, data: bytes | None = SAMPLE, **kw) -> Analysis:
    prof = profile_columns(df)
    feats = kw.pop("features", prof.loc[prof["use"], "column"].tolist())
    roles = {c: r for c, r in zip(prof["column"], prof["role"], strict=True) if c in feats}
    fp = fingerprint(data, df, "customers.csv") if data is not None else fingerprint(df)
    return Analysis(data=fp, features=feats, roles=roles, **{"method": "kmeans", "k": 3, **kw})


# ---- the document --------------------------------------------------------------------------


def test_every_choice_survives_the_file_and_the_compact_form(sample_df: pd.DataFrame) -> None:
    a = make_analysis(
        sample_df,
        method="fcm",
        k=5,
        seed=17,
        preparation={"scaling": "robust", "impute": "mean", "log_transform": ["annual_income"]},
        settings={"m": 1.7, "covariance_type": "diag", "n_init": 3, "max_iter": 150},
        segment_names={1: "Loyal", 4: 'Bargain "hunters" <b>'},
        anomalies={"k": 3, "covariance_type": "tied", "n_init": 2, "seed": 1, "rate": 0.02},
        synthetic={"k": None, "seed": 3, "log": True, "n": 500, "segments": []},
        choose_k={"method": "gmm", "ks": [2, 3, 4], "seed": 0, "covariance_types": ["full"]},
    )
    doc = json.loads(a.to_json())
    assert doc["format"] == FORMAT and doc["version"] == 1
    assert doc["data"]["sha256"] == fingerprint(SAMPLE, sample_df).sha256
    assert load_analysis(a.to_bytes()) == a
    assert load_analysis(a.to_json()) == a  # text too
    assert from_compact(to_compact(a)) == a
    assert len(to_compact(a)) < len(a.to_json()) / 2  # small enough for an address


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    names=st.dictionaries(st.integers(1, 6), st.text(min_size=1, max_size=30).filter(str.strip)),
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(6, 50),
)
def test_any_names_and_seeds_round_trip(sample_df: pd.DataFrame, names, seed, k) -> None:
    a = make_analysis(
        sample_df, k=k, seed=seed, segment_names={j: n.strip() for j, n in names.items()}
    )
    assert load_analysis(a.to_bytes()) == a
    assert from_compact(to_compact(a)) == a


def doc_of(df: pd.DataFrame) -> dict:
    return json.loads(make_analysis(df).to_json())


def _set(doc: dict, path: str, value) -> dict:
    *head, last = path.split(".")
    d = doc
    for p in head:
        d = d[p]
    d[last] = value
    return doc


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: b"customer_id,age\n1,2\n", "not a JSON document"),
        (lambda d: b'{"format": ', "broken near line 1"),
        (lambda d: json.dumps(d).replace('"k": 3', '"k": NaN').encode(), "NaN"),
        (lambda d: json.dumps(d).replace('"k": 3', '"k": 3, "k": 4').encode(), "appears twice"),
        (lambda d: _set(d, "format", "segmentation-workbench/model"), "not an analysis file"),
        (lambda d: _set(d, "version", 2), "version 2"),
        (lambda d: _set(d, "k", 0), "'k' (the number of segments) must be a whole number from 1"),
        (lambda d: _set(d, "k", "4"), "must be a whole number"),
        (lambda d: _set(d, "method", "dbscan"), "'method' must be one of kmeans, fcm, gmm"),
        (lambda d: _set(d, "features", ["nope"]), "'nope' are not columns of its data"),
        (lambda d: _set(d, "features", []), "names no column"),
        (lambda d: _set(d, "preparation.scaling", "minmax"), "scaling' must be one of"),
        (lambda d: _set(d, "settings.m", 1.0), "fuzzifier 'm' must be above 1"),
        (lambda d: _set(d, "segment_names", {"9": "x"}), "segment number 1..3"),
        (lambda d: _set(d, "segment_names", {"1": 5}), "name of segment 1 must be a text"),
        (lambda d: _set(d, "data.sha256", "xyz"), "64 hexadecimal digits"),
        (lambda d: _set(d, "data.rows", -1), "the data's 'rows' must be a whole number"),
        (lambda d: _set(d, "surprise", 1), "unknown entries 'surprise'"),
        (
            lambda d: _set(
                d,
                "anomalies",
                {"k": 3, "covariance_type": "full", "n_init": 1, "seed": 0, "rate": 0.9},
            ),
            "rate' must be above 0 and at most 0.5",
        ),  # fmt: skip
        (lambda d: [1, 2], "not a JSON document"),
        (lambda d: b"{" + b" " * (3 * 1024 * 1024) + b"}", "an analysis file is a few kilobytes"),
        (lambda d: b'{"a": "\xff"}', "not UTF-8"),
    ],
)
def test_malformed_files_are_refused_in_words(sample_df: pd.DataFrame, change, words: str) -> None:
    raw = change(doc_of(sample_df))
    if not isinstance(raw, bytes):
        raw = json.dumps(raw).encode()
    with pytest.raises(AnalysisError) as info:
        load_analysis(raw)
    assert isinstance(info.value, InputError)
    assert words in info.value.message


def test_missing_file_and_folder_are_refused_in_words(tmp_path) -> None:
    with pytest.raises(InputError, match="No file was found"):
        load_analysis(tmp_path / "nothing.json")
    with pytest.raises(InputError, match="is a folder"):
        load_analysis(tmp_path)
    with pytest.raises(InputError, match="not readable|cut or changed"):
        from_compact("not-an-analysis")


# ---- fingerprints ---------------------------------------------------------------------------


def test_table_hash_is_the_same_for_the_same_table_however_it_was_saved(sample_df) -> None:
    semicolons = sample_df.to_csv(sep=";", index=False, decimal=",").encode("utf-8")
    again = read_table(semicolons, filename="customers_semicolon.csv")
    assert fingerprint(semicolons, again).sha256 != fingerprint(SAMPLE, sample_df).sha256
    assert table_sha256(again) == table_sha256(sample_df)
    changed = sample_df.copy()
    changed.loc[17, "age"] = changed.loc[17, "age"] + 1
    assert table_sha256(changed) != table_sha256(sample_df)
    # The analysis accepts the re-saved table (same content) ...
    a = make_analysis(sample_df)
    check_data(a, fingerprint(semicolons, again, "customers_semicolon.csv"))
    # ... and refuses a table with one value changed, saying so.
    with pytest.raises(DataMismatchError, match="same rows and columns hold other values"):
        check_data(a, fingerprint(changed))


def test_other_data_is_refused_naming_rows_and_columns(sample_df: pd.DataFrame) -> None:
    a = make_analysis(sample_df)
    other = sample_df.drop(columns=["region"]).head(500).assign(extra=1)
    with pytest.raises(DataMismatchError) as info:
        run_analysis(other, a)
    msg = info.value.message
    assert "2,000 rows" in msg and "500 rows" in msg
    assert "missing 'region'" in msg and "extra 'extra'" in msg
    assert info.value.code == "other_data"


# ---- reproducing a session ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["kmeans", "fcm", "gmm"])
def test_run_analysis_makes_the_segments_the_page_makes(sample_df, method) -> None:
    a = make_analysis(
        sample_df,
        method=method,
        k=4,
        seed=5,
        preparation={"scaling": "robust", "impute": "mean", "log_transform": ["annual_income"]},
        settings={"m": 1.8, "covariance_type": "diag", "n_init": 2, "max_iter": 120},
    )
    r = run_analysis(sample_df, a, data=SAMPLE, sweep=False)
    # The Segments page's call (views/segments.py), written out by hand.
    prof = profile_columns(sample_df)
    page_params = {"kmeans": {"n_init": 2, "max_iter": 120}, "fcm": {"m": 1.8, "max_iter": 120},
                   "gmm": {"covariance_type": "diag", "n_init": 2, "max_iter": 120}}[method]  # fmt: skip
    page = segment(
        sample_df, method, 4, columns=a.features, random_state=5,
        roles=dict(zip(prof["column"], prof["role"], strict=True)),
        scaling="robust", impute="mean", log_transform=["annual_income"], **page_params,
    )  # fmt: skip
    np.testing.assert_array_equal(r.seg.labels, page.labels)
    np.testing.assert_allclose(r.seg.proba, page.proba)
    # And the segments are real ones: k-means ends at a fixed point of Lloyd's step
    # (every row is nearest to the mean of its own segment), checked by hand.
    if method == "kmeans":
        X, lab = r.seg.X, r.seg.labels
        means = np.stack([X[lab == j].mean(axis=0) for j in range(1, 5)])
        nearest = ((X[:, None, :] - means[None]) ** 2).sum(axis=2).argmin(axis=1) + 1
        assert adjusted_rand_score(nearest, lab) > 0.99


def test_run_analysis_reproduces_anomalies_synthetic_and_choose_k(sample_df) -> None:
    a = make_analysis(
        sample_df,
        method="gmm",
        k=3,
        anomalies={"k": 3, "covariance_type": "full", "n_init": 2, "seed": 4, "rate": 0.03},
        synthetic={"k": 2, "seed": 9, "log": True, "n": 300, "segments": [1]},
        choose_k={"method": "kmeans", "ks": [2, 3, 4], "seed": 2},
    )
    r = run_analysis(sample_df, a, data=SAMPLE)
    ref = fit_anomaly_model(
        sample_df, 3, columns=a.features, random_state=4, covariance_type="full", n_init=2,
        **a.preparation_params(),
    ).recut(contamination=0.03)  # fmt: skip
    pd.testing.assert_frame_equal(r.anomalies.scores, ref.scores)
    assert r.anomalies.n_anomalies == int(round(0.03 * len(sample_df)))
    synth = sample_synthetic(
        sample_df, 300, 2, a.features, 9, segments=[1], n_init=2,
        **{**a.preparation_params(), "log_transform": True},
    )  # fmt: skip
    pd.testing.assert_frame_equal(r.synthetic, synth)
    sw = sweep_k(
        sample_df, [2, 3, 4], "kmeans", columns=a.features, random_state=2, **a.preparation_params()
    )
    pd.testing.assert_frame_equal(r.sweep.table, sw.table)
    assert not r.sweep_is_quick


def test_without_a_session_sweep_a_quick_one_is_run(sample_df) -> None:
    r = run_analysis(sample_df, make_analysis(sample_df, method="gmm", k=3), anomalies=False)
    assert r.sweep_is_quick and r.sweep.ks == list(range(2, 9))
    assert r.anomalies is None and r.synthetic is None
