"""The seeder's own benchmark: the same rows of the source's largest table loaded three ways, on a scratch
table.

1. raw COPY: the rows encoded beforehand, only the COPY is timed (what the server can take);
2. the seeder: drawing, encoding and COPY together, in one process;
3. Django bulk_create on a sample, the usual way to fill tables from Python.
Then the whole request seeded for real, once per way of building keys and indexes back (into
databases the caller provides and throws away), phase by phase.
Reported as rows/s, seconds and ratios; speed is reported, never asserted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from django_index_bench.seed.binary import HEADER, TRAILER
from django_index_bench.seed.copying import SeedOutcome, ensure_seeded
from django_index_bench.seed.rebuild import Mode
from django_index_bench.seed.source import Source


@dataclass(frozen=True)
class Way:
    name: str
    rows: int
    seconds: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds


def _copy(
    conn: psycopg.Connection[tuple[object, ...]],
    table: sql.Identifier,
    columns: list[str],
    chunks: list[bytes],
) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT binary)").format(
        table, sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor().copy(statement) as copy:
        copy.write(HEADER)
        for chunk in chunks:
            copy.write(chunk)
        copy.write(TRAILER)


def three_ways(url: str, source: Source, *, orm_sample: int = 20_000) -> list[Way]:
    """Load the source's largest table into an empty scratch copy of it, three ways; nothing is kept.

    Django must be set up (bulk_create needs the table's model)."""
    data = max(source.draw(), key=lambda t: t.rows)
    ways: list[Way] = []
    with psycopg.connect(url) as conn:
        scratch = sql.Identifier(f"scratch_{data.table}")
        like = sql.SQL("CREATE TEMP TABLE {} (LIKE {} INCLUDING DEFAULTS)")
        conn.execute(like.format(scratch, sql.Identifier(data.table)))
        began = time.perf_counter()
        chunks = [data.render(lo, hi) for lo, hi in data.ranges()]
        encoded = time.perf_counter() - began
        began = time.perf_counter()
        _copy(conn, scratch, data.column_names, chunks)
        copied = time.perf_counter() - began
        ways.append(Way(f"raw COPY of pre-encoded {data.table} rows", data.rows, copied))
        ways.append(Way("the seeder (draw + encode + COPY)", data.rows, encoded + copied))
        sample = conn.execute(
            sql.SQL("SELECT {} FROM {} LIMIT %s").format(
                sql.SQL(", ").join(map(sql.Identifier, data.column_names)), scratch
            ),
            (orm_sample,),
        ).fetchall()
        conn.rollback()
    ways.append(_bulk_create(data.table, data.column_names, sample))
    return ways


def _bulk_create(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> Way:
    """Django's bulk_create of a sample of the same rows into an empty stand-in for the table (a
    temporary table of the same name, which the session finds first), rolled back afterwards."""
    from django.apps import apps
    from django.db import connection, transaction

    model = next(m for m in apps.get_models() if m._meta.db_table == table)
    attnames = {f.column: f.attname for f in model._meta.concrete_fields}
    # New ids come from the sequence, as in an app; the rest are the rows COPY loaded.
    kept = [i for i, c in enumerate(columns) if c != model._meta.pk.column]
    objects = [model(**{attnames[columns[i]]: row[i] for i in kept}) for row in rows]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE {connection.ops.quote_name(table)} "
                f"(LIKE {connection.ops.quote_name(table)} INCLUDING ALL) ON COMMIT DROP"
            )
        began = time.perf_counter()
        model._default_manager.bulk_create(objects, batch_size=2_000)
        seconds = time.perf_counter() - began
        transaction.set_rollback(True)
    return Way(f"Django bulk_create (sample of {len(rows):,})", len(rows), seconds)


def whole_request(urls: dict[Mode, str], source: Source) -> dict[Mode, SeedOutcome]:
    """Seed the source into each mode's (scratch) database, rebuilding keys and indexes that way."""
    return {
        mode: ensure_seeded(url, source, force=True, progress=False, mode=mode) for mode, url in urls.items()
    }


def phases(outcome: SeedOutcome) -> list[tuple[str, float]]:
    """The seed's phases in order, adding up to its total: what is not a named phase is "other"."""
    draw, *after = outcome.phases
    named = [draw, ("load (COPY)", sum(t.seconds for t in outcome.tables)), *after]
    return [*named, ("other (connect, take keys down, marker)", outcome.seconds - sum(s for _, s in named))]
