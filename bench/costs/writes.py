"""What the indexes cost every write: INSERT throughput and WAL bytes per row, by COPY and by the ORM."""

from __future__ import annotations

import contextlib
import time

import psycopg
from django.apps import apps
from django.db import connection
from psycopg import sql

from bench.costs.writer import column_list
from bench.results import WriteCost

WAL_BATCHES = 5


def _checkpoint(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    # After a checkpoint the first change to each page logs a full page image; starting every
    # measurement from one keeps the WAL figures of the two states comparable.
    with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
        conn.execute("CHECKPOINT")


def _lsn(conn: psycopg.Connection[tuple[object, ...]]) -> str:
    row = conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
    assert row is not None
    return str(row[0])


def _wal_since(conn: psycopg.Connection[tuple[object, ...]], start: str) -> int:
    row = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s::pg_lsn)", (start,)).fetchone()
    assert row is not None
    return int(str(row[0]))


def copy_cost(url: str, table: str, rows: int, state: str) -> WriteCost:
    """COPY `rows` copies of existing rows (new ids) in one batch, rolled back: the table stays as it was."""
    with psycopg.connect(url, autocommit=True) as conn:
        columns = column_list(conn, table)
        source = sql.SQL("COPY (SELECT {c} FROM {t} ORDER BY id LIMIT {n}) TO STDOUT (FORMAT binary)").format(
            c=columns, t=sql.Identifier(table), n=sql.Literal(rows)
        )
        with conn.cursor().copy(source) as copy:
            data = b"".join(bytes(block) for block in copy)
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
    return WriteCost(state=state, table=table, method="copy", rows=rows, seconds=seconds, wal_bytes=wal)


def orm_create_cost(url: str, table: str, rows: int, state: str) -> WriteCost:
    """`rows` single-row Model.objects.create() calls, each its own transaction, as a view would."""
    model = next(m for m in apps.get_models() if m._meta.db_table == table)
    template = model._default_manager.order_by("pk").first()
    if template is None:
        raise RuntimeError(f"{table} is empty: nothing to copy")
    fields = {
        f.attname: getattr(template, f.attname) for f in model._meta.concrete_fields if not f.primary_key
    }
    model._default_manager.create(**fields)  # warm the connection and the ORM
    # The WAL position is the whole server's: autovacuum and other databases can only add to it. So the
    # rows go in batches, and the batch with the least WAL per row is the one nothing else wrote into.
    sizes = [rows // WAL_BATCHES + (i < rows % WAL_BATCHES) for i in range(WAL_BATCHES)]
    seconds, per_row = 0.0, []
    with psycopg.connect(url, autocommit=True) as watcher:
        _checkpoint(watcher)
        for size in (s for s in sizes if s):
            start = _lsn(watcher)
            began = time.perf_counter()
            for _ in range(size):
                model._default_manager.create(**fields)
            seconds += time.perf_counter() - began
            per_row.append(_wal_since(watcher, start) / size)
    wal = round(min(per_row) * rows)
    connection.close()
    return WriteCost(state=state, table=table, method="orm_create", rows=rows, seconds=seconds, wal_bytes=wal)
