"""Controls shared by several pages, so they look and persist the same everywhere."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from analytics.model.fit import METHOD_NAMES, METHODS
from ui.state import keep_widget


def method_select(container: Any, widget_key: str, default: str, help: str) -> str:
    """The "Method" select box (k-means / fuzzy c-means / Gaussian mixture).

    ``container`` is ``st`` or a column; the choice survives page switches.
    """
    return container.selectbox(
        "Method",
        METHODS,
        format_func=METHOD_NAMES.get,
        key=keep_widget(widget_key, default),
        help=help,
    )


def file_stem(name: str, default: str = "data") -> str:
    """Safe file-name stem of a loaded item's name, e.g. 'Sample customers (customers.csv)'
    -> 'customers', for naming downloads."""
    inner = name.rsplit("(", 1)[-1].rstrip(")") if name.endswith(")") else name
    stem = PurePath(inner).stem or default
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in stem)
