"""`bench report [RESULTS.json] [--output DIR]`: the performance baseline report, from a results file only."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from django_index_bench.bench import config, results
from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.options import (
    add_config_argument,
    add_results_file_argument,
    threshold,
    writable_dir,
)
from django_index_bench.bench.steps import stopwatch
from django_index_bench.bench.suggest.results import FILE_NAME as SUGGESTIONS
from django_index_bench.verdicts.defaults import DEFAULT_THRESHOLD

if TYPE_CHECKING:
    from django_index_bench.bench.suggest.results import Suggestions

NAME = "report"
HELP = "Render PERFORMANCE_BASELINE_REPORT.md and its charts from a results file (no database needed)."

DEFAULT_OUTPUT = Path("report")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_results_file_argument(parser)
    parser.add_argument(
        "--output",
        metavar="DIR",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="where the report and charts/ go (default: %(default)s)",
    )
    parser.add_argument(
        "--threshold",
        type=threshold,
        default=DEFAULT_THRESHOLD,
        metavar="PERCENT",
        help="a change of the median smaller than this is no change, whatever its p-value: the run-to-run "
        f"noise of the machine (default: {DEFAULT_THRESHOLD * 100:.0f}%%)",
    )
    parser.add_argument(
        "--claims",
        metavar="CLAIMS.toml",
        type=Path,
        default=None,
        help="the claims to check (default: `claims` of the project's configuration, if any)",
    )
    parser.add_argument(
        "--suggestions",
        metavar="FILE",
        type=Path,
        default=None,
        help="bench suggest's results file, shown as the report's index-suggestions section (default: "
        f"{SUGGESTIONS} beside the results file, when there is one)",
    )
    parser.add_argument(
        "--no-suggestions", action="store_true", help="no index-suggestions section, whatever file exists"
    )
    add_config_argument(parser)


def _suggestions(args: argparse.Namespace) -> tuple[Suggestions, Path] | None:
    """The suggestions file named, else the one beside the results file if any. Read (and a bad one
    refused) before anything is written."""
    from django_index_bench.bench.suggest import results as suggested

    if args.suggestions is not None and args.no_suggestions:
        raise UsageError("--suggestions and --no-suggestions: give one of them")
    path: Path | None = args.suggestions
    if path is None and not args.no_suggestions:
        beside = args.results_file.parent / SUGGESTIONS
        path = beside if beside.is_file() else None
    return None if path is None else (suggested.load(path), path)


def handle(args: argparse.Namespace) -> int:
    from django_index_bench.reports import budgets, claims

    output: Path = args.output
    loaded = results.load(args.results_file)
    found = _suggestions(args)
    claims_path = args.claims or _configured_claims(args)
    if claims_path is not None:
        claims.load(claims_path)  # a bad claims file is refused before anything is written
        budgets.load(claims_path)  # and so are its budgets
    writable_dir(output)  # before rendering: charts take seconds, and a refusal must leave nothing
    # Imported only now: matplotlib and scipy take a second to import, which a refusal need not wait for.
    from django_index_bench.reports import render

    watch = stopwatch.Stopwatch()
    with watch.step("report"):
        written = render.render(
            loaded, output, claims_path=claims_path, threshold=args.threshold, suggested=found
        )
    print(f"report: {written.report}")
    if found is not None:
        print(f"suggestions: {found[1]}")
    print(f"charts: {len(written.charts)} in {written.report.parent / render.CHARTS_DIR}")
    # The run's own step lines end `bench run`; this one is the step that follows it (the results file
    # is only read here, never written).
    print(stopwatch.lines(watch.recorded())[0])
    return 0


def _configured_claims(args: argparse.Namespace) -> Path | None:
    """The report reads only results; the configuration just says where the claims are. Without one
    (a results file rendered outside its project), nothing is judged."""
    if args.config is None and config.find(Path.cwd().resolve()) is None:
        return None
    return config.load(args.config).claims
