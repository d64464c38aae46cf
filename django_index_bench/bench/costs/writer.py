"""A steady single-row writer: what an application's inserts feel while a migration runs."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import cast

import numpy as np
import psycopg
from psycopg import sql

Connection = psycopg.Connection[tuple[object, ...]]


def primary_key(conn: Connection, table: str) -> list[str]:
    """The table's primary key columns, in key order, from the catalog: no table's layout is assumed."""
    rows = conn.execute(
        "SELECT a.attname FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, n), pg_attribute a"
        " WHERE i.indrelid = %s::regclass AND i.indisprimary AND a.attrelid = i.indrelid"
        " AND a.attnum = k.attnum ORDER BY k.n",
        (table,),
    ).fetchall()
    if not rows:
        raise RuntimeError(f"{table} has no primary key: rows copied into it cannot be told from its own")
    return [str(name) for (name,) in rows]


def key_list(conn: Connection, table: str) -> sql.Composed:
    return sql.SQL(", ").join(map(sql.Identifier, primary_key(conn, table)))


def generated_key(conn: Connection, table: str) -> str | None:
    """The single-column primary key the database fills itself (a sequence, an identity, a default):
    copies leave it out and get a new one. None: copies need a fresh key of their own."""
    key = primary_key(conn, table)
    if len(key) != 1:
        return None
    row = conn.execute(
        "SELECT a.atthasdef OR a.attidentity <> '' FROM pg_attribute a"
        " WHERE a.attrelid = %s::regclass AND a.attname = %s",
        (table, key[0]),
    ).fetchone()
    return key[0] if row is not None and row[0] else None


def column_list(conn: Connection, table: str) -> sql.Composed:
    """Every column but a key the database generates, as an explicit INSERT/COPY column list."""
    return sql.SQL(", ").join(sql.Identifier(name) for name in _columns(conn, table))


# A fresh value for a column of a unique index or primary key, by type name, then by type category
# (pg_type.typcategory). Numbers and times count up from the column's largest value (row_number() in a
# batch; a single-row INSERT ... SELECT sees the previous one's value), so they never collide and stay
# in the column's range as far as its largest value allows; strings get a random suffix within their
# length limit; UUIDs and bytes are random. An inet counts up from the largest address (max(inet) and
# inet + bigint are PostgreSQL's own); a jsonb document gets a random key merged in (an array an element
# appended): either is a value the row never held, in the column's own type.
_FRESH_BY_NAME = {
    "uuid": "gen_random_uuid()",
    "bytea": "{c} || decode(md5(random()::text), 'hex')",
    "date": "(SELECT max({c}) FROM {t}) + (row_number() OVER ())::int",  # a day apart: no seconds
    "inet": "(SELECT max({c}) FROM {t}) + row_number() OVER ()",
    "jsonb": "{c} || jsonb_build_object('~', md5(random()::text))",
}
_FRESH = {
    "S": "left({c}, greatest({n} - 12, 0)) || '~' || substr(md5(random()::text), 1, least({n} - 1, 11))",
    "N": "((SELECT max({c}) FROM {t}) + row_number() OVER ())::{type}",
    "D": "((SELECT max({c}) FROM {t}) + row_number() OVER () * interval '1 second')::{type}",
}


def _columns(conn: Connection, table: str) -> dict[str, tuple[str, str, int | None]]:
    """Column -> (type category, type name, length limit), in table order, without a generated key."""
    generated = generated_key(conn, table)
    columns = conn.execute(
        "SELECT a.attname, t.typcategory, t.typname, CASE WHEN a.atttypmod > 4 THEN a.atttypmod - 4 END"
        " FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = %s::regclass"
        " AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum",
        (table,),
    ).fetchall()
    return {
        str(name): (str(category), str(typname), cast(int | None, length))
        for name, category, typname, length in columns
        if name != generated
    }


def _fresh_template(kind: tuple[str, str, int | None]) -> str | None:
    category, typname, length = kind
    template = _FRESH_BY_NAME.get(typname) or _FRESH.get(category)
    if template is None:
        return None
    return template.replace("{n}", str(length or 1000)).replace("{type}", typname)


def _fresh_columns(conn: Connection, table: str) -> dict[str, sql.Composable] | None:
    """A fresh value for one column of the primary key (when the database does not generate it) and of
    each unique index; None when some unique key has no column that can take one: every column of it is
    a foreign key (a OneToOneField, a multi-table child's parent link) or of a type with no fresh value (a
    boolean)."""
    kinds = _columns(conn, table)
    # A foreign key's values must exist in the parent: such a column is never the one made fresh.
    foreign = _foreign_key_columns(conn, table)
    usable = {c for c, kind in kinds.items() if _fresh_template(kind) and c not in foreign}
    generated = generated_key(conn, table)
    sets = ([] if generated else [primary_key(conn, table)]) + _unique_sets(conn, table)
    fresh: dict[str, sql.Composable] = {}
    for unique in sets:
        if any(c in fresh for c in unique):
            continue  # a column already fresh for another set keeps this one unique too
        chosen = next((c for c in unique if c in usable), None)
        if chosen is None:
            return None
        template = _fresh_template(kinds[chosen])
        assert template is not None
        fresh[chosen] = sql.SQL(template + " AS {c}").format(
            c=sql.Identifier(chosen), t=sql.Identifier(table)
        )
    return fresh


def reinserts(conn: Connection, table: str) -> bool:
    """True when the table's rows cannot be copied under fresh values (_fresh_columns): its writes are
    then timed by re-inserting existing rows, each deleted first in the same transaction (the deferred
    foreign keys Django creates are checked at the commit, when the row is back)."""
    return _fresh_columns(conn, table) is None


def select_list(conn: Connection, table: str) -> sql.Composed:
    """column_list's columns as a SELECT list over the table's rows: a key the database generates is
    left to it, and one column of the primary key (when the database does not generate it) and of each
    unique index gets a fresh value, so a copy of a row never collides with the row (any project's keys
    and unique constraints hold, whatever their types). Other columns keep the row's own values, as the
    database stores them: nothing passes through Python."""
    fresh = _fresh_columns(conn, table)
    if fresh is None:
        raise RuntimeError(
            f"{table}: a unique key of it has no column that can take fresh values, so copies of its rows "
            "cannot be inserted beside them"
        )
    return sql.SQL(", ").join(fresh.get(name, sql.Identifier(name)) for name in _columns(conn, table))


def stored_columns(conn: Connection, table: str) -> sql.Composed:
    """Every column a row's own values can be written back to, a generated key included: what a
    re-inserted row carries (a generated column is left to the database)."""
    rows = conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
        " AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
        (table,),
    ).fetchall()
    return sql.SQL(", ").join(sql.Identifier(str(name)) for (name,) in rows)


def delete_first_rows(conn: Connection, table: str, rows: int) -> sql.Composed:
    """DELETE the table's first `rows` rows by primary key: what a re-insert puts back."""
    return sql.SQL("DELETE FROM {t} WHERE ctid IN (SELECT ctid FROM {t} ORDER BY {k} LIMIT {n})").format(
        t=sql.Identifier(table), k=key_list(conn, table), n=sql.Literal(rows)
    )


def first_rows(conn: Connection, table: str, rows: int) -> sql.Composed:
    """The table's first `rows` rows by primary key, as a subquery named like the table."""
    return sql.SQL("(SELECT * FROM {t} ORDER BY {k} LIMIT {n}) AS {t}").format(
        t=sql.Identifier(table), k=key_list(conn, table), n=sql.Literal(rows)
    )


def _foreign_key_columns(conn: Connection, table: str) -> set[str]:
    rows = conn.execute(
        "SELECT a.attname FROM pg_constraint c JOIN pg_attribute a"
        " ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)"
        " WHERE c.conrelid = %s::regclass AND c.contype = 'f'",
        (table,),
    ).fetchall()
    return {str(name) for (name,) in rows}


def _unique_sets(conn: Connection, table: str) -> list[list[str]]:
    rows = conn.execute(
        "SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_index i JOIN pg_attribute a"
        " ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
        " WHERE i.indrelid = %s::regclass AND i.indisunique AND NOT i.indisprimary GROUP BY i.indexrelid",
        (table,),
    ).fetchall()
    return [[str(n) for n in cast(list[object], names)] for (names,) in rows]


def copy_row_statement(conn: Connection, table: str) -> sql.Composed:
    """INSERT a copy of the table's first row under a new key, returning that key: realistic values
    without knowing the table. Where no fresh key can be made (reinserts), one statement deletes the
    first row and inserts it again, returning its key: the row is back, nothing to remove later."""
    if reinserts(conn, table):
        columns = stored_columns(conn, table)
        return sql.SQL(
            "WITH gone AS (DELETE FROM {t} WHERE ctid = (SELECT ctid FROM {t} ORDER BY {k} LIMIT 1)"
            " RETURNING {c}) INSERT INTO {t} ({c}) OVERRIDING SYSTEM VALUE SELECT {c} FROM gone RETURNING {k}"
        ).format(t=sql.Identifier(table), c=columns, k=key_list(conn, table))
    return sql.SQL("INSERT INTO {t} ({c}) SELECT {s} FROM {first} RETURNING {k}").format(
        t=sql.Identifier(table),
        c=column_list(conn, table),
        s=select_list(conn, table),
        first=first_rows(conn, table, 1),
        k=key_list(conn, table),
    )


Key = tuple[object, ...]


def remove_keys(conn: Connection, table: str, keys: list[Key]) -> None:
    """Delete the rows with these primary keys (as the driver returned them: they go straight back to
    it), and VACUUM: repetitions start from the same table, instead of one that grows with every
    repetition before it."""
    columns = primary_key(conn, table)
    match = sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in columns)
    statement = sql.SQL("DELETE FROM {t} WHERE {m}").format(t=sql.Identifier(table), m=match)
    if keys:
        with conn.cursor() as cursor:
            cursor.executemany(statement, keys)
    conn.execute(sql.SQL("VACUUM {}").format(sql.Identifier(table)))


@dataclass(frozen=True)
class WriterReport:
    inserts: int
    # The gaps between consecutive inserts' completions (the first from when measuring began): a writer
    # blocked by a lock shows as one long gap. Median, 99th percentile and the longest.
    p50_s: float
    p99_s: float
    max_s: float
    seconds: float


def report_of(completions: list[float], began: float, ended: float) -> WriterReport:
    # With no insert completed the whole time, the one gap is the whole time.
    gaps = np.diff(np.asarray([began, *completions], dtype=np.float64)) if completions else [ended - began]
    p50, p99 = np.percentile(gaps, [50, 99])
    return WriterReport(
        inserts=len(completions),
        p50_s=float(p50),
        p99_s=float(p99),
        max_s=float(np.max(gaps)),
        seconds=ended - began,
    )


def _inserted(conn: Connection, statement: sql.Composed) -> Key:
    row = conn.execute(statement).fetchone()
    assert row is not None
    return tuple(row)


# What an INSERT built before a migration meets after it: a column it names is gone (or retyped), one it
# leaves out is NOT NULL without a default, or its prepared plan's types changed.
SCHEMA_CHANGED = (
    psycopg.errors.UndefinedColumn,
    psycopg.errors.NotNullViolation,
    psycopg.errors.DatatypeMismatch,
    psycopg.errors.FeatureNotSupported,
)


class SteadyWriter:
    """Insert one row at a time, in autocommit, until stopped; record when each insert completed. The
    rows it inserted are deleted again when it stops, so repeated migrations see the same table."""

    def __init__(self, url: str, table: str) -> None:
        self.url = url
        self.table = table
        self._stop = threading.Event()
        self._started = threading.Event()
        self._completions: list[float] = []
        self._errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, name=f"writer-{table}")
        self._began = 0.0
        self.report: WriterReport | None = None

    def _run(self) -> None:
        try:
            with psycopg.connect(self.url, autocommit=True) as conn:
                keys: list[Key] = []
                statement, reinserting = copy_row_statement(conn, self.table), reinserts(conn, self.table)

                def insert() -> None:
                    key = _inserted(conn, statement)
                    if not reinserting:  # a re-inserted row is the table's own: it stays
                        keys.append(key)

                insert()  # warm: parse, plan, caches
                self._started.set()
                try:
                    while not self._stop.is_set():
                        try:
                            insert()
                        except SCHEMA_CHANGED:
                            # The migration changed the table's columns under the statement (added one
                            # without a default, dropped or retyped one): copy rows as the table is now,
                            # as the application would once deployed. A second failure is real.
                            statement = copy_row_statement(conn, self.table)
                            reinserting = reinserts(conn, self.table)
                            insert()
                        self._completions.append(time.perf_counter())
                finally:
                    remove_keys(conn, self.table, keys)
        except BaseException as exc:
            self._errors.append(exc)
            self._started.set()

    def __enter__(self) -> SteadyWriter:
        self._thread.start()
        self._started.wait(60)
        self._began = time.perf_counter()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(600)
        # Inserts that completed before measuring began (the thread starts first) are not counted; the
        # one in flight at the end is: an insert a lock held until the commit completes just after it.
        completions = [t for t in self._completions if t >= self._began]
        self.report = report_of(completions, self._began, max([time.perf_counter(), *completions]))
        if self._errors and exc is None:
            raise self._errors[0]
