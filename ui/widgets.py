"""Controls shared by several pages, so they look and persist the same everywhere."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath
from typing import Any

import pandas as pd
import streamlit as st

from analytics.io import EXCEL_MAX_ROWS, to_csv_bytes, to_xlsx_bytes
from analytics.io.dialect import DELIMITER_NAMES
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


def csv_format(report: dict[str, Any] | None) -> tuple[str, str]:
    """(delimiter, decimal mark) of CSV downloads: those of the uploaded file.

    A download then opens the same way as the upload in the analyst's spreadsheet
    (a semicolon and decimal comma file in a German Excel, say). Workbooks and
    unknown sources give comma and point.
    """
    report = report or {}
    delimiter = report.get("delimiter") or ","
    decimal = report.get("decimal") or "."
    if delimiter not in DELIMITER_NAMES:
        delimiter = ","
    if decimal not in (".", ",") or decimal == delimiter:
        decimal = "."
    return delimiter, decimal


def download_table(
    label: str,
    data: Callable[[], pd.DataFrame],
    file_stem: str,
    key: str,
    *,
    where: Any = None,
    help: str | None = None,
    disabled: bool = False,
    n_rows: int | None = None,
    report: dict[str, Any] | None = None,
) -> None:
    """The download of a table, offered as CSV and as an Excel workbook (.xlsx).

    Every table download in the app is this widget, so all behave the same: the bytes
    are built only on click; CSV keeps the delimiter and decimal mark of the uploaded
    file; both are formula-safe (:func:`~analytics.io.to_csv_bytes`,
    :func:`~analytics.io.to_xlsx_bytes`).

    Parameters
    ----------
    label : what the table is, e.g. "Labelled table"; the format is added to each button
    data : returns the table (called on click, once per button)
    file_stem : the file name without extension
    key : widget key prefix (``key + "_csv"``, ``key + "_xlsx"``)
    where : ``st`` or a column (default ``st``)
    help : tooltip shown on both buttons
    disabled : both buttons greyed out (an empty table)
    n_rows : the table's rows if known, to grey out Excel above a sheet's limit
    report : the read report whose delimiter and decimal CSV keeps (default: the
        current dataset's)
    """
    if report is None:
        from ui.data import ensure_dataset

        report = ensure_dataset().report
    delimiter, decimal = csv_format(report)
    where = st if where is None else where
    row = where.container(horizontal=True, gap="small")
    kept = DELIMITER_NAMES.get(delimiter, delimiter) + (
        "-separated, decimal comma" if decimal == "," else "-separated"
    )
    csv_help = (help + "\n\n" if help else "") + f"CSV {kept}, like the uploaded file."
    row.download_button(
        f"{label} (CSV)",
        data=lambda: to_csv_bytes(data(), delimiter=delimiter, decimal=decimal),
        file_name=f"{file_stem}.csv",
        mime="text/csv",
        on_click="ignore",
        disabled=disabled,
        key=f"{key}_csv",
        help=csv_help,
    )
    too_big = n_rows is not None and n_rows + 1 > EXCEL_MAX_ROWS
    xlsx_help = (help + "\n\n" if help else "") + (
        f"Too many rows for one Excel sheet ({EXCEL_MAX_ROWS - 1:,} at most): use the CSV."
        if too_big
        else "The same table as an Excel workbook; text that starts with = + - @ stays text."
    )
    row.download_button(
        "Excel",
        data=lambda: to_xlsx_bytes(data()),
        file_name=f"{file_stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click="ignore",
        disabled=disabled or too_big,
        key=f"{key}_xlsx",
        help=xlsx_help,
        icon=":material/table_view:",
    )
