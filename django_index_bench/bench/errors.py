from __future__ import annotations


class UsageError(Exception):
    """Bad input or a refused operation: printed as one line, exit status 2, nothing changed."""
