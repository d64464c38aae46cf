"""Load a source's rows with COPY, fast and idempotently.

Within one transaction the source's tables are truncated, their keys, foreign keys and indexes dropped,
the rows streamed with binary COPY ... FREEZE (encoded by a pool of worker processes while the server
copies), and everything rebuilt exactly as it was. Definitions are read back from the catalog, so this
works in any migration state. Tables outside the source whose foreign keys point into it (directly or
through others) are emptied too, as their rows would point at replaced rows, and the foreign keys
into the source rebuilt. VACUUM ANALYZE then
settles statistics and the visibility map. A marker row records what was loaded, so loading the same
source again reuses the tables.
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.pool
import os
import signal
import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Never

import psycopg
from psycopg import sql
from tqdm import tqdm

from seed.binary import HEADER, TRAILER
from seed.sample import SEEDER_VERSION
from seed.source import Source, Table, digest

MARKER = "bench_seed_marker"

Connection = psycopg.Connection[tuple[object, ...]]

__all__ = ["SEEDER_VERSION", "SeedOutcome", "TableLoad", "ensure_seeded", "fingerprint"]


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
    phases: tuple[tuple[str, float], ...] = ()  # draw rows, rebuild keys and indexes, vacuum analyze


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


def _marker(conn: Connection) -> dict[str, object] | None:
    # Markers written before sources existed lack `identity`: such a database is seeded again once.
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {MARKER} (id int PRIMARY KEY CHECK (id = 1), seed bigint, counts jsonb,"
        " seeder_version text, layout text, fingerprint text, seeded_at timestamptz)"
    )
    conn.execute(f"ALTER TABLE {MARKER} ADD COLUMN IF NOT EXISTS identity jsonb")
    row = conn.execute(f"SELECT identity, layout FROM {MARKER}").fetchone()
    if row is None:
        return None
    return {"identity": row[0], "layout": row[1]}


def _counts_match(conn: Connection, source: Source) -> bool:
    for table, rows in source.counts.items():
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
        if row is None or row[0] != rows:
            return False
    return True


def _definitions(
    conn: Connection, tables: tuple[str, ...]
) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str]]]:
    """(table, name, kind, definition) of the tables' keys and foreign keys, and of other tables' foreign
    keys into them; (name, CREATE INDEX ...) of the tables' plain indexes."""
    constraints = conn.execute(
        "SELECT conrelid::regclass::text, conname, contype::text, pg_get_constraintdef(oid)"
        " FROM pg_constraint WHERE (conrelid = ANY(%s::regclass[]) AND contype IN ('p', 'u', 'f'))"
        " OR (contype = 'f' AND confrelid = ANY(%s::regclass[]))"
        " ORDER BY conname",
        (list(tables), list(tables)),
    ).fetchall()
    indexes = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid = ANY(%s::regclass[])"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
        (list(tables),),
    ).fetchall()
    return (
        [(str(t), str(n), str(k), str(d)) for t, n, k, d in constraints],
        [(str(n), str(d)) for n, d in indexes],
    )


# The tables being loaded, set before the worker processes fork so they inherit the drawn arrays.
_WORK: list[Table] = []


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
    conn: Connection,
    constraints: list[tuple[str, str, str, str]],
    indexes: list[tuple[str, str]],
    tables: tuple[str, ...],
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
    _restart_sequences(conn, tables)


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


def _load(conn: Connection, tables: tuple[str, ...], progress: bool) -> tuple[list[TableLoad], float]:
    constraints, indexes = _definitions(conn, tables)
    conn.execute(f"DELETE FROM {MARKER}")
    # Tables whose foreign keys point into the source's (and theirs, and so on) would hold dangling
    # rows: CASCADE empties them too. The sample's four tables have none outside them.
    conn.execute(sql.SQL("TRUNCATE {} CASCADE").format(sql.SQL(", ").join(map(sql.Identifier, tables))))
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
    _rebuild(conn, constraints, indexes, tables)
    return loads, time.perf_counter() - began


def ensure_seeded(url: str, source: Source, *, force: bool = False, progress: bool = True) -> SeedOutcome:
    """Seed the source's tables, or reuse them when the marker says they already hold its rows."""
    started = time.perf_counter()
    name = source.fingerprint()
    identity = json.loads(json.dumps(source.identity()))  # as jsonb gives it back
    with psycopg.connect(url) as conn:
        current = _marker(conn)
        shape = layout(conn, source.tables)
        wanted = {"identity": identity, "layout": shape}
        if not force and current == wanted and _counts_match(conn, source):
            conn.commit()
            return SeedOutcome(source, True, name, source.version, (), time.perf_counter() - started)

        began = time.perf_counter()
        _WORK[:] = source.draw()
        drawn = time.perf_counter() - began
        try:
            loads, rebuilt = _load(conn, source.tables, progress)
        except BaseException:
            # Interrupted mid-COPY (Ctrl-C), libpq is still streaming and cannot roll back; closing the
            # connection makes the server abort the transaction, so the tables keep their rows.
            conn.close()
            raise
        finally:
            _WORK.clear()
        # `counts` and `seeder_version` as the seeder before sources wrote them, for older checkouts.
        conn.execute(
            f"INSERT INTO {MARKER} (id, seed, counts, seeder_version, layout, fingerprint, seeded_at,"
            " identity) VALUES (1, %s, %s, %s, %s, %s, now(), %s)",
            (
                source.seed,
                json.dumps(source.dataset_counts),
                source.version,
                shape,
                name,
                json.dumps(identity),
            ),
        )
        conn.commit()

    began = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("VACUUM (ANALYZE) {}").format(sql.SQL(", ").join(map(sql.Identifier, source.tables)))
        )
    vacuumed = time.perf_counter() - began
    return SeedOutcome(
        source=source,
        reused=False,
        fingerprint=name,
        seeder_version=source.version,
        tables=tuple(loads),
        seconds=time.perf_counter() - started,
        phases=(("draw rows", drawn), ("rebuild keys and indexes", rebuilt), ("vacuum analyze", vacuumed)),
    )
