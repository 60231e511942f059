"""Customers from a purchase log: RFM features, the classic 1-5 scores and named groups.

A purchase log has one row per order line (customer, date, amount or quantity x
price, perhaps an invoice). :func:`rfm` turns it into one row per customer:

- *customer* (str): the customer column, kept under its own name, as text
- ``recency_days`` (int64): days from the customer's last purchase to ``as_of``
- ``frequency`` (int64): distinct orders: distinct invoices when an invoice column is
  given, otherwise distinct purchase dates
- ``monetary`` (float64): total spend, the sum of ``amount`` (or ``quantity x price``)
  over purchases, minus returns and cancellations
- ``tenure_days`` (int64): days from the customer's first purchase to ``as_of``
- ``avg_order_value`` (float64): ``monetary / frequency``
- ``r_score``, ``f_score``, ``m_score`` (int64, 1..5): quintiles of recency (5 = fewest
  days), frequency (5 = most orders) and monetary (5 = highest spend)
- ``rfm_group`` (category): the named group of (``r_score``, ``f_score``), see below
- ``first_purchase``, ``last_purchase`` (datetime64): the days of the first and last purchase

Rows are sorted by customer. Dates count as calendar days (the time of day is
ignored); ``as_of`` defaults to the day after the last date in the log, so a
customer who bought on the last day has ``recency_days == 1``.

**Returns and cancellations.** A line is a return when its value (``amount``, or
``quantity x price``) or its quantity is negative, or when its invoice is marked
as cancelled: it starts with ``C`` followed by a digit (``C536379``, as in the UCI
Online Retail data; see ``cancelled_prefix``). Such a line reduces ``monetary`` by
its absolute value and is not an order: it counts neither in ``frequency`` nor as a
purchase date for recency and tenure. A customer whose lines are all returns has no
purchase and is left out (and counted in the report). Lines without a customer, with a
date or a spend that cannot be read, or broken (no customer, date or spend at all) are
left out and counted by reason in the report (:class:`RFMReport`).

**Scores.** The customers are put in a fixed order (by customer number when every
customer is a number, else by text); each measure is ranked in that order with
ties broken by it (``rank(method="first")``) and the ranks cut into five equal
groups, exactly ``pd.qcut(values.rank(method="first"), 5, labels=[1, 2, 3, 4, 5])``
of the widely used recipe (``r_score`` reversed: fewest days = 5). The result does
not depend on the order of the log's rows. One customer alone scores 5, 5, 5.

**Named groups** (:data:`RFM_GROUPS`) follow the widely documented R/F score map
used in RFM tutorials (for example the ``seg_map`` of the Miuul / VBO CRM
analytics course, reproduced in many Kaggle notebooks on the Online Retail data:
``[1-2][1-2]`` Hibernating, ``[1-2][3-4]`` At risk, ``[1-2]5`` Can't lose them,
``3[1-2]`` About to sleep, ``33`` Need attention, ``[3-4][4-5]`` Loyal customers,
``41`` Promising, ``51`` New customers, ``[4-5][2-3]`` Potential loyalists,
``5[4-5]`` Champions), with its bottom cell R=1, F=1 named Lost (Putler's "lowest
recency, frequency and monetary scores"). As a grid (rows ``r_score``, columns
``f_score``)::

    r\\f  1               2                    3                    4                5
    5    New customers   Potential loyalists  Potential loyalists  Champions        Champions
    4    Promising       Potential loyalists  Potential loyalists  Loyal customers  Loyal customers
    3    About to sleep  About to sleep       Need attention       Loyal customers  Loyal customers
    2    Hibernating     Hibernating          At risk              At risk          Can't lose them
    1    Lost            Hibernating          At risk              At risk          Can't lose them

The aggregation works on chunks (:class:`RFMBuilder`), which is how the command
line builds the table of a log larger than memory; :func:`rfm` is one chunk.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from analytics.errors import ColumnError, InputError

__all__ = [
    "RFM_GROUPS",
    "RFM_GROUP_GRID",
    "RFMBuilder",
    "RFMColumns",
    "RFMReport",
    "guess_transaction_columns",
    "quintile_scores",
    "rfm",
    "rfm_from_chunks",
    "rfm_group",
    "rfm_with_report",
]

#: The named groups, best first (the categories of ``rfm_group``, in this order).
RFM_GROUPS: tuple[str, ...] = (
    "Champions",
    "Loyal customers",
    "Potential loyalists",
    "New customers",
    "Promising",
    "Need attention",
    "About to sleep",
    "At risk",
    "Can't lose them",
    "Hibernating",
    "Lost",
)

#: ``RFM_GROUP_GRID[r - 1][f - 1]`` is the group of ``r_score = r``, ``f_score = f``.
RFM_GROUP_GRID: tuple[tuple[str, ...], ...] = (
    ("Lost", "Hibernating", "At risk", "At risk", "Can't lose them"),
    ("Hibernating", "Hibernating", "At risk", "At risk", "Can't lose them"),
    ("About to sleep", "About to sleep", "Need attention", "Loyal customers", "Loyal customers"),
    ("Promising", "Potential loyalists", "Potential loyalists", "Loyal customers", "Loyal customers"),
    ("New customers", "Potential loyalists", "Potential loyalists", "Champions", "Champions"),
)  # fmt: skip

#: Output columns after the customer column, in order.
OUTPUT_COLUMNS: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary",
    "tenure_days",
    "avg_order_value",
    "r_score",
    "f_score",
    "m_score",
    "rfm_group",
    "first_purchase",
    "last_purchase",
)

# Sums of the same prices in another order differ in the last bits; rounding the total
# keeps equal spends equal (so their scores do not depend on the log's row order).
_MONEY_DECIMALS = 8
_NUMBER_TEXT = re.compile(r"^-?\d+(\.\d+)?$")


# --------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class RFMColumns:
    """Which columns of a purchase log hold what (``amount``, or ``quantity`` and ``price``)."""

    customer: str
    date: str
    amount: str | None = None
    quantity: str | None = None
    price: str | None = None
    invoice: str | None = None

    def validate(self, available: Iterable[str]) -> None:
        """Raise ``ColumnError`` for a missing column or an incomplete spend choice."""
        have = set(available)
        if self.amount is None and (self.quantity is None or self.price is None):
            raise ColumnError(
                "Say how spend is recorded: an amount column, or both a quantity and a "
                "price column (spend = quantity x price).",
                code="no_amount",
            )
        if self.amount is not None and (self.quantity is not None or self.price is not None):
            raise ColumnError(
                "Give either an amount column or quantity and price columns, not both.",
                code="bad_option",
            )
        named = [(what, c) for what, c in asdict(self).items() if c is not None]
        missing = [f"{what} column '{c}'" for what, c in named if c not in have]
        if missing:
            shown = ", ".join(f"'{c}'" for c in list(have)[:12])
            raise ColumnError(
                f"The log has no {' and no '.join(missing)}. Its columns are: {shown}.",
                code="missing_column",
                problems=missing,
            )
        used = [c for _, c in named]
        if len(set(used)) < len(used):
            raise ColumnError(
                "Each role needs its own column; the same column was chosen twice.",
                code="bad_option",
            )


_CUSTOMER_NAME = re.compile(
    r"cust|client|kunde|user|member|buyer|shopper|consumer|account|patient|guest", re.I
)
_DATE_NAME = re.compile(r"date|time|day|datum|when|timestamp", re.I)
_AMOUNT_NAME = re.compile(
    r"amount|revenue|sales|spend|total|value|turnover|paid|payment|sum|betrag|umsatz", re.I
)
_QUANTITY_NAME = re.compile(r"qty|quantity|units|menge|pieces|count", re.I)
_PRICE_NAME = re.compile(r"price|preis|unit_?cost|rate", re.I)
_INVOICE_NAME = re.compile(r"invoice|order|receipt|transaction|basket|bill|ticket|rechnung", re.I)


def guess_transaction_columns(
    df: pd.DataFrame, profile: pd.DataFrame | None = None
) -> RFMColumns | None:
    """Guess whether ``df`` is a purchase log and which columns play which role.

    A purchase log has a customer-like column whose values repeat (several lines per
    customer), a date column, and an amount or a quantity and a price.

    Parameters
    ----------
    df : DataFrame of shape (n_rows, n_columns)
    profile : DataFrame, optional
        :func:`analytics.preparation.profile_columns` of ``df`` (computed if not given).

    Returns
    -------
    RFMColumns or None
        None when the table does not look like a purchase log.
    """
    from analytics.preparation import ROLE_DATE, profile_columns

    if len(df) < 2:
        return None
    prof = profile if profile is not None else profile_columns(df)
    roles = dict(zip(prof["column"], prof["role"], strict=True))
    names = [str(c) for c in df.columns if str(c) in roles]
    numeric = [c for c in names if pd.api.types.is_numeric_dtype(df[c])]
    dates = [c for c in names if roles[c] == ROLE_DATE]
    dates.sort(key=lambda c: not _DATE_NAME.search(c))
    if not dates:
        return None

    def repeats(c: str) -> bool:
        s = df[c].dropna()
        return len(s) > 0 and s.nunique() <= 0.8 * len(s)

    customers = [c for c in names if _CUSTOMER_NAME.search(c) and c not in dates and repeats(c)]
    if not customers:
        return None
    customer = customers[0]
    rest = [c for c in numeric if c != customer]

    def first(pattern: re.Pattern[str], pool: list[str]) -> str | None:
        return next((c for c in pool if pattern.search(c)), None)

    quantity = first(_QUANTITY_NAME, rest)
    price = first(_PRICE_NAME, [c for c in rest if c != quantity])
    amount = first(_AMOUNT_NAME, [c for c in rest if c not in (quantity, price)])
    invoice = first(
        _INVOICE_NAME, [c for c in names if c not in (customer, *dates, quantity, price, amount)]
    )
    if quantity is not None and price is not None:
        amount = None
    elif amount is not None:
        quantity = price = None
    else:
        return None
    return RFMColumns(customer, dates[0], amount, quantity, price, invoice)


# --------------------------------------------------------------------------- report


@dataclass
class RFMReport:
    """What :func:`rfm` used, dropped and decided.

    Attributes
    ----------
    columns : dict of str to str or None
        The log's columns by role (customer, date, amount, quantity, price, invoice).
    rows_read : int
        Lines in the log.
    rows_used : int
        Lines that went into the table (purchases and returns).
    dropped : dict of str to int
        Lines left out, by reason in words ("no customer", "date not readable",
        "amount not a number").
    examples : dict of str to list of str
        A few of the values behind each reason (for dates and amounts).
    return_rows : int
        Lines counted as returns or cancellations (they reduce ``monetary``).
    cancelled_invoices : int
        Distinct invoices marked as cancelled.
    customers : int
        Rows of the table.
    customers_without_purchase : int
        Customers left out because every one of their lines is a return.
    date_format : str
        How text dates were read, in words (``"day/month/year (31/12/2010)"``).
    dayfirst : bool or None
        Whether ``01/02`` was read as 1 February (None when no such date exists).
    date_ambiguous : bool
        True when every date fits both day/month and month/day orders, so the
        order is an assumption (pass ``dayfirst``).
    first_date, last_date : str
        The log's first and last dates (ISO).
    as_of : str
        The reference day (ISO); ``as_of_default`` says whether it was the default.
    warnings : list of str
        Plain sentences about anything to check.
    """

    columns: dict[str, str | None]
    rows_read: int = 0
    rows_used: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    return_rows: int = 0
    cancelled_invoices: int = 0
    customers: int = 0
    customers_without_purchase: int = 0
    date_format: str = ""
    dayfirst: bool | None = None
    date_ambiguous: bool = False
    first_date: str = ""
    last_date: str = ""
    as_of: str = ""
    as_of_default: bool = True
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The report as a plain dict (what ``df.attrs["rfm_report"]`` holds)."""
        return asdict(self)

    def lines(self) -> list[str]:
        """The report as sentences for an analyst."""
        out = [
            f"{self.customers:,} customers from {self.rows_used:,} of {self.rows_read:,} lines "
            f"({self.first_date} to {self.last_date}); recency counted to {self.as_of}"
            + (" (the day after the last date)." if self.as_of_default else ".")
        ]
        for reason, n in self.dropped.items():
            eg = self.examples.get(reason)
            shown = f", e.g. {', '.join(repr(v) for v in eg)}" if eg else ""
            out.append(f"{n:,} line(s) left out: {reason}{shown}.")
        if self.return_rows:
            cancelled = (
                f", {self.cancelled_invoices:,} cancelled invoice(s)"
                if self.cancelled_invoices
                else ""
            )
            out.append(
                f"{self.return_rows:,} line(s) are returns or cancellations{cancelled}: "
                "they reduce spend and are not counted as orders."
            )
        if self.customers_without_purchase:
            out.append(
                f"{self.customers_without_purchase:,} customer(s) left out: they only "
                "returned or cancelled, with no purchase in the log."
            )
        if self.date_format:
            out.append(f"Dates read as {self.date_format}.")
        out.extend(self.warnings)
        return out


# --------------------------------------------------------------------------- dates

_SLASH_DATE = re.compile(r"^\s*(\d{1,4})([/.\-])(\d{1,2})([/.\-])(\d{1,4})")
_TIMES = (
    "", " %H:%M", " %H:%M:%S", " %H:%M:%S.%f", "T%H:%M", "T%H:%M:%S", "T%H:%M:%S.%f",
    " %I:%M %p", " %I:%M:%S %p", " %I:%M%p",
)  # fmt: skip


class _DateOrderChanged(Exception):
    """Raised by a chunked build when a later chunk proves the assumed day/month order
    wrong; the build restarts with the proven order."""

    def __init__(self, dayfirst: bool) -> None:
        super().__init__()
        self.dayfirst = dayfirst


class _DateReader:
    """Reads a date column chunk by chunk with one day/month order for the whole log."""

    def __init__(self, dayfirst: bool | None) -> None:
        self.forced = dayfirst is not None
        self.dayfirst = dayfirst
        self.proven = dayfirst is not None  # the order is known, not assumed
        self.ambiguous = False
        self.kinds: set[str] = set()
        self.native = False

    def words(self) -> str:
        parts = []
        if self.native:
            parts.append("dates already stored as dates")
        if "ymd" in self.kinds:
            parts.append("year-month-day (2010-12-31)")
        if "dmy" in self.kinds:
            if self.dayfirst:
                how = "day/month/year (31/12/2010)"
                if self.forced:
                    how += ", as asked"
                elif self.ambiguous:
                    how += (
                        ", assumed: every date also fits month/day/year; say "
                        "if the dates are month first"
                    )
                else:
                    how += ", because some dates have a day above 12 first"
            else:
                how = "month/day/year (12/31/2010)"
                if self.forced:
                    how += ", as asked"
                elif self.ambiguous:
                    how += ", assumed"
                else:
                    how += ", because some dates have a day above 12 second"
            parts.append(how)
        if "other" in self.kinds:
            parts.append("other written forms (such as '1 Dec 2010')")
        return "; ".join(parts)

    def parse(self, s: pd.Series) -> pd.Series:
        """Calendar days (datetime64, midnight) of ``s``; NaT where a value is not a date."""
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            self.native = True
            out = s
            if getattr(out.dtype, "tz", None) is not None:
                out = out.dt.tz_localize(None)
            return out.dt.normalize()
        # A log repeats each timestamp on every line of an order: parse distinct values.
        codes, uniques = pd.factorize(s)
        values = pd.Series(np.asarray(uniques, dtype=object), dtype="str").str.strip()
        parsed = self._parse_unique(values)
        out = pd.Series(_take(parsed.to_numpy(), codes, np.datetime64("NaT")), index=s.index)
        return out.dt.normalize()

    def _decide_order(self, values: pd.Series) -> None:
        parts = values.str.extract(_SLASH_DATE)
        dmy = parts[0].str.len().le(2) & parts[4].notna()
        if dmy.any():
            self.kinds.add("dmy")
        if (parts[0].str.len() == 4).any():
            self.kinds.add("ymd")
        if self.proven or not dmy.any():
            return
        a = pd.to_numeric(parts.loc[dmy, 0]).to_numpy()
        b = pd.to_numeric(parts.loc[dmy, 2]).to_numpy()
        day_first = int(((a > 12) & (b <= 12)).sum())
        month_first = int(((b > 12) & (a <= 12)).sum())
        if day_first == month_first == 0:
            if self.dayfirst is None:
                self.dayfirst, self.ambiguous = True, True
            return
        proven = day_first >= month_first
        if self.dayfirst is not None and self.dayfirst != proven:
            raise _DateOrderChanged(proven)
        self.dayfirst, self.proven, self.ambiguous = proven, True, False

    def _parse_unique(self, values: pd.Series) -> pd.Series:
        self._decide_order(values)
        result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
        order = ("%d", "%m") if self.dayfirst else ("%m", "%d")
        formats = []
        for sep in "-/.":
            formats += [f"%Y{sep}%m{sep}%d" + t for t in _TIMES]
            for year in ("%Y", "%y"):
                formats += [f"{order[0]}{sep}{order[1]}{sep}{year}" + t for t in _TIMES]
        # Values of one shape (digits as 9: "99/99/9999 99:99") share a format: find it on
        # one value with strptime, then parse the whole group in one vectorised call.
        shapes = values.str.replace(r"\d", "9", regex=True)
        left: list[Any] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for index in shapes.groupby(shapes, sort=False).groups.values():
                todo = pd.Index(index)
                tries = 0
                while len(todo) and tries < 3:
                    fmt = next((f for f in formats if _fits(values[todo[0]], f)), None)
                    if fmt is None:
                        left.append(todo[0])
                        todo, tries = todo[1:], tries + 1
                        continue
                    got = pd.to_datetime(values[todo], format=fmt, errors="coerce")
                    ok = got.notna().to_numpy()
                    result[todo[ok]] = got[ok].astype("datetime64[us]")
                    todo = todo[~ok]
                left.extend(todo)
        if left:
            rest = values[pd.Index(left)]
            got = _iso_or_mixed(rest, bool(self.dayfirst))
            ok = got.notna()
            if ok.any():
                self.kinds.add("other")
                result[got.index[ok]] = got[ok]
        return result


def _fits(value: str, fmt: str) -> bool:
    try:
        datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


def _iso_or_mixed(values: pd.Series, dayfirst: bool) -> pd.Series:
    """Dates in other forms pandas reads: ISO with a zone (``2010-12-01T08:26+01:00``,
    made naive in UTC) and month names (``1 Dec 2010``). Numeric dates against the
    file's day/month order stay unread (they are counted, not guessed)."""
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    iso = values.str.match(r"\s*\d{4}-\d").fillna(False)
    words = values.str.contains(r"[A-Za-z]{3}", regex=True).fillna(False) & ~iso
    for mask, kw in (
        (iso, {"format": "ISO8601"}),
        (words, {"format": "mixed", "dayfirst": dayfirst}),
    ):
        if not mask.any():
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                got = pd.to_datetime(values[mask], errors="coerce", utc=True, **kw)
            except (ValueError, TypeError, OverflowError):
                continue
        got = got.dt.tz_localize(None).astype("datetime64[us]")
        ok = got.notna()
        out[got.index[ok]] = got[ok]
    return out


# --------------------------------------------------------------------------- lines


def _take(distinct: np.ndarray, codes: np.ndarray, missing: Any) -> np.ndarray:
    """Line values from the values of the distinct entries (``codes`` from ``pd.factorize``,
    -1 for a missing entry, which gets ``missing``)."""
    return np.append(distinct, np.array([missing], dtype=distinct.dtype))[codes]


def _numbers(s: pd.Series, decimal: str) -> np.ndarray:
    """float64 values of a column (text parsed as read_table does); NaN where not a number."""
    from analytics.io import parse_numbers

    if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
        out = s.to_numpy(dtype="float64", na_value=np.nan)
    else:
        codes, uniques = pd.factorize(s)
        text = pd.Series(np.asarray(uniques, dtype=object), dtype="str")
        parsed = parse_numbers(text, decimal).to_numpy(dtype="float64", na_value=np.nan)
        out = _take(parsed, codes, np.nan)
    return np.where(np.isfinite(out), out, np.nan)


def _as_text(s: pd.Series, decimal: str = ".") -> tuple[np.ndarray, pd.Series]:
    """Identifiers as text, worked out once per distinct value.

    Whole numbers lose a float column's ``.0`` (``,0`` in a decimal-comma file), blank
    text is missing.

    Returns
    -------
    codes : ndarray of int, shape (n,)
        Position of each line's value in ``text``; -1 where it is missing.
    text : Series of str, shape (n_distinct,)
    """
    codes, uniques = pd.factorize(s)
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        v = pd.Series(np.asarray(uniques, dtype="float64"))
        whole = np.isfinite(v) & (np.mod(v, 1) == 0) & (v.abs() < 2**53)
        text = v.astype("str")
        text[whole] = v[whole].astype("int64").astype("str")
        text = text.where(np.isfinite(v))
    else:
        t = pd.Series(np.asarray(uniques, dtype=object), dtype="str").str.strip()
        t = t.where(t != "")
        text = t.str.replace(rf"^(-?\d+){re.escape(decimal)}0+$", r"\1", regex=True)
    gone = text.isna().to_numpy()
    if gone.any():  # blank (or infinite) values are missing too
        codes = np.where(_take(gone, codes, True), -1, codes)
    return codes, text


@dataclass
class _Counts:
    rows_read: int = 0
    rows_used: int = 0
    return_rows: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def drop(self, reason: str, n: int, examples: Iterable[Any] = ()) -> None:
        if n:
            self.dropped[reason] = self.dropped.get(reason, 0) + n
            have = self.examples.setdefault(reason, [])
            for v in examples:
                if len(have) >= 3:
                    break
                if str(v) not in have:
                    have.append(str(v))


NO_CUSTOMER = "no customer"
INCOMPLETE = "incomplete line (no customer, date or spend)"
BAD_DATE = "date not readable"
BAD_AMOUNT = "amount not a number"


class RFMBuilder:
    """Build the RFM table from a log given in chunks (any split gives the same table).

    Parameters
    ----------
    columns : RFMColumns
    as_of : date-like, optional
        The reference day; default the day after the last date in the log.
    dayfirst : bool, optional
        Read ``01/02/2010`` as 1 February (True) or 2 January (False); default: from
        the dates (a day above 12 decides), day first when every date fits both.
    decimal : {".", ","}
        Decimal mark of numbers stored as text.
    cancelled_prefix : str or None, default "C"
        Invoices starting with this (any case) followed by a digit are cancellations;
        None or "" turns it off.

    Examples
    --------
    >>> b = RFMBuilder(RFMColumns("customer", "date", amount="amount"))  # doctest: +SKIP
    >>> for chunk in chunks:  # doctest: +SKIP
    ...     b.add(chunk)
    >>> table, report = b.finish()  # doctest: +SKIP
    """

    def __init__(
        self,
        columns: RFMColumns,
        as_of: Any = None,
        dayfirst: bool | None = None,
        decimal: str = ".",
        cancelled_prefix: str | None = "C",
    ) -> None:
        self.columns = columns
        self.as_of = as_of
        self.decimal = decimal
        self.cancelled = (
            re.compile(rf"^{re.escape(cancelled_prefix)}\d", re.I) if cancelled_prefix else None
        )
        self.dates = _DateReader(dayfirst)
        self.counts = _Counts()
        self.checked = False
        self._per_customer: list[pd.DataFrame] = []
        self._orders: list[pd.DataFrame] = []
        self._cancelled: set[str] = set()
        self._dates_seen = 0

    # ---------------------------------------------------------------- adding
    def add(self, chunk: pd.DataFrame) -> None:
        """Aggregate one chunk of lines (a DataFrame with the log's columns)."""
        c = self.columns
        if not self.checked:
            c.validate(str(x) for x in chunk.columns)
            self.checked = True
        n = len(chunk)
        self.counts.rows_read += n
        if n == 0:
            return
        cust_codes, cust_text = _as_text(chunk[c.customer], self.decimal)
        keep = cust_codes >= 0
        # A line with no customer, date or spend at all is broken (cut off, or written as
        # one quoted field by a faulty export), not a purchase without a customer.
        spend_cols = [c.amount] if c.amount is not None else [c.quantity, c.price]
        broken = chunk[[c.date, *spend_cols]].isna().all(axis=1).to_numpy() & ~keep
        self.counts.drop(INCOMPLETE, int(broken.sum()))
        self.counts.drop(NO_CUSTOMER, int(n - keep.sum() - broken.sum()))
        day = self.dates.parse(chunk[c.date]).to_numpy()
        bad_date = keep & np.isnat(day)
        self._dates_seen += int((keep & ~bad_date).sum())
        self.counts.drop(BAD_DATE, int(bad_date.sum()), chunk[c.date][bad_date].dropna().head(3))
        keep &= ~bad_date
        if c.amount is not None:
            v = _numbers(chunk[c.amount], self.decimal)
            negative_qty = np.zeros(n, dtype=bool)
            bad_value = keep & np.isnan(v)
            self.counts.drop(
                BAD_AMOUNT, int(bad_value.sum()), chunk[c.amount][bad_value].dropna().head(3)
            )
        else:
            qty = _numbers(chunk[c.quantity], self.decimal)
            v = qty * _numbers(chunk[c.price], self.decimal)
            negative_qty = qty < 0
            bad_value = keep & np.isnan(v)
            bad_examples = (chunk[c.quantity].astype("str") + " x " + chunk[c.price].astype("str"))[
                bad_value
            ].head(3)
            self.counts.drop("quantity or price not a number", int(bad_value.sum()), bad_examples)
        keep &= ~bad_value
        is_return = (v < 0) | negative_qty  # a new array
        customer = _take(cust_text.to_numpy(dtype=object), cust_codes, None)
        order: np.ndarray
        if c.invoice is not None:
            inv_codes, inv_text = _as_text(chunk[c.invoice], self.decimal)
            invoice = _take(inv_text.to_numpy(dtype=object), inv_codes, None)
            if self.cancelled is not None:
                marked_u = inv_text.str.contains(self.cancelled, regex=True).fillna(False)
                marked = _take(marked_u.to_numpy(dtype=bool), inv_codes, False)
                self._cancelled.update(pd.unique(invoice[keep & marked]).tolist())
                is_return |= marked
            order = invoice
            no_invoice = inv_codes < 0
            if (keep & no_invoice).any():
                # A purchase line without an invoice counts as an order on its own day.
                order = order.copy()
                days = pd.DatetimeIndex(day[no_invoice]).strftime("%Y-%m-%d")
                order[no_invoice] = ("\x00" + days).to_numpy(dtype=object)
        else:
            order = day
        lines = pd.DataFrame(
            {
                "customer": customer[keep],
                "day": day[keep],
                "spend": np.where(is_return, -np.abs(v), v)[keep],
                "purchase": ~is_return[keep],
                "order": order[keep],
            }
        )
        self.counts.rows_used += len(lines)
        self.counts.return_rows += int((~lines["purchase"]).sum())
        if lines.empty:
            return
        g = lines.groupby("customer", sort=False)
        part = pd.DataFrame(
            {
                "spend": g["spend"].sum(),
                "last_any": g["day"].max(),
                "first_any": g["day"].min(),
            }
        )
        buys = lines[lines["purchase"].to_numpy()]
        bg = buys.groupby("customer", sort=False)["day"]
        part["first"] = bg.min()
        part["last"] = bg.max()
        self._per_customer.append(part)
        self._orders.append(buys[["customer", "order"]].drop_duplicates())
        # Keep memory near the size of the result, not of the log: fold the parts
        # together once enough chunks have accumulated.
        if len(self._per_customer) >= 16:
            self._fold()

    def _fold(self) -> None:
        if len(self._per_customer) > 1:
            both = pd.concat(self._per_customer)
            g = both.groupby(level=0, sort=False)
            self._per_customer = [
                pd.DataFrame(
                    {
                        "spend": g["spend"].sum(),
                        "last_any": g["last_any"].max(),
                        "first_any": g["first_any"].min(),
                        "first": g["first"].min(),
                        "last": g["last"].max(),
                    }
                )
            ]
        if len(self._orders) > 1:
            self._orders = [pd.concat(self._orders, ignore_index=True).drop_duplicates()]

    # ---------------------------------------------------------------- finishing
    def finish(self) -> tuple[pd.DataFrame, RFMReport]:
        """The table (one row per customer) and the report.

        Raises
        ------
        ColumnError
            ``code="no_dates"`` when no date could be read, ``"no_customer"`` when no
            line has a customer, ``"no_purchases"`` when every line is a return.
        InputError
            ``code="as_of_too_early"`` when ``as_of`` is before some lines.
        """
        c = self.columns
        counts = self.counts
        if counts.rows_read == 0:
            raise InputError("The log has no lines.", code="no_rows")
        if (
            counts.dropped.get(NO_CUSTOMER, 0) + counts.dropped.get(INCOMPLETE, 0)
            == counts.rows_read
        ):
            raise ColumnError(
                f"No line has a customer: the column '{c.customer}' is empty.",
                code="no_customer",
            )
        if self._dates_seen == 0:
            eg = counts.examples.get(BAD_DATE) or []
            shown = f" (for example {', '.join(repr(v) for v in eg)})" if eg else ""
            raise ColumnError(
                f"No date in the column '{c.date}' could be read{shown}. Choose the column "
                "that holds the purchase dates, written like 2010-12-31 or 31/12/2010.",
                code="no_dates",
            )
        self._fold()
        if not self._per_customer:
            raise ColumnError(
                "No line has both a readable date and a spend; nothing to summarise.",
                code="no_purchases",
            )
        per = self._per_customer[0]
        last_any = per["last_any"].max()
        first_any = per["first_any"].min()
        default = self.as_of is None or (isinstance(self.as_of, str) and not self.as_of.strip())
        if default:
            as_of = pd.Timestamp(last_any) + pd.Timedelta(days=1)
        else:
            as_of = _as_of_day(self.as_of, self.dates.dayfirst)
            if as_of < last_any:
                late = int((per["last_any"] > as_of).sum())
                raise InputError(
                    f"The reference date {as_of.date()} is before some lines of the log: "
                    f"it runs to {pd.Timestamp(last_any).date()} ({late:,} customer(s) have "
                    f"lines after it). Choose a date on or after "
                    f"{pd.Timestamp(last_any).date()}, or leave it empty to use the day "
                    "after the last date.",
                    code="as_of_too_early",
                )
        bought = per[per["last"].notna()]
        without = len(per) - len(bought)
        if bought.empty:
            raise ColumnError(
                "Every line is a return or a cancellation (a negative amount or quantity, "
                "or an invoice starting with 'C'); there are no purchases to summarise.",
                code="no_purchases",
            )
        orders = pd.concat(self._orders, ignore_index=True) if self._orders else None
        freq = orders.groupby("customer", sort=False).size() if orders is not None else None
        table = _table(c.customer, bought, freq, as_of)
        report = RFMReport(
            columns={k: v for k, v in asdict(c).items()},
            rows_read=counts.rows_read,
            rows_used=counts.rows_used,
            dropped=dict(counts.dropped),
            examples={k: v for k, v in counts.examples.items() if v},
            return_rows=counts.return_rows,
            cancelled_invoices=len(self._cancelled),
            customers=len(table),
            customers_without_purchase=without,
            date_format=self.dates.words(),
            dayfirst=self.dates.dayfirst if "dmy" in self.dates.kinds else None,
            date_ambiguous=self.dates.ambiguous and "dmy" in self.dates.kinds,
            first_date=str(pd.Timestamp(first_any).date()),
            last_date=str(pd.Timestamp(last_any).date()),
            as_of=str(as_of.date()),
            as_of_default=default,
        )
        if report.date_ambiguous:
            report.warnings.append(
                "Every date fits both day/month and month/day order; they were read day "
                "first. If 01/02 means 2 January, say the dates are month first."
            )
        if (table["monetary"] < 0).any():
            n_neg = int((table["monetary"] < 0).sum())
            report.warnings.append(
                f"{n_neg:,} customer(s) returned more than they bought in the log "
                "(negative spend): their purchases may be older than the log."
            )
        return table, report


def _as_of_day(value: Any, dayfirst: bool | None) -> pd.Timestamp:
    try:
        if isinstance(value, str):
            got = _DateReader(dayfirst).parse(pd.Series([value]))[0]
        else:
            got = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"The reference date {value!r} is not a date; write it like 2011-12-10.",
            code="bad_option",
        ) from exc
    if pd.isna(got):
        raise InputError(
            f"The reference date {value!r} is not a date; write it like 2011-12-10.",
            code="bad_option",
        )
    if got.tzinfo is not None:
        got = got.tz_localize(None)
    return got.normalize()


def _customer_order(names: pd.Index) -> np.ndarray:
    """Positions of ``names`` in the fixed customer order: by number when every name is a
    number (as a groupby on a numeric ID sorts), else by text."""
    text = names.astype("str")
    if bool(pd.Series(text).str.fullmatch(_NUMBER_TEXT).all()):
        keys = pd.DataFrame({"number": pd.to_numeric(pd.Series(text)), "text": text})
        return keys.sort_values(["number", "text"], kind="stable").index.to_numpy()
    return pd.Series(text).sort_values(kind="stable").index.to_numpy()


def quintile_scores(values: np.ndarray) -> np.ndarray:
    """Quintile scores 1..5 of ``values`` taken in the given order, ties split by position.

    Equal to ``pd.qcut(pd.Series(values).rank(method="first"), 5, labels=[1, 2, 3, 4, 5])``
    (computed in whole numbers); a single value scores 5.

    Parameters
    ----------
    values : ndarray of shape (n,)

    Returns
    -------
    ndarray of int64, shape (n,)
    """
    v = np.asarray(values)
    n = len(v)
    if n == 0:
        return np.zeros(0, dtype="int64")
    if n == 1:
        return np.array([5], dtype="int64")
    rank = np.empty(n, dtype="int64")
    rank[np.argsort(v, kind="stable")] = np.arange(1, n + 1)
    # qcut's bins on ranks 1..n are right-closed at 1 + q (n - 1), q = 0.2, 0.4, ...
    return np.maximum(1, (5 * (rank - 1) + (n - 2)) // (n - 1)).astype("int64")


def rfm_group(r_score: Any, f_score: Any) -> pd.Categorical:
    """The named group of each (``r_score``, ``f_score``) pair (see :data:`RFM_GROUP_GRID`).

    Parameters
    ----------
    r_score, f_score : array-like of int in 1..5, shape (n,)

    Returns
    -------
    Categorical of shape (n,), categories :data:`RFM_GROUPS` in that order
    """
    r = np.asarray(r_score, dtype="int64")
    f = np.asarray(f_score, dtype="int64")
    if ((r < 1) | (r > 5) | (f < 1) | (f > 5)).any():
        raise InputError("RFM scores must be whole numbers from 1 to 5.", code="bad_option")
    grid = np.array(RFM_GROUP_GRID, dtype=object)
    return pd.Categorical(grid[r - 1, f - 1], categories=list(RFM_GROUPS))


def _table(
    customer_column: str, per: pd.DataFrame, freq: pd.Series | None, as_of: pd.Timestamp
) -> pd.DataFrame:
    order = _customer_order(per.index)
    per = per.iloc[order]
    frequency = (
        freq.reindex(per.index).fillna(0).astype("int64").to_numpy()
        if freq is not None
        else np.zeros(len(per), dtype="int64")
    )
    monetary = np.round(per["spend"].to_numpy(dtype="float64"), _MONEY_DECIMALS)
    monetary[monetary == 0] = 0.0  # no "-0.0" in the output
    first = pd.DatetimeIndex(per["first"]).normalize()
    last = pd.DatetimeIndex(per["last"]).normalize()
    recency = np.asarray((as_of - last).days, dtype="int64")
    tenure = np.asarray((as_of - first).days, dtype="int64")
    # Fewest days scores 5; a lone customer is the most recent too (5, not 6 - 5).
    r = 6 - quintile_scores(recency) if len(per) > 1 else quintile_scores(recency)
    f = quintile_scores(frequency)
    m = quintile_scores(monetary)
    out = pd.DataFrame(
        {
            customer_column: pd.array(per.index.astype("str"), dtype="str"),
            "recency_days": recency,
            "frequency": frequency,
            "monetary": monetary,
            "tenure_days": tenure,
            "avg_order_value": monetary / frequency,
            "r_score": r,
            "f_score": f,
            "m_score": m,
            "rfm_group": rfm_group(r, f),
            "first_purchase": first.to_numpy(),
            "last_purchase": last.to_numpy(),
        }
    )
    return out


# --------------------------------------------------------------------------- public


def rfm_from_chunks(
    chunks: Callable[[], Iterable[pd.DataFrame]],
    columns: RFMColumns,
    as_of: Any = None,
    *,
    dayfirst: bool | None = None,
    decimal: str = ".",
    cancelled_prefix: str | None = "C",
) -> tuple[pd.DataFrame, RFMReport]:
    """The RFM table and report of a log read chunk by chunk (a log larger than memory).

    Parameters
    ----------
    chunks : callable returning an iterable of DataFrame
        Each call starts the log again from its first line. It is called a second
        time only when the dates' day/month order could not be told from the early
        chunks (every date fitted both) and a later chunk shows the other order.
    columns : RFMColumns
    as_of, dayfirst, cancelled_prefix
        As for :func:`rfm`.
    decimal : {".", ","}
        Decimal mark of numbers stored as text.

    Returns
    -------
    table : DataFrame of shape (n_customers, 12), as :func:`rfm` returns
    report : RFMReport
    """
    order = dayfirst
    for attempt in range(2):
        builder = RFMBuilder(columns, as_of, order, decimal, cancelled_prefix)
        if attempt:
            builder.dates.forced = False  # proven by the data, not asked for
        try:
            for chunk in chunks():
                builder.add(chunk)
        except _DateOrderChanged as change:
            order = change.dayfirst
            continue
        return builder.finish()
    raise AssertionError("unreachable: the second pass has a proven date order")


def rfm_with_report(
    transactions: pd.DataFrame,
    customer: str,
    date: str,
    amount: str | None = None,
    quantity: str | None = None,
    price: str | None = None,
    invoice: str | None = None,
    as_of: Any = None,
    *,
    dayfirst: bool | None = None,
    cancelled_prefix: str | None = "C",
) -> tuple[pd.DataFrame, RFMReport]:
    """Like :func:`rfm`, but return the report beside the table."""
    if not isinstance(transactions, pd.DataFrame):
        raise InputError(
            f"rfm needs a table (a pandas DataFrame), got {type(transactions).__name__}.",
            code="bad_option",
        )
    cols = RFMColumns(customer, date, amount, quantity, price, invoice)
    builder = RFMBuilder(cols, as_of=as_of, dayfirst=dayfirst, cancelled_prefix=cancelled_prefix)
    builder.add(transactions)
    return builder.finish()


def rfm(
    transactions: pd.DataFrame,
    customer: str,
    date: str,
    amount: str | None = None,
    quantity: str | None = None,
    price: str | None = None,
    invoice: str | None = None,
    as_of: Any = None,
    *,
    dayfirst: bool | None = None,
    cancelled_prefix: str | None = "C",
) -> pd.DataFrame:
    """One row per customer from a purchase log: RFM features, scores and named groups.

    See the module documentation for every column's definition, the treatment of
    returns and cancellations, the scores and the named groups.

    Parameters
    ----------
    transactions : DataFrame of shape (n_lines, n_columns)
        One row per order line.
    customer, date : str
        The customer column and the purchase date column (dates as dates, or text in
        the common forms: ``2010-12-31``, ``31/12/2010 08:26``, ``12/31/2010``, ...).
    amount : str, optional
        The line's spend. Give this, or both ``quantity`` and ``price``.
    quantity, price : str, optional
        Spend = quantity x price.
    invoice : str, optional
        The order (invoice) number; without it, each purchase day is one order.
    as_of : date-like or str, optional
        The reference day of recency and tenure; default the day after the last date.
        Refused if it is before some lines of the log.
    dayfirst : bool, optional
        Whether ``01/02/2010`` is 1 February; default decided from the dates (and
        reported), day first when every date fits both.
    cancelled_prefix : str or None, default "C"
        Invoices starting with it and then a digit are cancellations; None turns it off.

    Returns
    -------
    DataFrame of shape (n_customers, 12)
        The customer column (text) and :data:`OUTPUT_COLUMNS`; ``df.attrs["rfm_report"]``
        holds the report as a dict (see :class:`RFMReport`).

    Raises
    ------
    ColumnError
        A missing column (``code="missing_column"``), no spend columns, no readable
        date (``"no_dates"``), no customer (``"no_customer"``), no purchase.
    InputError
        ``as_of`` before some lines (``code="as_of_too_early"``) or not a date.

    Examples
    --------
    >>> log = pd.DataFrame({"cust": ["a", "a", "b"], "day": ["2024-01-01", "2024-01-05",
    ...                     "2024-01-03"], "spend": [10.0, 5.0, 7.5]})
    >>> rfm(log, "cust", "day", amount="spend")[["cust", "recency_days", "frequency", "monetary"]]
      cust  recency_days  frequency  monetary
    0    a             1          2      15.0
    1    b             3          1       7.5
    """
    table, report = rfm_with_report(
        transactions, customer, date, amount, quantity, price, invoice, as_of,
        dayfirst=dayfirst, cancelled_prefix=cancelled_prefix,
    )  # fmt: skip
    table.attrs["rfm_report"] = report.as_dict()
    return table
