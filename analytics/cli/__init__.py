"""The command line: ``python -m analytics fit|score ...``."""
