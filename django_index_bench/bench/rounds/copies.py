"""How many database copies each side's state gets, one rule for `bench run` and `bench compare`.

A side measured on one database copy has its rounds correlated through that copy (which of its pages
sit in shared buffers, its physical layout, its backends): a difference between two copies has nowhere
to go but into the effect. With several copies per state, each with its own connections and the rounds
spread over them, the interval resamples whole copies and a copy-level difference widens it instead.
"""

from __future__ import annotations

# At least two, so a difference between copies shows as spread. Four while copying the data stays cheap
# (compare: one per worker process, its WORKERS), two above that size.
MIN_COPIES = 2
MAX_COPIES = 4
SMALL_DATABASE_BYTES = 64 * 1024**2


def count_for(size_bytes: int, requested: int | None) -> int:
    """The copies per state for seeded data of `size_bytes` (or as asked)."""
    if requested is not None:
        return requested
    return MAX_COPIES if size_bytes <= SMALL_DATABASE_BYTES else MIN_COPIES


def megabytes(size_bytes: int) -> str:
    return f"{size_bytes / 1024**2:.0f} MB"


def small_limit() -> str:
    return f"{SMALL_DATABASE_BYTES // 1024**2} MB"
