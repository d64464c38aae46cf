"""The cost of each migration between the states: wall time, per-statement time, the lock it takes and how
long it holds it, the stalls a concurrent writer sees, the same migration done with CREATE/DROP INDEX
CONCURRENTLY, and the rollback of each; every figure repeated.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.core.management import call_command
from django.db import connection
from django.db.migrations import AddIndex, Migration, RemoveIndex
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from django_index_bench.bench.costs.lock_watch import lock_taken
from django_index_bench.bench.costs.writer import SteadyWriter
from django_index_bench.bench.results import Direction, MigrationCost, StatementTiming
from django_index_bench.bench.steps.states import State

PLAIN = "plain"
CONCURRENT = "concurrent"
# Each variant and direction of a migration is timed this many times, on the same copy reset in between
# (a migration and its rollback are each other's reset).
REPETITIONS = 3
SCHEMA_STATEMENTS = ("CREATE", "DROP", "ALTER")


def forward_plan(after: State) -> list[Migration]:
    """The migrations that take the current state to `after`, in order."""
    plan = MigrationExecutor(connection).migration_plan(list(after.targets.items()))
    if any(backwards for _, backwards in plan):
        raise RuntimeError("cost measurements start from the 'before' state and only go forward")
    return [migration for migration, _ in plan]


def previous(migration: Migration) -> str:
    parents = [name for app, name in migration.dependencies if app == migration.app_label]
    return parents[0] if parents else "zero"


def tables_of(migration: Migration) -> list[str]:
    loader = MigrationLoader(connection)
    apps = loader.project_state((migration.app_label, migration.name), at_end=True).apps
    tables: list[str] = []
    for op in migration.operations:
        model_name = getattr(op, "model_name", None)
        if model_name:
            table = apps.get_model(migration.app_label, model_name)._meta.db_table
            if table not in tables:
                tables.append(table)
    return tables


def concurrent_variant(migration: Migration) -> Migration | None:
    """The same index changes with CONCURRENTLY (non-atomic); None when any operation has no such form."""
    operations: list[Any] = []
    for op in migration.operations:
        if isinstance(op, AddIndex):
            operations.append(AddIndexConcurrently(op.model_name, op.index))
        elif isinstance(op, RemoveIndex):
            operations.append(RemoveIndexConcurrently(op.model_name, op.name))
        else:
            return None
    attributes = {"operations": operations, "dependencies": list(migration.dependencies), "atomic": False}
    variant_class = type("Migration", (Migration,), attributes)
    variant: Migration = variant_class(f"{migration.name}_concurrently", migration.app_label)
    return variant


def _apply(migration: Migration, *, backwards: bool = False) -> None:
    """Run a migration object that is not in the graph (the concurrent variant) without recording it."""
    state = MigrationLoader(connection).project_state((migration.app_label, previous(migration)), at_end=True)
    with connection.schema_editor(atomic=migration.atomic) as editor:
        if backwards:
            migration.unapply(state, editor)
        else:
            migration.apply(state, editor)


@dataclass
class _Statements:
    """The schema statements a change sent, and how long its lock on the table was held."""

    timings: list[StatementTiming] = field(default_factory=list)
    first_started: float | None = None
    committed: float | None = None  # an atomic migration's commit, when the lock is released
    atomic: bool = False

    def lock_held_s(self) -> float:
        if self.atomic and self.first_started is not None and self.committed is not None:
            return self.committed - self.first_started
        return sum(t.seconds for t in self.timings)


@contextmanager
def _timed_statements() -> Iterator[_Statements]:
    found = _Statements()

    def committed() -> None:
        found.committed = time.perf_counter()

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        schema = "django_migrations" not in sql and sql.lstrip().upper().startswith(SCHEMA_STATEMENTS)
        if schema and found.first_started is None:
            # The first schema statement takes the lock; in a transaction it is held until the commit.
            found.first_started = started
            found.atomic = connection.in_atomic_block
            if found.atomic:
                connection.on_commit(committed)
        try:
            return execute(sql, params, many, context)
        finally:
            if schema:
                found.timings.append(StatementTiming(sql=sql, seconds=time.perf_counter() - started))

    with connection.execute_wrapper(wrapper):
        yield found


def invalid_indexes(tables: list[str]) -> tuple[str, ...]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexrelid::regclass::text FROM pg_index i"
            " WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisvalid ORDER BY 1",
            [tables],
        )
        return tuple(name for (name,) in cursor.fetchall())


@dataclass(frozen=True)
class _Change:
    """One variant of one migration in one direction: what runs it, and whether it runs in one
    transaction (then reading its lock can cancel it: a rollback, no index build)."""

    migration: Migration
    variant: str
    direction: Direction
    run: Callable[[], None]
    atomic: bool


def _measure(url: str, change: _Change, tables: list[str], lock: str, repetition: int) -> MigrationCost:
    migration = change.migration
    label = f"{migration.app_label}.{migration.name}"
    return measure_change(url, label, change.variant, change.direction, change.run, tables, lock, repetition)


def measure_change(
    url: str,
    label: str,
    variant: str,
    direction: Direction,
    run: Callable[[], None],
    tables: list[str],
    lock: str,
    repetition: int,
) -> MigrationCost:
    """One timed run of a schema change (a migration, or an index statement) while a writer inserts into
    tables[0]: its time, statements, lock held, the writer's stalls and any invalid index left."""
    with SteadyWriter(url, tables[0]) as writer, _timed_statements() as statements:
        started = time.perf_counter()
        run()
        seconds = time.perf_counter() - started
    assert writer.report is not None
    return MigrationCost(
        migration=label,
        variant=variant,
        table=tables[0],
        lock=lock,
        seconds=seconds,
        statements=tuple(statements.timings),
        max_write_stall_s=writer.report.max_s,
        writes_during=writer.report.inserts,
        invalid_indexes=invalid_indexes(tables),
        direction=direction,
        repetition=repetition,
        lock_held_s=statements.lock_held_s(),
        stall_p50_s=writer.report.p50_s,
        stall_p99_s=writer.report.p99_s,
    )


def _applied(migration: Migration) -> bool:
    return (migration.app_label, migration.name) in MigrationRecorder(connection).applied_migrations()


def _changes(migration: Migration) -> list[tuple[_Change, _Change]]:
    """(forward, backward) of the migration as written, and of its concurrent variant when it has one."""
    app, name = migration.app_label, migration.name

    def forward() -> None:
        call_command("migrate", app, name, verbosity=0)

    def backward() -> None:
        call_command("migrate", app, previous(migration), verbosity=0)

    atomic = migration.atomic
    plain = (
        _Change(migration, PLAIN, "forward", forward, atomic),
        _Change(migration, PLAIN, "backward", backward, atomic),
    )
    changes = [plain]
    variant = concurrent_variant(migration)
    if variant is not None:
        changes.append(
            (
                _Change(migration, CONCURRENT, "forward", lambda: _apply(variant), False),
                _Change(migration, CONCURRENT, "backward", lambda: _apply(variant, backwards=True), False),
            )
        )
    return changes


class _Locks:
    """The lock each change takes, read in runs of their own: reading it makes the change wait, which
    must not be timed. An atomic change is cancelled once seen (the database stays where it was); any
    other runs to the end, so it is read when the database is where that change starts anyway."""

    def __init__(self, url: str, table: str) -> None:
        self.url, self.table = url, table
        self.found: dict[tuple[str, str], str] = {}

    def read(self, change: _Change) -> None:
        key = (change.variant, change.direction)
        if key in self.found:
            return
        applied = _applied(change.migration)
        lock = lock_taken(self.url, self.table, change.run, cancel=change.atomic)
        self.found[key] = lock or "none"
        if change.atomic and _applied(change.migration) != applied:
            # It finished before it could be cancelled (it never waited): take it back.
            migration = change.migration
            back_to = migration.name if applied else previous(migration)
            call_command("migrate", migration.app_label, back_to, verbosity=0)


def _costs_of(
    url: str,
    migration: Migration,
    tables: list[str],
    repetitions: int,
    on_step: Callable[[str], None],
    costs: list[MigrationCost],
) -> None:
    """Every variant, forward then back, `repetitions` times, the variants taking turns; from and back
    to the state before the migration. Each change's lock is read just before its first timed run."""
    label = f"{migration.app_label}.{migration.name}"
    changes = _changes(migration)
    locks = _Locks(url, tables[0])
    for repetition in range(repetitions):
        for pair in changes:
            forward, backward = pair
            if not forward.atomic and (forward.variant, forward.direction) not in locks.found:
                # A lock read that cannot be cancelled runs the change: both directions, back to start.
                on_step(f"{label} {forward.variant}: locks")
                locks.read(forward)
                locks.read(backward)
            for change in pair:
                on_step(f"{label} {change.variant} {change.direction} {repetition + 1}/{repetitions}")
                locks.read(change)
                lock = locks.found[(change.variant, change.direction)]
                costs.append(_measure(url, change, tables, lock, repetition))


def migration_costs(
    url: str,
    after: State,
    repetitions: int,
    on_step: Callable[[str], None] = lambda _: None,
    into: list[MigrationCost] | None = None,
) -> list[MigrationCost]:
    """Plain and concurrent cost of every migration up to `after`, forward and back, each `repetitions`
    times. A measured migration ends rolled back (an index build saved) unless a later one needs it.
    `into`: where each timing is added as it is taken, kept when a later one raises."""
    costs: list[MigrationCost] = [] if into is None else into
    plan = forward_plan(after)
    graph = MigrationLoader(connection).graph
    for i, migration in enumerate(plan):
        tables = tables_of(migration)
        if tables:
            _costs_of(url, migration, tables, repetitions, on_step, costs)
        key = (migration.app_label, migration.name)
        if not tables or any(key in graph.forwards_plan((m.app_label, m.name)) for m in plan[i + 1 :]):
            call_command("migrate", migration.app_label, migration.name, verbosity=0)
    return costs
