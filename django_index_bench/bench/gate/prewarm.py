"""Every database copy of a compare pass given the same cache treatment before its timed rounds.

Which of a copy's pages sit in shared buffers is a property of the copy, not of the code: a copy made
last, or migrated last, starts with more of its pages cached than one made first. So once every copy
has reached its state, each copy's tables and indexes are read into shared buffers with pg_prewarm,
all of them alike. That only works when they all fit together: otherwise prewarming the last copies
evicts the first ones, which is less alike than not prewarming at all, and nothing is prewarmed (the
record says why). The extension is created for the read and dropped again when the copy did not have
it, so the copy's schema is left as it was.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg import sql

from django_index_bench.bench.pg import clones, db
from django_index_bench.bench.pg import server as embedded

# What the copies may fill of shared_buffers: the rest stays for the catalogs and the rounds' own work.
SHARE_OF_BUFFERS = 0.9
RELATIONS = """
SELECT count(pg_prewarm(c.oid))
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'i', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
"""


def _megabytes(size: float) -> str:
    return f"{size / 1024**2:.0f} MB"


def _shared_buffers(server: str) -> int:
    with psycopg.connect(server, autocommit=True) as conn:
        row = conn.execute(
            "SELECT setting::bigint * current_setting('block_size')::bigint FROM pg_settings "
            "WHERE name = 'shared_buffers'"
        ).fetchone()
    return int(row[0]) if row else 0


def _prewarm_one(url: str) -> int:
    """Read every table and index of one copy into shared buffers; the relations read."""
    with psycopg.connect(url, autocommit=True) as conn:
        had = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_prewarm'").fetchone()
        if not had:
            conn.execute("CREATE EXTENSION pg_prewarm")
        try:
            row = conn.execute(RELATIONS).fetchone()
        finally:
            if not had:
                conn.execute(sql.SQL("DROP EXTENSION pg_prewarm"))
    return int(row[0]) if row else 0


def prewarm(server: str, names: Sequence[str]) -> str:
    """Prewarm every copy alike, or none; what was done, in words, for the record."""
    buffers, sizes = _shared_buffers(server), clones.databases_bytes(server, names)
    if sizes > buffers * SHARE_OF_BUFFERS:
        return (
            f"not prewarmed: the {len(names)} copies ({_megabytes(sizes)}) do not fit in shared_buffers "
            f"({_megabytes(buffers)}) together, so prewarming the last would evict the first"
        )
    try:
        relations = sum(_prewarm_one(embedded.with_database(server, name)) for name in names)
    except psycopg.Error as exc:
        return f"not prewarmed: pg_prewarm failed ({db.first_line(exc)})"
    return (
        f"pg_prewarm of every table and index of each of the {len(names)} copies ({relations} relations, "
        f"{_megabytes(sizes)} within shared_buffers {_megabytes(buffers)})"
    )
