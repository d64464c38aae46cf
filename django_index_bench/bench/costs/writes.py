"""What the indexes cost every write: INSERT throughput and WAL bytes per row, by COPY and by the ORM.

One call measures one repetition in one state; bench.costs.collect pairs and alternates them. Each
repetition leaves the table as it found it (COPY is rolled back, the ORM's rows deleted, then VACUUM), so
a later repetition does not insert into a bigger table than an earlier one did.
"""

from __future__ import annotations

import contextlib
import time

import psycopg
from django.apps import apps
from django.db import connection, models
from psycopg import sql

from django_index_bench.bench.costs.writer import (
    Connection,
    column_list,
    highest_key,
    primary_key,
    remove_since,
    select_list,
)
from django_index_bench.bench.results import WriteCost

WAL_BATCHES = 5


def _checkpoint(conn: Connection) -> None:
    # After a checkpoint the first change to each page logs a full page image; starting every
    # measurement from one keeps the WAL figures of the two states comparable.
    with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
        conn.execute("CHECKPOINT")


def _lsn(conn: Connection) -> str:
    row = conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
    assert row is not None
    return str(row[0])


def _wal_since(conn: Connection, start: str) -> int:
    row = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s::pg_lsn)", (start,)).fetchone()
    assert row is not None
    return int(str(row[0]))


def copy_payload(url: str, table: str, rows: int) -> bytes:
    """The table's first `rows` rows without their keys, in COPY's binary format: what copy_cost inserts.
    Read once per table; both copies hold the same rows."""
    with psycopg.connect(url, autocommit=True) as conn:
        columns = select_list(conn, table)
        key = sql.Identifier(primary_key(conn, table))
        query = sql.SQL("COPY (SELECT {c} FROM {t} ORDER BY {k} LIMIT {n}) TO STDOUT (FORMAT binary)")
        source = query.format(c=columns, t=sql.Identifier(table), k=key, n=sql.Literal(rows))
        with conn.cursor().copy(source) as copy:
            return b"".join(bytes(block) for block in copy)


def copy_cost(
    url: str, table: str, rows: int, state: str, *, pair: int, first: bool, data: bytes | None = None
) -> WriteCost:
    """COPY `rows` copies of existing rows (new keys) in one batch, rolled back: the table stays as it was.
    `data`: copy_payload's rows, when the caller has read them already."""
    data = copy_payload(url, table, rows) if data is None else data
    with psycopg.connect(url, autocommit=True) as conn:
        columns = column_list(conn, table)
        _checkpoint(conn)
        start = _lsn(conn)
        began = time.perf_counter()
        target = sql.SQL("COPY {t} ({c}) FROM STDIN (FORMAT binary)").format(
            t=sql.Identifier(table), c=columns
        )
        with conn.transaction(force_rollback=True):
            with conn.cursor().copy(target) as copy:
                copy.write(data)
            # Still inside the transaction: the rows are written and logged; the rollback is not timed.
            seconds = time.perf_counter() - began
            wal = _wal_since(conn, start)
        # The aborted rows would otherwise set hint bits (and log full pages) in whatever reads next.
        conn.execute(sql.SQL("VACUUM {}").format(sql.Identifier(table)))
    return WriteCost(
        state=state, table=table, method="copy", rows=rows, seconds=seconds, wal_bytes=wal, pair=pair,
        first=first,
    )  # fmt: skip


def model_for(table: str) -> type[models.Model]:
    """The installed model whose table this is, from Django's app registry: any project's tables work."""
    found = [m for m in apps.get_models(include_auto_created=True) if m._meta.db_table == table]
    if not found:
        raise RuntimeError(f"no installed Django model has db_table {table!r}: cannot time its ORM inserts")
    return found[0]


def _fresh_rows(url: str, table: str, rows: int) -> list[dict[str, object]]:
    """`rows` copies of the table's first row, as column -> value, each with its own unique values."""
    with psycopg.connect(url, autocommit=True) as conn:
        key = sql.Identifier(primary_key(conn, table))
        query = sql.SQL(
            "SELECT {s} FROM (SELECT * FROM {t} ORDER BY {k} LIMIT 1) AS {t}, generate_series(1, {n})"
        ).format(s=select_list(conn, table), t=sql.Identifier(table), k=key, n=sql.Literal(rows))
        cursor = conn.execute(query)
        names = [c.name for c in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def orm_create_cost(url: str, table: str, rows: int, state: str, *, pair: int, first: bool) -> WriteCost:
    """`rows` single-row Model.objects.create() calls, each its own transaction, as a view would, on the
    database Django's connection points at (the caller points it at `url`'s copy)."""
    model = model_for(table)
    values = _fresh_rows(url, table, rows + 1)
    if not values:
        raise RuntimeError(f"{table} is empty: nothing to copy")
    by_column = {f.column: f.attname for f in model._meta.concrete_fields if not f.primary_key}
    # The first row's values, with fresh ones where a unique index needs them: read before timing.
    fields = [{by_column[c]: v for c, v in row.items()} for row in values]
    # The WAL position is the whole server's: autovacuum and other databases can only add to it. So the
    # rows go in batches, and the batch with the least WAL per row is the one nothing else wrote into.
    sizes = [rows // WAL_BATCHES + (i < rows % WAL_BATCHES) for i in range(WAL_BATCHES)]
    seconds, per_row = 0.0, []
    with psycopg.connect(url, autocommit=True) as watcher:
        highest = highest_key(watcher, table)
        model._default_manager.create(**fields[-1])  # warm the connection and the ORM
        _checkpoint(watcher)
        made = 0
        for size in (s for s in sizes if s):
            start = _lsn(watcher)
            began = time.perf_counter()
            for row in fields[made : made + size]:
                model._default_manager.create(**row)
            made += size
            seconds += time.perf_counter() - began
            per_row.append(_wal_since(watcher, start) / size)
        connection.close()
        remove_since(watcher, table, highest)
    wal = round(min(per_row) * rows)
    return WriteCost(
        state=state, table=table, method="orm_create", rows=rows, seconds=seconds, wal_bytes=wal, pair=pair,
        first=first,
    )  # fmt: skip
