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
from psycopg import sql

from django_index_bench.bench.config import StateSpec
from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.results import Maintenance, StateChange


@dataclass(frozen=True)
class State:
    name: str
    targets: dict[str, str]  # app label -> full migration name, for the apps the states name
    drop_indexes: tuple[str, ...] = ()  # then dropped: "the latest schema without this index"
    create_indexes: tuple[str, ...] = ()  # then created: "the latest schema with this index too"


def parse_target(text: str) -> tuple[str, str]:
    """argparse type for APP=MIGRATION (a migration name or its unique prefix)."""
    app, sep, migration = text.partition("=")
    if not sep or not app or not migration:
        raise ValueError(f"expected APP=MIGRATION, got {text!r}")
    return app, migration


def _migration(loader: MigrationLoader, app: str, prefix: str, where: str) -> str:
    """The full name of app's migration by prefix; resolve_states has checked the app exists."""
    try:
        return str(loader.get_migration_by_prefix(app, prefix).name)
    except AmbiguityError:
        raise UsageError(
            f"{where}: migration prefix {app}={prefix} is ambiguous; give more of its name"
        ) from None
    except KeyError:
        raise UsageError(f"{where}: app {app!r} has no migration starting with {prefix!r}") from None


def _leaf(loader: MigrationLoader, app: str) -> str:
    leaves = loader.graph.leaf_nodes(app)
    if len(leaves) != 1:
        raise UsageError(f"app {app!r} has {len(leaves)} leaf migrations; merge them first")
    return str(leaves[0][1])


def resolve_states(
    before: StateSpec, after: StateSpec, override: Mapping[str, str] | None = None, *, where: str = "states"
) -> tuple[State, State]:
    """Full migration names for both states. Every app either state names gets a target in both: the
    given migration (by unique prefix), else its latest. `override` (--before) replaces the before
    state's migrations and drops its index steps: the before side is exactly what it names. Apps
    neither names stay at their latest migration."""
    loader = _loader(where)
    wanted_before = dict(override) if override else dict(before.migrations)
    where_before = "--before" if override else f"{where}.before.migrations"
    apps = sorted(set(wanted_before) | set(after.migrations))
    for named, label in ((wanted_before, where_before), (after.migrations, f"{where}.after.migrations")):
        unknown = sorted(set(named) - set(loader.migrated_apps))
        if unknown:
            known = ", ".join(sorted(loader.migrated_apps))
            raise UsageError(f"{label}: unknown app {unknown[0]!r}; migrated apps: {known}")
    states = []
    for name, wanted, spec, label in (
        ("before", wanted_before, before, where_before),
        ("after", after.migrations, after, f"{where}.after.migrations"),
    ):
        targets = {
            app: _migration(loader, app, wanted[app], label) if app in wanted else _leaf(loader, app)
            for app in apps
        }
        if name == "before" and override:
            # --before names the before state whole: the configured index steps are not silently kept.
            states.append(State(name, targets))
        else:
            states.append(State(name, targets, spec.drop_indexes, spec.create_indexes))
    return states[0], states[1]


def _loader(where: str) -> MigrationLoader:
    """Django's migration graph; a migration module that does not import is one line, not a traceback."""
    try:
        return MigrationLoader(None, ignore_no_migrations=True)
    except Exception as exc:
        text = str(exc).strip().splitlines()
        raise UsageError(
            f"{where}: the migrations do not load: {type(exc).__name__}: {text[0] if text else ''}"
        ) from None


def others(state: State) -> dict[str, str]:
    """The latest migration of every migrated app the state does not name: the rest of the project."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {app: _leaf(loader, app) for app in sorted(loader.migrated_apps) if app not in state.targets}


def move_to(state: State) -> StateChange:
    """Migrate each app to its target, then VACUUM (ANALYZE), timing both; a migration that fails raises."""
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


def drop_index(name: str, *, concurrently: bool = False) -> str:
    """DROP INDEX of a name from configuration or the catalog: an identifier, quoted by psycopg, so a name
    holding `"` or `;` is an index nobody has, never more SQL."""
    verb = sql.SQL("DROP INDEX CONCURRENTLY {}" if concurrently else "DROP INDEX {}")
    return verb.format(sql.Identifier(name)).as_string(None)


def _index_steps(state: State) -> list[str]:
    # create_indexes entries were parsed as exactly one CREATE INDEX each when the config was read.
    return [drop_index(name) for name in state.drop_indexes] + list(state.create_indexes)


def _failed(state: State, database: str, steps: tuple[str, ...], started: float, error: str) -> StateChange:
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


def reach(state: State) -> StateChange:
    """Move the current database to `state`: the rest of the project to its latest migrations, the
    named apps to their targets (Django's migrate), then the state's index changes, then VACUUM (ANALYZE).
    A failure is recorded in the StateChange (status "failed", the step and the error), not raised."""
    executor = MigrationExecutor(connection)
    targets = [*others(state).items(), *state.targets.items()]
    plan = executor.migration_plan(targets)
    sql_steps = _index_steps(state)
    steps = (*(_step(m, backwards) for m, backwards in plan), *sql_steps)
    database = str(connection.settings_dict["NAME"])
    storage = _storage()
    started = time.perf_counter()
    try:
        for app, migration in targets:
            call_command("migrate", app, migration, verbosity=0, interactive=False)
    except Exception as exc:
        error = f"migration {_failed_step(plan)} failed: {_error_text(exc)}"
        return _failed(state, database, steps, started, error)
    for statement in sql_steps:
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement)
        except DatabaseError as exc:
            return _failed(state, database, steps, started, f"{statement} failed: {_error_text(exc)}")
    migrated = time.perf_counter()
    rewritten = _rewritten(storage)
    # After every move, the physical state a production table has once autovacuum has passed: fresh
    # statistics, and the visibility map back on tables a migration rewrote (an empty one turns an
    # index-only scan into heap fetches or a sequential scan). Seeded tables are all-visible and frozen,
    # so VACUUM skips their pages: cheap on the tables no migration touched.
    with connection.cursor() as cursor:
        cursor.execute(MAINTENANCE)
    analyzed = time.perf_counter()
    settle()
    return StateChange(
        state=state.name,
        database=database,
        targets=dict(state.targets),
        migrations=steps,
        migrate_seconds=migrated - started,
        analyze_seconds=analyzed - migrated,
        maintenance=MAINTENANCE,
        rewritten=rewritten,
    )


MAINTENANCE: Maintenance = "VACUUM (ANALYZE)"


def _storage() -> dict[int, tuple[str, int]]:
    """Each table of the current schema: oid -> (name, relfilenode); a rewrite gives it a new file."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT oid::bigint, relname::text, relfilenode::bigint FROM pg_class"
            " WHERE relkind IN ('r', 'm') AND relnamespace = current_schema()::regnamespace"
        )
        return {int(oid): (str(name), int(node)) for oid, name, node in cursor.fetchall()}


def _rewritten(before: dict[int, tuple[str, int]]) -> tuple[str, ...]:
    """The tables (by their name now) whose storage changed since `before` was taken."""
    now = _storage()
    return tuple(
        sorted(now[oid][0] for oid, (_, node) in before.items() if oid in now and now[oid][1] != node)
    )


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def settle() -> None:
    """Flush what the migration dirtied now, rather than have the checkpointer do it mid-measurement."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:
        pass  # CHECKPOINT needs superuser or pg_checkpoint; without it the run is only noisier


def schema_state(state: State) -> dict[str, str]:
    """Every migrated app's migration at `state` (its index-only steps are applied to copies only)."""
    return {**others(state), **state.targets}


def steps_to(state: State) -> list[str]:
    """The migrations the database is away from `state` ("-app.name": one to unapply); [] when it is
    there. Asked of the current database's django_migrations."""
    executor = MigrationExecutor(connection)
    return [
        _step(m, backwards) for m, backwards in executor.migration_plan(list(schema_state(state).items()))
    ]


def ensure_schema(before: State) -> bool:
    """Create the project's tables when the database has none, at `before`'s migrations: fewer indexes
    to build while seeding. True when it created them."""
    if MigrationRecorder(connection).applied_migrations():
        return False
    for app, migration in [*others(before).items(), *before.targets.items()]:
        call_command("migrate", app, migration, verbosity=0, interactive=False)
    return True
