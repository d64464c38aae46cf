"""What the indexes cost every write: INSERT throughput and WAL bytes per row, by COPY and by the ORM.

One call measures one repetition in one state; bench.costs.collect pairs and alternates them. Each
repetition leaves the table as it found it (COPY is rolled back, the ORM's rows deleted, then VACUUM), so
a later repetition does not insert into a bigger table than an earlier one did.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence

import psycopg
from django.apps import apps
from django.db import connection, models
from django.db.models.base import DEFERRED
from psycopg import sql

from django_index_bench.bench.costs.writer import (
    Connection,
    Key,
    column_names,
    first_rows,
    generated_key,
    primary_key,
    remove_keys,
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


def copy_payload(url: str, table: str, rows: int, columns: Sequence[str] | None = None) -> bytes:
    """The table's first `rows` rows with fresh keys and unique values, in COPY's binary format, as the
    database stores them: what copy_cost inserts. Read once per table; both copies hold the same rows.
    `columns`: only these (the columns both states' tables have), which copy_cost must then name too."""
    with psycopg.connect(url, autocommit=True) as conn:
        query = sql.SQL("COPY (SELECT {c} FROM {first}) TO STDOUT (FORMAT binary)").format(
            c=select_list(conn, table, columns), first=first_rows(conn, table, rows)
        )
        with conn.cursor().copy(query) as copy:
            return b"".join(bytes(block) for block in copy)


def copy_cost(
    url: str,
    table: str,
    rows: int,
    state: str,
    *,
    pair: int,
    first: bool,
    data: bytes | None = None,
    columns: Sequence[str] | None = None,
) -> WriteCost:
    """COPY `rows` copies of existing rows (new keys) in one batch, rolled back: the table stays as it was.
    `data`: copy_payload's rows, when the caller has read them already, of `columns` (None: all of this
    table's): the payload's own column list, never this table's, whose state may have other columns (a
    column of this state only is left to its default)."""
    data = copy_payload(url, table, rows, columns) if data is None else data
    with psycopg.connect(url, autocommit=True) as conn:
        names = column_names(conn, table) if columns is None else columns
        columns_sql = sql.SQL(", ").join(map(sql.Identifier, names))
        _checkpoint(conn)
        start = _lsn(conn)
        began = time.perf_counter()
        target = sql.SQL("COPY {t} ({c}) FROM STDIN (FORMAT binary)").format(
            t=sql.Identifier(table), c=columns_sql
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


def _fresh_objects(model: type[models.Model], url: str, table: str, rows: int) -> list[models.Model]:
    """`rows` copies of the table's first row, each with fresh keys and unique values, as model instances
    made the way the ORM reads rows (each column through its field's database converters, then
    Model.from_db): no driver value reaches model code unconverted. A key the database generates is
    cleared, so the insert generates one."""
    with psycopg.connect(url, autocommit=True) as conn:
        generated = generated_key(conn, table)
        query = sql.SQL("SELECT {s} FROM {first}, generate_series(1, {n})").format(
            s=select_list(conn, table), first=first_rows(conn, table, 1), n=sql.Literal(rows)
        )
        text = query.as_string(conn)
    # On Django's own connection (the caller points it at `url`'s copy): its loaders are the ones its
    # converters expect (jsonb as text, for one).
    with connection.cursor() as cursor:
        cursor.execute(text)
        names = [c.name for c in cursor.description or ()]
        found = cursor.fetchall()
    by_column = {f.column: f for f in model._meta.concrete_fields}
    fields = [by_column[name] for name in names]
    columns = [f.get_col(table) for f in fields]
    converters = [connection.ops.get_db_converters(c) + c.get_db_converters(connection) for c in columns]
    concrete = model._meta.concrete_fields
    objects = []
    for row in found:
        by_name: dict[str, object] = {}
        for value, field, column, convert in zip(row, fields, columns, converters, strict=True):
            for converter in convert:
                value = converter(value, column, connection)
            by_name[field.attname] = value
        # from_db takes the values in the model's field order, a generated key as DEFERRED.
        values = [by_name.get(f.attname, DEFERRED) for f in concrete]
        obj = model.from_db(connection.alias, [f.attname for f in concrete], values)
        obj._state.adding = True
        objects.append(obj)
    if generated:
        # Left out of the SELECT: the database fills it at the insert, as it would for the app.
        for obj in objects:
            obj.pk = None
    return objects


def _key_of(obj: models.Model, columns: list[str]) -> Key:
    """The saved object's primary key columns as database values."""
    fields = {f.column: f for f in obj._meta.concrete_fields}
    return tuple(fields[c].get_db_prep_value(getattr(obj, fields[c].attname), connection) for c in columns)


def orm_create_cost(url: str, table: str, rows: int, state: str, *, pair: int, first: bool) -> WriteCost:
    """`rows` single-row inserts through the model's save (what Model.objects.create() runs), each its
    own transaction, as a view would, on the database Django's connection points at (the caller points
    it at `url`'s copy)."""
    model = model_for(table)
    objects = _fresh_objects(model, url, table, rows + 1)
    if not objects:
        raise RuntimeError(f"{table} is empty: nothing to copy")
    # The rows go in batches, and the batch with the least WAL per row is the one nothing else wrote
    # into: the WAL position is the whole server's, and autovacuum and other databases only add to it.
    sizes = [rows // WAL_BATCHES + (i < rows % WAL_BATCHES) for i in range(WAL_BATCHES)]
    seconds, per_row = 0.0, []
    keys: list[Key] = []
    with psycopg.connect(url, autocommit=True) as watcher:
        columns = primary_key(watcher, table)
        try:
            objects[-1].save(force_insert=True)  # warm the connection and the ORM
            keys.append(_key_of(objects[-1], columns))
            _checkpoint(watcher)
            made = 0
            for size in (s for s in sizes if s):
                start = _lsn(watcher)
                began = time.perf_counter()
                for obj in objects[made : made + size]:
                    obj.save(force_insert=True)
                made += size
                seconds += time.perf_counter() - began
                per_row.append(_wal_since(watcher, start) / size)
                keys += [_key_of(obj, columns) for obj in objects[made - size : made]]
        finally:
            connection.close()
            remove_keys(watcher, table, keys)
    wal = round(min(per_row) * rows)
    return WriteCost(
        state=state, table=table, method="orm_create", rows=rows, seconds=seconds, wal_bytes=wal, pair=pair,
        first=first,
    )  # fmt: skip
