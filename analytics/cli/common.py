"""What the subcommands share: the progress bar, messages and small option helpers.

Nothing here imports pandas, scikit-learn or the model, so ``--help`` stays fast.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import IO

from analytics.constants import COVARIANCE_TYPES, METHODS
from analytics.errors import InputError

__all__ = [
    "COVARIANCE_TYPES",
    "METHODS",
    "PARQUET_SUFFIXES",
    "ProgressBar",
    "check_writable",
    "fail",
    "say",
    "short",
    "split",
]

PARQUET_SUFFIXES = (".parquet", ".pq")


class ProgressBar:
    """A plain-text progress bar on stderr, redrawn in place with ``\\r``."""

    def __init__(self, label: str, stream: IO[str] | None = None, enabled: bool = True) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self._last = 0.0
        self._drawn = False

    def update(self, fraction: float, text: str = "", force: bool = False) -> None:
        """Draw ``fraction`` (0..1) done; redraws at most every 0.2 s unless ``force``."""
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and self._drawn and now - self._last < 0.2:
            return
        self._last, self._drawn = now, True
        f = min(max(float(fraction), 0.0), 1.0)
        filled = int(round(f * 30))
        bar = "#" * filled + "." * (30 - filled)
        self.stream.write(f"\r{self.label} [{bar}] {f:4.0%} {text}".ljust(100)[:100])
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line (only if something was drawn)."""
        if self.enabled and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def check_writable(out: Path) -> None:
    """Refuse an output path that is a folder or whose folder does not exist."""
    if out.is_dir():
        raise InputError(f"{str(out)!r} is a folder; give a file name to write.", code="bad_option")
    if not out.parent.exists():
        raise InputError(f"The folder {str(out.parent)!r} does not exist.", code="bad_option")


def split(text: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``."""
    return [part.strip() for part in text.split(",") if part.strip()]


def short(exc: BaseException, n: int = 160) -> str:
    """An exception's message on one line, at most ``n`` characters."""
    text = " ".join(str(exc).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def say(text: str) -> None:
    """A line for the user, on stderr (stdout stays free for data)."""
    sys.stderr.write(text + "\n")


def fail(message: str) -> None:
    """The one-line error the command line ends with."""
    sys.stderr.write("error: " + " ".join(str(message).split()) + "\n")
