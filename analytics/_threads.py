"""Keep BLAS single-threaded during fits.

OpenBLAS busy-waits its worker threads; with two cores shared by several app
sessions that turns small matrix products (Gaussian mixtures do many) from
milliseconds into seconds. One thread per fit is faster overall here.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from threadpoolctl import threadpool_limits


def blas_single() -> AbstractContextManager:
    """Context manager limiting BLAS libraries to one thread."""
    return threadpool_limits(limits=1, user_api="blas")
