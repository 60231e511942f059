"""Cost of the work a page is about to start: quick enough to run unasked, or too big.

:func:`expected_seconds` / :func:`is_quick` decide whether a page runs its default
analysis on first visit. :func:`check` asks ``analytics.cost`` whether a job is within
the per-session limits (time and memory) and returns the plain message a page shows
with ``st.error`` instead of starting it.

Stopping work that runs: a sweep runs one k per fragment run, so Stop (and the end of
the session) is seen between ks. A single fit runs inside one script run; Streamlit
stops a script at its next ``st`` call once the session ends or the analyst presses
Stop or changes a control, so a fit that reports progress (the Segments page's, per
start and per refinement step on large tables) stops at its next progress report, and
one inside scikit-learn finishes its current start first. The limits in
``analytics.cost`` bound how long that can be (15 minutes at most).

The work of every fit here grows about linearly in rows x features x k x starts (one
EM or Lloyd pass touches every row, feature and component). The constant was measured
on this project's 2-core machine: a Gaussian-mixture sweep of k = 2..10 over all four
covariance types on 20,000 rows x 10 columns takes about 2 s (43 million units), the
bundled 2,000-row sample about 0.4 s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from analytics.cost import Job, estimate, problem, time_in_words
from analytics.preparation import MAX_CATEGORIES, ROLE_CATEGORICAL, ROLE_CODE

#: Seconds per unit (row x feature x component x start), rounded up from the measurement.
SECONDS_PER_UNIT = 1e-7
#: Work expected to finish within this many seconds is run without a click.
QUICK_SECONDS = 6.0


def expected_seconds(rows: int, features: int, ks: int | Iterable[int], starts: int = 1) -> float:
    """Expected wall time of fitting every k in ``ks`` with ``starts`` starts each.

    Parameters
    ----------
    rows, features : shape (n_rows, n_features) of the table fitted
    ks : one k, or every k of a sweep (their sum counts: a k-component fit costs k)
    starts : independent starts (or covariance types) per k

    Returns
    -------
    float : seconds, a rough estimate (within a factor of a few)
    """
    total_k = ks if isinstance(ks, int) else sum(int(k) for k in ks)
    return SECONDS_PER_UNIT * max(rows, 1) * max(features, 1) * max(total_k, 1) * max(starts, 1)


def is_quick(seconds: float) -> bool:
    """Whether work of ``seconds`` is quick enough to run on a page's first visit."""
    return seconds <= QUICK_SECONDS


def in_words(seconds: float) -> str:
    """``seconds`` as an analyst would say it: "under a second", "about 40 seconds", "about 3 minutes"."""
    return time_in_words(seconds)


def prepared_width(profile: pd.DataFrame, columns: Sequence[str]) -> int:
    """Prepared features of ``columns``: one per number, one per level of a category.

    Parameters
    ----------
    profile : the table's column profile (``analytics.profile_columns``: column, role,
        distinct)
    columns : the feature columns chosen
    """
    chosen = set(columns)
    rows = profile[profile["column"].isin(chosen)]
    cats = rows["role"].isin([ROLE_CATEGORICAL, ROLE_CODE])
    width = int((~cats).sum()) + int(rows.loc[cats, "distinct"].clip(upper=MAX_CATEGORIES).sum())
    # Columns beyond the profiled ones (very wide tables) count one each.
    return width + max(0, len(chosen) - len(rows))


def job(
    kind: str,
    rows: int,
    features: int,
    ks: int | Iterable[int],
    method: str = "gmm",
    covariance_types: str | Iterable[str] = ("full",),
    starts: int = 1,
    score_rows: int = 0,
) -> Job:
    """An ``analytics.cost.Job`` from a page's controls (see ``Job.of``)."""
    return Job.of(kind, rows, features, ks, method, covariance_types, starts, score_rows)


def seconds(job: Job) -> float:
    """Expected wall time of ``job`` (``analytics.cost.estimate``), for "expected time" texts."""
    return estimate(job).seconds


def check(job: Job) -> str | None:
    """None when ``job`` may start, else the message to show (why, and what to change)."""
    return problem(job)
