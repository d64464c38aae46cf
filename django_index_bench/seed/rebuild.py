"""Take the seeded tables' keys, foreign keys and indexes down before COPY and build them back after.

Two ways to build them back:

- one at a time, inside the loading transaction (an interrupted seed rolls back whole);
- in parallel, after the rows are committed: several connections build indexes at once (each may use
  parallel maintenance workers), keys are attached to their finished indexes (`USING INDEX`), foreign
  keys are added `NOT VALID` and validated per table, and each table's VACUUM ANALYZE starts as soon
  as its own work is done, while other tables still build.

Parallel connections cannot share the loading transaction, so the definitions are saved in PENDING
within it, committed together with the drops and the rows. A seed interrupted or failed after that
commit leaves them there; the next seed (or recover(), before migrating) builds them back first, and
only the seed that finishes clears them, in the transaction that writes the marker.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Literal

import psycopg
from psycopg import sql

Connection = psycopg.Connection[tuple[object, ...]]
Statement = sql.SQL | sql.Composed
Mode = Literal["one at a time", "parallel"]
MODES: tuple[Mode, ...] = ("one at a time", "parallel")
PENDING = "bench_seed_pending"
# Per connection; a sort that fits in memory is the fast one. Parallel workers share their leader's.
MAINTENANCE_WORK_MEM = "512MB"


class RebuildError(RuntimeError):
    """A key, foreign key or index could not be built back; its definition stays in PENDING."""


@dataclass(frozen=True)
class Definition:
    kind: Literal["p", "u", "f", "i"]  # primary key, unique, foreign key, plain index
    table: str
    name: str
    definition: str  # the constraint's definition, or CREATE INDEX ... for a plain index
    index: str = ""  # keys: CREATE UNIQUE INDEX ... of the index behind them
    references: str = ""  # foreign keys: the referenced table

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.table, self.name)


def catalog(conn: Connection, tables: Sequence[str]) -> list[Definition]:
    """The tables' keys, foreign keys and plain indexes, and other tables' foreign keys into them (their
    keys cannot be dropped under those), as the catalog holds them now."""
    rows = conn.execute(
        "SELECT contype::text, conrelid::regclass::text, conname, pg_get_constraintdef(oid),"
        " CASE WHEN contype IN ('p', 'u') THEN pg_get_indexdef(conindid) ELSE '' END,"
        " CASE WHEN contype = 'f' THEN confrelid::regclass::text ELSE '' END"
        " FROM pg_constraint WHERE (conrelid = ANY(%(t)s::regclass[]) AND contype IN ('p', 'u', 'f'))"
        " OR (contype = 'f' AND confrelid = ANY(%(t)s::regclass[]))"
        " UNION ALL"
        " SELECT 'i', i.indrelid::regclass::text, i.indexrelid::regclass::text,"
        " pg_get_indexdef(i.indexrelid), '', '' FROM pg_index i WHERE i.indrelid = ANY(%(t)s::regclass[])"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
        " ORDER BY 1, 2, 3",
        {"t": list(tables)},
    ).fetchall()
    return [Definition(*map(str, row)) for row in rows]  # type: ignore[arg-type]


def ensure_pending_table(conn: Connection) -> None:
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {PENDING} (kind text, table_name text, name text, definition text,"
        " index_definition text, refers_to text, PRIMARY KEY (kind, table_name, name))"
    )


def pending(conn: Connection) -> list[Definition]:
    """Definitions an unfinished seed dropped and has not built back."""
    ensure_pending_table(conn)
    rows = conn.execute(f"SELECT * FROM {PENDING} ORDER BY 1, 2, 3").fetchall()
    return [Definition(*map(str, row)) for row in rows]  # type: ignore[arg-type]


def take_down(conn: Connection, tables: Sequence[str]) -> list[Definition]:
    """Drop the tables' keys, foreign keys and indexes, in the caller's transaction, after saving them
    in PENDING; returns what to build back: the catalog's, where an unfinished seed's saved ones win."""
    saved = pending(conn)
    present = catalog(conn, tables)
    # By name: a key whose index was built but not yet attached is a plain index in the catalog.
    names = {(d.table, d.name) for d in saved}
    wanted = {d.key: d for d in [*saved, *(d for d in present if (d.table, d.name) not in names)]}
    # Foreign keys first: they depend on the keys they reference.
    for d in sorted(present, key=lambda d: d.kind != "f"):
        if d.kind == "i":
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(d.name)))
        else:
            conn.execute(
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                    sql.Identifier(d.table), sql.Identifier(d.name)
                )
            )
    conn.execute(f"DELETE FROM {PENDING}")
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {PENDING} VALUES (%s, %s, %s, %s, %s, %s)",
            [(d.kind, d.table, d.name, d.definition, d.index, d.references) for d in wanted.values()],
        )
    return sorted(wanted.values(), key=lambda d: d.key)


def done(conn: Connection) -> None:
    """Everything is built back (call in the transaction that declares the data complete)."""
    conn.execute(f"DELETE FROM {PENDING}")


def _add_constraint(d: Definition, definition: str) -> sql.Composed:
    return sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
        sql.Identifier(d.table), sql.Identifier(d.name), sql.SQL(definition)
    )


def one_at_a_time(conn: Connection, definitions: Sequence[Definition]) -> None:
    """Build everything back on this connection, in its transaction (the seeder's original way)."""
    conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
    # Keys before the foreign keys that reference them.
    for d in sorted((d for d in definitions if d.kind != "i"), key=lambda d: d.kind == "f"):
        conn.execute(_add_constraint(d, d.definition))
    for d in definitions:
        if d.kind == "i":
            conn.execute(sql.SQL(d.definition))


@dataclass(frozen=True)
class Job:
    """Statements run in order on one connection, once the jobs named in `after` have finished."""

    name: str
    table: str
    statements: tuple[Statement, ...]
    after: frozenset[str] = frozenset()
    cost: float = 0.0  # an estimate of its own work, in any unit
    phase: Literal["rebuild", "vacuum"] = "rebuild"


def _attachable(d: Definition) -> bool:
    """A key whose index can be built apart and attached (USING INDEX takes no deferrable key)."""
    return d.kind in ("p", "u") and bool(d.index) and "DEFERRABLE" not in d.definition


def plan(definitions: Sequence[Definition], sizes: dict[str, float], vacuum: Iterable[str]) -> list[Job]:
    """The jobs that build `definitions` back, then VACUUM ANALYZE each table in `vacuum`.

    Locks decide the order: CREATE INDEX (SHARE) runs beside other builds on the same table, but
    attaching a key (ACCESS EXCLUSIVE), adding a foreign key (SHARE ROW EXCLUSIVE on both tables) and
    VACUUM (SHARE UPDATE EXCLUSIVE) do not, so they wait for the builds they would block on.
    """
    jobs: list[Job] = []
    builds: dict[str, set[str]] = {}
    keyed: dict[str, str] = {}
    for d in definitions:
        if d.kind == "i" or _attachable(d):
            name = f"build {d.name}"
            build = sql.SQL(d.definition if d.kind == "i" else d.index)
            jobs.append(Job(name, d.table, (build,), cost=sizes.get(d.table, 0.0)))
            builds.setdefault(d.table, set()).add(name)
    for table in sorted({d.table for d in definitions if d.kind in ("p", "u")}):
        keys = [d for d in definitions if d.table == table and d.kind in ("p", "u")]
        statements = tuple(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {} USING INDEX {}").format(
                sql.Identifier(d.table),
                sql.Identifier(d.name),
                sql.SQL("PRIMARY KEY" if d.kind == "p" else "UNIQUE"),
                sql.Identifier(d.name),
            )
            if _attachable(d)
            else _add_constraint(d, d.definition)
            for d in sorted(keys, key=lambda d: d.kind != "p")
        )
        keyed[table] = f"keys {table}"
        jobs.append(Job(keyed[table], table, statements, frozenset(builds.get(table, ()))))
    ready = {t: frozenset(builds.get(t, set()) | ({keyed[t]} if t in keyed else set())) for t in sizes}
    settled = dict(ready)
    for table in sorted({d.table for d in definitions if d.kind == "f"}):
        foreign = [d for d in definitions if d.table == table and d.kind == "f"]
        steps: list[Statement] = []
        for d in foreign:
            if d.definition.endswith("NOT VALID"):  # it was never validated: leave it so
                steps.append(_add_constraint(d, d.definition))
                continue
            steps.append(_add_constraint(d, f"{d.definition} NOT VALID"))
            steps.append(
                sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(
                    sql.Identifier(d.table), sql.Identifier(d.name)
                )
            )
        after = ready.get(table, frozenset()).union(*(ready.get(d.references, frozenset()) for d in foreign))
        name = f"foreign keys {table}"
        jobs.append(Job(name, table, tuple(steps), after, 0.5 * len(foreign) * sizes.get(table, 0.0)))
        settled[table] = after | {name}
    for table in vacuum:
        vacuuming = sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table))
        after = settled.get(table, frozenset())
        jobs.append(Job(f"vacuum {table}", table, (vacuuming,), after, 0.3 * sizes.get(table, 0.0), "vacuum"))
    return jobs


# Index builds are CPU-bound sorts, and there are only so many at once (the biggest table's).
MAX_CONNECTIONS = 4


def connections_default() -> int:
    """One connection per core and one more (so a core never idles while another waits on I/O), up to
    MAX_CONNECTIONS; measured on 2 cores, 3 connections rebuilt the default profile in 6.1 s, 2 in 6.8 s
    and 1 (with PostgreSQL's default 2 parallel workers) in 8.0 s."""
    return min((os.cpu_count() or 1) + 1, MAX_CONNECTIONS)


def workers_default() -> int:
    """max_parallel_maintenance_workers per connection: the cores the connections leave over (none on
    2 cores, where 3 connections with one worker each were slower and noisier: 6.1 to 8.5 s)."""
    cores = os.cpu_count() or 1
    return max(0, (cores - connections_default()) // connections_default())


def run(
    url: str,
    jobs: Sequence[Job],
    *,
    connections: int,
    workers: int,
    on_done: Callable[[Job], None] = lambda job: None,
) -> None:
    """Run the jobs on `connections` autocommit connections, each job once its `after` have finished.

    On an error or an interrupt the running statements are cancelled and the error is raised."""
    waiting = {job.name: job for job in jobs}
    urgency = _urgency(jobs)
    finished: set[str] = set()
    free: list[Connection] = []
    lock = threading.Lock()
    opened: list[Connection] = []
    try:
        for _ in range(max(1, min(connections, len(jobs)))):
            conn: Connection = psycopg.connect(url, autocommit=True)
            opened.append(conn)
            conn.execute(f"SET maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
            conn.execute(sql.SQL("SET max_parallel_maintenance_workers = {}").format(sql.Literal(workers)))
            free.append(conn)

        def execute(job: Job) -> Job:
            with lock:
                conn = free.pop()
            try:
                for statement in job.statements:
                    conn.execute(statement)
            finally:
                with lock:
                    free.append(conn)
            return job

        with ThreadPoolExecutor(len(opened), thread_name_prefix="rebuild") as pool:
            running: dict[Future[Job], Job] = {}
            try:
                while waiting or running:
                    ready = sorted(
                        (j for j in waiting.values() if j.after <= finished),
                        key=lambda j: (-urgency[j.name], j.name),
                    )
                    for job in ready[: len(opened) - len(running)]:
                        del waiting[job.name]
                        running[pool.submit(execute, job)] = job
                    if not running:
                        raise RebuildError(f"jobs wait for each other: {', '.join(sorted(waiting))}")
                    completed, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in completed:
                        job = running.pop(future)
                        error = future.exception()
                        if error is not None:
                            raise RebuildError(
                                f"{job.name} on {job.table} failed: {_first_line(error)}; the rows are "
                                f"loaded but not all keys and indexes are back (their definitions are kept "
                                f"in {PENDING}): fix the cause and seed again, which builds them back"
                            ) from error
                        finished.add(job.name)
                        on_done(job)
            except BaseException:
                for conn in opened:
                    conn.cancel_safe(timeout=5)
                for future in running:
                    future.cancel()
                raise
    finally:
        for conn in opened:
            conn.close()


def _urgency(jobs: Sequence[Job]) -> dict[str, float]:
    """A job's cost plus the costliest chain of jobs waiting for it: the longest first keeps every
    connection busy (the small tables' keys go early, as the big tables' foreign keys wait for them)."""
    dependents: dict[str, list[Job]] = {}
    for job in jobs:
        for name in job.after:
            dependents.setdefault(name, []).append(job)
    urgency: dict[str, float] = {}

    def of(job: Job) -> float:
        if job.name not in urgency:
            urgency[job.name] = job.cost + max((of(d) for d in dependents.get(job.name, ())), default=0.0)
        return urgency[job.name]

    for job in jobs:
        of(job)
    return urgency


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def sizes(conn: Connection, tables: Sequence[str]) -> dict[str, float]:
    """Each table's heap size in bytes: what its index builds and vacuum have to read."""
    rows = conn.execute(
        "SELECT t, pg_relation_size(t::regclass) FROM unnest(%s::text[]) t", (list(tables),)
    ).fetchall()
    return {str(t): float(str(n)) for t, n in rows}
