"""Methods side by side: :func:`compare_methods` fits k-means, fuzzy c-means and a
Gaussian mixture on the same preparation and says where they agree.

Agreement between two methods is scikit-learn's adjusted Rand index (1: the same
partition, about 0: no more alike than chance; it ignores how segments are
numbered). To line segment numbers up, each method's segments are matched to the
first method's by the Hungarian assignment (``scipy.optimize.linear_sum_assignment``)
on their cross-tabulation, which maximises the customers the two put in matched
segments; a customer on whom the matched labels differ is a disagreement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score

from analytics.constants import METHOD_NAMES
from analytics.errors import InputError
from analytics.model.fit import Segmentation, accepted_settings, check_method, segment

__all__ = ["MethodComparison", "compare_methods", "match_labels"]


def match_labels(reference: np.ndarray, other: np.ndarray, k: int) -> np.ndarray:
    """Renumber ``other``'s segments to line up with ``reference``'s.

    Parameters
    ----------
    reference, other : ndarray of shape (n,), labels 1..k
    k : number of segments

    Returns
    -------
    mapping : ndarray of shape (k + 1,)
        ``mapping[other]`` is ``other`` in the reference's numbering (index 0 unused):
        the one-to-one matching that puts the most rows in matched segments.
    """
    table = np.zeros((k, k), dtype=np.int64)
    np.add.at(table, (reference - 1, other - 1), 1)
    rows, cols = linear_sum_assignment(-table)
    mapping = np.zeros(k + 1, dtype=np.int64)
    mapping[cols + 1] = rows + 1
    return mapping


@dataclass
class MethodComparison:
    """What :func:`compare_methods` found.

    Attributes
    ----------
    methods : tuple of str, the methods in order (the first is the reference numbering)
    k : int
    labels : DataFrame of shape (n_rows, n_methods)
        Each method's own segment (1..k, 1 the largest), one column per method.
    matched : DataFrame of shape (n_rows, n_methods)
        The same labels renumbered to the first method's segments.
    agreement : DataFrame of shape (n_methods, n_methods)
        Adjusted Rand index between each pair (1 on the diagonal).
    pairs : DataFrame, one row per pair
        ``method_a``, ``method_b``, ``adjusted_rand``, ``same_segment`` (share of rows
        in matched segments).
    disagree : ndarray of bool, shape (n_rows,)
        Rows whose matched labels are not all the same.
    segmentations : dict of str to Segmentation
    data : the input frame (not copied)
    warnings : list of str
    """

    methods: tuple[str, ...]
    k: int
    labels: pd.DataFrame
    matched: pd.DataFrame
    agreement: pd.DataFrame
    pairs: pd.DataFrame
    disagree: np.ndarray
    segmentations: dict[str, Segmentation]
    data: pd.DataFrame
    warnings: list[str] = field(default_factory=list)

    def crosstab(self, a: str, b: str) -> pd.DataFrame:
        """Customers by segment of method ``a`` (rows) and of method ``b`` (columns).

        ``b``'s segments are ordered to match ``a``'s, so the diagonal counts the
        customers both put in matched segments. Row labels are ``a``'s segment
        numbers, column labels ``b``'s own numbers.

        Returns
        -------
        DataFrame of shape (k, k), int counts
        """
        la = self.labels[a].to_numpy()
        lb = self.labels[b].to_numpy()
        mapping = match_labels(la, lb, self.k)
        # column i holds b's segment matched to a's segment i + 1
        b_of = np.empty(self.k, dtype=np.int64)
        b_of[mapping[1:] - 1] = np.arange(1, self.k + 1)
        table = np.zeros((self.k, self.k), dtype=np.int64)
        np.add.at(table, (la - 1, lb - 1), 1)
        out = pd.DataFrame(
            table[:, b_of - 1],
            index=pd.Index(np.arange(1, self.k + 1), name=f"{METHOD_NAMES[a]} segment"),
            columns=pd.Index(b_of, name=f"{METHOD_NAMES[b]} segment"),
        )
        return out

    def table(self) -> pd.DataFrame:
        """The input rows with each method's segment and whether they agree.

        Returns
        -------
        DataFrame of shape (n_rows, n_columns + n_methods + 1)
            Every input column unchanged, then ``segment_<method>`` (each method's
            own numbering) and ``methods_agree`` (True/False).
        """
        out = self.data.copy(deep=False)
        for m in self.methods:
            out[self._column(m, out.columns)] = self.labels[m].to_numpy()
        out[self._column("agree", out.columns, "methods_agree")] = ~self.disagree
        return out

    def disagreements(self) -> pd.DataFrame:
        """:meth:`table` for the rows the methods disagree on."""
        return self.table().loc[self.disagree]

    @staticmethod
    def _column(method: str, existing: Any, name: str | None = None) -> str:
        name = name or f"segment_{method}"
        taken = set(map(str, existing))
        while name in taken:  # never overwrite an input column
            name = "_" + name
        return name


def compare_methods(
    df: pd.DataFrame,
    k: int,
    methods: Sequence[str] = ("kmeans", "fcm", "gmm"),
    columns: Sequence[str] | None = None,
    random_state: int = 0,
    **params: Any,
) -> MethodComparison:
    """Fit several methods with the same k on the same preparation and compare them.

    Parameters
    ----------
    df : DataFrame of shape (n_rows, n_columns); never modified
    k : number of segments (the same for every method)
    methods : two or more of ``"kmeans"``, ``"fcm"``, ``"gmm"``; the first gives
        the reference segment numbers
    columns : feature columns (default: the numeric and categorical ones)
    random_state : seed of every fit
    **params : preparation (``scaling``, ``log_transform``, ``impute``), passed to
        every method, and model settings, each passed to the methods that take it
        (``m`` to FCM, ``covariance_type`` to the mixture, ``n_init`` to all, ...)

    Returns
    -------
    MethodComparison

    Raises
    ------
    InputError
        Fewer than two distinct methods, an unknown method or setting, or data the
        fits refuse.
    """
    methods = tuple(check_method(m) for m in methods)
    if len(methods) < 2 or len(set(methods)) != len(methods):
        raise InputError(
            "Compare needs two or more different methods (of kmeans, fcm, gmm); got "
            + (", ".join(methods) or "none")
            + ".",
            code="bad_option",
        )
    unknown = set(params) - set().union(*(accepted_settings(m) for m in methods))
    if unknown:
        raise InputError(f"Unknown setting(s): {', '.join(sorted(unknown))}.", code="bad_option")
    segs: dict[str, Segmentation] = {}
    for m in methods:
        own = {p: v for p, v in params.items() if p in accepted_settings(m)}
        segs[m] = segment(df, m, k, columns=columns, random_state=random_state, **own)
    k = segs[methods[0]].k
    labels = pd.DataFrame({m: segs[m].labels for m in methods}, index=df.index)
    ref = labels[methods[0]].to_numpy()
    matched = pd.DataFrame(
        {m: match_labels(ref, labels[m].to_numpy(), k)[labels[m].to_numpy()] for m in methods},
        index=df.index,
    )
    ari = np.eye(len(methods))
    rows = []
    for (i, a), (j, b) in combinations(enumerate(methods), 2):
        la, lb = labels[a].to_numpy(), labels[b].to_numpy()
        ari[i, j] = ari[j, i] = adjusted_rand_score(la, lb)
        same = float(np.mean(match_labels(la, lb, k)[lb] == la))
        rows.append(
            {"method_a": a, "method_b": b, "adjusted_rand": ari[i, j], "same_segment": same}
        )
    agreement = pd.DataFrame(ari, index=list(methods), columns=list(methods))
    m_arr = matched.to_numpy()
    disagree = (m_arr != m_arr[:, :1]).any(axis=1)
    notes: list[str] = []
    for m in methods:
        notes += [w for w in segs[m].warnings if w not in notes]
    return MethodComparison(
        methods=methods,
        k=k,
        labels=labels,
        matched=matched,
        agreement=agreement,
        pairs=pd.DataFrame(rows),
        disagree=disagree,
        segmentations=segs,
        data=df,
        warnings=notes,
    )
