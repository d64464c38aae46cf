"""Load a source's rows with COPY, fast and idempotently.

Within one transaction the source's tables are truncated (with CASCADE: tables whose foreign keys point
into them would hold dangling rows), their keys, foreign keys and indexes dropped (their definitions,
read back from the catalog, saved first: seed/rebuild.py), and the rows streamed with binary COPY ...
FREEZE, drawn and encoded chunk by chunk by a pool of worker processes while the server copies.
Everything is then built back exactly as it was, in parallel after the commit (or one at a time inside
the transaction), and VACUUM ANALYZE settles statistics and the visibility map. The marker, which
declares the data complete and lets the next seed of the same source reuse it, is written only when
every key and index is back.
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.pool
import os
import signal
import time
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Never

import psycopg
from psycopg import sql
from tqdm import tqdm

from django_index_bench.seed import rebuild
from django_index_bench.seed.binary import HEADER, TRAILER
from django_index_bench.seed.inputs import SeedInputError
from django_index_bench.seed.source import Source, Table, digest

MARKER = "bench_seed_marker"

Connection = psycopg.Connection[tuple[object, ...]]

__all__ = [
    "Owner",
    "ReseedRefused",
    "SeedOutcome",
    "TableLoad",
    "ensure_seeded",
    "fingerprint",
    "holds",
    "owner",
    "recover",
]


class ReseedRefused(SeedInputError):
    """The database holds other data than asked for, and re-seeding was ruled out (--no-reseed)."""


@dataclass(frozen=True)
class TableLoad:
    table: str
    rows: int
    seconds: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


@dataclass(frozen=True)
class SeedOutcome:
    source: Source
    reused: bool
    fingerprint: str
    seeder_version: str
    tables: tuple[TableLoad, ...]
    seconds: float
    # draw rows, rebuild keys and indexes, vacuum analyze; in parallel the vacuum of a table starts
    # as soon as its own keys are back, so its phase is what remains after the last build.
    phases: tuple[tuple[str, float], ...] = ()
    rebuild: rebuild.Mode = "parallel"


def fingerprint(source: Source) -> str:
    """Names the data content: the same source identity gives byte-identical tables."""
    return source.fingerprint()


def layout(conn: Connection, tables: tuple[str, ...]) -> str:
    """The tables' columns and types; indexes deliberately excluded (the runner moves between them)."""
    rows = conn.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = ANY(%s) ORDER BY 1, ordinal_position",
        (list(tables),),
    ).fetchall()
    return digest(repr(rows))


@dataclass(frozen=True)
class Owner:
    """Which project seeded a database: its configuration file, the seed plan or hook it names, and its
    Django apps (what the database's tables belong to: a copy of the project elsewhere has the same)."""

    project: str
    plan: str
    apps: tuple[str, ...]


def owner(url: str) -> Owner | None:
    """The project the database's marker names; None: never seeded, or by a harness from before
    projects were recorded. Nothing is created to find out."""
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute(
            "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = 'project'", (MARKER,)
        ).fetchone()
        if found is None:
            return None
        row = conn.execute(f"SELECT project, plan, apps FROM {MARKER} WHERE project IS NOT NULL").fetchone()
    return None if row is None else Owner(str(row[0]), str(row[1]), tuple(str(row[2] or "").split()))


def _marker(conn: Connection) -> dict[str, object] | None:
    # Markers written before sources existed lack `identity`: such a database is seeded again once.
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {MARKER} (id int PRIMARY KEY CHECK (id = 1), seed bigint, counts jsonb,"
        " seeder_version text, layout text, fingerprint text, seeded_at timestamptz)"
    )
    conn.execute(f"ALTER TABLE {MARKER} ADD COLUMN IF NOT EXISTS identity jsonb")
    # The schema state (app -> migration) the rows were loaded at; markers from before it lack it, so
    # such a database is seeded again once.
    conn.execute(f"ALTER TABLE {MARKER} ADD COLUMN IF NOT EXISTS state jsonb")
    # The project that seeded it (bench.seeding.claim): another project's run is refused or re-seeds.
    conn.execute(f"ALTER TABLE {MARKER} ADD COLUMN IF NOT EXISTS project text")
    conn.execute(f"ALTER TABLE {MARKER} ADD COLUMN IF NOT EXISTS plan text")
    conn.execute(f"ALTER TABLE {MARKER} ADD COLUMN IF NOT EXISTS apps text")
    row = conn.execute(f"SELECT identity, layout, state FROM {MARKER}").fetchone()
    if row is None:
        return None
    return {"identity": row[0], "layout": row[1], "state": row[2]}


# What a marker field means, for the one line that says why the data does not match.
_MEANING = {
    "identity": "it was seeded with another seed, plan or row counts",
    "layout": "its tables have other columns",
    "state": "it was seeded at another schema state",
}


def _mismatch(current: dict[str, object] | None, wanted: dict[str, object]) -> str:
    if current is None:
        return "it holds no complete seed"
    return (
        "; ".join(_MEANING[key] for key in wanted if current.get(key) != wanted[key])
        or "its row counts differ"
    )


def _counts_match(conn: Connection, source: Source) -> bool:
    for table, rows in source.counts.items():
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
        if row is None or row[0] != rows:
            return False
    return True


# The tables being loaded, set before the worker processes fork so they inherit the plans (and the
# small tables, drawn whole).
_WORK: list[Table] = []
# Chunks encoded ahead of the COPY, per encoder: enough to keep both busy, few enough to bound memory.
AHEAD = 2


def _ignore_interrupt() -> None:
    """Worker initializer. Ctrl-C reaches the whole process group; only the parent acts on it (ending
    the pool and rolling the load back), so a worker neither stops mid-chunk nor prints a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    # Forked with the parent's SIGTERM handler (bench's cleanup); the pool ends its workers with SIGTERM,
    # which must simply end them.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _pool(processes: int) -> multiprocessing.pool.Pool:
    """A pool of forked encoders that ignore SIGINT (held back while they fork, so none misses it)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return multiprocessing.get_context("fork").Pool(processes, initializer=_ignore_interrupt)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # a Ctrl-C meanwhile arrives now


def _encode(job: tuple[int, int, int]) -> bytes:
    index, lo, hi = job
    return _WORK[index].render(lo, hi)


def _encoded(
    jobs: list[tuple[int, int, int]], pool: multiprocessing.pool.Pool | None, processes: int
) -> Iterator[bytes]:
    """The jobs' chunks in order, at most AHEAD per encoder waiting in memory (imap would queue all)."""
    if pool is None:
        yield from map(_encode, jobs)
        return
    window: deque[multiprocessing.pool.AsyncResult[bytes]] = deque()
    for job in jobs:
        if len(window) >= AHEAD * processes:
            yield window.popleft().get()
        window.append(pool.apply_async(_encode, (job,)))
    while window:
        yield window.popleft().get()


def _copy(
    conn: Connection, index: int, pool: multiprocessing.pool.Pool | None, processes: int, bar: tqdm[Never]
) -> None:
    data = _WORK[index]
    statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT binary, FREEZE)").format(
        sql.Identifier(data.table), sql.SQL(", ").join(map(sql.Identifier, data.column_names))
    )
    jobs = [(index, lo, hi) for lo, hi in data.ranges()]
    with conn.cursor().copy(statement) as copy:
        copy.write(HEADER)
        for (_, lo, hi), chunk in zip(jobs, _encoded(jobs, pool, processes), strict=True):
            copy.write(chunk)
            bar.update(hi - lo)
        copy.write(TRAILER)


def _restart_sequences(conn: Connection, tables: tuple[str, ...]) -> None:
    """Explicit ids were loaded; the ORM must continue after them (tables without a sequence: nothing)."""
    owned = conn.execute(
        "SELECT c.relname::text, a.attname::text, pg_get_serial_sequence(quote_ident(c.relname), a.attname)"
        " FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
        " WHERE c.oid = ANY(%s::regclass[]) AND a.attnum > 0 AND NOT a.attisdropped"
        " AND pg_get_serial_sequence(quote_ident(c.relname), a.attname) IS NOT NULL ORDER BY 1, 2",
        (list(tables),),
    ).fetchall()
    for table, column, sequence in owned:
        conn.execute(
            sql.SQL("SELECT setval({s}, m) FROM (SELECT max({c}) m FROM {t}) x WHERE m IS NOT NULL").format(
                s=sql.Literal(sequence), c=sql.Identifier(str(column)), t=sql.Identifier(str(table))
            )
        )


def _load(
    conn: Connection, tables: tuple[str, ...], progress: bool
) -> tuple[list[TableLoad], list[rebuild.Definition]]:
    conn.execute(f"DELETE FROM {MARKER}")
    conn.execute(sql.SQL("TRUNCATE {} CASCADE").format(sql.SQL(", ").join(map(sql.Identifier, tables))))
    definitions = rebuild.take_down(conn, tables)

    loads: list[TableLoad] = []
    processes = min(2, os.cpu_count() or 1)
    # Workers fork after the tables are planned, so they share the plans and draw and encode chunks.
    context = _pool(processes) if processes > 1 else nullcontext(None)
    with context as pool:
        for index, data in enumerate(_WORK):
            began = time.perf_counter()
            with tqdm(
                total=data.rows, desc=f"{data.table:>20}", unit="rows", unit_scale=True, disable=not progress
            ) as bar:
                _copy(conn, index, pool, processes, bar)
            loads.append(TableLoad(data.table, data.rows, time.perf_counter() - began))
    return loads, definitions


def _finish(
    conn: Connection,
    source: Source,
    shape: str,
    name: str,
    identity: object,
    state: object = None,
    by: Owner | None = None,
) -> None:
    """Declare the data complete: only once every key and index is back."""
    _restart_sequences(conn, source.tables)
    rebuild.done(conn)
    # `counts` and `seeder_version` as the seeder before sources wrote them, for older checkouts.
    conn.execute(
        f"INSERT INTO {MARKER} (id, seed, counts, seeder_version, layout, fingerprint, seeded_at,"
        " identity, state, project, plan, apps) VALUES (1, %s, %s, %s, %s, %s, now(), %s, %s, %s, %s, %s)",
        (
            source.seed, json.dumps(source.dataset_counts), source.version, shape, name, json.dumps(identity),
            json.dumps(state), by.project if by else None, by.plan if by else None,
            " ".join(by.apps) if by else None,
        ),
    )  # fmt: skip


def _in_parallel(
    url: str,
    definitions: list[rebuild.Definition],
    tables: tuple[str, ...],
    connections: int | None,
    workers: int | None,
) -> tuple[float, float]:
    """Build everything back and vacuum on several connections: (seconds until the last build ended,
    seconds of vacuum after it)."""
    with psycopg.connect(url, autocommit=True) as conn:
        sizes = rebuild.sizes(conn, tables)
    jobs = rebuild.plan(definitions, sizes, vacuum=tables)
    began = time.perf_counter()
    built = [began]

    def on_done(job: rebuild.Job) -> None:
        if job.phase == "rebuild":
            built[0] = time.perf_counter()

    rebuild.run(
        url,
        jobs,
        connections=connections or rebuild.connections_default(),
        workers=rebuild.workers_default() if workers is None else workers,
        on_done=on_done,
    )
    return built[0] - began, time.perf_counter() - built[0]


def recover(url: str) -> bool:
    """Put back what an unfinished parallel rebuild left missing, on emptied tables (the data was never
    declared complete, so the next seed loads it again); True when there was something to put back.

    Call it before migrating: a migration that alters a missing index would fail. Quick when nothing
    is pending (one query)."""
    with psycopg.connect(url) as conn:
        missing = rebuild.pending(conn)
        if not missing:
            return False
        tables = tuple(sorted({d.table for d in missing}))
        _marker(conn)  # made when missing
        conn.execute(f"DELETE FROM {MARKER}")
        conn.execute(sql.SQL("TRUNCATE {} CASCADE").format(sql.SQL(", ").join(map(sql.Identifier, tables))))
        rebuild.one_at_a_time(conn, rebuild.take_down(conn, tables))
        rebuild.done(conn)
    return True


def _as_stored(state: Mapping[str, str] | None) -> object:
    return json.loads(json.dumps(dict(sorted(state.items())))) if state is not None else None


def holds(url: str, source: Source, state: Mapping[str, str] | None = None) -> bool:
    """Does the database hold exactly the source's rows, loaded at `state`? (ensure_seeded would reuse.)"""
    identity = json.loads(json.dumps(source.identity()))
    with psycopg.connect(url) as conn:
        wanted = {"identity": identity, "layout": layout(conn, source.tables), "state": _as_stored(state)}
        return _marker(conn) == wanted and _counts_match(conn, source)


def ensure_seeded(
    url: str,
    source: Source,
    *,
    force: bool = False,
    progress: bool = True,
    mode: rebuild.Mode = "parallel",
    connections: int | None = None,
    workers: int | None = None,
    state: Mapping[str, str] | None = None,
    reseed: bool = True,
    by: Owner | None = None,
) -> SeedOutcome:
    """Seed the source's tables, or reuse them when the marker says they already hold its rows, loaded
    at this schema `state` (app -> migration applied; None: not recorded). `by`: the project seeding it,
    recorded in the marker (bench.steps.run.prepare checks it first).

    mode: how keys and indexes are built back (see seed/rebuild.py); connections and workers: for
    "parallel", how many connections build at once and max_parallel_maintenance_workers on each.
    reseed=False: data that does not match raises ReseedRefused instead of being replaced."""
    started = time.perf_counter()
    name = source.fingerprint()
    identity = json.loads(json.dumps(source.identity()))  # as jsonb gives it back
    recorded = _as_stored(state)
    recover(url)
    with psycopg.connect(url) as conn:
        current = _marker(conn)
        shape = layout(conn, source.tables)
        wanted: dict[str, object] = {"identity": identity, "layout": shape, "state": recorded}
        if not force and current == wanted and _counts_match(conn, source):
            conn.commit()
            return SeedOutcome(source, True, name, source.version, (), time.perf_counter() - started)
        if not reseed:
            raise ReseedRefused(
                f"--no-reseed: the database does not hold the data asked for ({_mismatch(current, wanted)}); "
                "run without --no-reseed to seed it again, or start over with `bench db reset`"
            )

        began = time.perf_counter()
        _WORK[:] = source.draw()
        drawn = time.perf_counter() - began
        try:
            loads, definitions = _load(conn, source.tables, progress)
            began = time.perf_counter()
            if mode == "one at a time":
                rebuild.one_at_a_time(conn, definitions)
                _finish(conn, source, shape, name, identity, recorded, by)
            rebuilt = time.perf_counter() - began
            conn.commit()
        except BaseException:
            # Interrupted mid-COPY (Ctrl-C), libpq is still streaming and cannot roll back; closing the
            # connection makes the server abort the transaction, so the tables keep their rows.
            conn.close()
            raise
        finally:
            _WORK.clear()

    if mode == "one at a time":
        began = time.perf_counter()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("VACUUM (ANALYZE) {}").format(sql.SQL(", ").join(map(sql.Identifier, source.tables)))
            )
        vacuumed = time.perf_counter() - began
    else:
        # The rows are committed without their keys; PENDING holds what is missing until _finish.
        rebuilt, vacuumed = _in_parallel(url, definitions, source.tables, connections, workers)
        with psycopg.connect(url) as conn:
            _finish(conn, source, shape, name, identity, recorded, by)
    return SeedOutcome(
        source=source,
        reused=False,
        fingerprint=name,
        seeder_version=source.version,
        tables=tuple(loads),
        seconds=time.perf_counter() - started,
        phases=(("draw rows", drawn), ("rebuild keys and indexes", rebuilt), ("vacuum analyze", vacuumed)),
        rebuild=mode,
    )
