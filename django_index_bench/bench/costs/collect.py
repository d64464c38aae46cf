"""Measure every cost on disposable, harness-owned copies of the seeded database, then drop them.

Two template-identical copies, one per state: the write figures alternate between them (A B, B A, ...)
so each repetition in one state has a partner in the other that ran right beside it, as the read
timings do. The index statements index-only states differ by, then the migrations, run forward and back
on the "before" copy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Never, TypeVar

import psycopg
from django.db import connection
from django.db.models import Model
from django.db.utils import InterfaceError, OperationalError
from tqdm import tqdm

from django_index_bench.bench.costs.indexes import index_changes, index_costs
from django_index_bench.bench.costs.migrations import REPETITIONS, forward_plan, migration_costs, tables_of
from django_index_bench.bench.costs.sizes import relation_sizes
from django_index_bench.bench.costs.writes import copy_cost, copy_payload, orm_create_cost, state_models
from django_index_bench.bench.pg import clones, db
from django_index_bench.bench.results import CostFailure, Costs, MigrationCost, RelationSize, WriteCost
from django_index_bench.bench.steps.states import State, move_to, schema_state

# Pairs per write figure. Wilcoxon's signed-rank test, two-sided and exact, cannot go below p = 0.0625
# with 5 pairs, so 5 could never call a change at alpha 0.05; with 6 the smallest p is 0.031.
WRITE_REPETITIONS = 6
Method = Callable[..., WriteCost]


def changed_tables(after: State) -> list[str]:
    """Every table whose indexes the migrations from the current state to `after` change, in plan order
    (collect_costs adds the tables of the indexes index-only states differ by)."""
    return list(dict.fromkeys(t for m in forward_plan(after) for t in tables_of(m)))


def copy_name(name: str, state: str) -> str:
    """The copy for a state: `name` with the state appended; the front gives way, not the run's tag."""
    return (f"{name}_{state}")[-clones.MAX_NAME :]


def pair_order(pair: int, states: tuple[State, State]) -> list[tuple[State, bool]]:
    """Alternating: before first in even pairs, after first in odd ones; with whether each ran first."""
    ordered = states if pair % 2 == 0 else states[::-1]
    return [(state, i == 0) for i, state in enumerate(ordered)]


# The server went away: nothing after it can be measured, so it ends the step (and the run) instead of
# being recorded as one figure's failure.
LOST_SERVER = (psycopg.OperationalError, OperationalError, InterfaceError)
T = TypeVar("T")


def server_lost(exc: BaseException) -> bool:
    """One of LOST_SERVER that is about the connection: no SQLSTATE (the driver lost it), class 08
    (connection exception) or 57P (the server shutting down or crashed). An error the server answered
    with (a COPY it could not read is a ProtocolViolation, an OperationalError) is the figure's own."""
    if not isinstance(exc, LOST_SERVER):
        return False
    cause = exc if isinstance(exc, psycopg.Error) else exc.__cause__
    state = cause.sqlstate if isinstance(cause, psycopg.Error) else None
    return state is None or state.startswith(("08", "57P"))


class _Figures:
    """Runs each cost figure on its own: one that raises is recorded by name (Costs.failures) and the
    others still run. `step` names what is being measured, as the progress bar shows it."""

    def __init__(self, bar: tqdm[Never]) -> None:
        self.bar = bar
        self.current = ""
        self.failures: list[CostFailure] = []

    def step(self, what: str) -> None:
        self.current = what
        self.bar.set_postfix_str(what)
        self.bar.update()

    def attempt(self, figure: str, measure: Callable[[], T], instead: T) -> T:
        self.current = figure
        try:
            return measure()
        except Exception as exc:
            if server_lost(exc):
                raise
            connection.close()  # a half-done ORM transaction must not leak into the next figure
            self.failures.append(CostFailure(self.current, f"{type(exc).__name__}: {db.first_line(exc)}"))
            return instead


def _write_pairs(
    copies: dict[str, db.Target],
    states: tuple[State, State],
    table: str,
    method: str,
    measure: Method,
    rows: int,
    repetitions: int,
    figures: _Figures,
    done: list[WriteCost],
) -> None:
    """One (table, method): `repetitions` pairs into `done`, a pair only once both its sides are in."""
    for pair in range(repetitions):
        figures.step(f"{method} into {table} {pair + 1}/{repetitions}")
        both = []
        for state, first in pair_order(pair, states):
            target = copies[state.name]
            db.switch_django(target)  # the ORM's inserts go to this state's copy
            both.append(measure(target.url, table, rows, state.name, pair=pair, first=first))
        done += both


def _copy_into_own_state() -> Method:
    """copy_cost with each state's own rows: copy_payload of its copy, read at its first repetition (a
    read that fails is that repetition's failure) and kept for the others (the same rows every time)."""
    payloads: dict[str, bytes] = {}

    def measure(url: str, table: str, rows: int, state: str, *, pair: int, first: bool) -> WriteCost:
        if state not in payloads:
            payloads[state] = copy_payload(url, table, rows)
        return copy_cost(url, table, rows, state, pair=pair, first=first, data=payloads[state])

    return measure


def _create_through(models: dict[str, type[Model]]) -> Method:
    """orm_create_cost through each state's model (state_models)."""

    def measure(url: str, table: str, rows: int, state: str, *, pair: int, first: bool) -> WriteCost:
        return orm_create_cost(url, table, rows, state, pair=pair, first=first, model=models[state])

    return measure


def measure_writes(
    copies: dict[str, db.Target],
    states: tuple[State, State],
    tables: list[str],
    *,
    rows: dict[str, int],
    repetitions: int,
    figures: _Figures,
) -> list[WriteCost]:
    """Every table and method, `repetitions` pairs, the two sides of a pair back to back; each (table,
    method) a figure of its own, which keeps its complete pairs when a later one fails.

    The states' tables may differ in columns (a migration between them adds or drops one): each state's
    rows are its own copy's, read and written back in that copy's columns, by COPY at the database level
    (nothing passes through Python). Both copies hold the same seeded rows, so a column both states have
    carries the same values in both; a column only the after state has carries what its migrations filled
    it with (its default, or a generated value); a column only the before state has is in its rows alone."""
    writes: list[WriteCost] = []
    for table in tables:

        def choose(table: str = table) -> dict[str, type[Model]]:
            return state_models(table, {s.name: (copies[s.name].url, schema_state(s)) for s in states})

        models: dict[str, type[Model]] | None = figures.attempt(f"orm_create into {table}", choose, None)
        methods: dict[str, Method] = {"copy": _copy_into_own_state()}
        if models is not None:
            methods["orm_create"] = _create_through(models)
        for method, measure in methods.items():
            done: list[WriteCost] = []
            timed = functools.partial(
                _write_pairs, copies, states, table, method, measure, rows[method], repetitions, figures, done
            )
            figures.attempt(f"{method} into {table}", timed, None)
            writes += done
    return writes


def collect_costs(
    main: db.Target,
    states: tuple[State, State],
    name: str,
    *,
    copy_rows: int,
    orm_rows: int,
    write_repetitions: int = WRITE_REPETITIONS,
    migration_repetitions: int = REPETITIONS,
    progress: bool = True,
    ready: dict[str, db.Target] | None = None,
) -> Costs:
    """On copies of main named after `name` (unique to the run), dropped afterwards. Each figure (the
    sizes in each state, each table's writes by each method, each migration's or index's timings) is
    measured on its own: one that fails is recorded in Costs.failures and the others are kept.
    `ready`: a copy per state, already in its state and untouched (bench run's spares of its read
    copies), used instead of copying and migrating again; they are dropped here all the same."""
    before, after = states
    bar = tqdm(desc="costs", unit="step", disable=not progress)
    figures = _Figures(bar)
    step = figures.step

    made: list[db.Target] = [ready[s.name] for s in states] if ready is not None else []
    try:
        # Each copy is made from the seeded database and moved to its own state, as the read copies are:
        # the same rows page for page, and each really in its state (an index "before" drops is back in
        # "after" unless "after" drops it too).
        for state in states if ready is None else ():
            step(f"copying the seeded database ({state.name})")
            connection.close()
            made.append(clones.clone(main, copy_name(name, state.name)))
            db.switch_django(made[-1])
            move_to(state)
        copies = {before.name: made[0], after.name: made[1]}
        indexes = index_changes(states, made[0].url, made[1].url)
        db.switch_django(made[0])
        tables = list(dict.fromkeys([*changed_tables(after), *(c.table for c in indexes)]))
        # Sizes first, on untouched copies: later steps insert rows.
        no_sizes: tuple[RelationSize, ...] = ()
        sizes_before = figures.attempt("sizes before", functools.partial(relation_sizes, tables), no_sizes)
        db.switch_django(made[1])
        sizes_after = figures.attempt("sizes after", functools.partial(relation_sizes, tables), no_sizes)
        rows = {"copy": copy_rows, "orm_create": orm_rows}
        writes = measure_writes(
            copies, states, tables, rows=rows, repetitions=write_repetitions, figures=figures
        )
        db.switch_django(made[0])
        # The index statements first: the migrations' measurement leaves the copy where they end.
        migrations: list[MigrationCost] = []
        url, reps = made[0].url, migration_repetitions
        for change in indexes:
            timed = functools.partial(index_costs, url, [change], reps, step, migrations)
            figures.attempt(change.label, timed, migrations)
        figures.attempt(
            "migrations", functools.partial(migration_costs, url, after, reps, step, migrations), migrations
        )
    finally:
        bar.close()
        db.switch_django(main)
        clones.drop_all(main, made)
    return Costs(
        database=made[0].name,
        migrations=tuple(migrations),
        sizes_before=sizes_before,
        sizes_after=sizes_after,
        writes=tuple(writes),
        order="alternating",
        databases={state: copied.name for state, copied in copies.items()},
        failures=tuple(figures.failures),
    )
