"""Load the generated rows with COPY, fast and idempotently.

Within one transaction the four tables are truncated, their keys, foreign keys and indexes dropped
(their definitions, read back from the catalog, saved first: seed/rebuild.py), and the rows streamed
with binary COPY ... FREEZE, drawn and encoded chunk by chunk by a pool of worker processes while the
server copies. Everything is then built back exactly as it was, in parallel after the commit (or one
at a time inside the transaction), and VACUUM ANALYZE settles statistics and the visibility map. The
marker, which declares the data complete, is written only when every key and index is back.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import multiprocessing.pool
import os
import signal
import time
from collections import deque
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from typing import Never

import psycopg
from psycopg import sql
from tqdm import tqdm

from seed import rebuild
from seed.binary import HEADER, TRAILER
from seed.generate import ChunkedTable, TableData, tables
from seed.profiles import SeedRequest

# Bump whenever the same request would produce different rows.
# 2: tracking and journal are drawn in chunks of whole minutes, each from its own random stream
#    (seed, table, chunk), after one multinomial draw of rows per minute, so memory stays flat.
SEEDER_VERSION = "2"
TABLES = ("tenants_tenant", "peoples_people", "tracking", "journal_journalentry")
MARKER = "bench_seed_marker"

Connection = psycopg.Connection[tuple[object, ...]]


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
    request: SeedRequest
    reused: bool
    fingerprint: str
    seeder_version: str
    tables: tuple[TableLoad, ...]
    seconds: float
    # draw rows, rebuild keys and indexes, vacuum analyze; in parallel the vacuum of a table starts
    # as soon as its own keys are back, so its phase is what remains after the last build.
    phases: tuple[tuple[str, float], ...] = ()
    rebuild: rebuild.Mode = "parallel"


def fingerprint(request: SeedRequest) -> str:
    """Names the data content: the same request and seeder version give byte-identical tables."""
    text = json.dumps([SEEDER_VERSION, request.seed, asdict(request.counts)], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def layout(conn: Connection) -> str:
    """The tables' columns and types; indexes deliberately excluded (the runner moves between them)."""
    rows = conn.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = ANY(%s) ORDER BY 1, ordinal_position",
        (list(TABLES),),
    ).fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:16]


def _marker(conn: Connection) -> dict[str, object] | None:
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {MARKER} (id int PRIMARY KEY CHECK (id = 1), seed bigint, counts jsonb,"
        " seeder_version text, layout text, fingerprint text, seeded_at timestamptz)"
    )
    row = conn.execute(f"SELECT seed, counts, seeder_version, layout FROM {MARKER}").fetchone()
    if row is None:
        return None
    return {"seed": row[0], "counts": row[1], "seeder_version": row[2], "layout": row[3]}


def _counts_match(conn: Connection, request: SeedRequest) -> bool:
    wanted = dict(zip(TABLES, asdict(request.counts).values(), strict=True))
    for table, rows in wanted.items():
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
        if row is None or row[0] != rows:
            return False
    return True


# The tables being loaded, set before the worker processes fork so they inherit the plans (and the
# small tables, drawn whole).
_WORK: list[TableData | ChunkedTable] = []
# Chunks encoded ahead of the COPY, per encoder: enough to keep both busy, few enough to bound memory.
AHEAD = 2


def _ignore_interrupt() -> None:
    """Worker initializer. Ctrl-C reaches the whole process group; only the parent acts on it (ending
    the pool and rolling the load back), so a worker neither stops mid-chunk nor prints a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


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


def _load(conn: Connection, progress: bool) -> tuple[list[TableLoad], list[rebuild.Definition]]:
    conn.execute(f"DELETE FROM {MARKER}")
    conn.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.Identifier, TABLES))))
    definitions = rebuild.take_down(conn, TABLES)

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


def _finish(conn: Connection, request: SeedRequest, shape: str, name: str) -> None:
    """Declare the data complete: only once every key and index is back."""
    for table in TABLES:
        # Explicit ids were loaded; the ORM must continue after them.
        conn.execute(
            sql.SQL("SELECT setval(pg_get_serial_sequence({t}, 'id'), (SELECT max(id) FROM {i}))").format(
                t=sql.Literal(table), i=sql.Identifier(table)
            )
        )
    rebuild.done(conn)
    conn.execute(
        f"INSERT INTO {MARKER} VALUES (1, %s, %s, %s, %s, %s, now())",
        (request.seed, json.dumps(asdict(request.counts)), SEEDER_VERSION, shape, name),
    )


def _in_parallel(
    url: str, definitions: list[rebuild.Definition], connections: int | None, workers: int | None
) -> tuple[float, float]:
    """Build everything back and vacuum on several connections: (seconds until the last build ended,
    seconds of vacuum after it)."""
    with psycopg.connect(url, autocommit=True) as conn:
        sizes = rebuild.sizes(conn, TABLES)
    jobs = rebuild.plan(definitions, sizes, vacuum=TABLES)
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
        if not rebuild.pending(conn):
            return False
        _marker(conn)  # made when missing
        conn.execute(f"DELETE FROM {MARKER}")
        conn.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.Identifier, TABLES))))
        rebuild.one_at_a_time(conn, rebuild.take_down(conn, TABLES))
        rebuild.done(conn)
    return True


def ensure_seeded(
    url: str,
    request: SeedRequest,
    *,
    force: bool = False,
    progress: bool = True,
    mode: rebuild.Mode = "parallel",
    connections: int | None = None,
    workers: int | None = None,
) -> SeedOutcome:
    """Seed the four tables for `request`, or reuse them when the marker says they already hold it.

    mode: how keys and indexes are built back (see seed/rebuild.py); connections and workers: for
    "parallel", how many connections build at once and max_parallel_maintenance_workers on each."""
    started = time.perf_counter()
    name = fingerprint(request)
    recover(url)
    with psycopg.connect(url) as conn:
        current = _marker(conn)
        shape = layout(conn)
        wanted = {
            "seed": request.seed,
            "counts": asdict(request.counts),
            "seeder_version": SEEDER_VERSION,
            "layout": shape,
        }
        if not force and current == wanted and _counts_match(conn, request):
            conn.commit()
            return SeedOutcome(request, True, name, SEEDER_VERSION, (), time.perf_counter() - started)

        began = time.perf_counter()
        _WORK[:] = tables(request)
        drawn = time.perf_counter() - began
        try:
            loads, definitions = _load(conn, progress)
            began = time.perf_counter()
            if mode == "one at a time":
                rebuild.one_at_a_time(conn, definitions)
                _finish(conn, request, shape, name)
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
                sql.SQL("VACUUM (ANALYZE) {}").format(sql.SQL(", ").join(map(sql.Identifier, TABLES)))
            )
        vacuumed = time.perf_counter() - began
    else:
        # The rows are committed without their keys; PENDING holds what is missing until _finish.
        rebuilt, vacuumed = _in_parallel(url, definitions, connections, workers)
        with psycopg.connect(url) as conn:
            _finish(conn, request, shape, name)
    return SeedOutcome(
        request=request,
        reused=False,
        fingerprint=name,
        seeder_version=SEEDER_VERSION,
        tables=tuple(loads),
        seconds=time.perf_counter() - started,
        phases=(("draw rows", drawn), ("rebuild keys and indexes", rebuilt), ("vacuum analyze", vacuumed)),
        rebuild=mode,
    )
