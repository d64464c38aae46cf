"""The cost of each migration between the states: wall time, per-statement time, the lock it takes, the
longest stall a concurrent writer sees, and the same migration done with CREATE/DROP INDEX CONCURRENTLY.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.core.management import call_command
from django.db import connection
from django.db.migrations import AddIndex, Migration, RemoveIndex
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from bench.costs.locks import lock_taken
from bench.costs.writer import SteadyWriter
from bench.results import MigrationCost, StatementTiming
from bench.states import State


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


@contextmanager
def _timed_statements() -> Iterator[list[StatementTiming]]:
    timings: list[StatementTiming] = []

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if "django_migrations" not in sql and sql.lstrip().upper().startswith(
                ("CREATE", "DROP", "ALTER")
            ):
                timings.append(StatementTiming(sql=sql, seconds=time.perf_counter() - started))

    with connection.execute_wrapper(wrapper):
        yield timings


def invalid_indexes(tables: list[str]) -> tuple[str, ...]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexrelid::regclass::text FROM pg_index i"
            " WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisvalid ORDER BY 1",
            [tables],
        )
        return tuple(name for (name,) in cursor.fetchall())


def _measure(
    url: str, migration: Migration, variant: str, tables: list[str], forward: Callable[[], None]
) -> MigrationCost:
    with SteadyWriter(url, tables[0]) as writer, _timed_statements() as statements:
        started = time.perf_counter()
        forward()
        seconds = time.perf_counter() - started
    assert writer.report is not None
    return MigrationCost(
        migration=f"{migration.app_label}.{migration.name}",
        variant=variant,
        seconds=seconds,
        statements=tuple(statements),
        lock="",
        table=tables[0],
        max_write_stall_s=writer.report.max_stall_s,
        writes_during=writer.report.inserts,
        invalid_indexes=invalid_indexes(tables),
    )


def migration_costs(
    url: str, after: State, on_step: Callable[[str], None] = lambda _: None
) -> list[MigrationCost]:
    """Plain and concurrent cost of every migration up to `after`; the database ends in `after`."""
    costs: list[MigrationCost] = []
    for migration in forward_plan(after):
        on_step(f"{migration.app_label}.{migration.name}")
        app, name = migration.app_label, migration.name
        tables = tables_of(migration)
        if not tables:
            call_command("migrate", app, name, verbosity=0)
            continue

        def plain() -> None:
            call_command("migrate", app, name, verbosity=0)  # noqa: B023 - called within this iteration

        def back() -> None:
            call_command("migrate", app, previous(migration), verbosity=0)  # noqa: B023

        lock = lock_taken(url, tables[0], plain)
        back()
        cost = _measure(url, migration, "plain", tables, plain)
        costs.append(_with_lock(cost, lock))

        variant = concurrent_variant(migration)
        if variant is not None:
            back()
            lock = lock_taken(url, tables[0], lambda: _apply(variant))  # noqa: B023
            _apply(variant, backwards=True)
            cost = _measure(url, migration, "concurrent", tables, lambda: _apply(variant))  # noqa: B023
            costs.append(_with_lock(cost, lock))
            _apply(variant, backwards=True)
            plain()
    return costs


def _with_lock(cost: MigrationCost, lock: str | None) -> MigrationCost:
    from dataclasses import replace

    return replace(cost, lock=lock or "none")
