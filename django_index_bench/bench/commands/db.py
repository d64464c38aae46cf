"""`bench db start|stop|status|url`: the database the harness works on."""

from __future__ import annotations

import argparse

import psycopg

from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.options import database_name
from django_index_bench.bench.pg import clones, db, run_lock
from django_index_bench.bench.pg import server as embedded
from django_index_bench.bench.pg.db import first_line

NAME = "db"
HELP = "Start, stop or inspect the harness's PostgreSQL (embedded unless DATABASE_URL is set)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        choices=["start", "stop", "status", "url", "reset"],
        help="start: start the embedded server and create the harness database; stop: stop it; "
        "reset: drop the harness database and create it empty (only one the harness created; the next "
        "seed or run seeds it again at its before state); "
        "status: say what is running and which database is used, exit status 1 when it cannot be "
        "reached (a health check); url: print the database URL "
        '(starting the embedded server when needed), e.g. for psql "$(bench db url)"',
    )
    parser.add_argument(
        "--database",
        type=database_name,
        metavar="NAME",
        help="for reset: the harness database (default: bench)",
    )
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="for reset: refuse, instead of waiting, while a run or seed uses it",
    )


def handle(args: argparse.Namespace) -> int:
    action: str = args.action
    if action == "status":
        return _status()
    if action == "stop":
        if db.configured_url():
            raise UsageError("DATABASE_URL is set: the harness only stops the embedded server it started")
        stopped = embedded.stop()
        print(f"stopped the embedded PostgreSQL in {embedded.data_dir()}" if stopped else "not running")
        return 0
    if action == "reset":
        return _reset(args)
    target = db.resolve()
    print(target.url)
    return 0


def _reset(args: argparse.Namespace) -> int:
    target = db.resolve(args.database)
    db.guard(target, allow_foreign=False)
    # Not under a seed or run: they would lose their database mid-way.
    with run_lock.hold(
        clones.maintenance_url(target), target.name, purpose="bench db reset", wait=not args.no_wait
    ):
        db.reset(target)
    print(f"reset: database {target.name} is empty; the next bench seed or run seeds it")
    return 0


def _status() -> int:
    configured = db.configured_url()
    if configured is None:
        server = embedded.status()
        print(f"server:   embedded PostgreSQL, data directory {server.data_dir}")
        if not server.running:
            print("status:   stopped (bench db start, or any command that needs it, starts it)")
            return 1
        print(f"status:   running, pid {server.pid}")
        url = server.url or ""
    else:
        print("server:   DATABASE_URL (not managed by the harness)")
        url = configured
    print(f"url:      {db.redacted(url)}")
    name = embedded.database_name(url)
    try:
        owned = embedded.is_owned(url)
    except psycopg.Error as exc:
        if _missing(url, name):
            print(
                f"database: {name}, not created yet (bench db start, or any command that needs it, makes it)"
            )
            return 0
        print(f"database: unreachable ({first_line(exc)})")
        return 1
    print(f"database: {name}, " + ("owned by the harness" if owned else "NOT owned by the harness"))
    _transient(embedded.with_database(url, embedded.MAINTENANCE))
    return 0


def _transient(server: str) -> None:
    """The copies and compare databases on the server: a run's own while it runs, leftovers once it is
    gone (the next command that uses the server drops them)."""
    for left in embedded.transient(server):
        owner = f"run {left.run_tag or '?'}, pid {left.pid} on {left.host or '?'}"
        if left.gone:
            print(f"leftover: {left.name} ({owner}, no longer running; the next command drops it)")
        else:
            print(f"in use:   {left.name} ({owner})")


def _missing(url: str, name: str) -> bool:
    """Is the server up and only the database not there yet? (Asked of its maintenance database.)"""
    try:
        with psycopg.connect(embedded.with_database(url, "postgres"), autocommit=True) as conn:
            return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None
    except psycopg.Error:
        return False
