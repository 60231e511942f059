"""Reading delimited text tables and spreadsheet workbooks, and writing them back out.

Modules: ``sniff`` (encoding, delimiter, number format, header: :func:`sniff`),
``scan`` (row validation with the line-numbered report), ``numbers`` (numbers as
files write them, column types), ``read`` (:func:`read_table`), ``export``
(:func:`to_csv_bytes`, :func:`to_xlsx_bytes`, :func:`neutralise_formulas`), ``excel``
(workbooks: :func:`excel_sheets`).
"""

from analytics.io.dialect import SAMPLE_BYTES, Dialect, sniff
from analytics.io.excel import WORKBOOK_SUFFIXES, excel_sheets
from analytics.io.export import (
    EXCEL_MAX_ROWS,
    FORMULA_PREFIXES,
    neutralise_formulas,
    to_csv_bytes,
    to_xlsx_bytes,
)
from analytics.io.numbers import parse_numbers
from analytics.io.read import DEFAULT_MAX_BYTES, ReadReport, read_table, read_table_with_report

__all__ = [
    "DEFAULT_MAX_BYTES",
    "EXCEL_MAX_ROWS",
    "FORMULA_PREFIXES",
    "SAMPLE_BYTES",
    "WORKBOOK_SUFFIXES",
    "Dialect",
    "excel_sheets",
    "ReadReport",
    "neutralise_formulas",
    "parse_numbers",
    "read_table",
    "read_table_with_report",
    "sniff",
    "to_csv_bytes",
    "to_xlsx_bytes",
]
