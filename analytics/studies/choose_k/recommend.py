"""Which k a sweep recommends, as data: the votes, who agrees, edge flags (no words).

The decision runs in four steps, each a small function, so a new rule slots into
one of them:

1. **Vetoes** (:data:`VETOES`): functions ``(Evidence) -> {k: reason code}`` that rule
   ks out before any criterion votes (none by default; e.g. a minimum segment share).
2. **Picks**: every criterion of the method's :class:`Ballot` (:data:`BALLOTS`) votes
   for its best remaining k; the pseudo-criterion ``"elbow"`` is the knee of the
   inertia curve. A new criterion (e.g. ICL) is one more name in a ballot.
3. **Choice** (:func:`choose`): if the lead criteria pick the same k it wins;
   otherwise the first two lead picks are compared on every criterion and the k more
   criteria prefer wins (a tie goes to silhouette's pick).
4. **Flags**: which criteria agree, which disagree (and whether that warrants a
   warning), and whether the chosen k is at the edge of the range tried.

:mod:`analytics.studies.choose_k.wording` turns the result into sentences.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from analytics.studies.choose_k.criteria import best_k, prefers

#: The pseudo-criterion "the knee of the inertia curve" (k-means).
ELBOW = "elbow"


@dataclass(frozen=True)
class Ballot:
    """The criteria one method is judged by.

    Attributes
    ----------
    lead : the criteria whose agreement decides, in order of precedence
    voters : every criterion that picks a k, in the order they are reported
    informational : voters whose different pick is reported but raises no warning
    """

    lead: tuple[str, ...]
    voters: tuple[str, ...]
    informational: frozenset[str] = frozenset()


BALLOTS: dict[str, Ballot] = {
    # The lowest BIC decides. AIC penalises extra segments less than BIC and routinely
    # prefers one or two more (PDSH's "BIC recommends a simpler model"), so its
    # disagreement is reported without a warning.
    "gmm": Ballot(("bic",), ("bic", "aic", "silhouette"), frozenset({"aic"})),
    "kmeans": Ballot(
        (ELBOW, "silhouette"), (ELBOW, "silhouette", "calinski_harabasz", "davies_bouldin")
    ),
    "fcm": Ballot(
        ("xie_beni", "silhouette"),
        ("xie_beni", "silhouette", "partition_coefficient", "partition_entropy"),
    ),
}


@dataclass(frozen=True)
class Evidence:
    """What the rules see.

    Attributes
    ----------
    method : "kmeans", "fcm" or "gmm"
    table : the sweep table, indexed by k (one column per criterion)
    knee_k : the elbow of the inertia curve, None if there is none (or not k-means)
    """

    method: str
    table: pd.DataFrame
    knee_k: int | None = None


#: A rule that excludes ks before the vote: returns ``{k: reason code}`` for each.
Veto = Callable[[Evidence], Mapping[int, str]]

#: The vetoes applied by default (none yet).
VETOES: tuple[Veto, ...] = ()


@dataclass(frozen=True)
class Recommendation:
    """The recommended k and how it was reached, as data.

    Attributes
    ----------
    method : "kmeans", "fcm" or "gmm"
    k : the recommended k, None when nothing could be recommended
    status : "chosen"; or why there was no vote: "nothing_fitted", "one_k" (the only
        k fitted is returned), "no_criteria" (no criterion could be computed)
    ks : the ks fitted, increasing
    picks : criterion -> the k it picks, in reporting order
    lead : the ballot's lead criteria
    votes : when the lead criteria disagree, how many criteria prefer each of the two
        candidate ks; empty otherwise
    decided_by : "lead" (the lead criteria agree), "votes", "tie_break"
        (silhouette's pick), "first_pick" (no lead criterion could be computed), or ""
    agree : criteria that pick ``k``, in reporting order
    disagree : criteria that pick another k, in reporting order
    warn : those of ``disagree`` whose dissent warrants a warning
    vetoed : k -> reason code, for the ks the vetoes ruled out
    at_largest_k : ``k`` is the largest of at least three ks tried
    at_smallest_k : ``k`` is the smallest of at least three ks tried
    """

    method: str
    k: int | None
    status: str
    ks: tuple[int, ...] = ()
    picks: dict[str, int] = field(default_factory=dict)
    lead: tuple[str, ...] = ()
    votes: dict[int, int] = field(default_factory=dict)
    decided_by: str = ""
    agree: tuple[str, ...] = ()
    disagree: tuple[str, ...] = ()
    warn: tuple[str, ...] = ()
    vetoed: dict[int, str] = field(default_factory=dict)
    at_largest_k: bool = False
    at_smallest_k: bool = False


def apply_vetoes(evidence: Evidence, vetoes: Sequence[Veto]) -> dict[int, str]:
    """Every k some veto rules out, with the first veto's reason code."""
    out: dict[int, str] = {}
    for veto in vetoes:
        for k, code in veto(evidence).items():
            out.setdefault(int(k), code)
    return out


def criterion_picks(ballot: Ballot, table: pd.DataFrame, knee_k: int | None) -> dict[str, int]:
    """Each voter's best k among the rows of ``table``, in the ballot's order.

    A criterion that cannot be computed (missing column, all NaN, no elbow) abstains.
    """
    picks: dict[str, int] = {}
    for c in ballot.voters:
        k = (knee_k if knee_k in table.index else None) if c == ELBOW else best_k(table, c)
        if k is not None:
            picks[c] = k
    return picks


def duel(picks: Mapping[str, int], table: pd.DataFrame, a: int, b: int) -> dict[int, int]:
    """How many criteria prefer ``a`` and how many ``b`` (the elbow votes for its own pick)."""
    votes = {a: 0, b: 0}
    for c, pick in picks.items():
        pref = (pick if pick in (a, b) else None) if c == ELBOW else prefers(table, c, a, b)
        if pref is not None:
            votes[pref] += 1
    return votes


def choose(
    picks: Mapping[str, int], lead: Sequence[str], table: pd.DataFrame
) -> tuple[int, dict[int, int], str]:
    """The chosen k, the duel's votes (empty without a duel) and how it was decided."""
    lead_ks = [picks[c] for c in lead if c in picks]
    if not lead_ks:
        return next(iter(picks.values())), {}, "first_pick"
    if len(set(lead_ks)) == 1:
        return lead_ks[0], {}, "lead"
    a, b = lead_ks[0], lead_ks[1]
    votes = duel(picks, table, a, b)
    if votes[a] != votes[b]:
        return (a if votes[a] > votes[b] else b), votes, "votes"
    return picks.get("silhouette", a), votes, "tie_break"


def recommend(
    method: str,
    table: pd.DataFrame,
    knee_k: int | None = None,
    vetoes: Sequence[Veto] = VETOES,
) -> Recommendation:
    """Recommend one k from a sweep table.

    Parameters
    ----------
    method : "kmeans", "fcm" or "gmm" (selects the :class:`Ballot`)
    table : the sweep table, indexed by k, one column per criterion
    knee_k : the elbow of the inertia curve (k-means), None if there is none
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
    vetoed = apply_vetoes(Evidence(method, table, knee_k), vetoes)
    eligible = table.loc[[k for k in ks if k not in vetoed]]
    picks = criterion_picks(ballot, eligible, knee_k)
    if not picks:
        return Recommendation(method, None, "no_criteria", ks, vetoed=vetoed)
    k, votes, decided_by = choose(picks, ballot.lead, eligible)
    disagree = tuple(c for c in picks if picks[c] != k)
    return Recommendation(
        method=method,
        k=k,
        status="chosen",
        ks=ks,
        picks=picks,
        lead=ballot.lead,
        votes=votes,
        decided_by=decided_by,
        agree=tuple(c for c in picks if picks[c] == k),
        disagree=disagree,
        warn=tuple(c for c in disagree if c not in ballot.informational),
        vetoed=vetoed,
        at_largest_k=len(ks) >= 3 and k == ks[-1],
        at_smallest_k=len(ks) >= 3 and k == ks[0],
    )


__all__ = [
    "BALLOTS",
    "ELBOW",
    "VETOES",
    "Ballot",
    "Evidence",
    "Recommendation",
    "Veto",
    "apply_vetoes",
    "choose",
    "criterion_picks",
    "duel",
    "recommend",
]
