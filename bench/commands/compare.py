"""`bench compare BASE HEAD`: measure two git refs (or read two results files) and gate regressions.

Exit status: 0 no regression, 1 a regression (a measurement or state that failed or is missing in
HEAD, a deterministic metric that got worse, or a timing significant and beyond --threshold), 2 bad
input.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench import compare, results, worktree
from bench.errors import UsageError
from bench.options import threshold

NAME = "compare"
HELP = "Compare two git refs (measured now) or two results files, and exit 1 on a regression."
DEFAULT_OUTPUT = Path("comparison")
JSON_NAME = "comparison.json"


def alpha(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number like 0.05, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"alpha must be between 0 and 1, got {text!r}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


# Passed through to `bench run` in each ref, unchanged.
RUN_OPTIONS: tuple[tuple[str, object, str], ...] = (
    ("--profile", str, "dataset profile (both refs get the same)"),
    ("--seed", _seed, "random seed of the dataset (both refs get the same)"),
    ("--tenants", _positive, "tenants to seed"),
    ("--people", _positive, "people to seed"),
    ("--tracking", _positive, "tracking rows to seed"),
    ("--journal", _positive, "journal entries to seed"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("base", metavar="BASE", help="a git ref of the repository, or a results .json file")
    parser.add_argument("head", metavar="HEAD", help="a git ref of the repository, or a results .json file")
    parser.add_argument(
        "--threshold",
        type=threshold,
        default=0.10,
        metavar="PCT",
        help="a timing change smaller than this is no change; also the tolerance on shared buffers "
        "(default: 10%%)",
    )
    parser.add_argument(
        "--alpha",
        type=alpha,
        default=0.05,
        help="significance level over all timed comparisons, Bonferroni-corrected (default: %(default)s)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        metavar="DIR",
        help="where COMPARISON.md, comparison.json, its chart and both results files go "
        "(default: %(default)s)",
    )
    runs = parser.add_argument_group("when BASE and HEAD are git refs")
    runs.add_argument(
        "--repo",
        type=Path,
        default=None,
        metavar="DIR",
        help="the git repository to benchmark (default: the one containing the current directory)",
    )
    for flag, kind, text in RUN_OPTIONS:
        runs.add_argument(flag, type=kind, default=None, help=text)  # type: ignore[arg-type]
    runs.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="NAME",
        help="measure only this scenario (repeatable)",
    )
    runs.add_argument(
        "--quick", action="store_true", help="a few rounds only (for tests; timings say little)"
    )
    runs.add_argument(
        "--keep-databases",
        action="store_true",
        help="keep the two seeded databases (bench_cmp_base_<sha>, bench_cmp_head_<sha>) afterwards",
    )


def _is_results_file(arg: str) -> bool:
    return arg.endswith(".json") or Path(arg).is_file()


def run_args(args: argparse.Namespace) -> list[str]:
    out: list[str] = []
    for flag, _, _ in RUN_OPTIONS:
        value = getattr(args, flag[2:])
        if value is not None:
            out += [flag, str(value)]
    for name in args.scenario:
        out += ["--scenario", name]
    if args.quick:
        out.append("--quick")
    return out


def handle(args: argparse.Namespace) -> int:
    output: Path = args.output
    if output.exists() and not output.is_dir():
        raise UsageError(f"--output {output} exists and is not a directory")
    files = [_is_results_file(a) for a in (args.base, args.head)]
    if any(files) and not all(files):
        raise UsageError("compare two git refs or two results files, not one of each")
    if all(files):
        if run_args(args) or args.repo is not None or args.keep_databases:
            raise UsageError("--repo and the run options only apply when BASE and HEAD are git refs")
        base_path, head_path = Path(args.base), Path(args.head)
        base, head = compare.load_pair(base_path, head_path)
        base_source = compare.Source(args.base, base.environment.git_commit, base.run_id, str(base_path))
        head_source = compare.Source(args.head, head.environment.git_commit, head.run_id, str(head_path))
    else:
        from bench import compare_refs

        repo = worktree.toplevel((args.repo or Path.cwd()).resolve())
        output.mkdir(parents=True, exist_ok=True)
        measured_base, measured_head = compare_refs.measure_refs(
            repo, args.base, args.head, run_args(args), output, keep_databases=args.keep_databases
        )
        base, head = measured_base.results, measured_head.results
        base_source = compare.Source(
            args.base, measured_base.ref.commit, base.run_id, str(measured_base.path)
        )
        head_source = compare.Source(
            args.head, measured_head.ref.commit, head.run_id, str(measured_head.path)
        )

    outcome = compare.compare(
        base,
        head,
        base_source=base_source,
        head_source=head_source,
        threshold=args.threshold,
        alpha=args.alpha,
    )
    # Imported here: matplotlib is slow to import and only rendering needs it.
    from reports import comparison as rendering

    written = rendering.render(outcome, output)
    results.write_atomic(output / JSON_NAME, compare.to_json(outcome))
    _print_summary(outcome)
    print(f"comparison: {written.markdown}")
    print(f"json: {output / JSON_NAME}")
    return compare.exit_status(outcome)


def _print_summary(outcome: compare.RefComparison) -> None:
    for failure in outcome.failed_in("head"):
        print(f"REGRESSION head state {failure.state} ({failure.database}) failed: {failure.error}")
    for row in outcome.with_verdict(compare.REGRESSION):
        for finding in row.of(compare.REGRESSION):
            print(f"REGRESSION {row.scenario}[{row.case}] {row.side}: {finding.message}")
    if not outcome.interleaved:
        print(
            f"timings not interleaved: {outcome.pairing}. Weaker: {compare.UNPAIRED_WEAKNESS}; "
            "a timing counts only beyond this comparison's run-to-run noise"
        )
    counts = {
        v: len(outcome.with_verdict(v)) for v in (compare.REGRESSION, compare.IMPROVEMENT, compare.UNCHANGED)
    }
    print(
        f"{counts[compare.REGRESSION]} regressed, {counts[compare.IMPROVEMENT]} improved, "
        f"{counts[compare.UNCHANGED]} unchanged (threshold {outcome.threshold:.0%}, "
        f"{'paired' if outcome.interleaved else 'unpaired'} timings)"
    )
