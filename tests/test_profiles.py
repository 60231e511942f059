"""Profiles, effect sizes, descriptions, targeting and 2-D projections (analytics.studies.profiles)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.decomposition import PCA

from analytics import InputError, segment
from analytics.studies.profiles import (
    ambiguous_rows,
    assignment_strength,
    centres_and_profiles,
    describe_segment,
    effect_sizes,
    ellipse_points,
    feature_profile,
    projection_2d,
    segment_profiles,
    strength_name,
    target_mask,
    target_rows,
    top_effects,
)


def _customers(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Two clear groups: low income / high score and high income / low score."""
    rng = np.random.default_rng(seed)
    h = n // 2
    return pd.DataFrame(
        {
            "customer_id": np.arange(1000, 1000 + n),
            "income": np.r_[rng.normal(30, 5, h), rng.normal(80, 8, n - h)],
            "score": np.r_[rng.normal(70, 8, h), rng.normal(20, 6, n - h)],
            "age": rng.integers(18, 70, n).astype("float64"),
            "region": np.r_[rng.choice(["North", "South"], h, p=[0.9, 0.1]),
                            rng.choice(["North", "South"], n - h, p=[0.1, 0.9])],
        }
    )  # fmt: skip


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    d = _customers()
    d.loc[3, "income"] = np.nan  # a missing value is left out of means and d
    return d


@pytest.fixture(scope="module")
def gmm(df):
    return segment(df, "gmm", 2, columns=["income", "score", "age", "region"])


@pytest.fixture(scope="module")
def kmeans(df):
    return segment(df, "kmeans", 3, columns=["income", "score", "age", "region"])


def _cohen_d(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    sp = np.sqrt(
        ((a.size - 1) * a.var(ddof=1) + (b.size - 1) * b.var(ddof=1)) / (a.size + b.size - 2)
    )
    return (a.mean() - b.mean()) / sp


def test_effect_sizes_equal_hand_computation(df, kmeans):
    eff = effect_sizes(kmeans)
    for j in range(1, kmeans.k + 1):
        inside = kmeans.labels == j
        for c in ("income", "score", "age"):
            x = df[c].to_numpy(dtype="float64")
            row = eff[(eff["segment"] == j) & (eff["feature"] == c)].iloc[0]
            assert row["effect"] == pytest.approx(_cohen_d(x[inside], x[~inside]), rel=1e-9)
            assert row["segment_value"] == pytest.approx(np.nanmean(x[inside]))
            assert row["rest_value"] == pytest.approx(np.nanmean(x[~inside]))
        for v in ("North", "South"):
            row = eff[(eff["segment"] == j) & (eff["level"] == v)].iloc[0]
            is_v = (df["region"] == v).to_numpy()
            assert row["kind"] == "category"
            assert row["effect"] == pytest.approx(is_v[inside].mean() - is_v[~inside].mean())


def test_profiles_sizes_means_and_z(df, gmm):
    prof = segment_profiles(gmm)
    assert prof.index.tolist() == [1, 2]
    assert prof["size"].tolist() == np.bincount(gmm.labels)[1:].tolist()
    assert prof["share"].sum() == pytest.approx(1.0)
    inc = df["income"].to_numpy()
    for j in (1, 2):
        m = np.nanmean(inc[gmm.labels == j])
        assert prof.loc[j, "income mean"] == pytest.approx(m)
        assert prof.loc[j, "income z-score"] == pytest.approx(
            (m - np.nanmean(inc)) / np.nanstd(inc, ddof=1)
        )
        top = df["region"][gmm.labels == j].value_counts()
        assert prof.loc[j, "region most common"] == top.index[0]
        assert prof.loc[j, "region most common share"] == pytest.approx(top.iloc[0] / top.sum())
    means, z = feature_profile(gmm)
    assert list(z.columns) == ["income", "score", "age", "region=North", "region=South"]
    p = (df["region"] == "North").mean()
    share1 = (df["region"][gmm.labels == 1] == "North").mean()
    assert means.loc[1, "region=North"] == pytest.approx(share1)
    assert z.loc[1, "region=North"] == pytest.approx((share1 - p) / np.sqrt(p * (1 - p)))


def test_centres_and_profiles_has_every_segment(gmm):
    out = centres_and_profiles(gmm)
    assert out["segment"].tolist() == [1, 2]
    assert {"income centre", "region most common", "income mean", "size"} <= set(out.columns)
    # Categories are profiled but are not part of a Gaussian mixture, so they have no centre.
    assert "region centre" not in out.columns


def test_description_words_follow_thresholds(df, gmm):
    text = describe_segment(gmm, 1)
    share = (gmm.labels == 1).mean()
    assert text.endswith(f"; {share:.0%} of customers")
    eff = effect_sizes(gmm)
    d_inc = eff[(eff["segment"] == 1) & (eff["feature"] == "income")]["effect"].iloc[0]
    assert abs(d_inc) > 1.0  # the groups are far apart
    assert ("much higher income" if d_inc > 0 else "much lower income") in text
    assert "age" not in text  # age does not differ between the groups (|d| < 0.5)
    # Hand-made effects exercise each word band and the cap on named features.
    fake = pd.DataFrame(
        {
            "segment": 1,
            "feature": ["a", "b", "c", "d", "e"],
            "level": "",
            "kind": "numeric",
            "segment_value": 0.0,
            "rest_value": 0.0,
            "effect": [0.7, -1.2, 0.3, -0.6, 2.0],
        }
    )
    words = describe_segment(gmm, 1, effects=fake)
    assert words.startswith("much higher e, much lower b, higher a;")
    assert "lower d" not in words and " c" not in words.split(";")[0]
    flat = fake.assign(effect=0.1)
    assert describe_segment(gmm, 1, effects=flat).startswith("close to the average")


def test_description_mentions_a_dominant_category(gmm):
    text = " ".join(describe_segment(gmm, j, max_features=4) for j in (1, 2))
    assert "mostly region North" in text and "mostly region South" in text


def test_bad_segment_number_is_an_input_error(gmm):
    with pytest.raises(InputError, match="segments are numbered 1 to 2"):
        describe_segment(gmm, 3)
    with pytest.raises(InputError):
        target_rows(gmm, 1, 1.5)


def test_ambiguous_mask_matches_definition():
    proba = np.array([[0.5, 0.45, 0.05], [0.9, 0.05, 0.05], [0.34, 0.33, 0.33], [0.6, 0.0, 0.4]])
    assert ambiguous_rows(proba, 0.1).tolist() == [True, False, True, False]
    assert ambiguous_rows(proba, 0.25).tolist() == [True, False, True, True]
    assert not ambiguous_rows(np.ones((3, 1))).any()
    assert not ambiguous_rows(np.eye(3)).any()  # k-means one-hot


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 6), st.integers(1, 30), st.floats(0, 1), st.integers(0, 10_000))
def test_ambiguous_mask_property(k, n, margin, seed):
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet(np.ones(k), size=n)
    srt = np.sort(proba, axis=1)
    assert (ambiguous_rows(proba, margin) == (srt[:, -1] - srt[:, -2] <= margin)).all()


@pytest.mark.parametrize("p", [0.0, 0.5, 0.9, 0.999, 1.0])
def test_target_rows_are_exactly_the_confident_members(gmm, p):
    for s in (1, 2):
        want = (gmm.labels == s) & (gmm.proba[:, s - 1] >= p)
        got = target_rows(gmm, s, p)
        table = gmm.table()
        assert got.index.tolist() == table.index[want].tolist()
        pd.testing.assert_frame_equal(got, table[want])
        assert int(target_mask(gmm, s, p).sum()) == int(want.sum())


def test_ellipse_of_known_covariance_has_right_axes():
    # Eigenvalues 9 and 1 along the diagonals (rotated 45 degrees).
    r = np.array([[1, -1], [1, 1]]) / np.sqrt(2)
    cov = r @ np.diag([9.0, 1.0]) @ r.T
    mean = np.array([2.0, -1.0])
    for n_sigma in (1, 2, 3):
        pts = ellipse_points(mean, cov, n_sigma, n_points=400)
        assert np.allclose(pts[0], pts[-1])  # closed curve
        d = pts - mean
        radius = np.hypot(d[:, 0], d[:, 1])
        assert radius.max() == pytest.approx(3.0 * n_sigma, rel=1e-3)  # sqrt(9)
        assert radius.min() == pytest.approx(1.0 * n_sigma, rel=1e-3)
        far = d[radius.argmax()]
        assert abs(far[0]) == pytest.approx(abs(far[1]), rel=1e-2)  # major axis along y = x
        # Every point lies on the Mahalanobis contour n_sigma.
        maha = np.einsum("ij,jk,ik->i", d, np.linalg.inv(cov), d)
        assert np.allclose(maha, n_sigma**2)


def test_pca_projection_equals_sklearn(gmm):
    proj = projection_2d(gmm, sample=10_000)
    assert not proj.sampled and proj.kind == "pca"
    ref = PCA(n_components=2, random_state=0).fit_transform(gmm.X)
    assert np.allclose(proj.points[["x", "y"]].to_numpy(), ref[proj.points["row"].to_numpy()])
    assert proj.points["segment"].tolist() == gmm.labels.tolist()
    assert np.allclose(proj.points["segment_probability"], gmm.proba.max(axis=1))


@pytest.mark.parametrize("cov_type", ["full", "tied", "diag", "spherical"])
def test_pca_ellipses_are_projected_covariances(df, cov_type):
    seg = segment(df, "gmm", 2, columns=["income", "score", "age"], covariance_type=cov_type)
    proj = projection_2d(seg, sigmas=(1,))
    pca = PCA(n_components=2, random_state=0).fit(seg.X)
    W = pca.components_
    cov = np.asarray(seg.estimator.covariances_)
    p = seg.X.shape[1]
    for j in range(2):
        comp = seg.order[j]
        if cov_type == "full":
            full = cov[comp]
        elif cov_type == "tied":
            full = cov
        elif cov_type == "diag":
            full = np.diag(cov[comp])
        else:
            full = np.eye(p) * cov[comp]
        e = proj.ellipses[proj.ellipses["segment"] == j + 1][["x", "y"]].to_numpy()
        mean2 = (seg.estimator.means_[comp] - pca.mean_) @ W.T
        want = ellipse_points(mean2, W @ full @ W.T, 1)
        assert np.allclose(e, want)


def test_column_view_is_in_original_units_with_ellipses(df, gmm):
    proj = projection_2d(gmm, "income", "score")
    filled = df["income"].fillna(gmm.preparer.fill["income"])
    assert np.allclose(proj.points["x"], filled)
    assert np.allclose(proj.points["y"], df["score"])
    assert proj.note is None and len(proj.ellipses)
    # Each 1-sigma ellipse sits on the component's mean in original units.
    e1 = proj.ellipses[(proj.ellipses["segment"] == 1) & (proj.ellipses["n_sigma"] == 1)]
    centre = gmm.centers.loc[1, ["income", "score"]].to_numpy(dtype="float64")
    assert np.allclose(e1[["x", "y"]].to_numpy()[:-1].mean(axis=0), centre, rtol=1e-3)


def test_log_columns_get_points_but_no_ellipses(df):
    seg = segment(df, "gmm", 2, columns=["income", "score"], log_transform=["income"])
    proj = projection_2d(seg, "income", "score")
    assert proj.ellipses.empty and "log-transformed" in proj.note
    assert np.allclose(proj.points["x"], df["income"].fillna(np.expm1(seg.preparer.fill["income"])))


def test_non_gmm_has_no_ellipses_and_unknown_column_is_refused(kmeans):
    assert projection_2d(kmeans).ellipses.empty
    with pytest.raises(InputError, match="not a numeric feature"):
        projection_2d(kmeans, "region", "score")


def test_sample_is_capped_and_keeps_small_segments():
    rng = np.random.default_rng(1)
    big = pd.DataFrame({"a": np.r_[rng.normal(0, 1, 5000), rng.normal(12, 0.5, 12)],
                        "b": np.r_[rng.normal(0, 1, 5000), rng.normal(12, 0.5, 12)]})  # fmt: skip
    seg = segment(big, "kmeans", 3)
    proj = projection_2d(seg, sample=500, random_state=3)
    assert proj.sampled and proj.n_total == 5012
    assert 500 <= len(proj.points) <= 512
    drawn = np.bincount(proj.points["segment"], minlength=seg.k + 1)[1:]
    assert (drawn >= np.minimum(seg.sizes, 30)).all()  # small segments stay visible
    assert proj.points["row"].is_monotonic_increasing and proj.points["row"].is_unique
    again = projection_2d(seg, sample=500, random_state=3)
    assert proj.points["row"].tolist() == again.points["row"].tolist()


def test_top_effects_ranks_numbers_and_categories_separately(gmm):
    eff = effect_sizes(gmm)
    top = top_effects(eff, 1, n_numeric=2, n_category=1)
    assert top["kind"].tolist() == ["numeric", "numeric", "category"]
    mine = eff[(eff["segment"] == 1) & (eff["kind"] == "numeric")]
    assert set(top["feature"][:2]) == set(
        mine.loc[mine["effect"].abs().nlargest(2).index, "feature"]
    )


# ------------------------------------------------------------ targeting per method's quantity


def test_kmeans_targeting_uses_the_margin_to_the_next_centre(df):
    seg = segment(df, "kmeans", 3, columns=["income", "score", "age"])
    d = seg.distances
    # hand-computed: 1 - (nearest distance) / (second nearest distance)
    srt = np.sort(d, axis=1)
    margin = 1.0 - srt[:, 0] / srt[:, 1]
    np.testing.assert_allclose(assignment_strength(seg), margin)
    assert strength_name(seg) == "margin"
    for p in (0.0, 0.3, 0.7):
        want = (seg.labels == 1) & (margin >= p)
        np.testing.assert_array_equal(target_mask(seg, 1, p), want)
        got = target_rows(seg, 1, p)
        pd.testing.assert_frame_equal(got, seg.table()[want])
        assert not any(c.startswith("prob_") for c in got.columns)
    np.testing.assert_array_equal(ambiguous_rows(seg, 0.2), margin <= 0.2)
    # a one-hot matrix has no near ties; the margin finds the rows near a border
    assert not ambiguous_rows(seg.proba).any()
    assert ambiguous_rows(seg, 0.2).any()


def test_fcm_targeting_uses_memberships(df):
    seg = segment(df, "fcm", 3, columns=["income", "score", "age"])
    own = seg.memberships[np.arange(len(seg.labels)), seg.labels - 1]
    assert strength_name(seg) == "membership" and seg.probabilities is None
    np.testing.assert_array_equal(target_mask(seg, 2, 0.6), (seg.labels == 2) & (own >= 0.6))
    got = target_rows(seg, 2, 0.6)
    assert "segment_membership" in got.columns and "membership_segment_1" in got.columns
    with pytest.raises(InputError, match="minimum membership"):
        target_mask(seg, 1, 2.0)


def test_segment_names_flow_into_tables_and_targets(gmm):
    gmm.names = {2: "Big spenders"}
    try:
        assert gmm.segment_names == {1: "Segment 1", 2: "Big spenders"}
        t = gmm.table()
        assert (t.loc[gmm.labels == 2, "segment_name"] == "Big spenders").all()
        assert (t.loc[gmm.labels == 1, "segment_name"] == "Segment 1").all()
        assert (target_rows(gmm, 2, 0.0)["segment_name"] == "Big spenders").all()
        other = gmm.table(names={1: "Loyal"})
        assert (other.loc[gmm.labels == 1, "segment_name"] == "Loyal").all()
        with pytest.raises(InputError, match="segments 1..2"):
            gmm.names = {3: "Nobody"}
        with pytest.raises(InputError, match="name of segment 1"):
            gmm.table(names={1: "  "})
    finally:
        gmm.names = {}


# --------------------------------------------------------------------------- business words


def test_numbers_for_cards_have_separators_sensible_rounding_and_no_scientific_notation():
    from analytics.studies.profiles import format_number

    assert format_number(12510) == "12,510"
    assert format_number(12510.4) == "12,510"
    assert format_number(1.915e-15, scale=1.0) == "0"  # within rounding of 0
    assert format_number(-1e-9, scale=0.3) == "0"  # never "-0"
    assert format_number(38.85) == "38.9"
    assert format_number(0.4567) == "0.457"
    assert format_number(1_234_567.891) == "1,234,568"
    assert format_number(float("nan")) == "–"
    # Decimals follow the column's spread, not the value: 60.56 on a spread of 26.
    assert format_number(60.56, scale=26.3) == "60.6"
    assert format_number(2.5e-7, scale=1e-6) == "0"  # at most 6 decimals
    assert format_number(0.00456) == "0.00456"


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False))
@settings(max_examples=200, deadline=None)
def test_formatted_numbers_read_back_within_rounding(v):
    from analytics.studies.profiles import format_number

    text = format_number(v)
    assert "e" not in text.lower()
    back = float(text.replace(",", ""))
    decimals = len(text.split(".")[1]) if "." in text else 0
    # Off by at most half a unit of the last digit shown (6 decimals at most) ...
    assert abs(back - v) <= 0.5 * 10.0 ** -max(decimals, 0 if text != "0" else 6) * (1 + 1e-9)
    # ... which is three significant digits or more for anything from 0.0001 up.
    if abs(v) >= 1e-4:
        assert abs(back - v) <= 5e-3 * abs(v) * (1 + 1e-9)


def test_counts_and_differences_in_words():
    from analytics.studies.profiles import count_phrase, difference_phrase

    assert count_phrase(1) == "1 customer"
    assert count_phrase(0) == "0 customers"
    assert count_phrase(2000) == "2,000 customers"
    assert difference_phrase(24.0, 10.0, "numeric") == "2.4× the average"
    assert difference_phrase(6.0, 10.0, "numeric") == "0.6× the average"
    assert difference_phrase(10.2, 10.0, "numeric") == "about the average"
    assert difference_phrase(0.55, 0.43, "category") == "+12 points"
    assert difference_phrase(0.30, 0.43, "category") == "-13 points"
    # Values that can be negative get a difference in units, not a ratio.
    assert difference_phrase(1.5, -0.5, "numeric", scale=1.0) == "+2.00 vs the average"
    assert difference_phrase(-1.5, 0.0, "numeric", scale=1.0) == "-1.50 vs the average"


def test_profile_comparison_matches_pandas_in_original_units(df, gmm):
    from analytics.studies.profiles import profile_comparison

    comp = profile_comparison(gmm, 1)
    num = comp[comp["kind"] == "numeric"].set_index("feature")
    mask = gmm.labels == 1
    for c in num.index:
        assert num.at[c, "segment_value"] == pytest.approx(df.loc[mask, c].mean())
        assert num.at[c, "average"] == pytest.approx(df[c].mean())
    cat = comp[comp["kind"] == "category"]
    for r in cat.itertuples():
        level = r.label.split(": ", 1)[1]
        assert r.average == pytest.approx((df["region"] == level).mean())
        assert r.difference.endswith("points")
    assert comp["label"].iloc[0][0].isupper()  # readable ("Income", not "income")


def test_suggested_names_are_short_distinct_and_follow_the_profile(df, gmm):
    from analytics.studies.profiles import suggest_names

    names = suggest_names(gmm)
    assert sorted(names) == [1, 2] and len(set(names.values())) == 2
    eff = effect_sizes(gmm)
    for j, name in names.items():
        d = eff[(eff["segment"] == j) & (eff["feature"] == "income")]["effect"].iloc[0]
        assert ("High income" if d > 0 else "Low income") in name or (
            ("high income" if d > 0 else "low income") in name
        )


def test_special_words_and_average_segments():
    from analytics.studies.profiles import suggest_names

    rng = np.random.default_rng(1)
    n = 300
    young = np.r_[rng.normal(22, 2, n), rng.normal(60, 3, n)]
    frame = pd.DataFrame(
        {"Age": young, "Annual Income (k$)": np.r_[rng.normal(40, 5, n), rng.normal(90, 5, n)]}
    )
    seg = segment(frame, "kmeans", 2)
    names = suggest_names(seg)
    words = " ".join(names.values())
    assert "Young" in words and "Older" in words  # age has its own words
    assert "(k$)" not in words and "annual income" in words  # no bracketed unit
    # Pure noise: nothing sets the segments apart, yet the names stay distinct.
    noise = segment(pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)}),
                    "kmeans", 6)  # fmt: skip
    assert len(set(suggest_names(noise).values())) == 6


@given(st.integers(min_value=2, max_value=7), st.integers(min_value=0, max_value=10_000))
@settings(max_examples=12, deadline=None)
def test_names_and_descriptions_are_always_distinct(k, seed):
    from analytics.studies.profiles import describe_segments, suggest_names

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=120),
            "y": rng.exponential(size=120),
            "c": rng.choice(["p", "q"], 120),
        }
    )
    seg = segment(frame, "kmeans", k, n_init=1, random_state=seed)
    names = suggest_names(seg)
    assert sorted(names) == list(range(1, k + 1))
    assert len({n.casefold() for n in names.values()}) == k
    texts = describe_segments(seg)
    assert len(texts) == k and len(set(texts)) == k
