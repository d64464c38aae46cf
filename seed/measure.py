"""The seeder's own benchmark: the same tracking rows loaded three ways, on a scratch database.

1. raw COPY: the rows encoded beforehand, only the COPY is timed (what the server can take);
2. the seeder: drawing, encoding and COPY together, in one process;
3. Django bulk_create on a sample, the usual way to fill tables from Python.
Then the whole request seeded for real, once per way of building keys and indexes back (into
databases the caller provides and throws away), phase by phase.
Reported as rows/s, seconds and ratios; speed is reported, never asserted.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from django.db.models import DateTimeField, Field, Model, UUIDField
from psycopg import sql

from seed.binary import HEADER, TRAILER, Fixed, Text
from seed.generate import ChunkedTable, tables
from seed.load import SeedOutcome, ensure_seeded
from seed.profiles import SeedRequest
from seed.rebuild import Mode

PG_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Way:
    name: str
    rows: int
    seconds: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds


def _copy(
    conn: psycopg.Connection[tuple[object, ...]], table: str, columns: list[str], chunks: list[bytes]
) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT binary)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor().copy(statement) as copy:
        copy.write(HEADER)
        for chunk in chunks:
            copy.write(chunk)
        copy.write(TRAILER)


def three_ways(url: str, request: SeedRequest, *, orm_sample: int = 20_000) -> list[Way]:
    """Load request's tracking rows into an empty copy of the table, three ways; nothing is kept."""
    ways: list[Way] = []
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TEMP TABLE scratch_tracking (LIKE tracking INCLUDING DEFAULTS)")
        began = time.perf_counter()
        data = tables(request)[2]
        chunks = [data.render(lo, hi) for lo, hi in data.ranges()]
        encoded = time.perf_counter() - began

        began = time.perf_counter()
        _copy(conn, "scratch_tracking", data.column_names, chunks)
        copied = time.perf_counter() - began
        ways.append(Way("raw COPY of pre-encoded rows", data.rows, copied))
        ways.append(Way("the seeder (draw + encode + COPY)", data.rows, encoded + copied))
        conn.rollback()

    ways.append(_bulk_create(request, orm_sample))
    return ways


def _python_value(column: Fixed | Text, row: int, field: Field[Any, Any]) -> object:
    """The value the ORM would be given for this row: the same one COPY loads."""
    if isinstance(column, Text):
        index = int(column.index[row])
        return None if index < 0 else column.vocabulary[index]
    if column.null is not None and column.null[row]:
        return None
    value = column.values[row]
    if isinstance(field, UUIDField):
        return uuid.UUID(bytes=bytes(value))
    if isinstance(field, DateTimeField):
        return PG_EPOCH + dt.timedelta(microseconds=int(value))
    return value.item()


def _field(model: type[Model], column: str) -> Field[Any, Any]:
    field = model._meta.get_field(column.removesuffix("_id"))
    assert isinstance(field, Field)
    return field


def _bulk_create(request: SeedRequest, sample: int) -> Way:
    """Django's bulk_create of the first `sample` of the same tracking rows, rolled back afterwards."""
    from django.db import transaction

    from project.apps.attendance.models import Tracking

    data = tables(request)[2]
    assert isinstance(data, ChunkedTable)
    lo, hi = data.ranges()[0]
    rows = min(sample, hi - lo)
    # The table already holds the seeded rows: new ids come from the sequence, as in an app.
    columns = [c for c in data.columns(lo, hi) if c.name != "id"]
    fields = {c.name: _field(Tracking, c.name) for c in columns}
    objects = [
        Tracking(**{c.name: _python_value(c, i, fields[c.name]) for c in columns}) for i in range(rows)
    ]
    began = time.perf_counter()
    with transaction.atomic():
        Tracking.objects.bulk_create(objects, batch_size=2_000)
        seconds = time.perf_counter() - began
        transaction.set_rollback(True)
    return Way(f"Django bulk_create (sample of {rows:,})", rows, seconds)


def whole_request(urls: dict[Mode, str], request: SeedRequest) -> dict[Mode, SeedOutcome]:
    """Seed the request into each mode's (scratch) database, rebuilding keys and indexes that way."""
    return {
        mode: ensure_seeded(url, request, force=True, progress=False, mode=mode) for mode, url in urls.items()
    }


def phases(outcome: SeedOutcome) -> list[tuple[str, float]]:
    """The seed's phases in order, adding up to its total: what is not a named phase is "other"."""
    draw, *after = outcome.phases
    named = [draw, ("load (COPY)", sum(t.seconds for t in outcome.tables)), *after]
    return [*named, ("other (connect, take keys down, marker)", outcome.seconds - sum(s for _, s in named))]
