"""Segment names of the current fit: suggested from the profiles, edited by the analyst.

Names live in the fit's ``FitResult.extra["names"]`` (``{segment: name}``), so a new
fit starts again from its own suggestions, and every page reads them from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from analytics.studies.profiles import suggest_names

#: Column added beside ``segment`` in downloads.
NAME_COLUMN = "segment_name"
#: Longest name kept (longer edits are cut), so legends and cards stay readable.
MAX_NAME_CHARS = 60


def clean_names(edited: Mapping[Any, Any], k: int, fallback: Mapping[int, str]) -> dict[int, str]:
    """Names for segments 1..k from an edit: trimmed to one line of at most
    :data:`MAX_NAME_CHARS`; an empty one goes back to ``fallback``; repeated names get
    the segment number appended so every segment stays distinct."""
    out: dict[int, str] = {}
    for j in range(1, k + 1):
        raw = edited.get(j, edited.get(str(j)))
        text = " ".join(str(raw).split())[:MAX_NAME_CHARS] if raw is not None else ""
        out[j] = text or fallback.get(j, f"Segment {j}")
    seen: dict[str, int] = {}
    for name in out.values():
        seen[name.casefold()] = seen.get(name.casefold(), 0) + 1
    return {j: (f"{n} ({j})" if seen[n.casefold()] > 1 else n) for j, n in out.items()}


def names_of(fit: Any) -> dict[int, str]:
    """The segment names of ``fit`` (a ``ui.data.FitResult`` of a segmentation),
    suggested ones the first time."""
    names = fit.extra.get("names")
    if names is None or len(names) != fit.seg.k:
        # Onto the Segmentation too, so table(), target rows and the model file carry the
        # names the pages show from the first run on.
        set_names(fit, suggest_names(fit.seg))
        names = fit.extra["names"]
    return dict(names)


def set_names(fit: Any, names: Mapping[int, str]) -> None:
    """Store edited names on the fit (and on its Segmentation, whose ``names`` the
    model file and ``table()`` write when the segmentation has that attribute)."""
    fit.extra["names"] = dict(names)
    if hasattr(fit.seg, "names"):
        fit.seg.names = dict(names)


def with_names(frame: pd.DataFrame, segment_column: str, names: Mapping[int, str]) -> pd.DataFrame:
    """``frame`` with a ``segment_name`` column right after ``segment_column``.

    A table that already has the column (a library that writes it) is returned as is.
    The added column is named ``segment_name`` unless the input uses that name, then
    ``segment_name_model`` (as the other added columns).
    """
    if segment_column not in frame.columns:
        return frame
    pos = frame.columns.get_loc(segment_column) + 1
    if pos < frame.shape[1] and str(frame.columns[pos]).startswith(NAME_COLUMN):
        return frame  # already written beside the segment
    name_col = NAME_COLUMN
    while name_col in frame.columns:
        name_col += "_model"
    out = frame.copy(deep=False)
    labels = out[segment_column]
    out.insert(pos, name_col, labels.map(lambda j: names.get(int(j), f"Segment {int(j)}")))
    return out


def labelled_table(seg: Any, names: Mapping[int, str], probability_decimals: int) -> pd.DataFrame:
    """``seg.table()`` with ``segment_name`` beside ``segment`` (the labelled download)."""
    table = seg.table(probability_decimals=probability_decimals, names=dict(names) or None)
    return with_names(table, seg.output_names(seg.data.columns)["segment"], names)
