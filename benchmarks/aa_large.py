"""Issue 19's second target, measured: A/A `bench run` on data at least 4x the server's shared buffers
calls no case faster or slower.

The harness's own server sizes shared_buffers to a quarter of the machine's memory (6 GB here), so no
sample profile that runs in minutes is 4x that. This mode runs on a server of its own (its own
BENCH_PGDATA) whose shared_buffers it lowers (ALTER SYSTEM, then `bench db stop` and `bench db start`:
the harness sizes only a new server's), seeds it, and measures the seeded database: the ratio of its
size to shared_buffers is recorded, and below MIN_RATIO the mode refuses to report anything.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from targets_lib import bench, last_line, migration_calls

MIN_RATIO = 4.0
SEED = "7"
# The small profile with its two big tables grown: about 185 MB seeded, 5.8x a 32 MB shared_buffers, and
# quick enough that ten runs take minutes.
DEFAULT_ROWS = ("tracking=300000", "journal_journalentry=300000")
# Only the migration scenarios are A/A in `bench run --aa` (the code variants differ on purpose and are not
# counted), so by default only they are run: the sample's three tracking and three journal scenarios.
DEFAULT_SCENARIOS = (
    "tracking_person_range",
    "tracking_identifier_range",
    "tracking_device",
    "journal_user_timeline",
    "journal_type_timeline",
    "journal_privacy_scope",
)
RUN_FLAGS = ("--aa", "--no-costs", "--no-cold", "--no-load", "--no-progress")


def _megabytes(size: float) -> str:
    return f"{size / 1024**2:.0f} MB"


def _server(pgdata: Path) -> str:
    from django_index_bench.bench.pg import server as embedded

    status = embedded.status(pgdata)
    if status.url is None:
        raise SystemExit(f"the server in {pgdata} is not running after `bench db start`")
    return embedded.with_database(status.url, embedded.MAINTENANCE)


def _settings(url: str) -> tuple[int, int]:
    """shared_buffers in bytes, and the seeded `bench` database's size in bytes."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT setting::bigint * current_setting('block_size')::bigint,"
            " coalesce(pg_database_size('bench'), 0) FROM pg_settings WHERE name = 'shared_buffers'"
        ).fetchone()
    if row is None:
        raise SystemExit("the server has no shared_buffers setting")
    return int(row[0]), int(row[1])


def large_aa_runs(repo: Path, tmp: Path, count: int, args: argparse.Namespace) -> dict[str, Any]:
    """`count` A/A runs (--large-profile, --large-rows, --large-scenario) on a server of its own with
    shared_buffers of --large-buffers-mb."""
    profile, buffers_mb = args.large_profile, args.large_buffers_mb
    rows: Sequence[str] = args.large_rows
    scenarios: Sequence[str] = args.large_scenario or DEFAULT_SCENARIOS
    pgdata = tmp / "pgdata-small-buffers"
    env = {"BENCH_PGDATA": str(pgdata)}
    data = ["--profile", profile, "--seed", SEED, *(a for r in rows for a in ("--rows", r))]

    def run(*args: str) -> float:
        started = time.perf_counter()
        done = bench(*args, cwd=repo, env=env)
        if done.returncode != 0:
            raise SystemExit(f"bench {args[0]} failed (exit {done.returncode}): {last_line(done)}")
        return time.perf_counter() - started

    try:
        run("db", "start")
        with psycopg.connect(_server(pgdata), autocommit=True) as conn:
            size = sql.Literal(f"{buffers_mb}MB")
            conn.execute(sql.SQL("ALTER SYSTEM SET shared_buffers = {}").format(size))
        run("db", "stop")
        run("db", "start")
        seed_s = run("seed", *data, "--no-progress")
        buffers, database = _settings(_server(pgdata))
        found: dict[str, Any] = {
            "data": " ".join(data),
            "shared_buffers_bytes": buffers,
            "database_bytes": database,
            "ratio": database / buffers,
            "seed_seconds": seed_s,
        }
        print(
            f"A/A run on big data: {_megabytes(database)} seeded, shared_buffers {_megabytes(buffers)}, "
            f"{database / buffers:.1f}x (seeded in {seed_s:.0f} s)",
            flush=True,
        )
        if database < MIN_RATIO * buffers:
            found["refused"] = (
                f"the seeded database ({_megabytes(database)}) is under {MIN_RATIO:g}x shared_buffers "
                f"({_megabytes(buffers)}): lower --large-buffers-mb or seed more (--large-rows)"
            )
            print(f"A/A run on big data: refused: {found['refused']}", flush=True)
            return found
        selected = [a for s in scenarios for a in ("--scenario", s)]
        called, runs = [], []
        for n in range(count):
            out = tmp / f"large{n}"
            seconds = run("run", *data, *RUN_FLAGS, *selected, "--results-dir", str(out))
            cases, flags = migration_calls(out / "latest.json")
            settings = _run_settings(out / "latest.json")
            called.append(flags)
            runs.append({"seconds": seconds, "cases": cases, "called": flags, **settings})
            print(
                f"A/A run on big data {n + 1}/{count}: {len(flags)} of {cases} case(s) called faster or "
                f"slower {flags} ({seconds:.0f} s, shared_buffers {settings['shared_buffers']})",
                flush=True,
            )
        found.update(
            runs=count,
            scenarios=list(scenarios),
            runs_calling_any=sum(bool(f) for f in called),
            each=runs,
        )
        return found
    finally:
        bench("db", "stop", cwd=repo, env=env)


def _run_settings(latest: Path) -> dict[str, str]:
    """What the run itself recorded of the server it ran on: its shared_buffers, and its prewarm."""
    from django_index_bench.bench import results

    run = results.load(latest)
    return {
        "shared_buffers": run.environment.postgres_settings.get("shared_buffers", "?"),
        "prewarm": run.schedule.prewarm if run.schedule is not None else "",
    }
