"""Which lock a schema change takes on a table, read from pg_locks while the change is made to wait.

A monitor transaction holds ROW EXCLUSIVE on the table, the lock every writer holds. A plain CREATE
INDEX asks for SHARE, which conflicts, so it queues and pg_locks shows what it asked for; CREATE INDEX
CONCURRENTLY gets SHARE UPDATE EXCLUSIVE, then waits for the monitor's transaction to finish, so
pg_locks shows what it holds. Either way the observation is deterministic, not a race with a poller.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psycopg
from psycopg import sql

# pg_locks mode -> the name the documentation and LOCK TABLE use.
LOCK_NAMES = {
    "AccessShareLock": "ACCESS SHARE",
    "RowShareLock": "ROW SHARE",
    "RowExclusiveLock": "ROW EXCLUSIVE",
    "ShareUpdateExclusiveLock": "SHARE UPDATE EXCLUSIVE",
    "ShareLock": "SHARE",
    "ShareRowExclusiveLock": "SHARE ROW EXCLUSIVE",
    "ExclusiveLock": "EXCLUSIVE",
    "AccessExclusiveLock": "ACCESS EXCLUSIVE",
}
STRENGTH = list(LOCK_NAMES)


def lock_taken(
    url: str, table: str, change: Callable[[], None], *, cancel: bool = False, timeout: float = 120.0
) -> str | None:
    """The strongest lock `change` (run in a thread, on its own connection) holds or requests on table.

    None when the change finished without touching the table. With `cancel`, the change is cancelled
    once its lock is seen, before it can do its work: for a change in one transaction (a plain,
    atomic migration) that is a rollback, so reading its lock costs no index build. The caller checks
    where the change left the database: a change that never waited may have finished first.
    """
    errors: list[BaseException] = []
    backend: list[int] = []

    def run() -> None:
        from django.db import connection

        try:
            # Only this backend's locks count: autovacuum, for one, takes SHARE UPDATE EXCLUSIVE too.
            connection.ensure_connection()
            assert connection.connection is not None
            backend.append(connection.connection.info.backend_pid)
            change()
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)
        finally:
            from django.db import connections

            connections.close_all()

    seen: set[str] = set()
    with psycopg.connect(url) as monitor, psycopg.connect(url, autocommit=True) as watcher:
        monitor.execute(sql.SQL("LOCK TABLE {} IN ROW EXCLUSIVE MODE").format(sql.Identifier(table)))
        worker = threading.Thread(target=run, name=f"schema-change-{table}")
        worker.start()
        deadline = time.monotonic() + timeout
        while not seen and worker.is_alive() and time.monotonic() < deadline:
            rows = watcher.execute(
                "SELECT mode FROM pg_locks"
                " WHERE locktype = 'relation' AND relation = %s::regclass AND pid = %s",
                (table, backend[0] if backend else -1),
            ).fetchall()
            seen = {mode for (mode,) in rows}
            time.sleep(0.002)
        if cancel and seen and backend:
            watcher.execute("SELECT pg_cancel_backend(%s)", (backend[0],))
        monitor.rollback()
        worker.join(timeout)
    if errors and not (cancel and _cancelled(errors[0])):
        raise errors[0]
    if not seen:
        return None
    return LOCK_NAMES.get(max(seen, key=STRENGTH.index), max(seen))


def _cancelled(error: BaseException) -> bool:
    """Whether the change failed because it was cancelled (Django wraps the driver's error)."""
    found: BaseException | None = error
    while found is not None:
        if isinstance(found, psycopg.errors.QueryCanceled):
            return True
        found = found.__cause__
    return False
