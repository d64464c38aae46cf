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


def primary_key(conn: Connection, table: str) -> str:
    """The table's single-column primary key, from the catalog: no table's layout is assumed."""
    rows = conn.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a"
        " ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
        " WHERE i.indrelid = %s::regclass AND i.indisprimary",
        (table,),
    ).fetchall()
    if len(rows) != 1:
        raise RuntimeError(f"{table} has no single-column primary key: its rows cannot be copied")
    return str(rows[0][0])


def column_list(conn: Connection, table: str) -> sql.Composed:
    """Every column but the primary key: copies of existing rows then get new keys from the sequence."""
    key = primary_key(conn, table)
    rows = conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
        " AND NOT attisdropped AND attname <> %s ORDER BY attnum",
        (table, key),
    )
    return sql.SQL(", ").join(sql.Identifier(str(name)) for (name,) in rows)


# A fresh value for a column of a unique index, by the column's type category (pg_type.typcategory).
# Numbers and times count up from the column's largest value (row_number() in a batch; a single-row
# INSERT ... SELECT sees the previous one's value), so they never collide and stay in the column's range
# as far as its largest value allows; strings get a random suffix within their length limit.
_FRESH = {
    "S": "left({c}, greatest({n} - 12, 0)) || '~' || substr(md5(random()::text), 1, least({n} - 1, 11))",
    "N": "((SELECT max({c}) FROM {t}) + row_number() OVER ())::{type}",
    "D": "((SELECT max({c}) FROM {t}) + row_number() OVER () * interval '1 second')::{type}",
    "U": "gen_random_uuid()",
}
_DATE = "(SELECT max({c}) FROM {t}) + (row_number() OVER ())::int"  # a day apart: dates have no seconds


def select_list(conn: Connection, table: str) -> sql.Composed:
    """Every column but the primary key, as a SELECT list over the table's rows: copies get new keys
    from the sequence, and one column of each unique index a fresh value, so a copy of a row never
    collides with the row (any project's unique constraints hold). Other columns keep real values."""
    key = primary_key(conn, table)
    columns = conn.execute(
        "SELECT a.attname, t.typcategory, t.typname, CASE WHEN a.atttypmod > 4 THEN a.atttypmod - 4 END"
        " FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = %s::regclass"
        " AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> %s ORDER BY a.attnum",
        (table, key),
    ).fetchall()
    kinds = {str(name): (str(category), str(typname), length) for name, category, typname, length in columns}
    # A foreign key's values must exist in the parent: such a column is never the one made fresh.
    usable = {c: k for c, k in kinds.items() if k[0] in _FRESH and c not in _foreign_key_columns(conn, table)}
    fresh: dict[str, sql.Composable] = {}
    for unique in _unique_sets(conn, table):
        chosen = next((c for c in unique if c in usable), None)
        if chosen is None:
            raise RuntimeError(
                f"{table}: no column of its unique index on ({', '.join(unique)}) can take fresh values, so "
                "its rows cannot be copied to time writes; pass --no-costs"
            )
        category, typname, length = usable[chosen]
        template = _DATE if typname == "date" else _FRESH[category]
        template = template.format(c="{c}", t="{t}", n=str(length or 1000), type=typname)
        fresh[chosen] = sql.SQL(template + " AS {c}").format(
            c=sql.Identifier(chosen), t=sql.Identifier(table)
        )
    return sql.SQL(", ").join(fresh.get(name, sql.Identifier(name)) for name in kinds)


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
    """INSERT a copy of the table's first row under a new key: realistic values without knowing the table."""
    return sql.SQL("INSERT INTO {t} ({c}) SELECT {s} FROM {t} WHERE {k} = (SELECT min({k}) FROM {t})").format(
        t=sql.Identifier(table),
        c=column_list(conn, table),
        s=select_list(conn, table),
        k=sql.Identifier(primary_key(conn, table)),
    )


def highest_key(conn: Connection, table: str) -> int:
    key = sql.Identifier(primary_key(conn, table))
    query = sql.SQL("SELECT coalesce(max({k}), 0) FROM {t}").format(k=key, t=sql.Identifier(table))
    found = conn.execute(query).fetchone()
    assert found is not None
    return int(str(found[0]))


def remove_since(conn: Connection, table: str, highest: int) -> None:
    """Delete the rows inserted after `highest` was the largest key, and VACUUM: repetitions start from
    the same table, instead of one that grows with every repetition before it."""
    key = sql.Identifier(primary_key(conn, table))
    conn.execute(sql.SQL("DELETE FROM {t} WHERE {k} > %s").format(t=sql.Identifier(table), k=key), (highest,))
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
                statement = copy_row_statement(conn, self.table)
                highest = highest_key(conn, self.table)
                conn.execute(statement)  # warm: parse, plan, caches
                self._started.set()
                while not self._stop.is_set():
                    conn.execute(statement)
                    self._completions.append(time.perf_counter())
                remove_since(conn, self.table, highest)
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
