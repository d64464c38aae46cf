"""`bench seed`: fill the harness database with deterministic, skewed data (reused when it matches)."""

from __future__ import annotations

import argparse

from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.options import (
    add_config_argument,
    add_database_arguments,
    add_reseed_arguments,
    project_config,
)
from django_index_bench.bench.pg import clones, db
from django_index_bench.bench.pg import run_lock as locks
from django_index_bench.bench.seeding import add_seed_arguments, check_args, source_from_args
from django_index_bench.bench.steps.run import prepare
from django_index_bench.bench.steps.states import ensure_schema, resolve_states, schema_state
from django_index_bench.seed.source import Source

NAME = "seed"
HELP = "Fill the harness database with the project's rows, from its seed plan or hook (COPY, deterministic)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    add_seed_arguments(parser)
    parser.add_argument(
        "--measure",
        action="store_true",
        help="benchmark the seeder instead: the same rows of the largest table by raw COPY, by the seeder "
        "and by Django bulk_create (on a sample), with their ratios; then the whole profile seeded into "
        "scratch copies with keys and indexes rebuilt one at a time and in parallel, phase by phase; "
        "nothing is kept",
    )
    add_database_arguments(parser)
    add_reseed_arguments(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def handle(args: argparse.Namespace) -> int:
    project = project_config(args)
    # Before any database work: a contradiction in the options or the plan file is refused now.
    check_args(project, args)
    if args.force_seed and args.no_reseed:
        raise UsageError("--force-seed re-seeds and --no-reseed never does: choose one")
    target = db.resolve(args.database)
    db.guard(target, allow_foreign=args.allow_foreign_database)
    db.setup_django(target, project)
    before = resolve_states(project.before, project.after, where=f"{project.path}: states")[0]
    source = source_from_args(project, args, schema_state(before))
    if args.measure:
        ensure_schema(before)
        return _measure(target, source)
    # One seed or run at a time: two seeders truncating and loading the same tables corrupt each other.
    with locks.hold(clones.maintenance_url(target), target.name, purpose="bench seed", wait=not args.no_wait):
        outcome = prepare(
            target,
            source,
            before,
            force=args.force_seed,
            progress=not args.no_progress,
            reseed=not args.no_reseed,
            project=project,
        )
    if outcome.reused:
        print(
            f"reused: {target.name} already holds seed {source.seed} at these counts, seeded at this "
            f"before state ({outcome.fingerprint})"
        )
        return 0
    print(f"{'table':<22}{'rows':>12}{'seconds':>10}{'rows/s':>12}")
    for load in outcome.tables:
        print(f"{load.table:<22}{load.rows:>12,}{load.seconds:>10.2f}{load.rows_per_s:>12,.0f}")
    for phase, seconds in outcome.phases:
        print(f"{phase:<34}{seconds:>10.2f}")
    rows = sum(load.rows for load in outcome.tables)
    print(f"{'total':<22}{rows:>12,}{outcome.seconds:>10.2f}{rows / outcome.seconds:>12,.0f}")
    return 0


def _measure(target: db.Target, source: Source) -> int:
    from django.db import connection

    from django_index_bench.seed import SeedOutcome
    from django_index_bench.seed.measure import phases, three_ways, whole_request
    from django_index_bench.seed.rebuild import MODES, Mode

    ways = three_ways(target.url, source)
    fastest = ways[0].rows_per_s
    print(f"{'way':<44}{'rows':>12}{'seconds':>10}{'rows/s':>12}{'vs raw COPY':>13}")
    for way in ways:
        ratio = fastest / way.rows_per_s
        print(f"{way.name:<44}{way.rows:>12,}{way.seconds:>10.2f}{way.rows_per_s:>12,.0f}{ratio:>12.1f}x")

    connection.close()  # the copies' template must have no other session
    tag = clones.run_tag()
    outcomes: dict[Mode, SeedOutcome] = {}
    for mode in MODES:  # one at a time first, each in its own copy, made and dropped around it
        name = clones.name_for(target, tag, f"seed_{mode.split()[0]}")
        try:
            scratch = clones.clone(target, name)
            outcomes |= whole_request({mode: scratch.url}, source)
        finally:
            clones.drop(target, name)
    rows = sum(t.rows for t in next(iter(outcomes.values())).tables)
    print(f"\nthe whole profile, {rows:,} rows, seeded into a scratch copy; keys and indexes rebuilt:")
    print(f"{'phase (seconds)':<44}" + "".join(f"{mode:>16}" for mode in outcomes))
    table = {mode: phases(outcome) for mode, outcome in outcomes.items()}
    for i, (phase, _) in enumerate(next(iter(table.values()))):
        print(f"{phase:<44}" + "".join(f"{table[mode][i][1]:>16.2f}" for mode in outcomes))
    print(f"{'total':<44}" + "".join(f"{o.seconds:>16.2f}" for o in outcomes.values()))
    first = next(iter(outcomes.values())).seconds
    print(
        f"{'speed-up over ' + MODES[0]:<44}"
        + "".join(f"{first / o.seconds:>15.2f}x" for o in outcomes.values())
    )
    return 0
