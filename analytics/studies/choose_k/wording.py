"""The recommendation in plain words: the reason and the warning shown with it.

Everything here reads a :class:`~analytics.studies.choose_k.recommend.Recommendation`
(and the sweep table, for the values quoted) and decides nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from analytics.constants import COVARIANCE_TYPES
from analytics.studies.choose_k.criteria import CRITERIA
from analytics.studies.choose_k.recommend import ELBOW, Recommendation

_NO_VOTE = {
    "nothing_fitted": "No k was fitted, so there is no recommendation.",
    "one_k": "Only k = {k} was fitted, so there is nothing to compare it with.",
    "no_criteria": "No criterion could be computed, so there is no recommendation.",
}


def join_ks(ks: Iterable[object]) -> str:
    """``[2, 3, 4]`` as "2, 3 and 4" (any items, in the order given; at least one)."""
    items = [str(k) for k in ks]
    return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1]


def criterion_name(c: str) -> str:
    """A criterion's short name in a sentence ("the elbow", "Calinski-Harabasz", ...)."""
    return "the elbow" if c == ELBOW else CRITERIA[c].label.split(" (")[0]


def _agree_text(c: str, k: int, table: pd.DataFrame) -> str:
    if c == ELBOW:
        return f"the elbow of the inertia curve is at {k}"
    text = CRITERIA[c].best_text.format(k=k)
    if c == "silhouette":
        text += f" ({table.at[k, c]:.2f})"
    if c in ("bic", "aic") and "best_covariance" in table:
        t = table.loc[:, [f"{c}_{x}" for x in COVARIANCE_TYPES if f"{c}_{x}" in table]]
        text += f" ({t.loc[k].idxmin().split('_', 1)[1]} covariance)"
    return text


def _disagree_text(c: str, k: int, rec: int, table: pd.DataFrame) -> str:
    if c == ELBOW:
        return f"the elbow of the inertia curve is at {k}"
    text = f"{criterion_name(c) if c != 'silhouette' else 'silhouette'} prefers {k}"
    if c == "silhouette":
        text += f" ({table.at[k, c]:.2f} against {table.at[rec, c]:.2f} at {rec})"
    elif c == "aic":
        text += " (AIC penalises extra segments less than BIC, so it often prefers more)"
    elif c in ("partition_coefficient", "partition_entropy") and k < rec:
        text += " (it tends to favour few segments)"
    return text


def reason(rec: Recommendation, table: pd.DataFrame) -> str:
    """One sentence naming the criteria that agree with the k, then those that do not.

    Parameters
    ----------
    rec : the decision
    table : the sweep table it was made from (for the values quoted)
    """
    if rec.status != "chosen":
        return _NO_VOTE[rec.status].format(k=rec.k)
    assert rec.k is not None
    phrases = [_agree_text(c, rec.picks[c], table) for c in rec.agree]
    phrases += [_disagree_text(c, rec.picks[c], rec.k, table) for c in rec.disagree]
    return f"{rec.k} segments: " + "; ".join(phrases) + "."


def _edge_text(rec: Recommendation) -> str | None:
    if not rec.at_largest_k:
        return None
    if rec.method == "gmm":
        return (
            f"BIC is still falling at the largest k tried ({rec.k}); try larger ks, or the "
            "data may not form compact groups."
        )
    return f"The best k is the largest one tried ({rec.k}); try larger ks as well."


def warning(rec: Recommendation) -> str | None:
    """The caution shown with the k: criteria that disagree, a k at the edge; else None."""
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


__all__ = ["criterion_name", "explain", "join_ks", "reason", "warning"]
