"""One run per database at a time: a PostgreSQL advisory lock per database a command changes.

The lock is taken on a connection to the server's maintenance database, keyed by the name of the
database it guards, so it never stands in the way of CREATE DATABASE ... TEMPLATE of that database
(which needs it free of connections). It is held for as long as the command works, and PostgreSQL
releases it when the connection goes away, also when the process is killed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import sys
from collections.abc import Iterator

import psycopg

from django_index_bench.bench.errors import UsageError

NAMESPACE = "django-index-bench"


def key(database: str) -> int:
    """A stable signed 64-bit key (Python's hash() changes per process)."""
    digest = hashlib.blake2b(f"{NAMESPACE}:{database}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _holder(conn: psycopg.Connection[tuple[object, ...]], lock_key: int) -> str:
    """Who holds the lock, as pg_stat_activity knows it: the application name we gave, and since when."""
    unsigned = lock_key & 0xFFFF_FFFF_FFFF_FFFF
    row = conn.execute(
        """
        SELECT a.application_name, a.pid, to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ')
        FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s AND l.objsubid = 1
        """,
        (unsigned >> 32, unsigned & 0xFFFF_FFFF),
    ).fetchone()
    if row is None:
        return "another process (it has just finished)"
    name, pid, since = row
    return f"{name or 'another client'} (server pid {pid}, since {since})"


@contextlib.contextmanager
def hold(server_url: str, database: str, *, purpose: str, wait: bool = True) -> Iterator[None]:
    """Hold the lock on `database` for the block. Waits for another holder, saying who it is, or with
    wait=False refuses with a one-line error."""
    name = f"{purpose} (pid {os.getpid()} on {socket.gethostname()})"[:63]
    with psycopg.connect(server_url, autocommit=True, application_name=name) as conn:
        lock_key = key(database)
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (lock_key,)).fetchone()
        if not (row and row[0]):
            holder = _holder(conn, lock_key)
            if not wait:
                raise UsageError(
                    f"database {database!r} is in use by {holder}; wait for it, or run without --no-wait"
                )
            print(f"bench: database {database!r} is in use by {holder}; waiting for it", file=sys.stderr)
            conn.execute("SELECT pg_advisory_lock(%s)", (lock_key,))
        yield
