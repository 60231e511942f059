"""rfm(): hand-computed logs, the definitions against independent pandas code, scores
against pd.qcut, dates, errors, chunking and row-order invariance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics import ColumnError, InputError, rfm, rfm_with_report
from analytics.preparation import profile_columns
from analytics.studies.rfm import (
    OUTPUT_COLUMNS,
    RFM_GROUP_GRID,
    RFM_GROUPS,
    RFMColumns,
    guess_transaction_columns,
    quintile_scores,
    rfm_from_chunks,
    rfm_group,
)
from bench.case_rfm import LOG_COLUMNS, make_log, reference_rfm
from ui.data import SAMPLE_PATH


def log_frame(rows: list[tuple], columns: str = "invoice cust date amount") -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns.split())


# Invoice, customer, date, amount. Worked by hand below.
SMALL = log_frame(
    [
        ("1", "A", "2024-01-01", 10.0),
        ("1", "A", "2024-01-01", 5.0),  # the same order, a second line
        ("2", "A", "2024-01-10", 20.0),
        ("3", "A", "2024-01-10", -4.0),  # a return: -4 spend, not an order
        ("4", "B", "2024-01-05", 30.0),
        ("C5", "B", "2024-01-06", 30.0),  # a cancelled invoice: -30, not an order
        ("6", None, "2024-01-07", 99.0),  # no customer: left out
        ("7", "D", "2024-01-02", -8.0),  # D only returned: left out
        ("8", "E", "2024-01-10", 7.0),
        ("9", "E", "2024-01-10", 3.0),  # same day, another invoice: 2 orders
    ]
)


def test_small_log_by_hand() -> None:
    t, rep = rfm_with_report(SMALL, "cust", "date", amount="amount", invoice="invoice")
    # as_of = 2024-01-11, the day after the last date.
    expected = pd.DataFrame(
        {
            "cust": ["A", "B", "E"],
            "recency_days": [1, 6, 1],
            "frequency": [2, 1, 2],
            "monetary": [31.0, 0.0, 10.0],
            "tenure_days": [10, 6, 1],
            "avg_order_value": [15.5, 0.0, 5.0],
            # n = 3: ranks 1, 2, 3 score 1, 3, 5 (pd.qcut of the ranks); ties in order A, B, E.
            "r_score": [5, 1, 3],
            "f_score": [3, 1, 5],
            "m_score": [5, 1, 3],
        }
    )
    pd.testing.assert_frame_equal(
        t[expected.columns].astype({"cust": object}), expected, check_dtype=False
    )
    assert t["rfm_group"].tolist() == ["Potential loyalists", "Lost", "Loyal customers"]
    assert t["first_purchase"].tolist() == list(
        pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-10"])
    )
    assert t["last_purchase"].tolist() == list(
        pd.to_datetime(["2024-01-10", "2024-01-05", "2024-01-10"])
    )
    assert rep.rows_read == 10 and rep.rows_used == 9
    assert rep.dropped == {"no customer": 1}
    assert rep.return_rows == 3 and rep.cancelled_invoices == 1
    assert rep.customers == 3 and rep.customers_without_purchase == 1
    assert rep.as_of == "2024-01-11" and rep.as_of_default
    assert rep.first_date == "2024-01-01" and rep.last_date == "2024-01-10"
    text = " ".join(rep.lines())
    assert "1 line(s) left out: no customer" in text and "only returned" in text


def test_dtypes_are_documented_and_well_behaved() -> None:
    t = rfm(SMALL, "cust", "date", amount="amount", invoice="invoice")
    assert list(t.columns) == ["cust", *OUTPUT_COLUMNS]
    assert pd.api.types.is_string_dtype(t["cust"])
    for c in ("recency_days", "frequency", "tenure_days", "r_score", "f_score", "m_score"):
        assert t[c].dtype == "int64", c
    for c in ("monetary", "avg_order_value"):
        assert t[c].dtype == "float64", c
    assert isinstance(t["rfm_group"].dtype, pd.CategoricalDtype)
    assert list(t["rfm_group"].cat.categories) == list(RFM_GROUPS)
    assert pd.api.types.is_datetime64_any_dtype(t["last_purchase"])
    assert t.attrs["rfm_report"]["customers"] == 3


def test_quantity_times_price_with_online_retail_conventions() -> None:
    # Online Retail style: day-first text dates, numeric customer with gaps (float),
    # cancellations as C-invoices with negative quantities.
    log = pd.DataFrame(
        {
            "InvoiceNo": ["536365", "536365", "C536379", "536380", "536381", "536382"],
            "Quantity": [6, 2, -1, 3, 1, 4],
            "InvoiceDate": [
                "01/12/2010 08:26", "01/12/2010 08:26", "01/12/2010 09:41",
                "13/12/2010 10:00", "13/12/2010 11:00", "02/12/2010 12:00",
            ],
            "UnitPrice": [2.55, 3.39, 27.5, 1.25, 10.0, 5.0],
            "CustomerID": [17850.0, 17850.0, 17850.0, np.nan, 13047.0, 17850.0],
        }
    )  # fmt: skip
    t, rep = rfm_with_report(log, **LOG_COLUMNS)
    assert t["CustomerID"].tolist() == ["13047", "17850"]  # text, no ".0"
    row = t.set_index("CustomerID").loc["17850"]
    # 6*2.55 + 2*3.39 - 27.5 + 4*5 = 14.58; orders 536365 and 536382; last 02/12 -> as_of 14/12.
    assert row["monetary"] == pytest.approx(15.3 + 6.78 - 27.5 + 20.0)
    assert row["frequency"] == 2 and row["recency_days"] == 12 and row["tenure_days"] == 13
    other = t.set_index("CustomerID").loc["13047"]
    assert other["recency_days"] == 1 and other["monetary"] == 10.0
    assert rep.dayfirst is True and not rep.date_ambiguous
    assert "day/month/year" in rep.date_format and "above 12" in rep.date_format
    assert rep.dropped == {"no customer": 1} and rep.cancelled_invoices == 1


def test_without_invoice_orders_are_purchase_days() -> None:
    log = log_frame(
        [
            ("a", "2024-03-01 09:00", 5.0),
            ("a", "2024-03-01 17:30", 5.0),  # same day: one order
            ("a", "2024-03-04", 1.0),
            ("a", "2024-03-05", -1.0),  # a return on its own day: not an order
        ],
        "cust date amount",
    )
    t = rfm(log, "cust", "date", amount="amount")
    assert t["frequency"].tolist() == [2]
    assert t["monetary"].tolist() == [10.0]
    assert t["avg_order_value"].tolist() == [5.0]
    # The last purchase is 03-04 (the return is not a purchase); as_of = 03-06.
    assert t["recency_days"].tolist() == [2] and t["tenure_days"].tolist() == [5]


def test_one_customer_is_a_champion() -> None:
    log = log_frame([("x", "2024-01-01", 3.0)], "cust date amount")
    t = rfm(log, "cust", "date", amount="amount")
    assert t[["r_score", "f_score", "m_score"]].iloc[0].tolist() == [5, 5, 5]
    assert t["rfm_group"].iloc[0] == "Champions"
    assert t["recency_days"].iloc[0] == 1


def test_as_of() -> None:
    kw = dict(amount="amount", invoice="invoice")
    t = rfm(SMALL, "cust", "date", as_of="2024-01-10", **kw)
    assert t["recency_days"].tolist() == [0, 5, 0]
    t = rfm(SMALL, "cust", "date", as_of=pd.Timestamp("2024-02-10 15:00"), **kw)
    assert t["recency_days"].tolist() == [31, 36, 31] and t["tenure_days"].tolist() == [40, 36, 31]
    with pytest.raises(InputError) as err:
        rfm(SMALL, "cust", "date", as_of="2024-01-06", **kw)
    assert err.value.code == "as_of_too_early"
    assert "2024-01-10" in err.value.message and "before" in err.value.message
    with pytest.raises(InputError, match="not a date"):
        rfm(SMALL, "cust", "date", as_of="soon", **kw)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"amount": "spend"}, "missing_column"),
        ({"amount": "amount", "invoice": "order_no"}, "missing_column"),
        ({}, "no_amount"),
        ({"quantity": "amount"}, "no_amount"),
        ({"amount": "amount", "quantity": "amount", "price": "amount"}, "bad_option"),
    ],
)
def test_bad_columns_raise_column_error(kwargs: dict, code: str) -> None:
    with pytest.raises(ColumnError) as err:
        rfm(SMALL, "cust", "date", **kwargs)
    assert err.value.code == code
    assert err.value.message and "Traceback" not in err.value.message


def test_no_dates_no_customer_no_purchase() -> None:
    bad_dates = SMALL.assign(date="soon")
    with pytest.raises(ColumnError) as err:
        rfm(bad_dates, "cust", "date", amount="amount")
    assert err.value.code == "no_dates" and "'soon'" in err.value.message
    with pytest.raises(ColumnError) as err:
        rfm(SMALL.assign(cust=None), "cust", "date", amount="amount")
    assert err.value.code == "no_customer"
    with pytest.raises(ColumnError) as err:
        rfm(SMALL.assign(amount=-SMALL["amount"].abs()), "cust", "date", amount="amount")
    assert err.value.code == "no_purchases"
    with pytest.raises(InputError):
        rfm([1, 2], "cust", "date", amount="amount")  # type: ignore[arg-type]


def test_unreadable_dates_and_amounts_are_counted_with_examples() -> None:
    log = SMALL.copy()
    log.loc[0, "date"] = "yesterday"
    log["amount"] = log["amount"].astype(object)
    log.loc[4, "amount"] = "n/a"
    t, rep = rfm_with_report(log, "cust", "date", amount="amount", invoice="invoice")
    assert rep.dropped == {"no customer": 1, "date not readable": 1, "amount not a number": 1}
    assert rep.examples["date not readable"] == ["yesterday"]
    assert rep.examples["amount not a number"] == ["n/a"]
    # B's only purchase is gone; its cancellation remains: B only returned.
    assert t["cust"].tolist() == ["A", "E"]
    assert rep.customers_without_purchase == 2


@pytest.mark.parametrize(
    ("dates", "dayfirst", "ambiguous", "expected"),
    [
        (["2010-12-01", "2010-12-13 08:26:00"], None, False, ["2010-12-01", "2010-12-13"]),
        (["01/12/2010 08:26", "13/12/2010 9:05"], True, False, ["2010-12-01", "2010-12-13"]),
        (["12/1/2010 8:26", "12/13/2010 9:05"], False, False, ["2010-12-01", "2010-12-13"]),
        (["01.12.2010", "05.12.2010"], True, True, ["2010-12-01", "2010-12-05"]),
        (["1 Dec 2010", "13 December 2010"], None, False, ["2010-12-01", "2010-12-13"]),
        (["2010-12-01T08:26:00+01:00", "2010-12-13T23:00:00Z"], None, False,
         ["2010-12-01", "2010-12-13"]),
    ],
)  # fmt: skip
def test_date_formats(dates, dayfirst, ambiguous, expected) -> None:
    log = pd.DataFrame({"c": ["a", "b"], "d": dates, "v": [1.0, 2.0]})
    t, rep = rfm_with_report(log, "c", "d", amount="v")
    got = [str(x.date()) for x in t["last_purchase"]]
    assert got == expected
    assert rep.dayfirst == dayfirst and rep.date_ambiguous == ambiguous
    if ambiguous:
        assert any("month first" in w for w in rep.warnings)


def test_dayfirst_can_be_forced_and_native_dates_work() -> None:
    log = pd.DataFrame({"c": ["a", "b"], "d": ["01/02/2010", "03/02/2010"], "v": [1.0, 2.0]})
    t = rfm(log, "c", "d", amount="v", dayfirst=False)
    assert [str(x.date()) for x in t["last_purchase"]] == ["2010-01-02", "2010-03-02"]
    native = log.assign(d=pd.to_datetime(["2010-02-01 10:00", "2010-02-03 23:59"]))
    t, rep = rfm_with_report(native, "c", "d", amount="v")
    assert t["recency_days"].tolist() == [3, 1]
    assert "already stored as dates" in rep.date_format


def test_cancelled_prefix_can_be_turned_off() -> None:
    t = rfm(SMALL, "cust", "date", amount="amount", invoice="invoice", cancelled_prefix=None)
    row = t.set_index("cust").loc["B"]
    assert row["monetary"] == 60.0 and row["frequency"] == 2


def test_definitions_against_independent_pandas_code() -> None:
    log = make_log(20_000, random_state=3)
    t = rfm(log, **LOG_COLUMNS).set_index("CustomerID")
    # Independent: every definition written directly, line by line.
    df = log[log["CustomerID"].notna()].copy()
    df["cust"] = df["CustomerID"].astype("int64").astype(str)
    df["day"] = pd.to_datetime(df["InvoiceDate"], format="%d/%m/%Y %H:%M").dt.normalize()
    value = df["Quantity"] * df["UnitPrice"]
    returned = (value < 0) | (df["Quantity"] < 0) | df["InvoiceNo"].str.match(r"C\d")
    df["spend"] = np.where(returned, -value.abs(), value)
    buys = df[~returned]
    as_of = df["day"].max() + pd.Timedelta(days=1)
    g = buys.groupby("cust")
    expected = pd.DataFrame(
        {
            "recency_days": (as_of - g["day"].max()).dt.days,
            "frequency": g["InvoiceNo"].nunique(),
            "monetary": df.groupby("cust")["spend"].sum(),
            "tenure_days": (as_of - g["day"].min()).dt.days,
        }
    ).dropna()
    expected["avg_order_value"] = expected["monetary"] / expected["frequency"]
    assert sorted(t.index) == sorted(expected.index)
    got = t.loc[expected.index]
    for c in ("recency_days", "frequency", "tenure_days"):
        assert (got[c].to_numpy() == expected[c].to_numpy()).all(), c
    for c in ("monetary", "avg_order_value"):
        np.testing.assert_allclose(got[c], expected[c], rtol=1e-12, atol=1e-6)


def test_without_returns_it_matches_the_tutorial_recipe() -> None:
    log = make_log(20_000, random_state=5, cancelled=0.0, returns=0.0)
    t = rfm(log, **LOG_COLUMNS)
    ref = reference_rfm(log)
    ref.index = ref.index.astype("int64").astype(str)
    got = t.set_index("CustomerID").loc[ref.index]
    assert (got["recency_days"].to_numpy() == ref["recency"].to_numpy()).all()
    assert (got["frequency"].to_numpy() == ref["frequency"].to_numpy()).all()
    np.testing.assert_allclose(got["monetary"], ref["monetary"], rtol=1e-12)
    # The tutorial's scores: qcut of rank(method="first") over customers in ID order.
    ref = ref.sort_index(key=lambda i: i.astype("int64"))
    got = t.set_index("CustomerID").loc[ref.index]
    labels = [1, 2, 3, 4, 5]
    f = pd.qcut(ref["frequency"].rank(method="first"), 5, labels=labels).astype(int)
    m = pd.qcut(ref["monetary"].rank(method="first"), 5, labels=labels).astype(int)
    r = pd.qcut(ref["recency"].rank(method="first"), 5, labels=labels[::-1]).astype(int)
    assert (got["f_score"].to_numpy() == f.to_numpy()).all()
    assert (got["m_score"].to_numpy() == m.to_numpy()).all()
    assert (got["r_score"].to_numpy() == r.to_numpy()).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=2, max_size=80))
def test_quintile_scores_equal_qcut_of_first_ranks(values: list[int]) -> None:
    v = np.array(values)
    expected = pd.qcut(pd.Series(v).rank(method="first"), 5, labels=[1, 2, 3, 4, 5])
    assert (quintile_scores(v) == expected.astype(int).to_numpy()).all()


def test_groups_follow_the_documented_grid() -> None:
    r, f = np.meshgrid(np.arange(1, 6), np.arange(1, 6), indexing="ij")
    groups = rfm_group(r.ravel(), f.ravel())
    assert set(groups) == set(RFM_GROUPS)
    cell = dict(zip(zip(r.ravel(), f.ravel(), strict=True), groups, strict=True))
    # The regex map of the tutorials, cell by cell.
    assert cell[5, 5] == cell[5, 4] == "Champions"
    assert cell[1, 5] == cell[2, 5] == "Can't lose them"
    assert cell[3, 3] == "Need attention" and cell[4, 1] == "Promising"
    assert cell[5, 1] == "New customers" and cell[1, 1] == "Lost"
    assert all(cell[a, b] == "Hibernating" for a, b in [(1, 2), (2, 1), (2, 2)])
    assert all(cell[a, b] == "At risk" for a in (1, 2) for b in (3, 4))
    assert all(cell[3, b] == "About to sleep" for b in (1, 2))
    assert all(cell[a, b] == "Loyal customers" for a in (3, 4) for b in (4, 5))
    assert all(cell[a, b] == "Potential loyalists" for a in (4, 5) for b in (2, 3))
    assert RFM_GROUP_GRID[0][0] == "Lost"
    with pytest.raises(InputError):
        rfm_group([0], [3])


# ---------------------------------------------------------------- invariance


@st.composite
def logs(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 40))
    rows = []
    for _ in range(n):
        cust = draw(st.sampled_from(["a", "b", "c", "d", "e", "f", None]))
        day = draw(st.integers(0, 20))
        cents = draw(st.integers(-3000, 9000))
        inv = draw(st.sampled_from(["1", "2", "3", "4", "C5", "6", "7"]))
        rows.append((inv, cust, f"2024-01-{day + 1:02d}", cents / 100))
    return log_frame(rows)


def _try_rfm(log: pd.DataFrame, **kw) -> pd.DataFrame | str:
    try:
        return rfm(log, "cust", "date", amount="amount", invoice="invoice", **kw)
    except InputError as exc:
        return exc.code


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs(), st.randoms(use_true_random=False))
def test_shuffling_the_log_gives_the_same_table(log: pd.DataFrame, rnd) -> None:
    order = list(range(len(log)))
    rnd.shuffle(order)
    a = _try_rfm(log)
    b = _try_rfm(log.iloc[order].reset_index(drop=True))
    if isinstance(a, str):
        assert a == b
    else:
        pd.testing.assert_frame_equal(a, b)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs(), st.integers(1, 7))
def test_any_chunking_gives_the_same_table(log: pd.DataFrame, size: int) -> None:
    whole = _try_rfm(log)
    cols = RFMColumns("cust", "date", amount="amount", invoice="invoice")
    parts = [log.iloc[i : i + size] for i in range(0, len(log), size)]
    try:
        chunked, _ = rfm_from_chunks(lambda: iter(parts), cols)
    except InputError as exc:
        assert exc.code == whole
        return
    pd.testing.assert_frame_equal(chunked, whole)


def test_chunks_that_prove_the_other_date_order_restart_the_build() -> None:
    log = pd.DataFrame(
        {
            "c": ["a", "b", "a", "c"],
            "d": ["01/02/2010", "03/04/2010", "05/06/2010", "12/25/2010"],
            "v": [1.0, 2.0, 3.0, 4.0],
        }
    )
    calls = []

    def chunks():
        calls.append(1)
        return iter([log.iloc[:2], log.iloc[2:3], log.iloc[3:]])

    t, rep = rfm_from_chunks(chunks, RFMColumns("c", "d", amount="v"))
    assert len(calls) == 2  # the first pass assumed day first; 12/25 proved month first
    pd.testing.assert_frame_equal(t, rfm(log, "c", "d", amount="v"))
    assert rep.dayfirst is False and "month/day/year" in rep.date_format


# ---------------------------------------------------------------- detection and roles


def test_guess_recognises_a_log_and_not_a_customer_table() -> None:
    log = make_log(2_000, random_state=1)
    assert guess_transaction_columns(log) == RFMColumns(**LOG_COLUMNS)
    with_amount = log.assign(Revenue=log["Quantity"] * log["UnitPrice"]).drop(
        columns=["Quantity", "UnitPrice"]
    )
    g = guess_transaction_columns(with_amount)
    assert g is not None and g.amount == "Revenue" and g.quantity is None
    from analytics import read_table

    assert guess_transaction_columns(read_table(SAMPLE_PATH)) is None
    assert guess_transaction_columns(log.drop(columns=["InvoiceDate"])) is None


def test_rfm_table_columns_have_the_intended_roles() -> None:
    t = rfm(make_log(20_000, random_state=2), **LOG_COLUMNS)
    roles = profile_columns(t).set_index("column")["role"]
    assert roles["CustomerID"] == "identifier"
    for c in ("recency_days", "frequency", "monetary", "tenure_days", "avg_order_value"):
        assert roles[c] == "numeric", c
    for c in ("r_score", "f_score", "m_score"):
        assert roles[c] == "category code", c  # not features by default: derived from R, F, M
    assert roles["first_purchase"] == roles["last_purchase"] == "date"


def test_broken_lines_are_told_apart_from_lines_without_a_customer() -> None:
    # A cut-off last line, or a line a faulty export wrote as one quoted field: only its
    # first field is there.
    log = pd.concat([SMALL, log_frame([("539650,84347,R", None, None, None)])], ignore_index=True)
    t, rep = rfm_with_report(log, "cust", "date", amount="amount", invoice="invoice")
    assert rep.dropped == {"no customer": 1, "incomplete line (no customer, date or spend)": 1}
    pd.testing.assert_frame_equal(t, rfm(SMALL, "cust", "date", amount="amount", invoice="invoice"))
