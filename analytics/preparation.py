"""Column profiling (a role and a reason for every column) and feature preparation.

Preparation turns the analyst's columns into a finite numeric matrix: numbers
are parsed, imputed (median or mean), log-transformed where strongly skewed, and
scaled; categories are imputed (most frequent) and one-hot encoded. Every step is
kept so centres can be reported back in the original units and new rows prepared
the same way.

The default is the same for every method and study (``segment``, ``sweep_k``,
``anomaly_scores``, ``sample_synthetic``): ``log_transform=True``, automatic.

- **Skewed columns**: a numeric column whose values are all non-negative, that has
  at least three distinct values and whose skewness is above :data:`AUTO_LOG_SKEW`
  (1.0, the usual line for "highly skewed", Bulmer 1979) is modelled as
  ``log1p(x)`` when that lowers the size of its skewness (money and counts are
  usually like this). Every such column is reported in :attr:`Preparer.log_report`
  (skewness before and after) and in one sentence of :attr:`Preparer.warnings`.
- **Discrete columns**: :attr:`Preparer.resolution` holds, per whole-number column,
  the gap between its most frequent value and the nearest other value, in prepared
  units. (Only whole numbers: identical rows of measured values, such as one customer
  duplicated 150 times, are a data problem that the degenerate-fit check names.) A Gaussian mixture gives such a column a variance floor of
  ``resolution**2 / 12`` (the variance of a uniform over one step, as
  dequantisation does), so a spike of customers on one value ("bought once") cannot
  become a component of near-zero variance. :attr:`Preparer.flags` lists the 0/1
  flags (exactly two whole-number values); mixtures leave them out like categories
  (see :func:`analytics.model.fit.prepare_for_method`), other methods use them as
  numbers. Whole-number scores (1..5) stay ordinary numeric features.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from analytics.errors import ColumnError, InputError

ROLE_NUMERIC = "numeric"
ROLE_CATEGORICAL = "categorical"
ROLE_IDENTIFIER = "identifier"
ROLE_DATE = "date"
ROLE_CONSTANT = "constant"
ROLE_EMPTY = "empty"
ROLE_MOSTLY_MISSING = "mostly missing"
ROLE_TEXT = "free text"
ROLE_CODE = "category code"

#: Roles that are used as features unless the analyst says otherwise.
DEFAULT_FEATURE_ROLES = (ROLE_NUMERIC, ROLE_CATEGORICAL)
#: Most distinct values a text column may have to be treated as a category.
MAX_CATEGORIES = 30
#: Skewness above which a non-negative numeric column is log-transformed automatically.
AUTO_LOG_SKEW = 1.0
#: Profiling looks at this many columns at most; wider files are capped (and the cap reported).
MAX_PROFILED_COLUMNS = 2_000

ID_NAME = re.compile(r"(^|[^a-z])(id|key|uuid|guid|code|number|no)$|^id([^a-z]|$)|_id$", re.I)


def to_numeric(s: pd.Series) -> pd.Series:
    """Numbers from a column; text that does not parse becomes NaN, inf becomes NaN."""
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        out = s.astype("float64")
    else:
        out = pd.to_numeric(s.astype("string").str.strip(), errors="coerce").astype("float64")
    return out.where(np.isfinite(out.to_numpy(dtype="float64", na_value=np.nan)))


def _looks_like_dates(s: pd.Series) -> bool:
    sample = s.dropna().astype("string").head(200)
    if sample.empty or not sample.str.contains(r"\d[-/.]\d|\d{4}-\d", regex=True).all():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(sample, errors="coerce", dayfirst=True, format="mixed")
    return bool(parsed.notna().mean() >= 0.9)


@dataclass
class ColumnProfile:
    """What one column holds and what it is used for."""

    column: str
    role: str
    use: bool
    reason: str
    dtype: str
    missing: int
    distinct: int
    unparsed: int = 0


def _profile_one(name: str, s: pd.Series) -> ColumnProfile:
    n = len(s)
    missing = int(s.isna().sum())
    present = n - missing
    distinct = int(s.nunique(dropna=True))
    dtype = str(s.dtype)

    def prof(role: str, use: bool, reason: str, unparsed: int = 0) -> ColumnProfile:
        return ColumnProfile(name, role, use, reason, dtype, missing, distinct, unparsed)

    if present == 0:
        return prof(ROLE_EMPTY, False, "every value is missing")
    if missing / n > 0.5:
        return prof(
            ROLE_MOSTLY_MISSING, False, f"{missing / n:.0%} of values are missing, too few to use"
        )
    if distinct == 1:
        return prof(
            ROLE_CONSTANT, False, "has the same value in every row, so it cannot separate customers"
        )
    if pd.api.types.is_datetime64_any_dtype(s):
        return prof(ROLE_DATE, False, "is a date; dates are not used directly as features")

    numeric_dtype = pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
    # Parsing a whole text column that is clearly not numbers (IDs, names) costs
    # seconds at a million rows; a sample of its values tells first.
    sample = s.dropna().iloc[:1000]
    if numeric_dtype or to_numeric(sample).notna().mean() >= 0.5:
        nums = to_numeric(s)
    else:
        nums = pd.Series(np.nan, index=s.index[:0], dtype="float64")
    parsed = int(nums.notna().sum())
    unparsed = present - parsed
    if not numeric_dtype and parsed == present and _whole_number_id(name, nums, distinct):
        # The same rule as for a numeric column: customer numbers kept as text (as rfm()
        # keeps them) are an ID, not an amount.
        return prof(ROLE_IDENTIFIER, False, "a different whole number in every row: an ID")
    if not numeric_dtype and parsed > 0 and parsed / present >= 0.9 and not _leading_zero(s):
        if unparsed:
            return prof(
                ROLE_NUMERIC,
                True,
                f"numbers, but {unparsed} value(s) are not numbers and are treated as missing",
                unparsed,
            )
        return prof(ROLE_NUMERIC, True, "numbers stored as text")

    if numeric_dtype or (parsed == present and not _leading_zero(s)):
        v = nums.dropna()
        integral = bool(np.all(np.mod(v, 1) == 0))
        if (
            integral
            and distinct == present
            and present > 20
            and (ID_NAME.search(name) or v.is_monotonic_increasing)
        ):
            return prof(ROLE_IDENTIFIER, False, "a different whole number in every row: an ID")
        if integral and 2 < distinct <= 10 and v.min() == 1 and v.max() == distinct:
            return prof(
                ROLE_CODE,
                False,
                f"only the whole numbers 1..{distinct}: probably a code for a category "
                "(such as a region); tick it to use it as a category",
            )
        if integral and distinct == 2 and set(v.unique()) == {1, 2}:
            return prof(
                ROLE_CODE,
                False,
                "only the values 1 and 2: probably a code for a category; tick it to use it",
            )
        return prof(ROLE_NUMERIC, True, "numbers")

    if _looks_like_dates(s):
        return prof(ROLE_DATE, False, "looks like dates; dates are not used directly as features")
    if distinct == present and present > 20:
        return prof(ROLE_IDENTIFIER, False, "a different value in every row: an ID or a name")
    if ID_NAME.search(name) and distinct > 0.9 * present and present > 20:
        return prof(ROLE_IDENTIFIER, False, "almost every row differs and the name says ID")
    if distinct <= max(MAX_CATEGORIES, 0):
        return prof(ROLE_CATEGORICAL, True, f"text with {distinct} distinct values: a category")
    return prof(
        ROLE_TEXT, False, f"text with {distinct} distinct values, too many to use as a category"
    )


def _whole_number_id(name: str, nums: pd.Series, distinct: int) -> bool:
    """Whether numbers ``nums`` (no gaps) look like an ID: a different whole number in each
    of more than 20 rows, with an ID-like name or in increasing order."""
    v = nums.dropna()
    return (
        len(v) > 20
        and distinct == len(v)
        and bool(np.all(np.mod(v, 1) == 0))
        and bool(ID_NAME.search(name) or v.is_monotonic_increasing)
    )


def _category_labels(s: pd.Series) -> pd.Series:
    """Category labels as text; whole-number codes read as floats (``1.0``, because the
    column has gaps) get the same label as the integers (``1``) so they match."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        v = s.astype("float64")
        if bool(np.all(np.mod(v.dropna(), 1) == 0)):
            return v.astype("Int64").astype("string")
    return s.astype("string")


def _category_key(label: str) -> str:
    """The value a category label stands for: numbers compare as numbers, text trimmed."""
    try:
        return repr(float(label))
    except ValueError:
        return label.strip()


def _leading_zero(s: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(s):
        return False
    t = s.dropna().astype("string").head(500)
    return bool(t.str.match(r"^0\d").any())


def profile_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Give every column a role, a default use and a reason in plain words.

    Parameters
    ----------
    df : DataFrame of shape (n_rows, n_columns)

    Returns
    -------
    DataFrame with one row per column (at most ``MAX_PROFILED_COLUMNS``) and the
    columns ``column, role, use, reason, dtype, missing, distinct, unparsed``.
    ``df.attrs["capped"]`` holds the number of columns left unprofiled.
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError("Expected a table (a pandas DataFrame).", code="not_a_table")
    names = pd.Index([str(c) for c in df.columns])
    if names.has_duplicates:
        dups = sorted(set(names[names.duplicated()]))
        raise ColumnError(
            "Several columns have the same name: "
            + ", ".join(f"'{c}'" for c in dups)
            + ". Rename them so that every column name is different.",
            code="duplicate_column_names",
        )
    cols = list(df.columns[:MAX_PROFILED_COLUMNS])
    rows = [asdict(_profile_one(str(c), df[c])) for c in cols] if len(df) else []
    out = pd.DataFrame(
        rows,
        columns=["column", "role", "use", "reason", "dtype", "missing", "distinct", "unparsed"],
    )
    out.attrs["capped"] = max(0, df.shape[1] - MAX_PROFILED_COLUMNS)
    return out


def default_columns(df: pd.DataFrame) -> list[str]:
    """Columns used as features by default (numeric and categorical roles)."""
    prof = profile_columns(df)
    return prof.loc[prof["use"], "column"].tolist()


@dataclass
class PrepOptions:
    """How features are prepared.

    scaling : "standard" (z-scores), "robust" (median / IQR) or "none".
    log_transform : True (the default: every non-negative numeric column with
        skewness above :data:`AUTO_LOG_SKEW` whose skewness log1p lowers), False
        (none) or a list of column names to transform with log1p.
    impute : "median" or "mean" for numbers (categories always use the most frequent value).
    """

    scaling: Literal["standard", "robust", "none"] = "standard"
    log_transform: bool | Sequence[str] = True
    impute: Literal["median", "mean"] = "median"

    def validate(self) -> None:
        if self.scaling not in ("standard", "robust", "none"):
            raise InputError(
                f"Scaling must be 'standard', 'robust' or 'none', not {self.scaling!r}.",
                code="bad_option",
            )
        if self.impute not in ("median", "mean"):
            raise InputError(
                f"Imputation must be 'median' or 'mean', not {self.impute!r}.", code="bad_option"
            )


@dataclass
class Preparer:
    """Fitted preparation of a set of columns; ``transform`` maps new rows the same way.

    Attributes (after ``fit``)
    --------------------------
    numeric, categorical : the columns of each kind, in input order
    feature_names : names of the prepared matrix's columns (``col`` or ``col=value``)
    fill : imputation value per column; imputed : count of missing values filled per column
    log_columns : numeric columns transformed with log1p
    log_report : per log column, ``{"skew_before", "skew_after", "automatic"}``
        (skewness of the present values before and after log1p; automatic: chosen by
        the skewness rule rather than by name)
    resolution : per whole-number numeric column, the step between its most frequent
        value and the nearest other value, in prepared units (scaled, after the log);
        mixtures floor that feature's variance at ``resolution**2 / 12``
    flags : numeric columns holding exactly two whole-number values (0/1 flags)
    center, scale : per numeric column, after the log step
    categories : observed labels per categorical column (one-hot order)
    warnings : plain sentences about what was done
    """

    columns: list[str]
    options: PrepOptions = field(default_factory=PrepOptions)
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    feature_names: list[str] = field(default_factory=list)
    fill: dict[str, Any] = field(default_factory=dict)
    imputed: dict[str, int] = field(default_factory=dict)
    log_columns: list[str] = field(default_factory=list)
    log_report: dict[str, dict[str, Any]] = field(default_factory=dict)
    resolution: dict[str, float] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    center: dict[str, float] = field(default_factory=dict)
    scale: dict[str, float] = field(default_factory=dict)
    categories: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    # -- fitting ---------------------------------------------------------
    def fit(self, df: pd.DataFrame, roles: dict[str, str] | None = None) -> Preparer:
        """Learn imputation, transform, scaling and encodings from ``df``."""
        self.options.validate()
        # Idempotent (scikit-learn's contract): a second fit starts from nothing, so
        # warnings and encodings never accumulate.
        self.numeric, self.categorical, self.feature_names = [], [], []
        self.fill, self.imputed, self.center, self.scale, self.categories = {}, {}, {}, {}, {}
        self.log_columns, self.warnings = [], []
        self.log_report, self.resolution, self.flags = {}, {}, []
        if roles is None:
            prof = profile_columns(df[self.columns]) if self.columns else None
            roles = dict(zip(prof["column"], prof["role"], strict=True)) if prof is not None else {}
        self.numeric, self.categorical = [], []
        for c in self.columns:
            role = roles.get(c, ROLE_NUMERIC)
            if role == ROLE_NUMERIC:
                self.numeric.append(c)
            elif role in (ROLE_CATEGORICAL, ROLE_CODE):
                self.categorical.append(c)
            elif role in (ROLE_EMPTY, ROLE_CONSTANT):
                self.warnings.append(f"'{c}' was left out: it {_ROLE_WHY[role]}.")
            else:
                # Dates, IDs and free text chosen by hand: use as numbers if they parse,
                # otherwise as categories if few enough, else refuse with the reason.
                nums = to_numeric(df[c])
                # Share of the *present* values that parse: a mostly-missing column of numbers
                # is numeric, not a category.
                if nums.notna().sum() >= 0.9 * max(int(df[c].notna().sum()), 1):
                    self.numeric.append(c)
                elif df[c].nunique() <= MAX_CATEGORIES:
                    self.categorical.append(c)
                else:
                    raise ColumnError(
                        f"'{c}' cannot be used as a feature: it is {role} "
                        f"({df[c].nunique()} distinct values).",
                        code="unusable_column",
                    )
        self._fit_numeric(df)
        self._fit_categorical(df)
        self.feature_names = list(self.numeric) + [
            f"{c}={v}" for c in self.categorical for v in self.categories[c]
        ]
        if not self.feature_names:
            raise ColumnError(
                "None of the chosen columns can be used as a feature. Pick at least one "
                "column with numbers or categories.",
                code="no_features",
            )
        return self

    def _fit_numeric(self, df: pd.DataFrame) -> None:
        opts = self.options
        if opts.log_transform is True:
            candidates = list(self.numeric)
            auto = True
        else:
            candidates = [c for c in (opts.log_transform or []) if c in self.numeric]
            auto = False
        for c in list(self.numeric):
            raw = df[c]
            x = to_numeric(raw)
            n_inf = _count_inf(raw)
            if n_inf:
                self.warnings.append(
                    f"'{c}': {n_inf} infinite value(s) (such as 1e309) were treated as missing."
                )
            v = x.dropna()
            if v.empty:
                self.numeric.remove(c)
                self.warnings.append(f"'{c}' was left out: no value in it is a number.")
                continue
            raw_v = v.to_numpy(dtype="float64")
            integral = bool(np.all(np.mod(raw_v, 1) == 0))
            # Whole-number columns have few distinct values: one hash count gives the
            # number of values (flags), the mode and its neighbours (resolution).
            counts = pd.Series(raw_v).value_counts(sort=False) if integral else None
            n_values = len(counts) if counts is not None else 3  # continuous numbers
            if c in candidates and (v >= 0).all():
                before = _skewness(v)
                after = _skewness(np.log1p(v))
                if not auto or (
                    before > AUTO_LOG_SKEW and abs(after) < abs(before) and n_values > 2
                ):
                    self.log_columns.append(c)
                    self.log_report[c] = {
                        "skew_before": before,
                        "skew_after": after,
                        "automatic": auto,
                    }
            elif c in candidates and not auto:
                self.warnings.append(f"'{c}' has negative values, so it was not log-transformed.")
            if c in self.log_columns:
                v = np.log1p(v)
            fill = float(v.median() if opts.impute == "median" else _stable_mean(v))
            self.fill[c] = fill
            self.imputed[c] = int(x.isna().sum())
            center, scale = _location_scale(v.to_numpy(dtype="float64"), opts.scaling)
            if not (np.isfinite(center) and np.isfinite(scale)):
                raise ColumnError(
                    f"'{c}' has values too large to compute with (around 1e308). Divide the "
                    "column by a large power of ten before uploading.",
                    code="overflow",
                )
            if scale == 0:
                self.numeric.remove(c)
                self.log_columns = [lc for lc in self.log_columns if lc != c]
                self.warnings.append(f"'{c}' was left out: it has the same value in every row.")
                continue
            self.center[c], self.scale[c] = center, scale
            if counts is not None:
                step = _step_at_mode(counts, c in self.log_columns)
                if step is not None:
                    self.resolution[c] = step / scale
                if n_values == 2 and integral:
                    self.flags.append(c)
        if self.log_report:
            self.warnings.append(_log_sentence(self.log_report))
        for c, cnt in self.imputed.items():
            if cnt and c in self.numeric:
                self.warnings.append(
                    f"'{c}': {cnt} missing value(s) filled with the {opts.impute} "
                    f"({self._fill_display(c)})."
                )

    def log_table(self) -> pd.DataFrame:
        """One row per log-transformed column: ``column, skew_before, skew_after, reason``."""
        rows = [
            {
                "column": c,
                "skew_before": r["skew_before"],
                "skew_after": r["skew_after"],
                "reason": (
                    f"skewness {r['skew_before']:.2f} is above {AUTO_LOG_SKEW:g}; "
                    f"{r['skew_after']:.2f} after log1p"
                    if r["automatic"]
                    else "chosen by name"
                ),
            }
            for c, r in self.log_report.items()
        ]
        return pd.DataFrame(rows, columns=["column", "skew_before", "skew_after", "reason"])

    def variance_floor(self, reg_covar: float = 0.0) -> np.ndarray:
        """Smallest variance a mixture may give each prepared feature, shape (n_features,).

        ``max(reg_covar, resolution**2 / 12)`` for whole-number columns (the variance of
        a uniform over one step), ``reg_covar`` for every other feature.
        """
        floor = np.full(len(self.feature_names), float(reg_covar))
        with np.errstate(over="ignore"):  # unscaled steps near 1e200: inf, refused later
            for j, c in enumerate(self.numeric):
                if c in self.resolution:
                    floor[j] = max(floor[j], np.float64(self.resolution[c]) ** 2 / 12.0)
        return floor

    def _fill_display(self, c: str) -> str:
        v = self.fill[c]
        v = float(np.expm1(v)) if c in self.log_columns else v
        # Large but ordinary amounts in full; beyond 1e15 (a 309-digit 1e308) in short form.
        return f"{v:,.0f}" if 1e4 <= abs(v) < 1e15 else f"{v:.4g}"

    def _fit_categorical(self, df: pd.DataFrame) -> None:
        for c in self.categorical:
            s = _category_labels(df[c])
            counts = s.value_counts(dropna=True)
            if counts.empty:
                raise ColumnError(f"'{c}' has no values to use.", code="empty_column")
            self.fill[c] = str(counts.index[0])
            self.imputed[c] = int(s.isna().sum())
            if self.imputed[c]:
                self.warnings.append(
                    f"'{c}': {self.imputed[c]} missing value(s) filled with the most frequent "
                    f"value ('{self.fill[c]}')."
                )
            self.categories[c] = sorted(str(v) for v in counts.index)

    # -- applying --------------------------------------------------------
    def transform(self, df: pd.DataFrame) -> np.ndarray:
        """Prepared matrix of shape (n_rows, n_features), all values finite."""
        missing = [c for c in self.numeric + self.categorical if c not in df.columns]
        if missing:
            raise ColumnError(
                "The table is missing column(s) the model needs: "
                + ", ".join(f"'{c}'" for c in missing),
                code="missing_columns",
            )
        # Filled column by column into one preallocated matrix: no list of parts plus a
        # stacked copy, so peak memory stays near one prepared matrix.
        X = np.empty((len(df), len(self.feature_names)), dtype="float64")
        for j, c in enumerate(self.numeric):
            x = to_numeric(df[c])
            if c in self.log_columns:
                x = np.log1p(x.clip(lower=0))
            X[:, j] = x.fillna(self.fill[c]).to_numpy(dtype="float64")
            X[:, j] -= self.center[c]
            X[:, j] /= self.scale[c]
        j = len(self.numeric)
        for c in self.categorical:
            codes = self._category_codes(c, _category_labels(df[c]).fillna(self.fill[c]))
            block = X[:, j : j + len(self.categories[c])]
            block[:] = 0.0
            seen = codes >= 0  # unseen labels (code -1) get an all-zero one-hot row
            block[np.nonzero(seen)[0], codes[seen]] = 1.0
            j += len(self.categories[c])
        bad = ~np.isfinite(X)
        if bad.any():
            col = self.feature_names[int(np.nonzero(bad.any(axis=0))[0][0])]
            raise ColumnError(
                f"'{col}' has values too large to compute with after scaling. "
                "Divide the column by a large power of ten before uploading.",
                code="overflow",
            )
        return X

    def _category_codes(self, c: str, labels: pd.Series) -> np.ndarray:
        """Index of each label in ``categories[c]``, -1 for a label never seen in training.

        Labels are matched by value, so a code written ``1``, ``1.0`` or ``" 1"`` (a new
        file with gaps, or read as text) is the same category as the ``1`` learned.
        Done on the distinct labels (a category column has few), then spread to rows.
        """
        exact = {v: i for i, v in enumerate(self.categories[c])}
        by_value: dict[str, int] = {}
        for v, i in exact.items():
            by_value.setdefault(_category_key(v), i)
        codes, uniques = pd.factorize(labels)
        lookup = np.array(
            [exact.get(str(u), by_value.get(_category_key(str(u)), -1)) for u in uniques] + [-1]
        )
        return lookup[codes]  # factorize's -1 (missing) picks the trailing -1

    def fit_transform(self, df: pd.DataFrame, roles: dict[str, str] | None = None) -> np.ndarray:
        """Fit on ``df`` and return its prepared matrix, shape (n_rows, n_features)."""
        return self.fit(df, roles).transform(df)

    def inverse_transform(self, Z: np.ndarray) -> pd.DataFrame:
        """Map prepared points (m, n_features) back to the original columns and units.

        Numbers are unscaled (and un-logged); a category gets the label with the
        largest one-hot value. For log columns this gives the geometric-mean-like
        centre, which is what the model actually used.
        """
        Z = np.atleast_2d(np.asarray(Z, dtype="float64"))
        out: dict[str, Any] = {}
        for i, c in enumerate(self.numeric):
            v = Z[:, i] * self.scale[c] + self.center[c]
            out[c] = np.expm1(v) if c in self.log_columns else v
        j = len(self.numeric)
        for c in self.categorical:
            cats = self.categories[c]
            block = Z[:, j : j + len(cats)]
            out[c] = [cats[int(a)] for a in block.argmax(axis=1)]
            j += len(cats)
        return pd.DataFrame(out, columns=self.numeric + self.categorical)

    def numeric_only(self, drop: Sequence[str] = ()) -> Preparer:
        """The same fitted preparation restricted to the numeric columns (which are the
        leading ``len(numeric)`` columns of the prepared matrix), without ``drop``."""
        keep = [c for c in self.numeric if c not in set(drop)]
        return replace(
            self,
            columns=[c for c in self.columns if c in keep],
            numeric=keep,
            categorical=[],
            feature_names=list(keep),
            fill={c: self.fill[c] for c in keep},
            imputed={c: self.imputed[c] for c in keep if c in self.imputed},
            categories={},
            log_columns=[c for c in self.log_columns if c in keep],
            log_report={c: dict(r) for c, r in self.log_report.items() if c in keep},
            resolution={c: v for c, v in self.resolution.items() if c in keep},
            flags=[c for c in self.flags if c in keep],
            center={c: self.center[c] for c in keep},
            scale={c: self.scale[c] for c in keep},
            warnings=list(self.warnings),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe description (used by model files)."""
        d = asdict(self)
        d["options"] = asdict(self.options)
        if not isinstance(d["options"]["log_transform"], bool):
            d["options"]["log_transform"] = list(d["options"]["log_transform"])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Preparer:
        """Inverse of :meth:`to_dict`."""
        d = dict(d)
        d["options"] = PrepOptions(**d["options"])
        return cls(**d)


_ROLE_WHY = {
    ROLE_EMPTY: "has no values",
    ROLE_CONSTANT: "has the same value in every row",
}


def _count_inf(s: pd.Series) -> int:
    """Infinite values in a column, whether stored as numbers or as text such as '1e309'."""
    if pd.api.types.is_bool_dtype(s):
        return 0
    if not pd.api.types.is_numeric_dtype(s):
        s = pd.to_numeric(s.astype("string").str.strip(), errors="coerce")
    return int(np.isinf(s.to_numpy(dtype="float64", na_value=np.nan)).sum())


def _skewness(v: pd.Series | np.ndarray) -> float:
    """Sample skewness (pandas' adjusted Fisher-Pearson), 0 for fewer than 3 values.

    Computed on ``v / max|v|``: skewness is scale-free, and cubes of values near 1e308
    would overflow.
    """
    v = pd.Series(np.asarray(v, dtype="float64"))
    if len(v) < 3:
        return 0.0
    top = float(v.abs().max()) or 1.0
    out = float((v / top).skew())
    return out if np.isfinite(out) else 0.0


def _step_at_mode(counts: pd.Series, logged: bool) -> float | None:
    """Gap between the most frequent value and the nearest other value (on the log1p
    scale when ``logged``), from value counts; None for a single value. It is the
    resolution where a spike of equal values forms."""
    if len(counts) < 2:
        return None
    order = np.argsort(counts.index.to_numpy(dtype="float64"), kind="stable")
    values = counts.index.to_numpy(dtype="float64")[order]
    if logged:
        values = np.log1p(values)
    i = int(counts.to_numpy()[order].argmax())  # the first of equal counts: the smallest value
    gaps = [values[i] - values[i - 1]] if i > 0 else []
    if i + 1 < len(values):
        gaps.append(values[i + 1] - values[i])
    return float(min(gaps))


def _log_sentence(report: dict[str, dict[str, Any]]) -> str:
    auto = [c for c, r in report.items() if r["automatic"]]
    parts = ", ".join(
        f"'{c}' (skewness {r['skew_before']:.1f}, {r['skew_after']:.1f} after)"
        for c, r in report.items()
    )
    if auto:
        return (
            f"Modelled on a log scale (log1p) because strongly right-skewed (skewness above "
            f"{AUTO_LOG_SKEW:g}): {parts}. Pass log_transform=False to keep the raw values."
        )
    return f"Modelled on a log scale (log1p), as asked: {parts}."


def _stable_mean(v: pd.Series) -> float:
    a = v.to_numpy(dtype="float64")
    s = float(np.abs(a).max()) or 1.0
    return float(np.mean(a / s) * s)


def _location_scale(a: np.ndarray, scaling: str) -> tuple[float, float]:
    """Centre and scale of one column, computed on ``a / max|a|`` so that values
    near 1e308 do not overflow while summing."""
    s = float(np.abs(a).max()) if a.size else 1.0
    if s == 0 or not np.isfinite(s):
        return (0.0, 0.0) if s == 0 else (np.nan, np.nan)
    b = a / s
    if scaling == "standard":
        return float(b.mean() * s), float(b.std() * s)
    if scaling == "robust":
        q1, med, q3 = np.percentile(b, [25, 50, 75])
        iqr = q3 - q1
        if iqr == 0:  # fall back to the standard deviation for very concentrated columns
            iqr = b.std()
        return float(med * s), float(iqr * s)
    return 0.0, 1.0


def prepare(
    df: pd.DataFrame,
    columns: Sequence[str] | None = None,
    options: PrepOptions | None = None,
    roles: dict[str, str] | None = None,
) -> tuple[np.ndarray, Preparer]:
    """Prepare ``df`` for clustering.

    Parameters
    ----------
    df : DataFrame of shape (n_rows, n_columns)
    columns : columns to use; default: those profiled as numeric or categorical.
    options : PrepOptions
    roles : column -> role from an earlier :func:`profile_columns` of the same table
        (the app has it cached); columns it lacks are profiled here

    Returns
    -------
    X : ndarray of shape (n_rows, n_features), finite
    preparer : the fitted Preparer (inverse, report, new rows)
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError("Expected a table (a pandas DataFrame).", code="not_a_table")
    if len(df) == 0:
        raise InputError("The table has no rows.", code="no_rows")
    if isinstance(columns, str):  # one name, not a sequence of one-letter names
        columns = [columns]
    if columns is None:
        prof = profile_columns(df)
        columns = prof.loc[prof["use"], "column"].tolist()
        if not columns:
            raise ColumnError(
                "No column holds numbers or categories that can describe customers. "
                "Check the file, or choose the columns by hand.",
                code="no_features",
            )
    columns = [str(c) for c in columns]
    names = {str(c): c for c in df.columns}
    unknown = [c for c in columns if c not in names]
    if unknown:
        raise ColumnError(
            "These columns are not in the table: " + ", ".join(f"'{c}'" for c in unknown),
            code="unknown_columns",
        )
    if len(set(columns)) != len(columns):
        raise ColumnError("A column was chosen twice.", code="duplicate_columns")
    frame = df.rename(columns=lambda c: str(c))
    # Profile only the chosen columns not profiled before: at a million rows each
    # column costs ~0.1 s, an ID column of distinct strings a second.
    known = dict(roles or {})
    todo = [c for c in columns if c not in known]
    if todo:
        prof = profile_columns(frame[todo])
        known.update(zip(prof["column"], prof["role"], strict=True))
    roles = {c: known[c] for c in columns}
    prep = Preparer(columns=columns, options=options or PrepOptions())
    X = prep.fit_transform(frame, roles)
    return X, prep
