"""The indexes two index-only states differ by (`drop_indexes` / `create_indexes` at the same migrations),
read from the catalogs of their two copies, and what each index's statement costs: its build and its drop,
as written and CONCURRENTLY, forward and back, timed like a migration (bench.costs.migrations).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from django.db import connection

from django_index_bench.bench.costs.lock_watch import lock_taken
from django_index_bench.bench.costs.migrations import CONCURRENT, PLAIN, measure_change
from django_index_bench.bench.results import CREATE_INDEX, DROP_INDEX, Direction, MigrationCost
from django_index_bench.bench.steps.states import State, drop_index

# Index name -> (its table, pg_get_indexdef): every index outside the system schemas.
Catalog = dict[str, tuple[str, str]]


@dataclass(frozen=True)
class IndexChange:
    """One index the states differ by: only the "after" copy has it (`added`), or only "before" has it."""

    name: str
    table: str
    definition: str  # pg_get_indexdef on the copy that has it: "CREATE [UNIQUE] INDEX name ON ..."
    added: bool

    @property
    def label(self) -> str:
        """What going from before to after does, the name its costs are recorded under."""
        return f"{CREATE_INDEX if self.added else DROP_INDEX}{self.name}"


def index_catalog(url: str) -> Catalog:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT c.relname, t.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'"
        ).fetchall()
    return {str(name): (str(table), str(definition)) for name, table, definition in rows}


def differences(before: Catalog, after: Catalog) -> list[IndexChange]:
    """The indexes only one side has, by table then name. An index both have under the same name (even
    redefined) is no build and no drop, so it is not one of them."""
    changes = [
        IndexChange(name, table, definition, added=name in after)
        for name, (table, definition) in {**before, **after}.items()
        if (name in before) != (name in after)
    ]
    return sorted(changes, key=lambda c: (c.table, c.name))


def index_only(states: tuple[State, State]) -> bool:
    """Both states at the same migrations, and index SQL in either: then every index the two copies
    differ by is the index SQL's doing (with migrations between them too, it is not told apart)."""
    before, after = states
    sql = before.drop_indexes or before.create_indexes or after.drop_indexes or after.create_indexes
    return before.targets == after.targets and bool(sql)


def index_changes(states: tuple[State, State], before_url: str, after_url: str) -> list[IndexChange]:
    """What the index SQL changes between the two copies (each already in its state); none for states
    that differ by migrations (bench.costs.migrations measures those)."""
    if not index_only(states):
        return []
    return differences(index_catalog(before_url), index_catalog(after_url))


def concurrently(definition: str) -> str:
    """The same CREATE INDEX with CONCURRENTLY (pg_get_indexdef's form always starts like this)."""
    found, replaced = re.subn(r"^(CREATE (?:UNIQUE )?INDEX) ", r"\1 CONCURRENTLY ", definition)
    if replaced != 1:
        raise RuntimeError(f"not a CREATE INDEX statement: {definition}")
    return found


def _execute(statement: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement)


def _exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(quote_ident(%s)) IS NOT NULL", [name])
        row = cursor.fetchone()
    return bool(row and row[0])


@dataclass(frozen=True)
class _Statement:
    variant: str
    direction: Direction
    sql: str
    creates: bool  # whether it creates the index (else it drops it)


def _drop(change: IndexChange, *, concurrent: bool = False) -> str:
    return drop_index(change.name, concurrently=concurrent)


def _pairs(change: IndexChange) -> list[tuple[_Statement, _Statement]]:
    """(forward, backward) as written and CONCURRENTLY: forward takes the before copy to after."""
    drop = _drop(change)
    found: list[tuple[_Statement, _Statement]] = []
    for variant, create, remove in (
        (PLAIN, change.definition, drop),
        (CONCURRENT, concurrently(change.definition), _drop(change, concurrent=True)),
    ):
        build = (create, True)
        down = (remove, False)
        forward, backward = (build, down) if change.added else (down, build)
        found.append((_Statement(variant, "forward", *forward), _Statement(variant, "backward", *backward)))
    return found


def _lock(url: str, change: IndexChange, statement: _Statement) -> str:
    """The lock the statement takes, read in a run of its own. A plain statement is its own transaction,
    so it is cancelled once its lock is seen (no index built); one that finished first is taken back.
    A CONCURRENTLY statement cannot be cancelled without leaving an invalid index: it runs to the end."""
    plain = statement.variant == PLAIN
    lock = lock_taken(url, change.table, lambda: _execute(statement.sql), cancel=plain)
    if plain and _exists(change.name) == statement.creates:
        _execute(_drop(change) if statement.creates else change.definition)
    return lock or "none"


def _costs_of(
    url: str,
    change: IndexChange,
    repetitions: int,
    on_step: Callable[[str], None],
    costs: list[MigrationCost],
) -> None:
    """Every variant forward then back, `repetitions` times, the variants taking turns, like a migration;
    from and back to the before state. Each statement's lock is read before its first timed run."""
    pairs = _pairs(change)
    locks: dict[tuple[str, str], str] = {}
    for repetition in range(repetitions):
        for forward, backward in pairs:
            if forward.variant == CONCURRENT and (CONCURRENT, "forward") not in locks:
                # Reading a CONCURRENTLY statement's lock runs it: the backward one's, right after, takes
                # it back to where the timed runs start.
                on_step(f"{change.label} {CONCURRENT}: locks")
                for statement in (forward, backward):
                    locks[(CONCURRENT, statement.direction)] = _lock(url, change, statement)
            for statement in (forward, backward):
                key = (statement.variant, statement.direction)
                if key not in locks:
                    locks[key] = _lock(url, change, statement)
                on_step(f"{change.label} {key[0]} {key[1]} {repetition + 1}/{repetitions}")
                costs.append(_timed(url, change, statement, locks[key], repetition))


def _timed(url: str, change: IndexChange, statement: _Statement, lock: str, repetition: int) -> MigrationCost:
    def run() -> None:
        _execute(statement.sql)

    variant, direction, table = statement.variant, statement.direction, [change.table]
    return measure_change(url, change.label, variant, direction, run, table, lock, repetition)


def index_costs(
    url: str,
    changes: list[IndexChange],
    repetitions: int,
    on_step: Callable[[str], None] = lambda _: None,
    into: list[MigrationCost] | None = None,
) -> list[MigrationCost]:
    """Each index's build and drop, plain and CONCURRENTLY, forward and back, `repetitions` times, on the
    database Django's connection points at (the before copy, which `url` names); it ends as it began."""
    costs: list[MigrationCost] = [] if into is None else into
    for change in changes:
        _costs_of(url, change, repetitions, on_step, costs)
    return costs
