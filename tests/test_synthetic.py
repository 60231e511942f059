"""sample_synthetic(): columns, dtypes, categories, shares, moments, seeds; fidelity and privacy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.charts.synthetic import (
    correlation_heatmaps,
    distance_histogram,
    overlay_histograms,
    scatter_overlay,
)
from analytics.errors import InputError
from analytics.model.fit import COVARIANCE_TYPES, segment
from analytics.studies.mixture import best_k_by_bic
from analytics.studies.synthetic import (
    MAX_ROWS,
    _draw,
    cramers_v,
    eta_squared,
    fidelity_report,
    fit_synthesizer,
    privacy_report,
    sample_synthetic,
)

FAST = {"n_init": 1}
NUMERIC = ["age", "income", "score", "visits"]


def customers(n: int = 800, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    age = np.array([35.0, 55.0, 25.0])[g] + rng.normal(0, 5, n)
    income = np.exp(np.array([10.8, 11.3, 10.2])[g] + 0.01 * (age - 40) + rng.normal(0, 0.2, n))
    score = np.array([50.0, 30.0, 80.0])[g] + 0.5 * (age - 40) + rng.normal(0, 6, n)
    region = np.where(
        rng.random(n) < np.array([0.7, 0.2, 0.4])[g],
        "North",
        np.where(rng.random(n) < 0.5, "South", "East"),
    )
    visits = rng.poisson(np.array([3.0, 8.0, 15.0])[g]).astype(float)
    visits[rng.random(n) < 0.05] = np.nan  # whole numbers with gaps: float dtype
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(n)],
            "age": np.clip(np.round(age), 18, 90).astype("int64"),
            "income": np.round(income, 2),
            "score": np.clip(np.round(score), 1, 100).astype("int64"),
            "visits": visits,
            "region": pd.Series(region, dtype="string"),
            "plan": pd.Categorical(rng.choice(["basic", "gold"], n, p=[0.8, 0.2])),
            "active": rng.random(n) < 0.6,
            "signup": pd.Series(pd.date_range("2020-01-01", periods=n, freq="D")),
            "note": [f"free text number {i}" for i in range(n)],
        }
    )


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return customers()


@pytest.fixture(scope="module")
def synth(real) -> pd.DataFrame:
    return sample_synthetic(real, 3000, k=3, random_state=0, **FAST)


def test_columns_dtypes_and_index(real, synth):
    assert list(synth.columns) == list(real.columns)
    pd.testing.assert_series_equal(synth.dtypes, real.dtypes)
    assert synth.index.equals(pd.RangeIndex(3000))


def test_values_are_plausible(real, synth):
    for c in NUMERIC:
        s = synth[c].dropna()
        assert s.min() >= real[c].min() and s.max() <= real[c].max()
    assert (synth["visits"].dropna() % 1 == 0).all()  # whole numbers stay whole
    assert (np.round(synth["income"], 2) == synth["income"]).all()  # observed precision
    assert set(synth["region"]) <= set(real["region"])
    assert list(synth["plan"].cat.categories) == list(real["plan"].cat.categories)
    assert set(synth["active"]) <= {True, False}


def test_non_feature_columns(real, synth):
    assert synth["customer_id"].iloc[0] == "SYN-000001"
    assert synth["customer_id"].is_unique
    assert not set(synth["customer_id"]) & set(real["customer_id"])
    assert synth["note"].isna().all()  # free text is never copied
    assert set(synth["signup"]) <= set(real["signup"])  # drawn from its own values


def test_numeric_ids_continue_after_the_largest():
    df = customers(200, seed=1).drop(columns=["customer_id"])
    df.insert(0, "customer_id", np.arange(1001, 1201))
    out = sample_synthetic(df, 50, k=2, **FAST)
    assert out["customer_id"].dtype == np.int64
    assert out["customer_id"].tolist() == list(range(1201, 1251))


def test_shares_means_and_correlations_match(real, synth):
    rep = fidelity_report(real, synth)
    num = rep["numeric"].set_index("column")
    for c in NUMERIC:
        sd = num.at[c, "real_sd"]
        assert abs(num.at[c, "synthetic_mean"] - num.at[c, "real_mean"]) < 0.1 * sd, c
        assert abs(num.at[c, "synthetic_sd"] / sd - 1) < 0.15, c
        assert num.at[c, "ks_statistic"] < 0.12, c
    cat = rep["categorical"]
    assert cat["difference"].abs().max() < 0.05
    assert rep["correlation"]["difference"].abs().max() < 0.12
    # Missing values are reproduced at the observed rate.
    assert abs(num.at["visits", "synthetic_missing"] - num.at["visits", "real_missing"]) < 0.02
    summary = rep["summary"].set_index("measure")
    assert summary.at["largest KS statistic", "value"] == pytest.approx(num["ks_statistic"].max())


def test_same_seed_same_rows(real):
    synth = fit_synthesizer(real, k=3, random_state=0, **FAST)
    a = synth.sample(200, random_state=5)
    b = synth.sample(200, random_state=5)
    pd.testing.assert_frame_equal(a, b)
    c = synth.sample(200, random_state=6)
    assert not a[NUMERIC].equals(c[NUMERIC])
    pd.testing.assert_frame_equal(
        sample_synthetic(real, 100, k=3, random_state=3, **FAST),
        sample_synthetic(real, 100, k=3, random_state=3, **FAST),
    )


def test_rows_are_shuffled_and_segments_honoured(real):
    synth = fit_synthesizer(real, k=3, random_state=0, **FAST)
    out = synth.sample(600, segments=[1, 3], random_state=0)
    assert set(out["segment"]) == {1, 3}
    # Not grouped by component (scikit-learn's sample() returns them grouped).
    assert (np.diff(out["segment"].to_numpy()) != 0).sum() > 100
    only2 = synth.sample(2000, segments=[2], random_state=0)
    centers = synth.segmentation.centers
    for c in ["age", "score"]:
        sd = real[c].std()
        assert abs(only2[c].mean() - centers.at[2, c]) < 0.15 * sd


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
def test_draws_have_the_mixture_moments(cov):
    # Closed form: mean = sum w mu; cov = sum w (Sigma + mu mu') - mean mean'.
    df = customers(300, seed=2)
    seg = segment(df, "gmm", 3, ["age", "income", "score"], covariance_type=cov, **FAST)
    m = seg.estimator
    k, p = m.means_.shape
    cov_full = {
        "full": lambda c: c,
        "tied": lambda c: np.broadcast_to(c, (k, p, p)),
        "diag": lambda c: np.stack([np.diag(v) for v in c]),
        "spherical": lambda c: c[:, None, None] * np.eye(p),
    }[cov](m.covariances_)
    mean = m.weights_ @ m.means_
    second = sum(
        w * (S + np.outer(mu, mu)) for w, mu, S in zip(m.weights_, m.means_, cov_full, strict=True)
    )
    Z, labels = _draw(seg, 40_000, None, np.random.default_rng(0))
    np.testing.assert_allclose(Z.mean(axis=0), mean, atol=0.03)
    np.testing.assert_allclose(np.cov(Z.T, bias=True), second - np.outer(mean, mean), atol=0.05)
    shares = np.bincount(labels, minlength=k + 1)[1:] / len(labels)
    np.testing.assert_allclose(shares, m.weights_[seg.order], atol=0.01)


def test_k_by_bic_finds_separated_groups():
    rng = np.random.default_rng(0)
    centers = np.array([[0, 0], [8, 0], [0, 8]])
    X = np.vstack([c + rng.normal(size=(100, 2)) for c in centers])
    df = pd.DataFrame(X, columns=["a", "b"])
    seg, table = best_k_by_bic(df, ks=range(1, 6), **FAST)
    assert seg.k == 3
    assert table["bic"].idxmin() == table.index[table["k"] == 3][0]


def test_tiny_outlier_segment_is_not_copied():
    df = customers(300, seed=3)[["age", "income", "score"]].copy()
    df.loc[0, "income"] = 9_000_000.0
    synth = fit_synthesizer(df, k=4, random_state=0, n_init=2)
    out = synth.sample(3000, random_state=0)
    assert out["income"].max() < 1_000_000
    assert any("no rows are drawn" in w for w in synth.warnings)


def test_privacy_report_flags_copies_but_not_genuine_draws(real, synth):
    rep = privacy_report(real, synth)
    s = rep["summary"].set_index("measure")["value"]
    assert s["near-copies"] / s["synthetic rows checked"] < 0.05
    assert s["exact copies"] == 0
    d = rep["distances"]
    assert set(d["source"]) == {"synthetic to real", "real to real"}
    copies = real.sample(300, random_state=0).reset_index(drop=True)
    rep2 = privacy_report(real, copies)
    s2 = rep2["summary"].set_index("measure")["value"]
    assert s2["exact copies"] == 300 and s2["near-copies"] == 300
    assert len(rep2["near_copies"]) == 300


def test_fidelity_report_reference_values():
    rng = np.random.default_rng(0)
    a = pd.DataFrame({"x": rng.normal(0, 1, 4000), "y": rng.normal(0, 1, 4000)})
    same = fidelity_report(a, a)
    assert same["numeric"]["ks_statistic"].max() == 0
    assert same["correlation"]["difference"].abs().max() == 0
    shifted = a + 1.0
    rep = fidelity_report(a, shifted)["numeric"].set_index("column")
    assert rep.at["x", "wasserstein_sd"] == pytest.approx(1.0 / a["x"].std(ddof=0), rel=1e-9)
    # KS of N(0,1) vs N(1,1) is 2*Phi(0.5) - 1 = 0.383
    assert rep.at["x", "ks_statistic"] == pytest.approx(0.383, abs=0.03)


@pytest.mark.parametrize("n", [0, -5, MAX_ROWS + 1, 2.5, "10", True])
def test_bad_n(real, n):
    with pytest.raises(InputError) as err:
        sample_synthetic(real, n, k=2)
    assert err.value.code == "bad_n"


@pytest.mark.parametrize("segments", [[0], [4], [], ["x"], [1.5]])
def test_bad_segments(real, segments):
    synth = fit_synthesizer(real, k=3, **FAST)
    with pytest.raises(InputError) as err:
        synth.sample(10, segments=segments)
    assert err.value.code == "bad_segments"


def test_other_dtypes_round_trip():
    rng = np.random.default_rng(4)
    n = 300
    df = pd.DataFrame(
        {
            "count": pd.array(rng.integers(0, 20, n), dtype="Int64"),
            "amount_text": pd.Series([f"{v:.1f}" for v in rng.gamma(2, 50, n)], dtype="string"),
            "small": rng.normal(0, 1, n).astype("float32"),
            "region_code": rng.choice([1, 2, 3], n),
        }
    )
    df.loc[::10, "count"] = pd.NA
    out = sample_synthetic(
        df, 500, k=2, columns=["count", "amount_text", "small", "region_code"], **FAST
    )
    pd.testing.assert_series_equal(out.dtypes, df.dtypes)
    assert 0.05 < out["count"].isna().mean() < 0.16
    assert set(out["region_code"]) <= {1, 2, 3}
    assert out["amount_text"].str.fullmatch(r"\d+\.\d").all()


def test_charts(real, synth):
    fig = overlay_histograms(real, synth, columns=["age", "income", "region"])
    assert len(fig.data) == 6
    assert {t.type for t in fig.data} == {"histogram", "bar"}
    bars = [t for t in fig.data if t.type == "bar" and t.name == "real"][0]
    shares = real["region"].value_counts(normalize=True)
    assert dict(zip(bars.x, bars.y, strict=True)) == pytest.approx(shares.to_dict())
    sc = scatter_overlay(real, synth, x="age", y="score", max_points=500)
    assert [len(t.x) for t in sc.data] == [500, 500]
    assert "showing" in sc.layout.title.text
    hm = correlation_heatmaps(real, synth, columns=NUMERIC + ["region"])
    assert len(hm.data) == 3 and np.asarray(hm.data[0].z).shape == (4, 4)
    np.testing.assert_allclose(np.asarray(hm.data[0].z), real[NUMERIC].corr().to_numpy())
    rep = privacy_report(real, synth)
    line = rep["summary"].set_index("measure").at["near-copy line", "value"]
    dh = distance_histogram(rep["distances"], line=line)
    assert len(dh.data) == 2


# ------------------------------------------------ categories drawn per mixture component


def _channel_table(n: int = 900, seed: int = 0) -> pd.DataFrame:
    """A channel that explains ~90% of the age variance, and a flag tied to it."""
    rng = np.random.default_rng(seed)
    channel = rng.choice(["store", "web", "phone"], n, p=[0.4, 0.35, 0.25])
    mean_age = pd.Series(channel).map({"store": 65.0, "web": 25.0, "phone": 45.0}).to_numpy()
    vip = (rng.random(n) < np.where(channel == "web", 0.7, 0.1)).astype("int64")
    channel = pd.Series(channel, dtype=object)
    channel[rng.random(n) < 0.05] = None  # missing values, more or less per channel
    return pd.DataFrame(
        {
            "channel": channel,
            "age": (mean_age + rng.normal(0, 4, n)).round(),
            "spend": rng.lognormal(4, 0.5, n).round(2),
            "vip": vip,
        }
    )


def test_eta_squared_and_cramers_v_known_answers():
    g = pd.Series(["a", "a", "b", "b"])
    x = pd.Series([1.0, 3.0, 5.0, 7.0])
    # group means 2 and 6, grand mean 4: between 4 * 4 = 16, total 9 + 1 + 1 + 9 = 20
    assert eta_squared(g, x) == pytest.approx(16 / 20)
    assert eta_squared(g, pd.Series([1.0, 5.0, 1.0, 5.0])) == pytest.approx(0.0)
    same = pd.Series(["x", "y"] * 50)
    assert cramers_v(same, same.map({"x": "p", "y": "q"})) == pytest.approx(1.0)
    independent = pd.Series(["u", "u", "v", "v"] * 25)
    assert cramers_v(same, independent) == pytest.approx(0.0)


def test_synthetic_rows_keep_the_link_between_a_category_and_a_number():
    real = _channel_table()
    synth = sample_synthetic(real, 3000, random_state=1)
    assoc = fidelity_report(real, synth)["association"]
    row = assoc[(assoc["column_a"] == "channel") & (assoc["column_b"] == "age")].iloc[0]
    assert row["measure"] == "eta squared"
    assert row["real"] == pytest.approx(eta_squared(real["channel"], real["age"]))
    assert row["real"] > 0.85
    # drawn independently of the numbers (the old way) this was ~0; per component it is kept
    assert row["synthetic"] > 0.7, row
    vip = assoc[(assoc["column_a"] == "channel") & (assoc["column_b"] == "vip")].iloc[0]
    assert vip["synthetic"] > 0.5 * vip["real"] > 0.1
    # shares and missing values of the category are reproduced
    real_shares = real["channel"].value_counts(normalize=True, dropna=False)
    syn_shares = synth["channel"].value_counts(normalize=True, dropna=False)
    for label, share in real_shares.items():
        assert syn_shares.get(label, 0.0) == pytest.approx(share, abs=0.04)
    assert set(synth["channel"].dropna()) <= set(real["channel"].dropna())
    assert synth["vip"].isin([0, 1]).all() and synth["vip"].dtype == real["vip"].dtype
    summary = fidelity_report(real, synth)["summary"]
    assert "largest association difference" in summary["measure"].tolist()


def test_component_shares_are_the_posterior_weighted_shares():
    real = _channel_table(n=600, seed=2)
    synth = fit_synthesizer(real, k=3, **FAST)
    seg = synth.segmentation
    plan = next(p for p in synth.plans if p.name == "channel")
    r = seg.proba
    for v_idx, value in enumerate(plan.values):
        is_v = real["channel"].isna() if value is None else real["channel"] == value
        want = (r * is_v.to_numpy()[:, None]).sum(axis=0) / r.sum(axis=0)
        np.testing.assert_allclose(plan.shares[:, v_idx], want, atol=1e-12)
    np.testing.assert_allclose(plan.shares.sum(axis=1), 1.0)
