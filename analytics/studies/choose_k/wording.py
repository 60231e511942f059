"""The recommendation in plain words: the reason and the warning shown with it.

Everything here reads a :class:`~analytics.studies.choose_k.recommend.Recommendation`
(and the sweep table, for the values quoted) and decides nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from analytics.studies.choose_k.criteria import CRITERIA
from analytics.studies.choose_k.recommend import ELBOW, PARSIMONY_IC, Recommendation

_NO_VOTE = {
    "nothing_fitted": "No k was fitted, so there is no recommendation.",
    "one_k": "Only k = {k} was fitted, so there is nothing to compare it with.",
    "no_criteria": "No criterion could be computed, so there is no recommendation.",
    "all_vetoed": "No k can be recommended: every k tried has a segment that is too small.",
}

_CURVE = {"kmeans": "inertia curve", "fcm": "objective curve"}


def join_ks(ks: Iterable[object]) -> str:
    """``[2, 3, 4]`` as "2, 3 and 4" (any items, in the order given; at least one)."""
    items = [str(k) for k in ks]
    return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1]


def criterion_name(c: str) -> str:
    """A criterion's short name in a sentence ("the elbow", "Calinski-Harabasz", ...)."""
    return "the elbow" if c == ELBOW else CRITERIA[c].label.split(" (")[0]


def _segments(k: int) -> str:
    return "1 segment" if k == 1 else f"{k} segments"


def _cov(c: str, k: int, table: pd.DataFrame) -> str:
    cols = [x for x in table.columns if x.startswith(f"{c}_")]
    if not cols or not table.loc[k, cols].notna().any():
        return ""
    return f" ({pd.to_numeric(table.loc[k, cols]).idxmin().split('_', 1)[1]} covariance)"


def _lead_text(rec: Recommendation, table: pd.DataFrame) -> str:
    """Why the lead rule chose ``rec.k``, in words."""
    k = rec.k
    assert k is not None
    if rec.decided_by == "no_structure":
        return (
            "the customers form one group; no segment structure stronger than noise "
            "(the gap statistic: no number of segments fits these data better than it "
            "fits structureless random data of the same spread, beyond its error)"
        )
    if rec.decided_by == "parsimony":
        name = "ICL" if rec.criterion == "icl" else "BIC"
        if rec.best == k:
            text = f"{name} is lowest at {k}{_cov(rec.criterion, k, table)}"
        else:
            diff = table.at[k, rec.criterion] - table.at[rec.best, rec.criterion]
            text = (
                f"{name} is lowest at {rec.best}, but {k} is within {PARSIMONY_IC:g} of it "
                f"({diff:.1f}; a difference under {PARSIMONY_IC:g} is not strong evidence), "
                f"so the smaller k is preferred{_cov(rec.criterion, k, table)}"
            )
        if rec.criterion == "icl":
            text += "; ICL is BIC with a penalty for segments that overlap"
        return text
    curve = _CURVE.get(rec.method, "curve")
    if rec.decided_by == "knee":
        return f"the elbow of the {curve} is at {k} (more segments add little after it)"
    if rec.decided_by == "below_knee":
        return (
            f"the elbow of the {curve} is at {rec.best}, but that k has a segment that is "
            f"too small; {k} is the largest k below it whose segments are all large enough"
        )
    if rec.decided_by == "gap":
        return (
            f"the gap statistic settles at {k}: compared with structureless data of the "
            "same spread, more segments do not tighten the fit by more than its error"
        )
    if rec.decided_by == "below_gap":
        return (
            f"the gap statistic settles at {rec.best}, but that k has a segment that is "
            f"too small; {k} is the largest k below it whose segments are all large enough"
        )
    if rec.decided_by == "mpc":
        return f"the modified partition coefficient is highest at {k} (no clear elbow)"
    return CRITERIA[rec.criterion].best_text.format(k=k) if rec.criterion in CRITERIA else ""


def _voice_text(c: str, pick: int, rec: Recommendation, table: pd.DataFrame) -> str:
    k = rec.k
    if c == ELBOW:
        return f"the elbow of the {_CURVE.get(rec.method, 'curve')} is at {pick}"
    if c == "gap":
        return f"the gap statistic settles at {pick}"
    name = criterion_name(c) if c != "silhouette" else "silhouette"
    if pick == k:
        if c == "bic":
            return "BIC agrees"
        return f"{name} agrees"
    text = f"{name} prefers {pick}"
    if c == "silhouette":
        here = table.at[k, c]
        there = f" against {here:.2f} at {k}" if np.isfinite(here) else ""
        text += f" ({table.at[pick, c]:.2f}{there})"
    elif c == "bic" and rec.criterion == "icl":
        text += " (BIC also rewards segments that overlap, so it often prefers more)"
    elif c == "aic":
        text += " (AIC penalises extra segments less than BIC, so it often prefers more)"
    elif c in ("partition_coefficient", "partition_entropy") and pick < k:
        text += " (it tends to favour few segments)"
    return text


def vetoed_text(rec: Recommendation, table: pd.DataFrame) -> str | None:
    """Which ks were not recommended because of a small segment, with the shares."""
    small = [k for k, code in rec.vetoed.items() if code == "small_segment"]
    if not small:
        return None
    share = rec.min_share or 0.0
    shares = [f"{table.at[k, 'smallest_share']:.1%}" for k in small]
    return (
        f"Not recommended: k = {join_ks(small)}, because {'its' if len(small) == 1 else 'their'} "
        "smallest segment holds "
        f"less than {share:.0%} of the rows ({join_ks(shares)}), too few customers to act on."
    )


def reason(rec: Recommendation, table: pd.DataFrame) -> str:
    """The rule that chose the k, the other criteria's picks, and the ks ruled out.

    Parameters
    ----------
    rec : the decision
    table : the sweep table it was made from (for the values quoted)
    """
    if rec.status != "chosen":
        text = _NO_VOTE[rec.status].format(k=rec.k)
        extra = vetoed_text(rec, table)
        return text + (f" {extra}" if extra else "")
    assert rec.k is not None
    lead = _lead_text(rec, table)
    lead_c = rec.criterion
    voices = [_voice_text(c, p, rec, table) for c, p in rec.picks.items() if c != lead_c]
    text = f"{_segments(rec.k)}: {lead}."
    if voices:
        one = rec.k == 1 and rec.method != "gmm"
        lead_in = " Among splits into 2 or more segments" if one else " Other criteria"
        text += lead_in + ": " + "; ".join(voices) + "."
    if (extra := vetoed_text(rec, table)) is not None:
        text += " " + extra
    return text


def _edge_text(rec: Recommendation) -> str | None:
    if not rec.at_largest_k:
        return None
    if rec.method == "gmm":
        name = "ICL" if rec.criterion == "icl" else "BIC"
        return (
            f"{name} still falls at the largest k tried ({rec.k}); try larger ks, or the "
            "data may not form compact groups."
        )
    return f"The recommended k is the largest one tried ({rec.k}); try larger ks as well."


def warning(rec: Recommendation) -> str | None:
    """The caution shown with the k: most criteria disagree, a k at the edge; else None."""
    parts = []
    if rec.warn:
        names = ", ".join(criterion_name(c) for c in rec.warn)
        others = sorted({rec.picks[c] for c in rec.warn})
        parts.append(
            f"The criteria disagree: {names} point{'s' if len(rec.warn) == 1 else ''} to "
            f"{join_ks(others)} rather than {rec.k}. Compare the segmentations at these k "
            "(and check their stability) before choosing."
        )
    if (edge := _edge_text(rec)) is not None:
        parts.append(edge)
    return " ".join(parts) or None


def explain(rec: Recommendation, table: pd.DataFrame) -> tuple[str, str | None]:
    """The reason and the warning (None when there is nothing to warn about)."""
    return reason(rec, table), warning(rec)


__all__ = ["criterion_name", "explain", "join_ks", "reason", "vetoed_text", "warning"]
