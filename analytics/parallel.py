"""Keep BLAS single-threaded during fits.

OpenBLAS busy-waits its worker threads; with two cores shared by several app
sessions that turns small matrix products (Gaussian mixtures do many) from
milliseconds into seconds. One thread per fit is faster overall here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from threadpoolctl import threadpool_limits

F = TypeVar("F", bound=Callable[..., Any])


def blas_single() -> AbstractContextManager:
    """Context manager limiting BLAS libraries to one thread."""
    return threadpool_limits(limits=1, user_api="blas")


def single_blas_thread(fn: F) -> F:
    """Decorator: run ``fn`` with BLAS limited to one thread (see :func:`blas_single`)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with blas_single():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
