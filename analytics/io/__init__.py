"""Reading tables (sniffed CSV, Excel, Parquet) and writing them back out."""

from analytics.io.read import (
    DEFAULT_MAX_BYTES,
    ReadReport,
    read_table,
    read_table_with_report,
    to_csv_bytes,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "ReadReport",
    "read_table",
    "read_table_with_report",
    "to_csv_bytes",
]
