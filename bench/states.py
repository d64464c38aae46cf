"""Migration states, read from Django's migration graph, and moving the database between them."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.exceptions import AmbiguityError
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.migration import Migration
from django.db.migrations.recorder import MigrationRecorder

from bench.errors import UsageError
from bench.results import StateChange

# The change under test: the "before" heads. "after" is each app's latest migration.
DEFAULT_BEFORE = {"attendance": "0030", "journal": "0015"}


@dataclass(frozen=True)
class State:
    name: str
    targets: dict[str, str]  # app label -> full migration name


def parse_target(text: str) -> tuple[str, str]:
    """argparse type for APP=MIGRATION (a migration name or its unique prefix)."""
    app, sep, migration = text.partition("=")
    if not sep or not app or not migration:
        raise ValueError(f"expected APP=MIGRATION, got {text!r}")
    return app, migration


def resolve_states(before: Mapping[str, str] | None = None) -> tuple[State, State]:
    """Full migration names for "before" (as given, by prefix) and "after" (each app's leaf)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    wanted = dict(before or DEFAULT_BEFORE)
    before_targets: dict[str, str] = {}
    after_targets: dict[str, str] = {}
    for app, prefix in wanted.items():
        if app not in loader.migrated_apps:
            raise UsageError(f"unknown app {app!r}; migrated apps: {', '.join(sorted(loader.migrated_apps))}")
        try:
            migration = loader.get_migration_by_prefix(app, prefix)
        except AmbiguityError:
            raise UsageError(f"migration prefix {app}={prefix} is ambiguous; give more of its name") from None
        except KeyError:
            raise UsageError(f"app {app!r} has no migration starting with {prefix!r}") from None
        before_targets[app] = migration.name
        leaves = loader.graph.leaf_nodes(app)
        if len(leaves) != 1:
            raise UsageError(f"app {app!r} has {len(leaves)} leaf migrations; merge them first")
        after_targets[app] = leaves[0][1]
    return State("before", before_targets), State("after", after_targets)


def move_to(state: State) -> StateChange:
    """Migrate each app to its target, then ANALYZE, timing both; a migration that fails raises."""
    change = reach(state)
    if not change.ok:
        raise MigrationFailed(change.error or "a migration failed")
    return change


class MigrationFailed(Exception):
    """A state could not be reached; the message names the migration and the database's error."""


def _step(migration: Migration, backwards: bool) -> str:
    return f"{'-' if backwards else ''}{migration.app_label}.{migration.name}"


def _failed_step(plan: list[tuple[Migration, bool]]) -> str:
    """The first step of the plan the database did not take: the one that failed."""
    applied = MigrationRecorder(connection).applied_migrations()
    for migration, backwards in plan:
        if ((migration.app_label, migration.name) in applied) == backwards:
            return _step(migration, backwards)
    return "(none: every step was recorded)"


def reach(state: State) -> StateChange:
    """Move the current database to `state` with Django's migrate, then ANALYZE. A failure is recorded
    in the StateChange (status "failed", the migration and the error), not raised."""
    executor = MigrationExecutor(connection)
    targets = list(state.targets.items())
    plan = executor.migration_plan(targets)
    steps = tuple(_step(m, backwards) for m, backwards in plan)
    database = str(connection.settings_dict["NAME"])
    started = time.perf_counter()
    try:
        for app, migration in targets:
            call_command("migrate", app, migration, verbosity=0, interactive=False)
    except Exception as exc:
        text = str(exc).strip().splitlines()
        error = f"migration {_failed_step(plan)} failed: {type(exc).__name__}: {text[0] if text else ''}"
        return StateChange(
            state=state.name,
            database=database,
            targets=dict(state.targets),
            migrations=steps,
            migrate_seconds=time.perf_counter() - started,
            analyze_seconds=0.0,
            status="failed",
            error=error,
        )
    migrated = time.perf_counter()
    # Fresh statistics after every move: the planner must see the indexes and the data as they are now.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    analyzed = time.perf_counter()
    settle()
    return StateChange(
        state=state.name,
        database=database,
        targets=dict(state.targets),
        migrations=steps,
        migrate_seconds=migrated - started,
        analyze_seconds=analyzed - migrated,
    )


def settle() -> None:
    """Flush what the migration dirtied now, rather than have the checkpointer do it mid-measurement."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:
        pass  # CHECKPOINT needs superuser or pg_checkpoint; without it the run is only noisier


def ensure_schema(before: State) -> bool:
    """Create the project's tables when missing, at `before`: fewer indexes to build while seeding.

    True when it created them.
    """
    if "tracking" in connection.introspection.table_names():
        return False
    for app, migration in before.targets.items():
        call_command("migrate", app, migration, verbosity=0, interactive=False)
    return True
