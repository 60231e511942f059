"""Model files: save, reload, score exactly like the fitted segmentation; refuse bad files."""

from __future__ import annotations

import copy
import io
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import analytics
from analytics import InputError, load_model, segment
from analytics.charts.model import shares_figure
from analytics.errors import ColumnError
from analytics.io import read_table
from analytics.model.segment_model import (
    FORMAT,
    FORMAT_VERSION,
    SegmentModel,
    align_categories,
    model_bytes,
    shares_comparison,
)
from ui.data import SAMPLE_PATH

CASES = [
    ("kmeans", {}),
    ("fcm", {"m": 1.7}),
    ("gmm", {"covariance_type": "full"}),
    ("gmm", {"covariance_type": "tied"}),
    ("gmm", {"covariance_type": "diag"}),
    ("gmm", {"covariance_type": "spherical"}),
]


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return read_table(SAMPLE_PATH)


@pytest.fixture(scope="module")
def train(sample: pd.DataFrame) -> pd.DataFrame:
    return sample.iloc[:800].reset_index(drop=True)


@pytest.fixture(scope="module")
def new(sample: pd.DataFrame) -> pd.DataFrame:
    """Unseen rows with gaps, an unseen category and an extra column."""
    df = sample.iloc[800:1100].reset_index(drop=True).copy()
    df.loc[::7, "annual_income"] = np.nan
    df.loc[::11, "channel"] = "carrier pigeon"
    df["note"] = "x"
    return df


@pytest.fixture(scope="module")
def fits(train: pd.DataFrame) -> dict[int, analytics.Segmentation]:
    return {
        i: segment(train, method, 4, random_state=0, n_init=2, **params)
        for i, (method, params) in enumerate(CASES)
    }


def _assert_same_scores(expected: pd.DataFrame, got: pd.DataFrame) -> None:
    assert list(got.columns) == list(expected.columns)
    assert got.dtypes.equals(expected.dtypes)
    assert got.index.equals(expected.index)
    assert np.array_equal(got["segment"].to_numpy(), expected["segment"].to_numpy())
    soft = ("prob_segment", "segment_prob", "membership_segment", "segment_membership", "distance_")
    prob = [c for c in expected.columns if str(c).startswith(soft)]
    np.testing.assert_allclose(got[prob].to_numpy(), expected[prob].to_numpy(), rtol=0, atol=1e-10)
    pd.testing.assert_frame_equal(
        got.drop(columns=[*prob, "segment"]), expected.drop(columns=[*prob, "segment"])
    )


@pytest.mark.parametrize("case", range(len(CASES)), ids=[f"{m}-{p}" for m, p in CASES])
def test_reloaded_model_scores_like_the_fit(case, fits, new, tmp_path) -> None:
    seg = fits[case]
    path = tmp_path / "model.json"
    seg.save(path)
    model = load_model(path)
    assert isinstance(model, SegmentModel)
    assert model.k == seg.k and model.method == seg.method
    assert model.columns == seg.columns and model.feature_names == seg.feature_names
    _assert_same_scores(seg.predict(new), model.predict(new))
    np.testing.assert_allclose(model.predict_proba(new), seg.predict_proba(new), atol=1e-10, rtol=0)
    # The training rows get their training segments back.
    assert np.array_equal(model.predict(seg.data)["segment"].to_numpy(), seg.labels)
    np.testing.assert_array_equal(model.training_shares, seg.sizes / seg.sizes.sum())
    assert model.summary["sizes"] == seg.summary["sizes"]
    if seg.method == "gmm":
        np.testing.assert_allclose(model.log_density(new), seg.log_density(new), atol=1e-10, rtol=0)
    else:
        with pytest.raises(InputError):
            model.log_density(new)


def test_the_file_is_one_json_document_with_everything_named(fits, tmp_path) -> None:
    seg = fits[2]  # gmm full
    seg.save(tmp_path / "m.json")
    doc = json.loads((tmp_path / "m.json").read_text("utf-8"))
    assert doc["format"] == FORMAT and doc["version"] == FORMAT_VERSION == 1
    assert doc["method"] == "gmm" and doc["k"] == 4
    prep = doc["preparation"]
    for key in ("columns", "numeric", "categorical", "fill", "center", "scale", "categories",
                "log_columns", "options", "feature_names"):  # fmt: skip
        assert key in prep
    p = len(prep["feature_names"])
    m = doc["model"]
    assert m["covariance_type"] == "full"
    assert np.shape(m["weights"]) == (4,) and np.shape(m["means"]) == (4, p)
    assert np.shape(m["covariances"]) == (4, p, p)
    # Components are stored in segment order and the floats round-trip exactly.
    est, order = seg.estimator, seg.order
    assert np.array_equal(np.array(m["means"]), est.means_[order])
    assert np.array_equal(np.array(m["covariances"]), est.covariances_[order])
    assert np.array_equal(np.array(m["weights"]), est.weights_[order])
    assert doc["summary"]["sizes"] == seg.sizes.tolist()
    assert b"NaN" not in (tmp_path / "m.json").read_bytes()


def test_fcm_and_kmeans_files_hold_centres_and_m(fits) -> None:
    for case, keys in ((0, {"centers"}), (1, {"centers", "m", "dtype"})):
        doc = json.loads(model_bytes(fits[case]))
        assert set(doc["model"]) == keys
        assert np.array_equal(
            np.array(doc["model"]["centers"]),
            fits[case].estimator.cluster_centers_[fits[case].order],
        )
    assert json.loads(model_bytes(fits[1]))["model"]["m"] == 1.7


def test_save_load_save_gives_the_same_bytes(fits) -> None:
    for seg in fits.values():
        first = model_bytes(seg)
        assert load_model(first).to_bytes() == first
        assert load_model(io.BytesIO(first)).to_bytes() == first
        assert load_model(b"\xef\xbb\xbf" + first).to_bytes() == first  # saved with a BOM


def test_float32_fcm_matches_to_float32_precision(train, new) -> None:
    seg = segment(train, "fcm", 3, dtype="float32", n_init=1)
    model = load_model(model_bytes(seg))
    expected, got = seg.predict(new), model.predict(new)
    assert np.array_equal(expected["segment"], got["segment"])
    np.testing.assert_allclose(got["segment_membership"], expected["segment_membership"], atol=1e-6)


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    method=st.sampled_from(["kmeans", "fcm", "gmm"]),
    k=st.integers(1, 4),
)
def test_round_trip_on_random_data(seed, method, k) -> None:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "a": rng.normal(size=60),
            "b": rng.exponential(size=60) * 100,
            "c": rng.choice(["x", "y", "z"], size=60),
        }
    )
    params = {"covariance_type": "diag"} if method == "gmm" else {}
    seg = segment(df, method, k, random_state=seed, n_init=1, log_transform=["b"], **params)
    fresh = df.sample(frac=1.0, random_state=seed)  # shuffled rows, shuffled index
    _assert_same_scores(seg.predict(fresh), load_model(model_bytes(seg)).predict(fresh))


def test_missing_columns_and_non_frames_are_refused(fits, new) -> None:
    model = load_model(model_bytes(fits[0]))
    with pytest.raises(ColumnError, match="missing column"):
        model.predict(new.drop(columns=["age"]))
    with pytest.raises(InputError, match="table"):
        model.predict(new.to_numpy())


def test_added_columns_are_renamed_like_predict_when_taken(fits, new) -> None:
    seg = fits[0]
    clash = new.assign(segment="mine", prob_segment_1=0.5)
    _assert_same_scores(seg.predict(clash), load_model(model_bytes(seg)).predict(clash))
    assert "segment_model" in load_model(model_bytes(seg)).predict(clash).columns


# ---------------------------------------------------------------------------- refusals


def _doc(seg) -> dict:
    return json.loads(model_bytes(seg))


def _refused(doc_or_bytes, *words: str, code: str | None = None) -> InputError:
    raw = doc_or_bytes if isinstance(doc_or_bytes, bytes) else json.dumps(doc_or_bytes).encode()
    with pytest.raises(InputError) as info:
        load_model(raw)
    msg = info.value.message
    assert "Traceback" not in msg and "\n" not in msg
    for w in words:
        assert w in msg, msg
    if code:
        assert info.value.code == code
    return info.value


def test_not_json_or_not_a_model_is_refused(fits) -> None:
    _refused(b"customer_id,age\n1,2\n", "not a segmentation model", code="bad_model_file")
    _refused(b"\x80\x04\x95pickle", "not a segmentation model")
    _refused(b'{"format": "segmentation-workbench/model", "version": 1,', "broken")
    _refused([1, 2, 3], "not a segmentation model")
    _refused({"format": "something-else", "version": 1}, "not a segmentation model",
             code="wrong_format")  # fmt: skip
    for version in (2, 0, "1", True, None):
        doc = _doc(fits[0])
        doc["version"] = version
        _refused(doc, "version", code="wrong_version")


@pytest.mark.parametrize(
    "edit, words",
    [
        (lambda d: d.pop("model"), ["no 'model'"]),
        (lambda d: d.pop("preparation"), ["no 'preparation'"]),
        (lambda d: d["preparation"].pop("scale"), ["'scale'"]),
        (lambda d: d["summary"].pop("sizes"), ["'sizes'"]),
        (lambda d: d["model"].pop("covariances"), ["'covariances'"]),
        (lambda d: d.update(method="dbscan"), ["unknown method"]),
        (lambda d: d.update(k=0), ["number of segments"]),
        (lambda d: d.update(k=3), ["shape"]),
        (lambda d: d["model"]["means"].pop(), ["'means' has shape"]),
        (lambda d: d["model"]["means"][0].append(1.0), ["'means'"]),
        (lambda d: d["model"].update(weights=[0.5, 0.5, 0.5, -0.5]), ["weights"]),
        (lambda d: d["model"]["means"][0].__setitem__(0, "1.0"), ["numbers"]),
        (lambda d: d["model"].update(covariance_type="banana"), ["covariance type"]),
        (lambda d: d["preparation"]["center"].update(age="old"), ["number"]),
        (lambda d: d["preparation"]["scale"].update(age=0), ["zero"]),
        (lambda d: d["preparation"].update(feature_names=["age"]), ["feature_names"]),
        (lambda d: d["preparation"].update(evil="x"), ["unknown entries"]),
        (lambda d: d["model"]["covariances"][0][0].__setitem__(0, -5.0), ["positive definite"]),
        (lambda d: d.update(segment_names=["a"]), ["'segment_names'"]),
        (lambda d: d.update(segment_names={"5": "x"}), ["segments 1..4"]),
        (lambda d: d.update(segment_names={"one": "x"}), ["segments 1..4"]),
        (lambda d: d.update(segment_names={"1": ""}), ["name of segment 1"]),
        (lambda d: d.update(segment_names={"1": 7}), ["name of segment 1"]),
        (lambda d: d.update(segment_names={"1": "x" * 201}), ["1..200 characters"]),
        (lambda d: d["preparation"].update(resolution={"nope": 1.0}), ["'resolution'"]),
        (lambda d: d["preparation"].update(resolution={"age": -1.0}), ["positive"]),
        (lambda d: d["preparation"].update(flags=["nope"]), ["'flags'"]),
        (lambda d: d["preparation"].update(log_report={"nope": {}}), ["'log_report'"]),
    ],
)
def test_malformed_models_are_refused_in_plain_words(fits, edit, words) -> None:
    doc = copy.deepcopy(_doc(fits[2]))  # gmm full
    edit(doc)
    _refused(doc, *words)


def test_nan_infinity_and_duplicates_are_refused(fits) -> None:
    text = model_bytes(fits[0]).decode()
    doc = json.loads(text)
    first = doc["model"]["centers"][0][0]
    for bad in ("NaN", "Infinity", "-Infinity"):
        _refused(text.replace(json.dumps(first), bad, 1).encode(), bad)
    _refused(b'{"format": "a", "format": "b"}', "appears twice")
    doc["model"]["centers"][0][0] = 1e400  # json writes inf only with allow_nan
    _refused(json.dumps(doc).encode(), "Infinity")
    fcm = _doc(fits[1])
    fcm["model"]["m"] = 1.0
    _refused(fcm, "greater than 1")


def test_missing_model_file_is_an_input_error(tmp_path) -> None:
    with pytest.raises(InputError, match="No model file"):
        load_model(tmp_path / "nope.json")


# ---------------------------------------------------------------------------- drift helpers


def test_shares_comparison_counts_new_labels_beside_training(fits) -> None:
    model = load_model(model_bytes(fits[0]))
    labels = np.array([1, 1, 2, 4, 4, 4])
    comp = shares_comparison(model, labels)
    assert list(comp.index) == [1, 2, 3, 4]
    assert comp["new_count"].tolist() == [2, 1, 0, 3]
    np.testing.assert_allclose(comp["new_share"], [2 / 6, 1 / 6, 0, 3 / 6])
    np.testing.assert_allclose(comp["training_share"], fits[0].sizes / fits[0].sizes.sum())
    np.testing.assert_allclose(comp["change"], comp["new_share"] - comp["training_share"])
    with pytest.raises(InputError):
        shares_comparison(model, [0, 5])
    fig = shares_figure(comp)
    assert [t.name for t in fig.data] == ["Training", "New data"]
    assert fig.layout.barmode == "group"
    np.testing.assert_allclose(fig.data[1].y, comp["new_share"])
    assert list(fig.data[0].x) == ["Segment 1", "Segment 2", "Segment 3", "Segment 4"]


def test_align_categories_matches_codes_written_as_floats() -> None:
    df = pd.DataFrame({"x": np.arange(40.0) % 7, "code": np.tile([1, 2, 3, 4], 10)})
    seg = segment(df, "kmeans", 2, columns=["x", "code"], n_init=1)
    model = load_model(model_bytes(seg))
    assert model.preparer.categories["code"] == ["1", "2", "3", "4"]
    new = pd.DataFrame({"x": [1.0, 2.0, 3.0], "code": [1.0, np.nan, 9.0]})  # read with a gap
    fixed, unseen = align_categories(new, model)
    assert fixed["code"].tolist()[0] == "1" and unseen == {"code": 1}
    untouched, none = align_categories(df, model)
    assert untouched is df and none == {}


# ---------------------------------------------------------------------- segment names


@pytest.mark.parametrize("case", [0, 1, 2], ids=["kmeans", "fcm", "gmm"])
def test_segment_names_are_kept_in_the_model_file(case, fits, new, tmp_path) -> None:
    seg = fits[case]
    seg.names = {1: "Big spenders", 3: "Bargain hunters"}
    try:
        assert seg.segment_names == {1: "Big spenders", 2: "Segment 2",
                                     3: "Bargain hunters", 4: "Segment 4"}  # fmt: skip
        seg.save(tmp_path / "named.json")
        model = load_model(tmp_path / "named.json")
        assert model.names == {1: "Big spenders", 3: "Bargain hunters"}
        assert json.loads((tmp_path / "named.json").read_text())["segment_names"] == {
            "1": "Big spenders", "3": "Bargain hunters"}  # fmt: skip
        got, expected = model.predict(new), seg.predict(new)
        pd.testing.assert_series_equal(got["segment_name"], expected["segment_name"])
        want = got["segment"].map(seg.segment_names)
        assert (got["segment_name"] == want).all()
    finally:
        seg.names = {}


def test_files_without_the_new_entries_still_open(fits, new) -> None:
    doc = _doc(fits[2])
    doc.pop("segment_names")
    for key in ("resolution", "flags", "log_report"):
        doc["preparation"].pop(key)
    model = load_model(json.dumps(doc).encode())
    assert model.names == {} and model.preparer.resolution == {}
    assert (
        model.predict(new)["segment_name"] == "Segment " + model.predict(new)["segment"].astype(str)
    ).all()


def test_preparation_report_round_trips(fits) -> None:
    seg = fits[0]
    model = load_model(model_bytes(seg))
    assert model.preparer.log_report == seg.preparer.log_report
    assert model.preparer.resolution == seg.preparer.resolution
    assert model.preparer.flags == seg.preparer.flags
