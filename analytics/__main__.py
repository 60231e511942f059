"""``python -m analytics fit|score``: see :mod:`analytics.cli.main` (``--help`` documents both)."""

from analytics.cli.main import main

raise SystemExit(main())
