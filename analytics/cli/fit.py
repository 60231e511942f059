"""``python -m analytics fit``: fit a segmentation to a table and write the model file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from analytics.cli.common import (
    PARQUET_SUFFIXES,
    ProgressBar,
    atomic_output,
    check_input_file,
    check_paths,
    say,
    short,
    split,
)
from analytics.errors import FileFormatError

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Run ``fit`` with parsed arguments; returns the exit code."""
    # Imported here, not at the top, so ``--help`` does not load scikit-learn.
    from analytics.model.fit import METHOD_NAMES, segment

    src, out = Path(args.input), Path(args.output)
    # Before any work: an output that is the input (or links to it) would destroy it,
    # and a missing or read-only folder should not be found after a long fit.
    check_input_file(src)
    check_paths([("input", src)], out)
    df = read_whole(src)
    params: dict[str, Any] = {}
    for name in ("scaling", "impute", "covariance_type", "m", "n_init", "max_iter"):
        value = getattr(args, name)
        if value is not None:
            params[name] = value
    if args.log_transform is not None:
        lt = args.log_transform.strip()
        params["log_transform"] = (
            True if lt.lower() == "auto" else False if lt.lower() == "none" else split(lt)
        )
    columns = split(args.columns) if args.columns else None
    bar = ProgressBar("fit  ", enabled=not args.quiet)
    try:
        seg = segment(
            df, args.method, args.k, columns=columns, random_state=args.seed,
            progress=lambda f, text: bar.update(f, text), **params,
        )  # fmt: skip
        bar.update(1.0, "done", force=True)
    finally:
        bar.close()
    data = seg.model.to_bytes()  # the whole model, built before anything is written
    with atomic_output(out) as tmp:
        tmp.write_bytes(data)
    if not args.quiet:
        sizes = ", ".join(f"{s:,}" for s in seg.sizes)
        say(
            f"Fitted {METHOD_NAMES[seg.method]} with {seg.k} segments on {len(df):,} rows "
            f"({len(seg.feature_names)} features); sizes {sizes}."
        )
        for note in seg.warnings:
            say(f"note: {note}")
        say(f"Model written to {out}")
    return 0


def read_whole(path: Path) -> Any:
    """The whole table at ``path`` (Parquet by its suffix, else sniffed CSV) as a DataFrame."""
    import pandas as pd

    from analytics.io import read_table

    if path.suffix.lower() in PARQUET_SUFFIXES:
        try:
            return pd.read_parquet(path)
        except FileNotFoundError as exc:
            raise FileFormatError(f"No file was found at {str(path)!r}.", code="not_found") from exc
        except Exception as exc:  # pyarrow raises ArrowInvalid / OSError subclasses
            raise FileFormatError(
                f"{path.name} could not be read as Parquet ({short(exc)}).", code="unreadable"
            ) from exc
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise FileFormatError(f"No file was found at {str(path)!r}.", code="not_found") from exc
    # The app's upload limit (DEFAULT_MAX_BYTES) does not apply on the command line.
    return read_table(path, max_bytes=max(size, 1))
