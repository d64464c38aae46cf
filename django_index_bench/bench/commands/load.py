"""`bench load`: the endpoints under load, before and after, on gunicorn driven by locust.

Exit status: 0 measured, 1 the load step failed (recorded in the results file), 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from django_index_bench.bench.config import ProjectConfig
from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.load import bursts as plan
from django_index_bench.bench.load.endpoints import select
from django_index_bench.bench.load.execute import LoadCommand, execute
from django_index_bench.bench.load.gunicorn import default_workers
from django_index_bench.bench.load.measure import LoadConfig
from django_index_bench.bench.options import (
    add_config_argument,
    add_database_arguments,
    add_reseed_arguments,
    positive_int,
    project_config,
    seconds,
    targets,
)
from django_index_bench.bench.seeding import add_seed_arguments, check_args, rows_from_args
from django_index_bench.bench.steps.states import parse_target

NAME = "load"
HELP = (
    "Serve the project with gunicorn on loopback and drive its endpoints with locust, before and after, "
    "at several concurrency levels; write a results file and the load report."
)
DEFAULT_RESULTS = Path("results") / "load"
DEFAULT_OUTPUT = Path("report") / "load"
PRESETS = {"ab": plan.AB_PRESET}


def levels(text: str) -> tuple[int, ...]:
    """argparse type of --levels: comma-separated whole numbers (their range is checked later, with
    the rest of the input, as UsageError)."""
    try:
        return tuple(int(part.strip().replace("_", "")) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected concurrency levels like 1,10,100, got {text!r}") from None


def whole(text: str) -> int:
    try:
        return int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _target(text: str) -> tuple[str, str]:
    try:
        return parse_target(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the load step, shared with `bench run`."""
    group = parser.add_argument_group("load", "the endpoints under load (gunicorn + locust, loopback only)")
    group.add_argument(
        "--endpoint", action="append", default=[], metavar="NAME",
        help="drive only this endpoint (repeatable; default: every [[load.endpoints]] of the configuration)",
    )  # fmt: skip
    group.add_argument(
        "--levels", type=levels, default=None, metavar="N,N,...",
        help=f"concurrent users per level (default: {','.join(map(str, plan.DEFAULT_LEVELS))}; "
        f"--quick: {','.join(map(str, plan.QUICK_LEVELS))})",
    )  # fmt: skip
    group.add_argument(
        "--preset", choices=sorted(PRESETS), default=None,
        help="ab: the write-up's `ab -n 1000 -c 100`, 100 users sending 10 requests each per burst",
    )  # fmt: skip
    group.add_argument(
        "--pairs", type=whole, default=None,
        help=f"burst pairs per endpoint and level (default: {plan.DEFAULT_PAIRS}; "
        f"--quick: {plan.QUICK_PAIRS})",
    )  # fmt: skip
    group.add_argument(
        "--rounds", type=positive_int, default=None,
        help=f"requests per user per burst (default: {plan.DEFAULT_ROUNDS}, at least "
        f"{plan.MIN_REQUESTS} requests per burst)",
    )  # fmt: skip
    group.add_argument(
        "--burst-seconds", type=seconds, default=30.0,
        help="a burst stops sending after this long (default: %(default)s)",
    )  # fmt: skip
    group.add_argument(
        "--request-timeout", type=seconds, default=10.0,
        help="a request unanswered after this long is a timeout error (default: %(default)s)",
    )  # fmt: skip
    group.add_argument(
        "--workers", type=whole, default=default_workers(),
        help="gunicorn sync workers per server (default: one per CPU, %(default)s here)",
    )  # fmt: skip
    group.add_argument(
        "--port", type=whole, default=None,
        help="first of the consecutive loopback ports the servers listen on (default: free ones)",
    )  # fmt: skip


def load_config(
    args: argparse.Namespace, project: ProjectConfig, *, quick: bool, seed: int, progress: bool
) -> LoadConfig:
    preset = PRESETS.get(args.preset) if args.preset else None
    chosen_levels = args.levels or ((preset[0],) if preset else None)
    chosen_levels = chosen_levels or (plan.QUICK_LEVELS if quick else plan.DEFAULT_LEVELS)
    rounds = args.rounds if args.rounds is not None else (preset[1] if preset else plan.DEFAULT_ROUNDS)
    return LoadConfig(
        endpoints=select(project, tuple(args.endpoint)),
        levels=tuple(chosen_levels),
        pairs=args.pairs if args.pairs is not None else (plan.QUICK_PAIRS if quick else plan.DEFAULT_PAIRS),
        rounds=rounds,
        burst_seconds=args.burst_seconds,
        timeout_s=args.request_timeout,
        workers=args.workers,
        port=args.port,
        seed=seed,
        progress=progress,
        settings=project.settings,
        project_app=project.load.app,
        root=project.root,
        pythonpath=project.pythonpath,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    add_seed_arguments(parser)
    add_load_arguments(parser)
    add_database_arguments(parser)
    add_reseed_arguments(parser, refuse=False)
    parser.add_argument("--quick", action="store_true", help="fewer levels and pairs: checks that all runs")
    parser.add_argument(
        "--before", action="append", type=_target, default=[], metavar="APP=MIGRATION",
        help="the 'before' state of an app (repeatable; default: the configuration's states.before)",
    )  # fmt: skip
    parser.add_argument(
        "--results-dir", type=Path, default=DEFAULT_RESULTS, metavar="DIR",
        help="where the results file goes (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, metavar="DIR",
        help="where LOAD_REPORT.md and its charts go (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument("--keep-databases", action="store_true", help="keep the load step's copies")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def handle(args: argparse.Namespace) -> int:
    from django_index_bench.bench.options import writable_dir
    from django_index_bench.reports import load_section as load_report

    project = project_config(args)
    check_args(project, args)
    if not project.load.endpoints:
        raise UsageError(f"{project.path} has no [[load.endpoints]]: nothing to drive (README: 'Under load')")
    config = load_config(args, project, quick=args.quick, seed=args.seed, progress=not args.no_progress)
    writable_dir(args.output)
    run, path = execute(
        LoadCommand(
            project=project,
            profile=args.profile,
            seed=args.seed,
            rows=rows_from_args(args),
            load=config,
            results_dir=args.results_dir,
            command="bench " + " ".join(sys.argv[1:]),
            database=args.database,
            before=targets(args.before),
            allow_foreign=args.allow_foreign_database,
            force_seed=args.force_seed,
            wait=not args.no_wait,
            keep_databases=args.keep_databases,
        )
    )
    print(f"results: {path}")
    written = load_report.render_load(run, args.output, claims_path=project.claims)
    print(f"report: {written.report}")
    print(f"charts: {', '.join(str(c) for c in written.charts) or 'none'}")
    assert run.load is not None
    if not run.load.ok:
        print(f"failed: load step: {run.load.error}", file=sys.stderr)
        return 1
    return 0
