"""Column roles and feature preparation, checked against values recomputed by hand."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import ColumnError, InputError, PrepOptions, prepare, profile_columns
from analytics.preparation import AUTO_LOG_SKEW


def _customers(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(n)],
            "row_number": np.arange(1, n + 1),
            "income": rng.lognormal(10, 1, n),
            "age": rng.integers(18, 80, n),
            "score": rng.normal(size=n),
            "region": rng.choice(["North", "South", "East"], n),
            "signup": pd.date_range("2021-01-01", periods=n).strftime("%Y-%m-%d"),
            "signup_dt": pd.date_range("2021-01-01", periods=n),
            "country": "NL",
            "blank": np.nan,
            "sparse": [1.5, 2.5, 3.5, 4.5] + [np.nan] * (n - 4),
            "tier": rng.integers(1, 4, n),
            "spend_text": [f"{v:.2f}" for v in rng.normal(100, 10, n - 3)] + ["n/a", "unknown", ""],
            "comment": [f"free text number {i} about this customer" for i in range(n)],
        }
    )


@pytest.fixture(scope="module")
def roles() -> dict[str, str]:
    prof = profile_columns(_customers())
    assert list(prof["column"]) == list(_customers().columns)
    return dict(zip(prof["column"], prof["role"], strict=True))


@pytest.mark.parametrize(
    ("column", "role"),
    [
        ("income", "numeric"),
        ("age", "numeric"),
        ("score", "numeric"),
        ("region", "categorical"),
        ("customer_id", "identifier"),
        ("row_number", "identifier"),
        ("signup", "date"),
        ("signup_dt", "date"),
        ("country", "constant"),
        ("blank", "empty"),
        ("sparse", "mostly missing"),
        ("tier", "category code"),
        ("spend_text", "numeric"),
        ("comment", "identifier"),
    ],
)
def test_profile_roles(roles, column, role):
    assert roles[column] == role


def test_profile_use_reason_and_counts():
    df = _customers()
    prof = profile_columns(df).set_index("column")
    assert set(prof.index[prof["use"]]) == {"income", "age", "score", "region", "spend_text"}
    assert (prof["reason"].str.len() > 5).all()
    assert prof.loc["spend_text", "unparsed"] == 3  # "n/a", "unknown" and ""
    assert prof.loc["blank", "missing"] == len(df)
    assert prof.loc["region", "distinct"] == 3
    assert "not numbers" in prof.loc["spend_text", "reason"]
    assert "1..3" in prof.loc["tier", "reason"]


def test_profile_free_text_and_id_by_name():
    rng = np.random.default_rng(1)
    n = 80
    words = [f"word{i}" for i in range(40)]
    df = pd.DataFrame(
        {
            "note": rng.choice(words, n),
            "account_id": np.r_[rng.permutation(n - 1) + 5000, 5000],  # integral, unique but one
            "member_number": rng.permutation(n) + 1,
            "zip": [f"0{v:04d}" for v in rng.integers(0, 10, n)],
        }
    )
    roles = dict(profile_columns(df)[["column", "role"]].to_numpy())
    assert roles["note"] == "free text"
    assert roles["member_number"] == "identifier"
    assert roles["zip"] == "categorical"  # leading zeros: a code, never a number


def test_profile_empty_frame_and_not_a_frame():
    assert profile_columns(pd.DataFrame({"a": []})).empty
    with pytest.raises(InputError) as info:
        profile_columns([[1, 2]])
    assert info.value.code == "not_a_table"


def test_duplicate_column_names_are_an_input_error():
    df = pd.DataFrame([[1.0, 2.0], [3.0, 5.0], [4.0, 1.0]], columns=["a", "a"])
    with pytest.raises(ColumnError, match="same name"):
        prepare(df)


def test_prepare_default_columns_standard_scaling_matches_hand_computation():
    df = _customers()
    X, prep = prepare(df)
    assert prep.numeric == ["income", "age", "score", "spend_text"]
    assert prep.categorical == ["region"]
    assert prep.feature_names == [
        "income",
        "age",
        "score",
        "spend_text",
        "region=East",
        "region=North",
        "region=South",
    ]
    assert X.shape == (len(df), 7)
    assert np.isfinite(X).all()
    # income is log-normal: strongly right-skewed, so the default logs it (and only it)
    income = df["income"].to_numpy()
    assert prep.log_columns == ["income"]
    logged = np.log1p(income)
    np.testing.assert_allclose(X[:, 0], (logged - logged.mean()) / logged.std(), rtol=1e-10)
    one_hot = pd.get_dummies(df["region"]).to_numpy(dtype=float)
    np.testing.assert_array_equal(X[:, 4:], one_hot)
    # numbers written as text: unparsed values are imputed with the median of the rest
    spend = pd.to_numeric(df["spend_text"], errors="coerce")
    assert prep.imputed["spend_text"] == 3
    assert prep.fill["spend_text"] == pytest.approx(spend.median())
    assert any("spend_text" in w and "3 missing" in w for w in prep.warnings)


def test_input_frame_not_modified_by_prepare():
    df = _customers()
    before = df.copy(deep=True)
    prepare(df, options=PrepOptions(log_transform=True, scaling="robust", impute="mean"))
    pd.testing.assert_frame_equal(df, before)


@pytest.mark.parametrize("impute", ["median", "mean"])
def test_imputation_counts_and_values(impute):
    rng = np.random.default_rng(2)
    x = rng.normal(10, 2, 50)
    x[[3, 7, 11]] = np.nan
    cat = rng.choice(["a", "b", "b"], 50).astype(object)
    cat[[0, 1]] = None
    df = pd.DataFrame({"x": x, "y": rng.normal(size=50), "c": cat})
    X, prep = prepare(df, options=PrepOptions(impute=impute))
    assert prep.imputed == {"x": 3, "y": 0, "c": 2}
    present = x[~np.isnan(x)]
    fill = np.median(present) if impute == "median" else present.mean()
    assert prep.fill["x"] == pytest.approx(fill)
    assert prep.fill["c"] == pd.Series(cat).value_counts().index[0]
    filled = np.where(np.isnan(x), fill, x)
    np.testing.assert_allclose(X[:, 0], (filled - present.mean()) / present.std(), rtol=1e-10)
    assert any("'x': 3 missing value(s) filled with the " + impute in w for w in prep.warnings)
    assert any("'c': 2 missing" in w for w in prep.warnings)


def test_log_transform_applies_to_skewed_non_negative_columns_only():
    rng = np.random.default_rng(3)
    n = 200
    df = pd.DataFrame(
        {
            "skewed": rng.lognormal(5, 1.2, n),
            "symmetric": rng.normal(50, 5, n),
            "negative_skewed": rng.lognormal(1, 1, n) - 5,
        }
    )
    X, prep = prepare(df, options=PrepOptions(log_transform=True))
    assert prep.log_columns == ["skewed"]
    lx = np.log1p(df["skewed"].to_numpy())
    np.testing.assert_allclose(X[:, 0], (lx - lx.mean()) / lx.std(), rtol=1e-10)
    # an explicit list is honoured even if not skewed, and negatives are refused with a note
    _, prep2 = prepare(df, options=PrepOptions(log_transform=["symmetric", "negative_skewed"]))
    assert prep2.log_columns == ["symmetric"]
    assert any("negative_skewed" in w and "negative" in w for w in prep2.warnings)


def test_robust_scaling_uses_median_and_iqr():
    rng = np.random.default_rng(4)
    x = np.r_[rng.normal(0, 1, 95), [50, 60, 70, 80, 90]]
    df = pd.DataFrame({"x": x, "y": rng.normal(size=100)})
    X, prep = prepare(df, options=PrepOptions(scaling="robust"))
    q1, med, q3 = np.percentile(x, [25, 50, 75])
    assert prep.center["x"] == pytest.approx(med)
    assert prep.scale["x"] == pytest.approx(q3 - q1)
    np.testing.assert_allclose(X[:, 0], (x - med) / (q3 - q1), rtol=1e-10)


def test_no_scaling_keeps_values():
    df = pd.DataFrame({"x": [1.0, 2.0, 4.0, 8.0], "y": [0.5, -1.0, 3.0, 2.0]})
    X, _ = prepare(df, options=PrepOptions(scaling="none", log_transform=False))
    np.testing.assert_array_equal(X, df.to_numpy())


@pytest.mark.parametrize(
    "options",
    [
        PrepOptions(),
        PrepOptions(scaling="robust"),
        PrepOptions(scaling="none"),
        PrepOptions(log_transform=True),
        PrepOptions(log_transform=["a"], scaling="robust"),
    ],
)
def test_inverse_transform_round_trips(options):
    rng = np.random.default_rng(5)
    df = pd.DataFrame(
        {
            "a": rng.lognormal(3, 1, 40),
            "b": rng.normal(-2, 3, 40),
            "region": rng.choice(["x", "y", "z"], 40),
        }
    )
    X, prep = prepare(df, options=options)
    back = prep.inverse_transform(X)
    assert list(back.columns) == ["a", "b", "region"]
    np.testing.assert_allclose(back["a"], df["a"], rtol=1e-9)
    np.testing.assert_allclose(back["b"], df["b"], rtol=1e-9, atol=1e-12)
    assert back["region"].tolist() == df["region"].tolist()
    # and transform of new data equals the training transform
    np.testing.assert_allclose(prep.transform(df), X)


@pytest.mark.filterwarnings("error")
def test_unseen_category_gets_all_zero_one_hot():
    df = pd.DataFrame({"x": [1.5, 2.0, 3.0, 4.0], "c": ["a", "b", "a", "b"]})
    _, prep = prepare(df)
    assert prep.feature_names == ["x", "c=a", "c=b"]
    new = pd.DataFrame({"x": [2.5, 2.5], "c": ["zzz", "a"]})
    Z = prep.transform(new)
    np.testing.assert_array_equal(Z[:, 1:], [[0, 0], [1, 0]])


@pytest.mark.filterwarnings("error")
def test_missing_values_in_new_rows_use_training_fill():
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 10.0], "c": ["a", "b", "b", "b"]})
    _, prep = prepare(df, options=PrepOptions(log_transform=False))
    Z = prep.transform(pd.DataFrame({"x": [np.nan, "oops"], "c": [None, "a"]}))
    expected_x = (2.5 - df["x"].mean()) / df["x"].std(ddof=0)
    np.testing.assert_allclose(Z[:, 0], expected_x)
    np.testing.assert_array_equal(Z[:, 1:], [[0, 1], [1, 0]])


def test_transform_missing_column_is_input_error():
    df = pd.DataFrame({"x": [1.5, 2.0, 3.0], "y": [3.5, 1.0, 2.0]})
    _, prep = prepare(df)
    with pytest.raises(ColumnError, match="'y'") as info:
        prep.transform(df[["x"]])
    assert info.value.code == "missing_columns"


def test_infinite_values_treated_as_missing_with_warning():
    rng = np.random.default_rng(6)
    x = rng.normal(size=30)
    x[[2, 4]] = [np.inf, -np.inf]
    text = [f"{v:.3f}" for v in rng.normal(size=30)]
    text[5] = "1e309"  # overflows to inf when parsed
    df = pd.DataFrame({"x": x, "t": text})
    X, prep = prepare(df)
    assert np.isfinite(X).all()
    assert prep.imputed["x"] == 2
    assert prep.imputed["t"] == 1
    assert any("'x': 2 infinite" in w for w in prep.warnings)
    assert any("'t': 1 infinite" in w for w in prep.warnings)


def test_values_near_float_max_work_or_raise_overflow():
    rng = np.random.default_rng(7)
    df = pd.DataFrame(
        {
            "big": np.r_[[1e308, -1e308, 1.7e308, 1.5e308], rng.normal(size=26) * 1e307],
            "y": rng.normal(size=30),
        }
    )
    for options in (
        PrepOptions(),
        PrepOptions(scaling="robust"),
        PrepOptions(scaling="none"),
        PrepOptions(log_transform=True),
    ):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)
                X, prep = prepare(df, options=options)
        except InputError as exc:
            assert exc.code == "overflow"
            assert "too large" in str(exc)
        else:
            assert np.isfinite(X).all()
            back = prep.inverse_transform(X)
            np.testing.assert_allclose(back["big"], df["big"], rtol=1e-9)


@pytest.mark.parametrize(
    ("columns", "code"),
    [
        (["nope"], "unknown_columns"),
        (["income", "income"], "duplicate_columns"),
        (["customer_id"], "unusable_column"),
        (["blank"], "no_features"),
        (["country"], "no_features"),
    ],
)
def test_bad_column_choices_are_input_errors(columns, code):
    with pytest.raises(InputError) as info:
        prepare(_customers(), columns)
    assert info.value.code == code
    assert len(str(info.value)) > 20


def test_single_column_name_as_string():
    X, prep = prepare(_customers(), "income")
    assert prep.numeric == ["income"]
    assert X.shape == (60, 1)


def test_hand_chosen_roles_are_used_sensibly():
    df = _customers()
    X, prep = prepare(df, ["tier", "row_number", "sparse", "country"])
    assert prep.categorical == ["tier"]  # a category code becomes one-hot
    assert "row_number" in prep.numeric  # an integer ID chosen by hand is a number
    assert "sparse" in prep.numeric  # mostly-missing numbers stay numbers
    assert prep.imputed["sparse"] == len(df) - 4
    assert any("'country' was left out" in w for w in prep.warnings)
    assert np.isfinite(X).all()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (pd.DataFrame({"a": []}), "no_rows"),
        (np.ones((3, 2)), "not_a_table"),
        (pd.DataFrame({"id": [f"x{i}" for i in range(30)]}), "no_features"),
    ],
)
def test_bad_tables(data, code):
    with pytest.raises(InputError) as info:
        prepare(data)
    assert info.value.code == code


@pytest.mark.parametrize("options", [PrepOptions(scaling="minmax"), PrepOptions(impute="zero")])
def test_bad_options(options):
    with pytest.raises(InputError, match="must be") as info:
        prepare(_customers(), options=options)
    assert info.value.code == "bad_option"


def test_non_string_column_names():
    rng = np.random.default_rng(8)
    df = pd.DataFrame(rng.normal(size=(20, 3)))
    X, prep = prepare(df)
    assert prep.numeric == ["0", "1", "2"]
    assert X.shape == (20, 3)


def test_preparer_dict_round_trip():
    df = _customers()
    X, prep = prepare(df, options=PrepOptions(log_transform=["income"]))
    from analytics import Preparer

    again = Preparer.from_dict(prep.to_dict())
    np.testing.assert_array_equal(again.transform(df), X)


def test_integer_codes_read_back_as_floats_match_their_category() -> None:
    """A code column stored as 1, 2, 3 in training and as 1.0, 2.0 (gaps) in new data."""
    train = pd.DataFrame({"region": [1, 2, 3] * 20, "spend": np.arange(60.0)})
    X, prep = prepare(train, ["region", "spend"])
    assert prep.categorical == ["region"]
    new = pd.DataFrame({"region": [1.0, 2.0, np.nan, 3.0], "spend": [1.0, 2.0, 3.0, 4.0]})
    Xn = prep.transform(new)
    onehot = Xn[:, len(prep.numeric) :]
    assert onehot.sum(axis=1).tolist() == [1.0, 1.0, 1.0, 1.0]  # no row left as "unseen"
    assert onehot[0].tolist() == X[0, len(prep.numeric) :].tolist()


def test_category_codes_written_as_text_numbers_match_their_category() -> None:
    """A new file read as text ('1.0', ' 2') still scores codes learned as 1, 2, 3."""
    train = pd.DataFrame({"region": [1, 2, 3] * 20, "spend": np.arange(60.0)})
    X, prep = prepare(train, ["region", "spend"])
    new = pd.DataFrame({"region": ["1.0", " 2", "3", "9"], "spend": [1.0, 2.0, 3.0, 4.0]})
    onehot = prep.transform(new)[:, len(prep.numeric) :]
    assert onehot.argmax(axis=1)[:3].tolist() == [0, 1, 2]
    assert onehot.sum(axis=1).tolist() == [1.0, 1.0, 1.0, 0.0]  # 9 was never seen


def test_fit_twice_gives_the_same_state_and_warnings():
    # scikit-learn's contract: fit is idempotent (warnings used to accumulate).
    from analytics import Preparer

    df = _customers()
    df["flat"] = 1.0
    cols = ["income", "age", "score", "region", "country", "flat", "tier"]
    prep = Preparer(columns=cols, options=PrepOptions(log_transform=True))
    first = prep.fit(df).to_dict()
    second = prep.fit(df).to_dict()
    assert first == second
    assert len(second["warnings"]) == len(set(second["warnings"])) >= 1


# ------------------------------------------------------ automatic log, resolution, flags


def _skewed_customers(n: int = 500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "spend": rng.lognormal(5, 1, n).round(2),  # money: strongly right-skewed
            "orders": rng.negative_binomial(1, 0.2, n),  # counts: skewed, spike at 0
            "age": rng.normal(45, 12, n).round(),  # symmetric whole numbers
            "balance": rng.normal(0, 1, n) ** 3,  # skewed both ways, has negatives
            "rating": rng.integers(1, 6, n),  # a 1..5 score
            "churned": (rng.random(n) < 0.1).astype(int),  # a 0/1 flag, skewness ~2.7
        }
    )


def test_strongly_skewed_non_negative_columns_are_logged_by_default_and_reported():
    df = _skewed_customers()
    X, prep = prepare(df, list(df.columns), roles={c: "numeric" for c in df.columns})
    assert prep.options.log_transform is True  # the one default
    # a flag and negative values are never logged; a symmetric score is not skewed
    assert prep.log_columns == ["spend", "orders"]
    assert df["churned"].skew() > 1.0 and df["balance"].skew() > 1.0
    for c in prep.log_columns:
        report = prep.log_report[c]
        assert report["automatic"] is True
        assert report["skew_before"] == pytest.approx(df[c].skew(), rel=1e-9)
        assert report["skew_before"] > AUTO_LOG_SKEW
        assert report["skew_after"] == pytest.approx(np.log1p(df[c]).skew(), rel=1e-9)
        assert abs(report["skew_after"]) < report["skew_before"]
        logged = np.log1p(df[c].to_numpy())
        j = prep.numeric.index(c)
        np.testing.assert_allclose(X[:, j], (logged - logged.mean()) / logged.std(), rtol=1e-10)
    sentence = next(w for w in prep.warnings if "log scale" in w)
    for c in ("spend", "orders"):
        r = prep.log_report[c]
        assert f"'{c}' (skewness {r['skew_before']:.1f}, {r['skew_after']:.1f} after)" in sentence
    table = prep.log_table()
    assert table["column"].tolist() == ["spend", "orders"]
    assert table["reason"].str.contains("above 1").all()
    # the raw values are one option away
    _, raw = prepare(df, options=PrepOptions(log_transform=False))
    assert raw.log_columns == [] and raw.log_report == {}


def test_every_entry_point_shares_the_preparation_default():
    from analytics import anomaly_scores, sample_synthetic, segment, sweep_k  # noqa: F401
    from analytics.studies.anomaly import fit_anomaly_model
    from analytics.studies.synthetic import fit_synthesizer

    df = _skewed_customers(300)[["spend", "orders", "age"]]
    expected = prepare(df)[1].log_columns
    assert expected == ["spend", "orders"]
    fast = {"n_init": 1}
    assert segment(df, "kmeans", 2).preparer.log_columns == expected
    assert segment(df, "gmm", 2, **fast).preparer.log_columns == expected
    assert fit_anomaly_model(df, 2, **fast).segmentation.preparer.log_columns == expected
    assert fit_synthesizer(df, 2, **fast).segmentation.preparer.log_columns == expected
    sentence = next(w for w in prepare(df)[1].warnings if "log scale" in w)
    assert sentence in sweep_k(df, [2, 3], "kmeans").notes


def test_whole_number_columns_get_their_resolution_and_a_variance_floor():
    df = _skewed_customers()
    X, prep = prepare(df, list(df.columns), roles={c: "numeric" for c in df.columns})
    # rating 1..5, not logged: one step of 1 in prepared units is 1 / sd
    assert prep.resolution["rating"] == pytest.approx(1 / df["rating"].std(ddof=0))
    # orders is logged: its mode is 0, the next value 1, so the step is log(2) / sd(log1p)
    mode = df["orders"].mode()[0]
    assert mode == 0
    assert prep.resolution["orders"] == pytest.approx(
        np.log1p(1) / np.log1p(df["orders"]).std(ddof=0)
    )
    assert "balance" not in prep.resolution  # not whole numbers: continuous
    assert prep.flags == ["churned"]
    floor = prep.variance_floor(1e-6)
    j = prep.numeric.index("rating")
    assert floor[j] == pytest.approx(prep.resolution["rating"] ** 2 / 12)
    assert floor[prep.numeric.index("balance")] == 1e-6


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0, 1e6, allow_nan=False), min_size=25, max_size=60),
    st.integers(0, 3),
)
def test_automatic_log_follows_the_documented_rule(values, power):
    x = pd.Series(values) ** (1 + power)  # powers make some columns strongly skewed
    df = pd.DataFrame({"x": x, "y": np.arange(len(x)) % 7})
    if x.nunique() < 2 or not np.isfinite(x).all():
        return
    _, prep = prepare(df, ["x", "y"], roles={"x": "numeric", "y": "numeric"})
    if "x" not in prep.numeric:
        return
    top = float(x.abs().max())
    before = (x / top).skew()
    logged = np.log1p(x)
    after = (logged / float(logged.abs().max())).skew()
    want = before > AUTO_LOG_SKEW and abs(after) < abs(before) and x.nunique() > 2
    assert ("x" in prep.log_columns) == want
    if want:
        assert prep.log_report["x"]["skew_before"] == pytest.approx(before)
