"""The Data page's purchase-log block: recognise a log, build one row per customer (RFM),
show what was left out, and go back to the log.

The block is one function, :func:`rfm_section`, called by ``views/data.py``. The
customer table becomes the current dataset (so every page segments customers, not
order lines); the log it came from is kept in session state for the way back.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
import streamlit as st

from analytics import InputError
from analytics.preparation import ROLE_DATE
from analytics.studies.rfm import RFMColumns, RFMReport, guess_transaction_columns, rfm_with_report
from ui import cache
from ui.cache import SESSION
from ui.data import Dataset, set_dataset, sha256
from ui.state import FEATURES, RFM_ERROR, RFM_SOURCE

__all__ = ["build_customer_table", "rfm_section"]

#: The RFM table's columns used as features by default.
MEASURES = ("recency_days", "frequency", "monetary", "tenure_days", "avg_order_value")
NO_INVOICE = "(none: each purchase day is one order)"
SPEND_AMOUNT = "An amount column"
SPEND_PRODUCT = "Quantity × price"
DATE_ORDERS = {
    "Found from the dates": None,
    "Day first (01/02 is 1 February)": True,
    "Month first (01/02 is 2 January)": False,
}


@st.cache_data(max_entries=32, max_size="1MB", **SESSION)
def guess_cached(key: str, _df: pd.DataFrame, _profile: pd.DataFrame) -> RFMColumns | None:
    """Which columns of the table ``key`` look like a purchase log's (None if it is not one)."""
    return guess_transaction_columns(_df, _profile)


@st.cache_data(max_entries=4, max_size="256MB", **SESSION)
def rfm_cached(key: str, params: str, _df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The RFM table and report of the log ``key`` with the JSON ``params`` (content-keyed)."""
    p = json.loads(params)
    table, report = rfm_with_report(
        _df, p["customer"], p["date"], amount=p["amount"], quantity=p["quantity"],
        price=p["price"], invoice=p["invoice"], as_of=p["as_of"], dayfirst=p["dayfirst"],
    )  # fmt: skip
    return table, report.as_dict()


def build_customer_table(log: Dataset, params: dict[str, Any]) -> Dataset:
    """The customer table of ``log`` as a Dataset; raises InputError.

    Parameters
    ----------
    log : Dataset
        The purchase log.
    params : dict
        ``customer``, ``date``, ``amount``, ``quantity``, ``price``, ``invoice``,
        ``as_of`` (ISO text or None) and ``dayfirst`` (bool or None).
    """
    text = json.dumps(params, sort_keys=True)
    table, report = rfm_cached(log.key, text, log.df)
    rep = {k: log.report.get(k) for k in ("encoding", "delimiter", "delimiter_name", "decimal")}
    rep["warnings"] = list(report.get("warnings") or [])
    rep["rfm"] = report
    return Dataset(
        name=f"Customers from {log.name}",
        key=sha256(f"rfm:{log.key}:{text}".encode()),
        df=table,
        report=rep,
    )


def rfm_section(ds: Dataset) -> None:
    """Draw the RFM block for the current dataset ``ds`` (nothing for an ordinary table)."""
    source = st.session_state.get(RFM_SOURCE)
    if ds.report.get("rfm") is not None and source is not None and source[1] == ds.key:
        _built(ds, source[0])
        return
    prof = cache.profile_cached(ds.key, ds.df)
    guess = guess_cached(ds.key, ds.df, prof)
    dates = prof.loc[prof["role"] == ROLE_DATE, "column"].tolist()
    if guess is None and not dates:
        return
    if guess is not None:
        st.info(
            "**This looks like a purchase log**: several lines per customer, with dates and "
            "spend. Segments need one row per customer — build it below."
        )
    with st.expander("Build one row per customer (RFM)", expanded=guess is not None):
        _form(ds, guess, dates)


def _index(options: list[str], value: str | None) -> int:
    return options.index(value) if value in options else 0


def _form(ds: Dataset, guess: RFMColumns | None, dates: list[str]) -> None:
    columns = [str(c) for c in ds.df.columns]
    numeric = [c for c in columns if pd.api.types.is_numeric_dtype(ds.df[c])] or columns
    g = guess or RFMColumns(columns[0], dates[0] if dates else columns[0])
    st.caption(
        "For each customer: days since the last purchase (recency), number of orders "
        "(frequency), total spend (monetary), days since the first purchase, spend per "
        "order, 1–5 scores and a named group such as *Champions* or *At risk*."
    )
    k = ds.key[:12]
    c1, c2 = st.columns(2)
    customer = c1.selectbox(
        "Customer", columns, index=_index(columns, g.customer), key=f"rfm_customer_{k}"
    )
    date = c2.selectbox(
        "Purchase date", columns, index=_index(columns, g.date), key=f"rfm_date_{k}",
        help="Dates like 2010-12-31, 31/12/2010 or 12/31/2010, with or without a time.",
    )  # fmt: skip
    how = st.radio(
        "Spend is recorded as",
        [SPEND_AMOUNT, SPEND_PRODUCT],
        index=1 if g.quantity is not None else 0,
        horizontal=True,
        key=f"rfm_spend_{k}",
    )
    amount = quantity = price = None
    if how == SPEND_AMOUNT:
        amount = st.selectbox(
            "Amount", numeric, index=_index(numeric, g.amount), key=f"rfm_amount_{k}",
            help="Negative amounts are returns: they reduce spend and are not orders.",
        )  # fmt: skip
    else:
        q1, q2 = st.columns(2)
        quantity = q1.selectbox(
            "Quantity", numeric, index=_index(numeric, g.quantity), key=f"rfm_qty_{k}",
            help="Negative quantities are returns: they reduce spend and are not orders.",
        )  # fmt: skip
        price = q2.selectbox(
            "Price per unit", numeric, index=_index(numeric, g.price), key=f"rfm_price_{k}"
        )
    invoices = [NO_INVOICE, *columns]
    c3, c4, c5 = st.columns(3)
    invoice = c3.selectbox(
        "Order (invoice) number",
        invoices,
        index=_index(invoices, g.invoice),
        key=f"rfm_invoice_{k}",
        help="Orders are counted as distinct invoices. Invoices starting with C and a "
        "digit (C536379) are cancellations.",
    )
    as_of = c4.date_input(
        "Count recency up to",
        value=None,
        # Streamlit's default range is ten years around today; logs can be older.
        min_value=dt.date(1900, 1, 1),
        max_value=dt.date(2200, 12, 31),
        key=f"rfm_as_of_{k}",
        help="Leave empty to use the day after the last date in the log.",
    )
    order = c5.selectbox(
        "Dates such as 01/02/2010",
        list(DATE_ORDERS),
        key=f"rfm_dates_{k}",
        help="Found from the dates: a day above 12 tells the order; the choice is reported.",
    )
    params = {
        "customer": customer,
        "date": date,
        "amount": amount,
        "quantity": quantity,
        "price": price,
        "invoice": None if invoice == NO_INVOICE else invoice,
        "as_of": as_of.isoformat() if as_of is not None else None,
        "dayfirst": DATE_ORDERS[order],
    }
    if st.button("Build one row per customer (RFM)", type="primary", key=f"rfm_build_{k}"):
        try:
            with st.spinner("Summarising the log per customer…"):
                table = build_customer_table(ds, params)
        except InputError as exc:
            st.session_state[RFM_ERROR] = exc.message
        else:
            st.session_state[RFM_ERROR] = None
            set_dataset(table)
            # Segment on the five measures; the scores and the named group are derived
            # from them (and a mixture cannot use the group), so they start unticked.
            st.session_state[FEATURES] = list(MEASURES)
            st.session_state[RFM_SOURCE] = (ds, table.key)
            st.rerun()
    if st.session_state.get(RFM_ERROR):
        st.error(
            f"Could not build the customer table: {st.session_state[RFM_ERROR]} "
            "The purchase log is still loaded."
        )


def _built(ds: Dataset, log: Dataset) -> None:
    report = RFMReport(**ds.report["rfm"])
    lines = report.lines()
    st.success(f"**One row per customer**, built from the purchase log *{log.name}*. {lines[0]}")
    left_out = sum(report.dropped.values())
    with st.expander(
        f"What was left out or changed ({left_out:,} line(s) left out)", expanded=left_out > 0
    ):
        for line in lines[1:]:
            st.markdown(f"- {line}")
        cols = ", ".join(f"{role}: '{c}'" for role, c in _columns_used(report).items())
        st.caption(f"Columns used — {cols}.")
    if st.button("Back to the transaction log", key="rfm_back"):
        set_dataset(log)
        st.session_state[RFM_ERROR] = None
        st.rerun()


def _columns_used(report: RFMReport) -> dict[str, str]:
    """The log's columns the table was built from, by role (unused roles left out)."""
    return {role: c for role, c in report.columns.items() if c is not None}
