"""Copies of the seeded database (CREATE DATABASE ... TEMPLATE): one per state of a run, one for costs.

Every copy is named after the run, so two runs never share one, and carries the harness's mark, so
only the harness ever drops it.
"""

from __future__ import annotations

import secrets
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import psycopg

from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.pg import db
from django_index_bench.bench.pg import server as embedded

MAX_NAME = 63  # PostgreSQL truncates longer identifiers, which would merge two names into one
# How long a copy waits for its template to have no other session.
TEMPLATE_WAIT_S = 15.0
MAX_DROPS = 8  # databases dropped at once


def run_tag() -> str:
    """A short random tag: the part of a run's database names that no other run has."""
    return "r" + secrets.token_hex(4)


def name_for(target: db.Target, tag: str, purpose: str) -> str:
    suffix = f"_{tag}_{purpose}"
    return target.name[: MAX_NAME - len(suffix)] + suffix


def maintenance_url(target: db.Target) -> str:
    return embedded.with_database(target.url, "postgres")


def clone(target: db.Target, name: str, tag: str = "") -> db.Target:
    """A harness-owned copy of target named `name` (an older copy of ours by that name is replaced),
    recorded as transient, owned by this process under the run's tag: if the process dies before it
    drops the copy, the next command does (db.reap)."""
    server = maintenance_url(target)
    db.drop_owned_database(server, name)
    # The template must have no other connection (close Django's first); autovacuum may hold it briefly.
    # Bounded by time, not attempts: each CREATE DATABASE already waits up to 5 s before it gives up.
    deadline = time.monotonic() + TEMPLATE_WAIT_S
    while True:
        try:
            owner = embedded.Owner(run_tag=tag or name)
            embedded.create_owned_database(server, name, template=target.name, owner=owner)
            break
        except psycopg.errors.ObjectInUse:
            if time.monotonic() > deadline:
                raise UsageError(
                    f"cannot copy database {target.name!r}: other sessions are connected to it "
                    f"({_sessions(server, target.name)}); close them and run again"
                ) from None
            time.sleep(0.25)
    return db.Target(embedded.with_database(target.url, name), embedded=target.embedded)


def _sessions(server: str, database: str) -> str:
    """Who is connected to `database`, as pg_stat_activity knows them."""
    with psycopg.connect(server, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid, coalesce(nullif(application_name, ''), backend_type) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid() ORDER BY pid",
            (database,),
        ).fetchall()
    return ", ".join(f"pid {pid}: {who}" for pid, who in rows) or "they have just left"


def databases_bytes(server: str, names: Sequence[str]) -> int:
    """The databases' sizes on the server together, in bytes (a missing one is an error)."""
    with psycopg.connect(server, autocommit=True) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(pg_database_size(n)), 0) FROM unnest(%s::text[]) AS n", (list(names),)
        ).fetchone()
    return int(row[0]) if row else 0


def keep(target: db.Target, copies: list[db.Target]) -> None:
    """--keep-databases: these copies stay, and are no run's leftovers."""
    embedded.keep(maintenance_url(target), [c.name for c in copies])


def drop(target: db.Target, name: str) -> None:
    db.drop_owned_database(maintenance_url(target), name)


def drop_all(target: db.Target, copies: list[db.Target]) -> None:
    """Drop every copy, on the way out of a step: one that cannot be dropped is said on stderr (it is the
    harness's, so the next run may drop it) and does not keep the others, or the step's own error.

    Concurrently: every DROP DATABASE waits for a checkpoint of its own (about a second on a busy
    machine, most of a copies step), and checkpoints requested together are done once."""

    def one(copied: db.Target) -> None:
        try:
            drop(target, copied.name)
        except (psycopg.Error, UsageError) as exc:
            print(f"bench: could not drop database {copied.name}: {db.first_line(exc)}", file=sys.stderr)

    with ThreadPoolExecutor(max_workers=max(1, min(len(copies), MAX_DROPS))) as pool:
        list(pool.map(one, copies))


def check_ours_or_absent(target: db.Target, name: str) -> None:
    """Refuse up front a helper database another program made: it would be seeded over later."""
    url = embedded.with_database(target.url, name)
    with psycopg.connect(maintenance_url(target), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    if exists and not embedded.is_owned(url):
        raise UsageError(
            f"refusing to use database {name!r}: it exists and the harness did not create it; "
            "drop or rename it, or use another --database"
        )
