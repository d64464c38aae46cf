"""What to seed, as the project's configuration and the command line say: the seed option group (defined
once, shared by every command that seeds) and the seed source it builds.

A project seeds either from a declarative plan (seed/plan.py) or through a hook of its own, a function
`(profile, seed, rows) -> Source` (django_index_bench.seed.source), named in bench.toml's seed.hook.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, cast

from django_index_bench.bench.config import ConfigError, ProjectConfig, SeedSpec
from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.options import nonempty
from django_index_bench.bench.options import seed as seed_value
from django_index_bench.seed.inputs import DEFAULT_PROFILE, DEFAULT_SEED

if TYPE_CHECKING:
    from django.apps.registry import Apps

    from django_index_bench.bench.pg import db
    from django_index_bench.seed.copying import Owner
    from django_index_bench.seed.source import Source

MAX_ROWS = 500_000_000
Hook = Callable[[str | None, int, Mapping[str, int]], "Source"]


def _rows(text: str) -> tuple[str, int]:
    """argparse type of --rows TABLE=N."""
    table, sep, number = text.partition("=")
    try:
        value = int(number.replace("_", ""))
    except ValueError:
        value = 0
    if not sep or not table or not 1 <= value <= MAX_ROWS:
        raise argparse.ArgumentTypeError(f"expected TABLE=N with N from 1 to {MAX_ROWS:,}, got {text!r}")
    return table, value


def add_seed_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data", "what to seed (the same seed and counts give identical tables)")
    group.add_argument(
        "--profile",
        type=nonempty,
        default=None,
        help="a profile of the project's seeder: a seed plan names its own in [profiles], a seed hook "
        f"knows its own (default: {DEFAULT_PROFILE})",
    )
    group.add_argument(
        "--seed", type=seed_value, default=DEFAULT_SEED, help="random seed (default: %(default)s)"
    )
    group.add_argument(
        "--rows",
        type=_rows,
        action="append",
        default=[],
        metavar="TABLE=N",
        help="override one table's row count (repeatable)",
    )


def rows_from_args(args: argparse.Namespace) -> dict[str, int]:
    return dict(args.rows)


def _spec(project: ProjectConfig) -> SeedSpec:
    spec = project.seed
    if spec.plan is None and spec.hook is None:
        raise ConfigError(
            f"{project.path}: seed: missing; name a seed plan (seed.plan) or hook (seed.hook), "
            "or pass --no-seed to measure a database as it is"
        )
    return spec


def check_options(project: ProjectConfig, profile: str | None, seed: int, rows: Mapping[str, int]) -> None:
    """Before Django is set up and any database is touched: what the seed options and the plan file can
    be checked for alone (a profile the plan lacks, counts the seeder refuses, a plan that is not TOML)."""
    spec = _spec(project)
    if spec.plan is None:
        from django.core.exceptions import AppRegistryNotReady, ImproperlyConfigured

        # The sample's hook is pure until its source draws; one that needs the models is checked once
        # Django is set up (source_for).
        with contextlib.suppress(AppRegistryNotReady, ImproperlyConfigured):
            _hook(project)(profile, seed, rows)
        return
    from django_index_bench.seed import plan as plans

    plans.check_profile(plans.read_plan(spec.plan), profile)


def source_for(
    project: ProjectConfig,
    profile: str | None,
    seed: int,
    rows: Mapping[str, int],
    state: Mapping[str, str] | None = None,
) -> Source:
    """The seed source the project's configuration names, checked against the models (Django must be set
    up) as they are at the schema `state` the rows are loaded at (app -> migration; None: today's
    classes): a column that exists only later is left to the migrations, as in production. A plan's
    profile defaults to its `default` profile when it has one, else its rows as written."""
    spec = _spec(project)
    if spec.plan is None:
        return _hook(project)(profile, seed, rows)
    from django_index_bench.seed import plan as plans
    from django_index_bench.seed import plan_source

    registry = models_at(state) if state is not None else None
    parsed = plans.read_plan(spec.plan)
    plan_source.check(parsed, registry)
    if profile is None and DEFAULT_PROFILE in parsed.profiles:
        profile = DEFAULT_PROFILE
    return plan_source.source(parsed, profile, seed, rows, registry)


def models_at(state: Mapping[str, str]) -> Apps:
    """The project's models as its migrations leave them at `state` (Django's migration state); reads
    the migration files only, not the database."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    return loader.project_state(list(state.items())).apps


def _hook(project: ProjectConfig) -> Hook:
    from django.core.exceptions import AppRegistryNotReady, ImproperlyConfigured

    module_name, _, function = str(project.seed.hook).partition(":")
    try:
        module = importlib.import_module(module_name)
    except (AppRegistryNotReady, ImproperlyConfigured):
        raise
    except Exception as exc:
        raise ConfigError(
            f"{project.path}: seed.hook: cannot import {module_name!r}: {type(exc).__name__}: {exc}"
        ) from None
    hook = getattr(module, function, None)
    if not callable(hook):
        raise ConfigError(f"{project.path}: seed.hook: {module_name} has no function {function!r}")
    return cast(Hook, hook)


def source_from_args(
    project: ProjectConfig, args: argparse.Namespace, state: Mapping[str, str] | None = None
) -> Source:
    return source_for(project, args.profile, args.seed, rows_from_args(args), state)


def check_args(project: ProjectConfig, args: argparse.Namespace) -> None:
    check_options(project, args.profile, args.seed, rows_from_args(args))


def owner_of(project: ProjectConfig) -> Owner:
    """The project as a seed marker records it: its configuration file, its seed plan or hook, and its
    Django apps (Django is set up)."""
    from django.apps import apps

    from django_index_bench.seed.copying import Owner

    spec = project.seed
    plan = str(spec.plan) if spec.plan is not None else f"hook {spec.hook}"
    return Owner(str(project.path), plan, tuple(sorted(c.label for c in apps.get_app_configs())))


def claim(target: db.Target, ours: Owner, *, replace: bool) -> None:
    """One database, one project: a database another project seeded (other Django apps: a copy of this
    project elsewhere is the same project) is refused with one line naming both, before anything
    changes; with `replace` (--force-seed, bench seed --force) its tables are dropped, so this project's
    migrations and seeder start from an empty schema. A database whose marker names no project (seeded
    before projects were recorded) counts as another project's when its migration history names apps
    this project does not have."""
    from django_index_bench.seed.copying import Owner, owner

    theirs = owner(target.url)
    if theirs is None:
        strangers = _foreign_apps(target.url)
        if not strangers:
            return
        theirs = Owner(f"a project with apps {', '.join(strangers)}", "unknown", tuple(strangers))
    if theirs.apps == ours.apps:
        return
    if not replace:
        raise UsageError(
            f"database {target.name} holds the data of {theirs.project} (seeded from {theirs.plan}); this is "
            f"{ours.project}: pass --force-seed (bench seed: --force) to empty it and seed it for this "
            "project, or use another database (--database NAME)"
        )
    _drop_tables(target.url)


def _foreign_apps(url: str) -> list[str]:
    """Apps the database's migration history names that this project (Django is set up) does not have."""
    import psycopg
    from django.apps import apps

    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('django_migrations')").fetchone() in (None, (None,)):
            return []
        rows = conn.execute("SELECT DISTINCT app FROM django_migrations ORDER BY 1").fetchall()
    ours = {config.label for config in apps.get_app_configs()}
    return [str(app) for (app,) in rows if app not in ours]


def _drop_tables(url: str) -> None:
    """Every table of the database's schema, with what depends on them (sequences, views)."""
    import psycopg
    from django.db import connection
    from psycopg import sql

    connection.close()
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            str(name)
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
            ).fetchall()
        ]
        if tables:
            conn.execute(
                sql.SQL("DROP TABLE {} CASCADE").format(sql.SQL(", ").join(map(sql.Identifier, tables)))
            )
