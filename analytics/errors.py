"""Errors raised by the analytics package, worded for analysts.

Every failure caused by the data or the settings an analyst chose surfaces as
an :class:`InputError` (a ``ValueError``) whose message can be shown as-is.
"""

from __future__ import annotations

from collections.abc import Sequence


class InputError(ValueError):
    """Bad input: the message says, in plain words, what is wrong and what to do.

    Parameters
    ----------
    message : str
        The sentence shown to the analyst.
    code : str, optional
        A short machine-readable reason (for example ``"empty_file"``), in the
        spirit of pandera's reason codes, so tests and pages can tell causes
        apart without parsing the message.
    problems : sequence of str, optional
        Every individual problem found (e.g. each malformed line), so one error
        can report them all instead of stopping at the first.
    """

    def __init__(
        self, message: str, code: str = "invalid_input", problems: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.problems = list(problems)


class FileFormatError(InputError):
    """The uploaded file is not a readable table or image."""


class ColumnError(InputError):
    """The chosen columns cannot be used (missing, empty, non-numeric, ...)."""


class ModelError(InputError):
    """The model cannot be fitted with these settings on this data."""


class DataWarning(UserWarning):
    """A reported, non-fatal problem (the page shows it with ``st.warning``)."""
