"""`bench run`: seed (reusing data when it can), measure before and after interleaved, write results.

Exit status: 0 everything measured, 1 something failed (a migration, a scenario, the connection), 2 bad
input. Every failure is printed and recorded in the results file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from django_index_bench.bench.commands.load import add_load_arguments, load_config
from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.options import (
    add_config_argument,
    add_database_arguments,
    add_no_confirm_argument,
    add_reseed_arguments,
    copies,
    positive_int,
    project_config,
    seconds,
    targets,
    threshold,
)
from django_index_bench.bench.pg.db import first_line
from django_index_bench.bench.results import Results
from django_index_bench.bench.rounds.copies import MAX_COPIES, MIN_COPIES, SMALL_DATABASE_BYTES
from django_index_bench.bench.rounds.schedule import QUICK, Rules
from django_index_bench.bench.seeding import add_seed_arguments, rows_from_args
from django_index_bench.bench.steps import stopwatch
from django_index_bench.bench.steps.run import LOST_SERVER, RunConfig, execute
from django_index_bench.bench.steps.states import parse_target
from django_index_bench.verdicts.defaults import MIN_VERDICT_PAIRS

NAME = "run"
HELP = "Seed, measure every scenario before and after the migrations, and write a results file."
DEFAULT_RESULTS = Path("results")


def _target(text: str) -> tuple[str, str]:
    try:
        return parse_target(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


SUFFIXES = {"k": 1_000, "m": 1_000_000}
MAX_SCALE = 100_000_000


def _scales(text: str) -> tuple[int, ...]:
    """argparse type for --scales: comma-separated row counts, with k/M suffixes (10k,100k,1M)."""
    counts: list[int] = []
    for part in text.split(","):
        token = part.strip().lower()
        factor = SUFFIXES.get(token[-1:], 1)
        number = token[:-1] if token[-1:] in SUFFIXES else token
        try:
            count = int(float(number) * factor)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"expected row counts like 10k,100k,1M, got {part!r}") from None
        if not 1_000 <= count <= MAX_SCALE:
            raise argparse.ArgumentTypeError(f"each scale must be 1k..100M rows, got {part!r}")
        counts.append(count)
    return tuple(sorted(set(counts)))


def _precision(text: str) -> float:
    """argparse type: '2%' (or 0.02) -> 0.02, read as a threshold is."""
    value = threshold(text)
    if not 0.001 <= value <= 0.5:
        raise argparse.ArgumentTypeError(f"expected 0.1% to 50%, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    add_seed_arguments(parser)
    add_database_arguments(parser)
    add_reseed_arguments(parser)
    parser.add_argument(
        "--no-seed",
        action="store_true",
        help="measure the database as it is (e.g. a copy of real data in DATABASE_URL): it is copied per "
        "state (CREATE DATABASE ... TEMPLATE) and only the copies are migrated; the original is never "
        "changed",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=DEFAULT_RESULTS,
        metavar="DIR",
        help="where results files go: NNNN_<run id>.json plus latest.json (default: %(default)s)",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="NAME",
        help="measure only this scenario (repeatable; default: all)",
    )
    parser.add_argument(
        "--before",
        action="append",
        type=_target,
        default=[],
        metavar="APP=MIGRATION",
        help="the 'before' state of an app (repeatable; default: the configuration's states.before); "
        "it replaces the whole configured before state, index-only steps (drop_indexes, create_indexes) "
        "included: the before side is exactly these migrations",
    )
    parser.add_argument(
        "--aa",
        action="store_true",
        help="an A/A run: both sides at the configuration's after state (its migrations and index steps), "
        "the data seeded as usual; what 'no change' looks like on this machine",
    )
    parser.add_argument(
        "--scales",
        type=_scales,
        default=(),
        metavar="ROWS,ROWS,...",
        help="also measure the scale scenarios with the configured [scales] tables at these sizes, each "
        "in its own database, for the scale curve (e.g. 10k,100k,1M; default: none)",
    )
    parser.add_argument(
        "--no-cold",
        action="store_true",
        help="skip the cold-cache series (shared buffers evicted each round)",
    )
    parser.add_argument(
        "--no-costs",
        action="store_true",
        help="skip what the indexes cost: migration time, locks and write stalls, sizes, write slowdown",
    )
    timing = parser.add_mutually_exclusive_group()
    timing.add_argument(
        "--seconds",
        type=seconds,
        default=Rules().seconds,
        help="time budget of one item (a scenario's case, both sides paired): it stops when the budget "
        f"is spent and it has its minimum of {Rules().min_pairs} pairs, or, when its rounds are slow, "
        f"{MIN_VERDICT_PAIRS} pairs (default: %(default)s)",
    )
    timing.add_argument("--quick", action="store_true", help="a few pairs only: checks that all runs")
    parser.add_argument(
        "--precision",
        type=_precision,
        default=Rules().precision,
        metavar="PCT",
        help="stop pairing an item once the 95%% interval of its median before/after ratio is within "
        "this much of it, end to end and in database time (default: 2%%)",
    )
    parser.add_argument(
        "--sensitivity",
        type=positive_int,
        default=0,
        metavar="TRIALS",
        help="also measure what this machine can detect: A/A trials and trials with 2, 5, 10 and 20 %% "
        "slowdowns injected, TRIALS each, per scenario class; the report states the result (default: off)",
    )
    parser.add_argument(
        "--keep-databases",
        action="store_true",
        help="keep the run's copies of the database (one per state) afterwards, for inspection",
    )
    parser.add_argument(
        "--copies",
        type=copies,
        default=None,
        metavar="N",
        help=f"database copies per state, {MIN_COPIES} to {MAX_COPIES}, the pairs spread over them, each "
        f"with its own connections (default: {MAX_COPIES} when the data is at most "
        f"{SMALL_DATABASE_BYTES // 1024**2} MB, else {MIN_COPIES})",
    )
    add_no_confirm_argument(
        parser, what="report a case faster or slower (end to end or in database time, warm or cold)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument(
        "--no-load",
        action="store_true",
        help="skip the load step (the endpoints on gunicorn, driven by locust; see `bench load --help`)",
    )
    add_load_arguments(parser)


def handle(args: argparse.Namespace) -> int:
    results_dir: Path = args.results_dir
    if results_dir.exists() and not results_dir.is_dir():
        raise UsageError(f"--results-dir {results_dir} exists and is not a directory")
    rules = (
        QUICK
        if args.quick
        else Rules(seconds=args.seconds, precision=args.precision, floor_pairs=MIN_VERDICT_PAIRS)
    )
    project = project_config(args)
    load = None
    if not args.no_load and (project.load.endpoints or args.endpoint):
        load = load_config(args, project, quick=args.quick, seed=args.seed, progress=not args.no_progress)
    config = RunConfig(
        project=project,
        profile=args.profile,
        seed=args.seed,
        rows=rows_from_args(args),
        results_dir=results_dir,
        command="bench " + " ".join(sys.argv[1:]),
        database=args.database,
        scenarios=tuple(args.scenario),
        before=targets(args.before),
        rules=rules,
        cold=not args.no_cold,
        costs=not args.no_costs,
        scales=args.scales,
        allow_foreign=args.allow_foreign_database,
        force_seed=args.force_seed,
        no_seed=args.no_seed,
        reseed=not args.no_reseed,
        aa=args.aa,
        wait=not args.no_wait,
        keep_databases=args.keep_databases,
        sensitivity_trials=args.sensitivity,
        progress=not args.no_progress,
        load=load,
        copies=args.copies,
        confirm=not args.no_confirm,
    )
    try:
        run, path = execute(config)
    except LOST_SERVER as exc:
        # The server went away mid-run: no results file claims to be complete.
        print(f"bench: error: {first_line(exc)}; no results written", file=sys.stderr)
        return 1
    print(f"results: {path}")
    for line in stopwatch.lines(run.steps):
        print(line)
    problems = report_failures(run)
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


def report_failures(run: Results) -> list[str]:
    """One line per failed state change, measurement and step, as the user should read them."""
    lines = [f"failed: state {s.state} in {s.database}: {s.error}" for s in run.states if not s.ok]
    for series, measurements in (("", run.measurements), (" (cold)", run.cold)):
        lines += [
            f"failed: {m.scenario}[{m.case}] {m.side}{series}: {m.error}" for m in measurements if not m.ok
        ]
    for scale in run.scales:
        rows = max(scale.counts.values(), default=0)
        lines += [
            f"failed: {m.scenario}[{m.case}] {m.side} at {rows:,} rows: {m.error}"
            for m in scale.measurements
            if not m.ok
        ]
    if run.costs is not None and not run.costs.ok:
        lines.append(f"failed: costs: {run.costs.error}")
    if run.costs is not None:
        lines += [f"failed: costs: {f.figure}: {f.error}" for f in run.costs.failures]
    if run.confirmation is not None:
        lines += [
            f"failed: confirm: {i.scenario}[{i.case}]{' (cold)' if i.cache == 'cold' else ''}: {i.error}"
            for i in run.confirmation.items
            if i.error
        ]
    if run.load is not None and not run.load.ok:
        lines.append(f"failed: load step: {run.load.error}")
    return lines
