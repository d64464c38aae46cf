"""Measure every cost on a disposable, harness-owned copy of the seeded database, then drop it."""

from __future__ import annotations

from django.db import connection
from tqdm import tqdm

from bench import clones, db
from bench.costs.migrations import forward_plan, migration_costs, tables_of
from bench.costs.sizes import relation_sizes
from bench.costs.writes import copy_cost, orm_create_cost
from bench.results import Costs, WriteCost
from bench.states import State, move_to

WRITE_TABLE = "tracking"


def _writes(url: str, state: State, *, copy_rows: int, orm_rows: int) -> list[WriteCost]:
    return [
        orm_create_cost(url, WRITE_TABLE, orm_rows, state.name),
        copy_cost(url, WRITE_TABLE, copy_rows, state.name),
    ]


def collect_costs(
    main: db.Target,
    states: tuple[State, State],
    name: str,
    *,
    copy_rows: int,
    orm_rows: int,
    progress: bool = True,
) -> Costs:
    """On a copy of main named `name` (unique to the run), dropped afterwards."""
    before, after = states
    bar = tqdm(desc="costs", unit="step", disable=not progress)

    def step(what: str) -> None:
        bar.set_postfix_str(what)
        bar.update()

    step("copying the seeded database")
    connection.close()
    clone = clones.clone(main, name)
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
        clones.drop(main, clone.name)
    return Costs(
        database=clone.name,
        migrations=tuple(migrations),
        sizes_before=sizes_before,
        sizes_after=sizes_after,
        writes=tuple(writes),
    )
