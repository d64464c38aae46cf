"""`bench export [RESULTS.json] --pytest-benchmark FILE --bencher FILE`: a results file in the formats
benchmark-history tools read (reports/exports.py), from the results file only."""

from __future__ import annotations

import argparse
from pathlib import Path

from django_index_bench.bench import results
from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.options import add_results_file_argument, writable_dir

NAME = "export"
HELP = (
    "Write a results file as pytest-benchmark JSON (pytest-benchmark compare, github-action-benchmark, "
    "Bencher's python_pytest adapter) and/or Bencher Metric Format JSON."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_results_file_argument(parser)
    parser.add_argument(
        "--pytest-benchmark",
        metavar="FILE",
        type=Path,
        help="write pytest-benchmark JSON here: one benchmark per scenario, case and side",
    )
    parser.add_argument(
        "--bencher",
        metavar="FILE",
        type=Path,
        help="write Bencher Metric Format JSON here: latency, database-time, queries, shared-buffers",
    )


def handle(args: argparse.Namespace) -> int:
    wanted = {"--pytest-benchmark": args.pytest_benchmark, "--bencher": args.bencher}
    if not any(wanted.values()):
        raise UsageError("nothing to write: name a file with --pytest-benchmark FILE and/or --bencher FILE")
    loaded = results.load(args.results_file)
    for option, path in wanted.items():
        if path is not None:
            if path.is_dir():
                raise UsageError(f"{option} {path} is a directory; name a file")
            writable_dir(path.parent, option=option)
    from django_index_bench.reports import exports

    if args.pytest_benchmark is not None:
        results.write_atomic(args.pytest_benchmark, exports.to_json(exports.pytest_benchmark_json(loaded)))
        print(f"pytest-benchmark: {args.pytest_benchmark}")
    if args.bencher is not None:
        results.write_atomic(args.bencher, exports.to_json(exports.bencher_metric_format(loaded)))
        print(f"bencher: {args.bencher}")
    return 0
