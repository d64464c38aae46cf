"""Load the generated rows with COPY, fast and idempotently.

Within one transaction the four tables are truncated, their keys, foreign keys and indexes dropped,
the rows streamed with binary COPY ... FREEZE (encoded by a pool of worker processes while the server
copies), and everything rebuilt exactly as it was. Definitions are read back from the catalog, so this
works in any migration state. VACUUM ANALYZE then settles statistics and the visibility map.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import multiprocessing.pool
import os
import signal
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from typing import Never

import psycopg
from psycopg import sql
from tqdm import tqdm

from seed.binary import HEADER, TRAILER
from seed.generate import TableData, tables
from seed.profiles import SeedRequest

# Bump whenever the same request would produce different rows.
SEEDER_VERSION = "1"
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
    phases: tuple[tuple[str, float], ...] = ()  # draw rows, rebuild keys and indexes, vacuum analyze


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


def _definitions(conn: Connection) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str]]]:
    """(table, name, kind, definition) of keys and foreign keys; (name, CREATE INDEX ...) of plain indexes."""
    constraints = conn.execute(
        "SELECT conrelid::regclass::text, conname, contype::text, pg_get_constraintdef(oid)"
        " FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('p', 'u', 'f')"
        " ORDER BY conname",
        (list(TABLES),),
    ).fetchall()
    indexes = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid = ANY(%s::regclass[])"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
        (list(TABLES),),
    ).fetchall()
    return (
        [(str(t), str(n), str(k), str(d)) for t, n, k, d in constraints],
        [(str(n), str(d)) for n, d in indexes],
    )


# The tables being loaded, set before the worker processes fork so they inherit the drawn arrays.
_WORK: list[TableData] = []


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


def _copy(conn: Connection, index: int, pool: multiprocessing.pool.Pool | None, bar: tqdm[Never]) -> None:
    data = _WORK[index]
    statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT binary, FREEZE)").format(
        sql.Identifier(data.table), sql.SQL(", ").join(map(sql.Identifier, data.column_names))
    )
    jobs = [(index, lo, hi) for lo, hi in data.ranges()]
    chunks = pool.imap(_encode, jobs) if pool else map(_encode, jobs)
    with conn.cursor().copy(statement) as copy:
        copy.write(HEADER)
        for (_, lo, hi), chunk in zip(jobs, chunks, strict=True):
            copy.write(chunk)
            bar.update(hi - lo)
        copy.write(TRAILER)


def _rebuild(
    conn: Connection, constraints: list[tuple[str, str, str, str]], indexes: list[tuple[str, str]]
) -> None:
    conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
    # Keys before the foreign keys that reference them.
    for table, name, _, definition in sorted(constraints, key=lambda c: c[2] == "f"):
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.Identifier(table),
                sql.Identifier(name),
                sql.SQL(definition),
            )
        )
    for _, definition in indexes:
        conn.execute(sql.SQL(definition))
    for table in TABLES:
        # Explicit ids were loaded; the ORM must continue after them.
        conn.execute(
            sql.SQL("SELECT setval(pg_get_serial_sequence({t}, 'id'), (SELECT max(id) FROM {i}))").format(
                t=sql.Literal(table), i=sql.Identifier(table)
            )
        )


def _load(conn: Connection, progress: bool) -> tuple[list[TableLoad], float]:
    constraints, indexes = _definitions(conn)
    conn.execute(f"DELETE FROM {MARKER}")
    conn.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.Identifier, TABLES))))
    # Foreign keys first: they depend on the keys they reference.
    for table, name, _, _ in sorted(constraints, key=lambda c: c[2] != "f"):
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.Identifier(table), sql.Identifier(name))
        )
    for name, _ in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))

    loads: list[TableLoad] = []
    processes = min(2, os.cpu_count() or 1)
    # Workers fork after the rows are drawn, so they share the arrays and encode chunks in parallel.
    context = _pool(processes) if processes > 1 else nullcontext(None)
    with context as pool:
        for index, data in enumerate(_WORK):
            began = time.perf_counter()
            with tqdm(
                total=data.rows, desc=f"{data.table:>20}", unit="rows", unit_scale=True, disable=not progress
            ) as bar:
                _copy(conn, index, pool, bar)
            loads.append(TableLoad(data.table, data.rows, time.perf_counter() - began))
    began = time.perf_counter()
    _rebuild(conn, constraints, indexes)
    return loads, time.perf_counter() - began


def ensure_seeded(
    url: str, request: SeedRequest, *, force: bool = False, progress: bool = True
) -> SeedOutcome:
    """Seed the four tables for `request`, or reuse them when the marker says they already hold it."""
    started = time.perf_counter()
    name = fingerprint(request)
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
            loads, rebuilt = _load(conn, progress)
        except BaseException:
            # Interrupted mid-COPY (Ctrl-C), libpq is still streaming and cannot roll back; closing the
            # connection makes the server abort the transaction, so the tables keep their rows.
            conn.close()
            raise
        finally:
            _WORK.clear()
        conn.execute(
            f"INSERT INTO {MARKER} VALUES (1, %s, %s, %s, %s, %s, now())",
            (request.seed, json.dumps(asdict(request.counts)), SEEDER_VERSION, shape, name),
        )
        conn.commit()

    began = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.SQL(", ").join(map(sql.Identifier, TABLES))))
    vacuumed = time.perf_counter() - began
    return SeedOutcome(
        request=request,
        reused=False,
        fingerprint=name,
        seeder_version=SEEDER_VERSION,
        tables=tuple(loads),
        seconds=time.perf_counter() - started,
        phases=(("draw rows", drawn), ("rebuild keys and indexes", rebuilt), ("vacuum analyze", vacuumed)),
    )
