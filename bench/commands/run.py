"""`bench run`: seed (reusing data when it can), measure before, migrate, measure after, write results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.errors import UsageError
from bench.measure import QUICK, Budget
from bench.runner import RunConfig, execute
from bench.states import parse_target
from seed.cli_options import add_seed_arguments, request_from_args

NAME = "run"
HELP = "Seed, measure every scenario before and after the migrations, and write a results file."
DEFAULT_RESULTS = Path("results")


def _target(text: str) -> tuple[str, str]:
    try:
        return parse_target(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError(f"expected 0 < seconds <= 600, got {text!r}")
    return value


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
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected row counts like 10k,100k,1M, got {part!r}") from None
        if not 1_000 <= count <= MAX_SCALE:
            raise argparse.ArgumentTypeError(f"each scale must be 1k..100M rows, got {part!r}")
        counts.append(count)
    return tuple(sorted(set(counts)))


def _blocks(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 10:
        raise argparse.ArgumentTypeError(f"expected 1 to 10 blocks, got {text!r}")
    return int(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_seed_arguments(parser)
    parser.add_argument(
        "--database",
        metavar="NAME",
        help="the harness database to use on the server (created and marked when missing; default: bench, "
        "or the one named in DATABASE_URL)",
    )
    parser.add_argument(
        "--allow-foreign-database",
        action="store_true",
        help="allow migrating and re-seeding a database the harness did not create (destroys its data)",
    )
    parser.add_argument("--force-seed", action="store_true", help="re-seed even when the data matches")
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
        help="the 'before' state of an app (repeatable; default: attendance=0030 journal=0015); "
        "'after' is each app's latest migration",
    )
    parser.add_argument(
        "--scales",
        type=_scales,
        default=(),
        metavar="ROWS,ROWS,...",
        help="also measure the main scenarios at these tracking/journal sizes, each in its own "
        "database, for the scale curve (e.g. 10k,100k,1M; default: none)",
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
        type=_seconds,
        default=Budget().seconds,
        help="time budget per measurement, within its bounds on rounds (default: %(default)s)",
    )
    timing.add_argument("--quick", action="store_true", help="a few rounds only: checks that all runs")
    parser.add_argument(
        "--blocks",
        type=_blocks,
        default=RunConfig.blocks,
        help="alternate before and after this many times, spreading each measurement's rounds over "
        "them, so drift in machine load does not read as an effect (default: %(default)s)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def handle(args: argparse.Namespace) -> int:
    results_dir: Path = args.results_dir
    if results_dir.exists() and not results_dir.is_dir():
        raise UsageError(f"--results-dir {results_dir} exists and is not a directory")
    config = RunConfig(
        request=request_from_args(args),
        results_dir=results_dir,
        command="bench " + " ".join(sys.argv[1:]),
        database=args.database,
        scenarios=tuple(args.scenario),
        before=dict(args.before),
        budget=QUICK if args.quick else Budget(seconds=args.seconds),
        cold=not args.no_cold,
        costs=not args.no_costs,
        scales=args.scales,
        blocks=args.blocks,
        allow_foreign=args.allow_foreign_database,
        force_seed=args.force_seed,
        progress=not args.no_progress,
    )
    run, path = execute(config)
    failed = [m for m in run.measurements if not m.ok]
    print(f"results: {path}")
    for measurement in failed:
        print(
            f"failed: {measurement.scenario}[{measurement.case}] {measurement.side}: {measurement.error}",
            file=sys.stderr,
        )
    return 1 if failed else 0
