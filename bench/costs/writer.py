"""A steady single-row writer: what an application's inserts feel while a migration runs."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from types import TracebackType

import psycopg
from psycopg import sql


def column_list(conn: psycopg.Connection[tuple[object, ...]], table: str) -> sql.Composed:
    """Every column but the id: copies of existing rows then get new ids from the sequence."""
    rows = conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
        " AND NOT attisdropped AND attname <> 'id' ORDER BY attnum",
        (table,),
    )
    return sql.SQL(", ").join(sql.Identifier(str(name)) for (name,) in rows)


def copy_row_statement(conn: psycopg.Connection[tuple[object, ...]], table: str) -> sql.Composed:
    """INSERT a copy of the table's first row under a new id: realistic values without knowing the table."""
    names = column_list(conn, table)
    return sql.SQL("INSERT INTO {t} ({c}) SELECT {c} FROM {t} WHERE id = (SELECT min(id) FROM {t})").format(
        t=sql.Identifier(table), c=names
    )


@dataclass(frozen=True)
class WriterReport:
    inserts: int
    max_stall_s: float  # the longest single insert: how long a write was blocked
    seconds: float


class SteadyWriter:
    """Insert one row at a time, in autocommit, until stopped; record each insert's latency."""

    def __init__(self, url: str, table: str) -> None:
        self.url = url
        self.table = table
        self._stop = threading.Event()
        self._started = threading.Event()
        self._latencies: list[float] = []
        self._errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, name=f"writer-{table}")
        self._began = 0.0
        self.report: WriterReport | None = None

    def _run(self) -> None:
        try:
            with psycopg.connect(self.url, autocommit=True) as conn:
                statement = copy_row_statement(conn, self.table)
                conn.execute(statement)  # warm: parse, plan, caches
                self._started.set()
                while not self._stop.is_set():
                    began = time.perf_counter()
                    conn.execute(statement)
                    self._latencies.append(time.perf_counter() - began)
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
        self.report = WriterReport(
            inserts=len(self._latencies),
            max_stall_s=max(self._latencies, default=0.0),
            seconds=time.perf_counter() - self._began,
        )
        if self._errors and exc is None:
            raise self._errors[0]
