"""Threading policy, chosen at the edges.

Library functions take ``n_jobs`` (threads for row-block work; default: this
machine's cores) and never change BLAS threading themselves. The app and the command
line call :func:`limit_blas_threads` once at start-up: OpenBLAS busy-waits its worker
threads, and with a few cores shared by several sessions that turns the many small
matrix products of a mixture fit from milliseconds into seconds.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager


def available_cores() -> int:
    """Cores this process may run on (the affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def n_jobs_or_default(n_jobs: int | None) -> int:
    """``n_jobs`` as a positive thread count: None means every available core;
    negative counts from the end as in scikit-learn (-1 = all cores)."""
    cores = available_cores()
    if n_jobs is None:
        return cores
    n = int(n_jobs)
    if n < 0:
        return max(1, cores + 1 + n)
    return max(1, n)


def limit_blas_threads(limit: int = 1) -> AbstractContextManager:
    """Limit BLAS libraries to ``limit`` threads for this process (call once, at an edge).

    Returns threadpoolctl's limiter; it applies from the call on and, used as a context
    manager, restores the previous limits on exit.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=limit, user_api="blas")
