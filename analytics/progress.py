"""Callbacks long work accepts: progress reports and a stop request."""

from __future__ import annotations

from collections.abc import Callable

#: ``progress(fraction, text)``: fraction done in [0, 1] and what is being done, in words.
Progress = Callable[[float, str], None]
#: ``should_stop()``: True once the caller wants the work to end early.
ShouldStop = Callable[[], bool]


def no_progress(fraction: float, text: str) -> None:
    """A Progress callback that reports nothing."""
    return None


def never_stop() -> bool:
    """A ShouldStop callback that never asks to stop."""
    return False
