"""Cold cache: evict the relations from PostgreSQL's shared buffers before every timed round.

PostgreSQL 18's pg_buffercache_evict_all() empties shared buffers without a restart. The operating
system's page cache still holds the files, so "cold" here means "read from the OS cache, not from
shared buffers": no disk latency is measured on this machine, only PostgreSQL's own buffer misses.
"""

from __future__ import annotations

from django.db import connection

from django_index_bench.bench.errors import UsageError


def enable() -> None:
    """Install pg_buffercache (superuser); a one-line error when the server cannot."""
    import django.db.utils

    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_buffercache")
            cursor.execute("SELECT 1 FROM pg_proc WHERE proname = 'pg_buffercache_evict_all'")
            if cursor.fetchone() is None:
                raise UsageError(
                    "this PostgreSQL has no pg_buffercache_evict_all (needs 18+); pass --no-cold"
                )
    except django.db.utils.DatabaseError as exc:
        raise UsageError(
            f"cannot enable pg_buffercache for the cold-cache series ({exc}); pass --no-cold"
        ) from None


def installed() -> bool:
    """Is pg_buffercache_evict_all already in this database (nothing is created to find out)?"""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_proc WHERE proname = 'pg_buffercache_evict_all'")
        return cursor.fetchone() is not None


def evict_all() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM pg_buffercache_evict_all()")
