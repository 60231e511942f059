"""Run every benchmark case and print one table of ratios against reference libraries.

Usage::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m bench.run            # full sizes (minutes)
    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m bench.run --quick    # small sizes (seconds)
    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m bench.run --only fcm image

``ratio`` = our time / the reference's time in the same run: below 1 is faster.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pandas as pd

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", nargs="*", default=None, help="case modules to run (e.g. fcm)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE.parent))
    rows = []
    for info in sorted(pkgutil.iter_modules([str(HERE)]), key=lambda m: m.name):
        if not info.name.startswith("case_"):
            continue
        topic = info.name.removeprefix("case_")
        if args.only and topic not in args.only:
            continue
        module = importlib.import_module(f"bench.{info.name}")
        print(f"running {topic} ...", file=sys.stderr, flush=True)
        rows.extend(module.cases(args.quick))
    table = pd.DataFrame(rows)
    with pd.option_context("display.max_colwidth", 80, "display.width", 250):
        print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
