"""Measure every cost on a disposable, harness-owned copy of the seeded database, then drop it."""

from __future__ import annotations

import time

import psycopg
from django.db import connection
from tqdm import tqdm

from bench import db
from bench.costs.migrations import forward_plan, migration_costs, tables_of
from bench.costs.sizes import relation_sizes
from bench.costs.writes import copy_cost, orm_create_cost
from bench.results import Costs, WriteCost
from bench.states import State, move_to
from bench import server as embedded

WRITE_TABLE = "tracking"


def _clone(main: db.Target, name: str) -> db.Target:
    server = embedded.with_database(main.url, "postgres")
    db.drop_owned_database(server, name)
    connection.close()
    # CREATE DATABASE ... TEMPLATE needs the template to itself; autovacuum may hold it for a moment.
    for attempt in range(20):
        try:
            embedded.create_owned_database(server, name, template=main.name)
            break
        except psycopg.errors.ObjectInUse:
            if attempt == 19:
                raise
            time.sleep(0.5)
    return db.Target(embedded.with_database(main.url, name), embedded=main.embedded)


def _writes(url: str, state: State, *, copy_rows: int, orm_rows: int) -> list[WriteCost]:
    return [
        orm_create_cost(url, WRITE_TABLE, orm_rows, state.name),
        copy_cost(url, WRITE_TABLE, copy_rows, state.name),
    ]


def collect_costs(
    main: db.Target, states: tuple[State, State], *, copy_rows: int, orm_rows: int, progress: bool = True
) -> Costs:
    before, after = states
    bar = tqdm(desc="costs", unit="step", disable=not progress)

    def step(what: str) -> None:
        bar.set_postfix_str(what)
        bar.update()

    step("copying the seeded database")
    clone = _clone(main, f"{main.name}_costs")
    try:
        db.switch_django(clone)
        move_to(before)
        tables = sorted({t for m in forward_plan(after) for t in tables_of(m)} | {WRITE_TABLE})
        # Sizes first, on the untouched copy in both states: later steps insert rows.
        step("relation sizes")
        sizes_before = relation_sizes(tables)
        move_to(after)
        sizes_after = relation_sizes(tables)
        move_to(before)
        step("writes before")
        writes = _writes(clone.url, before, copy_rows=copy_rows, orm_rows=orm_rows)
        migrations = migration_costs(clone.url, after, step)
        step("writes after")
        writes += _writes(clone.url, after, copy_rows=copy_rows, orm_rows=orm_rows)
    finally:
        bar.close()
        db.switch_django(main)
        db.drop_owned_database(embedded.with_database(main.url, "postgres"), clone.name)
    return Costs(
        database=clone.name,
        migrations=tuple(migrations),
        sizes_before=sizes_before,
        sizes_after=sizes_after,
        writes=tuple(writes),
    )
