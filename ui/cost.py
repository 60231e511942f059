"""One rough cost estimate, so pages run their default analysis on first visit when quick.

The work of every fit here grows about linearly in rows x features x k x starts (one
EM or Lloyd pass touches every row, feature and component). The constant was measured
on this project's 2-core machine: a Gaussian-mixture sweep of k = 2..10 over all four
covariance types on 20,000 rows x 10 columns takes about 2 s (43 million units), the
bundled 2,000-row sample about 0.4 s.
"""

from __future__ import annotations

from collections.abc import Iterable

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
    if seconds < 1:
        return "under a second"
    if seconds < 1.5:
        return "about a second"
    if seconds < 10:
        return f"about {round(seconds)} seconds"
    if seconds < 90:
        return f"about {round(seconds / 5) * 5} seconds"
    minutes = seconds / 60
    if minutes < 90:
        return f"about {round(minutes)} minutes"
    return f"about {minutes / 60:.1f} hours"
