"""``python -m analytics fit|score``: see :mod:`analytics.cli` (``--help`` documents both)."""

from analytics.cli import main

raise SystemExit(main())
