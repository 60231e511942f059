"""Which k a sweep recommends, as data: the rule, the votes, who agrees, vetoes, edges.

The rule, in the words an analyst reads on the page:

1. **Vetoes** (:data:`VETOES`, functions ``(Evidence) -> {k: reason code}``) rule ks
   out before anything else. By default :func:`min_share_veto`: a k whose fit has a
   segment holding less than ``min_share`` of the rows (default 2%) is shown but not
   recommended. k = 1 is never vetoed.
2. **The lead rule of the method** picks one k among the ks left:

   - Gaussian mixture: **ICL** (BIC plus twice the classification's entropy term, as
     mclust's ``icl()``), which penalises segments that overlap, so it prefers
     well-separated segments, which is what a campaign needs. **Parsimony**: among the
     ks whose ICL is within :data:`PARSIMONY_IC` (10) of the lowest, the smallest k
     (Kass & Raftery, 1995: a BIC difference under 10 is not strong evidence; mclust
     uses the same scale). k = 1 has ICL = BIC, so one group wins when no split beats
     it by 10. Without an ``icl`` column, BIC by the same rule.
   - k-means and fuzzy c-means: the **gap statistic** (Tibshirani et al., 2001) of the
     method's own objective (k-means inertia, FCM objective), which compares it with
     the same fit on structureless data of the same spread. When k = 1 was tried and
     no k beats one group by more than one standard error, the answer is one group
     ("no segment structure stronger than noise"). Otherwise the paper's
     parsimonious rule: the smallest k >= 2 whose gap is within one standard error of
     the next k's. If that k is vetoed, the largest allowed k below it. Without a gap
     pick, the **knee** of the objective curve (kneedle: where extra segments stop
     paying off), then (FCM) the highest modified partition coefficient, which
     unlike PC and PE has no bias towards few segments.

3. **Voices**: every other criterion reports the k it would pick (among the allowed
   ks); they are shown, they do not decide. Silhouette is one voice and never leads.
4. **Flags**: the criteria that agree and disagree; a "disagree" warning only when
   more of the method's warning voices disagree than agree (never for mixtures, whose
   BIC, AIC and silhouette differ from ICL by design); whether the k is the largest
   of the range tried.

:mod:`analytics.studies.choose_k.wording` turns the result into sentences.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analytics.studies.choose_k.criteria import best_k, knee_point
from analytics.studies.choose_k.gap import gap_pick, one_group

#: The pseudo-criterion "the knee of the objective curve" (k-means inertia, FCM objective).
ELBOW = "elbow"

#: BIC/ICL differences below this are "not strong evidence" (Kass & Raftery, 1995).
PARSIMONY_IC = 10.0

#: Default smallest share of rows a segment of a recommended k must hold.
DEFAULT_MIN_SHARE = 0.02


@dataclass(frozen=True)
class Ballot:
    """The criteria one method is judged by.

    Attributes
    ----------
    lead : the criteria the lead rule reads, in order of precedence
    voters : every criterion that reports a k, in the order they are reported
    informational : voters whose different pick is reported but never raises a warning
    """

    lead: tuple[str, ...]
    voters: tuple[str, ...]
    informational: frozenset[str] = frozenset()


BALLOTS: dict[str, Ballot] = {
    # ICL decides; BIC (which also rewards overlapping components), AIC (a lighter
    # penalty) and silhouette (Euclidean, blind to covariance) differ from it by design.
    "gmm": Ballot(
        ("icl", "bic"),
        ("icl", "bic", "aic", "silhouette"),
        frozenset({"icl", "bic", "aic", "silhouette"}),
    ),
    "kmeans": Ballot(
        ("gap", ELBOW),
        (ELBOW, "gap", "silhouette", "calinski_harabasz", "davies_bouldin"),
    ),
    # PC and PE lie in ranges that depend on k and favour k = 2 by construction.
    "fcm": Ballot(
        ("gap", ELBOW, "mpc"),
        (ELBOW, "mpc", "xie_beni", "silhouette", "partition_coefficient", "partition_entropy"),
        frozenset({"partition_coefficient", "partition_entropy"}),
    ),
}

#: The column whose knee is the elbow, per method.
KNEE_COLUMN = {"kmeans": "inertia", "fcm": "objective"}


@dataclass(frozen=True)
class Evidence:
    """What the rules see.

    Attributes
    ----------
    method : "kmeans", "fcm" or "gmm"
    table : the sweep table, indexed by k (one column per criterion)
    knee_k : the knee of the objective curve, None if there is none (or a mixture)
    """

    method: str
    table: pd.DataFrame
    knee_k: int | None = None


#: A rule that excludes ks before the vote: returns ``{k: reason code}`` for each.
Veto = Callable[[Evidence], Mapping[int, str]]


def min_share_veto(min_share: float = DEFAULT_MIN_SHARE) -> Veto:
    """A veto of every k > 1 whose smallest segment holds less than ``min_share`` of the
    rows (the table's ``smallest_share`` column; no column, no veto)."""

    def veto(evidence: Evidence) -> dict[int, str]:
        t = evidence.table
        if "smallest_share" not in t or min_share <= 0:
            return {}
        s = pd.to_numeric(t["smallest_share"], errors="coerce")
        return {int(k): "small_segment" for k, v in s.items() if k > 1 and v < min_share}

    veto.min_share = min_share  # type: ignore[attr-defined]  # read by the wording
    return veto


#: The vetoes applied by default.
VETOES: tuple[Veto, ...] = (min_share_veto(DEFAULT_MIN_SHARE),)


@dataclass(frozen=True)
class Recommendation:
    """The recommended k and how it was reached, as data.

    Attributes
    ----------
    method : "kmeans", "fcm" or "gmm"
    k : the recommended k, None when nothing could be recommended
    status : "chosen"; or why there was no vote: "nothing_fitted", "one_k" (the only
        k fitted is returned), "no_criteria" (nothing could be computed), "all_vetoed"
    ks : the ks fitted, increasing
    picks : criterion -> the k it picks among the allowed ks, in reporting order
    lead : the ballot's lead criteria
    decided_by : how the lead rule decided: "parsimony" (smallest k within
        :data:`PARSIMONY_IC` of the best information criterion), "no_structure" (gap
        statistic: one group), "gap" (its one-standard-error rule), "below_gap" (that
        k was vetoed: the largest allowed k below it), "knee", "below_knee", "mpc",
        "first_pick" (no lead criterion available)
    criterion : the criterion the lead rule used ("icl", "bic", "gap", "elbow", "mpc", ...)
    best : the k ``criterion`` picks before vetoes (parsimony: the lowest value, which
        the smaller ``k`` was preferred to; below_*: the vetoed pick)
    near : the allowed ks within :data:`PARSIMONY_IC` of ``best`` (parsimony only)
    knee_k : the knee of the objective curve over every k tried (k-means, FCM)
    agree : criteria that pick ``k``, in reporting order
    disagree : criteria that pick another k, in reporting order
    warn : those of ``disagree`` whose dissent warrants a warning
    vetoed : k -> reason code, for the ks the vetoes ruled out
    min_share : the minimum segment share the vetoes used (None: no such veto)
    at_largest_k : ``k`` is the largest of at least three ks tried
    at_smallest_k : ``k`` is the smallest of at least three ks tried
    """

    method: str
    k: int | None
    status: str
    ks: tuple[int, ...] = ()
    picks: dict[str, int] = field(default_factory=dict)
    lead: tuple[str, ...] = ()
    decided_by: str = ""
    criterion: str = ""
    best: int | None = None
    near: tuple[int, ...] = ()
    knee_k: int | None = None
    agree: tuple[str, ...] = ()
    disagree: tuple[str, ...] = ()
    warn: tuple[str, ...] = ()
    vetoed: dict[int, str] = field(default_factory=dict)
    min_share: float | None = None
    at_largest_k: bool = False
    at_smallest_k: bool = False


def objective_knee(method: str, table: pd.DataFrame) -> int | None:
    """The knee of the method's objective curve (k-means inertia, FCM objective) over
    the ks >= 2 tried (None for mixtures, or without a knee). k = 1 stays out: its drop
    to k = 2 would dominate the normalised curve, and the gap statistic answers
    whether one group is enough."""
    column = KNEE_COLUMN.get(method)
    if column is None or column not in table:
        return None
    ks = [int(k) for k in table.index if k >= 2]
    return knee_point(ks, table.loc[ks, column]) if ks else None


def _can_rate(table: pd.DataFrame, c: str, k: int) -> bool:
    """Whether criterion ``c`` has a value at ``k`` (the elbow rates only ks >= 2)."""
    if c == ELBOW:
        return k >= 2
    return c in table and bool(np.isfinite(pd.to_numeric(table[c], errors="coerce").get(k, np.nan)))


def apply_vetoes(evidence: Evidence, vetoes: Sequence[Veto]) -> dict[int, str]:
    """Every k some veto rules out, with the first veto's reason code."""
    out: dict[int, str] = {}
    for veto in vetoes:
        for k, code in veto(evidence).items():
            out.setdefault(int(k), code)
    return out


def parsimonious(table: pd.DataFrame, column: str) -> tuple[int, int, tuple[int, ...]] | None:
    """The smallest k whose ``column`` (lower is better) is within :data:`PARSIMONY_IC`
    of the lowest; with the best k and every k within the margin. None if all missing."""
    if column not in table:
        return None
    s = pd.to_numeric(table[column], errors="coerce").dropna()
    if s.empty:
        return None
    best = int(s.idxmin())
    near = tuple(int(k) for k in s.index if s[k] <= s[best] + PARSIMONY_IC)
    return min(near), best, near


def _gap_k(table: pd.DataFrame) -> int | None:
    """The gap statistic's k: 1 when it finds no structure, else Tibshirani's rule over
    the ks >= 2 of ``table``; None without gap columns or when no k qualifies."""
    if "gap" not in table or "gap_se" not in table:
        return None
    if _no_structure(table):
        return 1
    ks = [k for k in table.index if k >= 2]
    return gap_pick(ks, table["gap"].to_dict(), table["gap_se"].to_dict())


def criterion_picks(
    ballot: Ballot, table: pd.DataFrame, knee_k: int | None, method: str
) -> dict[str, int]:
    """Each voter's k among the rows of ``table`` (the allowed ks), in the ballot's order.

    BIC and ICL pick by parsimony, the gap statistic by its one-standard-error rule,
    the elbow is ``knee_k`` when allowed; the others their best value. A criterion that
    cannot be computed (missing column, all NaN, no knee) abstains.
    """
    picks: dict[str, int] = {}
    for c in ballot.voters:
        if c == ELBOW:
            k = knee_k if knee_k in table.index else None
        elif c in ("bic", "icl"):
            found = parsimonious(table, c)
            k = found[0] if found else None
        elif c == "gap":
            k = _gap_k(table)
        else:
            k = best_k(table, c)
        if k is not None:
            picks[c] = k
    return picks


def _lead_mixture(table: pd.DataFrame) -> tuple[int, str, str, int | None, tuple[int, ...]] | None:
    for column in ("icl", "bic"):
        found = parsimonious(table, column)
        if found is not None:
            k, best, near = found
            return k, "parsimony", column, best, near
    return None


def _no_structure(table: pd.DataFrame) -> bool:
    """The gap statistic says one group (see :func:`~analytics.studies.choose_k.gap.one_group`)."""
    if 1 not in table.index or "gap" not in table or "gap_se" not in table:
        return False
    return one_group(table["gap"].to_dict(), table["gap_se"].to_dict())


def _below(k: int, allowed: pd.Index) -> int | None:
    """The largest allowed k >= 2 below ``k`` (a vetoed pick falls back to it)."""
    below = [int(j) for j in allowed if 2 <= j < k]
    return max(below) if below else None


def _lead_hard(
    method: str, table: pd.DataFrame, allowed: pd.DataFrame, knee_k: int | None
) -> tuple[int, str, str, int | None, tuple[int, ...]] | None:
    if 1 in allowed.index and _no_structure(table):
        return 1, "no_structure", "gap", None, ()
    several = table.loc[[k for k in table.index if k >= 2]]
    gap_k = _gap_k(several)
    if gap_k is not None:
        if gap_k in allowed.index:
            return gap_k, "gap", "gap", gap_k, ()
        if (k := _below(gap_k, allowed.index)) is not None:
            return k, "below_gap", "gap", gap_k, ()
    if knee_k is not None:
        if knee_k in allowed.index:
            return knee_k, "knee", ELBOW, knee_k, ()
        if (k := _below(knee_k, allowed.index)) is not None:
            return k, "below_knee", ELBOW, knee_k, ()
    rest = allowed.loc[[k for k in allowed.index if k >= 2]]
    if method == "fcm" and (k := best_k(rest, "mpc")) is not None:
        return k, "mpc", "mpc", None, ()
    return None


def recommend(
    method: str,
    table: pd.DataFrame,
    knee_k: int | None = None,
    vetoes: Sequence[Veto] = VETOES,
) -> Recommendation:
    """Recommend one k from a sweep table (the rule is in the module docstring).

    Parameters
    ----------
    method : "kmeans", "fcm" or "gmm" (selects the :class:`Ballot`)
    table : the sweep table, indexed by k, one column per criterion
    knee_k : the knee of the objective curve (k-means inertia, FCM objective) over
        every k tried; None: computed here from the table for k-means and FCM
    vetoes : rules that exclude ks before the vote (default :data:`VETOES`)

    Returns
    -------
    Recommendation
    """
    ks = tuple(int(k) for k in table.index)
    if not ks:
        return Recommendation(method, None, "nothing_fitted")
    if len(ks) == 1:
        return Recommendation(method, ks[0], "one_k", ks)
    ballot = BALLOTS[method]
    if knee_k is None:
        knee_k = objective_knee(method, table)
    vetoed = apply_vetoes(Evidence(method, table, knee_k), vetoes)
    shares = [getattr(v, "min_share", None) for v in vetoes]
    min_share = next((s for s in shares if s is not None), None)
    allowed = table.loc[[k for k in ks if k not in vetoed]]
    base = {"ks": ks, "vetoed": vetoed, "min_share": min_share, "knee_k": knee_k}
    if allowed.empty:
        return Recommendation(method, None, "all_vetoed", **base)
    picks = criterion_picks(ballot, allowed, knee_k, method)
    lead = _lead_mixture(allowed) if method == "gmm" else _lead_hard(method, table, allowed, knee_k)
    if lead is None:
        if not picks:
            return Recommendation(method, None, "no_criteria", **base)
        c0 = next(iter(picks))
        lead = (picks[c0], "first_pick", c0, None, ())
    k, decided_by, criterion, best, near = lead
    agree = tuple(c for c in picks if picks[c] == k)
    disagree = tuple(c for c in picks if picks[c] != k)
    # Only criteria that can rate the chosen k may dissent (none can rate k = 1 but the
    # gap statistic and the information criteria).
    loud = tuple(c for c in disagree if c not in ballot.informational and _can_rate(allowed, c, k))
    return Recommendation(
        method=method,
        k=int(k),
        status="chosen",
        picks=picks,
        lead=ballot.lead,
        decided_by=decided_by,
        criterion=criterion,
        best=best,
        near=near,
        agree=agree,
        disagree=disagree,
        warn=loud if len(loud) > len(agree) else (),
        at_largest_k=len(ks) >= 3 and k == ks[-1],
        at_smallest_k=len(ks) >= 3 and k == ks[0],
        **base,
    )


__all__ = [
    "BALLOTS",
    "DEFAULT_MIN_SHARE",
    "ELBOW",
    "KNEE_COLUMN",
    "PARSIMONY_IC",
    "VETOES",
    "Ballot",
    "Evidence",
    "Recommendation",
    "Veto",
    "apply_vetoes",
    "criterion_picks",
    "min_share_veto",
    "objective_knee",
    "parsimonious",
    "recommend",
]
