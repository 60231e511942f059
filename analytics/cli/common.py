"""What the subcommands share: the progress bar, messages and small option helpers.

Nothing here imports pandas, scikit-learn or the model, so ``--help`` stays fast.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from analytics.constants import COVARIANCE_TYPES, METHODS
from analytics.errors import FileFormatError, InputError

__all__ = [
    "COVARIANCE_TYPES",
    "METHODS",
    "PARQUET_SUFFIXES",
    "ProgressBar",
    "atomic_output",
    "check_delimiter",
    "check_input_file",
    "check_paths",
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
    """Refuse an output path that is a folder, whose folder does not exist or cannot be
    written, or that exists but is not a regular file (a device, a pipe)."""
    if out.is_dir():
        raise InputError(f"{str(out)!r} is a folder; give a file name to write.", code="bad_option")
    folder = out.parent
    if not folder.is_dir():
        raise InputError(f"The folder {str(folder)!r} does not exist.", code="bad_option")
    # The output is written as a new file in its folder, then renamed over the name.
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(
            f"The folder {str(folder)!r} cannot be written to; choose another output.",
            code="bad_option",
        )
    if out.exists() and not out.is_file():
        raise InputError(
            f"{str(out)!r} exists and is not a regular file; give another output name.",
            code="bad_option",
        )


def check_input_file(path: Path, what: str = "input") -> None:
    """Refuse a missing ``path`` or a folder, in words (exit code 2, not an OSError)."""
    if path.is_dir():
        raise InputError(f"The {what} {str(path)!r} is a folder; give a file.", code="not_a_file")
    if not path.exists():
        raise FileFormatError(f"No file was found at {str(path)!r}.", code="not_found")


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are one file: the same path through symlinks, or (both
    existing) the same inode, which also catches hard links."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def check_paths(inputs: Sequence[tuple[str, Path]], out: Path) -> None:
    """Refuse, before any work, an output that is one of the inputs, then check its folder.

    Parameters
    ----------
    inputs : (what, path) pairs, e.g. ``[("model", m), ("input", src)]``
    out : the file the command will write
    """
    for what, path in inputs:
        if _same_file(path, out):
            raise InputError(
                f"The output {str(out)!r} is the same file as the {what} {str(path)!r}; "
                "writing it would destroy the input. Give a different file name for the output.",
                code="bad_option",
            )
    check_writable(out)


@contextlib.contextmanager
def atomic_output(out: Path) -> Iterator[Path]:
    """A new temporary file beside ``out``, renamed onto ``out`` when the block succeeds.

    The temporary file has a unique name made by :func:`tempfile.mkstemp`, so it can
    never be an existing file; on failure it, and only it, is deleted.

    Yields
    ------
    Path
        The temporary file to write (it exists, empty).
    """
    fd, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        # mkstemp makes the file private (0600); give the output the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def check_delimiter(sep: str | None) -> str | None:
    """The CSV delimiter ``--sep`` names (``"\\t"`` or ``"tab"`` mean tab), or None."""
    if sep is None:
        return None
    delimiter = "\t" if sep in ("\\t", "tab") else sep
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise InputError(
            f"--sep must be one character such as ';' or '\\t' (tab), got {sep!r}.",
            code="bad_option",
        )
    return delimiter


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
