"""What the indexes cost every write: INSERT throughput and WAL bytes per row, by COPY and by the ORM.

One call measures one repetition in one state; bench.costs.collect pairs and alternates them. Each
repetition leaves the table as it found it (COPY is rolled back, the ORM's rows deleted, then VACUUM), so
a later repetition does not insert into a bigger table than an earlier one did.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping, Sequence
from typing import Any, cast

import psycopg
from django.apps import apps
from django.apps.registry import Apps
from django.db import connection, models, transaction
from django.db.models.base import DEFERRED
from psycopg import sql

from django_index_bench.bench.costs.writer import (
    Connection,
    Key,
    column_list,
    delete_first_rows,
    first_rows,
    generated_key,
    primary_key,
    reinserts,
    remove_keys,
    select_list,
    stored_columns,
)
from django_index_bench.bench.results import REINSERTED, WriteCost
from django_index_bench.bench.seeding import models_at

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
    """The table's first `rows` rows with fresh keys and unique values, in COPY's binary format, as the
    database stores them: what copy_cost inserts. Read once per table; both copies hold the same rows.
    Where no fresh values can be made (writer.reinserts): the rows as they are, keys included."""
    with psycopg.connect(url, autocommit=True) as conn:
        columns = stored_columns(conn, table) if reinserts(conn, table) else select_list(conn, table)
        query = sql.SQL("COPY (SELECT {c} FROM {first}) TO STDOUT (FORMAT binary)").format(
            c=columns, first=first_rows(conn, table, rows)
        )
        with conn.cursor().copy(query) as copy:
            return b"".join(bytes(block) for block in copy)


def copy_cost(
    url: str, table: str, rows: int, state: str, *, pair: int, first: bool, data: bytes | None = None
) -> WriteCost:
    """COPY `rows` copies of existing rows (new keys) in one batch, rolled back: the table stays as it was.
    `data`: copy_payload's rows, when the caller has read them already. A table whose rows cannot take
    fresh values (writer.reinserts) gets its first rows back instead: deleted in the same transaction
    before the clock and the WAL position start, then copied in again (method "copy_reinserted")."""
    data = copy_payload(url, table, rows) if data is None else data
    with psycopg.connect(url, autocommit=True) as conn:
        again = reinserts(conn, table)
        columns = stored_columns(conn, table) if again else column_list(conn, table)
        target = sql.SQL("COPY {t} ({c}) FROM STDIN (FORMAT binary)").format(
            t=sql.Identifier(table), c=columns
        )
        _checkpoint(conn)
        with conn.transaction(force_rollback=True):
            if again:
                conn.execute(delete_first_rows(conn, table, rows))
            start = _lsn(conn)
            began = time.perf_counter()
            with conn.cursor().copy(target) as copy:
                copy.write(data)
            # Still inside the transaction: the rows are written and logged; the rollback is not timed.
            seconds = time.perf_counter() - began
            wal = _wal_since(conn, start)
        # The aborted rows would otherwise set hint bits (and log full pages) in whatever reads next.
        conn.execute(sql.SQL("VACUUM {}").format(sql.Identifier(table)))
    method = "copy" + (REINSERTED if again else "")
    return WriteCost(
        state=state, table=table, method=method, rows=rows, seconds=seconds, wal_bytes=wal, pair=pair,
        first=first,
    )  # fmt: skip


def model_for(table: str, registry: Apps = apps) -> type[models.Model]:
    """The model whose table this is, from Django's app registry (or another, a migration state's):
    any project's tables work."""
    found = [m for m in registry.get_models(include_auto_created=True) if m._meta.db_table == table]
    if not found:
        raise RuntimeError(f"no installed Django model has db_table {table!r}: cannot time its ORM inserts")
    return found[0]


def table_columns(url: str, table: str) -> set[str]:
    """The table's columns in the database at url, as its catalog has them now."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
            " AND NOT attisdropped",
            (table,),
        ).fetchall()
    return {str(name) for (name,) in rows}


def _columns_of(model: type[models.Model]) -> set[str]:
    """The columns of the model's own table (a multi-table child's parent fields live in the parent's)."""
    return {str(f.column) for f in model._meta.local_concrete_fields}


def state_models(
    table: str, copies: Mapping[str, tuple[str, Mapping[str, str]]]
) -> dict[str, type[models.Model]]:
    """The model the ORM's inserts into `table` go through in each state's copy (state -> (its URL, its
    schema state, app -> migration)). Today's class when its columns are the table's in every copy (the
    application's own save path). When the states' tables differ in columns, today's class cannot insert
    into the state whose table lacks (or has more than) its fields; then each state gets the model as
    Django's migration state has it there, in every state alike, so both sides of a pair run the same
    code path (Model.save without the class's own overrides)."""
    today = model_for(table)
    found = {state: table_columns(url, table) for state, (url, _) in copies.items()}
    if all(columns == _columns_of(today) for columns in found.values()):
        return dict.fromkeys(copies, today)
    chosen = {}
    for state, (_, schema) in copies.items():
        model = model_for(table, models_at(schema))
        if _columns_of(model) != found[state]:
            extra = sorted(found[state] ^ _columns_of(model))
            raise RuntimeError(
                f"{table} in the {state} state's copy does not have the columns its migrations give the "
                f"model ({', '.join(extra)} differ): cannot time its ORM inserts"
            )
        chosen[state] = model
    return chosen


def _fresh_objects(model: type[models.Model], url: str, table: str, rows: int) -> list[models.Model]:
    """`rows` copies of the table's first row, each with fresh keys and unique values, as model instances
    made the way the ORM reads rows. A key the database generates is cleared, so the insert generates
    one. Where no fresh values can be made (writer.reinserts): the table's first `rows` rows as the ORM
    reads them, keys included (taken in turn again when the table has fewer), for _reinsert to put back."""
    with psycopg.connect(url, autocommit=True) as conn:
        if reinserts(conn, table):
            # Read by the ORM itself: every field loaded, a multi-table child's parent fields too.
            stored = list(model._base_manager.order_by("pk")[:rows])
            return [stored[i % len(stored)] for i in range(rows)] if stored else []
        generated = generated_key(conn, table)
        query = sql.SQL("SELECT {s} FROM {first}, generate_series(1, {n})").format(
            s=select_list(conn, table), first=first_rows(conn, table, 1), n=sql.Literal(rows)
        )
        text = query.as_string(conn)
    objects = _objects(model, table, text)
    if generated:
        # Left out of the SELECT: the database fills it at the insert, as it would for the app.
        for obj in objects:
            obj.pk = None
    return objects


def _objects(model: type[models.Model], table: str, query: str) -> list[models.Model]:
    """The query's rows as model instances, each column through its field's database converters, then
    Model.from_db: no driver value reaches model code unconverted."""
    # On Django's own connection (the caller points it at the state's copy): its loaders are the ones its
    # converters expect (jsonb as text, for one).
    with connection.cursor() as cursor:
        cursor.execute(query)
        names = [c.name for c in cursor.description or ()]
        found = cursor.fetchall()
    by_column = {f.column: f for f in model._meta.concrete_fields}
    unknown = [name for name in names if name not in by_column]
    if unknown:
        raise RuntimeError(
            f"{table} has columns its model {model.__name__} lacks ({', '.join(unknown)}): cannot time its "
            "ORM inserts"
        )
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
    return objects


def _key_of(obj: models.Model, columns: list[str]) -> Key:
    """The saved object's primary key columns as database values."""
    fields = {f.column: f for f in obj._meta.concrete_fields}
    return tuple(fields[c].get_db_prep_value(getattr(obj, fields[c].attname), connection) for c in columns)


def orm_create_cost(
    url: str,
    table: str,
    rows: int,
    state: str,
    *,
    pair: int,
    first: bool,
    model: type[models.Model] | None = None,
) -> WriteCost:
    """`rows` single-row inserts through the model's save (what Model.objects.create() runs), each its
    own transaction, as a view would, on the database Django's connection points at (the caller points
    it at `url`'s copy). `model`: the class to insert through (state_models); None: today's. A table
    whose rows cannot take fresh values (writer.reinserts) gets its own rows back (_reinsert; method
    "orm_create_reinserted")."""
    model = model_for(table) if model is None else model
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
        again = reinserts(watcher, table)
        delete = _deletes(watcher, model)
        try:
            made = 0
            if again:
                _reinsert(objects[-1], delete, watcher)  # warm the connection and the ORM
                _checkpoint(watcher)
                for size in (s for s in sizes if s):
                    done = [_reinsert(obj, delete, watcher) for obj in objects[made : made + size]]
                    made += size
                    seconds += sum(t for t, _ in done)
                    per_row.append(sum(w for _, w in done) / size)
            else:
                objects[-1].save(force_insert=True)  # warm the connection and the ORM
                keys.append(_key_of(objects[-1], columns))
                _checkpoint(watcher)
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
    method = "orm_create" + (REINSERTED if again else "")
    return WriteCost(
        state=state, table=table, method=method, rows=rows, seconds=seconds, wal_bytes=wal, pair=pair,
        first=first,
    )  # fmt: skip


Delete = list[tuple[str, list[str]]]  # statements by primary key, each with its key columns


def _deletes(conn: Connection, model: type[models.Model]) -> Delete:
    """DELETE by primary key from the model's table and from each parent's (multi-table inheritance:
    save() inserts a row into each), child first."""
    tables = [model._meta.db_table, *(p._meta.db_table for p in model._meta.get_parent_list())]
    found = []
    for table in tables:
        columns = primary_key(conn, table)
        match = sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in columns)
        statement = sql.SQL("DELETE FROM {t} WHERE {m}").format(t=sql.Identifier(table), m=match)
        found.append((statement.as_string(conn), columns))
    return found


def _reinsert(obj: models.Model, delete: Delete, watcher: Connection) -> tuple[float, int]:
    """Put one of the table's own rows back through save(): deleted and inserted again in one transaction
    (its unique values are free again inside it; Django's deferred foreign keys are checked at the commit,
    when the row is back). The clock and the WAL position start after the delete; the commit is timed,
    as an autocommit insert's is. Its seconds and WAL bytes."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            for statement, columns in delete:
                cursor.execute(statement, cast(Sequence[Any], _key_of(obj, columns)))
        start = _lsn(watcher)
        began = time.perf_counter()
        obj.save(force_insert=True)
    return time.perf_counter() - began, _wal_since(watcher, start)
