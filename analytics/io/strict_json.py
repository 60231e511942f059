"""Strict JSON for the files the workbench reads back (model files, analysis files).

One parser so every such file is refused the same way, in words: no NaN or Infinity,
no whole numbers longer than a model can hold (Python's own 4,300-digit limit would
raise deep inside json), no duplicate entries, no nesting deeper than Python's stack.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

from analytics.errors import InputError


def parse_strict_json(
    raw: bytes,
    bad: Callable[[str], InputError],
    what: str,
    *,
    max_int_digits: int = 20,
) -> Any:
    """Parse UTF-8 JSON ``raw`` (a BOM allowed); every problem raises ``bad(reason)``.

    Parameters
    ----------
    raw : the file's bytes
    bad : builds the error from a reason such as "it is not UTF-8 text."
    what : the kind of file in words ("a model", "an analysis"), for the reasons
    max_int_digits : longest whole number accepted
    """

    def reject_constant(name: str) -> Any:
        raise bad(f"it contains {name}, which is not a number {what} can hold.")

    def whole_number(text: str) -> int:
        # Called by json for every integer literal, before Python's int() sees it.
        digits = len(text.lstrip("-"))
        if digits > max_int_digits:
            raise bad(
                f"it holds a whole number of {digits:,} digits; "
                f"{what}'s numbers have at most {max_int_digits}."
            )
        return int(text)

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise bad(f"the entry {key!r} appears twice.")
            out[key] = value
        return out

    try:
        return json.loads(
            io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig").read(),
            parse_constant=reject_constant,
            parse_int=whole_number,
            object_pairs_hook=no_duplicates,
        )
    except InputError:
        raise
    except UnicodeDecodeError as exc:
        raise bad("it is not UTF-8 text.") from exc
    except json.JSONDecodeError as exc:
        raise bad(f"the JSON is broken near line {exc.lineno}, column {exc.colno}.") from exc
    except RecursionError as exc:
        raise bad("it is nested too deeply.") from exc
    except (ValueError, OverflowError) as exc:  # any other limit of Python's parser
        raise bad(f"it holds a value that cannot be read ({exc}).") from exc
