"""The k sweep as a small state machine: one step per script (fragment) run.

A click (Stop) can only be seen by a new script run, so a long sweep is split into
steps that each finish before the page reruns: one k per step (the criteria row of that
k is kept as a partial result), then one pass that compares the ks fitted. Stop is an
ordinary button whose callback sets ``SweepJob.stop``; the next step sees it. Quick
sweeps are one step (the whole sweep at once), so they cost no more than a plain call.
The compute functions are passed in, so this module has no Streamlit call and is
tested directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analytics import InputError


@dataclass
class SweepJob:
    """One sweep being run: its inputs, the ks to try and what is done so far.

    Attributes
    ----------
    key : content key of the data, features, preparation and settings
    settings : dict(method, ks, seed, ...) as shown on the page
    ks : every k to try, in order
    stepwise : one k per step (slow sweeps, Stop possible) or all ks in one step
    rows : criteria rows of the ks done, each a DataFrame of shape (1, n_criteria)
    stop : set by the Stop button; the next step compares the ks done so far
    error : plain message of an InputError, which ends the job
    """

    key: str
    settings: dict[str, Any]
    ks: list[int]
    stepwise: bool
    rows: dict[int, pd.DataFrame] = field(default_factory=dict)
    stop: bool = False
    error: str | None = None
    seconds: float = 0.0

    @property
    def next_k(self) -> int | None:
        """The next k to fit, or None when every k is done."""
        return next((k for k in self.ks if k not in self.rows), None)

    @property
    def fraction(self) -> float:
        """Share of the ks done, 0..1."""
        return len(self.rows) / max(len(self.ks), 1)

    def partial_table(self) -> pd.DataFrame:
        """The criteria of the ks done so far, shape (n_done, n_criteria), index k."""
        if not self.rows:
            return pd.DataFrame()
        return pd.concat([self.rows[k] for k in self.ks if k in self.rows])


def step(
    job: SweepJob,
    fit_row: Callable[[int], pd.DataFrame],
    fit_all: Callable[[list[int]], Any],
) -> dict[str, Any] | None:
    """Do one step of ``job``; returns the finished result, or None while more steps remain.

    Parameters
    ----------
    job : the sweep; updated in place (rows, seconds, error)
    fit_row : k -> criteria row of that k (a 1-row DataFrame)
    fit_all : list of ks -> KSweep over them (the recommendation compares them)

    Returns
    -------
    dict(key, settings, sweep, seconds, stability) once the sweep is finished (all ks
    fitted, or stopped), else None. After an InputError, ``job.error`` is set and the
    result is None.
    """
    started = time.perf_counter()
    try:
        k = job.next_k
        if job.stepwise and k is not None and not job.stop:
            job.rows[k] = fit_row(k)
            return None
        done = job.ks if not job.stepwise else [k for k in job.ks if k in job.rows]
        if not done:
            job.error = "The sweep was stopped before any k was fitted."
            return None
        sweep = fit_all(list(done))
    except InputError as exc:
        job.error = exc.message
        return None
    finally:
        job.seconds += time.perf_counter() - started
    if job.stop and len(done) < len(job.ks):
        # The sweep itself only saw the ks done; say which were left out.
        left = ", ".join(str(k) for k in job.ks if k not in done)
        sweep.notes.append(f"The sweep was stopped after k = {done[-1]}; not tried: k = {left}.")
        sweep.stopped = True
    return {
        "key": job.key,
        "settings": job.settings,
        "sweep": sweep,
        "seconds": job.seconds,
        "stability": None,
    }


def finished(job: SweepJob | None) -> bool:
    """Whether ``job`` needs no further step (none, or it ended in an error)."""
    return job is None or job.error is not None
